"""The endpoints controller (component 4), driven through the action catalogue.

Each test names the Kubernetes source it follows: k8s@v1.28
``pkg/controller/endpoint/endpoints_controller.go`` (syncService,
addEndpointSubset) and ``endpointslice util/controller_utils.go``
(ShouldPodBeInEndpoints). Scenarios are built here, small, and most start
from the converged cluster (``settle=True``).
"""

from __future__ import annotations

import attrs
import pytest
from driver import Driver

from spec.errors import ActionNotEnabledError
from spec.objects import ENDPOINTS, POD, EndpointAddress, Endpoints, ObjectMeta, Pod
from spec.scenarios import Bounds, Scenario, UserChoices, container, node, pod, replicaset, service

EPC = "endpoints-controller"
SYNC = "EndpointsSync"
WEB = "default/web"


def web_scenario(replicas: int = 2, budgets: dict[str, int] | None = None, **kw: object) -> Scenario:
    """One roomy node, a ReplicaSet ``web`` (readiness probe) behind the Service ``web``, converged."""
    web = replicaset("web", replicas, container(readiness_probe=True))
    return Scenario(
        name="endpoints",
        summary="a ReplicaSet behind a Service",
        nodes=(node("node-1"),),
        objects=(web, service("web", "web")),
        bounds=Bounds(budgets=budgets or {}),
        settle=True,
        **kw,  # type: ignore[arg-type]
    )


def endpoints(d: Driver, key: str = WEB) -> Endpoints:
    ep = d.state.api.objects.endpoints.get(key)
    assert ep is not None, f"no Endpoints {key}"
    assert isinstance(ep, Endpoints)
    return ep


def listed(addresses: tuple[EndpointAddress, ...]) -> set[str]:
    """The pod names an address list points at."""
    return {a.pod.rpartition("/")[2] for a in addresses}


def web_pods(d: Driver) -> list[Pod]:
    return sorted(d.pods("web-"), key=lambda p: p.meta.name)


def test_ready_pods_in_addresses_others_in_not_ready_addresses() -> None:
    """A ready pod goes to addresses, a pod that is not ready to notReadyAddresses.

    Follows pkg/controller/endpoint/endpoints_controller.go addEndpointSubset.
    """
    d = Driver(web_scenario(budgets={"container-unhealthy": 1}))
    a, b = web_pods(d)
    ep = endpoints(d)
    assert listed(ep.addresses) == {a.meta.name, b.meta.name} and ep.not_ready_addresses == ()
    by_pod = {addr.pod: addr for addr in ep.addresses}
    assert by_pod[a.meta.key] == EndpointAddress(ip=a.status.pod_ip, node_name="node-1", pod=a.meta.key, uid=a.meta.uid)

    d.do("fault", "ContainerUnhealthy", pod=a.meta.key, container="app").settle()
    assert d.pod(a.meta.name).status.ready is False and d.pod(a.meta.name).status.phase == "Running"
    ep = endpoints(d)
    assert listed(ep.addresses) == {b.meta.name}
    assert listed(ep.not_ready_addresses) == {a.meta.name}
    assert ep.not_ready_addresses[0].ip == a.status.pod_ip


def test_publish_not_ready_addresses_lists_every_pod_as_ready() -> None:
    """With publishNotReadyAddresses every pod with an IP goes to addresses.

    Follows pkg/controller/endpoint/endpoints_controller.go addEndpointSubset.
    """
    svc = service("web", "web")
    svc = attrs.evolve(svc, spec=attrs.evolve(svc.spec, publish_not_ready_addresses=True))
    web = replicaset("web", 2, container(readiness_probe=True))
    scenario = attrs.evolve(web_scenario(budgets={"container-unhealthy": 1}), objects=(web, svc))
    d = Driver(scenario)
    a, b = web_pods(d)
    d.do("fault", "ContainerUnhealthy", pod=a.meta.key, container="app").settle()
    assert d.pod(a.meta.name).status.ready is False
    ep = endpoints(d)
    assert listed(ep.addresses) == {a.meta.name, b.meta.name} and ep.not_ready_addresses == ()


