"""The node lifecycle controller, as Z3 (spec/controllers/nodelifecycle.py, node_lifecycle_controller.go).

Cells: per node, the controller's nodeHealthData (whether it has one, the
probe timestamp and the Lease renewTime last seen); per pod slot, its place
in the MarkPodsNotReady queue (NONE where it is not queued). Its caches of
Nodes, Leases and pods are the store as of its cursors
(``checker.bmc.informer``).

Encoded: the watch deliveries and their handler (a Lease renewal or a
Ready transition refreshes the probe timestamp; a Ready -> not-Ready
transition queues the node's pods, in the order of their keys, after those
queued already), NodeLifecycleMarkUnknown (tryUpdateNodeHealth:
Ready=Unknown once the grace period passes without a heartbeat),
NodeLifecycleMarkPodNotReady (MarkPodsNotReady, controller_utils.go: the
head of the queue gets Ready=False through UpdateStatus with the cached
resourceVersion, and leaves the queue unless that conflicts) and
NodeLifecycleTaint (the NoSchedule and NoExecute tainting passes, with
handleDisruption: no NoExecute taint while every node is not ready, unless
``nodelifecycle-no-disruption-mode``). Where the clock
stands still and no Node is ever written (``layout.quiet``), its memory is
not encoded: only the Lease and pod deliveries are possible, and they move
its cursors (what they do to its memory no possible action reads).
"""

from __future__ import annotations

import attrs
import z3

from checker.bmc import apiserver
from checker.bmc.core import NONE, Cell, Encoded, Terms, Unrolling, per_frame
from checker.bmc.informer import cache_revision, cached, deliver, event_at
from checker.bmc.layout import MANAGED_TAINTS, READY, READY_REASONS, Layout, clock, layout_of, pod_key, reachable
from spec.component import Action
from spec.controllers import nodelifecycle as nlc
from spec.objects import LEASE, NO_EXECUTE, NODE, POD, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE
from spec.state import State

NAME = nlc.NAME
TRUE, FALSE, UNKNOWN = (READY.index(r) for r in READY)


def _health(node: str, field: str) -> str:
    return f"nlc/health/{node}/{field}"


def _queued(pod: str) -> str:
    return f"nlc/queued/{pod}"


def cells(layout: Layout) -> list[Cell]:
    """The controller's nodeHealthData per node and each pod slot's place in its MarkPodsNotReady queue."""
    out = []
    for node in layout.nodes:
        out += [Cell(_health(node, "known"), boolean=True), Cell(_health(node, "probe")), Cell(_health(node, "renew"))]
    return out + [Cell(_queued(pod)) for pod in layout.pods]


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The controller's memory in a state."""
    memory: nlc.NodeLifecycleMemory = s.views[NAME].memory
    out: dict[str, int | bool] = {}
    for node in layout.nodes:
        health = memory.health.get(node)
        out[_health(node, "known")] = health is not None
        out[_health(node, "probe")] = health.probe_timestamp if health is not None else 0
        out[_health(node, "renew")] = health.renew_seen if health is not None else NONE
    queue = memory.mark_not_ready
    return out | {_queued(pod): queue.index(pod) if pod in queue else NONE for pod in layout.pods}


def cached_node(u: Unrolling, t: int, node: str, field: str) -> z3.ExprRef:
    """A cell of the Node as the controller's cache holds it (the store as of its Node cursor)."""
    return cached(u, t, NAME, NODE, f"node/{node}/{field}")


# ------------------------------------------------------------ the handler


