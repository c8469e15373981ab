"""Scenarios: the starting cluster, what the environment may do, and the clock.

A scenario is data. Its objects are created through the API server when the
model starts, so they get UIDs, resourceVersions and defaults as real ones
would. Its bounds say how many of each user operation and fault may happen
(``budgets``), how far the clock may run and how far behind the store a
lagging watch cache may serve a list. Its timing constants are in ticks;
one tick stands for ``tick_seconds`` seconds of the real defaults
(k8s@v1.28: Lease renewed every 10 s, node-monitor-grace-period 40 s,
default not-ready/unreachable toleration 300 s, container restart back-off
10 s doubling to 300 s, expectations timeout 5 min). A scenario may shorten
a constant to keep the interesting interleavings within a small clock
bound; its summary says so.
"""

from __future__ import annotations

import attrs

from spec.errors import UnknownNameError
from spec.frozen import EMPTY, FrozenMap, freeze_map, freeze_tuple
from spec.labels import parse_selector
from spec.objects import (
    NO_EXECUTE,
    TAINT_UNREACHABLE,
    Container,
    Obj,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplate,
    ReplicaSet,
    ReplicaSetSpec,
    Resources,
    Service,
    ServicePort,
    ServiceSpec,
    Taint,
    Toleration,
)

GI = 1024**3
MI = 1024**2

BUDGETS = (
    "create",
    "delete-pod",
    "delete-replicaset",
    "delete-service",
    "force-delete",
    "scale",
    "relabel",
    "cordon",
    "node-crash",
    "partition",
    "container-exit",
    "container-unhealthy",
    "component-restart",
    "watch-reset",
    "connect",
)
"""Every budget name a scenario can bound (an absent budget is zero)."""


@attrs.frozen
class Timing:
    """Timing constants, in ticks."""

    tick_seconds: int = 10
    """how many seconds one tick stands for"""
    lease_renew_interval: int = 1
    """kubelet Lease renewal period (10 s)"""
    node_monitor_grace: int = 4
    """node-monitor-grace-period (40 s in v1.28, 50 s from v1.32)"""
    default_toleration_seconds: int = 30
    """DefaultTolerationSeconds for not-ready and unreachable (300 s)"""
    backoff_initial: int = 1
    """first container restart back-off (10 s)"""
    backoff_max: int = 30
    """MaxContainerBackOff (300 s)"""
    expectations_timeout: int = 30
    """ExpectationsTimeout (5 min)"""


@attrs.frozen
class Bounds:
    """How much the environment may do."""

    budgets: FrozenMap[str, int] = attrs.field(default=EMPTY, converter=freeze_map)
    """per budget name (one of ``BUDGETS``), how many operations may happen"""

    clock_limit: int = 0
    """the clock never passes this tick"""
    watch_cache_window: int = 0
    """how many revisions behind the store a relist may be served from"""
    steps: int = 80
    """the default length of a random walk or search depth for this scenario"""

    @budgets.validator
    def _known_budgets(self, _: object, budgets: FrozenMap[str, int]) -> None:
        for name in budgets:
            if name not in BUDGETS:
                raise UnknownNameError("budget", name, BUDGETS)


@attrs.frozen
class NodeConfig:
    """A machine of the cluster and its Node object."""

    name: str
    """node name"""
    capacity: Resources
    """capacity (= allocatable: no system reservations)"""
    labels: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=freeze_map)
    """node labels"""
    taints: tuple[Taint, ...] = attrs.field(default=(), converter=freeze_tuple)
    """initial taints"""
    images: tuple[str, ...] = attrs.field(default=(), converter=freeze_tuple)
    """images already in the node's image store"""


@attrs.frozen
class UserChoices:
    """What a user may create, scale to or relabel with."""

    replicasets: tuple[ReplicaSet, ...] = ()
    """ReplicaSets the user may create"""
    services: tuple[Service, ...] = ()
    """Services the user may create"""
    pods: tuple[Pod, ...] = ()
    """bare Pods the user may create"""
    scale: tuple[int, ...] = ()
    """replica counts the user may scale a ReplicaSet to"""
    relabel: tuple[str, ...] = ()
    """label sets (``k=v,k=v``) the user may give a pod"""


