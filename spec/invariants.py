"""The invariant catalogue: the guarantees Kubernetes makes, as predicates on the model.

Each invariant has a name, a kind and a predicate that returns ``None`` when
it holds and a one-line message when it does not:

- ``state``: holds in every reachable state; ``check(ctx, state)``;
- ``transition``: holds for every step; ``check(ctx, before, action, after)``;
- ``quiescent``: holds in every state where no component has work left, no
  watch event is undelivered and no timer can fire (``KubeModel.is_quiescent``);
  ``check(ctx, state)``.

Where a guarantee only holds once a component has seen something (the
Endpoints controller cannot drop a pod whose deletion it has not observed),
the predicate says so in terms of that component's view, and the docstring
says why. Each docstring names the Kubernetes guarantee and where it is made.

Calibration: the default variant holds every invariant in every built-in
scenario, and every invariant is broken by at least one variant
(``spec.variants``; tests/test_calibration.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from spec.component import Action, Context
from spec.controllers.nodelifecycle import NAME as NODE_LIFECYCLE
from spec.controllers.nodelifecycle import full_disruption
from spec.errors import UnknownNameError
from spec.kubeproxy import desired_rules
from spec.objects import NO_EXECUTE, REPLICASET, RUNNING, TAINT_NOT_READY, TAINT_UNREACHABLE, Pod, Resources
from spec.scheduler import node_usage
from spec.state import State

STATE, TRANSITION, QUIESCENT = "state", "transition", "quiescent"
KINDS = (STATE, TRANSITION, QUIESCENT)


@attrs.frozen
class Invariant:
    """A named property of the model."""

    name: str
    """the invariant's name"""
    kind: str
    """state, transition or quiescent"""
    summary: str
    """the property, in one line"""
    guarantee: str
    """the Kubernetes guarantee it stands for and where it is made"""
    check: Callable[..., str | None]
    """the predicate: None if it holds, else what is wrong"""


@attrs.frozen
class Violation:
    """An invariant that does not hold, and why."""

    invariant: str
    """the invariant's name"""
    message: str
    """what is wrong, in one line"""


# ------------------------------------------------------------ helpers


def _pods_by_uid(s: State) -> dict[int, Pod]:
    return {p.meta.uid: p for p in s.api.objects.pods.values()}


def _running_sandboxes(s: State) -> Iterable[tuple[str, Any]]:
    """(machine, sandbox) for every sandbox with a running container, machines in name order."""
    for name, machine in s.machines.items():
        for sandbox in machine.sandboxes.values():
            if sandbox.running():
                yield name, sandbox


def _owned_active(s: State, rs: Any) -> list[Pod]:
    """Active pods in the store whose controller reference is this ReplicaSet (by UID)."""
    out = []
    for pod in s.api.objects.pods.values():
        ref = pod.meta.controller_ref()
        if ref is not None and ref.kind == REPLICASET and ref.uid == rs.meta.uid and pod.is_active():
            out.append(pod)
    return out


def _exceeds(used: Resources, alloc: Resources) -> str:
    """Which resource ``used`` exceeds in ``alloc`` ("" if none)."""
    for name in ("pods", "cpu", "memory"):
        if getattr(used, name) > getattr(alloc, name):
            return f"{name} {getattr(used, name)} > allocatable {getattr(alloc, name)}"
    return ""


# ------------------------------------------------------------ pods and nodes


def pod_bound_once(ctx: Context, before: State, action: Action, after: State) -> str | None:
    """Once a pod has a nodeName it never changes.

    The binding subresource refuses a pod that is already assigned
    (pkg/registry/core/pod/storage/storage.go assignPod) and spec.nodeName is
    immutable on update (pkg/apis/core/validation ValidatePodUpdate).
    """
    for key, pod in after.api.objects.pods.items():
        old = before.api.objects.pods.get(key)
        if old is not None and old.meta.uid == pod.meta.uid and old.spec.node_name and old.spec.node_name != pod.spec.node_name:
            return f"pod {key} moved from {old.spec.node_name} to {pod.spec.node_name or '(none)'}"
    return None


def pod_runs_once(ctx: Context, s: State) -> str | None:
    """The containers of one pod UID run on at most one node, and only on the pod's nodeName.

    A pod is bound to one node for its life (docs: Pod Lifecycle, "Pods are
    only scheduled once in their lifetime"); only that node's kubelet runs it
    (pkg/kubelet/config/apiserver.go watches pods with spec.nodeName=<node>).
    """
    pods = _pods_by_uid(s)
    where: dict[int, str] = {}
    for machine, sandbox in _running_sandboxes(s):
        if sandbox.uid in where:
            return f"pod {sandbox.pod} (uid {sandbox.uid}) runs on {where[sandbox.uid]} and {machine}"
        where[sandbox.uid] = machine
        pod = pods.get(sandbox.uid)
        if pod is not None and pod.spec.node_name != machine:
            return f"pod {sandbox.pod} (uid {sandbox.uid}) runs on {machine} but is bound to {pod.spec.node_name or '(none)'}"
    return None


