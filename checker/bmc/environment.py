"""The user's requests and the faults, as Z3 (spec/environment.py), each counted against a budget.

Requests: kubectl create and delete of Services, creates of pods, scaling.
A request spends its budget whether or not the API server accepts it, as in
the executable spec: a create the allocator refuses changes only the count.
Faults: a container exits (``checker.bmc.kubelet``), a machine crashes and
restarts, is partitioned from the API server and heals, a component's
process restarts, a watch breaks and relists. The clock ticks
(environment._tick_guard) where the scenario lets it run and the timers
it waits for are encoded.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import z3

from checker.bmc import apiserver, kubelet, kubeproxy, nodelifecycle, tainteviction
from checker.bmc.core import NONE, Cell, CellValue, Encoded, Relisted, Terms, Unrolling
from checker.bmc.informer import next_cursor
from checker.bmc.layout import Layout, clock, layout_of, partitioned_cell, pod_key, reachable, up_cell
from spec.apiserver import CLUSTERIP_LAG
from spec.component import Action
from spec.objects import POD, SERVICE, Service
from spec.state import State

USER = "user"
BUDGETS = (
    *("create", "delete-service", "delete-pod", "scale"),
    *("container-exit", "container-unhealthy", "node-crash", "partition", "component-restart", "watch-reset"),
)
"""the budgets the encoded requests spend"""


def budget(name: str) -> str:
    """The cell counting the operations of budget ``name``."""
    return f"budget/{name}"


def cells(layout: Layout) -> list[Cell]:
    """A count per budget the encoded requests spend; whether each machine is up and partitioned, where it may change; the clock, where it runs."""
    out = [Cell(budget(name)) for name in BUDGETS]
    out += [Cell(up_cell(node), boolean=True) for node in layout.prefixes] if layout.crashable else []
    out += [Cell(partitioned_cell(node), boolean=True) for node in layout.prefixes] if layout.partitionable else []
    return [*out, Cell("clock")] if layout.clocked else out


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The counts of a state, which machines are up and partitioned, and the clock."""
    out: dict[str, int | bool] = {budget(name): s.used(name) for name in BUDGETS}
    out |= {up_cell(node): s.machines[node].up for node in layout.prefixes} if layout.crashable else {}
    out |= {partitioned_cell(node): s.machines[node].partitioned for node in layout.prefixes} if layout.partitionable else {}
    return out | {"clock": s.clock} if layout.clocked else out


def _left(u: Unrolling, t: int, name: str) -> z3.BoolRef:
    layout = layout_of(u)
    return u[t][budget(name)] < layout.budgets.get(name, 0)


def _spend(u: Unrolling, t: int, name: str) -> Terms:
    return {budget(name): u[t][budget(name)] + 1}


def create_service(svc: Service) -> Encoded:
    """UserCreate of one of the scenario's Services: enabled while the budget lasts and the Service does not exist."""
    key = svc.meta.key

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "create"), z3.Not(u[t][f"service/{key}/exists"]))

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        stored, changes = apiserver.create_service(u, t, svc, layout.ctx.flag(CLUSTERIP_LAG))
        spent = _spend(u, t, "create")
        return spent | {name: z3.If(stored, term, apiserver.unchanged(u, t, name)) for name, term in changes.items()}

    return Encoded(Action(USER, "UserCreate", (("kind", SERVICE), ("name", key))), guard, effect)


def delete_service(key: str) -> Encoded:
    """UserDeleteService: enabled while the budget lasts and the Service exists."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "delete-service"), u[t][f"service/{key}/exists"])

    def effect(u: Unrolling, t: int) -> Terms:
        return _spend(u, t, "delete-service") | apiserver.delete_service(u, t, key)

    return Encoded(Action(USER, "UserDeleteService", (("service", key),)), guard, effect)


def delete_pod(key: str) -> Encoded:
    """UserDeletePod (kubectl delete pod, its own grace period) of slot ``key``: enabled while the budget lasts and the pod exists and is not
    being deleted (one life of a name exists at a time, so the slots of one name share the label)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "delete-pod"), u[t][f"pod/{key}/exists"], z3.Not(u[t][f"pod/{key}/deleting"]))

    def effect(u: Unrolling, t: int) -> Terms:
        return _spend(u, t, "delete-pod") | apiserver.delete_pod(u, t, key)[1]

    return Encoded(Action(USER, "UserDeletePod", (("pod", pod_key(key)),)), guard, effect)


