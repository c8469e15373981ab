"""The garbage collector (component 6), driven through the action catalogue.

Sources: k8s@v1.28 ``pkg/controller/garbagecollector/garbagecollector.go``
(attemptToDeleteItem, classifyReferences, attemptToOrphan),
``pkg/controller/garbagecollector/graph_builder.go``, and the API server's
``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go``
(deletionFinalizersForGarbageCollection: the ``orphan`` finalizer).
"""

from __future__ import annotations

from driver import Driver

from spec.objects import ORPHAN_FINALIZER, POD, REPLICASET, Pod, ReplicaSet
from spec.scenarios import Bounds, Scenario, UserChoices, container, node, replicaset, service

GC = "garbage-collector"
COLLECT = "GarbageCollectPod"
ORPHAN = "GarbageCollectOrphan"
RS = "default/web"


def web() -> ReplicaSet:
    return replicaset("web", 2, container(readiness_probe=True))


def scenario(budgets: dict[str, int], settle: bool = True, create: bool = False) -> Scenario:
    """Two nodes running a ReplicaSet ``web`` of 2 behind a Service (or, with ``create``, the user may create it)."""
    return Scenario(
        name="gc",
        summary="a ReplicaSet and its pods",
        nodes=(node("node-1"), node("node-2")),
        objects=(service("web", "web"),) if create else (web(), service("web", "web")),
        user=UserChoices(replicasets=(web(),)),
        bounds=Bounds(budgets=budgets),
        settle=settle,
    )


def live_rs(d: Driver) -> ReplicaSet | None:
    rs = d.state.api.objects.replicasets.get(RS)
    assert rs is None or isinstance(rs, ReplicaSet)
    return rs


def web_pods(d: Driver) -> list[Pod]:
    return sorted(d.pods("web-"), key=lambda p: p.meta.name)


def test_background_delete_removes_the_dependents() -> None:
    """A pod whose owner is gone (a dangling reference) is deleted, Background.

    Follows pkg/controller/garbagecollector/garbagecollector.go attemptToDeleteItem.
    """
    d = Driver(scenario({"delete-replicaset": 1}))
    pods = web_pods(d)
    owner = live_rs(d)
    assert owner is not None and len(pods) == 2
    assert all(p.meta.controller_ref() is not None and p.meta.controller_ref().uid == owner.meta.uid for p in pods)  # type: ignore[union-attr]

    d.do("user", "UserDeleteReplicaSet", rs=RS, orphan=False)
    assert live_rs(d) is None  # Background: the owner goes at once, its pods stay for the collector
    assert [p.meta.deletion_timestamp for p in web_pods(d)] == [None, None]
    assert d.enabled(GC, COLLECT) == []  # the collector has not observed the deletion yet
    d.deliver(GC, [REPLICASET])
    assert d.enabled(GC, COLLECT) == [d.action(GC, COLLECT, pod=p.meta.key) for p in pods]
    d.do(GC, COLLECT, pod=pods[0].meta.key)
    deleting = d.pod(pods[0].meta.name)
    assert deleting.meta.deletion_timestamp is not None  # an ordinary graceful DELETE: the kubelet stops it
    assert deleting.meta.deletion_grace_period_seconds == pods[0].spec.termination_grace_period_seconds

    d.settle()
    assert d.pods() == []
    assert all(not m.sandboxes for m in d.state.machines.values())
    assert d.state.api.objects.endpoints[RS].addresses == ()


