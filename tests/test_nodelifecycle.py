"""The node lifecycle controller and the taint eviction controller (component 5).

Driven through the action catalogue. Sources: k8s@v1.28
``pkg/controller/nodelifecycle/node_lifecycle_controller.go``
(tryUpdateNodeHealth, monitorNodeHealth, doNoScheduleTaintingPass,
doNoExecuteTaintingPass, handleDisruption),
``pkg/controller/util/node/controller_utils.go`` (MarkPodsNotReady),
``pkg/controller/tainteviction/taint_eviction.go`` (v1.29+; v1.28
``pkg/controller/nodelifecycle/scheduler/taint_manager.go``), and the kubelet's
heartbeats ``pkg/kubelet/nodelease`` and ``pkg/kubelet/kubelet_node_status.go``.

Timing: the default constants (one tick = 10 s, node-monitor-grace-period 4
ticks); the ReplicaSet's pods tolerate ``unreachable`` for 3 ticks.
"""

from __future__ import annotations

import attrs
import pytest
from driver import Driver

from spec.environment import armed_timers
from spec.errors import ActionNotEnabledError
from spec.objects import (
    NO_EXECUTE,
    NO_SCHEDULE,
    TAINT_UNREACHABLE,
    Node,
    Pod,
    Taint,
    Toleration,
)
from spec.scenarios import Bounds, Scenario, Timing, container, node, pod, replicaset, service

NLC = "node-lifecycle-controller"
TEC = "taint-eviction-controller"
MARK_UNKNOWN = "NodeLifecycleMarkUnknown"
MARK_POD = "NodeLifecycleMarkPodNotReady"
TAINT = "NodeLifecycleTaint"
EVICT = "TaintEvictPod"
CONTROLLER_STEPS = (MARK_UNKNOWN, MARK_POD, TAINT, EVICT)
"""The steps under test: kept out of ``settle`` so that each test takes them itself."""
GRACE = Timing().node_monitor_grace
TOLERATION = 3
UNREACHABLE_TAINTS = [(TAINT_UNREACHABLE, NO_EXECUTE), (TAINT_UNREACHABLE, NO_SCHEDULE)]


def tolerate_unreachable(seconds: int | None) -> tuple[Toleration, ...]:
    return (Toleration(key=TAINT_UNREACHABLE, operator="Exists", effect=NO_EXECUTE, toleration_seconds=seconds),)


def cluster(nodes: int = 3, replicas: int = 3, toleration: int | None = TOLERATION, partitions: int = 1, clock_limit: int = 20) -> Scenario:
    """``nodes`` nodes running a ReplicaSet ``web`` behind a Service, converged; ``partitions`` partitions allowed."""
    web = replicaset("web", replicas, container(readiness_probe=True), tolerations=tolerate_unreachable(toleration))
    return Scenario(
        name="node-lifecycle",
        summary="nodes running a ReplicaSet; nodes may be partitioned",
        nodes=tuple(node(f"node-{i}") for i in range(1, nodes + 1)),
        objects=(web, service("web", "web")),
        bounds=Bounds(budgets={"partition": partitions}, clock_limit=clock_limit),
        settle=True,
    )


def api_node(d: Driver, name: str) -> Node:
    n = d.state.api.objects.nodes[name]
    assert isinstance(n, Node)
    return n


def taints(d: Driver, name: str) -> list[tuple[str, str]]:
    return sorted((t.key, t.effect) for t in api_node(d, name).spec.taints)


def one_pod_per_node(d: Driver) -> dict[str, Pod]:
    placed = {p.spec.node_name: p for p in d.pods("web-")}
    assert sorted(placed) == sorted(d.state.api.objects.nodes) and len(d.pods("web-")) == len(placed)
    return placed


def advance(d: Driver, skip: tuple[str, ...] = CONTROLLER_STEPS) -> None:
    """One tick, then the heartbeats and everything else except the steps in ``skip``."""
    d.tick()
    d.settle(skip=skip)


def partition_until_unknown(d: Driver, name: str = "node-1") -> None:
    """Partition ``name`` and let time pass until the controller may mark it Unknown (and do so)."""
    d.do("fault", "NodePartition", node=name)
    while not d.can(NLC, MARK_UNKNOWN, node=name):
        advance(d)
    d.do(NLC, MARK_UNKNOWN, node=name)


# ---------------------------------------------------------------- heartbeats and node health


