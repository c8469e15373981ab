"""Symbolic parameters along a counterexample: for which numbers does the same run still break the invariant?

A design review asks of a counterexample not only *how* but *for which
numbers*: with which requests and capacities does this interleaving
double-book a node? The executable spec answers it without a second
encoding (concolic execution, as in DART/CUTE): the trace is replayed with
the chosen scenario numbers replaced by :class:`SymInt`, an ``int`` that also
carries a Z3 term. The spec computes with them as with any int (every digest
and table is the concrete run's), and every comparison the spec makes on them
(a scheduler filter, a kubelet admission check, the invariant itself) records
the branch it took. The conjunction of those branches is the *path
condition*: every assignment of the numbers that satisfies it takes the same
branches, so runs the same steps and breaks the invariant at the same step.
Z3 then bounds each number under it, and the corners it reports are checked
again by a plain replay with those numbers. The condition is sufficient, not
necessary: outside it the run takes another branch somewhere, and may still
break the invariant another way.

An operation the term language does not model (division, a bit operation)
pins its operands to their concrete values, so the region is never larger
than the truth (it may be smaller). The region is that of this one
interleaving: other interleavings may break the invariant for other numbers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
import z3

from checker.usermodel import ModelFile, build_model, build_monitor
from spec.component import Action
from spec.errors import ActionNotEnabledError, KspecError, UnknownNameError
from spec.model import KubeModel
from spec.objects import Container, Pod, PodSpec, ReplicaSet, Resources, Toleration
from spec.scenarios import Scenario, Timing
from spec.variants import Variant

KINDS = ("requests", "capacity", "timeouts", "grace", "tolerations")
"""the numbers ``--symbolic`` can leave open: container requests (cpu, memory), node capacity (cpu, memory, pods),
the scenario's timing constants in ticks (lease renewal, node-monitor grace, default toleration, back-off, expectations),
pods' and templates' terminationGracePeriodSeconds, and the tolerationSeconds of their tolerations (both in ticks; the
API server's default not-ready/unreachable tolerations take ``timing.default_toleration_seconds``, a timeout)"""
_TIMEOUTS = tuple(f.name for f in attrs.fields(Timing) if f.name != "tick_seconds")  # tick_seconds is a unit, not a timeout

_path: list[z3.BoolRef] | None = None


@contextlib.contextmanager
def recording() -> Iterator[list[z3.BoolRef]]:
    """Within the block, every branch taken on a :class:`SymInt` is appended to the yielded list."""
    global _path
    outer, _path = _path, []
    try:
        yield _path
    finally:
        _path = outer


def _record(condition: z3.BoolRef, taken: bool) -> bool:
    if _path is not None:
        _path.append(condition if taken else z3.Not(condition))
    return taken


def _pin(*xs: Any) -> None:
    """An operation without a term: its result is concrete, so its symbolic operands are pinned to their values."""
    for x in xs:
        if isinstance(x, SymInt):
            _record(x.term == int(x), True)


def fresh_context() -> None:
    """Start Z3's default context afresh, so that a query's answer does not depend on what Z3 did before in the process.

    Z3's heuristics follow the internal ids of its terms, and those depend on every term created before;
    a new context makes one ``kspec`` run the same whatever ran before it (as a seed does for Hypothesis).
    Terms made earlier keep their own context. This resets an attribute of the z3 module; without it, nothing happens.
    """
    if hasattr(z3.z3, "_main_ctx"):
        z3.z3._main_ctx = None


def term(x: int) -> z3.ArithRef:
    """The Z3 term of an int (its constant, unless it is a :class:`SymInt`)."""
    return x.term if isinstance(x, SymInt) else z3.IntVal(int(x))


class SymInt(int):
    """An int with a Z3 term: arithmetic builds terms, comparisons record the branch taken."""

    term: z3.ArithRef

    def __new__(cls, value: int, t: z3.ArithRef) -> SymInt:
        obj = super().__new__(cls, value)
        obj.term = t
        return obj

    def _arith(self, other: Any, op: Callable[[int, int], int], build: Callable[[Any, Any], Any]) -> Any:
        if not isinstance(other, int) or isinstance(other, bool):
            return NotImplemented
        return SymInt(op(int(self), int(other)), build(self.term, term(other)))

    def __add__(self, other: Any) -> Any:
        return self._arith(other, int.__add__, lambda a, b: a + b)

    def __radd__(self, other: Any) -> Any:
        return self._arith(other, lambda a, b: b + a, lambda a, b: b + a)

    def __sub__(self, other: Any) -> Any:
        return self._arith(other, int.__sub__, lambda a, b: a - b)

    def __rsub__(self, other: Any) -> Any:
        return self._arith(other, lambda a, b: b - a, lambda a, b: b - a)

    def __mul__(self, other: Any) -> Any:
        return self._arith(other, int.__mul__, lambda a, b: a * b)

    def __rmul__(self, other: Any) -> Any:
        return self._arith(other, lambda a, b: b * a, lambda a, b: b * a)

    def __neg__(self) -> SymInt:
        return SymInt(-int(self), -self.term)

    def _divide(self, top: int, bottom: Any, op: Callable[[int, int], int], build: Callable[[Any, Any], Any]) -> Any:
        """``//`` and ``%`` as Z3's integer division and remainder, which are Python's when the divisor is positive."""
        if not isinstance(bottom, int) or isinstance(bottom, bool):
            return NotImplemented
        if int(bottom) <= 0:
            _pin(top, bottom)
            return op(int(top), int(bottom))
        _record(term(bottom) > 0, True)
        return SymInt(op(int(top), int(bottom)), build(term(top), term(bottom)))

    def __floordiv__(self, other: Any) -> Any:
        return self._divide(self, other, int.__floordiv__, lambda a, b: a / b)

    def __rfloordiv__(self, other: Any) -> Any:
        if not isinstance(other, int) or isinstance(other, bool):
            return NotImplemented
        return SymInt(other, term(other))._divide(other, self, int.__floordiv__, lambda a, b: a / b)

    def __mod__(self, other: Any) -> Any:
        return self._divide(self, other, int.__mod__, lambda a, b: a % b)

    def __truediv__(self, other: Any) -> Any:
        _pin(self, other)
        return int(self) / int(other)

    def _compare(self, other: Any, op: Callable[[int, int], bool], build: Callable[[Any, Any], Any]) -> Any:
        if not isinstance(other, int) or isinstance(other, bool):
            return NotImplemented
        taken = op(int(self), int(other))
        if isinstance(other, SymInt) and other.term.eq(self.term):
            return taken  # the same number: no condition
        return _record(build(self.term, term(other)), taken)

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, int.__lt__, lambda a, b: a < b)

    def __le__(self, other: Any) -> Any:
        return self._compare(other, int.__le__, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, int.__gt__, lambda a, b: a > b)

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, int.__ge__, lambda a, b: a >= b)

    def __eq__(self, other: object) -> Any:
        return self._compare(other, int.__eq__, lambda a, b: a == b)

    def __ne__(self, other: object) -> Any:
        return self._compare(other, int.__ne__, lambda a, b: a != b)

    def fingerprint_text(self) -> str:
        """What ``spec.fingerprint`` digests: the value and the term, so ints equal only here stay apart."""
        return f"{int(self)}:{self.term.sexpr()}"

    def __bool__(self) -> bool:
        return _record(self.term != 0, int(self) != 0)

    __hash__ = int.__hash__


