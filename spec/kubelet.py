"""The kubelet: admits, starts, probes, reports and stops the pods bound to its node.

Follows k8s@v1.28:
- admission, pkg/kubelet/lifecycle/predicate.go and kubelet.go
  HandlePodAdditions/rejectPod: pods are admitted one at a time in creation
  order against the active admitted pods; a pod that does not fit is
  rejected with phase Failed and reason ``OutOfcpu``/``OutOfmemory``/
  ``OutOfpods`` (or the failed predicate's name);
- image pulls, pkg/kubelet/images/image_manager.go: ``Always`` pulls,
  ``IfNotPresent`` pulls when the node lacks the image, ``Never`` with the
  image absent fails with ``ErrImageNeverPull``; a missing image fails with
  ``ErrImagePull``; the API server defaults ``:latest`` or untagged to Always;
- restarts, pkg/kubelet/container/helpers.go ShouldContainerBeRestarted and
  the back-off of kubelet.go (initial, doubling to the maximum, reset after
  twice the maximum), in ticks;
- probes, pkg/kubelet/prober: readiness starts at Failure and follows the
  application's health; a liveness failure kills the container, which then
  restarts per restartPolicy; no liveness kills while the pod is deleted;
- pod phase, kubelet_pods.go getPhase (section 7.1 of the notes), terminal
  phases sticky; Ready = every container ready;
- termination, kuberuntime_container.go killContainer: preStop first, then
  the containers stop (exit 0 within the grace period, 137 after it) and the
  sandbox's network is torn down (status.podIP keeps the last address); the
  status manager reports the terminal phase and then sends the final DELETE
  with grace 0 and the pod's UID (status/status_manager.go canBeDeleted);
- HandlePodCleanups: sandboxes of pods the API no longer has are killed;
- node heartbeats: the Lease in kube-node-lease is renewed every
  ``lease_renew_interval`` (pkg/kubelet/nodelease), and Ready=True is posted
  when the Node's Ready condition is not True.

Every API write needs the machine reachable; a partitioned kubelet keeps
running what it has. Simplifications: probe thresholds and periods are
folded into one probe step; no init containers; the status manager writes
the whole status (a patch, with the UID as precondition).
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from spec import apiserver
from spec.component import (
    ActionDef,
    ComponentType,
    Context,
    Event,
    Param,
    Watch,
    node_of,
)
from spec.frozen import EMPTY, FrozenMap, replace
from spec.informer import DELETED
from spec.labels import set_matches
from spec.objects import (
    FAILED,
    LEASE,
    NO_EXECUTE,
    NODE,
    NODE_LEASE_NAMESPACE,
    PENDING,
    POD,
    RUNNING,
    SUCCEEDED,
    TERMINAL_PHASES,
    Container,
    ContainerStatus,
    Lease,
    Node,
    ObjectMeta,
    Pod,
    PodStatus,
    Resources,
)
from spec.runtime import Machine, RuntimeContainer, Sandbox
from spec.state import State

NAME = "kubelet"
NO_ADMISSION = "kubelet-no-admission"
PHASE_REGRESS = "kubelet-phase-regress"
IP_BY_RUNNING = "kubelet-ip-by-running"
STALE_RELIST = "kubelet-stale-relist"
SIGKILL_EXIT = 137


@attrs.frozen(cache_hash=True)
class KubeletMemory:
    """The kubelet's in-memory state (lost when it restarts)."""

    admitted: tuple[int, ...] = ()
    """UIDs of admitted pods, sorted"""
    rejected: FrozenMap[int, tuple[str, str]] = EMPTY
    """UIDs of rejected pods with (reason, message)"""
    written: FrozenMap[str, PodStatus] = EMPTY
    """status manager: the last status written per pod, until the watch shows it"""
    probes: FrozenMap[str, bool] = EMPTY
    """readiness results by ``uid/container``"""
    backoff: FrozenMap[str, int] = EMPTY
    """restart back-off periods (ticks) by ``uid/container``"""
    last_renew: int = -1
    """tick of the last Lease renewal"""


def _ckey(uid: int, container: str) -> str:
    return f"{uid}/{container}"


