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
