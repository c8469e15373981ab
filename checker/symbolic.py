"""Z3 over guarded-command models: bounded model checking and k-induction from the same command description.

A guarded-command model (``checker.guarded``) has one description that three
interpretations read: concrete integers (the model interface), numpy arrays
(``checker.vector``) and, here, Z3 bit-vectors. A state is a bit-vector as
wide as the layout; a step is the disjunction over commands of "a guard
pattern matches, the next state is the assignment applied, and it differs"
(a command that changes nothing is a stutter, as in the other two). So the
encoding cannot drift from the executable model; ``tests/test_symbolic.py``
still checks, state by state, that the relation admits exactly the
executable successors.

- :func:`bmc` unrolls the relation one step at a time in one incremental
  solver and asks, at each depth, whether a bad state is reachable in
  exactly that many steps; the first depth that is satisfiable is the
  shortest counterexample, decoded to the model's own actions and
  re-executed before it is returned (a path that does not re-execute is an
  encoding bug, and raises).
- :func:`prove` is k-induction (Sheeran, Singh and Stålmarck, "Checking
  safety properties using induction and a SAT-solver", FMCAD 2000): the
  invariant holds for every depth when no bad state is reachable within k
  steps (the base) and no simple path of k good states is followed by a bad
  one (the step). The simple-path constraint makes it complete for a finite
  model: it succeeds once k exceeds the longest simple path. If the bound
  runs out first the answer is *unknown*, with the counterexample to
  induction, so that the user can strengthen the invariant.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import pairwise

import attrs
import z3

from checker.guarded import GuardedModel, Patterns
from spec.invariants import Violation

PROVED, REFUTED, UNKNOWN = "proved", "refuted", "unknown"


class EncodingError(AssertionError):
    """A path Z3 found that the executable model does not take: the encoding and the model disagree."""


@attrs.frozen
class Counterexample:
    """A path to a bad state: the actions, the states they pass (initial state first) and the violation."""

    actions: tuple[tuple[str, int], ...]
    states: tuple[int, ...]
    violation: Violation


@attrs.frozen
class BmcResult:
    """What bounded model checking covered and found."""

    depth: int
    """the deepest depth checked completely (every path of up to this many steps)"""
    found: Counterexample | None
    seconds: float
    stopped: str = ""
    """``time`` when the time bound cut the search before ``max_depth``, else empty"""


@attrs.frozen
class ProofResult:
    """The outcome of k-induction: proved, refuted (with a counterexample) or unknown (with a counterexample to induction)."""

    verdict: str
    k: int
    """the induction depth that proved it, the depth of the counterexample, or the last depth tried"""
    counterexample: Counterexample | None = None
    induction_counterexample: tuple[int, ...] | None = None
    """for unknown: good states s0..sk-1, each stepping to the next, then a bad state (not necessarily reachable)"""
    seconds: float = 0.0


class Encoding:
    """The Z3 terms of one guarded-command model and its pattern invariants."""

    def __init__(self, model: GuardedModel, properties: Patterns) -> None:
        self.model, self.properties = model, properties
        self.bits = max(model.layout.bits, 1)
        self.ctx = z3.Context()
        """a context of its own: the models Z3 picks then do not depend on what else the process asked of Z3"""

    def solver(self) -> z3.Solver:
        """A fresh solver in this encoding's context."""
        return z3.Solver(ctx=self.ctx)

    def state(self, name: str) -> z3.BitVecRef:
        """A fresh state variable."""
        return z3.BitVec(name, self.bits, ctx=self.ctx)

    def const(self, value: int) -> z3.BitVecRef:
        """A state (or mask) as a constant bit-vector."""
        return z3.BitVecVal(value, self.bits, ctx=self.ctx)

    def initial(self, s: z3.BitVecRef) -> z3.BoolRef:
        """``s`` is an initial state."""
        return z3.Or([s == self.const(v) for v in self.model.initial])

    def matches(self, s: z3.BitVecRef, patterns: Sequence[tuple[int, int]]) -> z3.BoolRef:
        """``s & mask == value`` for one of ``patterns``."""
        return z3.Or([s & self.const(mask) == self.const(value) for mask, value in patterns])

    def step(self, s: z3.BitVecRef, t: z3.BitVecRef) -> z3.BoolRef:
        """``t`` is a successor of ``s``: some command is enabled, applied, and changes the state."""
        full = (1 << self.bits) - 1
        options = []
        for command in self.model.commands:
            after = (s & self.const(~command.clear & full)) | self.const(command.set)
            options.append(z3.And(self.matches(s, command.guards), t == after))
        return z3.And(z3.Or(options), t != s)

    def bad(self, s: z3.BitVecRef) -> z3.BoolRef:
        """``s`` breaks some invariant."""
        return z3.Or([self.matches(s, patterns) for _, _, patterns in self.properties.bad])

    def decode(self, states: Sequence[int]) -> Counterexample:
        """The model's own actions between consecutive ``states``, re-executed; EncodingError if they are not a real path."""
        actions = []
        for before, after in pairwise(states):
            action = next((a for a, t in self.model.successors(before) if t == after), None)
            if action is None:
                raise EncodingError(f"Z3 stepped {before:#x} -> {after:#x}, which the executable model does not")
            actions.append(action)
        if states[0] not in self.model.initial:
            raise EncodingError(f"Z3 started from {states[0]:#x}, which is not an initial state")
        violations = self.properties.check_state(states[-1])
        if not violations:
            raise EncodingError(f"Z3's last state {states[-1]:#x} breaks no invariant when executed")
        return Counterexample(tuple(actions), tuple(states), violations[0])