@attrs.frozen
class Scenario:
    """A starting cluster, its bounds and its timing."""

    name: str
    """the scenario's name"""
    summary: str
    """one line for ``kspec scenarios``"""
    nodes: tuple[NodeConfig, ...]
    """the machines"""
    objects: tuple[Obj, ...] = ()
    """objects created through the API at the start, in order"""
    namespaces: tuple[str, ...] = ("default",)
    """namespaces created at the start (kube-node-lease is always added)"""
    user: UserChoices = UserChoices()
    """what user operations may create or set"""
    bounds: Bounds = Bounds()
    """environment bounds"""
    timing: Timing = Timing()
    """timing constants"""
    settle: bool = False
    """start from the cluster the controllers converge to (no faults, no user), not from the bare objects"""
    registry: tuple[str, ...] | None = None
    """images the registry has (None: every image)"""


# ------------------------------------------------------------ builders


def node(name: str, cpu: int = 2000, memory: int = 4 * GI, pods: int = 10, **kw: object) -> NodeConfig:
    """A node with ``cpu`` millicores, ``memory`` bytes and room for ``pods`` pods."""
    return NodeConfig(name=name, capacity=Resources(cpu, memory, pods), **kw)  # type: ignore[arg-type]


def container(image: str = "nginx:1.25", cpu: int = 500, memory: int = 256 * MI, **kw: object) -> Container:
    """The ``app`` container with its requests."""
    return Container(name="app", image=image, requests=Resources(cpu, memory), **kw)  # type: ignore[arg-type]


def replicaset(name: str, replicas: int, c: Container, grace: int = 3, tolerations: tuple[Toleration, ...] = ()) -> ReplicaSet:
    """A ReplicaSet selecting ``app=<name>``."""
    spec = PodSpec(containers=(c,), termination_grace_period_seconds=grace, tolerations=tolerations)
    template = PodTemplate(labels={"app": name}, spec=spec)
    meta = ObjectMeta(name=name, namespace="default", labels={"app": name})
    return ReplicaSet(meta=meta, spec=ReplicaSetSpec(replicas=replicas, selector=parse_selector(f"app={name}"), template=template))


def service(name: str, app: str, port: int = 80, target: int = 8080, type_: str = "ClusterIP") -> Service:
    """A Service selecting ``app=<app>``."""
    spec = ServiceSpec(ports=(ServicePort(port=port, target_port=target),), selector={"app": app}, type=type_)
    return Service(meta=ObjectMeta(name=name, namespace="default"), spec=spec)


def pod(name: str, c: Container, labels: dict[str, str] | None = None, node_name: str = "", grace: int = 3, restart_policy: str = "Always") -> Pod:
    """A bare pod."""
    spec = PodSpec(containers=(c,), node_name=node_name, termination_grace_period_seconds=grace, restart_policy=restart_policy)
    return Pod(meta=ObjectMeta(name=name, namespace="default", labels=labels or {}), spec=spec)


def fast_failover() -> tuple[Toleration, ...]:
    """Pods that tolerate an unreachable node for 2 ticks (20 s) instead of 300 s."""
    return (Toleration(key=TAINT_UNREACHABLE, operator="Exists", effect=NO_EXECUTE, toleration_seconds=2),)


# ------------------------------------------------------------ built-in scenarios


def _basic() -> Scenario:
    web = replicaset("web", 2, container(readiness_probe=True))
    return Scenario(
        name="basic",
        summary="2 nodes, a ReplicaSet of 2 behind a Service, from creation to running; a pod may be deleted or stop answering probes",
        nodes=(node("node-1"), node("node-2")),
        objects=(web, service("web", "web")),
        bounds=Bounds(budgets={"delete-pod": 1, "container-unhealthy": 1}, steps=150),
    )


def _scale() -> Scenario:
    web = replicaset("web", 2, container(readiness_probe=True))
    return Scenario(
        name="scale",
        summary="2 running nodes, a ReplicaSet scaled between 1 and 3 while watch events lag; one controller restart",
        nodes=(node("node-1"), node("node-2")),
        objects=(web, service("web", "web")),
        user=UserChoices(scale=(1, 3)),
        bounds=Bounds(budgets={"scale": 2, "component-restart": 1, "watch-reset": 1}, watch_cache_window=4, steps=80),
        settle=True,
    )