def _selects_own_pod(node: str, pod: Pod) -> bool:
    """The field selector spec.nodeName=<node>."""
    return pod.spec.node_name == node


def _selects_own_node(node: str, obj: Node) -> bool:
    """The field selector metadata.name=<node>."""
    return obj.meta.name == node


def _memory(s: State, me: str) -> KubeletMemory:
    memory: KubeletMemory = s.views[me].memory
    return memory


def _set_memory(s: State, me: str, memory: KubeletMemory) -> State:
    return replace(s, views=s.views.set(me, replace(s.views[me], memory=memory)))


def _machine(s: State, me: str) -> Machine:
    return s.machines[node_of(me)]


def _set_machine(s: State, machine: Machine) -> State:
    return replace(s, machines=s.machines.set(machine.name, machine))


def _on_event(ctx: Context, memory: KubeletMemory, ev: Event) -> KubeletMemory:
    """Forget what the status manager wrote once the watch shows it; forget deleted pods."""
    if ev.kind != POD:
        return memory
    key = ev.obj.meta.key
    if ev.type == DELETED:
        return _forget_pod(memory, key, ev.obj.meta.uid)
    if memory.written.get(key) == ev.new.status:
        return replace(memory, written=memory.written.remove(key))
    return memory


def _forget_pod(memory: KubeletMemory, key: str, uid: int) -> KubeletMemory:
    prefix = f"{uid}/"
    return replace(
        memory,
        admitted=tuple(u for u in memory.admitted if u != uid),
        rejected=memory.rejected.remove(uid),
        written=memory.written.remove(key),
        probes=FrozenMap((k, v) for k, v in memory.probes.items() if not k.startswith(prefix)),
        backoff=FrozenMap((k, v) for k, v in memory.backoff.items() if not k.startswith(prefix)),
    )


# ------------------------------------------------------------ admission


def admission_failure(pod: Pod, node: Node, active: list[Pod]) -> tuple[str, str] | None:
    """The kubelet's general predicates: resources (noderesources.Fits), node affinity, NoExecute taints."""
    return usage_failure(pod, node, len(active), sum((p.spec.requests() for p in active), Resources()))


def usage_failure(pod: Pod, node: Node, count: int, used: Resources) -> tuple[str, str] | None:
    """admission_failure beside ``count`` active pods that request ``used`` in all."""
    alloc = node.status.allocatable
    req = pod.spec.requests()
    for resource, requested, in_use, capacity in (
        ("pods", 1, count, alloc.pods),
        ("cpu", req.cpu, used.cpu, alloc.cpu),
        ("memory", req.memory, used.memory, alloc.memory),
    ):
        if requested > 0 and requested + in_use > capacity:
            msg = f"Pod was rejected: Node didn't have enough resource: {resource}, requested: {requested}, used: {in_use}, capacity: {capacity}"
            return f"OutOf{resource}", msg
    if not set_matches(pod.spec.node_selector, node.meta.labels):
        return "NodeAffinity", "Pod was rejected: Predicate NodeAffinity failed"
    for taint in node.spec.taints:
        if taint.effect == NO_EXECUTE and not any(t.tolerates(taint) for t in pod.spec.tolerations):
            return "TaintToleration", "Pod was rejected: Predicate TaintToleration failed"
    return None


def _finished(ctx: Context, s: State, me: str, pod: Pod) -> bool:
    """The pod's phase is terminal, in the API or in what the status manager last wrote, so the kubelet leaves it alone.

    In the variant ``kubelet-phase-regress`` the pod workers forget that a pod
    finished, and admit, start and report it again.
    """
    return finished(_memory(s, me), pod, regress=ctx.flag(PHASE_REGRESS))


def finished(memory: KubeletMemory, pod: Pod, regress: bool) -> bool:
    """``_finished`` over a kubelet's memory: terminal in the API or in the status last written, unless the kubelet forgets (``regress``)."""
    if regress:
        return False
    written = memory.written.get(pod.meta.key)
    return pod.is_terminal() or (written is not None and written.phase in TERMINAL_PHASES)


