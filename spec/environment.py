"""The environment: users, faults and the clock, as actions.

Users act through the API like kubectl: they read the current object and
write at once (no stale view). Faults change node truth or a component's
process: a machine crashes (nothing runs, its kubelet and kube-proxy lose
everything) and restarts, a machine is partitioned from the control plane and
healed, a container exits or stops answering its probes, a component restarts
(memory lost, caches relisted), a watch breaks and relists from a lagging
watch cache. Each operation counts against a budget of the scenario.

The clock ticks only while some timer is armed (a deadline in the future at
which a component's guard becomes true), never past the scenario's limit,
and never while a component has urgent work: a reachable kubelet whose Lease
renewal is due, or a Lease event not yet delivered to the node lifecycle
controller. That is the model's timing assumption: heartbeats and their
delivery take far less than node-monitor-grace-period, so only faults make a
node look dead.

Simplification: a machine that is partitioned does not crash (and one that
is down is not partitioned), so a restarted machine always reaches the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from spec import apiserver, informer
from spec.component import ActionDef, ComponentType, Context, Param, node_of
from spec.frozen import replace
from spec.objects import (
    POD,
    REPLICASET,
    SERVICE,
    Node,
    Obj,
    Pod,
    ReplicaSet,
    with_meta,
)
from spec.runtime import Connection
from spec.state import ComponentState, State

if TYPE_CHECKING:
    from spec.scenarios import Scenario

EXIT_CODES = (0, 1)


def _granted(name: str) -> Callable[[Scenario], bool]:
    """ActionDef.possible for an operation of budget ``name``: the scenario grants at least one."""
    return lambda scenario: scenario.bounds.budgets.get(name, 0) > 0


def _clock_runs(scenario: Scenario) -> bool:
    """ActionDef.possible of Tick: the scenario lets the clock advance."""
    return scenario.bounds.clock_limit > 0


def budget_left(ctx: Context, s: State, name: str) -> bool:
    """The scenario allows one more operation of budget ``name``."""
    return s.used(name) < ctx.scenario.bounds.budgets.get(name, 0)


def spend(s: State, name: str) -> State:
    """Count one operation against budget ``name``."""
    return replace(s, budget=s.budget.set(name, s.used(name) + 1))


def parse_labels(text: str) -> dict[str, str]:
    """``k=v,k=v`` to a dict ("" is no labels)."""
    return dict(item.split("=", 1) for item in text.split(",") if item)


# ------------------------------------------------------------ user


def _create_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each object the scenario lets the user create that does not exist."""
    if not budget_left(ctx, s, "create"):
        return
    for obj in _creatable(ctx):
        if s.api.objects.get(obj.kind, obj.meta.key) is None:
            yield (obj.kind, obj.meta.key)


def _creatable(ctx: Context) -> tuple[Obj, ...]:
    user = ctx.scenario.user
    return (*user.replicasets, *user.services, *user.pods)


def _create(ctx: Context, s: State, me: str, kind: str, name: str) -> State:
    """UserCreate: kubectl create of one of the scenario's objects."""
    obj = next(o for o in _creatable(ctx) if o.kind == kind and o.meta.key == name)
    return apiserver.create(ctx, spend(s, "create"), obj).state


def _scale_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each ReplicaSet and each replica count the scenario allows, other than its current one."""
    if not budget_left(ctx, s, "scale"):
        return
    for key, rs in s.api.objects.replicasets.items():
        if rs.meta.deletion_timestamp is None:
            for n in ctx.scenario.user.scale:
                if n != rs.spec.replicas:
                    yield (key, n)


def _scale(ctx: Context, s: State, me: str, rs: str, replicas: int) -> State:
    """UserScaleReplicaSet: kubectl scale (read, then update with that resourceVersion)."""
    live: ReplicaSet = s.api.objects.replicasets[rs]
    return apiserver.update(ctx, spend(s, "scale"), replace(live, spec=replace(live.spec, replicas=replicas))).state


def _deletable(objs: Any) -> Iterator[str]:
    for key, obj in objs.items():
        if obj.meta.deletion_timestamp is None:
            yield key


def _delete_pod_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each pod not already being deleted."""
    if budget_left(ctx, s, "delete-pod"):
        for key in _deletable(s.api.objects.pods):
            yield (key,)


