"""Endpoints controller: one Endpoints object per Service with a selector.

Follows k8s@v1.28 pkg/controller/endpoint/endpoints_controller.go
(syncService, addEndpointSubset) and endpointslice util/controller_utils.go
ShouldPodBeInEndpoints: pods of the Service's namespace that match its
selector (equality, a plain map) and have an IP; terminal pods never, and
terminating pods only with publishNotReadyAddresses; ready pods (or every
pod, with publishNotReadyAddresses) in ``addresses``, the others in
``notReadyAddresses``. The controller writes only when the object would
change (create, update with the view's resourceVersion, or delete when the
Service is gone), so a stale view can meet a Conflict.

Simplification: one subset, because targetPort is numeric (FindPort then
returns it unchanged for every pod).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from spec import apiserver
from spec.component import ActionDef, ComponentType, Context, Param, Watch
from spec.frozen import replace
from spec.labels import set_matches
from spec.objects import (
    ENDPOINTS,
    POD,
    SERVICE,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    ObjectMeta,
    Pod,
    Service,
)
from spec.state import Objects, State

NAME = "endpoints-controller"
KEEP_TERMINATING = "endpoints-keep-terminating"
IGNORE_READINESS = "endpoints-ignore-readiness"


def should_be_in_endpoints(pod: Pod, include_terminating: bool) -> bool:
    """ShouldPodBeInEndpoints: not terminal, has an IP, not terminating unless included."""
    if pod.is_terminal() or not pod.status.pod_ip:
        return False
    return include_terminating or pod.meta.deletion_timestamp is None


def desired_endpoints(ctx: Context, svc: Service, cache: Objects) -> Endpoints:
    """The Endpoints the controller computes for ``svc`` from its cache."""
    selector: Mapping[str, str] = svc.spec.selector or {}
    publish = svc.spec.publish_not_ready_addresses
    ready: list[EndpointAddress] = []
    not_ready: list[EndpointAddress] = []
    for pod in cache.pods.values():
        if pod.meta.namespace != svc.meta.namespace or not set_matches(selector, pod.meta.labels):
            continue
        if not should_be_in_endpoints(pod, publish or ctx.flag(KEEP_TERMINATING)):
            continue
        addr = EndpointAddress(ip=pod.status.pod_ip, node_name=pod.spec.node_name, pod=pod.meta.key, uid=pod.meta.uid)
        is_ready = publish or pod.status.ready or ctx.flag(IGNORE_READINESS)
        (ready if is_ready else not_ready).append(addr)
    ports = tuple(EndpointPort(port=p.target_port, name=p.name, protocol=p.protocol) for p in svc.spec.ports)
    meta = ObjectMeta(name=svc.meta.name, namespace=svc.meta.namespace, labels=svc.meta.labels)
    return Endpoints(meta=meta, addresses=sorted(ready, key=_order), not_ready_addresses=sorted(not_ready, key=_order), ports=ports)


def _order(a: EndpointAddress) -> tuple[str, str]:
    return (a.ip, a.pod)


def same_content(a: Endpoints, b: Endpoints) -> bool:
    """Equal subsets and labels (the controller's "nothing changed" test)."""
    return a.addresses == b.addresses and a.not_ready_addresses == b.not_ready_addresses and a.ports == b.ports and a.meta.labels == b.meta.labels


def _sync_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each Service whose Endpoints in the view differ from the computed ones, and each orphan Endpoints."""
    cache = s.views[me].cache
    for key in sorted(set(cache.services) | set(cache.endpoints)):
        svc, current = cache.services.get(key), cache.endpoints.get(key)
        if svc is None or svc.spec.selector is None:
            if svc is None and current is not None:
                yield (key,)
            continue
        if current is None or not same_content(current, desired_endpoints(ctx, svc, cache)):
            yield (key,)


def _sync(ctx: Context, s: State, me: str, service: str) -> State:
    """EndpointsSync: syncService: create, update or delete the Service's Endpoints."""
    cache = s.views[me].cache
    svc, current = cache.services.get(service), cache.endpoints.get(service)
    if svc is None:
        return apiserver.delete(ctx, s, ENDPOINTS, service).state
    desired = desired_endpoints(ctx, svc, cache)
    if current is None:
        return apiserver.create(ctx, s, desired).state
    new = replace(desired, meta=replace(current.meta, labels=desired.meta.labels))
    return apiserver.update(ctx, s, new).state


ENDPOINTS_CONTROLLER = ComponentType(
    kind=NAME,
    watches=(Watch(SERVICE), Watch(POD), Watch(ENDPOINTS)),
    actions=(ActionDef("EndpointsSync", ("service",), _sync_guard, _sync),),
    source="pkg/controller/endpoint/endpoints_controller.go, endpointslice util/controller_utils.go",
)
