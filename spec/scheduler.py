"""kube-scheduler: one scheduling cycle per step, then an asynchronous bind.

Follows k8s@v1.28 pkg/scheduler: schedule_one.go (serial cycles, assume
before bind, forget on bind failure), eventhandlers.go (terminal pods are
invisible: the pod informer selects ``status.phase!=Succeeded,!=Failed``;
an assumed pod is confirmed when the informer delivers it bound),
framework/plugins (NodeUnschedulable, TaintToleration, NodeAffinity via
nodeSelector, NodeResourcesFit, NodeResourcesLeastAllocated) and
framework/plugins/defaultbinder (a Binding with the pod's UID).

The cycle takes a pod from the scheduler's own view: unscheduled, not being
deleted, not already assumed. Its node usage counts every non-terminal pod
bound in its view plus the pods it assumed and has not yet seen bound. When
several nodes share the best score, the choice is the action's ``node``
parameter, so every tie is explored (the real selectHost picks at random).

Simplifications: scoring is LeastAllocated only (TaintToleration and
BalancedAllocation scores are not modelled); no preemption; the scheduling
queue's back-off is not modelled (a pod is retried whenever its cycle would
change something).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from spec import apiserver
from spec.component import ActionDef, ComponentType, Context, Event, Param, Watch
from spec.frozen import EMPTY, FrozenMap, replace
from spec.informer import DELETED
from spec.labels import set_matches
from spec.objects import (
    NO_EXECUTE,
    NO_SCHEDULE,
    NODE,
    POD,
    TAINT_UNSCHEDULABLE,
    Node,
    Pod,
    Resources,
    Taint,
)
from spec.state import State, WatchEvent

NAME = "scheduler"
NO_ASSUME = "scheduler-no-assume"
MISSED_DELETE = "scheduler-missed-delete"
TWO_SCHEDULERS = "two-schedulers"
MAX_NODE_SCORE = 100
TOO_MANY_PODS, INSUFFICIENT_CPU, INSUFFICIENT_MEMORY = "Too many pods", "Insufficient cpu", "Insufficient memory"
FIT_REASONS = (TOO_MANY_PODS, INSUFFICIENT_CPU, INSUFFICIENT_MEMORY)
"""NodeResourcesFit's reasons, the ones that depend on what the node already holds"""
DEFAULT_CPU_REQUEST = 100  # millicores, pkg/scheduler/util/pod_resources.go (scoring only)
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


@attrs.frozen(cache_hash=True)
class Assumed:
    """A pod the scheduler assumed on a node (Cache.AssumePod)."""

    uid: int
    """the pod's UID"""
    node: str
    """the node it was assumed on"""
    requests: Resources
    """the pod's requests, counted on that node"""
    binding: bool = True
    """the Binding has not been sent yet"""


@attrs.frozen(cache_hash=True)
class SchedulerMemory:
    """The scheduler cache's in-memory part: assumed pods."""

    assumed: FrozenMap[str, Assumed] = EMPTY
    """assumed pods by namespace/name, until the informer confirms or deletes them"""


def _loses(ctx: Context, ev: WatchEvent) -> bool:
    """Variant ``scheduler-missed-delete``: the DELETED event of a pod never reaches the scheduler cache."""
    return ctx.flag(MISSED_DELETE) and (ev.new is None or not _selects_pod("", ev.new))


def _selects_pod(_node: str, pod: Any) -> bool:
    """The field selector status.phase!=Succeeded,status.phase!=Failed (scheduler.go)."""
    return not pod.is_terminal()


def _on_event(ctx: Context, memory: SchedulerMemory, ev: Event) -> SchedulerMemory:
    """A bound pod arriving confirms its assumption; a deleted pod is forgotten."""
    if ev.kind != POD:
        return memory
    pod, new = ev.obj, ev.new
    entry = memory.assumed.get(pod.meta.key)
    if entry is None:
        return memory
    if ev.type == DELETED or (new.spec.node_name and not entry.binding) or new.meta.uid != entry.uid:
        return replace(memory, assumed=memory.assumed.remove(pod.meta.key))
    return memory


def responsible(ctx: Context, pod: Pod) -> bool:
    """The pod names this scheduler (responsibleForPod)."""
    return pod.spec.scheduler_name == "default-scheduler"