def scale_replicaset(key: str, replicas: int) -> Encoded:
    """UserScaleReplicaSet to one of the scenario's replica counts: enabled while the budget lasts and the count differs."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "scale"), u[t][f"rs/{key}/replicas"] != replicas)

    def effect(u: Unrolling, t: int) -> Terms:
        return _spend(u, t, "scale") | apiserver.scale_replicaset(u, t, key, replicas)

    return Encoded(Action(USER, "UserScaleReplicaSet", (("rs", key), ("replicas", replicas))), guard, effect)


def create_pod(key: str) -> Encoded:
    """UserCreate of one of the scenario's pods (its slot ``key``): enabled while the budget lasts and no pod of its name exists (no life of
    it: ``Layout.lives``)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        lives = layout_of(u).lives(pod_key(key))
        return z3.And(_left(u, t, "create"), *(z3.Not(u[t][f"pod/{life}/exists"]) for life in lives))

    def effect(u: Unrolling, t: int) -> Terms:
        return _spend(u, t, "create") | apiserver.create_user_pod(u, t, key)

    return Encoded(Action(USER, "UserCreate", (("kind", POD), ("name", pod_key(key)))), guard, effect)


FAULT = "fault"


def crash(node: str) -> Encoded:
    """NodeCrash of a machine that is up and not partitioned: its sandboxes, its rules and its components' memory are gone.

    The watches of its components end (their cursors go), so no event is pending for them.
    """

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "node-crash"), reachable(u, t, node))

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        out = _spend(u, t, "node-crash") | {up_cell(node): z3.BoolVal(False)} | kubelet.lost(layout, node) | kubeproxy.lost(layout, node)
        return out | {apiserver.cursor(w.instance, w.kind): z3.IntVal(NONE) for w in layout.watchers if w.node == node}

    return Encoded(Action(FAULT, "NodeCrash", (("node", node),)), guard, effect)


def restart(node: str) -> Encoded:
    """NodeRestart of a machine that is down: its components start with empty memory and list the store (nothing pending)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.Not(u[t][up_cell(node)])

    def effect(u: Unrolling, t: int) -> Terms:
        return {up_cell(node): z3.BoolVal(True)}

    return Encoded(Action(FAULT, "NodeRestart", (("node", node),)), guard, effect)


def partition(node: str) -> Encoded:
    """NodePartition of a reachable machine: it keeps running but cannot reach the API server."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "partition"), reachable(u, t, node))

    def effect(u: Unrolling, t: int) -> Terms:
        return _spend(u, t, "partition") | {partitioned_cell(node): z3.BoolVal(True)}

    return Encoded(Action(FAULT, "NodePartition", (("node", node),)), guard, effect)


