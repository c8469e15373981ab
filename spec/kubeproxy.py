"""kube-proxy (iptables mode): program each node's NAT rules from Services and Endpoints.

Follows k8s@v1.28 pkg/proxy/iptables/proxier.go: for every Service port a
KUBE-SVC chain matched on the ClusterIP (and, for NodePort Services, on the
node port of every node) that DNATs to one of the ready endpoints with equal
probability; a Service port with no endpoint gets a REJECT rule, so clients
are refused at once. A sync rewrites the whole table at once
(iptables-restore), from kube-proxy's own view of Services and Endpoints.

The rules are kernel state, so they live in node truth
(``spec.runtime.Machine.proxy_rules``): they survive a kube-proxy restart and
vanish when the machine crashes. Which backend a connection reaches is the
choice of the environment action ``ClientConnect``.

Simplification: kube-proxy reads the legacy Endpoints object, not
EndpointSlices. Endpoints carry no terminating pods, so when no endpoint is
ready the rule rejects, where v1.28 kube-proxy would fall back to endpoints
that are terminating but still serving (ProxyTerminatingEndpoints,
pkg/proxy/topology.go CategorizeEndpoints).
"""

from __future__ import annotations

from collections.abc import Iterator

from spec.component import ActionDef, ComponentType, Context, Param, Watch, node_of
from spec.frozen import FrozenMap, replace
from spec.objects import ENDPOINTS, SERVICE
from spec.runtime import ProxyRule
from spec.state import Objects, State

NAME = "kube-proxy"
KEEP_STALE = "kube-proxy-keep-stale"


def desired_rules(cache: Objects) -> FrozenMap[str, ProxyRule]:
    """The iptables rules kube-proxy writes for the Services and Endpoints in its cache."""
    rules = {}
    for key, svc in cache.services.items():
        eps = cache.endpoints.get(key)
        for port in svc.spec.ports:
            backends: tuple[str, ...] = ()
            if eps is not None:
                backends = tuple(sorted(f"{a.ip}:{port.target_port}" for a in eps.addresses))
            rules[f"{key}:{port.port}"] = ProxyRule(cluster_ip=svc.spec.cluster_ip, port=port.port, node_port=port.node_port, backends=backends)
    return FrozenMap(rules)


def _rules(ctx: Context, s: State, me: str) -> FrozenMap[str, ProxyRule]:
    """What a sync writes: the desired rules (plus the node's old ones, in the variant ``kube-proxy-keep-stale``)."""
    desired = desired_rules(s.views[me].cache)
    if not ctx.flag(KEEP_STALE):
        return desired
    return FrozenMap({**dict(s.machines[node_of(me)].proxy_rules.items()), **dict(desired.items())})


def _sync_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """When the node's rules differ from what kube-proxy's view calls for."""
    machine = s.machines[node_of(me)]
    if machine.up and _rules(ctx, s, me) != machine.proxy_rules:
        yield ()


def _sync(ctx: Context, s: State, me: str) -> State:
    """KubeProxySyncRules: rewrite the node's NAT rules (iptables-restore)."""
    machine = replace(s.machines[node_of(me)], proxy_rules=_rules(ctx, s, me))
    return replace(s, machines=s.machines.set(machine.name, machine))


KUBE_PROXY = ComponentType(
    kind=NAME,
    per_node=True,
    watches=(Watch(SERVICE), Watch(ENDPOINTS)),
    actions=(ActionDef("KubeProxySyncRules", (), _sync_guard, _sync),),
    source="pkg/proxy/iptables/proxier.go",
)
