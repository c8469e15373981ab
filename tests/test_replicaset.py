"""ReplicaSet controller (component 3): expectations, create and delete toward spec.replicas,
deletion ranking, adoption and release, status.

Sources: k8s pkg/controller/replicaset/replica_set.go, replica_set_utils.go,
pkg/controller/controller_utils.go, controller_ref_manager.go.
"""

from __future__ import annotations

import attrs
from driver import Driver

from spec.controllers.replicaset import compare_for_deletion, pods_to_delete
from spec.objects import ContainerStatus, ObjectMeta, Pod, PodSpec, PodStatus
from spec.scenarios import Bounds, Scenario, UserChoices, container, node, pod, replicaset

RSC = "replicaset-controller"
RS = "default/web"


def scenario(replicas: int = 2, **kw: object) -> Scenario:
    return Scenario(
        name="rs",
        summary="replicaset test",
        nodes=(node("node-1"), node("node-2")),
        objects=(replicaset("web", replicas, container(readiness_probe=True)),),
        **kw,  # type: ignore[arg-type]
    )


def test_a_sync_creates_the_missing_pods_and_expects_them() -> None:
    """replica_set.go manageReplicas + ExpectCreations: one sync queues every creation and records them."""
    d = Driver(scenario(3)).do(RSC, "ReplicaSetSync", rs=RS)
    memory = d.memory(RSC)
    assert [w.verb for w in memory.syncs[RS].writes] == ["create", "create", "create", "status"]  # type: ignore[attr-defined]
    assert memory.expectations[RS].add == 3  # type: ignore[attr-defined]
    for _ in range(3):
        d.do(RSC, "ReplicaSetWrite", rs=RS)
    assert len(d.pods("web-")) == 3
    assert all(p.meta.controller_ref().name == "web" for p in d.pods("web-"))  # type: ignore[union-attr]


def test_expectations_hold_back_the_next_sync_until_creations_are_observed() -> None:
    """controller_utils.go SatisfiedExpectations: a stale cache does not create a second batch."""
    d = Driver(scenario(2)).do(RSC, "ReplicaSetSync", rs=RS)
    while d.can(RSC, "ReplicaSetWrite", rs=RS):
        d.do(RSC, "ReplicaSetWrite", rs=RS)
    d.deliver(RSC, kinds=("ReplicaSet",))
    assert not d.state.views[RSC].cache.pods  # the pods are not in its cache yet
    assert not d.can(RSC, "ReplicaSetSync", rs=RS)  # nothing but status would change, and expectations block creates
    d.deliver(RSC, kinds=("Pod",))
    assert d.memory(RSC).expectations[RS].add == 0  # type: ignore[attr-defined]
    assert len(d.pods("web-")) == 2


def test_a_restart_between_two_writes_loses_the_rest_of_the_sync() -> None:
    """A crashed kube-controller-manager: the queued creations and the expectations are in memory only."""
    d = Driver(scenario(3, bounds=Bounds(budgets={"component-restart": 1})))
    d.do(RSC, "ReplicaSetSync", rs=RS).do(RSC, "ReplicaSetWrite", rs=RS)
    d.do("fault", "ComponentRestart", component=RSC)
    assert not d.memory(RSC).syncs and not d.memory(RSC).expectations  # type: ignore[attr-defined]
    assert len(d.pods("web-")) == 1
    d.settle()
    assert len([p for p in d.pods("web-") if p.is_active()]) == 3


def test_a_pod_being_deleted_is_replaced_at_once() -> None:
    """controller_utils.go IsPodActive: a deletionTimestamp makes a pod inactive, so a replacement is created."""
    d = Driver(attrs.evolve(scenario(2, bounds=Bounds(budgets={"delete-pod": 1})), settle=True))
    victim = d.pods("web-")[0]
    d.do("user", "UserDeletePod", pod=victim.meta.key).deliver(RSC)
    assert d.pod(victim.meta.name).meta.deletion_timestamp is not None
    d.do(RSC, "ReplicaSetSync", rs=RS)
    assert next(w.verb for w in d.memory(RSC).syncs[RS].writes) == "create"  # type: ignore[attr-defined]


def test_scale_down_deletes_the_pods_ranked_first() -> None:
    """controller_utils.go ActivePodsWithRanks: pods on the node with more replicas go first (rank)."""
    d = Driver(attrs.evolve(scenario(3, bounds=Bounds(budgets={"scale": 1})), user=UserChoices(scale=(1,)), settle=True))
    by_node: dict[str, list[str]] = {}
    for p in d.pods("web-"):
        by_node.setdefault(p.spec.node_name, []).append(p.meta.key)
    crowded = max(by_node.values(), key=len)
    assert len(crowded) == 2
    d.do("user", "UserScaleReplicaSet", rs=RS, replicas=1).deliver(RSC).do(RSC, "ReplicaSetSync", rs=RS)
    doomed = [w.pod for w in d.memory(RSC).syncs[RS].writes if w.verb == "delete"]  # type: ignore[attr-defined]
    assert sorted(doomed) == sorted(crowded)
    assert sorted(d.memory(RSC).expectations[RS].dels) == sorted(crowded)  # type: ignore[attr-defined]