def test_a_deleted_pod_leaves_addresses_before_it_stops_running() -> None:
    """A terminating pod (deletionTimestamp) is excluded at once.

    Follows staging/src/k8s.io/endpointslice/util/controller_utils.go ShouldPodBeInEndpoints.
    """
    d = Driver(web_scenario(budgets={"delete-pod": 1}))
    a, b = web_pods(d)
    d.do("user", "UserDeletePod", pod=a.meta.key)
    d.deliver(EPC)
    assert d.enabled(EPC, SYNC) == [d.action(EPC, SYNC, service=WEB)]
    d.do(EPC, SYNC, service=WEB)

    ep = endpoints(d)
    assert a.meta.name not in listed(ep.addresses) | listed(ep.not_ready_addresses)
    assert listed(ep.addresses) == {b.meta.name}
    # ... while the pod is still Running and Ready in the API and its container still runs on the machine
    doomed = d.pod(a.meta.name)
    assert doomed.meta.deletion_timestamp is not None
    assert doomed.status.phase == "Running" and doomed.status.ready
    assert d.state.machines["node-1"].sandboxes[a.meta.uid].running()


def test_a_pod_in_another_namespace_is_never_selected() -> None:
    """Pods are listed in the Service's namespace only.

    Follows pkg/controller/endpoint/endpoints_controller.go syncService.
    """
    stranger = pod("stranger", container(), labels={"app": "web"}, node_name="node-1")
    stranger = attrs.evolve(stranger, meta=attrs.evolve(stranger.meta, namespace="other"))
    base = web_scenario()
    d = Driver(attrs.evolve(base, namespaces=("default", "other"), objects=(*base.objects, stranger)))
    other = d.state.api.objects.pods["other/stranger"]
    assert other.status.phase == "Running" and other.status.ready and other.status.pod_ip  # it would qualify by labels, IP and readiness
    assert other.meta.key in d.state.views[EPC].cache.pods
    ep = endpoints(d)
    assert all(a.pod != "other/stranger" for a in ep.addresses + ep.not_ready_addresses)
    assert listed(ep.addresses) == {p.meta.name for p in web_pods(d)}
    assert d.enabled(EPC, SYNC) == []


def test_a_pod_without_an_ip_is_not_listed() -> None:
    """A pod with no status.podIP is excluded.

    Follows staging/src/k8s.io/endpointslice/util/controller_utils.go ShouldPodBeInEndpoints.
    """
    # room for two pods only: the third replica stays Pending, unscheduled, without an IP
    scenario = attrs.evolve(web_scenario(replicas=3), nodes=(node("node-1", pods=2),))
    d = Driver(scenario)
    pods = web_pods(d)
    pending = [p for p in pods if not p.status.pod_ip]
    assert len(pods) == 3 and len(pending) == 1 and pending[0].status.phase == "Pending"
    assert pending[0].meta.key in d.state.views[EPC].cache.pods
    ep = endpoints(d)
    assert listed(ep.addresses) == {p.meta.name for p in pods if p.status.pod_ip}
    assert pending[0].meta.name not in listed(ep.not_ready_addresses)


def test_a_pod_appears_when_it_reports_an_ip_not_ready_first() -> None:
    """Listed once it has an IP, not ready until probed.

    Follows staging/src/k8s.io/endpointslice/util/controller_utils.go ShouldPodBeInEndpoints and addEndpointSubset.
    """
    d = Driver(attrs.evolve(web_scenario(replicas=1), settle=False))
    d.settle(skip=("KubeletSyncStatus", "KubeletProbeReadiness"))
    (p,) = d.pods("web-")
    assert d.state.machines["node-1"].sandboxes[p.meta.uid].ip  # running, but the API does not know its IP yet
    assert p.status.pod_ip == ""
    assert endpoints(d).addresses == () and endpoints(d).not_ready_addresses == ()
    d.do("kubelet/node-1", "KubeletSyncStatus", pod=p.meta.key)
    d.settle(skip=("KubeletProbeReadiness",))
    assert d.pod("web-").status.pod_ip and not d.pod("web-").status.ready
    assert listed(endpoints(d).not_ready_addresses) == {p.meta.name} and endpoints(d).addresses == ()
    d.settle()
    assert listed(endpoints(d).addresses) == {p.meta.name} and endpoints(d).not_ready_addresses == ()