def identity_runs_once(ctx: Context, s: State) -> str | None:
    """At most one running pod per namespace/name across the cluster.

    Graceful deletion keeps the name taken until the kubelet confirms the
    containers stopped (pkg/kubelet/status/status_manager.go canBeDeleted),
    which is what StatefulSets' at-most-one semantics rest on (docs: StatefulSet,
    "Force deletion"). Scenarios that allow force deletion can break it on
    purpose; none of the built-in ones does.
    """
    seen: dict[str, tuple[int, str]] = {}
    for machine, sandbox in _running_sandboxes(s):
        other = seen.get(sandbox.pod)
        if other is not None:
            return f"pod {sandbox.pod} runs twice: uid {other[0]} on {other[1]} and uid {sandbox.uid} on {machine}"
        seen[sandbox.pod] = (sandbox.uid, machine)
    return None


def phase_monotone(ctx: Context, before: State, action: Action, after: State) -> str | None:
    """Succeeded and Failed are final, and a Running pod is bound.

    docs: Pod Lifecycle ("a Pod is never rescheduled"; terminal phases);
    pkg/kubelet/status/status_manager.go never moves a terminal phase back.
    """
    for key, pod in after.api.objects.pods.items():
        old = before.api.objects.pods.get(key)
        if old is not None and old.meta.uid == pod.meta.uid and old.is_terminal() and pod.status.phase != old.status.phase:
            return f"pod {key} went from {old.status.phase} to {pod.status.phase}"
        if pod.status.phase == RUNNING and not pod.spec.node_name:
            return f"pod {key} is Running but not bound to a node"
    return None


def unique_pod_ip(ctx: Context, s: State) -> str | None:
    """No two pod sandboxes hold the same IP.

    The pod network gives every pod its own IP (docs: Cluster Networking,
    "every Pod in a cluster gets its own unique cluster-wide IP address"); a
    sandbox keeps its address until its network is torn down.
    """
    holders: dict[str, str] = {}
    for machine in s.machines.values():
        for sandbox in machine.sandboxes.values():
            if not sandbox.ip:
                continue
            if sandbox.ip in holders:
                return f"IP {sandbox.ip} is held by {holders[sandbox.ip]} and {sandbox.pod} (uid {sandbox.uid})"
            holders[sandbox.ip] = f"{sandbox.pod} (uid {sandbox.uid})"
    return None


def unique_cluster_ip(ctx: Context, s: State) -> str | None:
    """No two Services share a ClusterIP.

    pkg/registry/core/service/ipallocator allocates each address once; the
    repair loop (ipallocator/controller/repair.go) reports an address
    "assigned to multiple services" as corruption.
    """
    owners: dict[str, str] = {}
    for key, svc in s.api.objects.services.items():
        ip = svc.spec.cluster_ip
        if not ip or ip == "None":
            continue
        if ip in owners:
            return f"ClusterIP {ip} is allocated to {owners[ip]} and {key}"
        owners[ip] = key
    return None


# ------------------------------------------------------------ ReplicaSets


def rs_no_overshoot(ctx: Context, before: State, action: Action, after: State) -> str | None:
    """The ReplicaSet controller never creates a pod while the store already holds spec.replicas active pods it owns.

    spec.replicas is the value the sync decided from (the ReplicaSet in the
    controller's view when the sync began), not the store's current one: a
    user who scales down while a sync is creating makes the store's value
    smaller than the one the decision was rightly made from, and the
    controller deletes the surplus once it sees the new value. That transient
    is legitimate; creating beyond the value it acted on is not. Expectations
    (pkg/controller/controller_utils.go ControllerExpectations) are what keep
    a sync from acting on a cache that has not yet seen its own creations.
    """
    if action.name != "ReplicaSetWrite":
        return None
    created = [p for k, p in after.api.objects.pods.items() if k not in before.api.objects.pods]
    sync = before.views[action.component].memory.syncs.get(str(action.param("rs")))
    for pod in created:
        ref = pod.meta.controller_ref()
        if sync is None or ref is None or ref.kind != REPLICASET or ref.uid != sync.rs.meta.uid:
            continue
        active = len(_owned_active(before, sync.rs))
        if active >= sync.rs.spec.replicas:
            rs = sync.rs
            return f"created {pod.meta.key} while the store held {active} active pods of ReplicaSet {rs.meta.key} (replicas {rs.spec.replicas})"
    return None


