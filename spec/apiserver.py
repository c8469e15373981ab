"""The API server and its etcd store.

Follows apiserver pkg/registry/generic/registry/store.go (Create, Update,
Delete and graceful deletion), pkg/storage/etcd3/store.go (one revision
counter; a no-op write does not bump it), k8s pkg/registry/core/pod/strategy.go
and pod/storage/storage.go (pod grace periods, BindingREST),
pkg/registry/core/service (ClusterIP and NodePort allocation) and
apimachinery pkg/api/errors (error reasons and messages).

Every operation returns a :class:`Result`: the next state and the stored
object, or an :class:`ApiError` with the state unchanged. Every successful
write stamps the object with the next revision and records one watch event.

Simplifications: no Foreground propagation (Background and Orphan only);
Service ClusterIPs and NodePorts are the lowest free ones, not random;
namespaces are never deleted.
"""

from __future__ import annotations

import attrs

from spec import informer, validation
from spec.component import Context
from spec.frozen import replace
from spec.objects import (
    CLUSTER_SCOPED,
    NAMESPACE,
    ORPHAN_FINALIZER,
    POD,
    REPLICASET,
    SERVICE,
    Container,
    Node,
    Obj,
    Pod,
    PodStatus,
    ReplicaSet,
    ReplicaSetStatus,
    Service,
    with_meta,
)
from spec.state import State, WatchEvent

REBIND = "apiserver-rebind"
CLUSTERIP_LAG = "apiserver-clusterip-lag"

RESOURCE = {
    "Namespace": "namespaces",
    "Node": "nodes",
    "Pod": "pods",
    "ReplicaSet": "replicasets.apps",
    "Service": "services",
    "Endpoints": "endpoints",
    "Lease": "leases.coordination.k8s.io",
}
CLUSTER_IP_PREFIX = "10.96.0."
NODE_PORT_BASE = 30000
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@attrs.frozen
class ApiError:
    """A failed API call (metav1.Status): HTTP code, reason and message."""

    code: int
    """HTTP status code"""
    reason: str
    """Conflict, AlreadyExists, NotFound, Invalid or BadRequest"""
    message: str
    """the message apimachinery pkg/api/errors builds"""

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


@attrs.frozen
class Result:
    """The outcome of one API call."""

    state: State
    """the state after the call (unchanged on error)"""
    obj: Obj | None = None
    """the object as stored (or the existing one for a no-op), None if removed"""
    error: ApiError | None = None
    """the error, if the call failed"""

    @property
    def ok(self) -> bool:
        """The call succeeded."""
        return self.error is None


def not_found(kind: str, name: str) -> ApiError:
    """NewNotFound."""
    return ApiError(404, "NotFound", f'{RESOURCE[kind]} "{name}" not found')


def conflict(kind: str, name: str, why: str) -> ApiError:
    """NewConflict."""
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {RESOURCE[kind]} "{name}": {why}')


def invalid(kind: str, name: str, errs: list[str]) -> ApiError:
    """NewInvalid: one error, or several in brackets."""
    detail = errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {detail}')


def uid_mismatch(kind: str, name: str, wanted: int, actual: int) -> ApiError:
    """Preconditions.Check: a UID precondition that does not hold is 409 Conflict."""
    return conflict(kind, name, f"Precondition failed: UID in precondition: {wanted}, UID in object meta: {actual}")


MODIFIED_MSG = "the object has been modified; please apply your changes to the latest version and try again"


def get(s: State, kind: str, key: str) -> Obj | None:
    """A quorum read of the store."""
    result: Obj | None = s.api.objects.get(kind, key)
    return result


def _commit(ctx: Context, s: State, kind: str, key: str, old: Obj | None, new: Obj | None) -> Result:
    """Write one object (None removes it), stamp the revision and record the watch event."""
    revision = s.api.revision + 1
    if new is not None:
        new = with_meta(new, resource_version=revision)
        objects = s.api.objects.put(new)
    else:
        objects = s.api.objects.drop(kind, key)
    api = replace(s.api, objects=objects, revision=revision)
    channels = informer.record(ctx, s, WatchEvent(revision, kind, key, old, new))
    return Result(replace(s, api=api, channels=channels), new)