# ---------------------------------------------------------------- the scenario's numbers


@attrs.frozen
class Parameter:
    """One number of the scenario left open."""

    name: str
    """e.g. ``requests.cpu[web/app]`` or ``capacity.memory[node-1]``"""
    value: int
    """its value in the scenario"""
    low: int
    """the least value considered"""
    high: int
    """the greatest value considered"""


Make = Callable[[str, int], int]
"""(parameter name, its value in the scenario) -> the int to use"""


def _resources(make: Make, kind: str, owner: str, r: Resources, pods: bool) -> Resources:
    return Resources(
        make(f"{kind}.cpu[{owner}]", r.cpu),
        make(f"{kind}.memory[{owner}]", r.memory),
        make(f"{kind}.pods[{owner}]", r.pods) if pods else r.pods,
    )


def _container(make: Make, owner: str, c: Container) -> Container:
    return attrs.evolve(c, requests=_resources(make, "requests", f"{owner}/{c.name}", c.requests, pods=False))


def _toleration(make: Make, owner: str, t: Toleration) -> Toleration:
    if t.toleration_seconds is None:
        return t  # tolerates forever: not a number
    return attrs.evolve(t, toleration_seconds=make(f"tolerations[{owner}/{t.key or '*'}:{t.effect or '*'}]", t.toleration_seconds))