def rs_converges(ctx: Context, s: State) -> str | None:
    """At quiescence every ReplicaSet owns spec.replicas active pods, and status.replicas says so.

    pkg/controller/replicaset/replica_set.go syncReplicaSet / manageReplicas
    and replica_set_utils.go calculateStatus (docs: ReplicaSet).
    """
    for key, rs in s.api.objects.replicasets.items():
        if rs.meta.deletion_timestamp is not None:
            continue
        active = len(_owned_active(s, rs))
        if active != rs.spec.replicas:
            return f"ReplicaSet {key} owns {active} active pods, spec.replicas is {rs.spec.replicas}"
        if rs.status.replicas != active:
            return f"ReplicaSet {key} status.replicas is {rs.status.replicas}, it owns {active} active pods"
    return None


# ------------------------------------------------------------ scheduling and capacity


def scheduler_fit(ctx: Context, before: State, action: Action, after: State) -> str | None:
    """The scheduler never binds a pod to a node whose scheduled, non-terminal pods then request more than allocatable.

    NodeResourcesFit (pkg/scheduler/framework/plugins/noderesources/fit.go)
    with the scheduler cache's assumed pods (pkg/scheduler/internal/cache).
    Pods that came with a nodeName (no PodScheduled condition) are the
    kubelet's to admit or reject, so they do not count.
    """
    if action.name != "SchedulerBind":
        return None
    key = str(action.param("pod"))
    pod, old = after.api.objects.pods.get(key), before.api.objects.pods.get(key)
    if pod is None or old is None or pod.spec.node_name == old.spec.node_name or not pod.spec.node_name:
        return None
    node_name = pod.spec.node_name
    node = after.api.objects.nodes.get(node_name)
    on_node = [p for p in after.api.objects.pods.values() if p.spec.node_name == node_name and p.status.scheduled and not p.is_terminal()]
    used = sum((p.spec.requests() for p in on_node), Resources())
    over = _exceeds(used, node.status.allocatable) if node is not None else ""
    return f"bound {key} to {node_name}: scheduled pods there need {over}" if over else None


def node_capacity(ctx: Context, s: State) -> str | None:
    """What a kubelet runs never needs more than its node's allocatable.

    Kubelet admission (pkg/kubelet/lifecycle/predicate.go, noderesources.Fits)
    rejects a pod that does not fit with OutOfcpu / OutOfmemory / OutOfpods.
    """
    pods = _pods_by_uid(s)
    for name, machine in s.machines.items():
        node = s.api.objects.nodes.get(name)
        if node is None:
            continue
        used = Resources()
        for sandbox in machine.sandboxes.values():
            pod = pods.get(sandbox.uid)
            if sandbox.running() and pod is not None:
                used = used + pod.spec.requests()
        over = _exceeds(used, node.status.allocatable)
        if over:
            return f"node {name} runs pods that need {over}"
    return None


def scheduler_cache_accurate(ctx: Context, s: State) -> str | None:
    """At quiescence each scheduler's idea of a node's requested resources is the sum over live pods bound there.

    pkg/scheduler/internal/cache/cache.go (AddPod/RemovePod, and the cache
    debugger's comparer, pkg/scheduler/internal/cache/debugger/comparer.go).
    """
    truth: dict[str, Resources] = {}
    for pod in s.api.objects.pods.values():
        if pod.spec.node_name and not pod.is_terminal():
            truth[pod.spec.node_name] = truth.get(pod.spec.node_name, Resources()) + pod.spec.requests()
    for instance, ctype in ctx.components:
        if ctype.kind != "scheduler":
            continue
        view = s.views[instance]
        usage = node_usage(view.cache.pods, view.memory)
        for node in sorted(set(truth) | set(usage)):
            thinks = sum(usage.get(node, []), Resources())
            real = truth.get(node, Resources())
            if thinks != real:
                return f"{instance} counts {thinks.cpu}m cpu / {thinks.pods} pods on {node}, live pods there need {real.cpu}m / {real.pods}"
    return None


# ------------------------------------------------------------ Services