def generated_name(prefix: str, uid: int) -> str:
    """generateName: the prefix plus a 5-character suffix (deterministic here, from the UID)."""
    chars = []
    n = uid
    for _ in range(5):
        n, r = divmod(n, len(_NAME_ALPHABET))
        chars.append(_NAME_ALPHABET[r])
    return prefix + "".join(reversed(chars))


# ---------------------------------------------------------------- create


def create(ctx: Context, s: State, obj: Obj) -> Result:
    """POST: validate, default, admit, allocate, then store a new object."""
    meta = obj.meta
    uid = s.api.next_uid
    if not meta.name and meta.generate_name:
        obj = with_meta(obj, name=generated_name(meta.generate_name, uid))
    obj = _prepare_for_create(ctx, s, obj)
    errs = validation.errors_for(obj)
    if errs:
        return Result(s, error=invalid(obj.kind, obj.meta.name or meta.generate_name, errs))
    if obj.kind not in CLUSTER_SCOPED and s.api.objects.get(NAMESPACE, obj.meta.namespace) is None:
        return Result(s, error=not_found(NAMESPACE, obj.meta.namespace))
    if s.api.objects.get(obj.kind, obj.meta.key) is not None:
        return Result(s, error=ApiError(409, "AlreadyExists", f'{RESOURCE[obj.kind]} "{obj.meta.name}" already exists'))
    if isinstance(obj, Service):
        allocated = _allocate_service(ctx, s, obj)
        if isinstance(allocated, ApiError):
            return Result(s, error=allocated)
        obj = allocated
    obj = with_meta(obj, uid=uid, creation_timestamp=s.clock, generation=1, deletion_timestamp=None, deletion_grace_period_seconds=None)
    s = replace(s, api=replace(s.api, next_uid=uid + 1))
    return _commit(ctx, s, obj.kind, obj.meta.key, None, obj)


def _prepare_for_create(ctx: Context, s: State, obj: Obj) -> Obj:
    """Strategy PrepareForCreate and the defaulting and admission that apply to the kind."""
    if isinstance(obj, Pod):
        containers = tuple(_default_container(c) for c in obj.spec.containers)
        obj = replace(obj, spec=replace(obj.spec, containers=containers), status=PodStatus())
        return validation.with_default_tolerations(obj, ctx.timing.default_toleration_seconds)
    if isinstance(obj, ReplicaSet):
        template = obj.spec.template
        containers = tuple(_default_container(c) for c in template.spec.containers)
        spec = replace(obj.spec, template=replace(template, spec=replace(template.spec, containers=containers)))
        return replace(obj, spec=spec, status=ReplicaSetStatus())
    return obj


def _default_container(c: Container) -> Container:
    if c.image_pull_policy:
        return c
    return replace(c, image_pull_policy=validation.default_pull_policy(c.image))