def node_usage(view_pods: FrozenMap[str, Pod], memory: SchedulerMemory, assume: bool = True) -> dict[str, list[Resources]]:
    """Per node, the requests of the pods the scheduler cache holds there (bound or assumed).

    ``assume=False`` is the variant ``scheduler-no-assume``: only pods the
    informer has delivered bound count.
    """
    usage: dict[str, list[Resources]] = {}
    for key, pod in view_pods.items():
        entry = memory.assumed.get(key)
        if pod.spec.node_name and (entry is None or not entry.binding):
            usage.setdefault(pod.spec.node_name, []).append(pod.spec.requests())
    if not assume:
        return usage
    for key, entry in memory.assumed.items():
        pod = view_pods.get(key)
        if pod is None or not pod.spec.node_name or entry.binding:
            usage.setdefault(entry.node, []).append(entry.requests)
    return usage


def untolerated(pod: Pod, taint: Taint) -> bool:
    """TaintToleration: a NoSchedule or NoExecute taint none of the pod's tolerations tolerates."""
    return taint.effect in (NO_SCHEDULE, NO_EXECUTE) and not any(t.tolerates(taint) for t in pod.spec.tolerations)


def taint_reason(taint: Taint) -> str:
    """TaintToleration's failure reason, naming the first untolerated taint."""
    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"


def filter_reasons(pod: Pod, node: Node, used: list[Resources]) -> list[str]:
    """The Filter plugins' failure reasons for one node (empty if the pod fits)."""
    reasons = []
    unschedulable = Taint(key=TAINT_UNSCHEDULABLE, effect=NO_SCHEDULE)
    if node.spec.unschedulable and not any(t.tolerates(unschedulable) for t in pod.spec.tolerations):
        reasons.append("node(s) were unschedulable")
    for taint in node.spec.taints:
        if untolerated(pod, taint):
            reasons.append(taint_reason(taint))
            break
    if not set_matches(pod.spec.node_selector, node.meta.labels):
        reasons.append("node(s) didn't match Pod's node affinity/selector")
    reasons.extend(_fit_reasons(pod.spec.requests(), node.status.allocatable, used))
    return reasons


def _fit_reasons(req: Resources, alloc: Resources, used: list[Resources]) -> list[str]:
    """NodeResourcesFit fitsRequest: pod count, then cpu and memory."""
    total = sum(used, Resources())
    reasons = []
    if len(used) + 1 > alloc.pods:
        reasons.append(TOO_MANY_PODS)
    if req.cpu > 0 and req.cpu > alloc.cpu - total.cpu:
        reasons.append(INSUFFICIENT_CPU)
    if req.memory > 0 and req.memory > alloc.memory - total.memory:
        reasons.append(INSUFFICIENT_MEMORY)
    return reasons


def _nonzero(r: Resources) -> tuple[int, int]:
    return (r.cpu or DEFAULT_CPU_REQUEST, r.memory or DEFAULT_MEMORY_REQUEST)


