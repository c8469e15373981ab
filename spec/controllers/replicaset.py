"""ReplicaSet controller: keep spec.replicas active pods, gated by expectations.

Follows k8s pkg/controller/replicaset/replica_set.go (syncReplicaSet,
manageReplicas, slowStartBatch, getPodsToDelete), replica_set_utils.go
(calculateStatus), pkg/controller/controller_utils.go (ControllerExpectations,
UIDTrackingControllerExpectations, FilterActivePods, ActivePodsWithRanks) and
controller_ref_manager.go (ClaimPods: adoption and release).

A sync (``ReplicaSetSync``) decides everything from the controller's view:
which pods it claims, adopts or releases, how many pods to create or which to
delete, and the new status. It records expectations for its creations and
deletions and queues the writes; each write is its own step
(``ReplicaSetWrite``), so a restart between two writes of one sync loses the
rest of it, as a crashed kube-controller-manager does. A sync only runs when
it has something to do, and manages replicas only when its expectations are
satisfied (or have expired after ``Timing.expectations_timeout``). The expiry
arms no timer: it is a safety net for lost watch events and is reached only
when time advances for another reason.

Simplifications: the create batches are not slow-started in parallel groups;
instead the creates of one sync run one per step and the first failure drops
the rest (the effect of slowStartBatch on the remaining batches); burst is
500 as upstream.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import attrs

from spec import apiserver
from spec.component import ActionDef, ComponentType, Context, Event, Param, Watch
from spec.frozen import EMPTY, FrozenMap, replace
from spec.informer import ADDED, DELETED
from spec.objects import (
    POD,
    REPLICASET,
    RUNNING,
    UNKNOWN,
    ObjectMeta,
    OwnerReference,
    Pod,
    ReplicaSet,
    ReplicaSetStatus,
)
from spec.state import State

NAME = "replicaset-controller"
NO_EXPECTATIONS = "rs-no-expectations"
IGNORE_TOMBSTONES = "rs-ignore-tombstones"
BURST_REPLICAS = 500
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


@attrs.frozen(cache_hash=True)
class Expectation:
    """ControllerExpectations record of one ReplicaSet."""

    uid: int
    """the ReplicaSet's UID (a recreated one with the same name is another controller)"""
    add: int
    """creations not yet observed"""
    dels: tuple[str, ...]
    """pods (namespace/name) whose deletion is not yet observed"""
    timestamp: int
    """tick the record was set (it expires after Timing.expectations_timeout)"""


@attrs.frozen(cache_hash=True)
class Write:
    """One API write a sync queued."""

    verb: str
    """adopt, release, create, delete or status"""
    pod: str = ""
    """the pod it is about (namespace/name), "" for create and status"""


@attrs.frozen(cache_hash=True)
class Sync:
    """The rest of a running sync: the ReplicaSet as the sync saw it and its remaining writes."""

    rs: ReplicaSet
    """the ReplicaSet from the view at the start of the sync"""
    writes: tuple[Write, ...]
    """writes still to make, in order"""
    status: ReplicaSetStatus
    """the status computed at the start of the sync"""


@attrs.frozen(cache_hash=True)
class ReplicaSetMemory:
    """The controller's in-memory state."""

    expectations: FrozenMap[str, Expectation] = EMPTY
    """by ReplicaSet namespace/name"""
    syncs: FrozenMap[str, Sync] = EMPTY
    """syncs in progress by ReplicaSet namespace/name"""


# ------------------------------------------------------------ expectations


def _owner_key(pod: Pod) -> tuple[str, int] | None:
    ref = pod.meta.controller_ref()
    if ref is None or ref.kind != REPLICASET:
        return None
    return f"{pod.meta.namespace}/{ref.name}", ref.uid


def creation_observed(memory: ReplicaSetMemory, rs_key: str, uid: int) -> ReplicaSetMemory:
    """CreationObserved: one fewer creation to wait for."""
    exp = memory.expectations.get(rs_key)
    if exp is None or exp.uid != uid:
        return memory
    return replace(memory, expectations=memory.expectations.set(rs_key, replace(exp, add=exp.add - 1)))