def test_lease_renewals_keep_reachable_nodes_ready() -> None:
    """Lease renewals keep reachable nodes Ready while time passes; time waits for the renewals and their delivery.

    Follows pkg/kubelet/nodelease and pkg/controller/nodelifecycle/node_lifecycle_controller.go tryUpdateNodeHealth.
    """
    d = Driver(cluster(toleration=15))
    d.do("fault", "NodePartition", node="node-1")  # arms the controller's grace timer (then the eviction timer), so that time can pass
    ticks = 0
    while d.can("clock", "Tick"):
        d.tick()
        ticks += 1
        # time cannot move on before every reachable kubelet has renewed its Lease ...
        for name in ("node-2", "node-3"):
            assert d.can(f"kubelet/{name}", "KubeletRenewLease")
        assert not d.can("kubelet/node-1", "KubeletRenewLease")
        assert not d.can("clock", "Tick")
        d.do("kubelet/node-2", "KubeletRenewLease").do("kubelet/node-3", "KubeletRenewLease")
        # ... and before the controller has seen the renewals
        assert not d.can("clock", "Tick")
        d.deliver(NLC, ["Lease"])
        health = d.memory(NLC).health  # type: ignore[attr-defined]
        assert health["node-2"].probe_timestamp == health["node-3"].probe_timestamp == d.state.clock
        assert health["node-1"].probe_timestamp == 0
        d.settle()
        for name in ("node-2", "node-3"):
            assert not d.can(NLC, MARK_UNKNOWN, node=name)
            assert api_node(d, name).status.ready == "True" and taints(d, name) == []
    assert d.state.clock == 20 and ticks == 20  # well past the grace period, up to the clock limit
    assert api_node(d, "node-1").status.ready == "Unknown"
    assert len([p for p in d.pods("web-") if p.is_active() and p.status.ready]) == 3


def test_a_partitioned_node_becomes_unknown_after_the_grace_period() -> None:
    """Ready=Unknown (NodeStatusUnknown) once now > probeTimestamp + grace.

    Follows pkg/controller/nodelifecycle/node_lifecycle_controller.go tryUpdateNodeHealth.
    """
    d = Driver(cluster())
    assert d.state.clock == 0 and d.memory(NLC).health["node-1"].probe_timestamp == 0  # type: ignore[attr-defined]
    d.do("fault", "NodePartition", node="node-1")
    for _ in range(GRACE):
        assert not d.can(NLC, MARK_UNKNOWN, node="node-1")
        advance(d)
    assert d.state.clock == GRACE
    assert d.enabled(NLC, MARK_UNKNOWN) == []  # exactly the grace period without a heartbeat: not yet
    assert api_node(d, "node-1").status.ready == "True"
    advance(d)
    assert d.enabled(NLC, MARK_UNKNOWN) == [d.action(NLC, MARK_UNKNOWN, node="node-1")]
    d.do(NLC, MARK_UNKNOWN, node="node-1")
    status = api_node(d, "node-1").status
    assert (status.ready, status.ready_reason) == ("Unknown", "NodeStatusUnknown")
    assert [api_node(d, n).status.ready for n in ("node-2", "node-3")] == ["True", "True"]


def test_pods_of_an_unknown_node_become_not_ready_but_stay_running() -> None:
    """Ready=False through UpdateStatus; the phase is not touched.

    Follows pkg/controller/util/node/controller_utils.go MarkPodsNotReady.
    """
    d = Driver(cluster())
    placed = one_pod_per_node(d)
    victim = placed["node-1"]
    partition_until_unknown(d)
    assert d.enabled(NLC, MARK_POD) == []  # the controller acts on the transition it observes
    d.deliver(NLC, ["Node"])
    assert d.enabled(NLC, MARK_POD) == [d.action(NLC, MARK_POD, pod=victim.meta.key)]
    d.do(NLC, MARK_POD, pod=victim.meta.key)
    marked = d.pod(victim.meta.name)
    assert marked.status.ready is False
    assert marked.status.phase == "Running"
    assert marked.meta.deletion_timestamp is None
    assert d.state.machines["node-1"].sandboxes[victim.meta.uid].running()  # the containers still run, cut off
    assert all(placed[n].status.ready and d.pod(placed[n].meta.name).status.ready for n in ("node-2", "node-3"))
    # the Service then lists it as not ready
    d.settle(skip=(EVICT,))
    ep = d.state.api.objects.endpoints["default/web"]
    assert [a.pod for a in ep.not_ready_addresses] == [victim.meta.key]
    assert len(ep.addresses) == 2