def _allocate_service(ctx: Context, s: State, svc: Service) -> Service | ApiError:
    """Allocate a free ClusterIP and, for NodePort Services, free node ports.

    In the variant ``apiserver-clusterip-lag`` the ClusterIP allocator reads
    the Services as the lagging watch cache holds them, not the store.
    """
    services = s.api.objects.services.values()
    lagging = informer.store_at(s, SERVICE, informer.oldest_listable(ctx, s)).values() if ctx.flag(CLUSTERIP_LAG) else services
    used_ips = {o.spec.cluster_ip for o in lagging}
    ip = svc.spec.cluster_ip
    if ip and ip in used_ips:
        return invalid("Service", svc.meta.name, [validation.invalid("spec.clusterIP", ip, "provided IP is already allocated")])
    n = 10
    while not ip:
        candidate = f"{CLUSTER_IP_PREFIX}{n}"
        ip = "" if candidate in used_ips else candidate
        n += 1
    used_ports = {p.node_port for o in services for p in o.spec.ports if p.node_port}
    ports = []
    for i, port in enumerate(svc.spec.ports):
        node_port = port.node_port
        if svc.spec.type != "NodePort":
            node_port = 0
        elif node_port and node_port in used_ports:
            return invalid(
                "Service", svc.meta.name, [validation.invalid(f"spec.ports[{i}].nodePort", node_port, "provided port is already allocated")]
            )
        elif not node_port:
            node_port = min(p for p in range(NODE_PORT_BASE, NODE_PORT_BASE + 2768) if p not in used_ports)
        used_ports.add(node_port)
        ports.append(replace(port, node_port=node_port))
    return replace(svc, spec=replace(svc.spec, cluster_ip=ip, ports=tuple(ports)))


# ---------------------------------------------------------------- update


def update(ctx: Context, s: State, obj: Obj) -> Result:
    """PUT: an update with obj.meta.resource_version as precondition (0: unconditional, pods only)."""
    kind, key, name = obj.kind, obj.meta.key, obj.meta.name
    existing = get(s, kind, key)
    if existing is None:
        return Result(s, error=not_found(kind, name))
    rv = obj.meta.resource_version
    if rv == 0 and kind != POD:
        return Result(s, error=invalid(kind, name, ["metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"]))
    if rv and rv != existing.meta.resource_version:
        return Result(s, error=conflict(kind, name, MODIFIED_MSG))
    errs = _update_errors(existing, obj)
    if errs:
        return Result(s, error=invalid(kind, name, errs))
    new = _prepare_for_update(existing, obj)
    return _write_update(ctx, s, existing, new)


def _update_errors(old: Obj, new: Obj) -> list[str]:
    """ValidateObjectMetaUpdate plus the kind's update validation."""
    errs = validation.errors_for(new)
    om, nm = old.meta, new.meta
    for field in ("namespace", "uid", "creation_timestamp", "deletion_timestamp", "deletion_grace_period_seconds"):
        if getattr(nm, field) != getattr(om, field) and getattr(nm, field) not in (None, 0, ""):
            errs.append(f"metadata.{_camel(field)}: Invalid value: {getattr(nm, field)}: field is immutable")
    if om.deletion_timestamp is not None and not set(nm.finalizers) <= set(om.finalizers):
        errs.append("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted")
    if isinstance(old, Pod) and isinstance(new, Pod) and not _pod_spec_update_allowed(old, new):
        errs.append(
            "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
            "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) "
            "or `spec.terminationGracePeriodSeconds`"
        )
    if isinstance(old, ReplicaSet) and isinstance(new, ReplicaSet) and old.spec.selector != new.spec.selector:
        errs.append(validation.invalid("spec.selector", str(new.spec.selector), "field is immutable"))
    return errs


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(p.title() for p in rest)


def _pod_spec_update_allowed(old: Pod, new: Pod) -> bool:
    """ValidatePodUpdate: only container images change and tolerations are only added."""
    if not set(old.spec.tolerations) <= set(new.spec.tolerations):
        return False
    if len(old.spec.containers) != len(new.spec.containers):
        return False
    images_reset = tuple(replace(n, image=o.image) for o, n in zip(old.spec.containers, new.spec.containers, strict=True))
    normalised = replace(new.spec, containers=images_reset, tolerations=old.spec.tolerations)
    return normalised == old.spec


def _prepare_for_update(old: Obj, new: Obj) -> Obj:
    """PrepareForUpdate: status is kept, immutable metadata is copied, generation bumps on spec change."""
    om = old.meta
    meta = replace(
        new.meta,
        uid=om.uid,
        creation_timestamp=om.creation_timestamp,
        deletion_timestamp=om.deletion_timestamp,
        deletion_grace_period_seconds=om.deletion_grace_period_seconds,
        resource_version=om.resource_version,
        generation=om.generation,
    )
    new = replace(new, meta=meta)
    if isinstance(old, (Pod, ReplicaSet, Node)):
        new = replace(new, status=old.status)
    if isinstance(old, ReplicaSet) and isinstance(new, ReplicaSet) and new.spec != old.spec:
        new = with_meta(new, generation=om.generation + 1)
    if isinstance(old, Service) and isinstance(new, Service):
        new = _keep_allocations(old, new)
    return new