def heal(node: str) -> Encoded:
    """NodeHeal of a partitioned machine: its watches resume where they stopped."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return u[t][partitioned_cell(node)]

    def effect(u: Unrolling, t: int) -> Terms:
        return {partitioned_cell(node): z3.BoolVal(False)}

    return Encoded(Action(FAULT, "NodeHeal", (("node", node),)), guard, effect)


def component_restart(instance: str, node: str, fresh: Mapping[str, CellValue], stale: bool = False) -> Encoded:
    """ComponentRestart: the process starts over with a fresh one's memory and every watch lists the store (a quorum read, so nothing is
    pending), or with ``stale`` (``kubelet-stale-relist``), the watch cache as of the oldest revision it can serve
    (``apiserver.oldest_listable``), and resumes after it; a per-node component (``node``) only where its machine is reachable
    (environment._restartable).

    ``fresh``: the values of the component's memory cells once it has
    started and listed (the abstraction of informer.fresh_view's state;
    constants, since a fresh memory's handlers keep nothing of what a list
    delivers in the components whose restart is encoded).
    """

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        left = _left(u, t, "component-restart")
        return z3.And(left, reachable(u, t, node)) if node else left

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        out = _spend(u, t, "component-restart")
        mine = [w for w in layout.watchers if w.instance == instance]
        if stale:
            oldest = apiserver.oldest_listable(u, t)
            out |= {apiserver.cursor(instance, w.kind): next_cursor(u, t, instance, w.kind, oldest) for w in mine}
        else:
            out |= {apiserver.cursor(instance, w.kind): z3.IntVal(NONE) for w in mine}
        return out | {name: u.cells[name].literal(value) for name, value in fresh.items()}

    return Encoded(Action(FAULT, "ComponentRestart", (("component", instance),)), guard, effect)


def watch_reset(instance: str, kind: str, node: str, relisted: Relisted | None) -> Encoded:
    """WatchReset: a watch with an event pending breaks and relists from a watch cache at a revision Z3 chooses (``Unrolling.arg``):
    after what the cache has seen, within the watch cache's window, not after the store's; the handlers see the differences
    (``relisted``: None for a component whose memory they leave alone), and the watch resumes after the list.

    (environment._watch_reset_guard: the oldest revision a watch cache
    can serve is the window's start, since the history keeps every event
    a watch has still to deliver.)
    """

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        f = u[t]
        c, revision = f[apiserver.cursor(instance, kind)], u.arg(t)
        window = revision >= f["rev"] - layout.ctx.scenario.bounds.watch_cache_window
        ok = z3.And(_left(u, t, "watch-reset"), c != NONE, revision > c, window, revision <= f["rev"])
        return z3.And(ok, reachable(u, t, node)) if node else ok

    def effect(u: Unrolling, t: int) -> Terms:
        c, revision = u[t][apiserver.cursor(instance, kind)], u.arg(t)
        out = _spend(u, t, "watch-reset") | {apiserver.cursor(instance, kind): next_cursor(u, t, instance, kind, revision)}
        return out | (relisted(u, t, c, revision) if relisted is not None else {})

    return Encoded(Action(FAULT, "WatchReset", (("component", instance), ("kind", kind))), guard, effect, free="revision")


def instance_of(action: Action) -> Action:
    """The catalogue action less the parameter Z3 chooses, if it has one (WatchReset's revision): the action of its encoded instance."""
    return attrs.evolve(action, params=action.params[:-1]) if action.name == "WatchReset" else action


def faults(layout: Layout, s: State) -> list[Encoded]:
    """The machines' crashes, restarts, partitions and heals, where the kubelets are encoded."""
    out = [e for node in layout.prefixes for e in (crash(node), restart(node))] if layout.crashable else []
    return out + [e for node in layout.prefixes for e in (partition(node), heal(node))] if layout.partitionable else out


CLOCK = "clock"


def armed(u: Unrolling, t: int) -> z3.BoolRef:
    """Some timer is armed in frame t: a kubelet's back-off, a node lifecycle grace period or a toleration deadline still to come
    (environment.armed_timers; the three components that have any)."""
    timers = kubelet.timers(u, t) + nodelifecycle.timers(u, t) + tainteviction.timers(u, t)
    return z3.Or(timers) if timers else z3.BoolVal(False)


def tick() -> Encoded:
    """Tick: below the clock limit, with some timer armed and nothing urgent (environment._tick_guard).

    The timers: the kubelets' back-offs, the node lifecycle controller's
    grace periods and the taint eviction controller's toleration deadlines
    (the three components that have any).
    """

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        urgent = [*kubelet.urgent(u, t), nodelifecycle.urgent(u, t)]
        return z3.And(clock(u, t) < layout.clock_limit, armed(u, t), z3.Not(z3.Or(urgent)))

    def effect(u: Unrolling, t: int) -> Terms:
        return {"clock": clock(u, t) + 1}

    return Encoded(Action(CLOCK, "Tick", ()), guard, effect)