def test_an_unknown_node_gets_the_unreachable_taints() -> None:
    """Ready=Unknown gives unreachable NoSchedule and NoExecute.

    Follows pkg/controller/nodelifecycle/node_lifecycle_controller.go doNoScheduleTaintingPass / doNoExecuteTaintingPass.
    """
    d = Driver(cluster())
    partition_until_unknown(d)
    assert taints(d, "node-1") == []
    d.deliver(NLC, ["Node"])
    assert d.enabled(NLC, TAINT) == [d.action(NLC, TAINT, node="node-1")]
    d.do(NLC, TAINT, node="node-1")
    assert taints(d, "node-1") == UNREACHABLE_TAINTS
    no_execute = next(t for t in api_node(d, "node-1").spec.taints if t.effect == NO_EXECUTE)
    assert no_execute.time_added == d.state.clock
    assert taints(d, "node-2") == taints(d, "node-3") == []


# ---------------------------------------------------------------- taint-based eviction


def test_taint_eviction_after_toleration_seconds() -> None:
    """A tolerated NoExecute taint evicts after tolerationSeconds, by a graceful DELETE.

    Follows pkg/controller/tainteviction/taint_eviction.go.
    """
    d = Driver(cluster())
    victim = one_pod_per_node(d)["node-1"]
    partition_until_unknown(d)
    d.deliver(NLC).do(NLC, TAINT, node="node-1")
    tainted_at = d.state.clock
    d.settle(skip=CONTROLLER_STEPS)
    for _ in range(TOLERATION):
        assert not d.can(TEC, EVICT, pod=victim.meta.key)
        assert tainted_at + TOLERATION in armed_timers(d.ctx, d.state)
        advance(d)
    assert d.state.clock == tainted_at + TOLERATION
    assert d.enabled(TEC, EVICT) == [d.action(TEC, EVICT, pod=victim.meta.key)]
    d.do(TEC, EVICT, pod=victim.meta.key)

    evicted = d.pod(victim.meta.name)
    grace = victim.spec.termination_grace_period_seconds
    assert (evicted.meta.deletion_timestamp, evicted.meta.deletion_grace_period_seconds) == (d.state.clock + grace, grace)

    # the kubelet cannot be told: the pod stays Terminating as long as the partition lasts
    d.settle()
    while d.can("clock", "Tick"):
        advance(d, skip=())
    stuck = d.pod(victim.meta.name)
    assert stuck.meta.deletion_timestamp is not None and stuck.status.phase == "Running"
    assert d.state.machines["node-1"].sandboxes[victim.meta.uid].running()
    # the ReplicaSet replaced it at once (a terminating pod is not active), on a node without the taint
    active = [p for p in d.pods("web-") if p.is_active()]
    assert len(active) == 3 and victim.meta.key not in {p.meta.key for p in active}
    assert all(p.spec.node_name != "node-1" and p.status.phase == "Running" and p.status.ready for p in active)
    ep = d.state.api.objects.endpoints["default/web"]
    assert victim.meta.key not in {a.pod for a in ep.addresses + ep.not_ready_addresses}


def test_a_pod_that_does_not_tolerate_a_noexecute_taint_is_evicted_at_once() -> None:
    """An untolerated NoExecute taint deletes the pod now.

    Follows pkg/controller/tainteviction/taint_eviction.go processPodOnNode.

    Every pod tolerates the not-ready and unreachable taints (admission plugin
    plugin/pkg/admission/defaulttolerationseconds), so the untolerated taint here
    is a custom one the node starts with; the pods are bound at creation.
    """
    drain = Taint(key="example.com/drain", effect=NO_EXECUTE, time_added=0)
    intolerant = pod("intolerant", container(), node_name="node-1")
    patient = pod("patient", container(), node_name="node-1")
    tolerates_2 = Toleration(key="example.com/drain", operator="Exists", effect=NO_EXECUTE, toleration_seconds=2)
    patient = attrs.evolve(patient, spec=attrs.evolve(patient.spec, tolerations=(tolerates_2,)))
    d = Driver(Scenario(name="drain", summary="a NoExecute-tainted node", nodes=(node("node-1", taints=(drain,)),), objects=(intolerant, patient)))
    assert d.state.clock == 0
    assert d.enabled(TEC, EVICT) == [d.action(TEC, EVICT, pod="default/intolerant")]
    d.do(TEC, EVICT, pod="default/intolerant")
    assert d.pod("intolerant").meta.deletion_timestamp == 3
    assert d.pod("patient").meta.deletion_timestamp is None
    assert 2 in armed_timers(d.ctx, d.state)  # the tolerating pod goes when its 2 ticks are up


