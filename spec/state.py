"""The model state: one immutable value in four parts plus a clock.

1. API truth (:class:`Api`): the objects in the store and the etcd revision.
2. Node truth (``State.machines``): what really runs on each machine, whatever
   the API says (``spec.runtime.Machine``).
3. Views (``State.views``): each component instance's informer cache and its
   in-memory state (ReplicaSet expectations, the scheduler's assumed pods ...).
4. Channels (:class:`Channels`): the API server's watch-event history and, per
   watching component and kind, how far its watch has delivered. The events a
   component has not received yet are the ones after its cursor that its watch
   selects, so a cache can lag the store by any number of events while the
   order inside one watch is kept (apiserver pkg/storage/cacher).

Every part is a frozen attrs class, a tuple or a ``FrozenMap``: equal states
hash and serialise identically in every process.
"""

from __future__ import annotations

from typing import Any

import attrs

from spec.frozen import EMPTY, FrozenMap, replace
from spec.objects import (
    ENDPOINTS,
    LEASE,
    NAMESPACE,
    NODE,
    POD,
    REPLICASET,
    SERVICE,
    Endpoints,
    Lease,
    Namespace,
    Node,
    Obj,
    Pod,
    ReplicaSet,
    Service,
)
from spec.runtime import Machine

FIELD_OF_KIND = {
    NAMESPACE: "namespaces",
    NODE: "nodes",
    POD: "pods",
    REPLICASET: "replicasets",
    SERVICE: "services",
    ENDPOINTS: "endpoints",
    LEASE: "leases",
}


@attrs.frozen(cache_hash=True)
class Objects:
    """A set of API objects by kind and key: the store, or an informer cache."""

    namespaces: FrozenMap[str, Namespace] = EMPTY
    nodes: FrozenMap[str, Node] = EMPTY
    pods: FrozenMap[str, Pod] = EMPTY
    replicasets: FrozenMap[str, ReplicaSet] = EMPTY
    services: FrozenMap[str, Service] = EMPTY
    endpoints: FrozenMap[str, Endpoints] = EMPTY
    leases: FrozenMap[str, Lease] = EMPTY

    def of(self, kind: str) -> FrozenMap[str, Any]:
        """All objects of one kind, by key."""
        result: FrozenMap[str, Any] = getattr(self, FIELD_OF_KIND[kind])
        return result

    def get(self, kind: str, key: str) -> Any:
        """The object of ``kind`` at ``key``, or None."""
        return self.of(kind).get(key)

    def put(self, obj: Obj) -> Objects:
        """A copy holding ``obj`` at its key."""
        field = FIELD_OF_KIND[obj.kind]
        return replace(self, **{field: getattr(self, field).set(obj.meta.key, obj)})

    def drop(self, kind: str, key: str) -> Objects:
        """A copy without the object of ``kind`` at ``key``."""
        field = FIELD_OF_KIND[kind]
        return replace(self, **{field: getattr(self, field).remove(key)})

    def replace_kind(self, kind: str, objs: FrozenMap[str, Any]) -> Objects:
        """A copy whose objects of ``kind`` are exactly ``objs``."""
        return replace(self, **{FIELD_OF_KIND[kind]: objs})


@attrs.frozen(cache_hash=True)
class Api:
    """API truth: the etcd store behind the API server."""

    objects: Objects = Objects()
    """every object, with its resourceVersion"""
    revision: int = 0
    """the etcd revision: the global resourceVersion counter"""
    next_uid: int = 1
    """the next metadata.uid (and generateName suffix) to hand out"""


@attrs.frozen(cache_hash=True)
class WatchEvent:
    """One write as the watch cache records it: the object before and after."""

    revision: int
    """the resourceVersion of the write"""
    kind: str
    """the object's kind"""
    key: str
    """the object's store key"""
    old: Any
    """the object before the write (None for a create)"""
    new: Any
    """the object after the write (None for a delete)"""


@attrs.frozen(cache_hash=True)
class Channels:
    """Watch channels: the event history and each watch's position in it."""

    log: tuple[WatchEvent, ...] = ()
    """events not yet delivered to every watch that selects them (plus the
    watch-cache window a lagging relist can be served from)"""
    cursors: FrozenMap[str, FrozenMap[str, int]] = EMPTY
    """per watcher, per kind: the revision just before its next undelivered
    event (the store revision when it has none)"""


@attrs.frozen(cache_hash=True)
class ComponentState:
    """One component instance's view: its informer caches and in-memory state."""

    cache: Objects = Objects()
    """what its informers have delivered"""
    memory: Any = None
    """the component's own in-memory state (a frozen class of its module)"""


@attrs.frozen(cache_hash=True)
class State:
    """The whole cluster: API truth, node truth, views, channels and the clock."""

    api: Api
    """API truth"""
    machines: FrozenMap[str, Machine]
    """node truth, by node name"""
    views: FrozenMap[str, ComponentState]
    """per component instance (for example ``scheduler``, ``kubelet/node-1``)"""
    channels: Channels
    """watch channels"""
    clock: int = 0
    """logical time in ticks"""
    budget: FrozenMap[str, int] = EMPTY
    """environment operations used so far, by budget name"""

    def view(self, instance: str) -> ComponentState:
        """The view of one component instance."""
        return self.views[instance]

    def used(self, budget_name: str) -> int:
        """How many operations counted against ``budget_name`` have happened."""
        return self.budget.get(budget_name, 0)
