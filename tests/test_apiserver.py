"""The API server and etcd store (component 1).

Each test names the apiserver / k8s source it follows. Calls go through
``spec.apiserver`` on a model's state, and through the catalogue where an
action makes the call.
"""

from __future__ import annotations

import attrs
import pytest
from driver import Driver

from spec import apiserver, informer
from spec.labels import parse_selector
from spec.objects import (
    NO_EXECUTE,
    POD,
    REPLICASET,
    SERVICE,
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    ObjectMeta,
    Pod,
    ReplicaSet,
    Service,
    with_meta,
)
from spec.scenarios import Bounds, Scenario, container, node, pod, replicaset, service

SCENARIO = Scenario(
    name="api",
    summary="one node, no objects",
    nodes=(node("node-1"),),
    namespaces=("default", "other"),
    bounds=Bounds(budgets={"delete-replicaset": 2}),
)


@pytest.fixture
def d() -> Driver:
    return Driver(SCENARIO)


def create(d: Driver, obj: object) -> apiserver.Result:
    result = apiserver.create(d.ctx, d.state, obj)  # type: ignore[arg-type]
    d.state = result.state
    return result


def bound_pod(d: Driver, name: str = "p", grace: int = 3) -> Pod:
    """A pod created and bound to node-1."""
    created = create(d, pod(name, container(), labels={"app": "web"}, grace=grace))
    assert created.obj is not None
    bound = apiserver.bind(d.ctx, d.state, created.obj.meta.key, "node-1", created.obj.meta.uid)
    d.state = bound.state
    assert isinstance(bound.obj, Pod)
    return bound.obj


# ---------------------------------------------------------------- resourceVersion


def test_every_write_stamps_the_next_global_revision(d: Driver) -> None:
    """etcd3 store.go: one revision counter; each write's object carries it as resourceVersion."""
    start = d.state.api.revision
    a = create(d, pod("a", container())).obj
    b = create(d, service("web", "web")).obj
    assert a is not None and b is not None
    assert (a.meta.resource_version, b.meta.resource_version) == (start + 1, start + 2)
    assert d.state.api.revision == start + 2
    assert a.meta.uid != b.meta.uid


def test_a_no_op_update_does_not_bump_the_revision(d: Driver) -> None:
    """etcd3 store.go GuaranteedUpdate: identical bytes are not written and the RV stays."""
    p = create(d, pod("a", container())).obj
    assert p is not None
    result = apiserver.update(d.ctx, d.state, p)
    assert result.ok and result.state.api.revision == d.state.api.revision
    assert result.obj == p


# ---------------------------------------------------------------- create


def test_create_of_an_existing_name_is_already_exists(d: Driver) -> None:
    """registry/store.go Create: 409 AlreadyExists."""
    create(d, pod("a", container()))
    result = create(d, pod("a", container()))
    assert result.error is not None
    assert (result.error.code, result.error.reason) == (409, "AlreadyExists")
    assert result.error.message == 'pods "a" already exists'


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        (pod("Bad_Name", container()), 'metadata.name: Invalid value: "Bad_Name"'),
        (pod("a", container(), labels={"app": "-bad"}), 'metadata.labels: Invalid value: "-bad"'),
        (pod("a", container(), labels={"Example.com/x": "v"}), 'metadata.labels: Invalid value: "Example.com/x"'),
        (service("9web", "web"), 'metadata.name: Invalid value: "9web": a DNS-1035 label'),
    ],
)
def test_create_validates_names_and_labels(d: Driver, obj: object, fragment: str) -> None:
    """apimachinery validation/objectmeta.go and pkg/apis/core/validation: 422 Invalid with the field path."""
    result = create(d, obj)
    assert result.error is not None and result.error.code == 422
    assert fragment in result.error.message


