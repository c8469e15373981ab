"""Bounded model checking: the shortest run of the encoded actions that breaks an encoded invariant.

The unrolling grows a step at a time, and at each depth d a solver that
holds the d steps' constraints asks whether some encoded invariant is
broken in frame d. While each depth costs less than ``FRESH_AFTER`` of
Z3's resource units, that is one incremental solver (push, ask, pop);
after that each depth gets a fresh solver, because Z3 preprocesses a
one-shot query (solving away the cells a step leaves as they were), which
makes the deep depths two to three times faster here, more than repeating
the constraints costs, while on shallow ones the preprocessing costs more
than it saves (``benchmarks/bmc_solvers.py``). The first satisfiable depth
is the shortest counterexample among runs of the encoded actions (every
shorter depth was refuted first). Its action choices are decoded into the
catalogue's actions and re-executed through the executable spec, which must
enable every step and break the same invariant in the last state; otherwise
the encoding is wrong (:class:`EncodingError`).

A quiescent invariant is judged in the frames the encoding cannot tell
from quiescent (``invariants.quiescent``), a question of its own at each
depth (the condition is large; two smaller questions are faster than
their disjunction). Where the spec finds the last state of such a run
busy, the run breaks nothing and the same depth is asked again without
it. What keeps it busy is learned where Z3 can see it (:func:`_lessons`):
an encoded action of another component that is enabled and changes
something, or an armed timer. Each is necessary for quiescence too, so it
joins the condition at this depth and every later one; the same reason
then rules out every run that ends that way, in any order of its
independent steps, rather than one run at a time (on ``batch``, a
container's exit leaves its kubelet a kill to do, and a machine's crash
the node lifecycle controller a timer, behind any of 5,040 orders of
seven deliveries). Only
where the reason is an action the encoding leaves out is the one run
ruled out.

The deliveries that move only a cursor nothing else reads
(``Encoded.unread``) are left out of the runs
(``Instance.without_unread``): any run can take them last, so a run
judged at quiescence ends with them, as many as its watches have events
pending (``invariants.drain``). Such a run of d steps is d plus its drain
long, so the search keeps the shortest found so far and goes on while
the depth is below its length, asking each depth only for runs whose
drain makes them shorter still (and no longer than the bound): what it
returns is the shortest run, and every depth it calls refuted has no
violation within it, drained or not. Where the time bound comes first,
the run in hand is returned all the same, and the coverage says that it
is not shown the shortest (``BmcCoverage.found``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import attrs
import z3

from checker.bmc import environment, invariants
from checker.bmc.apiserver import cursor
from checker.bmc.core import Encoded, EncodedInvariant, EncodingError, Instance, Unrolling
from checker.bmc.instance import build
from spec.catalogue import WATCH_DELIVER
from spec.component import Action
from spec.environment import armed_timers
from spec.errors import ActionNotEnabledError
from spec.invariants import Monitor, Violation
from spec.model import KubeModel
from spec.state import State

Z3 = "z3"
DEFAULT_DEPTH = 10
"""the bound when none is given"""


@attrs.frozen
class BmcCoverage:
    """What a Z3 run covered: every run of the encoded actions up to ``depth`` steps, for the invariants it judged."""

    depth: int
    """the deepest bound refuted completely (every run of that many encoded steps checked), or the violation's depth"""
    max_depth: int
    stopped: str
    """'violation', 'depth' (the bound was reached), 'time' or 'nothing to judge'"""
    encoded: tuple[str, ...]
    """the encoded action instances"""
    not_encoded: tuple[str, ...]
    """the catalogue's actions left out of the runs"""
    judged: tuple[str, ...]
    """the selected invariants Z3 judged"""
    unjudged: tuple[str, ...]
    """the selected invariants without an encoding"""
    seconds: float
    quiescent_states: int = 0
    """the quiescent states the spec confirmed that Z3 judged the quiescent invariants in: the initial state when it is quiescent
    (every run starts there), plus a counterexample's last one; with none, a quiescent invariant is reported not reached"""
    ruled_out: int = 0
    """runs that break a quiescent invariant in a frame Z3 takes for quiescent, whose state the spec finds busy (an action left out of the
    encoding, or a timer, is due): not violations, so ruled out of the search"""
    unread: tuple[str, ...] = ()
    """encoded actions left out of the runs because they change only a cursor nothing judged reads (``Encoded.unread``); a run judged at
    quiescence takes them at its end (``Instance.without_unread``)"""
    found: int = 0
    """where the search stopped at the time bound with a violation in hand: its length (its drained deliveries make it longer than
    ``depth``, and a shorter one was still being looked for); 0 otherwise"""

    def describe(self) -> str:
        """One line: the depth covered, over which actions, and what was left out."""
        if self.stopped == "nothing to judge":
            extent = "nothing to judge: no selected invariant has an encoding"
        elif not self.encoded:
            extent = "only the initial state: no action of the scenario is encoded"
        elif self.stopped == "violation":
            extent = f"violation at depth {self.depth} (every shorter run refuted)"
        elif self.stopped == "time" and self.found:
            extent = (
                f"violation of {self.found} steps, not shown the shortest: none shorter among the runs of the encoded actions to depth "
                f"{self.depth} (stopped at the time bound)"
            )
        elif self.stopped == "time":
            extent = f"every run of the encoded actions to depth {self.depth} (stopped at the time bound)"
        else:
            extent = f"every run of the encoded actions to depth {self.depth} (the depth bound)"
        line = f"{extent}; {len(self.encoded)} encoded action instances, {self.seconds:.1f} s"
        if self.ruled_out:
            line += f"; {self.ruled_out} runs ruled out that end in a state Z3 takes for quiescent and the spec does not"
        if self.unread:
            drained = " (a run judged at quiescence takes them at its end)" if any(n in invariants.QUIESCENT for n in self.judged) else ""
            line += f"; not in the runs, since they move only a cursor that no judged invariant reads{drained}: {grouped(self.unread)}"
        if self.not_encoded:
            line += f"; not encoded, so left out of the runs: {grouped(self.not_encoded)}"
        elif self.encoded:
            line += "; every action the scenario can take in the bound is encoded"
        return line

    def as_json(self) -> dict[str, object]:
        """The run's statistics for ``--json``."""
        return {
            "engine": Z3,
            "depth": self.depth,
            "max_depth": self.max_depth,
            "stopped": self.stopped,
            "encoded": list(self.encoded),
            "not_encoded": list(self.not_encoded),
            "judged": list(self.judged),
            "unjudged": list(self.unjudged),
            "seconds": round(self.seconds, 3),
            "ruled_out": self.ruled_out,
            "unread": list(self.unread),
            "found": self.found,
        }