def _active_admitted(s: State, me: str) -> list[Pod]:
    memory = _memory(s, me)
    admitted = set(memory.admitted)
    return [p for p in s.views[me].cache.pods.values() if p.meta.uid in admitted and not p.is_terminal()]


def _admit_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """The oldest pod in the view that is neither admitted nor rejected."""
    memory = _memory(s, me)
    seen = set(memory.admitted) | set(memory.rejected)
    waiting = [p for p in s.views[me].cache.pods.values() if p.meta.uid not in seen and not _finished(ctx, s, me, p)]
    if waiting and node_of(me) in s.views[me].cache.nodes:
        oldest = min(waiting, key=lambda p: (p.meta.creation_timestamp, p.meta.key))
        yield (oldest.meta.key,)


def _admit(ctx: Context, s: State, me: str, pod: str) -> State:
    """KubeletAdmitPod: admit the pod, or reject it (it will be reported Failed)."""
    view = s.views[me]
    p: Pod = view.cache.pods[pod]
    memory = _memory(s, me)
    failure = None if ctx.flag(NO_ADMISSION) else admission_failure(p, view.cache.nodes[node_of(me)], _active_admitted(s, me))
    if failure is None:
        memory = replace(memory, admitted=tuple(sorted((*memory.admitted, p.meta.uid))))
    else:
        memory = replace(memory, rejected=memory.rejected.set(p.meta.uid, failure))
    return _set_memory(s, me, memory)


# ------------------------------------------------------------ containers


def image_problem(ctx: Context, machine: Machine, c: Container) -> str:
    """Why the image cannot be had ("" if it can): ErrImageNeverPull or ErrImagePull."""
    present = c.image in machine.images
    if c.image_pull_policy == "Never":
        return "" if present else "ErrImageNeverPull"
    if c.image_pull_policy == "IfNotPresent" and present:
        return ""
    registry = ctx.scenario.registry
    return "" if registry is None or c.image in registry else "ErrImagePull"


def should_restart(pod: Pod, rc: RuntimeContainer) -> bool:
    """ShouldContainerBeRestarted for an exited container."""
    if pod.meta.deletion_timestamp is not None:
        return False
    policy = pod.spec.restart_policy
    return policy == "Always" or (policy == "OnFailure" and rc.exit_code != 0)


def _restart_at(ctx: Context, memory: KubeletMemory, uid: int, rc: RuntimeContainer) -> int:
    """The first tick the back-off lets an exited container restart (IsInBackOffSince).

    The entry counts from the container's last restart; a container that ran
    longer than twice the maximum back-off before exiting has no back-off.
    """
    finished = rc.finished_at or 0
    if finished - rc.started_at > 2 * ctx.timing.backoff_max:
        return finished
    return finished + memory.backoff.get(_ckey(uid, rc.name), 0)


def _startable(ctx: Context, s: State, me: str, pod: Pod) -> Iterator[Container]:
    machine = _machine(s, me)
    memory = _memory(s, me)
    sandbox = machine.sandboxes.get(pod.meta.uid)
    if sandbox is not None and (sandbox.stopping or not sandbox.ip):
        return
    for c in pod.spec.containers:
        rc = sandbox.containers.get(c.name) if sandbox else None
        if rc is not None and (rc.running or not should_restart(pod, rc) or _restart_at(ctx, memory, pod.meta.uid, rc) > s.clock):
            continue
        if not image_problem(ctx, machine, c):
            yield c