def test_replicaset_selector_must_match_its_template(d: Driver) -> None:
    """pkg/apis/apps/validation: `selector` does not match template `labels`; an empty selector is invalid."""
    rs = replicaset("web", 1, container())
    mismatched = attrs.evolve(rs, spec=attrs.evolve(rs.spec, selector=parse_selector("app=other")))
    result = create(d, mismatched)
    assert result.error is not None and "`selector` does not match template `labels`" in result.error.message
    empty = attrs.evolve(rs, spec=attrs.evolve(rs.spec, selector=parse_selector("")))
    result = create(d, empty)
    assert result.error is not None and "empty selector is invalid" in result.error.message


def test_a_namespaced_object_needs_an_existing_namespace(d: Driver) -> None:
    """registry/store.go: creating in a missing namespace is 404 NotFound for the namespace."""
    p = pod("a", container())
    result = create(d, with_meta(p, namespace="nowhere"))
    assert result.error is not None and result.error.message == 'namespaces "nowhere" not found'
    assert create(d, with_meta(p, namespace="other")).ok


def test_create_defaults_pull_policy_and_tolerations(d: Driver) -> None:
    """core/v1 defaults.go SetDefaults_Container and admission/defaulttolerationseconds."""
    latest = create(d, pod("a", container(image="nginx:latest"))).obj
    untagged = create(d, pod("b", container(image="nginx"))).obj
    tagged = create(d, pod("c", container(image="nginx:1.25"))).obj
    assert isinstance(latest, Pod) and isinstance(untagged, Pod) and isinstance(tagged, Pod)
    assert [p.spec.containers[0].image_pull_policy for p in (latest, untagged, tagged)] == ["Always", "Always", "IfNotPresent"]
    tolerated = {(t.key, t.effect, t.toleration_seconds) for t in tagged.spec.tolerations}
    seconds = d.ctx.timing.default_toleration_seconds
    assert tolerated == {(TAINT_NOT_READY, NO_EXECUTE, seconds), (TAINT_UNREACHABLE, NO_EXECUTE, seconds)}


def test_generate_name_gets_a_unique_suffix(d: Driver) -> None:
    """registry/store.go Create with metadata.generateName: the server picks the name."""
    template = Pod(meta=ObjectMeta(name="", generate_name="web-", namespace="default"), spec=pod("x", container()).spec)
    a, b = create(d, template).obj, create(d, template).obj
    assert a is not None and b is not None
    assert a.meta.name.startswith("web-") and b.meta.name.startswith("web-") and a.meta.name != b.meta.name


# ---------------------------------------------------------------- update


