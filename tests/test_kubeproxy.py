"""kube-proxy in iptables mode (component 8), driven through the action catalogue.

The rules a node has are node truth (``state.machines[n].proxy_rules``),
written by ``KubeProxySyncRules`` from kube-proxy's own view of Services and
Endpoints; which backend a new connection reaches is the ``backend``
parameter of the environment's ``ClientConnect``. Each docstring names the
Kubernetes source (k8s@v1.28) the test follows.
"""

from __future__ import annotations

from driver import Driver

from spec.objects import Pod, Service
from spec.runtime import ProxyRule
from spec.scenarios import Bounds, NodeConfig, Scenario, container, node, pod, service

PROXY1, PROXY2 = "kube-proxy/node-1", "kube-proxy/node-2"
SYNC = "KubeProxySyncRules"
RULE = "default/web:80"
NODES = (node("node-1"), node("node-2"))


def backend(name: str, node_name: str, probe: bool = False) -> Pod:
    """A pod of the ``web`` Service bound to ``node_name``."""
    return pod(name, container(readiness_probe=probe), labels={"app": "web"}, node_name=node_name)


def scenario(*objects: object, nodes: tuple[NodeConfig, ...] = NODES, **budgets: int) -> Scenario:
    return Scenario(
        name="proxy",
        summary="kube-proxy test",
        nodes=nodes,
        objects=objects,  # type: ignore[arg-type]
        bounds=Bounds(budgets={k.replace("_", "-"): v for k, v in budgets.items()}),
    )


def svc(d: Driver, name: str = "web") -> Service:
    found: Service = d.state.api.objects.services[f"default/{name}"]
    return found


def rule(d: Driver, node_name: str, key: str = RULE) -> ProxyRule:
    return d.state.machines[node_name].proxy_rules[key]


def offered(d: Driver, node_name: str, key: str = RULE) -> set[str]:
    """The backends ClientConnect offers for a client on ``node_name``."""
    return {str(a.param("backend")) for a in d.enabled("fault", "ClientConnect") if a.param("node") == node_name and a.param("service") == key}


def ready_backends(d: Driver, *names: str) -> tuple[str, ...]:
    return tuple(sorted(f"{d.pod(n).status.pod_ip}:8080" for n in names))


# ------------------------------------------------------------ 1. rules from Services and Endpoints


def test_cluster_ip_rule_on_every_node_lists_the_ready_endpoints() -> None:
    """pkg/proxy/iptables/proxier.go syncProxyRules: a KUBE-SVC chain per Service port, matched on the ClusterIP.

    It DNATs to each ready endpoint, and is written on every node, with or without a local endpoint.
    """
    d = Driver(scenario(backend("a", "node-1"), backend("b", "node-2"), service("web", "web"), nodes=(*NODES, node("node-3"))))
    d.settle()
    want = ProxyRule(cluster_ip=svc(d).spec.cluster_ip, port=80, node_port=0, backends=ready_backends(d, "a", "b"))
    assert want.cluster_ip and len(want.backends) == 2
    for name in ("node-1", "node-2", "node-3"):
        assert rule(d, name) == want, f"{name} (node-3 has no backend of its own)"


def test_node_port_rule_is_programmed_on_every_node() -> None:
    """pkg/proxy/iptables/proxier.go syncProxyRules (KUBE-NODEPORTS): a NodePort Service is reachable on its node port of every node."""
    d = Driver(scenario(backend("a", "node-1"), service("web", "web", type_="NodePort"), nodes=(*NODES, node("node-3"))))
    d.settle()
    node_port = svc(d).spec.ports[0].node_port
    assert 30000 <= node_port <= 32767
    for name in ("node-1", "node-2", "node-3"):
        r = rule(d, name)
        assert (r.node_port, r.cluster_ip, r.backends) == (node_port, svc(d).spec.cluster_ip, ready_backends(d, "a"))


def test_rules_follow_kube_proxy_view_not_the_store() -> None:
    """pkg/proxy/iptables/proxier.go syncProxyRules: rules are computed from the Services and Endpoints kube-proxy's informers delivered.

    Two pods turn unready one after the other and leave the Endpoints. Until
    kube-proxy on a node receives an update, the node keeps DNATing to the old
    backends; a sync after one of the two updates writes exactly that state.
    """
    pods = (backend("a", "node-1", probe=True), backend("b", "node-2", probe=True), backend("c", "node-2"))
    d = Driver(scenario(*pods, service("web", "web"), container_unhealthy=2))
    d.settle()
    every = ready_backends(d, "a", "b", "c")
    assert rule(d, "node-1").backends == every
    for name in ("a", "b"):
        d.do("fault", "ContainerUnhealthy", pod=f"default/{name}", container="app").settle(skip=(PROXY1, PROXY2))
    assert [x.ip for x in d.state.api.objects.endpoints["default/web"].addresses] == [d.pod("c").status.pod_ip]
    assert not d.enabled(PROXY1, SYNC), "kube-proxy has not seen the new Endpoints"
    assert rule(d, "node-1").backends == every
    d.do(PROXY1, "WatchDeliver", kind="Endpoints").do(PROXY1, SYNC)
    assert rule(d, "node-1").backends == ready_backends(d, "b", "c"), "the first update only"
    d.deliver(PROXY1).do(PROXY1, SYNC)
    assert rule(d, "node-1").backends == ready_backends(d, "c")
    assert rule(d, "node-2").backends == every, "node-2's kube-proxy still lags"