def _keep_allocations(old: Service, new: Service) -> Service:
    """ClusterIP is immutable; node ports stay allocated to the same port."""
    kept = {p.port: p.node_port for p in old.spec.ports}
    ports = tuple(replace(p, node_port=p.node_port or kept.get(p.port, 0)) for p in new.spec.ports)
    return replace(new, spec=replace(new.spec, cluster_ip=old.spec.cluster_ip, ports=ports))


def _write_update(ctx: Context, s: State, existing: Obj, new: Obj) -> Result:
    """Store an update: no-op if unchanged; the last finalizer of a grace-0 deletion removes it."""
    if new == existing:
        return Result(s, existing)
    meta = new.meta
    if meta.deletion_timestamp is not None and not meta.finalizers and not meta.deletion_grace_period_seconds:
        return _commit(ctx, s, existing.kind, meta.key, existing, None)
    return _commit(ctx, s, existing.kind, meta.key, existing, new)


def update_status(ctx: Context, s: State, kind: str, key: str, status: object, rv: int = 0, uid: int | None = None) -> Result:
    """PUT .../status: replace only the status (Pod, ReplicaSet, Node); rv 0 is unconditional."""
    existing = get(s, kind, key)
    name = key.rpartition("/")[2]
    if existing is None:
        return Result(s, error=not_found(kind, name))
    if uid is not None and uid != existing.meta.uid:
        return Result(s, error=uid_mismatch(kind, name, uid, existing.meta.uid))
    if rv and rv != existing.meta.resource_version:
        return Result(s, error=conflict(kind, name, MODIFIED_MSG))
    return _write_update(ctx, s, existing, replace(existing, status=status))


# ---------------------------------------------------------------- delete


def delete(
    ctx: Context,
    s: State,
    kind: str,
    key: str,
    *,
    grace: int | None = None,
    uid: int | None = None,
    orphan: bool = False,
) -> Result:
    """DELETE with optional gracePeriodSeconds, a UID precondition and Orphan propagation."""
    existing = get(s, kind, key)
    name = key.rpartition("/")[2]
    if existing is None:
        return Result(s, error=not_found(kind, name))
    if uid is not None and uid != existing.meta.uid:
        return Result(s, error=uid_mismatch(kind, name, uid, existing.meta.uid))
    if isinstance(existing, Pod):
        return _delete_pod(ctx, s, existing, grace)
    return _delete_immediately_or_finalize(ctx, s, existing, orphan)


def _delete_pod(ctx: Context, s: State, pod: Pod, grace: int | None) -> Result:
    """Graceful pod deletion (pod/strategy.go CheckGracefulDelete, rest/delete.go BeforeDelete).

    An unbound or terminal pod gets grace 0. A first delete with grace > 0 sets
    deletionTimestamp = now + grace; a later one may only move it earlier; grace 0
    removes the pod unless finalizers remain.
    """
    if grace is None:
        grace = pod.spec.termination_grace_period_seconds
    if not pod.spec.node_name or pod.is_terminal():
        grace = 0
    meta = pod.meta
    pending = meta.deletion_timestamp is not None
    if pending and meta.deletion_grace_period_seconds and grace > 0:
        if s.clock + grace >= meta.deletion_timestamp:  # type: ignore[operator]
            return Result(s, pod)  # graceful deletion is pending: an equal or longer grace is a no-op
        return _mark_deleting(ctx, s, pod, s.clock + grace, grace)
    if grace > 0:
        return _mark_deleting(ctx, s, pod, s.clock + grace, grace)
    if not meta.finalizers:
        return _commit(ctx, s, POD, meta.key, pod, None)
    if pending and meta.deletion_grace_period_seconds == 0:
        return Result(s, pod)  # waiting for its finalizers
    return _mark_deleting(ctx, s, pod, min(meta.deletion_timestamp or s.clock, s.clock), 0)