def _node_failure() -> Scenario:
    web = replicaset("web", 2, container(readiness_probe=True), tolerations=fast_failover())
    return Scenario(
        name="node-failure",
        summary="3 nodes running a ReplicaSet of 2; one node crashes or is partitioned (pods tolerate unreachable for 2 ticks)",
        nodes=(node("node-1"), node("node-2"), node("node-3")),
        objects=(web, service("web", "web")),
        bounds=Bounds(budgets={"node-crash": 1, "partition": 1}, clock_limit=10, steps=120),
        timing=Timing(node_monitor_grace=2),
        settle=True,
    )


def _capacity() -> Scenario:
    web = replicaset("web", 3, container(cpu=400, memory=512 * MI))
    batch = pod("batch", container(image="busybox:1.36", cpu=300, memory=256 * MI), node_name="node-1")
    return Scenario(
        name="capacity",
        summary="2 nodes of 1 cpu; 3 pods of 400m barely fit; scale to 5 and a pod pinned to a full node",
        nodes=(node("node-1", cpu=1000, memory=2 * GI, pods=4), node("node-2", cpu=1000, memory=2 * GI, pods=4)),
        objects=(web,),
        user=UserChoices(scale=(5,), pods=(batch,)),
        bounds=Bounds(budgets={"scale": 1, "create": 1}, steps=100),
    )


def _relist() -> Scenario:
    return Scenario(
        name="relist",
        summary="1 node, a ReplicaSet of 2 scaled down and up while its pod watch may break and relist",
        nodes=(node("node-1"),),
        objects=(replicaset("web", 2, container()),),
        user=UserChoices(scale=(1, 3)),
        bounds=Bounds(budgets={"scale": 2, "watch-reset": 3}, watch_cache_window=4, steps=80),
        settle=True,
    )


def _outage() -> Scenario:
    web = replicaset("web", 2, container(readiness_probe=True), tolerations=fast_failover())
    return Scenario(
        name="outage",
        summary="2 nodes running a ReplicaSet of 2 may both lose the control plane (pods tolerate unreachable for 2 ticks)",
        nodes=(node("node-1"), node("node-2")),
        objects=(web,),
        bounds=Bounds(budgets={"partition": 2}, clock_limit=8, steps=80),
        timing=Timing(node_monitor_grace=2),
        settle=True,
    )


def _stateful() -> Scenario:
    db = container(image="postgres:16", cpu=500, memory=512 * MI)
    return Scenario(
        name="stateful",
        summary="a bare pod db-0 on node-1 may be deleted and recreated on node-2 while node-1's kubelet restarts",
        nodes=(node("node-1"), node("node-2")),
        objects=(pod("db-0", db, labels={"app": "db"}, node_name="node-1"),),
        user=UserChoices(pods=(pod("db-0", db, labels={"app": "db"}, node_name="node-2"),)),
        bounds=Bounds(budgets={"delete-pod": 1, "create": 1, "component-restart": 2}, watch_cache_window=20, steps=60),
        settle=True,
    )


def _batch() -> Scenario:
    small = container(image="busybox:1.36", cpu=100, memory=64 * MI)
    return Scenario(
        name="batch",
        summary="one node runs a run-once job and a web pod; containers exit, the machine may crash, another pod may arrive",
        nodes=(node("node-1"),),
        objects=(pod("job", small, node_name="node-1", restart_policy="Never"), pod("web", container(cpu=100), node_name="node-1")),
        user=UserChoices(pods=(pod("extra", small, node_name="node-1"),)),
        bounds=Bounds(budgets={"container-exit": 2, "node-crash": 1, "create": 1}, clock_limit=4, steps=50),
        settle=True,
    )


def _services() -> Scenario:
    return Scenario(
        name="services",
        summary="a ReplicaSet of 1; a user creates two Services and deletes one while the watch cache lags",
        nodes=(node("node-1"),),
        objects=(replicaset("web", 1, container()),),
        user=UserChoices(services=(service("web", "web"), service("api", "web", port=81))),
        bounds=Bounds(budgets={"create": 2, "delete-service": 1}, watch_cache_window=4, steps=40),
        settle=True,
    )


