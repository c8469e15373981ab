"""Garbage collector: delete pods whose owner is gone; orphan on request.

Follows k8s@v1.28 pkg/controller/garbagecollector/garbagecollector.go
(attemptToDeleteItem, classifyReferences, attemptToOrphan) and
graph_builder.go:
- a dependent whose owner is not in the collector's graph is checked with a
  live GET of each owner (its informers can lag, so absence from its view is
  not enough): an owner that is gone or has another UID is *dangling*, any
  other is *solid*; with a solid owner the dangling references are patched
  away, with none the dependent is deleted (Background propagation);
- an owner being deleted with the ``orphan`` finalizer has its UID stripped
  from every dependent's ownerReferences, one patch per step, and then the
  finalizer removed, which completes its deletion;
- a dependent that is being deleted is skipped.

Simplification: Foreground propagation (``foregroundDeletion``,
blockOwnerDeletion) is not modelled; only ReplicaSets own pods.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from spec import apiserver
from spec.component import ActionDef, ComponentType, Context, Event, Param, Watch
from spec.frozen import replace
from spec.objects import ORPHAN_FINALIZER, POD, REPLICASET, OwnerReference, Pod, ReplicaSet
from spec.state import Objects, State

NAME = "garbage-collector"


@attrs.frozen(cache_hash=True)
class GarbageCollectorMemory:
    """The collector's in-memory graph facts."""

    solid: tuple[int, ...] = ()
    """owner UIDs a live GET found present before the informer delivered them"""


def _on_event(ctx: Context, memory: GarbageCollectorMemory, ev: Event) -> GarbageCollectorMemory:
    """Once the informer delivers an owner (or its deletion), the live-lookup note is dropped."""
    if ev.kind != REPLICASET or ev.obj.meta.uid not in memory.solid:
        return memory
    return GarbageCollectorMemory(solid=tuple(u for u in memory.solid if u != ev.obj.meta.uid))


def _owner_in_view(cache: Objects, pod: Pod, uid: int, name: str) -> bool:
    owner = cache.replicasets.get(f"{pod.meta.namespace}/{name}")
    return owner is not None and owner.meta.uid == uid


def _collect_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each live pod with an owner reference the collector's view cannot resolve."""
    view = s.views[me]
    for key, pod in view.cache.pods.items():
        if pod.meta.deletion_timestamp is not None:
            continue
        for ref in pod.meta.owner_references:
            if ref.kind == REPLICASET and ref.uid not in view.memory.solid and not _owner_in_view(view.cache, pod, ref.uid, ref.name):
                yield (key,)
                break


def _collect(ctx: Context, s: State, me: str, pod: str) -> State:
    """GarbageCollectPod: classify owners by live GET; delete the pod or patch away dangling refs."""
    cached: Pod = s.views[me].cache.pods[pod]
    solid: list[OwnerReference] = []
    dangling: list[OwnerReference] = []
    for ref in cached.meta.owner_references:
        live = apiserver.get(s, REPLICASET, f"{cached.meta.namespace}/{ref.name}")
        (solid if live is not None and live.meta.uid == ref.uid else dangling).append(ref)
    if not solid:
        return apiserver.delete(ctx, s, POD, pod, uid=cached.meta.uid).state
    view = s.views[me]
    known = tuple(sorted(set(view.memory.solid) | {r.uid for r in solid}))
    s = replace(s, views=s.views.set(me, replace(view, memory=GarbageCollectorMemory(solid=known))))
    if not dangling:
        return s
    return apiserver.remove_owner_references(ctx, s, POD, pod, frozenset(r.uid for r in dangling), uid=cached.meta.uid).state


def _orphan_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each ReplicaSet being deleted with the orphan finalizer."""
    for key, rs in s.views[me].cache.replicasets.items():
        if rs.meta.deletion_timestamp is not None and ORPHAN_FINALIZER in rs.meta.finalizers:
            yield (key,)


def _orphan(ctx: Context, s: State, me: str, rs: str) -> State:
    """GarbageCollectOrphan: strip the owner from one dependent, or, with none left, drop the finalizer."""
    cache = s.views[me].cache
    owner: ReplicaSet = cache.replicasets[rs]
    for key, pod in cache.pods.items():
        if any(r.uid == owner.meta.uid for r in pod.meta.owner_references):
            result = apiserver.remove_owner_references(ctx, s, POD, key, frozenset({owner.meta.uid}))
            if result.ok and result.state is not s:
                return result.state  # otherwise gone, or already patched: the view lags
    live_rs = apiserver.get(s, REPLICASET, rs)
    if live_rs is None or live_rs.meta.uid != owner.meta.uid:
        return s
    finalizers = tuple(f for f in live_rs.meta.finalizers if f != ORPHAN_FINALIZER)
    return apiserver.update(ctx, s, replace(live_rs, meta=replace(live_rs.meta, finalizers=finalizers))).state


GARBAGE_COLLECTOR = ComponentType(
    kind=NAME,
    watches=(Watch(REPLICASET), Watch(POD)),
    initial_memory=GarbageCollectorMemory,
    on_event=_on_event,
    actions=(
        ActionDef("GarbageCollectPod", ("pod",), _collect_guard, _collect),
        ActionDef("GarbageCollectOrphan", ("rs",), _orphan_guard, _orphan),
    ),
    source="pkg/controller/garbagecollector/garbagecollector.go, pkg/controller/garbagecollector/graph_builder.go",
)
