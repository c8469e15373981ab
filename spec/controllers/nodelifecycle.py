"""Node lifecycle controller: node health from Lease renewals, taints, pods NotReady.

Follows k8s@v1.28 pkg/controller/nodelifecycle/node_lifecycle_controller.go:
- ``tryUpdateNodeHealth``: a node's probe timestamp is refreshed when its
  Lease's renewTime increases (or its Ready condition changes); once
  ``now > probe + node_monitor_grace`` its Ready condition becomes Unknown
  (reason NodeStatusUnknown);
- ``monitorNodeHealth``: on a Ready True -> not-True transition, every pod of
  the node gets Ready=False through UpdateStatus (``MarkPodsNotReady``,
  pkg/controller/util/node/controller_utils.go); the phase is not touched;
- ``doNoScheduleTaintingPass`` / ``doNoExecuteTaintingPass``: Ready=Unknown
  gives ``unreachable`` NoSchedule and NoExecute taints, Ready=False
  ``not-ready``; Ready=True removes them; ``spec.unschedulable`` gives the
  ``unschedulable`` NoSchedule taint;
- ``handleDisruption``: when every node is not ready (full disruption) no
  NoExecute taint is added and existing ones are removed, so that a control
  plane cut off from all nodes does not evict everything.

Simplifications: one zone; the per-zone eviction rate limiter is not modelled
(taints are added in any order, at any time after the condition changes);
NoSchedule and NoExecute taints are reconciled in one write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from spec import apiserver
from spec.component import ActionDef, ComponentType, Context, Event, Param, Watch
from spec.frozen import EMPTY, FrozenMap, replace
from spec.informer import DELETED
from spec.objects import (
    LEASE,
    NO_EXECUTE,
    NO_SCHEDULE,
    NODE,
    POD,
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    Node,
    Taint,
)
from spec.state import State

NAME = "node-lifecycle-controller"
NO_DISRUPTION_MODE = "nodelifecycle-no-disruption-mode"
MANAGED_TAINTS = (TAINT_UNREACHABLE, TAINT_NOT_READY, TAINT_UNSCHEDULABLE)


@attrs.frozen(cache_hash=True)
class NodeHealth:
    """nodeHealthData: when the controller last heard from a node."""

    probe_timestamp: int
    """tick of the last observed heartbeat"""
    renew_seen: int = -1
    """the Lease renewTime last observed"""


@attrs.frozen(cache_hash=True)
class NodeLifecycleMemory:
    """The controller's in-memory state."""

    health: FrozenMap[str, NodeHealth] = EMPTY
    """by node name"""
    mark_not_ready: tuple[str, ...] = ()
    """pods (namespace/name) still to be marked NotReady, in order"""


def _heard(memory: NodeLifecycleMemory, node: str, now: int, renew: int | None = None) -> NodeLifecycleMemory:
    old = memory.health.get(node)
    seen = old.renew_seen if old else -1
    if renew is not None and renew <= seen:
        return memory
    health = NodeHealth(probe_timestamp=now, renew_seen=seen if renew is None else renew)
    return replace(memory, health=memory.health.set(node, health))


def _on_event(ctx: Context, memory: NodeLifecycleMemory, ev: Event) -> NodeLifecycleMemory:
    """Heartbeats refresh the probe timestamp; a Ready -> not-Ready transition queues MarkPodsNotReady."""
    if ev.kind == LEASE and ev.type != DELETED:
        return _heard(memory, ev.new.meta.name, ev.now, ev.new.renew_time)
    if ev.kind != NODE:
        return memory
    name = ev.obj.meta.name
    if ev.type == DELETED:
        return replace(memory, health=memory.health.remove(name))
    was_ready = ev.old is None or ev.old.status.ready == "True"
    if ev.new.status.ready == "True":
        return _heard(memory, name, ev.now) if not was_ready or name not in memory.health else memory
    if name not in memory.health:
        memory = _heard(memory, name, ev.now)
    if was_ready:
        pods = tuple(k for k, p in ev.cache.pods.items() if p.spec.node_name == name and k not in memory.mark_not_ready)
        memory = replace(memory, mark_not_ready=memory.mark_not_ready + pods)
    return memory


def _expired(ctx: Context, memory: NodeLifecycleMemory, node: str, now: int) -> bool:
    health = memory.health.get(node)
    return health is not None and now > health.probe_timestamp + ctx.timing.node_monitor_grace