def _start_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each container of an admitted live pod that should (re)start and whose image can be had."""
    admitted = set(_memory(s, me).admitted)
    for key, pod in s.views[me].cache.pods.items():
        if pod.meta.uid in admitted and pod.meta.deletion_timestamp is None and not _finished(ctx, s, me, pod):
            for c in _startable(ctx, s, me, pod):
                yield (key, c.name)


def _start(ctx: Context, s: State, me: str, pod: str, container: str) -> State:
    """KubeletStartContainer: create the sandbox if needed, pull the image by policy, start the container."""
    p: Pod = s.views[me].cache.pods[pod]
    c = next(c for c in p.spec.containers if c.name == container)
    machine = _machine(s, me)
    sandbox = machine.sandboxes.get(p.meta.uid) or Sandbox(pod=pod, uid=p.meta.uid, ip=machine.free_ip(only_running=ctx.flag(IP_BY_RUNNING)))
    old = sandbox.containers.get(container)
    memory = _memory(s, me)
    key = _ckey(p.meta.uid, container)
    if old is None:
        started = RuntimeContainer(name=container, started_at=s.clock)
    else:
        started = RuntimeContainer(name=container, started_at=s.clock, restarts=old.restarts + 1)
        memory = replace(memory, backoff=memory.backoff.set(key, _next_backoff(ctx, memory, key, old)))
    memory = replace(memory, probes=memory.probes.remove(key))
    sandbox = replace(sandbox, containers=sandbox.containers.set(container, started))
    pulls = c.image_pull_policy == "Always" or c.image not in machine.images
    machine = (machine.with_image(c.image) if pulls else machine).put_sandbox(sandbox)
    return _set_memory(_set_machine(s, machine), me, memory)


def _next_backoff(ctx: Context, memory: KubeletMemory, key: str, old: RuntimeContainer) -> int:
    """flowcontrol.Backoff.Next(key, finishedAt): initial the first time or if the container ran
    more than 2 x max since its last restart, else double (capped)."""
    timing = ctx.timing
    current = memory.backoff.get(key)
    if current is None or (old.finished_at or 0) - old.started_at > 2 * timing.backoff_max:
        return timing.backoff_initial
    return min(2 * current, timing.backoff_max)


def _running(s: State, me: str) -> Iterator[tuple[Pod, Container, RuntimeContainer]]:
    machine = _machine(s, me)
    for pod in s.views[me].cache.pods.values():
        sandbox = machine.sandboxes.get(pod.meta.uid)
        if sandbox is None:
            continue
        for c in pod.spec.containers:
            rc = sandbox.containers.get(c.name)
            if rc is not None and rc.running:
                yield pod, c, rc


def _probe_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each running container with a readiness probe whose result would change."""
    probes = _memory(s, me).probes
    for pod, c, rc in _running(s, me):
        if c.readiness_probe and probes.get(_ckey(pod.meta.uid, c.name), False) != rc.healthy:
            yield (pod.meta.key, c.name)


def _probe(ctx: Context, s: State, me: str, pod: str, container: str) -> State:
    """KubeletProbeReadiness: record the readiness probe's result (the application's health)."""
    p: Pod = s.views[me].cache.pods[pod]
    rc = _machine(s, me).sandboxes[p.meta.uid].containers[container]
    memory = _memory(s, me)
    return _set_memory(s, me, replace(memory, probes=memory.probes.set(_ckey(p.meta.uid, container), rc.healthy)))