def grouped(actions: tuple[str, ...]) -> str:
    """``component Action [params]`` labels grouped by action, in first-seen order, with their instance counts (``WatchDeliver ×9``)."""
    counts: dict[str, int] = {}
    for label in actions:
        _, _, rest = label.partition(" ")
        counts[rest] = counts.get(rest, 0) + 1
    return ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in counts.items())


FRESH_AFTER = 2_500_000
"""Z3 resource units (its ``rlimit count``: about half a second here) a depth may take on the incremental solver before the deeper
depths get fresh solvers; counted in units, not seconds, so that the same input finds the same run on every machine"""

Shortest = tuple[tuple[Action, ...], Violation]
"""a counterexample: its actions and the violation in its last state"""


def search(
    model: KubeModel,
    monitor: Monitor,
    max_depth: int | None = None,
    time_limit: float | None = None,
    fresh_after: int | None = FRESH_AFTER,
    refuted: Callable[[int, float], None] | None = None,
) -> tuple[Shortest | None, BmcCoverage]:
    """The shortest run of the encoded actions (up to ``max_depth`` steps) that breaks a selected invariant, re-executed; and what was covered.

    ``fresh_after``: the resource units after which deeper depths get fresh solvers (None: never; 0: from the start).
    ``refuted`` is called with each depth whose every run was refuted and the seconds so far.
    """
    start = time.monotonic()
    bound = DEFAULT_DEPTH if max_depth is None else max_depth
    inst = build(model, bound)
    selected = {i.name for i in (*monitor.state_checks, *monitor.transition_checks, *monitor.quiescent_checks)}
    judged = tuple(i for i in inst.invariants if i.name in selected)
    names = tuple(i.name for i in judged)

    judges_quiescent = any(n in invariants.QUIESCENT for n in names)
    quiescent = judges_quiescent and model.is_quiescent(inst.initial)
    encoded = tuple(str(e.action) for e in inst.actions)
    drains = tuple(e.action for e in inst.actions if e.unread)
    unread = tuple(str(a) for a in drains)
    inst = inst.without_unread(_cursor)
    ruled_out = 0
    best: Shortest | None = None
    """the shortest violation found so far whose drain makes it longer than the depth that found it"""

    def coverage(depth: int, stopped: str) -> BmcCoverage:
        unjudged = tuple(n for n in monitor.names if n not in names)
        confirmed = int(quiescent) + int(judges_quiescent and ((stopped == "violation" and depth > 0) or best is not None))
        seconds = time.monotonic() - start
        found = len(best[0]) if best is not None and stopped == "time" else 0
        return BmcCoverage(depth, bound, stopped, encoded, inst.not_encoded, names, unjudged, seconds, confirmed, ruled_out, unread, found)

    if not judged:
        return None, coverage(0, "nothing to judge")
    inst = inst.reduced(bound)
    u = inst.unrolling()
    steps: list[z3.BoolRef] = []
    incremental: z3.Solver | None = None if fresh_after == 0 else z3.Solver()
    groups = [
        g for g in (tuple(i for i in judged if i.name not in invariants.QUIESCENT), tuple(i for i in judged if i.name in invariants.QUIESCENT)) if g
    ]
    learned: dict[str, Callable[[Unrolling, int], z3.BoolRef]] = {}
    for depth in range(bound + 1):
        if best is not None and len(best[0]) <= depth:
            return best, coverage(len(best[0]), "violation")  # every shorter run refuted: no deeper one is shorter
        used = _spent(incremental)
        for group in groups:  # two easier questions than their disjunction: the quiescent frames' condition is large
            left = None if time_limit is None else int((time_limit - (time.monotonic() - start)) * 1000)
            if left is not None and left <= 0:
                return best, coverage(depth - 1, "time")
            at_rest = group[0].name in invariants.QUIESCENT
            bad = z3.And(z3.Or([i.bad(u, depth) for i in group]), *[z3.Not(busy(u, depth)) for busy in learned.values() if at_rest])
            if at_rest and inst.drained:  # the run and its drain no longer than the bound, and shorter than the best so far
                bad = z3.And(bad, invariants.drain(u, depth) <= min(bound, len(best[0]) - 1 if best else bound) - depth)
            verdict, m = _ask(incremental, steps, bad, left)
            while verdict == z3.sat:
                assert m is not None
                found, last = _decode(inst, u, monitor, m, judged, drains if at_rest else ())
                if found is not None and len(found[0]) == depth:
                    return found, coverage(depth, "violation")
                if found is not None:
                    best = found
                    bad = z3.And(bad, invariants.drain(u, depth) < len(found[0]) - depth)
                else:
                    ruled_out += 1
                    lessons = _lessons(inst, u, m, last)
                    learned |= lessons
                    bad = z3.And(bad, *[z3.Not(busy(u, depth)) for busy in lessons.values()] or [_ruled_out(u, m)])
                verdict, m = _ask(incremental, steps, bad, left)
            if verdict == z3.unknown:
                return best, coverage(depth - 1, "time")
        if refuted is not None:
            refuted(depth, time.monotonic() - start)
        if incremental is not None and fresh_after is not None and _spent(incremental) - used > fresh_after:
            incremental = None
        if depth < bound:
            step = u.step()
            steps += step
            if incremental is not None:
                incremental.add(*step)
    return None, coverage(bound, "depth")