def _delete_pod(ctx: Context, s: State, me: str, pod: str) -> State:
    """UserDeletePod: kubectl delete pod (default grace period)."""
    return apiserver.delete(ctx, spend(s, "delete-pod"), POD, pod).state


def _delete_rs_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each ReplicaSet not already being deleted, with Background or Orphan propagation."""
    if budget_left(ctx, s, "delete-replicaset"):
        for key in _deletable(s.api.objects.replicasets):
            yield (key, False)
            yield (key, True)


def _delete_rs(ctx: Context, s: State, me: str, rs: str, orphan: bool) -> State:
    """UserDeleteReplicaSet: kubectl delete replicaset (``orphan``: --cascade=orphan)."""
    return apiserver.delete(ctx, spend(s, "delete-replicaset"), REPLICASET, rs, orphan=orphan).state


def _delete_svc_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each Service."""
    if budget_left(ctx, s, "delete-service"):
        for key in s.api.objects.services:
            yield (key,)


def _delete_svc(ctx: Context, s: State, me: str, service: str) -> State:
    """UserDeleteService: kubectl delete service."""
    return apiserver.delete(ctx, spend(s, "delete-service"), SERVICE, service).state


def _force_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each pod."""
    if budget_left(ctx, s, "force-delete"):
        for key in s.api.objects.pods:
            yield (key,)


def _force_delete(ctx: Context, s: State, me: str, pod: str) -> State:
    """UserForceDeletePod: kubectl delete --grace-period=0 --force (removed from etcd at once)."""
    return apiserver.delete(ctx, spend(s, "force-delete"), POD, pod, grace=0).state


def _relabel_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each active pod and each label set the scenario allows, other than its current labels."""
    if not budget_left(ctx, s, "relabel"):
        return
    for key, p in s.api.objects.pods.items():
        if p.is_active():
            for text in ctx.scenario.user.relabel:
                if parse_labels(text) != dict(p.meta.labels):
                    yield (key, text)


def _relabel(ctx: Context, s: State, me: str, pod: str, labels: str) -> State:
    """UserRelabelPod: kubectl label --overwrite (an update of metadata.labels)."""
    live: Pod = s.api.objects.pods[pod]
    return apiserver.update(ctx, spend(s, "relabel"), with_meta(live, labels=parse_labels(labels))).state


def _cordon_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each node: cordon if schedulable, uncordon if not."""
    if budget_left(ctx, s, "cordon"):
        for name, n in s.api.objects.nodes.items():
            yield (name, not n.spec.unschedulable)


def _cordon(ctx: Context, s: State, me: str, node: str, unschedulable: bool) -> State:
    """UserCordon: kubectl cordon / uncordon (spec.unschedulable)."""
    live: Node = s.api.objects.nodes[node]
    return apiserver.update(ctx, spend(s, "cordon"), replace(live, spec=replace(live.spec, unschedulable=unschedulable))).state


USER = ComponentType(
    kind="user",
    actions=(
        ActionDef("UserCreate", ("kind", "name"), _create_guard, _create, _granted("create")),
        ActionDef("UserScaleReplicaSet", ("rs", "replicas"), _scale_guard, _scale, _granted("scale")),
        ActionDef("UserDeletePod", ("pod",), _delete_pod_guard, _delete_pod, _granted("delete-pod")),
        ActionDef("UserDeleteReplicaSet", ("rs", "orphan"), _delete_rs_guard, _delete_rs, _granted("delete-replicaset")),
        ActionDef("UserDeleteService", ("service",), _delete_svc_guard, _delete_svc, _granted("delete-service")),
        ActionDef("UserForceDeletePod", ("pod",), _force_guard, _force_delete, _granted("force-delete")),
        ActionDef("UserRelabelPod", ("pod", "labels"), _relabel_guard, _relabel, _granted("relabel")),
        ActionDef("UserCordon", ("node", "unschedulable"), _cordon_guard, _cordon, _granted("cordon")),
    ),
    source="kubectl create/scale/delete/label/cordon",
    environment=True,
)


# ------------------------------------------------------------ faults


def node_instances(ctx: Context, node: str) -> list[str]:
    """The per-node component instances running on ``node``."""
    return [name for name, ctype in ctx.components if ctype.per_node and node_of(name) == node]


def _crash_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each machine that is up and not partitioned."""
    if budget_left(ctx, s, "node-crash"):
        for name, m in s.machines.items():
            if m.up and not m.partitioned:
                yield (name,)