def _liveness_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each running container of a live pod whose liveness probe fails."""
    for pod, c, rc in _running(s, me):
        if c.liveness_probe and not rc.healthy and pod.meta.deletion_timestamp is None:
            yield (pod.meta.key, c.name)


def _liveness_kill(ctx: Context, s: State, me: str, pod: str, container: str) -> State:
    """KubeletLivenessKill: kill the container that failed its liveness probe."""
    p: Pod = s.views[me].cache.pods[pod]
    machine = _machine(s, me)
    sandbox = machine.sandboxes[p.meta.uid]
    rc = replace(sandbox.containers[container], running=False, exit_code=SIGKILL_EXIT, finished_at=s.clock)
    sandbox = replace(sandbox, containers=sandbox.containers.set(container, rc))
    return _set_machine(s, machine.put_sandbox(sandbox))


# ------------------------------------------------------------ status


def _container_status(ctx: Context, s: State, me: str, pod: Pod, c: Container, previous: PodStatus) -> ContainerStatus:
    machine = _machine(s, me)
    memory = _memory(s, me)
    sandbox = machine.sandboxes.get(pod.meta.uid)
    rc = sandbox.containers.get(c.name) if sandbox else None
    if rc is None:
        was = next((cs for cs in previous.container_statuses if cs.name == c.name), None)
        if was is not None and (was.state != "waiting" or was.terminated_before):
            return ContainerStatus(name=c.name, reason="ContainerStatusUnknown", exit_code=SIGKILL_EXIT, terminated_before=True)
        return ContainerStatus(name=c.name, reason=image_problem(ctx, machine, c) or "ContainerCreating")
    if rc.running:
        ready = memory.probes.get(_ckey(pod.meta.uid, c.name), False) if c.readiness_probe else True
        return ContainerStatus(name=c.name, state="running", restart_count=rc.restarts, ready=ready)
    if should_restart(pod, rc) and not sandbox.stopping:  # type: ignore[union-attr]
        reason = "CrashLoopBackOff" if _restart_at(ctx, memory, pod.meta.uid, rc) > s.clock else ""
        return ContainerStatus(name=c.name, reason=reason, exit_code=rc.exit_code, restart_count=rc.restarts, terminated_before=True)
    reason = "Completed" if rc.exit_code == 0 else "Error"
    return ContainerStatus(name=c.name, state="terminated", reason=reason, exit_code=rc.exit_code, restart_count=rc.restarts)


def get_phase(pod: Pod, statuses: tuple[ContainerStatus, ...], terminal: bool) -> str:
    """getPhase (pkg/kubelet/kubelet_pods.go) for regular containers."""
    running = sum(1 for cs in statuses if cs.state == "running")
    waiting = sum(1 for cs in statuses if cs.state == "waiting" and not cs.terminated_before)
    stopped = sum(1 for cs in statuses if cs.state == "terminated" or cs.terminated_before)
    succeeded = sum(1 for cs in statuses if cs.state == "terminated" and cs.exit_code == 0)
    if terminal and running == 0:
        return SUCCEEDED if statuses and succeeded == len(statuses) else FAILED
    if waiting > 0:
        return PENDING
    if running > 0:
        return RUNNING
    if stopped > 0:
        policy = pod.spec.restart_policy
        if policy == "Always":
            return RUNNING
        if stopped == succeeded:
            return SUCCEEDED
        return FAILED if policy == "Never" else RUNNING
    return PENDING


def desired_status(ctx: Context, s: State, me: str, pod: Pod) -> PodStatus:
    """generateAPIPodStatus: what the status manager would write for ``pod``.

    The kubelet owns the PodScheduled condition (kubetypes.PodConditionsByKubelet)
    and reports it True; the model keeps the value the binding set, so that a
    pod that came with its nodeName still has none and ``scheduler-fit`` keeps
    counting the pods the scheduler placed after their kubelet reports them.
    A FitError is dropped, as the kubelet's True condition replaces it.
    """
    memory = _memory(s, me)
    previous = memory.written.get(pod.meta.key) or pod.status
    rejected = memory.rejected.get(pod.meta.uid)
    if rejected is not None:
        return replace(previous, phase=FAILED, ready=False, reason=rejected[0], message=rejected[1], pod_ip="")
    sandbox = _machine(s, me).sandboxes.get(pod.meta.uid)
    statuses = tuple(_container_status(ctx, s, me, pod, c, previous) for c in pod.spec.containers)
    terminal = pod.meta.deletion_timestamp is not None and (sandbox is None or not sandbox.running())
    phase = get_phase(pod, statuses, terminal)
    ready = phase == RUNNING and all(cs.ready for cs in statuses)
    transition = previous.ready_transition if ready == previous.ready else s.clock
    ip = sandbox.ip if sandbox is not None and sandbox.ip else previous.pod_ip
    return PodStatus(phase=phase, ready=ready, ready_transition=transition, scheduled=previous.scheduled, pod_ip=ip, container_statuses=statuses)


def _status_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each known pod whose API status differs from the generated one (and was not just written)."""
    if not _machine(s, me).reachable:
        return
    memory = _memory(s, me)
    known = set(memory.admitted) | set(memory.rejected)
    for key, pod in s.views[me].cache.pods.items():
        if pod.meta.uid not in known or _finished(ctx, s, me, pod):
            continue
        desired = desired_status(ctx, s, me, pod)
        if desired != pod.status and desired != memory.written.get(key):
            yield (key,)