def deliver_event(kind: str) -> Encoded:
    """WatchDeliver of the controller's watch of ``kind``; the handler (nlc._on_event) for Leases and Nodes."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return deliver(u, t, NAME, kind)[0]

    def effect(u: Unrolling, t: int) -> Terms:
        _, revision, out = deliver(u, t, NAME, kind)
        if not layout_of(u).heartbeats:
            return out
        if kind == LEASE:
            return out | _on_lease(u, t, revision)
        if kind == NODE:
            return out | _on_node(u, t, revision)
        return out

    return Encoded(Action(NAME, "WatchDeliver", (("kind", kind),)), guard, effect)


def _heard(u: Unrolling, t: int, node: str, when: z3.BoolRef, renew: z3.ArithRef | None = None) -> Terms:
    """nlc._heard where ``when`` holds: the probe timestamp is now; a Lease's renewTime counts only if it is newer than the one seen."""
    f = u[t]
    known, seen = f[_health(node, "known")], f[_health(node, "renew")]
    if renew is not None:
        when = z3.And(when, renew > z3.If(known, seen, NONE))
    new_renew = z3.If(known, seen, NONE) if renew is None else renew
    return {
        _health(node, "known"): z3.Or(known, when),
        _health(node, "probe"): z3.If(when, clock(u, t), f[_health(node, "probe")]),
        _health(node, "renew"): z3.If(when, new_renew, seen),
    }


def _on_lease(u: Unrolling, t: int, revision: z3.ArithRef) -> Terms:
    """A Lease event: the renewTime, if newer than the one last seen, is a heartbeat."""
    layout = layout_of(u)
    _, slot = event_at(u, t, revision)
    out: Terms = {}
    for node in layout.nodes:
        this = slot == layout.slot(LEASE, layout.leases[node])
        out |= _heard(u, t, node, this, apiserver.value_at(u, t, revision, f"lease/{node}/renew"))
    return out


def _on_node(u: Unrolling, t: int, revision: z3.ArithRef) -> Terms:
    """A Node event: a change of Ready to True (or a first sight) is a heartbeat; Ready True -> not True queues the node's pods.

    The pods the controller's cache holds on the node and not queued yet join
    the end of the queue in the order of their keys (nlc._on_event, over a
    cache sorted by key)."""
    layout = layout_of(u)
    f = u[t]
    _, slot = event_at(u, t, revision)
    pods_at = cache_revision(u, t, NAME, POD)
    out: Terms = {}
    falls: list[tuple[str, z3.BoolRef]] = []
    for node in layout.nodes:
        this = slot == layout.slot(NODE, node)
        was_ready = apiserver.value_at(u, t, revision - 1, f"node/{node}/ready") == TRUE
        ready = apiserver.value_at(u, t, revision, f"node/{node}/ready") == TRUE
        known = f[_health(node, "known")]
        heard = z3.If(ready, z3.Or(z3.Not(was_ready), z3.Not(known)), z3.Not(known))
        out |= _heard(u, t, node, z3.And(this, heard))
        falls.append((node, z3.And(this, z3.Not(ready), was_ready)))
    length: z3.ArithRef = z3.Sum([z3.If(f[_queued(pod)] != NONE, 1, 0) for pod in layout.pods] + [z3.IntVal(0)])
    rank: z3.ArithRef = z3.IntVal(0)
    for pod in sorted(layout.pods):
        there = apiserver.value_at(u, t, pods_at, f"pod/{pod}/exists")
        on = apiserver.value_at(u, t, pods_at, f"pod/{pod}/node")
        falls_on = [z3.And(fell, there, on == layout.node_code(node)) for node, fell in falls if layout.can_be_on(pod, node)]
        if falls_on:
            joins = z3.And(f[_queued(pod)] == NONE, z3.Or(falls_on))
            out[_queued(pod)] = z3.If(joins, length + rank, f[_queued(pod)])
            rank = rank + z3.If(joins, 1, 0)
    return out


# ------------------------------------------------------------ actions


def _fresh(u: Unrolling, t: int, node: str) -> z3.BoolRef:
    """The cached Node is the stored one (an update with its resourceVersion does not conflict)."""
    return cached_node(u, t, node, "rv") == u[t][f"node/{node}/rv"]