# ------------------------------------------------------------ 2. no ready endpoint: REJECT


def test_service_without_ready_endpoints_rejects_connections() -> None:
    """pkg/proxy/iptables/proxier.go syncProxyRules: a Service port with no usable endpoint gets a REJECT rule ("has no endpoints").

    A client connecting is refused at once.
    """
    d = Driver(scenario(backend("a", "node-1", probe=True), service("web", "web"), connect=1))
    d.settle(skip=("KubeletProbeReadiness",))
    eps = d.state.api.objects.endpoints["default/web"]
    assert not eps.addresses and len(eps.not_ready_addresses) == 1, "the pod runs but is not ready"
    assert rule(d, "node-1").backends == ()
    assert offered(d, "node-1") == {""}, "a not-ready pod is never a backend"
    d.do("fault", "ClientConnect", node="node-1", service=RULE, backend="")
    (conn,) = d.state.machines["node-1"].connections
    assert (conn.service, conn.backend, conn.opened_at) == (RULE, "", 0)


def test_service_selecting_no_pod_rejects() -> None:
    """pkg/proxy/iptables/proxier.go syncProxyRules: a Service whose Endpoints are empty has its ClusterIP rule with no backends (REJECT)."""
    d = Driver(scenario(backend("a", "node-1"), service("web", "nothing-has-this-label"), connect=1))
    d.settle()
    assert rule(d, "node-2").cluster_ip == svc(d).spec.cluster_ip
    assert rule(d, "node-2").backends == ()
    assert offered(d, "node-2") == {""}


# ------------------------------------------------------------ 3. which backend: a parameter of ClientConnect


def test_every_ready_backend_is_offered_to_a_new_connection() -> None:
    """pkg/proxy/iptables/proxier.go writeServiceToEndpointRules + pkg/proxy/topology.go CategorizeEndpoints.

    Each ready endpoint is picked with probability 1/n, so every one is a possible choice.

    The not-ready third pod is not offered; the chosen backend is kept on the
    connection (conntrack).
    """
    pods = (backend("a", "node-1"), backend("b", "node-2"), backend("c", "node-2", probe=True))
    d = Driver(scenario(*pods, service("web", "web"), connect=1))
    d.settle(skip=("KubeletProbeReadiness",))
    ready = set(ready_backends(d, "a", "b"))
    assert len(ready) == 2
    assert offered(d, "node-1") == ready and offered(d, "node-2") == ready
    assert f"{d.pod('c').status.pod_ip}:8080" not in offered(d, "node-1")
    choice = ready_backends(d, "b")[0]
    d.do("fault", "ClientConnect", node="node-1", service=RULE, backend=choice)
    assert [c.backend for c in d.state.machines["node-1"].connections] == [choice]
    assert not d.enabled("fault", "ClientConnect"), "the connect budget is spent"


# ------------------------------------------------------------ 4. rules are node truth


def test_rules_survive_a_kube_proxy_restart() -> None:
    """pkg/proxy/iptables/proxier.go: the rules live in the kernel, not in kube-proxy.

    A restarted kube-proxy relists and finds them already right; clients keep being served meanwhile.
    """
    d = Driver(scenario(backend("a", "node-1"), backend("b", "node-2"), service("web", "web"), component_restart=1, connect=1))
    d.settle()
    before = d.state.machines["node-1"].proxy_rules
    d.do("fault", "ComponentRestart", component=PROXY1)
    assert d.state.machines["node-1"].proxy_rules == before
    assert d.state.views[PROXY1].cache.endpoints, "the restarted kube-proxy relisted"
    assert not d.enabled(PROXY1, SYNC), "nothing to rewrite"
    assert offered(d, "node-1") == set(ready_backends(d, "a", "b"))


def test_rules_vanish_on_node_crash_and_are_rebuilt_after_restart() -> None:
    """pkg/proxy/iptables/proxier.go syncProxyRules: kernel rules and conntrack entries die with the machine.

    The restarted kube-proxy lists Services and Endpoints and rewrites them.
    """
    d = Driver(scenario(backend("a", "node-2"), backend("b", "node-2"), service("web", "web", type_="NodePort"), node_crash=1, connect=1))
    d.settle()
    before = d.state.machines["node-1"].proxy_rules
    assert before[RULE].backends == ready_backends(d, "a", "b")
    d.do("fault", "ClientConnect", node="node-1", service=RULE, backend=before[RULE].backends[0])
    d.do("fault", "NodeCrash", node="node-1")
    crashed = d.state.machines["node-1"]
    assert crashed.proxy_rules == {} and crashed.connections == ()
    assert d.state.machines["node-2"].proxy_rules == before, "other nodes keep theirs"
    d.do("fault", "NodeRestart", node="node-1")
    assert d.state.machines["node-1"].proxy_rules == {}
    d.do(PROXY1, SYNC)
    assert d.state.machines["node-1"].proxy_rules == before
    assert rule(d, "node-1").node_port == svc(d).spec.ports[0].node_port != 0


# ------------------------------------------------------------ serving-terminating fallback