def deletion_observed(memory: ReplicaSetMemory, rs_key: str, uid: int, pod_key: str) -> ReplicaSetMemory:
    """DeletionObserved (UID tracking): each expected pod is counted once."""
    exp = memory.expectations.get(rs_key)
    if exp is None or exp.uid != uid or pod_key not in exp.dels:
        return memory
    dels = tuple(k for k in exp.dels if k != pod_key)
    return replace(memory, expectations=memory.expectations.set(rs_key, replace(exp, dels=dels)))


def satisfied(ctx: Context, memory: ReplicaSetMemory, rs_key: str, now: int) -> bool:
    """SatisfiedExpectations: no record, all observed, or expired."""
    exp = memory.expectations.get(rs_key)
    if exp is None or ctx.flag(NO_EXPECTATIONS):
        return True
    return (exp.add <= 0 and not exp.dels) or now - exp.timestamp > ctx.timing.expectations_timeout


def _on_event(ctx: Context, memory: ReplicaSetMemory, ev: Event) -> ReplicaSetMemory:
    """addPod / updatePod / deletePod / deleteRS handlers."""
    etype, old = ev.type, ev.old
    if ev.kind == REPLICASET:
        if etype == DELETED:
            return replace(memory, expectations=memory.expectations.remove(old.meta.key))
        return memory
    pod = ev.obj
    owner = _owner_key(pod)
    if owner is None:
        return memory
    rs_key, uid = owner
    if etype == DELETED:
        if ev.tombstone and ctx.flag(IGNORE_TOMBSTONES):
            return memory
        return deletion_observed(memory, rs_key, uid, pod.meta.key)
    if pod.meta.deletion_timestamp is not None and (etype == ADDED or old.meta.deletion_timestamp is None):
        return deletion_observed(memory, rs_key, uid, pod.meta.key)
    if etype == ADDED:
        return creation_observed(memory, rs_key, uid)
    return memory


# ------------------------------------------------------------ claiming


@attrs.frozen
class Claim:
    """ClaimPods outcome: the pods this ReplicaSet owns, and the patches to make."""

    pods: tuple[Pod, ...]
    adopt: tuple[str, ...]
    release: tuple[str, ...]


def claim_pods(rs: ReplicaSet, pods: list[Pod]) -> Claim:
    """PodControllerRefManager.ClaimPods over the active pods of the namespace."""
    deleting = rs.meta.deletion_timestamp is not None
    claimed, adopt, release = [], [], []
    for pod in pods:
        ref = pod.meta.controller_ref()
        matches = rs.spec.selector.matches(pod.meta.labels)
        if ref is not None:
            if ref.uid != rs.meta.uid:
                continue
            if matches:
                claimed.append(pod)
            elif not deleting:
                release.append(pod.meta.key)
        elif matches and not deleting and pod.meta.deletion_timestamp is None:
            claimed.append(pod)
            adopt.append(pod.meta.key)
    return Claim(tuple(claimed), tuple(adopt), tuple(release))


# ------------------------------------------------------------ deletion ranking


def _log_rank_diff(t1: int, t2: int, now: int, tick_ns: int) -> int:
    """logarithmicRankDiff: floor(log2(age)) of two ages in nanoseconds."""

    def rank(t: int) -> int:
        d = (now - t) * tick_ns
        return int(math.log2(d)) if d > 0 else -1

    return rank(t1) - rank(t2)


def _newer_first(t1: int | None, t2: int | None, uid1: int, uid2: int, now: int, tick_ns: int) -> int:
    """LogarithmicScaleDown comparison of two times: newer (or unknown) first, then smaller UID."""
    if t1 is None or t2 is None:
        return -1 if t1 is None else 1  # afterOrZero: a zero time counts as newest
    diff = _log_rank_diff(t1, t2, now, tick_ns)
    if diff == 0:
        return -1 if uid1 < uid2 else 1 if uid1 > uid2 else 0
    return -1 if diff < 0 else 1