def _spent(solver: z3.Solver | None) -> int:
    """The resource units the solver has spent so far (deterministic, unlike time)."""
    if solver is None:
        return 0
    stats = solver.statistics()
    names = stats.keys()
    return int(stats.get_key_value("rlimit count")) if "rlimit count" in names else 0


def _ask(
    incremental: z3.Solver | None, steps: list[z3.BoolRef], bad: z3.BoolRef, timeout: int | None
) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """Whether the steps so far can end in ``bad``: on the incremental solver (which holds the steps) or on a fresh one."""
    solver = incremental if incremental is not None else z3.Solver()
    if timeout is not None:
        solver.set("timeout", timeout)
    if incremental is not None:
        solver.push()
    else:
        solver.add(*steps)
    solver.add(bad)
    verdict = solver.check()
    m = solver.model() if verdict == z3.sat else None
    if incremental is not None:
        solver.pop()
    return verdict, m


def _cursor(enc: Encoded) -> str:
    """The cursor cell of the watch an unread delivery delivers from."""
    assert enc.action.name == WATCH_DELIVER, f"{enc.action} is no delivery"
    return cursor(enc.action.component, str(dict(enc.action.params)["kind"]))


def _decode(
    inst: Instance, u: Unrolling, monitor: Monitor, m: z3.ModelRef, judged: tuple[EncodedInvariant, ...], drains: tuple[Action, ...] = ()
) -> tuple[Shortest | None, State]:
    """The model's run as catalogue actions, re-executed through the executable spec, which must break what Z3 says it breaks; and the
    run's last state.

    With ``drains`` (a run judged at quiescence), the run ends with those
    deliveries, taken in the spec until none is enabled: as many as Z3
    counts (``invariants.drain``), or the encoding is wrong.

    No run where Z3 judged a quiescent invariant in a state the spec finds
    not quiescent because of an action the encoding leaves out, or a timer
    (``invariants.quiescent`` is necessary, not sufficient): that run breaks
    nothing Z3 can see, and the search rules it out.
    """
    actions = _actions(inst, u, m)
    state, before = inst.initial, inst.initial
    for step, action in enumerate(actions, 1):
        try:
            state, before = inst.model.next_state(state, action), state
        except ActionNotEnabledError as e:
            raise EncodingError(f"step {step} of the run Z3 found is not enabled in the executable spec: {e}") from None
    if drains:
        state, before, drained = _drain(inst.model, state, before, drains)
        counted = m.eval(invariants.drain(u, u.depth), model_completion=True).as_long()
        if len(drained) != counted:
            raise EncodingError(f"after the {len(actions)} steps Z3 found, Z3 counts {counted} deliveries to drain, the spec {len(drained)}")
        actions += drained
    said = [i.name for i in judged if z3.is_true(m.eval(i.bad(u, u.depth), model_completion=True))]
    quiescent = inst.model.is_quiescent(state)
    if not quiescent and any(name in invariants.QUIESCENT for name in said):
        _busy_in_encoding(inst, state, {invariants.QUIESCENT[name] for name in said if name in invariants.QUIESCENT})
        said = [name for name in said if name not in invariants.QUIESCENT]
        if not said:
            return None, state
    last = monitor.check_transition(before, actions[-1], state) if actions else []
    broken = {v.invariant: v for v in [*last, *monitor.check_state(state, quiescent)]}
    spec_says = [i.name for i in judged if i.name in broken]
    if said != spec_says:
        theirs = spec_says or "nothing"
        raise EncodingError(f"after the {len(actions)} steps Z3 found, Z3 says {said or 'nothing'} is broken, the executable spec {theirs}")
    return (actions, broken[said[0]]), state