def _mark_deleting(ctx: Context, s: State, obj: Obj, timestamp: int, grace: int, finalizers: tuple[str, ...] | None = None) -> Result:
    """Set deletionTimestamp and deletionGracePeriodSeconds (bumping a positive generation)."""
    meta = obj.meta
    generation = meta.generation + 1 if meta.generation > 0 and meta.deletion_timestamp is None else meta.generation
    new_meta = replace(
        meta,
        deletion_timestamp=timestamp,
        deletion_grace_period_seconds=grace,
        generation=generation,
        finalizers=meta.finalizers if finalizers is None else finalizers,
    )
    return _commit(ctx, s, obj.kind, meta.key, obj, replace(obj, meta=new_meta))


def _delete_immediately_or_finalize(ctx: Context, s: State, obj: Obj, orphan: bool) -> Result:
    """Non-graceful kinds: remove now, or mark deleting while finalizers remain (markAsDeleting)."""
    meta = obj.meta
    if meta.deletion_timestamp is not None:
        return Result(s, obj)  # deletion is already pending on its finalizers
    finalizers = meta.finalizers
    if orphan and obj.kind == REPLICASET and ORPHAN_FINALIZER not in finalizers:
        finalizers = (*finalizers, ORPHAN_FINALIZER)
    if not finalizers:
        return _commit(ctx, s, obj.kind, meta.key, obj, None)
    return _mark_deleting(ctx, s, obj, s.clock, 0, finalizers)


def remove_owner_references(ctx: Context, s: State, kind: str, key: str, owner_uids: frozenset[int], uid: int | None = None) -> Result:
    """PATCH ``{"metadata": {"ownerReferences": [{"$patch": "delete", "uid": ...}], "uid": uid}}``.

    The strategic-merge patch the garbage collector (attemptToOrphan, dangling
    references) and controller_ref_manager.go (ReleasePod) send: it applies to
    the live object, guarded by its UID.
    """
    live = get(s, kind, key)
    if live is None:
        return Result(s, error=not_found(kind, key.rpartition("/")[2]))
    if uid is not None and live.meta.uid != uid:
        return Result(s, error=uid_mismatch(kind, live.meta.name, uid, live.meta.uid))
    refs = tuple(r for r in live.meta.owner_references if r.uid not in owner_uids)
    return _write_update(ctx, s, live, with_meta(live, owner_references=refs))


# ---------------------------------------------------------------- binding


def bind(ctx: Context, s: State, key: str, node: str, uid: int | None = None) -> Result:
    """POST pods/binding (pod/storage/storage.go BindingREST.assignPod): nodeName is write-once."""
    pod = get(s, POD, key)
    name = key.rpartition("/")[2]
    if pod is None:
        return Result(s, error=not_found(POD, name))
    assert isinstance(pod, Pod)
    if uid is not None and uid != pod.meta.uid:
        return Result(s, error=uid_mismatch(POD, name, uid, pod.meta.uid))
    if pod.meta.deletion_timestamp is not None:
        return Result(s, error=_binding_conflict(name, f"pod {name} is being deleted, cannot be assigned to a host"))
    if pod.spec.node_name and not ctx.flag(REBIND):
        return Result(s, error=_binding_conflict(name, f'pod {name} is already assigned to node "{pod.spec.node_name}"'))
    bound = replace(pod, spec=replace(pod.spec, node_name=node), status=replace(pod.status, unschedulable="", scheduled=True))
    return _commit(ctx, s, POD, key, pod, bound)


def _binding_conflict(name: str, why: str) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on pods/binding "{name}": {why}')