def _sync_status(ctx: Context, s: State, me: str, pod: str) -> State:
    """KubeletSyncStatus: the status manager writes the generated status (UID precondition)."""
    p: Pod = s.views[me].cache.pods[pod]
    desired = desired_status(ctx, s, me, p)
    result = apiserver.update_status(ctx, s, POD, pod, desired, uid=p.meta.uid)
    if not result.ok:
        return result.state
    memory = _memory(result.state, me)
    return _set_memory(result.state, me, replace(memory, written=memory.written.set(pod, desired)))


# ------------------------------------------------------------ termination


def _prestop_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each deleted pod with a preStop hook whose containers still run and have not been told to stop."""
    machine = _machine(s, me)
    for key, pod in s.views[me].cache.pods.items():
        sandbox = machine.sandboxes.get(pod.meta.uid)
        if pod.meta.deletion_timestamp is None or sandbox is None or sandbox.stopping or not sandbox.running():
            continue
        if any(c.pre_stop for c in pod.spec.containers):
            yield (key,)


def _prestop(ctx: Context, s: State, me: str, pod: str) -> State:
    """KubeletRunPreStop: run the preStop hooks; the containers keep running meanwhile."""
    p: Pod = s.views[me].cache.pods[pod]
    machine = _machine(s, me)
    sandbox = replace(machine.sandboxes[p.meta.uid], stopping=True)
    return _set_machine(s, machine.put_sandbox(sandbox))


def _kill_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each pod whose sandbox is still up although it is deleted (after preStop) or finished."""
    machine = _machine(s, me)
    for key, pod in s.views[me].cache.pods.items():
        sandbox = machine.sandboxes.get(pod.meta.uid)
        if sandbox is None or not sandbox.ip:
            continue
        if pod.meta.deletion_timestamp is not None:
            if sandbox.stopping or not any(c.pre_stop for c in pod.spec.containers) or not sandbox.running():
                yield (key,)
        elif pod.meta.uid in _memory(s, me).rejected or desired_status(ctx, s, me, pod).phase in TERMINAL_PHASES:
            yield (key,)


def _kill(ctx: Context, s: State, me: str, pod: str) -> State:
    """KubeletKillPod: stop every container (exit 0 within the grace period, 137 after) and tear down the network."""
    p: Pod = s.views[me].cache.pods[pod]
    machine = _machine(s, me)
    sandbox = machine.sandboxes[p.meta.uid]
    deadline = p.meta.deletion_timestamp
    code = SIGKILL_EXIT if deadline is not None and s.clock > deadline else 0
    stopped = FrozenMap(
        (n, replace(rc, running=False, exit_code=code, finished_at=s.clock) if rc.running else rc) for n, rc in sandbox.containers.items()
    )
    sandbox = replace(sandbox, containers=stopped, stopping=True, ip="")
    return _set_machine(s, machine.put_sandbox(sandbox))


def _delete_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each deleted pod whose terminal status is reported and whose containers are stopped (canBeDeleted)."""
    machine = _machine(s, me)
    if not machine.reachable:
        return
    memory = _memory(s, me)
    for key, pod in s.views[me].cache.pods.items():
        if pod.meta.deletion_timestamp is None:
            continue
        written = memory.written.get(key)
        terminal = pod.status.phase in TERMINAL_PHASES or (written is not None and written.phase in TERMINAL_PHASES)
        sandbox = machine.sandboxes.get(pod.meta.uid)
        if terminal and (sandbox is None or not sandbox.running()):
            yield (key,)


def _final_delete(ctx: Context, s: State, me: str, pod: str) -> State:
    """KubeletDeletePod: the status manager's final DELETE, grace 0, with the pod's UID."""
    p: Pod = s.views[me].cache.pods[pod]
    return apiserver.delete(ctx, s, POD, pod, grace=0, uid=p.meta.uid).state


def _cleanup_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each sandbox whose pod the kubelet's view no longer has (HandlePodCleanups)."""
    uids = {p.meta.uid for p in s.views[me].cache.pods.values()}
    for uid in _machine(s, me).sandboxes:
        if uid not in uids:
            yield (uid,)


def _cleanup(ctx: Context, s: State, me: str, uid: int) -> State:
    """KubeletCleanupPod: kill and remove the sandbox of a pod the API no longer has."""
    return _set_machine(s, _machine(s, me).drop_sandbox(uid))


