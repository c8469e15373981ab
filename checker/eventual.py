"""The eventual properties of the Kubernetes model, and the check that re-judges one from a trace's last state.

- ``converges``: from every reachable state, a quiescent state where
  ``rs-converges``, ``endpoints-converge`` and ``proxy-converges`` hold can
  still be reached (the level-triggered controllers' promise that the
  cluster settles into its desired state once faults stop).
- ``binds``: from every reachable state, a state can be reached where no
  pending pod has a node that could take it (``spec.scheduler.stranded``;
  schedule_one.go requeues unschedulable pods when the cluster changes).

Both read counts, endpoints, proxy rules and node fit, never a node's name,
so both are declared symmetric (``tests/test_symmetry.py`` checks it).

The explorer judges them on the reachable graph. A saved trace ends in a
state from which, the explorer found, no good state is reachable; replay
re-judges that by exploring everything reachable from there (``doomed``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from checker.explore import Eventually, Limits, StatePredicates, explore
from spec.canonical import digest
from spec.component import Action
from spec.invariants import INVARIANTS
from spec.model import KubeModel
from spec.scheduler import stranded
from spec.state import State

CONVERGES = "converges"
BINDS = "binds"
CONVERGENCE = ("rs-converges", "endpoints-converge", "proxy-converges")
PREFIX = "eventually-"
"""a doomed state's trace message starts with ``eventually-<property>: ``"""
MESSAGES = {
    CONVERGES: f"no quiescent state where {', '.join(CONVERGENCE)} hold can be reached",
    BINDS: "a pending pod that a node could take is never bound",
}
REPLAY_SECONDS = 60.0
"""how long replay may explore from a trace's last state to re-judge it"""

Good = Callable[[State, Sequence[tuple[Action, State]]], bool]


def converged(model: KubeModel) -> Good:
    """Quiescent, with every ReplicaSet, Endpoints and kube-proxy converged (the good states of ``converges``)."""

    def good(state: State, successors: Sequence[tuple[Action, State]]) -> bool:
        if not model.quiescent_given(state, successors):
            return False
        return all(INVARIANTS[name].check(model.ctx, state) is None for name in CONVERGENCE)

    return good


def bound(model: KubeModel) -> Good:
    """No pending pod that some node could take (the good states of ``binds``)."""

    def good(state: State, _successors: Sequence[tuple[Action, State]]) -> bool:
        return not stranded(model.ctx, state)

    return good


GOOD: dict[str, Callable[[KubeModel], Good]] = {CONVERGES: converged, BINDS: bound}


def properties(model: KubeModel) -> list[Eventually]:
    """Both eventual properties, declared symmetric (they never read a node's name)."""
    return [Eventually(name, make(model), symmetric=True) for name, make in GOOD.items()]


def property_of(message: str) -> str | None:
    """The eventual property a trace message names (``eventually-binds: ...``), if any."""
    head = message.split(":", 1)[0]
    name = head.removeprefix(PREFIX)
    return name if head.startswith(PREFIX) and name in GOOD else None


class _From:
    """``model`` started from one given state (the model interface, for the explorer)."""

    def __init__(self, model: KubeModel, start: State) -> None:
        self.model, self.start = model, start

    def initial_states(self) -> list[State]:
        return [self.start]

    def successors(self, state: State) -> list[tuple[Action, State]]:
        return self.model.successors(state)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def doomed(model: KubeModel, state: State, name: str, seconds: float = REPLAY_SECONDS) -> tuple[bool | None, str]:
    """Whether no good state of ``name`` is reachable from ``state``: True, False, or None (the search hit its bound)."""
    start = _From(model, state)
    result = explore(start, StatePredicates(()), limits=Limits(seconds=seconds), eventually=[Eventually(name, GOOD[name](model))])
    verdict = result.eventual[0]
    covered = f"{result.states:,} states reachable from here"
    if not result.complete:
        return None, f"undecided: {covered} explored in {seconds:.0f} s without finishing"
    if verdict.doomed == result.states:
        return True, f"{MESSAGES[name]}: none of the {covered} is good"
    return False, f"a good state of {name} is reachable from here ({covered})"


def fair_loop(model: KubeModel, states: Sequence[State], actions: Sequence[Action], name: str) -> tuple[bool, str]:
    """Whether ``actions`` lead from ``states[0]`` round a loop a weakly fair run may repeat forever without a good state.

    ``states`` are the states the loop passes, from its start to the state
    before its last action, and ``actions`` the loop's actions. It must end
    where it starts, pass no good state of ``name``, and, for every fair
    action enabled in one of its states, take it or pass a state where it is
    disabled (``checker.fairness``).
    """
    good = GOOD[name](model)
    end = states[0]
    for state, action in zip(states, actions, strict=True):
        end = model.next_state(state, action)
    if digest(end) != digest(states[0]):
        return False, "the loop does not return to the state it starts from"
    taken = {str(a) for a in actions}
    fair_here = []
    for i, state in enumerate(states):
        successors = model.successors(state)
        if good(state, successors):
            return False, f"the loop passes a good state of {name} (after its step {i})"
        fair_here.append({str(a) for a, _ in successors if model.fair(a)})
    enabled = set().union(*fair_here)
    disabled_somewhere = {a for a in enabled if any(a not in here for here in fair_here)}
    starved = sorted(enabled - taken - disabled_somewhere)
    if starved:
        return False, f"the loop is not fair: {starved[0]} stays enabled and is never taken"
    return True, f"{MESSAGES[name]}: a weakly fair run repeats the last {len(actions)} steps forever"