def _unknown_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each node whose grace period passed without a heartbeat and is not yet Unknown."""
    view = s.views[me]
    for name, node in view.cache.nodes.items():
        if node.status.ready != "Unknown" and _expired(ctx, view.memory, name, s.clock):
            yield (name,)


def _mark_unknown(ctx: Context, s: State, me: str, node: str) -> State:
    """NodeLifecycleMarkUnknown: set Ready=Unknown, reason NodeStatusUnknown (UpdateStatus)."""
    cached: Node = s.views[me].cache.nodes[node]
    status = replace(cached.status, ready="Unknown", ready_reason="NodeStatusUnknown")
    return apiserver.update_status(ctx, s, NODE, node, status, rv=cached.meta.resource_version).state


def _pods_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """The next pod queued by MarkPodsNotReady."""
    queue = s.views[me].memory.mark_not_ready
    if queue:
        yield (queue[0],)


def _mark_pod(ctx: Context, s: State, me: str, pod: str) -> State:
    """NodeLifecycleMarkPodNotReady: set the pod's Ready condition False; retry on conflict."""
    view = s.views[me]
    cached = view.cache.pods.get(pod)
    done = True
    if cached is not None and cached.status.ready:
        status = replace(cached.status, ready=False, ready_transition=s.clock)
        result = apiserver.update_status(ctx, s, POD, pod, status, rv=cached.meta.resource_version)
        s, done = result.state, result.error is None or result.error.reason != "Conflict"
    if not done:
        return s
    view = s.views[me]
    memory = replace(view.memory, mark_not_ready=tuple(k for k in view.memory.mark_not_ready if k != pod))
    return replace(s, views=s.views.set(me, replace(view, memory=memory)))


def full_disruption(nodes: FrozenMap[str, Node]) -> bool:
    """Every node is not ready (ComputeZoneState: FullDisruption)."""
    return bool(nodes) and all(n.status.ready != "True" for n in nodes.values())


def _disruption_mode(ctx: Context, nodes: FrozenMap[str, Node]) -> bool:
    """Full disruption as handleDisruption sees it (never, in the variant ``nodelifecycle-no-disruption-mode``)."""
    return not ctx.flag(NO_DISRUPTION_MODE) and full_disruption(nodes)


def desired_taints(node: Node, disrupted: bool, now: int) -> tuple[Taint, ...]:
    """The node's taints after the NoSchedule and NoExecute tainting passes."""
    wanted: list[tuple[str, str]] = []
    if node.spec.unschedulable:
        wanted.append((TAINT_UNSCHEDULABLE, NO_SCHEDULE))
    key = {"Unknown": TAINT_UNREACHABLE, "False": TAINT_NOT_READY}.get(node.status.ready)
    if key is not None:
        wanted.append((key, NO_SCHEDULE))
        if not disrupted:
            wanted.append((key, NO_EXECUTE))
    kept = [t for t in node.spec.taints if t.key not in MANAGED_TAINTS or (t.key, t.effect) in wanted]
    have = {(t.key, t.effect) for t in kept}
    added = [Taint(key=k, effect=e, time_added=now if e == NO_EXECUTE else None) for k, e in wanted if (k, e) not in have]
    return tuple(kept + added)


def _taint_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each node whose managed taints differ from what its conditions call for."""
    nodes = s.views[me].cache.nodes
    disrupted = _disruption_mode(ctx, nodes)
    for name, node in nodes.items():
        if taint_keys(desired_taints(node, disrupted, s.clock)) != taint_keys(node.spec.taints):
            yield (name,)


def taint_keys(taints: tuple[Taint, ...]) -> list[tuple[str, str]]:
    """The (key, effect) of each taint, sorted: what the tainting passes compare."""
    return sorted((t.key, t.effect) for t in taints)


def _taint(ctx: Context, s: State, me: str, node: str) -> State:
    """NodeLifecycleTaint: write the node's taints (update with the view's resourceVersion)."""
    nodes = s.views[me].cache.nodes
    cached: Node = nodes[node]
    taints = desired_taints(cached, _disruption_mode(ctx, nodes), s.clock)
    return apiserver.update(ctx, s, replace(cached, spec=replace(cached.spec, taints=taints))).state


def _timers(ctx: Context, s: State, me: str) -> Iterator[int]:
    """The grace-period expiry of each node whose kubelet cannot renew its Lease."""
    view = s.views[me]
    for name, health in view.memory.health.items():
        machine = s.machines.get(name)
        node: Any = view.cache.nodes.get(name)
        if machine is not None and not machine.reachable and node is not None and node.status.ready != "Unknown":
            yield health.probe_timestamp + ctx.timing.node_monitor_grace + 1


def _urgent(ctx: Context, s: State, me: str) -> bool:
    """Heartbeats are delivered before time moves on: watch latency is far below the grace period."""
    per_kind = s.channels.cursors.get(me)
    return per_kind is not None and LEASE in per_kind


NODE_LIFECYCLE_CONTROLLER = ComponentType(
    kind=NAME,
    watches=(Watch(NODE), Watch(LEASE), Watch(POD)),
    initial_memory=NodeLifecycleMemory,
    on_event=_on_event,
    actions=(
        ActionDef("NodeLifecycleMarkUnknown", ("node",), _unknown_guard, _mark_unknown),
        ActionDef("NodeLifecycleMarkPodNotReady", ("pod",), _pods_guard, _mark_pod),
        ActionDef("NodeLifecycleTaint", ("node",), _taint_guard, _taint),
    ),
    timers=_timers,
    urgent=_urgent,
    source="pkg/controller/nodelifecycle/node_lifecycle_controller.go, pkg/controller/util/node/controller_utils.go",
)