def _pod_spec(make: Make, kinds: Sequence[str], owner: str, spec: PodSpec) -> PodSpec:
    """``spec`` with the numbers of ``kinds`` made by ``make``."""
    changes: dict[str, Any] = {}
    if "requests" in kinds:
        changes["containers"] = tuple(_container(make, owner, c) for c in spec.containers)
    if "grace" in kinds:
        changes["termination_grace_period_seconds"] = make(f"grace[{owner}]", spec.termination_grace_period_seconds)
    if "tolerations" in kinds:
        changes["tolerations"] = tuple(_toleration(make, owner, t) for t in spec.tolerations)
    return attrs.evolve(spec, **changes)


def _object(make: Make, kinds: Sequence[str], obj: Any) -> Any:
    """A ReplicaSet's template or a Pod with the numbers of ``kinds`` made by ``make`` (other kinds of object unchanged)."""
    if isinstance(obj, ReplicaSet):
        template = obj.spec.template
        template = attrs.evolve(template, spec=_pod_spec(make, kinds, obj.meta.name, template.spec))
        return attrs.evolve(obj, spec=attrs.evolve(obj.spec, template=template))
    if isinstance(obj, Pod):
        return attrs.evolve(obj, spec=_pod_spec(make, kinds, obj.meta.name, obj.spec))
    return obj


_POD_KINDS = ("requests", "grace", "tolerations")
"""the kinds of number that pods and templates hold"""


def _build(scenario: Scenario, kinds: Sequence[str], make: Make) -> Scenario:
    out = scenario
    if any(k in kinds for k in _POD_KINDS):
        user = scenario.user
        objects = tuple(_object(make, kinds, o) for o in scenario.objects)
        replicasets = tuple(_object(make, kinds, r) for r in user.replicasets)
        pods = tuple(_object(make, kinds, p) for p in user.pods)
        out = attrs.evolve(out, objects=objects, user=attrs.evolve(user, replicasets=replicasets, pods=pods))
    if "timeouts" in kinds:
        timing = scenario.timing
        out = attrs.evolve(out, timing=attrs.evolve(timing, **{f: make(f"timing.{f}", getattr(timing, f)) for f in _TIMEOUTS}))
    if "capacity" in kinds:
        nodes = tuple(attrs.evolve(n, capacity=_resources(make, "capacity", n.name, n.capacity, pods=True)) for n in scenario.nodes)
        out = attrs.evolve(out, nodes=nodes)
    return out


def symbolic_scenario(scenario: Scenario, kinds: Sequence[str], values: dict[str, int] | None = None) -> tuple[Scenario, tuple[Parameter, ...]]:
    """``scenario`` with the numbers of ``kinds`` (see :data:`KINDS`) as SymInts, each from 1 to 4 times its value, and those parameters.

    A number that is 0 (a request not set) stays 0: it is not a number to choose.
    ``values``: the concrete value each SymInt computes with, by name (default: the scenario's).
    """
    params: dict[str, Parameter] = {}

    def make(name: str, value: int) -> int:
        if value <= 0:
            return value
        params.setdefault(name, Parameter(name, value, 1, 4 * value))
        return SymInt((values or {}).get(name, value), z3.Int(name))

    out = _build(scenario, kinds, make)
    return out, tuple(params.values())


def concrete_scenario(scenario: Scenario, kinds: Sequence[str], values: dict[str, int]) -> Scenario:
    """``scenario`` with the parameters named in ``values`` set to them (plain ints)."""
    return _build(scenario, kinds, lambda name, value: values.get(name, value))


def numbered_scenario(scenario: Scenario, kinds: Sequence[str], values: dict[str, int], where: str) -> Scenario:
    """:func:`concrete_scenario` for numbers read from a file: UnknownNameError (at ``where``) for a kind or number the scenario lacks."""
    for kind in kinds:
        if kind not in KINDS:
            raise UnknownNameError("kind of number", kind, KINDS, where=f"{where}.kinds")
    names = [p.name for p in symbolic_scenario(scenario, kinds)[1]]
    for name in sorted(values):
        if name not in names:
            raise UnknownNameError(f"number of scenario {scenario.name}", name, names, where=f"{where}.values")
    return concrete_scenario(scenario, kinds, values)


# ---------------------------------------------------------------- the region