PHASE_ORDER = {"Pending": 0, UNKNOWN: 1, RUNNING: 2}
"""podPhaseToOrdinal: the phases ActivePodsWithRanks.Less tells apart (any other is 0)"""


def deletion_cost(pod: Pod) -> int:
    """The controller.kubernetes.io/pod-deletion-cost annotation (0 where it is absent or not a number)."""
    try:
        return int(pod.meta.annotations.get(DELETION_COST, "0"))
    except ValueError:
        return 0


def _max_restarts(pod: Pod) -> int:
    return max((c.restart_count for c in pod.status.container_statuses), default=0)


def compare_for_deletion(a: Pod, b: Pod, rank_a: int, rank_b: int, now: int, tick_ns: int) -> int:
    """ActivePodsWithRanks.Less as a comparison: negative means ``a`` is deleted first."""
    keys = [
        (bool(a.spec.node_name), bool(b.spec.node_name)),
        (PHASE_ORDER.get(a.status.phase, 0), PHASE_ORDER.get(b.status.phase, 0)),
        (a.status.ready, b.status.ready),
        (deletion_cost(a), deletion_cost(b)),
        (-rank_a, -rank_b),
    ]
    for x, y in keys:
        if x != y:
            return -1 if x < y else 1
    if a.status.ready and b.status.ready and a.status.ready_transition != b.status.ready_transition:
        return _newer_first(a.status.ready_transition, b.status.ready_transition, a.meta.uid, b.meta.uid, now, tick_ns)
    ra, rb = _max_restarts(a), _max_restarts(b)
    if ra != rb:
        return -1 if ra > rb else 1
    if a.meta.creation_timestamp != b.meta.creation_timestamp:
        return _newer_first(a.meta.creation_timestamp, b.meta.creation_timestamp, a.meta.uid, b.meta.uid, now, tick_ns)
    return 0


def pods_to_delete(pods: tuple[Pod, ...], related: tuple[Pod, ...], diff: int, now: int, tick_ns: int) -> list[Pod]:
    """getPodsToDelete: rank by co-located related pods, sort with Less, take the first ``diff``."""
    if diff >= len(pods):
        return list(pods)
    per_node: dict[str, int] = {}
    for p in related:
        if p.spec.node_name:
            per_node[p.spec.node_name] = per_node.get(p.spec.node_name, 0) + 1
    ranks = {p.meta.key: per_node.get(p.spec.node_name, 0) if p.spec.node_name else 0 for p in pods}

    def cmp(a: Pod, b: Pod) -> int:
        return compare_for_deletion(a, b, ranks[a.meta.key], ranks[b.meta.key], now, tick_ns)

    return sorted(pods, key=functools.cmp_to_key(cmp))[:diff]


# ------------------------------------------------------------ status


def calculate_status(rs: ReplicaSet, pods: tuple[Pod, ...], now: int, failure: str) -> ReplicaSetStatus:
    """calculateStatus over the claimed active pods."""
    template = rs.spec.template.labels
    min_ready = rs.spec.min_ready_seconds
    ready = [p for p in pods if p.status.ready]
    available = [p for p in ready if min_ready == 0 or (p.status.ready_transition is not None and p.status.ready_transition + min_ready < now)]
    return ReplicaSetStatus(
        replicas=len(pods),
        fully_labeled_replicas=sum(1 for p in pods if all(p.meta.labels.get(k) == v for k, v in template.items())),
        ready_replicas=len(ready),
        available_replicas=len(available),
        observed_generation=rs.meta.generation,
        failure=failure,
    )


# ------------------------------------------------------------ sync


@attrs.frozen
class Plan:
    """What one syncReplicaSet would do."""

    writes: tuple[Write, ...]
    status: ReplicaSetStatus
    expectation: Expectation | None