def bmc(model: GuardedModel, properties: Patterns, max_depth: int, seconds: float | None = None) -> BmcResult:
    """The shortest path (up to ``max_depth`` steps) to a state that breaks an invariant, by incremental unrolling."""
    started = time.perf_counter()
    enc = Encoding(model, properties)
    solver = enc.solver()
    path = [enc.state("s0")]
    solver.add(enc.initial(path[0]))
    for depth in range(max_depth + 1):
        if seconds is not None:
            solver.set("timeout", max(1, int(1000 * (seconds - (time.perf_counter() - started)))))
        verdict = solver.check(enc.bad(path[-1]))
        if verdict == z3.sat:
            values = [solver.model().eval(s, model_completion=True).as_long() for s in path]
            return BmcResult(depth, enc.decode(values), time.perf_counter() - started)
        if verdict == z3.unknown or (seconds is not None and time.perf_counter() - started >= seconds):
            return BmcResult(depth - 1 if verdict == z3.unknown else depth, None, time.perf_counter() - started, "time")
        path.append(enc.state(f"s{depth + 1}"))
        solver.add(enc.step(path[-2], path[-1]))
    return BmcResult(max_depth, None, time.perf_counter() - started)


def prove(model: GuardedModel, properties: Patterns, max_k: int) -> ProofResult:
    """k-induction with simple paths, for k = 1 .. ``max_k``: proved, refuted or unknown.

    Two incremental solvers: the base case unrolls forward from the initial
    states (as :func:`bmc`), the step case backward from a bad state, adding
    one good predecessor, distinct from the others, per round.
    """
    started = time.perf_counter()
    enc = Encoding(model, properties)
    base, forward = enc.solver(), [enc.state("s0")]
    base.add(enc.initial(forward[0]))
    step, backward = enc.solver(), [enc.state("u0")]
    step.add(enc.bad(backward[0]))
    for k in range(max_k + 1):
        if base.check(enc.bad(forward[-1])) == z3.sat:
            values = [base.model().eval(s, model_completion=True).as_long() for s in forward]
            return ProofResult(REFUTED, k, enc.decode(values), seconds=time.perf_counter() - started)
        if k and step.check() == z3.unsat:  # no k good states in a row, all distinct, step into a bad one
            return ProofResult(PROVED, k, seconds=time.perf_counter() - started)
        if k == max_k:
            break
        forward.append(enc.state(f"s{k + 1}"))
        base.add(enc.step(forward[-2], forward[-1]))
        backward.append(enc.state(f"u{k + 1}"))
        step.add(enc.step(backward[-1], backward[-2]), z3.Not(enc.bad(backward[-1])))
        step.add([backward[-1] != other for other in backward[1:-1]])
    cti = tuple(step.model().eval(s, model_completion=True).as_long() for s in reversed(backward)) if max_k else None
    return ProofResult(UNKNOWN, max_k, induction_counterexample=cti, seconds=time.perf_counter() - started)