@attrs.frozen
class Bound:
    """One parameter's least and greatest value under the path condition (within its range)."""

    parameter: Parameter
    least: int | None
    """the least value under the condition; None if Z3 gave up within :data:`QUERY_RLIMIT`"""
    greatest: int | None
    """the greatest value under the condition; None if Z3 gave up"""

    def describe(self) -> str:
        """``least .. greatest``, ``?`` for a bound Z3 gave up on."""
        return f"{'?' if self.least is None else self.least} .. {'?' if self.greatest is None else self.greatest}"


@attrs.frozen
class Region:
    """The numbers for which a counterexample's run is the same and breaks the same invariant."""

    invariant: str
    """the invariant the run breaks"""
    step: int
    """the step at which it breaks"""
    branches: int
    """branches the run took on the parameters (comparisons recorded)"""
    conditions: tuple[str, ...]
    """the path condition, simplified, one constraint a line"""
    bounds: tuple[Bound, ...]
    """each parameter's extent under it"""
    corners: tuple[dict[str, int], ...]
    """the assignments at each bound, each replayed with plain ints and found to break the invariant at the same step"""


QUERY_RLIMIT = 12_000_000
"""how much work Z3 may do for one bound or one simplification (division makes the conditions non-linear): its resource
limit, a count of its steps, so the answer is the same on every machine and under any load (about 3 s on the benchmark machine)"""


class RegionError(KspecError):
    """The symbolic replay disagrees with the plain one: the spec branched on a number where no branch was recorded (a kspec bug)."""


def final_violation(model: KubeModel, actions: Sequence[Action], invariant: str, user: ModelFile | None = None) -> str | None:
    """Replay ``actions`` on ``model``; how the state after the last step breaks ``invariant`` (None if it does not).

    ``user``: the model file whose invariants may be named.
    """
    monitor = build_monitor(model, [invariant], user)
    s = model.initial_states()[0]
    found = monitor.check_state(s)
    for action in actions:
        before, s = s, model.next_state(s, action)
        found = monitor.check_step(before, action, s)
    return found[0].message if found else None


def run_symbolic(model: KubeModel, actions: Sequence[Action], invariant: str, user: ModelFile | None = None) -> tuple[list[z3.BoolRef], str | None]:
    """:func:`final_violation` on a model whose scenario holds SymInts, recording every branch: the path and the violation."""
    with recording() as path:
        message = final_violation(model, actions, invariant, user)
    return path, message


def region(
    scenario: Scenario, variant: Variant, actions: Sequence[Action], invariant: str, kinds: Sequence[str], user: ModelFile | None = None
) -> Region:
    """The region of ``kinds`` numbers for which ``actions`` on ``scenario`` break ``invariant`` after the last step.

    ``user``: the model file the run was found with (its components run, its invariants may be named).
    """
    fresh_context()
    symbolic, params = symbolic_scenario(scenario, kinds)
    path, message = run_symbolic(build_model(symbolic, variant, user), actions, invariant, user)
    if message is None:
        raise RegionError(f"the run does not break {invariant} with symbolic numbers")
    ranges = [z3.And(z3.Int(p.name) >= p.low, z3.Int(p.name) <= p.high) for p in params]
    bounds, corners = [], []
    for p in params:
        bound, low_corner, high_corner = extent(path, params, ranges, p)
        bounds.append(bound)
        for corner in (low_corner, high_corner):
            if corner is not None and (whole := {**{q.name: q.value for q in params}, **corner}) not in corners:
                corners.append(whole)
    for corner in corners:
        _confirm(build_model(concrete_scenario(scenario, kinds, corner), variant, user), actions, invariant, corner, user)
    return Region(invariant, len(actions), len(path), shown_conditions(path, ranges), tuple(bounds), tuple(corners))


Corner = dict[str, int] | None
"""an assignment at which a bound is reached (None if Z3 gave up)"""


def extent(path: Sequence[z3.BoolRef], params: Sequence[Parameter], ranges: Sequence[z3.BoolRef], p: Parameter) -> tuple[Bound, Corner, Corner]:
    """``p``'s least and greatest value under ``path`` and the ranges, with an assignment reaching each."""
    mine, linked = constraints_on(path, p.name)
    their = [q for q in params if q.name in linked]
    their_ranges = [r for q, r in zip(params, ranges, strict=True) if q.name in linked]
    least, low_corner = optimum(mine, their_ranges, their, z3.Int(p.name), minimise=True)
    greatest, high_corner = optimum(mine, their_ranges, their, z3.Int(p.name), minimise=False)
    return Bound(p, least, greatest), low_corner, high_corner