def _crash(ctx: Context, s: State, me: str, node: str) -> State:
    """NodeCrash: the machine dies; its containers, rules, kubelet and kube-proxy are gone."""
    s = spend(s, "node-crash")
    m = s.machines[node]
    m = replace(m, up=False, sandboxes={}, proxy_rules={}, connections=())
    s = replace(s, machines=s.machines.set(node, m))
    for instance in node_instances(ctx, node):
        channels = replace(s.channels, cursors=s.channels.cursors.remove(instance))
        s = replace(s, views=s.views.set(instance, ComponentState()), channels=channels)
    return s


def _restart_node_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each machine that is down."""
    for name, m in s.machines.items():
        if not m.up:
            yield (name,)


def _restart_node(ctx: Context, s: State, me: str, node: str) -> State:
    """NodeRestart: the machine boots; its kubelet and kube-proxy start and list."""
    s = replace(s, machines=s.machines.set(node, replace(s.machines[node], up=True)))
    for instance in node_instances(ctx, node):
        s = informer.fresh_view(ctx, s, instance)
    return s


def _partition_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each machine that is up and reachable."""
    if budget_left(ctx, s, "partition"):
        for name, m in s.machines.items():
            if m.reachable:
                yield (name,)


def _partition(ctx: Context, s: State, me: str, node: str) -> State:
    """NodePartition: the machine keeps running but cannot reach the API server."""
    s = spend(s, "partition")
    return replace(s, machines=s.machines.set(node, replace(s.machines[node], partitioned=True)))


def _heal_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each partitioned machine."""
    for name, m in s.machines.items():
        if m.partitioned:
            yield (name,)


def _heal(ctx: Context, s: State, me: str, node: str) -> State:
    """NodeHeal: the partition ends; watches resume where they stopped."""
    return replace(s, machines=s.machines.set(node, replace(s.machines[node], partitioned=False)))


def _running_containers(s: State, healthy_only: bool) -> Iterator[tuple[str, str]]:
    for m in s.machines.values():
        for sandbox in m.sandboxes.values():
            for name, rc in sandbox.containers.items():
                if rc.running and (rc.healthy or not healthy_only):
                    yield sandbox.pod, name


def _exit_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each running container, with exit code 0 or 1."""
    if budget_left(ctx, s, "container-exit"):
        for pod, container in _running_containers(s, healthy_only=False):
            for code in EXIT_CODES:
                yield (pod, container, code)


def _with_container(s: State, pod: str, container: str, **changes: object) -> State:
    for m in s.machines.values():
        for sandbox in m.sandboxes.values():
            if sandbox.pod == pod and container in sandbox.containers and sandbox.containers[container].running:
                rc = replace(sandbox.containers[container], **changes)
                m2 = m.put_sandbox(replace(sandbox, containers=sandbox.containers.set(container, rc)))
                return replace(s, machines=s.machines.set(m.name, m2))
    raise AssertionError(f"no running container {container} of {pod}")


def _exit(ctx: Context, s: State, me: str, pod: str, container: str, code: int) -> State:
    """ContainerExit: the container's process exits with ``code``."""
    return _with_container(spend(s, "container-exit"), pod, container, running=False, exit_code=code, finished_at=s.clock)


def _unhealthy_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each running container that still answers its probes."""
    if budget_left(ctx, s, "container-unhealthy"):
        yield from _running_containers(s, healthy_only=True)


def _unhealthy(ctx: Context, s: State, me: str, pod: str, container: str) -> State:
    """ContainerUnhealthy: the application stops answering its readiness and liveness probes."""
    return _with_container(spend(s, "container-unhealthy"), pod, container, healthy=False)


def _restartable(ctx: Context, s: State) -> Iterator[str]:
    for name, ctype in ctx.components:
        if ctype.watches and (not ctype.per_node or s.machines[node_of(name)].reachable):
            yield name


def _component_restart_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each component process that is running."""
    if budget_left(ctx, s, "component-restart"):
        for name in _restartable(ctx, s):
            yield (name,)


def _component_restart(ctx: Context, s: State, me: str, component: str) -> State:
    """ComponentRestart: the process restarts: memory lost, every informer relists.

    The relist is consistent (a quorum read), except under the component's
    ``stale_relist_flag`` (the variant ``kubelet-stale-relist``), where it
    lists from the watch cache as far behind as it may lag
    (resourceVersion=0, kubernetes/kubernetes#59848).
    """
    flag = ctx.type_of(component).stale_relist_flag
    at = informer.oldest_listable(ctx, s) if flag and ctx.flag(flag) else None
    return informer.fresh_view(ctx, spend(s, "component-restart"), component, at=at)