# ------------------------------------------------------------ node heartbeats


def _lease_due(ctx: Context, s: State, me: str) -> bool:
    return _machine(s, me).reachable and s.clock >= _memory(s, me).last_renew + ctx.timing.lease_renew_interval


def _renew_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Once per renew interval while the API server is reachable."""
    if _lease_due(ctx, s, me):
        yield ()


def _renew(ctx: Context, s: State, me: str) -> State:
    """KubeletRenewLease: create or renew the node's Lease (renewTime = now)."""
    node = node_of(me)
    live = apiserver.get(s, LEASE, f"{NODE_LEASE_NAMESPACE}/{node}")
    if isinstance(live, Lease):
        result = apiserver.update(ctx, s, replace(live, renew_time=s.clock))
    else:
        result = apiserver.create(ctx, s, Lease(meta=ObjectMeta(name=node, namespace=NODE_LEASE_NAMESPACE), holder=node, renew_time=s.clock))
    memory = _memory(result.state, me)
    return _set_memory(result.state, me, replace(memory, last_renew=s.clock))


def _node_status_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """When the kubelet's own Node does not say Ready=True and the API server is reachable."""
    node = s.views[me].cache.nodes.get(node_of(me))
    if node is not None and node.status.ready != "True" and _machine(s, me).reachable:
        yield ()


def _post_node_status(ctx: Context, s: State, me: str) -> State:
    """KubeletPostNodeStatus: report Ready=True (reason KubeletReady)."""
    name = node_of(me)
    node: Node = s.views[me].cache.nodes[name]
    return apiserver.update_status(ctx, s, NODE, name, replace(node.status, ready="True", ready_reason="KubeletReady")).state


def _timers(ctx: Context, s: State, me: str) -> Iterator[int]:
    """Back-off expiries of exited containers waiting to restart."""
    memory = _memory(s, me)
    machine = _machine(s, me)
    for pod in s.views[me].cache.pods.values():
        sandbox = machine.sandboxes.get(pod.meta.uid)
        for rc in sandbox.containers.values() if sandbox else ():
            if not rc.running and should_restart(pod, rc) and _restart_at(ctx, memory, pod.meta.uid, rc) > s.clock:
                yield _restart_at(ctx, memory, pod.meta.uid, rc)


def _urgent(ctx: Context, s: State, me: str) -> bool:
    """A reachable kubelet renews its Lease before time moves past the renew interval."""
    return _lease_due(ctx, s, me)


KUBELET = ComponentType(
    kind=NAME,
    per_node=True,
    watches=(Watch(POD, _selects_own_pod), Watch(NODE, _selects_own_node)),
    initial_memory=KubeletMemory,
    on_event=_on_event,
    actions=(
        ActionDef("KubeletAdmitPod", ("pod",), _admit_guard, _admit),
        ActionDef("KubeletStartContainer", ("pod", "container"), _start_guard, _start),
        ActionDef("KubeletProbeReadiness", ("pod", "container"), _probe_guard, _probe),
        ActionDef("KubeletLivenessKill", ("pod", "container"), _liveness_guard, _liveness_kill),
        ActionDef("KubeletSyncStatus", ("pod",), _status_guard, _sync_status),
        ActionDef("KubeletRunPreStop", ("pod",), _prestop_guard, _prestop),
        ActionDef("KubeletKillPod", ("pod",), _kill_guard, _kill),
        ActionDef("KubeletDeletePod", ("pod",), _delete_guard, _final_delete),
        ActionDef("KubeletCleanupPod", ("uid",), _cleanup_guard, _cleanup),
        ActionDef("KubeletRenewLease", (), _renew_guard, _renew),
        ActionDef("KubeletPostNodeStatus", (), _node_status_guard, _post_node_status),
    ),
    timers=_timers,
    urgent=_urgent,
    source="pkg/kubelet/kubelet.go, kubelet_pods.go, lifecycle/predicate.go, status/status_manager.go, prober, nodelease",
    stale_relist_flag=STALE_RELIST,
)