def _pod(name: str, uid: int, node_name: str = "", phase: str = "Running", ready: bool = True, restarts: int = 0, created: int = 0) -> Pod:
    status = PodStatus(
        phase=phase, ready=ready, ready_transition=created if ready else None, container_statuses=(ContainerStatus("app", restart_count=restarts),)
    )
    meta = ObjectMeta(name=name, namespace="default", uid=uid, creation_timestamp=created)
    return Pod(meta=meta, spec=PodSpec(containers=(container(),), node_name=node_name), status=status)


def test_the_deletion_ranking_follows_active_pods_with_ranks() -> None:
    """controller_utils.go ActivePodsWithRanks.Less: unassigned, Pending, not ready, then more restarts go first."""
    unassigned = _pod("a", 1, phase="Pending", ready=False)
    pending = _pod("b", 2, node_name="n", phase="Pending", ready=False)
    not_ready = _pod("c", 3, node_name="n", ready=False)
    restarted = _pod("d", 4, node_name="n", restarts=5, created=1)
    steady = _pod("e", 5, node_name="n", created=1)
    ordered = [unassigned, pending, not_ready, restarted, steady]
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            assert compare_for_deletion(a, b, 0, 0, 100, 10**10) < 0, (a.meta.name, b.meta.name)
    picked = pods_to_delete(tuple(reversed(ordered)), (), 2, 100, 10**10)
    assert [p.meta.name for p in picked] == ["a", "b"]


def test_newer_pods_go_first_with_logarithmic_buckets() -> None:
    """controller_utils.go LogarithmicScaleDown: younger creation time first; same log2 bucket falls back to UID."""
    tick_ns = 10 * 10**9
    old, young = _pod("old", 9, node_name="n", ready=False, created=0), _pod("young", 8, node_name="n", ready=False, created=90)
    assert compare_for_deletion(young, old, 0, 0, 100, tick_ns) < 0
    same_bucket_a, same_bucket_b = _pod("x", 1, node_name="n", ready=False, created=50), _pod("y", 2, node_name="n", ready=False, created=51)
    assert compare_for_deletion(same_bucket_a, same_bucket_b, 0, 0, 100, tick_ns) < 0


def test_an_orphan_that_matches_is_adopted() -> None:
    """controller_ref_manager.go ClaimPods: a matching orphan gets a controller ownerReference by patch."""
    stray = pod("stray", container(), labels={"app": "web"})
    sc = attrs.evolve(scenario(2, bounds=Bounds(budgets={"create": 1})), user=UserChoices(pods=(stray,)), settle=True)
    d = Driver(sc).do("user", "UserCreate", kind="Pod", name="default/stray").deliver(RSC)
    d.do(RSC, "ReplicaSetSync", rs=RS)
    writes = [(w.verb, w.pod) for w in d.memory(RSC).syncs[RS].writes]  # type: ignore[attr-defined]
    # Adopted, it makes three claimed pods; being unassigned it ranks first for deletion.
    assert writes == [("adopt", "default/stray"), ("delete", "default/stray"), ("status", "")]
    d.do(RSC, "ReplicaSetWrite", rs=RS)
    ref = d.pod("stray").meta.controller_ref()
    assert ref is not None and ref.name == "web" and ref.controller
    d.settle()
    assert len([p for p in d.pods() if p.is_active()]) == 2
    assert "default/stray" not in d.state.api.objects.pods


def test_a_pod_relabelled_out_of_the_selector_is_released_and_replaced() -> None:
    """controller_ref_manager.go: an owned pod that no longer matches is released (ownerRef patched away)."""
    sc = attrs.evolve(scenario(2, bounds=Bounds(budgets={"relabel": 1})), user=UserChoices(relabel=("app=debug",)), settle=True)
    d = Driver(sc)
    victim = d.pods("web-")[0]
    d.do("user", "UserRelabelPod", pod=victim.meta.key, labels="app=debug").settle()
    assert d.pod(victim.meta.name).meta.owner_references == ()
    owned = [p for p in d.pods("web-") if p.meta.controller_ref() is not None and p.is_active()]
    assert len(owned) == 2 and victim.meta.key not in {p.meta.key for p in owned}


def test_status_counts_claimed_active_ready_pods() -> None:
    """replica_set_utils.go calculateStatus: replicas, readyReplicas, availableReplicas, observedGeneration."""
    d = Driver(attrs.evolve(scenario(2), settle=True))
    rs = d.state.api.objects.replicasets[RS]
    assert (rs.status.replicas, rs.status.ready_replicas, rs.status.available_replicas) == (2, 2, 2)
    assert rs.status.observed_generation == rs.meta.generation
    assert not d.enabled(RSC)


def test_a_failed_create_skips_the_rest_and_lowers_expectations() -> None:
    """replica_set.go slowStartBatch: after a failed create the remaining ones are skipped and CreationObserved."""
    d = Driver(scenario(3)).do(RSC, "ReplicaSetSync", rs=RS)
    ns = d.state.api.objects.namespaces["default"]
    # Delete the namespace object behind the controller's back so that creates fail with NotFound.
    d.state = attrs.evolve(d.state, api=attrs.evolve(d.state.api, objects=d.state.api.objects.drop("Namespace", ns.meta.key)))
    d.do(RSC, "ReplicaSetWrite", rs=RS)
    memory = d.memory(RSC)
    assert memory.expectations[RS].add == 0  # type: ignore[attr-defined]
    assert [w.verb for w in memory.syncs[RS].writes] == ["status"]  # type: ignore[attr-defined]
    assert memory.syncs[RS].status.failure == "FailedCreate"  # type: ignore[attr-defined]