def _watch_reset_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each watch with undelivered events, relisted at each revision the watch cache can serve."""
    if not budget_left(ctx, s, "watch-reset"):
        return
    oldest = informer.oldest_listable(ctx, s)
    for name in _restartable(ctx, s):
        for kind, cursor in sorted(s.channels.cursors.get(name, {}).items()):
            for revision in range(max(cursor + 1, oldest), s.api.revision + 1):
                yield (name, kind, revision)


def _watch_reset(ctx: Context, s: State, me: str, component: str, kind: str, revision: int) -> State:
    """WatchReset: the watch breaks; the informer relists from a watch cache at ``revision`` (not older than it has seen)."""
    return informer.relist(ctx, spend(s, "watch-reset"), component, [kind], at=revision)


def _connect_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each machine, Service port in its rules, and backend those rules may pick ("" if rejected)."""
    if not budget_left(ctx, s, "connect"):
        return
    for name, m in s.machines.items():
        if m.up:
            for svc, rule in m.proxy_rules.items():
                for backend in rule.backends or ("",):
                    yield (name, svc, backend)


def _connect(ctx: Context, s: State, me: str, node: str, service: str, backend: str) -> State:
    """ClientConnect: a client on the machine connects to a Service; DNAT picks ``backend``."""
    s = spend(s, "connect")
    m = s.machines[node]
    m = replace(m, connections=(*m.connections, Connection(service=service, backend=backend, opened_at=s.clock)))
    return replace(s, machines=s.machines.set(node, m))


FAULT = ComponentType(
    kind="fault",
    actions=(
        ActionDef("NodeCrash", ("node",), _crash_guard, _crash, _granted("node-crash")),
        ActionDef("NodeRestart", ("node",), _restart_node_guard, _restart_node, _granted("node-crash")),
        ActionDef("NodePartition", ("node",), _partition_guard, _partition, _granted("partition")),
        ActionDef("NodeHeal", ("node",), _heal_guard, _heal, _granted("partition")),
        ActionDef("ContainerExit", ("pod", "container", "code"), _exit_guard, _exit, _granted("container-exit")),
        ActionDef("ContainerUnhealthy", ("pod", "container"), _unhealthy_guard, _unhealthy, _granted("container-unhealthy")),
        ActionDef("ComponentRestart", ("component",), _component_restart_guard, _component_restart, _granted("component-restart")),
        ActionDef("WatchReset", ("component", "kind", "revision"), _watch_reset_guard, _watch_reset, _granted("watch-reset")),
        ActionDef("ClientConnect", ("node", "service", "backend"), _connect_guard, _connect, _granted("connect")),
    ),
    source="the environment",
    environment=True,
)


# ------------------------------------------------------------ clock


def armed_timers(ctx: Context, s: State) -> list[int]:
    """Every future deadline at which some component's guard becomes true."""
    deadlines: list[int] = []
    for name, ctype in ctx.components:
        if ctype.timers is not None and name in s.views and _running(ctx, s, name, ctype):
            deadlines.extend(t for t in ctype.timers(ctx, s, name) if t > s.clock)
    return deadlines


def urgent(ctx: Context, s: State) -> bool:
    """Some component must act before time moves on."""
    return any(
        ctype.urgent is not None and name in s.views and _running(ctx, s, name, ctype) and ctype.urgent(ctx, s, name)
        for name, ctype in ctx.components
    )


def _running(ctx: Context, s: State, name: str, ctype: ComponentType) -> bool:
    return not ctype.per_node or s.machines[node_of(name)].up


def _tick_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """While below the clock limit, some timer is armed and nothing is urgent."""
    if s.clock < ctx.scenario.bounds.clock_limit and armed_timers(ctx, s) and not urgent(ctx, s):
        yield ()


def _tick(ctx: Context, s: State, me: str) -> State:
    """Tick: one tick of logical time passes."""
    return replace(s, clock=s.clock + 1)


CLOCK = ComponentType(kind="clock", actions=(ActionDef("Tick", (), _tick_guard, _tick, _clock_runs),), source="the passage of time", environment=True)

ENVIRONMENT = (USER, FAULT, CLOCK)
"""The environment's component types, in catalogue order."""
