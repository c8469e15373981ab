"""The environment (component 9): user operations, faults and the clock, bounded by the scenario.

User operations follow kubectl (read, then write at once); faults follow the
failure modes of real clusters; informer relists follow client-go
tools/cache/reflector.go and the API server's watch cache
(apiserver pkg/storage/cacher).
"""

from __future__ import annotations

import attrs
import pytest
from driver import Driver

from spec.errors import ActionNotEnabledError, UnknownNameError
from spec.scenarios import Bounds, Scenario, Timing, UserChoices, container, node, pod, replicaset, service

WEB = replicaset("web", 2, container(readiness_probe=True))


def cluster(budgets: dict[str, int], settle: bool = True, **kw: object) -> Driver:
    sc = Scenario(
        name="env",
        summary="environment test",
        nodes=(node("node-1"), node("node-2")),
        objects=(WEB, service("web", "web")),
        bounds=Bounds(budgets=budgets, clock_limit=kw.pop("clock_limit", 0), watch_cache_window=kw.pop("window", 0)),  # type: ignore[arg-type]
        settle=settle,
        **kw,  # type: ignore[arg-type]
    )
    return Driver(sc)


def test_budgets_bound_user_operations() -> None:
    """Each operation counts against its budget; an exhausted budget disables it."""
    d = cluster({"delete-pod": 1})
    first, second = (p.meta.key for p in d.pods("web-"))
    d.do("user", "UserDeletePod", pod=first)
    assert d.state.used("delete-pod") == 1
    assert not d.enabled("user")
    with pytest.raises(ActionNotEnabledError):
        d.do("user", "UserDeletePod", pod=second)


def test_user_creates_scales_and_deletes() -> None:
    """kubectl create / scale / delete through the API server."""
    extra = service("api", "web")
    d = cluster({"create": 1, "scale": 1, "delete-service": 1, "delete-replicaset": 1}, user=UserChoices(services=(extra,), scale=(4,)))
    d.do("user", "UserCreate", kind="Service", name="default/api")
    assert "default/api" in d.state.api.objects.services
    d.do("user", "UserScaleReplicaSet", rs="default/web", replicas=4)
    assert d.state.api.objects.replicasets["default/web"].spec.replicas == 4
    d.do("user", "UserDeleteService", service="default/api")
    assert "default/api" not in d.state.api.objects.services
    d.do("user", "UserDeleteReplicaSet", rs="default/web", orphan=False)
    assert "default/web" not in d.state.api.objects.replicasets


def test_user_force_deletes_relabels_and_cordons() -> None:
    """kubectl delete --force --grace-period=0, kubectl label --overwrite, kubectl cordon/uncordon."""
    d = cluster({"force-delete": 1, "relabel": 1, "cordon": 2}, user=UserChoices(relabel=("app=debug",)))
    a, b = (p.meta.key for p in d.pods("web-"))
    d.do("user", "UserForceDeletePod", pod=a)
    assert a not in d.state.api.objects.pods
    assert any(sb.pod == a for m in d.state.machines.values() for sb in m.sandboxes.values())  # still running until the kubelet notices
    d.do("user", "UserRelabelPod", pod=b, labels="app=debug")
    assert d.state.api.objects.pods[b].meta.labels == {"app": "debug"}
    d.do("user", "UserCordon", node="node-1", unschedulable=True)
    assert d.state.api.objects.nodes["node-1"].spec.unschedulable
    d.do("user", "UserCordon", node="node-1", unschedulable=False)
    assert not d.state.api.objects.nodes["node-1"].spec.unschedulable


def test_a_node_crash_stops_everything_on_it_until_it_restarts() -> None:
    """A crashed machine: no containers, no iptables rules, kubelet and kube-proxy gone, then a fresh start."""
    d = cluster({"node-crash": 1})
    d.do("fault", "NodeCrash", node="node-1")
    m = d.state.machines["node-1"]
    assert not m.up and not m.sandboxes and not m.proxy_rules
    assert not d.enabled("kubelet/node-1") and not d.enabled("kube-proxy/node-1")
    assert "kubelet/node-1" not in d.state.channels.cursors
    d.do("fault", "NodeRestart", node="node-1")
    assert d.state.views["kubelet/node-1"].cache.pods  # relisted its pods
    d.settle()
    assert all(p.status.phase == "Running" and p.status.ready for p in d.pods("web-"))
    assert d.state.machines["node-1"].sandboxes


def test_a_partition_cuts_watches_and_writes_but_not_the_containers() -> None:
    """A partitioned machine keeps running; its kubelet gets no events and cannot write."""
    d = cluster({"partition": 1, "delete-pod": 1})
    victim = next(p for p in d.pods("web-") if p.spec.node_name == "node-1")
    d.do("fault", "NodePartition", node="node-1").do("user", "UserDeletePod", pod=victim.meta.key)
    assert not d.enabled("kubelet/node-1", "WatchDeliver")
    d.settle()
    assert d.state.machines["node-1"].sandboxes[victim.meta.uid].running()
    assert d.pod(victim.meta.name).meta.deletion_timestamp is not None
    d.do("fault", "NodeHeal", node="node-1").settle()
    assert victim.meta.key not in d.state.api.objects.pods
    assert victim.meta.uid not in d.state.machines["node-1"].sandboxes


