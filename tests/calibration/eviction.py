"""A pod that a controller recreates and another evicts, forever: the shape of kubernetes/kubernetes#75913, in four states.

A ReplicaSet creates its pod (Create), the kubelet runs it (Run), and, with
the bug, the taint manager evicts it while it is still pending (Evict), so
the two controllers can take turns forever and the pod never runs. An
informer resync (Resync) toggles a bit while the pod is pending: a cycle
without progress in which Run stays enabled and is never taken, so no fair
run stays in it. A fault (Crash) stops a running pod; faults are not fair.

The good states (``running``) are those where the pod runs. Without the bug,
every weakly fair run reaches one; with it, Create/Evict is a fair lasso
(Run is disabled whenever the pod is gone, so weak fairness does not force
it), though a running pod stays reachable from every state.
"""

from __future__ import annotations

from checker.guarded import GuardedModel, Layout

GONE, PENDING, RUNNING = 0, 1, 2


class Eviction(GuardedModel):
    """The recreate/evict loop; ``evicts`` turns the taint manager's bug on."""

    def __init__(self, evicts: bool) -> None:
        layout = Layout([("pod", 2), ("resync", 1)])
        commands = [
            layout.command(("Create", -1), "replicaset", [{"pod": GONE}], {"pod": PENDING}),
            layout.command(("Run", -1), "kubelet", [{"pod": PENDING}], {"pod": RUNNING}),
            layout.command(("Resync", 0), "informer", [{"pod": PENDING, "resync": 0}], {"resync": 1}),
            layout.command(("Resync", 1), "informer", [{"pod": PENDING, "resync": 1}], {"resync": 0}),
            layout.command(("Crash", -1), "fault", [{"pod": RUNNING}], {"pod": GONE}),
        ]
        if evicts:
            commands.append(layout.command(("Evict", -1), "taint-manager", [{"pod": PENDING}], {"pod": GONE}))
        super().__init__(layout, [{}], commands)

    def fair(self, action: tuple[str, int]) -> bool:
        """Every controller is weakly fair; faults are not."""
        return self.action_component(action) != "fault"

    def running(self, s: int, successors: object = ()) -> bool:
        """The pod runs."""
        return self.layout.get(s, "pod") == RUNNING