def mark_unknown(node: str) -> Encoded:
    """NodeLifecycleMarkUnknown: the grace period passed since the probe timestamp and the cached Node is not Unknown yet (UpdateStatus)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        f = u[t]
        expired = clock(u, t) > f[_health(node, "probe")] + layout.ctx.timing.node_monitor_grace
        return z3.And(cached_node(u, t, node, "ready") != UNKNOWN, f[_health(node, "known")], expired, _fresh(u, t, node))

    def effect(u: Unrolling, t: int) -> Terms:
        changes: Terms = {f"node/{node}/ready": z3.IntVal(UNKNOWN), f"node/{node}/reason": z3.IntVal(READY_REASONS.index("NodeStatusUnknown"))}
        return apiserver.write_node(u, t, node, changes)

    return Encoded(Action(NAME, "NodeLifecycleMarkUnknown", (("node", node),)), guard, effect)


def mark_pod_not_ready(pod: str) -> Encoded:
    """NodeLifecycleMarkPodNotReady: the head of the queue, if the cache holds it Ready, gets Ready=False (UpdateStatus with the cached
    resourceVersion) and leaves the queue; a Conflict leaves it queued and changes nothing, so it is no step (nlc._mark_pod).

    A pod slot whose status is not a cell (``layout.status_slots``) is never
    Ready where a Node may lose its Ready condition (``layout._steady``), so
    it only leaves the queue; where none may (``layout.failing`` false), no
    pod is ever queued and the action is not built."""

    def write(u: Unrolling, t: int) -> tuple[z3.BoolRef, z3.BoolRef]:
        """(whether the write is tried, whether it conflicts); a pod gone from the store is NotFound and leaves the queue."""
        f = u[t]
        at = cache_revision(u, t, NAME, POD)
        tried = z3.And(apiserver.value_at(u, t, at, f"pod/{pod}/exists"), apiserver.pod_status(u, t, pod, "ready", at), f[f"pod/{pod}/exists"])
        return tried, apiserver.value_at(u, t, at, f"pod/{pod}/rv") != f[f"pod/{pod}/rv"]

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        tried, conflict = write(u, t)
        return z3.And(u[t][_queued(pod)] == 0, z3.Not(z3.And(tried, conflict)))

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        f = u[t]
        out: Terms = {_queued(q): z3.If(f[_queued(q)] > 0, f[_queued(q)] - 1, NONE) for q in layout.pods}
        if pod not in layout.status_slots:
            return out
        tried, _ = write(u, t)
        written = apiserver.write_pod_status(u, t, pod, {"ready": z3.BoolVal(False), "transition": clock(u, t)})
        return out | {name: z3.If(tried, term, apiserver.unchanged(u, t, name)) for name, term in written.items()}

    return Encoded(Action(NAME, "NodeLifecycleMarkPodNotReady", (("pod", pod_key(pod)),)), guard, effect)


@per_frame
def _disrupted(u: Unrolling, t: int) -> z3.BoolRef:
    """nlc._disruption_mode over the cache: every cached Node not Ready (never in nodelifecycle-no-disruption-mode)."""
    layout = layout_of(u)
    if layout.ctx.flag(nlc.NO_DISRUPTION_MODE) or not layout.nodes:
        return z3.BoolVal(False)
    return z3.And([cached_node(u, t, node, "ready") != TRUE for node in layout.nodes])


def _wanted(u: Unrolling, t: int, node: str) -> list[z3.BoolRef]:
    """nlc.desired_taints: for each managed taint, whether the cached Node's conditions call for it."""
    layout = layout_of(u)
    ready = cached_node(u, t, node, "ready")
    disrupted = _disrupted(u, t)
    by_key = {TAINT_UNREACHABLE: ready == UNKNOWN, TAINT_NOT_READY: ready == FALSE}
    out = []
    for key, effect in MANAGED_TAINTS:
        if key == TAINT_UNSCHEDULABLE:
            out.append(z3.BoolVal(layout.stored_nodes[node].spec.unschedulable))
        else:
            out.append(z3.And(by_key[key], z3.Not(disrupted)) if effect == NO_EXECUTE else by_key[key])
    return out