def test_container_exit_and_unhealthy_change_node_truth() -> None:
    """A container's process exits, or its application stops answering probes."""
    d = cluster({"container-exit": 1, "container-unhealthy": 1})
    a, b = d.pods("web-")
    d.do("fault", "ContainerExit", pod=a.meta.key, container="app", code=1)
    rc = d.state.machines[a.spec.node_name].sandboxes[a.meta.uid].containers["app"]
    assert (rc.running, rc.exit_code) == (False, 1)
    d.do("fault", "ContainerUnhealthy", pod=b.meta.key, container="app")
    assert not d.state.machines[b.spec.node_name].sandboxes[b.meta.uid].containers["app"].healthy


def test_a_component_restart_loses_memory_and_relists() -> None:
    """A restarted process: in-memory state gone, informers relist from the store."""
    d = cluster({"component-restart": 1}, settle=False)
    d.do("replicaset-controller", "ReplicaSetSync", rs="default/web")
    assert d.memory("replicaset-controller").syncs  # type: ignore[attr-defined]
    d.do("fault", "ComponentRestart", component="replicaset-controller")
    assert not d.memory("replicaset-controller").syncs  # type: ignore[attr-defined]
    assert d.state.views["replicaset-controller"].cache.replicasets


def test_a_watch_reset_relists_from_a_lagging_watch_cache() -> None:
    """reflector.go relists NotOlderThan its last RV; a lagging watch cache serves an older list, then the watch catches up."""
    d = cluster({"watch-reset": 1}, settle=False, window=10)
    d.do("replicaset-controller", "ReplicaSetSync", rs="default/web")
    d.do("replicaset-controller", "ReplicaSetWrite", rs="default/web").do("replicaset-controller", "ReplicaSetWrite", rs="default/web")
    resets = d.enabled("fault", "WatchReset")
    lagging = [a for a in resets if a.param("component") == "scheduler" and a.param("kind") == "Pod"]
    assert len(lagging) == 2  # the list can be served at the first pod's revision or at the latest one
    d.take(lagging[0])
    assert len(d.state.views["scheduler"].cache.pods) == 1
    assert d.enabled("scheduler", "WatchDeliver")  # the second creation is still to come through the watch
    d.deliver("scheduler")
    assert len(d.state.views["scheduler"].cache.pods) == 2


def test_the_clock_ticks_only_while_a_timer_is_armed() -> None:
    """Time passes only when some deadline lies ahead, never past the scenario's limit."""
    d = cluster({"partition": 1}, clock_limit=3, timing=Timing(node_monitor_grace=5))
    assert not d.can("clock", "Tick")  # a healthy, settled cluster has nothing waiting on time
    d.do("fault", "NodePartition", node="node-1")
    for _ in range(3):
        d.settle().tick()  # node-2 renews its Lease between ticks; node-1's expiry keeps a timer armed
    assert d.state.clock == 3
    d.settle()
    assert not d.can("clock", "Tick")


def test_time_does_not_pass_a_due_lease_renewal() -> None:
    """Timing assumption: a reachable kubelet renews its Lease (every 10 s) before the clock moves on."""
    d = cluster({"partition": 1}, clock_limit=10)
    d.do("fault", "NodePartition", node="node-1").tick()
    assert d.can("kubelet/node-2", "KubeletRenewLease") and not d.can("clock", "Tick")
    d.do("kubelet/node-2", "KubeletRenewLease").deliver("node-lifecycle-controller", kinds=("Lease",))
    assert d.can("clock", "Tick")


def test_bare_pod_creation_uses_the_scenario_templates() -> None:
    """UserCreate offers only the scenario's objects that do not exist yet."""
    extra = pod("debug", container(image="busybox:1.36"))
    d = cluster({"create": 2}, user=UserChoices(pods=(extra,), replicasets=(WEB,)))
    assert [(a.param("kind"), a.param("name")) for a in d.enabled("user", "UserCreate")] == [("Pod", "default/debug")]
    d.do("user", "UserCreate", kind="Pod", name="default/debug")
    assert not d.enabled("user", "UserCreate")
    assert attrs.has(type(d.pod("debug")))


def test_an_unknown_budget_name_is_refused_with_close_matches() -> None:
    """A scenario's budgets name operations the environment has; a typo is bad input, not a silent zero."""
    with pytest.raises(UnknownNameError, match="unknown budget 'delete'; did you mean 'delete-pod'"):
        Bounds(budgets={"delete": 1})


def test_a_crashed_machine_has_no_watches_until_it_restarts() -> None:
    """Writes while a machine is down are not queued for its kubelet: it lists afresh when it boots."""
    d = cluster({"node-crash": 1, "delete-pod": 1})
    d.do("fault", "NodeCrash", node="node-1")
    victim = next(p for p in d.pods("web-") if p.spec.node_name == "node-1")
    d.do("user", "UserDeletePod", pod=victim.meta.key)
    assert "kubelet/node-1" not in d.state.channels.cursors
    d.settle(skip=("kubelet/node-1",))
    assert not d.state.channels.log
    d.do("fault", "NodeRestart", node="node-1")
    assert d.state.views["kubelet/node-1"].cache.pods[victim.meta.key].meta.deletion_timestamp is not None