def _names(e: z3.ExprRef) -> set[str]:
    """The parameters a term mentions."""
    if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
        return {str(e)}
    return set().union(*(_names(c) for c in e.children()))


def constraints_on(path: Sequence[z3.BoolRef], name: str) -> tuple[list[z3.BoolRef], set[str]]:
    """The conditions that constrain ``name`` (those that share a parameter with it, directly or through others), and those parameters.

    The others constrain only numbers that no condition ties to it, so they do not change its extent
    (the scenario's own values satisfy them); leaving them out keeps the non-linear ones from stalling Z3.
    """
    names = [_names(c) for c in path]
    linked, grown = {name}, True
    while grown:
        grown = False
        for n in names:
            if n & linked and not n <= linked:
                linked |= n
                grown = True
    return [c for c, n in zip(path, names, strict=True) if n & linked], linked


def optimum(
    path: Sequence[z3.BoolRef], ranges: Sequence[z3.BoolRef], params: Sequence[Parameter], x: z3.ArithRef, minimise: bool
) -> tuple[int | None, dict[str, int] | None]:
    """The least (or greatest) value of ``x`` under the path and the ranges, and an assignment reaching it; None, None if Z3 gave up."""
    opt = z3.Optimize()
    opt.set("rlimit", QUERY_RLIMIT)
    opt.add(*path, *ranges)
    handle = opt.minimize(x) if minimise else opt.maximize(x)
    verdict = opt.check()
    if verdict == z3.unsat:
        raise RegionError("the path condition has no solution within the ranges")
    if verdict != z3.sat:
        return None, None
    model = opt.model()
    corner = {p.name: model.eval(z3.Int(p.name), model_completion=True).as_long() for p in params}
    return int(str(handle.value())), corner


def shown_conditions(path: Sequence[z3.BoolRef], ranges: Sequence[z3.BoolRef]) -> tuple[str, ...]:
    """The path condition as Z3 prints it, in first-taken order, without duplicates and without what the ranges alone imply."""
    seen: dict[str, None] = {}
    implied = z3.Solver()
    implied.set("rlimit", QUERY_RLIMIT)
    implied.add(*ranges)
    for c in path:
        simple = z3.simplify(c)
        shown = " ".join(str(simple).split())
        if shown in seen or implied.check(z3.Not(simple)) == z3.unsat:
            continue
        seen[shown] = None
    return tuple(seen)


def _confirm(model: KubeModel, actions: Sequence[Action], invariant: str, corner: dict[str, int], user: ModelFile | None) -> None:
    """A plain replay with the corner's numbers (``model``) must break the invariant at the same step."""
    try:
        broken = final_violation(model, actions, invariant, user) is not None
    except ActionNotEnabledError as e:
        raise RegionError(f"the numbers {corner} satisfy the path condition but a plain replay with them stops: {e}") from None
    if not broken:
        raise RegionError(f"the numbers {corner} satisfy the path condition but a plain replay with them does not break {invariant}")


def format_region(r: Region, source: str, kinds: Sequence[str]) -> str:
    """The region as ``kspec replay --symbolic`` prints it."""
    width = max((len(b.parameter.name) for b in r.bounds), default=0)
    lines = [
        f"{source}: {', '.join(kinds)} left to Z3: {len(r.bounds)} numbers, each from 1 to 4 times its value in the scenario",
        f"the same {r.step} steps break {r.invariant} at step {r.step} whenever these hold (the run's {r.branches} branches on these numbers;"
        " outside them it branches otherwise, and may or may not break it):",
        *(f"  {c}" for c in r.conditions),
        "each number's extent under those conditions (its value in the scenario, then least .. greatest):",
        *(f"  {b.parameter.name.ljust(width)}  {b.parameter.value:>12}  {b.describe()}" for b in r.bounds),
        f"checked: a plain replay with the numbers at each of these extents ({len(r.corners)} assignments) breaks {r.invariant} at step {r.step}",
        "(the region of this one interleaving: other interleavings may break it for other numbers)",
    ]
    if any(b.least is None or b.greatest is None for b in r.bounds):
        lines.insert(-2, "?: Z3 gave up on that bound within its resource limit (the conditions are non-linear where the spec divides)")
    if not r.bounds:
        lines[0] = f"{source}: the scenario has no {', '.join(kinds)} numbers to leave open"
    return "\n".join(lines) + "\n"