def _expected_addresses(s: State, svc: Any) -> tuple[list[str], list[str]]:
    ready: list[str] = []
    not_ready: list[str] = []
    for pod in s.api.objects.pods.values():
        if pod.meta.namespace != svc.meta.namespace or not pod.status.pod_ip or not pod.is_active():
            continue
        if all(pod.meta.labels.get(k) == v for k, v in svc.spec.selector.items()):
            (ready if pod.status.ready or svc.spec.publish_not_ready_addresses else not_ready).append(pod.status.pod_ip)
    return sorted(ready), sorted(not_ready)


def endpoints_converge(ctx: Context, s: State) -> str | None:
    """At quiescence each Service's Endpoints list exactly its ready pods as ready, the others as not ready.

    pkg/controller/endpoint/endpoints_controller.go syncService with
    ShouldPodBeInEndpoints (pods of the namespace matching the selector, with
    an IP, not terminating) and podutil.IsPodReady.
    """
    for key, svc in s.api.objects.services.items():
        if svc.spec.selector is None:
            continue
        ready, not_ready = _expected_addresses(s, svc)
        eps = s.api.objects.endpoints.get(key)
        have = (sorted(a.ip for a in eps.addresses), sorted(a.ip for a in eps.not_ready_addresses)) if eps is not None else ([], [])
        if eps is None:
            return f"Service {key} has no Endpoints"
        if have != (ready, not_ready):
            return f"Endpoints {key} list ready {have[0]} / not ready {have[1]}; the pods say {ready} / {not_ready}"
    return None


def endpoints_never_terminating(ctx: Context, before: State, action: Action, after: State) -> str | None:
    """The Endpoints controller never writes a ready address of a pod it has seen terminating or finished.

    ShouldPodBeInEndpoints (pkg/controller/util/endpointslice/controller_utils.go
    in v1.28, used by the Endpoints controller) excludes pods with a
    deletionTimestamp (unless publishNotReadyAddresses) and terminal pods. A
    pod whose deletion the controller has not yet observed may still be
    listed; that lag is inherent to any watch-based controller.
    """
    if action.name != "EndpointsSync":
        return None
    key = str(action.param("service"))
    eps = after.api.objects.endpoints.get(key)
    svc = before.views[action.component].cache.services.get(key)
    if eps is None or eps == before.api.objects.endpoints.get(key) or svc is None or svc.spec.publish_not_ready_addresses:
        return None
    cache = before.views[action.component].cache
    for addr in eps.addresses:
        pod = cache.pods.get(addr.pod)
        if pod is not None and pod.meta.uid == addr.uid and (pod.meta.deletion_timestamp is not None or pod.is_terminal()):
            seen = "finished" if pod.is_terminal() else "terminating"
            return f"Endpoints {key} list {addr.ip} ({addr.pod}) as ready though the controller saw it {seen}"
    return None


def proxy_converges(ctx: Context, s: State) -> str | None:
    """At quiescence every reachable node's kube-proxy rules are exactly what the Services and Endpoints call for.

    pkg/proxy/iptables/proxier.go syncProxyRules (a full resync writes every
    chain and deletes stale ones). A partitioned node keeps its old rules by
    design, so only reachable nodes count.
    """
    want = desired_rules(s.api.objects)
    for name, machine in s.machines.items():
        if machine.reachable and machine.proxy_rules != want:
            extra = sorted(set(machine.proxy_rules) - set(want))
            missing = sorted(set(want) - set(machine.proxy_rules))
            return f"kube-proxy rules on {name} differ from the Endpoints (stale {extra}, missing {missing}, or other backends)"
    return None


# ------------------------------------------------------------ node lifecycle


def no_eviction_storm(ctx: Context, before: State, action: Action, after: State) -> str | None:
    """No NoExecute taint (the trigger of taint-based eviction) is added while every node is unhealthy at once.

    handleDisruption in pkg/controller/nodelifecycle/node_lifecycle_controller.go:
    in full disruption (every node not Ready) the eviction rate limiter drops
    to zero and NoExecute taints are removed, so that a control plane cut off
    from all nodes does not evict every pod. "At once" is what both the store
    and the controller's own view show: before the controller has seen the
    last node fail it cannot know.
    """
    if action.name != "NodeLifecycleTaint" or not full_disruption(before.api.objects.nodes):
        return None
    if not full_disruption(before.views[NODE_LIFECYCLE].cache.nodes):
        return None
    name = str(action.param("node"))
    managed = (TAINT_UNREACHABLE, TAINT_NOT_READY)

    def no_execute(s: State) -> set[str]:
        node = s.api.objects.nodes.get(name)
        return {t.key for t in node.spec.taints if t.effect == NO_EXECUTE and t.key in managed} if node is not None else set()

    added = sorted(no_execute(after) - no_execute(before))
    return f"tainted {name} {added[0]}:NoExecute while every node is unhealthy" if added else None