def least_allocated_score(pod: Pod, node: Node, used: list[Resources]) -> int:
    """NodeResourcesFit LeastAllocated: mean over cpu and memory of free share x 100 (integer)."""
    cpu, mem = _nonzero(pod.spec.requests())
    for r in used:
        c, m = _nonzero(r)
        cpu, mem = cpu + c, mem + m
    alloc = node.status.allocatable
    scores = [((cap - req) * MAX_NODE_SCORE) // cap if cap and req <= cap else 0 for req, cap in ((cpu, alloc.cpu), (mem, alloc.memory))]
    return sum(scores) // len(scores)


NO_NODES = "no nodes available to schedule pods"
"""the scheduler's error where the cluster has no nodes (schedule_one.go ErrNoNodesAvailable)"""


def fit_error(n_nodes: int, per_node: list[list[str]]) -> str:
    """FitError.Error(): ``0/N nodes are available: <count> <reason>, ...``."""
    counts: dict[str, int] = {}
    for reasons in per_node:
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
    parts = sorted(f"{c} {r}" for r, c in counts.items())
    return f"0/{n_nodes} nodes are available: {', '.join(parts)}."


def placements(ctx: Context, s: State, me: str, pod: Pod) -> tuple[list[str], str]:
    """The best-scoring feasible nodes for ``pod`` (all ties), or none and the FitError."""
    view = s.views[me]
    nodes: FrozenMap[str, Node] = view.cache.nodes
    usage = node_usage(view.cache.pods, view.memory, assume=not ctx.flag(NO_ASSUME))
    feasible: list[tuple[int, str]] = []
    failures = []
    for name, node in nodes.items():
        used = usage.get(name, [])
        reasons = filter_reasons(pod, node, used)
        if reasons:
            failures.append(reasons)
        else:
            feasible.append((least_allocated_score(pod, node, used), name))
    if not nodes:
        return [], NO_NODES
    if not feasible:
        return [], fit_error(len(nodes), failures)
    best = max(score for score, _ in feasible)
    return [name for score, name in feasible if score == best], ""


def stranded(ctx: Context, s: State) -> list[str]:
    """Pending pods that a node could take by the API server's own state (the good states of ``binds``).

    A pod is pending when it is unbound, not being deleted, not terminal and
    named for a scheduler the cluster runs. A node could take it when the
    Filter plugins pass with the node usage of the live non-terminal pods
    bound there: what the scheduler's cache should hold once its informer
    has caught up and every binding has landed. Kubernetes's liveness
    guarantee is that such a pod does not stay pending (schedule_one.go
    retries unschedulable pods when the cluster changes).
    """
    nodes = s.api.objects.nodes
    live = FrozenMap((key, pod) for key, pod in s.api.objects.pods.items() if not pod.is_terminal())
    usage = node_usage(live, SchedulerMemory(), assume=False)
    out = []
    for key, pod in s.api.objects.pods.items():
        if pod.spec.node_name or not pod.is_active() or not responsible(ctx, pod):
            continue
        if any(not filter_reasons(pod, node, usage.get(name, [])) for name, node in nodes.items()):
            out.append(key)
    return out


def queue(ctx: Context, s: State, me: str) -> Iterator[Pod]:
    """Unscheduled pods in the view that this scheduler would take (skipPodSchedule excluded)."""
    view = s.views[me]
    for key, pod in view.cache.pods.items():
        if pod.spec.node_name or pod.meta.deletion_timestamp is not None:
            continue
        if key in view.memory.assumed or not responsible(ctx, pod):
            continue
        yield pod


def _schedule_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each queued pod with each best node, or with "" when no node fits and the FitError is news."""
    for pod in queue(ctx, s, me):
        nodes, error = placements(ctx, s, me, pod)
        for node in nodes:
            yield (pod.meta.key, node)
        if not nodes and pod.status.unschedulable != error:
            yield (pod.meta.key, "")


def _schedule(ctx: Context, s: State, me: str, pod: str, node: str) -> State:
    """SchedulerSchedule: one scheduling cycle; assume the pod on ``node`` (or record the FitError)."""
    view = s.views[me]
    p: Pod = view.cache.pods[pod]
    if not node:
        _, error = placements(ctx, s, me, p)
        status = replace(p.status, unschedulable=error)
        return apiserver.update_status(ctx, s, POD, pod, status).state
    entry = Assumed(uid=p.meta.uid, node=node, requests=p.spec.requests())
    memory = replace(view.memory, assumed=view.memory.assumed.set(pod, entry))
    return replace(s, views=s.views.set(me, replace(view, memory=memory)))


def _bind_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each assumed pod whose Binding has not been sent."""
    for key, entry in s.views[me].memory.assumed.items():
        if entry.binding:
            yield (key,)


def _bind(ctx: Context, s: State, me: str, pod: str) -> State:
    """SchedulerBind: POST the Binding; on success await confirmation, on failure ForgetPod."""
    view = s.views[me]
    entry = view.memory.assumed[pod]
    result = apiserver.bind(ctx, s, pod, entry.node, entry.uid)
    assumed = view.memory.assumed
    keep = result.ok and not ctx.flag(NO_ASSUME)
    assumed = assumed.set(pod, replace(entry, binding=False)) if keep else assumed.remove(pod)
    view = replace(view, memory=replace(view.memory, assumed=assumed))
    return replace(result.state, views=result.state.views.set(me, view))


SCHEDULER = ComponentType(
    kind=NAME,
    watches=(Watch(POD, _selects_pod, loses=_loses), Watch(NODE)),
    initial_memory=SchedulerMemory,
    on_event=_on_event,
    actions=(
        ActionDef("SchedulerSchedule", ("pod", "node"), _schedule_guard, _schedule),
        ActionDef("SchedulerBind", ("pod",), _bind_guard, _bind),
    ),
    source="pkg/scheduler/schedule_one.go, pkg/scheduler/eventhandlers.go, pkg/scheduler/framework/plugins",
    twin_flag=TWO_SCHEDULERS,
)
