"""Deterministic trace shrinking: the shortest run of the same steps that still breaks the invariant.

Hypothesis' own shrinker stops on a wall-clock limit (five minutes), so what
it returns depends on the machine's speed. kspec instead shrinks the found
trace itself, with a bounded number of replays and no clock: first cut it at
the violation, then delete chunks of steps (halves, quarters, ... single
steps, the ``ddmin`` schedule of Zeller's delta debugging) as long as the
rest, replayed with every step that is no longer enabled skipped, still
breaks the same invariant. The result is the same in every process.
"""

from __future__ import annotations

from collections.abc import Sequence

from spec.component import Action
from spec.errors import ActionNotEnabledError
from spec.invariants import Monitor, Violation
from spec.model import KubeModel

MAX_REPLAYS = 3000


def run_until_violation(model: KubeModel, monitor: Monitor, actions: Sequence[Action]) -> tuple[list[Action], Violation | None]:
    """Replay ``actions`` skipping those not enabled; the steps taken up to the first violation, and it."""
    s = model.initial_states()[0]
    found = monitor.check_state(s)
    if found:
        return [], found[0]
    taken: list[Action] = []
    for action in actions:
        try:
            nxt = model.next_state(s, action)
        except ActionNotEnabledError:
            continue
        taken.append(action)
        found = monitor.check_step(s, action, nxt)
        if found:
            return taken, found[0]
        s = nxt
    return taken, None


def shrink(model: KubeModel, monitor: Monitor, actions: Sequence[Action], invariant: str) -> tuple[list[Action], Violation]:
    """The shortest trace the ddmin schedule finds that still breaks ``invariant`` (``actions`` must break it)."""
    best, violation = run_until_violation(model, monitor, actions)
    assert violation is not None and violation.invariant == invariant, "the trace to shrink does not break the invariant"
    replays = 1
    chunk = max(1, len(best) // 2)
    while replays < MAX_REPLAYS:
        start, progressed = 0, False
        while start < len(best) and replays < MAX_REPLAYS:
            candidate = best[:start] + best[start + chunk :]
            taken, v = run_until_violation(model, monitor, candidate)
            replays += 1
            if v is not None and v.invariant == invariant and len(taken) < len(best):
                best, violation, progressed = taken, v, True
            else:
                start += chunk
        if chunk == 1 and not progressed:
            break
        chunk = max(1, chunk // 2) if not progressed else chunk
    return best, violation