def test_orphan_propagation_strips_owner_references_then_the_finalizer() -> None:
    """Orphan keeps the pods, without the owner.

    Follows pkg/controller/garbagecollector/garbagecollector.go attemptToOrphan and
    staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go deletionFinalizersForGarbageCollection.
    """
    d = Driver(scenario({"delete-replicaset": 1, "create": 1}))
    pods = web_pods(d)
    owner = live_rs(d)
    assert owner is not None

    d.do("user", "UserDeleteReplicaSet", rs=RS, orphan=True)
    marked = live_rs(d)
    assert marked is not None and marked.meta.finalizers == (ORPHAN_FINALIZER,) and marked.meta.deletion_timestamp is not None
    d.deliver(GC, [REPLICASET])
    assert d.enabled(GC, ORPHAN) == [d.action(GC, ORPHAN, rs=RS)]
    # one dependent per step: its reference to the owner is removed, the pod is untouched otherwise
    for n in range(1, 3):
        d.do(GC, ORPHAN, rs=RS)
        freed = [p for p in web_pods(d) if not p.meta.owner_references]
        assert len(freed) == n
        assert all(p.meta.deletion_timestamp is None for p in web_pods(d))
        assert live_rs(d) is not None and live_rs(d).meta.finalizers == (ORPHAN_FINALIZER,)  # type: ignore[union-attr]
        # the next step works from the collector's view, which must see this patch first
        d.deliver(GC, [POD])
    # no dependent left: the finalizer goes, and with it the owner
    d.do(GC, ORPHAN, rs=RS)
    assert live_rs(d) is None

    d.settle()
    left = web_pods(d)
    assert [p.meta.uid for p in left] == [p.meta.uid for p in pods]
    assert all(not p.meta.owner_references and p.is_active() and p.status.phase == "Running" and p.status.ready for p in left)
    assert all(m.sandboxes for m in d.state.machines.values())
    assert d.enabled(GC, COLLECT) == []  # nothing for the collector: the pods own themselves now
    assert {a.pod for a in d.state.api.objects.endpoints[RS].addresses} == {p.meta.key for p in pods}

    # a ReplicaSet with the same selector created later adopts them instead of creating new pods
    d.do("user", "UserCreate", kind=REPLICASET, name=RS).settle()
    heir = live_rs(d)
    assert heir is not None and heir.meta.uid != owner.meta.uid
    adopted = web_pods(d)
    assert [p.meta.uid for p in adopted] == [p.meta.uid for p in pods]
    assert all(p.meta.controller_ref() is not None and p.meta.controller_ref().uid == heir.meta.uid for p in adopted)  # type: ignore[union-attr]


def test_the_collector_checks_the_owner_live_before_deleting() -> None:
    """An owner missing from the graph is looked up with a live GET; if it exists the pod stays.

    Follows pkg/controller/garbagecollector/garbagecollector.go classifyReferences.
    """
    d = Driver(scenario({"create": 1}, create=True))
    d.do("user", "UserCreate", kind=REPLICASET, name=RS)
    # everything runs, except the collector, which then sees the pods but not yet their owner
    d.settle(skip=(GC,))
    d.deliver(GC, [POD])
    owner = live_rs(d)
    pods = web_pods(d)
    assert owner is not None and len(pods) == 2 and all(p.status.phase == "Running" for p in pods)
    view = d.state.views[GC].cache
    assert RS not in view.replicasets and {p.meta.key for p in pods} <= set(view.pods)

    # the step is enabled (the view cannot resolve the owner), but it deletes nothing
    assert d.enabled(GC, COLLECT) == [d.action(GC, COLLECT, pod=p.meta.key) for p in pods]
    revision = d.state.api.revision
    d.do(GC, COLLECT, pod=pods[0].meta.key)
    assert d.state.api.revision == revision  # no write at all
    assert d.memory(GC).solid == (owner.meta.uid,)  # type: ignore[attr-defined]
    assert d.enabled(GC, COLLECT) == []  # the live GET found the owner: no other dependent of it is in doubt
    assert [(p.meta.uid, p.meta.deletion_timestamp, p.meta.owner_references) for p in web_pods(d)] == [
        (p.meta.uid, None, p.meta.owner_references) for p in pods
    ]

    d.deliver(GC)
    assert d.enabled(GC) == []
    d.settle()
    assert [p.meta.uid for p in web_pods(d)] == [p.meta.uid for p in pods]
    assert all(p.meta.deletion_timestamp is None for p in web_pods(d))


def test_a_recreated_owner_with_another_uid_does_not_save_the_dependents() -> None:
    """An owner of the same name but another UID is dangling; the old pods are deleted.

    Follows pkg/controller/garbagecollector/garbagecollector.go classifyReferences.
    """
    d = Driver(scenario({"delete-replicaset": 1, "create": 1}))
    old = web_pods(d)
    old_uid = live_rs(d).meta.uid  # type: ignore[union-attr]
    d.do("user", "UserDeleteReplicaSet", rs=RS, orphan=False)
    d.do("user", "UserCreate", kind=REPLICASET, name=RS)
    assert live_rs(d).meta.uid != old_uid  # type: ignore[union-attr]
    # the collector's view still holds the old owner; once it sees the new one, the old pods' references dangle
    d.deliver(GC, [REPLICASET])
    assert d.enabled(GC, COLLECT) == [d.action(GC, COLLECT, pod=p.meta.key) for p in old]
    d.settle()
    left = web_pods(d)
    assert len(left) == 2 and not {p.meta.uid for p in left} & {p.meta.uid for p in old}
    assert all(p.meta.controller_ref().uid == live_rs(d).meta.uid for p in left)  # type: ignore[union-attr]