def plan(ctx: Context, s: State, me: str, rs: ReplicaSet) -> Plan:
    """syncReplicaSet from the view: claim, manage (if expectations allow), status."""
    view = s.views[me]
    ns = rs.meta.namespace
    active = [p for p in view.cache.pods.values() if p.meta.namespace == ns and p.is_active()]
    claim = claim_pods(rs, active)
    writes = [Write("adopt", k) for k in claim.adopt] + [Write("release", k) for k in claim.release]
    expectation = None
    if satisfied(ctx, view.memory, rs.meta.key, s.clock) and rs.meta.deletion_timestamp is None:
        diff = len(claim.pods) - rs.spec.replicas
        if diff < 0:
            n = min(-diff, BURST_REPLICAS)
            writes += [Write("create")] * n
            expectation = Expectation(rs.meta.uid, n, (), s.clock)
        elif diff > 0:
            tick_ns = ctx.timing.tick_seconds * 1_000_000_000
            doomed = pods_to_delete(claim.pods, claim.pods, min(diff, BURST_REPLICAS), s.clock, tick_ns)
            writes += [Write("delete", p.meta.key) for p in doomed]
            expectation = Expectation(rs.meta.uid, 0, tuple(sorted(p.meta.key for p in doomed)), s.clock)
    status = calculate_status(rs, claim.pods, s.clock, "")
    if status != rs.status:
        writes.append(Write("status"))
    return Plan(tuple(writes), status, expectation)


def _sync_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each ReplicaSet in the view with no sync in progress whose sync would do something."""
    view = s.views[me]
    for key, rs in view.cache.replicasets.items():
        if key not in view.memory.syncs and plan(ctx, s, me, rs).writes:
            yield (key,)


def _sync(ctx: Context, s: State, me: str, rs: str) -> State:
    """ReplicaSetSync: decide from the view, set expectations, queue the writes."""
    view = s.views[me]
    obj: ReplicaSet = view.cache.replicasets[rs]
    p = plan(ctx, s, me, obj)
    memory: ReplicaSetMemory = view.memory
    if p.expectation is not None:
        memory = replace(memory, expectations=memory.expectations.set(rs, p.expectation))
    memory = replace(memory, syncs=memory.syncs.set(rs, Sync(obj, p.writes, p.status)))
    return replace(s, views=s.views.set(me, replace(view, memory=memory)))


def _write_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each ReplicaSet with a sync in progress."""
    for key in s.views[me].memory.syncs:
        yield (key,)


def _write(ctx: Context, s: State, me: str, rs: str) -> State:
    """ReplicaSetWrite: make the next write of a sync in progress."""
    sync: Sync = s.views[me].memory.syncs[rs]
    write, rest = sync.writes[0], sync.writes[1:]
    s, rest, status = _WRITERS[write.verb](ctx, s, me, sync, write, rest)
    if status != sync.status and Write("status") not in rest:
        rest = (*rest, Write("status"))  # the ReplicaFailure condition must be written
    view = s.views[me]
    syncs = view.memory.syncs
    syncs = syncs.set(rs, replace(sync, writes=rest, status=status)) if rest else syncs.remove(rs)
    return replace(s, views=s.views.set(me, replace(view, memory=replace(view.memory, syncs=syncs))))


WriteOutcome = tuple[State, tuple[Write, ...], ReplicaSetStatus]


def _adopt(ctx: Context, s: State, me: str, sync: Sync, write: Write, rest: tuple[Write, ...]) -> WriteOutcome:
    """Adopt an orphan: CanAdopt rechecks the ReplicaSet live, then patch in a controller ref."""
    live = apiserver.get(s, REPLICASET, sync.rs.meta.key)
    if live is None or live.meta.uid != sync.rs.meta.uid or live.meta.deletion_timestamp is not None:
        return s, (), sync.status  # adoption refused: the sync ends with an error
    pod = apiserver.get(s, POD, write.pod)
    if not isinstance(pod, Pod):
        return s, rest, sync.status  # 404 is ignored
    if pod.meta.controller_ref() is not None:
        return s, (), sync.status  # 422: only one reference can have Controller set to true
    ref = OwnerReference(kind=REPLICASET, name=sync.rs.meta.name, uid=sync.rs.meta.uid)
    patched = replace(pod, meta=replace(pod.meta, owner_references=(*pod.meta.owner_references, ref), resource_version=0))
    return apiserver.update(ctx, s, patched).state, rest, sync.status