def test_no_evictions_in_full_disruption() -> None:
    """When every node is not ready no NoExecute taint is added and existing ones are removed.

    Follows pkg/controller/nodelifecycle/node_lifecycle_controller.go handleDisruption.
    """
    d = Driver(cluster(nodes=2, replicas=2, toleration=2, partitions=2))
    placed = one_pod_per_node(d)
    d.do("fault", "NodePartition", node="node-1")
    advance(d)
    d.do("fault", "NodePartition", node="node-2")  # one tick later: node-1 is seen dead first
    while not d.can(NLC, MARK_UNKNOWN, node="node-1"):
        advance(d)
    d.do(NLC, MARK_UNKNOWN, node="node-1").deliver(NLC)
    d.do(NLC, TAINT, node="node-1")
    assert taints(d, "node-1") == UNREACHABLE_TAINTS  # one node of two down: a partial failure, tainted
    d.settle(skip=CONTROLLER_STEPS)
    assert 5 + 2 in armed_timers(d.ctx, d.state)  # node-1's pod is due for eviction at tick 7

    advance(d)
    d.do(NLC, MARK_UNKNOWN, node="node-2").deliver(NLC)
    # now every node is unhealthy: node-2 gets only NoSchedule, node-1 loses its NoExecute taint
    assert d.enabled(NLC, TAINT) == [d.action(NLC, TAINT, node="node-1"), d.action(NLC, TAINT, node="node-2")]
    d.do(NLC, TAINT, node="node-2").do(NLC, TAINT, node="node-1")
    assert taints(d, "node-1") == taints(d, "node-2") == [(TAINT_UNREACHABLE, NO_SCHEDULE)]
    d.settle()
    assert d.state.clock == 6  # the pods' 2-tick toleration of node-1's taint (added at tick 5) has not run out
    assert d.enabled(TEC, EVICT) == []
    assert armed_timers(d.ctx, d.state) == []  # the pending eviction is called off
    assert not any(p.effect == NO_EXECUTE for n in ("node-1", "node-2") for p in api_node(d, n).spec.taints)
    while d.can("clock", "Tick"):
        advance(d, skip=())
    assert all(p.meta.deletion_timestamp is None for p in d.pods())
    assert {p.meta.key for p in d.pods()} == {p.meta.key for p in placed.values()}
    assert all(p.status.ready is False and p.status.phase == "Running" for p in d.pods())
    with pytest.raises(ActionNotEnabledError):
        d.do(TEC, EVICT, pod=placed["node-1"].meta.key)


def test_a_healed_node_posts_ready_and_loses_its_taints() -> None:
    """Ready=True posted by the kubelet removes the unreachable taints.

    Follows pkg/kubelet/kubelet_node_status.go and pkg/controller/nodelifecycle/node_lifecycle_controller.go.
    """
    d = Driver(cluster(toleration=None))
    victim = one_pod_per_node(d)["node-1"]
    partition_until_unknown(d)
    d.settle()
    assert taints(d, "node-1") == UNREACHABLE_TAINTS
    assert d.pod(victim.meta.name).status.ready is False

    d.do("fault", "NodeHeal", node="node-1")
    assert not d.can("kubelet/node-1", "KubeletPostNodeStatus")  # it has not seen its node go Unknown yet
    d.deliver("kubelet/node-1", ["Node"])
    d.do("kubelet/node-1", "KubeletPostNodeStatus")
    assert api_node(d, "node-1").status.ready == "True"
    assert taints(d, "node-1") == UNREACHABLE_TAINTS  # the kubelet does not touch taints: the controller does
    d.deliver(NLC, ["Node"])
    assert d.enabled(NLC, TAINT) == [d.action(NLC, TAINT, node="node-1")]
    d.do(NLC, TAINT, node="node-1")
    assert taints(d, "node-1") == []
    assert d.memory(NLC).health["node-1"].probe_timestamp == d.state.clock  # type: ignore[attr-defined]

    d.settle()
    back = d.pod(victim.meta.name)
    assert back.meta.uid == victim.meta.uid and back.meta.deletion_timestamp is None
    assert back.status.ready and back.status.phase == "Running"
    assert len(d.state.api.objects.endpoints["default/web"].addresses) == 3
    assert d.enabled(NLC) == []