def taint(node: str) -> Encoded:
    """NodeLifecycleTaint: the cached Node's managed taints differ from what its conditions call for; write them (update, cached resourceVersion)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        wanted = _wanted(u, t, node)
        differs = z3.Or([w != cached_node(u, t, node, f"taint/{i}") for i, w in enumerate(wanted)])
        return z3.And(differs, _fresh(u, t, node))

    def effect(u: Unrolling, t: int) -> Terms:
        changes: Terms = {}
        for i, (w, (_, effect)) in enumerate(zip(_wanted(u, t, node), MANAGED_TAINTS, strict=True)):
            had = cached_node(u, t, node, f"taint/{i}")
            added = clock(u, t) if effect == NO_EXECUTE else z3.IntVal(NONE)
            changes[apiserver.taint_cell(node, i)] = w
            changes[apiserver.taint_cell(node, i, "added")] = z3.If(w, z3.If(had, cached_node(u, t, node, f"taint/{i}/added"), added), NONE)
        return apiserver.write_node(u, t, node, changes)

    return Encoded(Action(NAME, "NodeLifecycleTaint", (("node", node),)), guard, effect)


def actions(layout: Layout) -> list[Encoded]:
    """The controller's encoded actions: all of them where the heartbeats are encoded; where no Node is ever written (``layout.quiet``),
    its Lease and pod deliveries, which move its cursors and nothing else reads (``Encoded.unread``; the rest is impossible:
    ``impossible``)."""
    if layout.quiet:
        return [attrs.evolve(deliver_event(kind), unread=True) for kind in (LEASE, POD)]
    if not layout.heartbeats:
        return []
    out = [deliver_event(kind) for kind in (NODE, LEASE, POD)]
    out += [attrs.evolve(mark_pod_not_ready(pod), born=layout.born(pod)) for pod in layout.pods] if layout.failing else []
    return out + [a for node in layout.nodes for a in (mark_unknown(node), taint(node))]


def impossible(layout: Layout) -> list[str]:
    """Where no Node is ever written (``layout.quiet``): no node is marked Unknown (the clock stands still within every grace period), no
    Ready -> not-Ready transition queues a pod, and every node has the taints its conditions call for. No Node watch has an event to
    deliver then either (the entry covers every component's). Where the heartbeats are encoded but no Node may lose its Ready condition
    (``layout.failing``), MarkPodsNotReady queues no pod."""
    if not layout.quiet:
        return [] if layout.failing or not layout.heartbeats else ["NodeLifecycleMarkPodNotReady"]
    return ["NodeLifecycleMarkUnknown", "NodeLifecycleMarkPodNotReady", "NodeLifecycleTaint", f"WatchDeliver kind={NODE}"]


# ------------------------------------------------------------ time and the invariant


def timers(u: Unrolling, t: int) -> list[z3.BoolRef]:
    """nlc._timers armed: a node whose kubelet cannot renew its Lease, not yet Unknown in the cache, its grace period still running."""
    layout = layout_of(u)
    f = u[t]
    out = []
    for node in layout.nodes:
        deadline = f[_health(node, "probe")] + layout.ctx.timing.node_monitor_grace + 1
        cut_off = z3.Not(reachable(u, t, node)) if node in layout.prefixes else z3.BoolVal(False)
        out.append(z3.And(f[_health(node, "known")], cut_off, cached_node(u, t, node, "ready") != UNKNOWN, deadline > clock(u, t)))
    return out


def urgent(u: Unrolling, t: int) -> z3.BoolRef:
    """nlc._urgent: a Lease event is pending (heartbeats are delivered before time moves on)."""
    return u[t][apiserver.cursor(NAME, LEASE)] != NONE


def eviction_storm(u: Unrolling, t: int) -> z3.BoolRef:
    """no-eviction-storm broken by step t-1: a managed NoExecute taint added while the store and the controller's cache show every node not Ready."""
    layout = layout_of(u)
    if t == 0 or not layout.nodes or not layout.heartbeats:
        return z3.BoolVal(False)  # without the heartbeats, no taint is ever written (layout.quiet)
    before, after = u[t - 1], u[t]
    in_store = z3.And([before[f"node/{node}/ready"] != TRUE for node in layout.nodes])
    in_cache = z3.And([cached_node(u, t - 1, node, "ready") != TRUE for node in layout.nodes])
    added = [
        z3.And(after[apiserver.taint_cell(node, i)], z3.Not(before[apiserver.taint_cell(node, i)]))
        for node in layout.nodes
        for i, (key, effect) in enumerate(MANAGED_TAINTS)
        if effect == NO_EXECUTE and key in (TAINT_UNREACHABLE, TAINT_NOT_READY)
    ]
    return z3.And(in_store, in_cache, z3.Or(added))