def _drain(model: KubeModel, state: State, before: State, drains: tuple[Action, ...]) -> tuple[State, State, tuple[Action, ...]]:
    """The drained deliveries the spec enables, taken one at a time in catalogue order until none is: the last state, the one before it,
    and the deliveries."""
    taken: list[Action] = []
    while True:
        offered = {str(a) for a in model.actions(state)}
        action = next((a for a in drains if str(a) in offered), None)
        if action is None:
            return state, before, tuple(taken)
        state, before = model.next_state(state, action), state
        taken.append(action)


def _actions(inst: Instance, u: Unrolling, m: z3.ModelRef) -> tuple[Action, ...]:
    """The catalogue actions of a model's choices (and of the free parameters of those that have one)."""
    out = []
    for t, choice in enumerate(u.choices):
        enc = inst.actions[m.eval(choice, model_completion=True).as_long()]
        out.append(enc.decoded(m.eval(u.arg(t), model_completion=True).as_long()))
    return tuple(out)


def _busy_in_encoding(inst: Instance, state: State, kinds: set[str]) -> None:
    """A state Z3 took for quiescent is not, in the spec: an encoding bug if what keeps it busy is a watch delivery or an encoded action of
    ``kinds`` (the components the quiescent condition requires idle)."""
    encoded = {str(e.action): e.action for e in inst.actions}
    for action in inst.model.actions(state):
        kind = inst.model.ctx.type_of(action.component).kind
        if str(action) in encoded and (action.name == WATCH_DELIVER or kind in kinds) and inst.model.next_state(state, action) != state:
            raise EncodingError(f"Z3 takes a state for quiescent where the encoded {action} is enabled in the executable spec")


def _lessons(inst: Instance, u: Unrolling, m: z3.ModelRef, state: State) -> dict[str, Callable[[Unrolling, int], z3.BoolRef]]:
    """Why ``state``, the last of the model's run, which Z3 took for quiescent, is busy in the spec, as far as Z3 sees it too: each encoded
    component action the spec enables there that changes something, and that Z3's model also finds busy, and an armed timer where the
    clock is encoded and the model's frame has one armed. By label; each is false in every quiescent frame (the differential tests hold
    the actions' guards and effects and the timers to the spec's), so its negation is a sound addition to the quiescence condition."""
    ctx, t = inst.model.ctx, u.depth
    encoded = {str(e.action): e for e in inst.actions if not e.free and e.born <= t}
    out: dict[str, Callable[[Unrolling, int], z3.BoolRef]] = {}
    for action in inst.model.actions(state):
        enc = encoded.get(str(action))
        if enc is None or ctx.type_of(action.component).environment:
            continue
        busy = functools.partial(invariants.busy, enc=enc)
        if z3.is_true(m.eval(busy(u, t), model_completion=True)):
            out[str(action)] = busy
    ticks = any(e.action.component == environment.CLOCK for e in inst.actions)
    if ticks and armed_timers(ctx, state) and z3.is_true(m.eval(environment.armed(u, t), model_completion=True)):
        out["timers"] = environment.armed
    return out


def _ruled_out(u: Unrolling, m: z3.ModelRef) -> z3.BoolRef:
    """Not this model's run: some step chooses another action, or another value of its free parameter."""
    steps = [z3.Or(c != m.eval(c, model_completion=True), u.arg(t) != m.eval(u.arg(t), model_completion=True)) for t, c in enumerate(u.choices)]
    return z3.Or(steps) if steps else z3.BoolVal(False)