def _replace() -> Scenario:
    return Scenario(
        name="replace",
        summary="1 node with room for one pod of 400m; the ReplicaSet of 1's pod may be deleted and must be replaced",
        nodes=(node("node-1", cpu=600),),
        objects=(replicaset("web", 1, container(cpu=400)),),
        bounds=Bounds(budgets={"delete-pod": 1}, steps=80),
        settle=True,
    )


SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in (_basic(), _scale(), _node_failure(), _capacity(), _relist(), _outage(), _stateful(), _batch(), _services(), _replace())
}


# ------------------------------------------------------------ small clusters

_SSD = pod("b", container(cpu=600))

PLACEMENT = Scenario(
    name="placement",
    summary="two nodes of 1 cpu, one of them labelled; the user creates unbound pods of 600m, one selecting the label, and one of 1500m",
    nodes=(node("node-1", cpu=1000, pods=2), node("node-2", cpu=1000, labels={"disk": "ssd"})),
    user=UserChoices(
        pods=(
            pod("a", container(cpu=600)),
            attrs.evolve(_SSD, spec=attrs.evolve(_SSD.spec, node_selector={"disk": "ssd"})),
            pod("big", container(cpu=1500)),
        )
    ),
    bounds=Bounds(budgets={"create": 3}, steps=30),
    settle=True,
)
"""a cluster where the scheduler's every path is a few steps away: ties, a node selector, the pod count, cpu, and a FitError"""

OVERBOOKED = Scenario(
    name="overbooked",
    summary="a node of 1 cpu runs one pod of 600m; a second one is created bound to it",
    nodes=(node("node-1", cpu=1000),),
    objects=(pod("first", container(cpu=600), node_name="node-1"),),
    user=UserChoices(pods=(pod("second", container(cpu=600), node_name="node-1"),)),
    bounds=Bounds(budgets={"create": 1}, steps=20),
    settle=True,
)
"""node-capacity at its shortest: a pod bound by its creator, past the scheduler, that only the kubelet's admission can refuse"""

_SERVICES = SCENARIOS["services"]
DRAINING = attrs.evolve(
    _SERVICES,
    name="draining",
    summary="a ReplicaSet of 1; the user creates one of two Services and may delete the ReplicaSet's running pod",
    bounds=attrs.evolve(_SERVICES.bounds, budgets={"create": 1, "delete-pod": 1}),
)
"""services where the user may delete the ReplicaSet's running pod"""

UNREADY = Scenario(
    name="unready",
    summary="one node runs a pod behind a Service, settled: ready and published; its container may stop answering its readiness probe",
    nodes=(node("node-1"),),
    objects=(pod("web", container(readiness_probe=True), labels={"app": "web"}, node_name="node-1"), service("web", "web")),
    bounds=Bounds(budgets={"container-unhealthy": 1}, steps=30),
    settle=True,
)
"""endpoints-converge at its shortest: the pod's readiness lost, reported and delivered to every pod watch (basic needs the cluster built)"""

STRANDED = Scenario(
    name="stranded",
    summary="a cluster without nodes: a ReplicaSet of 1 whose pod nothing can run, scaled to 0 and back while its pod watch may relist",
    nodes=(),
    objects=(replicaset("web", 1, container()),),
    user=UserChoices(scale=(0, 1)),
    bounds=Bounds(budgets={"scale": 2, "watch-reset": 1}, watch_cache_window=4, steps=40),
    settle=True,
)
"""rs-ignore-tombstones at its shortest: the unbound pod's deletion is its removal, which a relist can only infer (a tombstone)"""

CLUSTERS: dict[str, Scenario] = {s.name: s for s in (PLACEMENT, OVERBOOKED, DRAINING, UNREADY, STRANDED)}
"""small clusters, each cut down to the steps one bug needs, where its shortest counterexample is within reach of breadth-first search
and Z3 alike (a variant's witness scenario is a whole cluster, built for the Hypothesis engine, which samples long runs: on five of them
the shortest counterexample is too long for either exhaustive search); ``spec.variants.SHORTEST`` names each variant's. Not in the default
sweep; ``--scenario`` takes their names."""


def get_scenario(name: str) -> Scenario:
    """The built-in scenario or small cluster called ``name`` (exit-2 error with close matches otherwise)."""
    found = SCENARIOS.get(name) or CLUSTERS.get(name)
    if found is None:
        raise UnknownNameError("scenario", name, [*SCENARIOS, *CLUSTERS])
    return found