def test_update_with_a_stale_resource_version_is_a_conflict(d: Driver) -> None:
    """registry/store.go Update: a resourceVersion mismatch is 409 Conflict (OptimisticLockErrorMsg)."""
    rs = create(d, replicaset("web", 1, container())).obj
    assert isinstance(rs, ReplicaSet)
    first = apiserver.update(d.ctx, d.state, attrs.evolve(rs, spec=attrs.evolve(rs.spec, replicas=2)))
    assert first.ok
    stale = apiserver.update(d.ctx, first.state, attrs.evolve(rs, spec=attrs.evolve(rs.spec, replicas=3)))
    assert stale.error is not None and stale.error.code == 409
    assert stale.error.message == (
        'Operation cannot be fulfilled on replicasets.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert stale.state is first.state


def test_updates_without_resource_version(d: Driver) -> None:
    """pod/strategy.go AllowUnconditionalUpdate: pods yes; a ReplicaSet needs a resourceVersion (422)."""
    p = create(d, pod("a", container())).obj
    rs = create(d, replicaset("web", 1, container())).obj
    assert p is not None and rs is not None
    assert apiserver.update(d.ctx, d.state, with_meta(p, resource_version=0, labels={"x": "y"})).ok
    result = apiserver.update(d.ctx, d.state, with_meta(rs, resource_version=0))
    assert result.error is not None and "must be specified for an update" in result.error.message


def test_spec_node_name_cannot_change_by_update(d: Driver) -> None:
    """core/validation ValidatePodUpdate: pod updates may not change fields other than the image."""
    p = bound_pod(d)
    moved = attrs.evolve(p, spec=attrs.evolve(p.spec, node_name="node-2"))
    result = apiserver.update(d.ctx, d.state, moved)
    assert result.error is not None and "pod updates may not change fields" in result.error.message
    image = attrs.evolve(p, spec=attrs.evolve(p.spec, containers=(attrs.evolve(p.spec.containers[0], image="nginx:1.26"),)))
    assert apiserver.update(d.ctx, d.state, image).ok


def test_a_main_update_keeps_status_and_a_status_update_keeps_spec(d: Driver) -> None:
    """pod/strategy.go PrepareForUpdate / statusStrategy: each endpoint changes only its part."""
    p = bound_pod(d)
    running = attrs.evolve(p.status, phase="Running")
    relabelled_pod = with_meta(p, labels={"a": "b"})
    assert isinstance(relabelled_pod, Pod)
    relabelled = apiserver.update(d.ctx, d.state, attrs.evolve(relabelled_pod, status=running))
    assert isinstance(relabelled.obj, Pod) and relabelled.obj.status.phase == "Pending"
    status = apiserver.update_status(d.ctx, relabelled.state, POD, p.meta.key, running)
    assert isinstance(status.obj, Pod) and status.obj.status.phase == "Running" and status.obj.meta.labels == {"a": "b"}


def test_replicaset_spec_change_bumps_generation_and_selector_is_immutable(d: Driver) -> None:
    """apps/replicaset strategy.go: generation on spec change; the selector is immutable in apps/v1."""
    rs = create(d, replicaset("web", 1, container())).obj
    assert isinstance(rs, ReplicaSet)
    scaled = apiserver.update(d.ctx, d.state, attrs.evolve(rs, spec=attrs.evolve(rs.spec, replicas=3)))
    assert isinstance(scaled.obj, ReplicaSet) and scaled.obj.meta.generation == rs.meta.generation + 1
    reselected = attrs.evolve(scaled.obj, spec=attrs.evolve(scaled.obj.spec, selector=parse_selector("app=web,x=y")))
    result = apiserver.update(d.ctx, scaled.state, reselected)
    assert result.error is not None and "field is immutable" in result.error.message


# ---------------------------------------------------------------- delete


def test_an_unbound_pod_is_deleted_at_once(d: Driver) -> None:
    """pod/strategy.go CheckGracefulDelete: grace is forced to 0 when spec.nodeName is empty."""
    p = create(d, pod("a", container())).obj
    assert p is not None
    result = apiserver.delete(d.ctx, d.state, POD, p.meta.key)
    assert result.ok and result.obj is None and p.meta.key not in result.state.api.objects.pods


def test_a_bound_pod_gets_a_deletion_timestamp(d: Driver) -> None:
    """registry/store.go updateForGracefulDeletion: deletionTimestamp = now + grace; the pod stays."""
    p = bound_pod(d, grace=3)
    result = apiserver.delete(d.ctx, d.state, POD, p.meta.key)
    assert isinstance(result.obj, Pod)
    assert result.obj.meta.deletion_timestamp == d.state.clock + 3
    assert result.obj.meta.deletion_grace_period_seconds == 3


def test_a_second_delete_may_only_shorten_the_grace_period(d: Driver) -> None:
    """rest/delete.go BeforeDelete: an equal or longer grace is a no-op; a shorter one moves the timestamp earlier."""
    p = bound_pod(d, grace=3)
    first = apiserver.delete(d.ctx, d.state, POD, p.meta.key)
    longer = apiserver.delete(d.ctx, first.state, POD, p.meta.key, grace=10)
    assert longer.state is first.state
    shorter = apiserver.delete(d.ctx, first.state, POD, p.meta.key, grace=1)
    assert isinstance(shorter.obj, Pod) and shorter.obj.meta.deletion_timestamp == d.state.clock + 1
    gone = apiserver.delete(d.ctx, shorter.state, POD, p.meta.key, grace=0)
    assert gone.ok and p.meta.key not in gone.state.api.objects.pods


def test_a_terminal_pod_is_deleted_at_once(d: Driver) -> None:
    """pod/strategy.go CheckGracefulDelete: grace 0 for Succeeded or Failed pods."""
    p = bound_pod(d)
    d.state = apiserver.update_status(d.ctx, d.state, POD, p.meta.key, attrs.evolve(p.status, phase="Succeeded")).state
    result = apiserver.delete(d.ctx, d.state, POD, p.meta.key)
    assert result.ok and p.meta.key not in result.state.api.objects.pods


def test_finalizers_block_removal_until_the_last_is_gone(d: Driver) -> None:
    """registry/store.go: with finalizers only deletionTimestamp is set; removing the last one deletes."""
    p = bound_pod(d)
    d.state = apiserver.update(d.ctx, d.state, with_meta(p, finalizers=("example.com/hold",), resource_version=0)).state
    held = apiserver.delete(d.ctx, d.state, POD, p.meta.key, grace=0)
    assert isinstance(held.obj, Pod) and held.obj.meta.deletion_timestamp is not None
    more = apiserver.update(d.ctx, held.state, with_meta(held.obj, finalizers=("example.com/hold", "x/y")))
    assert more.error is not None and "no new finalizers can be added if the object is being deleted" in more.error.message
    released = apiserver.update(d.ctx, held.state, with_meta(held.obj, finalizers=()))
    assert released.ok and p.meta.key not in released.state.api.objects.pods


def test_delete_with_a_stale_uid_precondition_is_a_conflict(d: Driver) -> None:
    """storage/interfaces.go Preconditions.Check: a UID mismatch is 409 Conflict."""
    p = bound_pod(d)
    result = apiserver.delete(d.ctx, d.state, POD, p.meta.key, grace=0, uid=p.meta.uid + 100)
    assert result.error is not None and result.error.code == 409 and "Precondition failed: UID in precondition" in result.error.message


def test_orphan_deletion_of_a_replicaset_sets_the_orphan_finalizer(d: Driver) -> None:
    """registry/store.go deletionFinalizersForGarbageCollection: propagationPolicy=Orphan adds `orphan`."""
    d.state = create(d, replicaset("web", 1, container())).state
    d.do("user", "UserDeleteReplicaSet", rs="default/web", orphan=True)
    rs = d.state.api.objects.replicasets["default/web"]
    assert rs.meta.finalizers == ("orphan",) and rs.meta.deletion_timestamp == d.state.clock
    create(d, replicaset("api", 1, container()))
    d.do("user", "UserDeleteReplicaSet", rs="default/api", orphan=False)
    assert "default/api" not in d.state.api.objects.replicasets


# ---------------------------------------------------------------- binding


def test_binding_is_write_once(d: Driver) -> None:
    """pod/storage/storage.go assignPod: binding a bound pod is 409 'already assigned to node'."""
    p = bound_pod(d)
    assert p.spec.node_name == "node-1"
    again = apiserver.bind(d.ctx, d.state, p.meta.key, "node-2", p.meta.uid)
    assert again.error is not None and again.error.code == 409
    assert again.error.message == 'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "node-1"'


def test_binding_a_deleting_pod_or_a_missing_one_fails(d: Driver) -> None:
    """pod/storage/storage.go assignPod: 'is being deleted, cannot be assigned to a host'; 404 if absent."""
    p = create(d, pod("p", container())).obj
    assert p is not None
    d.state = apiserver.update(d.ctx, d.state, with_meta(p, finalizers=("example.com/hold",), resource_version=0)).state
    d.state = apiserver.delete(d.ctx, d.state, POD, p.meta.key).state
    result = apiserver.bind(d.ctx, d.state, p.meta.key, "node-1", p.meta.uid)
    assert result.error is not None and "is being deleted, cannot be assigned to a host" in result.error.message
    missing = apiserver.bind(d.ctx, d.state, "default/none", "node-1")
    assert missing.error is not None and missing.error.code == 404


def test_binding_with_another_uid_is_a_conflict(d: Driver) -> None:
    """defaultbinder: the Binding carries the pod UID as a precondition (a recreated pod is another pod)."""
    p = create(d, pod("p", container())).obj
    assert p is not None
    result = apiserver.bind(d.ctx, d.state, p.meta.key, "node-1", p.meta.uid + 1)
    assert result.error is not None and result.error.code == 409 and result.state.api.objects.pods[p.meta.key].spec.node_name == ""


# ---------------------------------------------------------------- services


def test_cluster_ips_and_node_ports_are_allocated_uniquely(d: Driver) -> None:
    """pkg/registry/core/service ipallocator/portallocator: every Service gets its own ClusterIP and node port."""
    a = create(d, service("a", "web", type_="NodePort")).obj
    b = create(d, service("b", "web", type_="NodePort")).obj
    c = create(d, service("c", "web")).obj
    assert isinstance(a, Service) and isinstance(b, Service) and isinstance(c, Service)
    assert len({a.spec.cluster_ip, b.spec.cluster_ip, c.spec.cluster_ip}) == 3
    ports = [s.spec.ports[0].node_port for s in (a, b)]
    assert len(set(ports)) == 2 and all(30000 <= p <= 32767 for p in ports)
    assert c.spec.ports[0].node_port == 0
    taken = attrs.evolve(c, meta=ObjectMeta(name="d", namespace="default"))
    result = create(d, taken)
    assert result.error is not None and "provided IP is already allocated" in result.error.message


def test_cluster_ip_is_immutable_and_freed_on_delete(d: Driver) -> None:
    """service storage: an update keeps the allocation; a deleted Service's IP can be allocated again."""
    a = create(d, service("a", "web")).obj
    assert isinstance(a, Service)
    updated = apiserver.update(d.ctx, d.state, attrs.evolve(a, spec=attrs.evolve(a.spec, cluster_ip="")))
    assert isinstance(updated.obj, Service) and updated.obj.spec.cluster_ip == a.spec.cluster_ip
    d.state = apiserver.delete(d.ctx, updated.state, SERVICE, a.meta.key).state
    again = create(d, service("b", "web")).obj
    assert isinstance(again, Service) and again.spec.cluster_ip == a.spec.cluster_ip


# ---------------------------------------------------------------- watch events


def test_every_write_reaches_every_watcher_of_its_kind(d: Driver) -> None:
    """cacher/cache_watcher.go: each write is one event for each watch that selects the object."""
    create(d, replicaset("web", 1, container()))
    watching = {name for name, w in d.ctx.watchers if w.kind == REPLICASET}
    pending = {name for name in watching if informer.pending(d.ctx, d.state, name, REPLICASET) is not None}
    assert pending == watching == {"replicaset-controller", "garbage-collector"}


def test_the_kubelet_sees_only_pods_bound_to_its_node() -> None:
    """kubelet's pod watch uses fieldSelector spec.nodeName=<node>: binding arrives as ADDED."""
    d = Driver(attrs.evolve(SCENARIO, nodes=(node("node-1"), node("node-2"))))
    p = create(d, pod("p", container())).obj
    assert p is not None
    assert informer.pending(d.ctx, d.state, "kubelet/node-1", POD) is None
    d.state = apiserver.bind(d.ctx, d.state, p.meta.key, "node-1", p.meta.uid).state
    assert informer.pending(d.ctx, d.state, "kubelet/node-2", POD) is None
    ev = informer.pending(d.ctx, d.state, "kubelet/node-1", POD)
    assert ev is not None
    watch = d.ctx.watch_of("kubelet/node-1", POD)
    assert informer.event_type(watch.selects, "node-1", ev) == informer.ADDED


def test_a_pod_leaving_a_filtered_watch_arrives_as_deleted(d: Driver) -> None:
    """cache_watcher.go convertToWatchEvent: the scheduler's watch excludes terminal pods, so Failed looks DELETED."""
    p = bound_pod(d)
    d.deliver("scheduler")
    assert p.meta.key in d.state.views["scheduler"].cache.pods
    d.state = apiserver.update_status(d.ctx, d.state, POD, p.meta.key, attrs.evolve(p.status, phase="Failed")).state
    ev = informer.pending(d.ctx, d.state, "scheduler", POD)
    assert ev is not None and informer.event_type(d.ctx.watch_of("scheduler", POD).selects, "", ev) == informer.DELETED
    d.deliver("scheduler")
    assert p.meta.key not in d.state.views["scheduler"].cache.pods