def test_writes_only_on_change() -> None:
    """An Endpoints whose subsets and labels are unchanged is not written.

    Follows pkg/controller/endpoint/endpoints_controller.go syncService.
    """
    d = Driver(web_scenario(budgets={"relabel": 1}, user=UserChoices(relabel=("app=web,tier=frontend",))))
    ep = endpoints(d)
    assert d.enabled(EPC, SYNC) == []
    with pytest.raises(ActionNotEnabledError):
        d.do(EPC, SYNC, service=WEB)
    # a pod change that does not change the Endpoints: the controller sees it, and writes nothing
    a = web_pods(d)[0]
    d.do("user", "UserRelabelPod", pod=a.meta.key, labels="app=web,tier=frontend")
    d.deliver(EPC)
    assert d.state.views[EPC].cache.pods[a.meta.key].meta.labels["tier"] == "frontend"
    assert d.enabled(EPC, SYNC) == []
    d.settle()
    assert endpoints(d).meta.resource_version == ep.meta.resource_version
    assert endpoints(d) == ep


def test_a_service_without_selector_gets_no_managed_endpoints() -> None:
    """A Service with a nil selector is skipped; its Endpoints are the user's.

    Follows pkg/controller/endpoint/endpoints_controller.go syncService.
    """
    svc = service("external", "unused")
    svc = attrs.evolve(svc, spec=attrs.evolve(svc.spec, selector=None))
    manual = Endpoints(
        meta=ObjectMeta(name="external", namespace="default"),
        addresses=(EndpointAddress(ip="192.168.0.7", node_name="", pod="", uid=0),),
    )
    base = attrs.evolve(web_scenario(), settle=False)
    d = Driver(attrs.evolve(base, objects=(*base.objects, svc, manual)))
    created = endpoints(d, "default/external")
    d.settle()
    assert WEB in d.state.api.objects.endpoints  # the controller did run
    assert endpoints(d, "default/external") == created  # same addresses, same resourceVersion: never written
    assert d.enabled(EPC, SYNC) == []
    # without the user's Endpoints, none is created for it either
    d2 = Driver(attrs.evolve(base, objects=(*base.objects, svc))).settle()
    assert "default/external" in d2.state.api.objects.services
    assert "default/external" not in d2.state.api.objects.endpoints
    assert WEB in d2.state.api.objects.endpoints


def test_a_deleted_services_endpoints_are_deleted() -> None:
    """When the Service is gone, its Endpoints are deleted.

    Follows pkg/controller/endpoint/endpoints_controller.go syncService.
    """
    d = Driver(web_scenario(budgets={"delete-service": 1}))
    assert WEB in d.state.api.objects.endpoints
    d.do("user", "UserDeleteService", service=WEB)
    assert WEB in d.state.api.objects.endpoints  # not deleted with the Service: the controller does it
    d.deliver(EPC)
    assert d.enabled(EPC, SYNC) == [d.action(EPC, SYNC, service=WEB)]
    d.do(EPC, SYNC, service=WEB)
    assert WEB not in d.state.api.objects.endpoints
    d.settle()
    assert WEB not in d.state.api.objects.endpoints
    assert len(d.pods("web-")) == 2


def test_a_stale_view_meets_a_conflict_and_waits_for_its_watch() -> None:
    """The update carries the cached resourceVersion; a Conflict writes nothing and the key is retried.

    Follows pkg/controller/endpoint/endpoints_controller.go syncService.
    """
    d = Driver(web_scenario(budgets={"delete-pod": 2}))
    a, b = web_pods(d)
    d.do("user", "UserDeletePod", pod=a.meta.key).deliver(EPC, [POD])
    d.do(EPC, SYNC, service=WEB)
    written = endpoints(d)
    assert listed(written.addresses) == {b.meta.name}
    # the controller's own write has not come back on its Endpoints watch yet
    cached = d.state.views[EPC].cache.endpoints[WEB]
    assert cached.meta.resource_version < written.meta.resource_version

    d.do("user", "UserDeletePod", pod=b.meta.key).deliver(EPC, [POD])
    before = d.state
    # the guard wants a sync, but the update with the stale resourceVersion is a Conflict: a stutter, not an action
    assert d.enabled(EPC, SYNC) == []
    with pytest.raises(ActionNotEnabledError, match="stutter"):
        d.do(EPC, SYNC, service=WEB)
    assert d.state is before and endpoints(d) == written

    d.deliver(EPC, [ENDPOINTS])
    assert d.state.views[EPC].cache.endpoints[WEB] == written
    assert d.enabled(EPC, SYNC) == [d.action(EPC, SYNC, service=WEB)]
    d.do(EPC, SYNC, service=WEB)
    assert endpoints(d).addresses == () and endpoints(d).not_ready_addresses == ()
    assert endpoints(d).meta.resource_version > written.meta.resource_version
