"""Taint eviction controller: delete pods that do not tolerate a NoExecute taint.

Follows k8s pkg/controller/tainteviction/taint_eviction.go (v1.29+; in
v1.28 pkg/controller/nodelifecycle/scheduler/taint_manager.go): for a pod
bound to a node with NoExecute taints, an untolerated taint evicts it at
once; if every taint is tolerated, it is evicted after the smallest
tolerationSeconds of the matching tolerations (never, if none has seconds).
Eviction is an ordinary DELETE with the pod's default grace period.

Simplification: the toleration clock starts at the earliest NoExecute taint's
timeAdded (upstream starts it when the controller processes the taint, which
can only be later), so evictions happen no later than upstream's.
"""

from __future__ import annotations

from collections.abc import Iterator

from spec import apiserver
from spec.component import ActionDef, ComponentType, Context, Param, Watch
from spec.objects import NO_EXECUTE, NODE, POD, Node, Pod
from spec.state import State

NAME = "taint-eviction-controller"


def eviction_time(pod: Pod, node: Node) -> int | None:
    """The tick at which ``pod`` is evicted from ``node`` (None: never)."""
    taints = [t for t in node.spec.taints if t.effect == NO_EXECUTE]
    if not taints:
        return None
    seconds: list[int] = []
    for taint in taints:
        matching = [t for t in pod.spec.tolerations if t.tolerates(taint)]
        if not matching:
            return min(t.time_added or 0 for t in taints)
        seconds += [t.toleration_seconds for t in matching if t.toleration_seconds is not None]
    if not seconds:
        return None
    start = min(t.time_added or 0 for t in taints)
    return start + max(min(seconds), 0)


def _candidates(s: State, me: str) -> Iterator[tuple[Pod, int]]:
    cache = s.views[me].cache
    for pod in cache.pods.values():
        node = cache.nodes.get(pod.spec.node_name) if pod.spec.node_name else None
        if node is None or not pod.is_active():
            continue
        when = eviction_time(pod, node)
        if when is not None:
            yield pod, when


def _evict_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each active pod whose NoExecute eviction time has come."""
    for pod, when in _candidates(s, me):
        if when <= s.clock:
            yield (pod.meta.key,)


def _evict(ctx: Context, s: State, me: str, pod: str) -> State:
    """TaintEvictPod: DELETE the pod with its default grace period (TaintManagerEviction)."""
    return apiserver.delete(ctx, s, POD, pod).state


def _timers(ctx: Context, s: State, me: str) -> Iterator[int]:
    """Pending toleration deadlines."""
    for _, when in _candidates(s, me):
        if when > s.clock:
            yield when


TAINT_EVICTION_CONTROLLER = ComponentType(
    kind=NAME,
    watches=(Watch(NODE), Watch(POD)),
    actions=(ActionDef("TaintEvictPod", ("pod",), _evict_guard, _evict),),
    timers=_timers,
    source="pkg/controller/tainteviction/taint_eviction.go",
)