def _release(ctx: Context, s: State, me: str, sync: Sync, write: Write, rest: tuple[Write, ...]) -> WriteOutcome:
    """Release a pod that no longer matches: patch away the ref with this ReplicaSet's UID (404 ignored)."""
    result = apiserver.remove_owner_references(ctx, s, POD, write.pod, frozenset({sync.rs.meta.uid}))
    return result.state, rest, sync.status


def pod_from_template(rs: ReplicaSet) -> Pod:
    """GetPodFromTemplate: generateName ``<rs>-``, template labels, a controller ref."""
    ref = OwnerReference(kind=REPLICASET, name=rs.meta.name, uid=rs.meta.uid)
    meta = ObjectMeta(name="", generate_name=f"{rs.meta.name}-", namespace=rs.meta.namespace, labels=rs.spec.template.labels, owner_references=(ref,))
    return Pod(meta=meta, spec=rs.spec.template.spec)


def _create(ctx: Context, s: State, me: str, sync: Sync, write: Write, rest: tuple[Write, ...]) -> WriteOutcome:
    """Create one pod; on failure skip the remaining creations and lower the expectations for them."""
    result = apiserver.create(ctx, s, pod_from_template(sync.rs))
    if result.ok:
        return result.state, rest, sync.status
    skipped = 1 + sum(1 for w in rest if w.verb == "create")
    view = result.state.views[me]
    memory: ReplicaSetMemory = view.memory
    for _ in range(skipped):
        memory = creation_observed(memory, sync.rs.meta.key, sync.rs.meta.uid)
    s = replace(result.state, views=result.state.views.set(me, replace(view, memory=memory)))
    return s, tuple(w for w in rest if w.verb != "create"), replace(sync.status, failure="FailedCreate")


def _delete(ctx: Context, s: State, me: str, sync: Sync, write: Write, rest: tuple[Write, ...]) -> WriteOutcome:
    """Delete one pod; on any error the deletion counts as observed (DeletionObserved)."""
    result = apiserver.delete(ctx, s, POD, write.pod)
    if result.ok:
        return result.state, rest, sync.status
    view = result.state.views[me]
    memory = deletion_observed(view.memory, sync.rs.meta.key, sync.rs.meta.uid, write.pod)
    s = replace(result.state, views=result.state.views.set(me, replace(view, memory=memory)))
    status = sync.status if result.error and result.error.reason == "NotFound" else replace(sync.status, failure="FailedDelete")
    return s, rest, status


def _status(ctx: Context, s: State, me: str, sync: Sync, write: Write, rest: tuple[Write, ...]) -> WriteOutcome:
    """updateReplicaSetStatus: write with the view's resourceVersion; on a conflict GET and retry once."""
    key = sync.rs.meta.key
    result = apiserver.update_status(ctx, s, REPLICASET, key, sync.status, rv=sync.rs.meta.resource_version)
    if result.error is not None and result.error.reason == "Conflict":
        live = apiserver.get(s, REPLICASET, key)
        if live is not None and live.meta.uid == sync.rs.meta.uid:
            result = apiserver.update_status(ctx, s, REPLICASET, key, sync.status, rv=live.meta.resource_version)
    return result.state, rest, sync.status


_WRITERS = {"adopt": _adopt, "release": _release, "create": _create, "delete": _delete, "status": _status}


REPLICASET_CONTROLLER = ComponentType(
    kind=NAME,
    watches=(Watch(REPLICASET), Watch(POD)),
    initial_memory=ReplicaSetMemory,
    on_event=_on_event,
    actions=(
        ActionDef("ReplicaSetSync", ("rs",), _sync_guard, _sync),
        ActionDef("ReplicaSetWrite", ("rs",), _write_guard, _write),
    ),
    source="pkg/controller/replicaset/replica_set.go, pkg/controller/controller_utils.go, pkg/controller/controller_ref_manager.go",
)