# ------------------------------------------------------------ the catalogue


def _inv(name: str, kind: str, summary: str, check: Callable[..., str | None]) -> Invariant:
    return Invariant(name, kind, summary, (check.__doc__ or "").strip(), check)


INVARIANTS: dict[str, Invariant] = {
    i.name: i
    for i in (
        _inv("pod-bound-once", TRANSITION, "a pod's nodeName never changes once set", pod_bound_once),
        _inv("pod-runs-once", STATE, "a pod UID runs on at most one node, and only on its nodeName", pod_runs_once),
        _inv("identity-runs-once", STATE, "at most one running pod per namespace/name", identity_runs_once),
        _inv("rs-no-overshoot", TRANSITION, "no pod is created while the ReplicaSet already owns spec.replicas active pods", rs_no_overshoot),
        _inv("rs-converges", QUIESCENT, "active owned pods == spec.replicas == status.replicas", rs_converges),
        _inv("scheduler-fit", TRANSITION, "the scheduler never binds beyond a node's allocatable", scheduler_fit),
        _inv("node-capacity", STATE, "what a kubelet runs fits its node's allocatable", node_capacity),
        _inv("scheduler-cache-accurate", QUIESCENT, "the scheduler's node usage equals the live pods bound there", scheduler_cache_accurate),
        _inv("endpoints-converge", QUIESCENT, "Endpoints list exactly the ready (and not-ready) pods", endpoints_converge),
        _inv("endpoints-never-terminating", TRANSITION, "no ready address of a pod the controller saw terminating", endpoints_never_terminating),
        _inv("proxy-converges", QUIESCENT, "every reachable kube-proxy's rules equal the Endpoints", proxy_converges),
        _inv("phase-monotone", TRANSITION, "Succeeded and Failed are final; Running implies bound", phase_monotone),
        _inv("unique-pod-ip", STATE, "no two pod sandboxes share an IP", unique_pod_ip),
        _inv("unique-cluster-ip", STATE, "no two Services share a ClusterIP", unique_cluster_ip),
        _inv("no-eviction-storm", TRANSITION, "no NoExecute taint while every node is unhealthy", no_eviction_storm),
    )
}


def get_invariant(name: str, catalogue: Mapping[str, Invariant] = INVARIANTS, where: str = "") -> Invariant:
    """The invariant called ``name`` in ``catalogue`` (exit-2 error with close matches otherwise)."""
    if name not in catalogue:
        raise UnknownNameError("invariant", name, catalogue, where=where)
    return catalogue[name]


class Monitor:
    """Checks a selection of invariants along a run, step by step."""

    def __init__(
        self, ctx: Context, quiescent: Callable[[State], bool], names: Sequence[str] | None = None, catalogue: Mapping[str, Invariant] | None = None
    ) -> None:
        """Check ``names`` (every invariant if empty) of ``catalogue`` (the built-in ones, or those plus a model file's)."""
        known = INVARIANTS if catalogue is None else catalogue
        chosen = [get_invariant(n, known) for n in names] if names else list(known.values())
        self.ctx = ctx
        self.quiescent = quiescent
        self.catalogue = known
        self.state_checks = [i for i in chosen if i.kind == STATE]
        self.transition_checks = [i for i in chosen if i.kind == TRANSITION]
        self.quiescent_checks = [i for i in chosen if i.kind == QUIESCENT]
        self.names = tuple(i.name for i in chosen)

    def check_state(self, s: State, quiescent: bool | None = None) -> list[Violation]:
        """The state and (if ``s`` is quiescent) quiescent invariants ``s`` breaks.

        ``quiescent`` says whether ``s`` is quiescent when the caller already
        knows (None: ask the model).
        """
        out = [Violation(i.name, m) for i in self.state_checks if (m := i.check(self.ctx, s)) is not None]
        if self.quiescent_checks and (self.quiescent(s) if quiescent is None else quiescent):
            out += [Violation(i.name, m) for i in self.quiescent_checks if (m := i.check(self.ctx, s)) is not None]
        return out

    def check_transition(self, before: State, action: Action, after: State) -> list[Violation]:
        """The transition invariants the step ``before -action-> after`` breaks."""
        return [Violation(i.name, m) for i in self.transition_checks if (m := i.check(self.ctx, before, action, after)) is not None]

    def check_step(self, before: State, action: Action, after: State) -> list[Violation]:
        """Every selected invariant the step ``before -action-> after`` breaks (transition ones first)."""
        return self.check_transition(before, action, after) + self.check_state(after)
