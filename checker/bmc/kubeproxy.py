"""kube-proxy, as Z3 (spec/kubeproxy.py; pkg/proxy/iptables/proxier.go syncProxyRules).

Cells: each machine's NAT rules, one rule per port of each Service slot
(``<service>:<port>``): whether it is there, the ClusterIP it matches (a
code, ``layout.ip_code``) and, for each pod IP the run can hand out
(``layout.pod_ips``), how many times ``ip:targetPort`` is among its backends
(the backends are a sorted list, so the counts are the list). The node port is 0
(no Service here is of type NodePort). kube-proxy's caches are read off the
unrolling (``checker.bmc.informer``); its watches have no handler.

Encoded: the watch deliveries and KubeProxySyncRules; a machine's crash
clears its rules (:func:`lost`, and its watches end with the kubelet's),
and its restart lists the store; the quiescent invariant
``proxy-converges``.
"""

from __future__ import annotations

import z3

from checker.bmc.core import NONE, Cell, Encoded, Terms, Unrolling
from checker.bmc.endpoints import READY, STORE, View, cell, listed
from checker.bmc.informer import deliver
from checker.bmc.layout import Layout, ip_code, layout_of, machine_up, reachable
from spec import kubeproxy as kp
from spec.component import Action
from spec.objects import ENDPOINTS, SERVICE
from spec.state import State

NAME = kp.NAME


def instance(node: str) -> str:
    """kube-proxy's instance on ``node``."""
    return f"{NAME}/{node}"


def nodes(layout: Layout) -> list[str]:
    """The machines whose kube-proxy runs."""
    return [node for node in layout.prefixes if any(inst == instance(node) for inst, _ in layout.ctx.components)]


def encodable(layout: Layout) -> bool:
    """The rules are cells here: the Endpoints are (``endpoints.encodable``) and some machine runs kube-proxy."""
    return layout.addresses is not None and bool(nodes(layout))


def rules(layout: Layout) -> list[tuple[str, str, int]]:
    """Every rule a machine can hold: (its key, the Service slot, the target port)."""
    return [(f"{key}:{p.port}", key, p.target_port) for key, svc in layout.service_objects.items() for p in svc.spec.ports]


def rule_cell(node: str, rule: str, field: str) -> str:
    """The cell of a field of a rule of a machine: ``present``, ``ip`` or ``backend/<pod slot>``."""
    return f"proxy/{node}/{rule}/{field}"


def cells(layout: Layout) -> list[Cell]:
    """Each kube-proxy machine's rule cells."""
    out: list[Cell] = []
    for node in nodes(layout):
        for rule, _, _ in rules(layout):
            out += [Cell(rule_cell(node, rule, "present"), boolean=True), Cell(rule_cell(node, rule, "ip"))]
            out += [Cell(rule_cell(node, rule, f"backend/{ip}")) for ip in layout.pod_ips]
    return out


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The rule cells of a state (a missing rule: no ClusterIP, no backend)."""
    out: dict[str, int | bool] = {}
    for node in nodes(layout):
        held = s.machines[node].proxy_rules
        for rule, _, port in rules(layout):
            have = held.get(rule)
            code = NONE if have is None else layout_ip(have.cluster_ip)
            out |= {rule_cell(node, rule, "present"): have is not None, rule_cell(node, rule, "ip"): code}
            backends = [layout.pod_ip_code(b.removesuffix(f":{port}")) for b in have.backends] if have is not None else []
            assert set(backends) <= set(layout.pod_ips), f"{rule}: a backend other than a pod IP's and the target port"
            out |= {rule_cell(node, rule, f"backend/{ip}"): backends.count(ip) for ip in layout.pod_ips}
    return out


def lost(layout: Layout, node: str) -> Terms:
    """NodeCrash: the machine's rules are gone (environment._crash: ``proxy_rules={}``); nothing where the rules are not cells."""
    if not encodable(layout) or node not in nodes(layout):
        return {}
    out: Terms = {}
    for rule, _, _ in rules(layout):
        out |= {rule_cell(node, rule, "present"): z3.BoolVal(False), rule_cell(node, rule, "ip"): z3.IntVal(NONE)}
        out |= {rule_cell(node, rule, f"backend/{ip}"): z3.IntVal(0) for ip in layout.pod_ips}
    return out


def layout_ip(ip: str) -> int:
    """A ClusterIP's code (the layout admits only ClusterIPs with one)."""
    code = ip_code(ip)
    assert code is not None
    return code


def desired(u: Unrolling, t: int, view: View) -> dict[str, Terms]:
    """The rules ``view``'s Services and Endpoints call for (kubeproxy.desired_rules), each as its cells' values without the machine.

    (A count is 0 for an IP no sandbox can hold by frame t, and only the
    addresses of pod slots that can show an IP by then are counted.)
    """

    def build() -> dict[str, Terms]:
        layout = layout_of(u)
        out: dict[str, Terms] = {}
        for rule, key, _ in rules(layout):
            present = view.read(u, t, SERVICE, f"service/{key}/exists")
            eps = view.read(u, t, ENDPOINTS, cell(key, "exists"))
            terms: Terms = {"present": present, "ip": z3.If(present, view.read(u, t, SERVICE, f"service/{key}/ip"), NONE)}
            ready = [
                (view.read(u, t, ENDPOINTS, cell(key, f"addr/{pod}")) == READY, view.read(u, t, ENDPOINTS, cell(key, f"ip/{pod}")))
                for pod in listed(layout, key)
                if layout.shows_ip_from[pod] <= t
            ]
            for ip, since in layout.pod_ips.items():
                count = z3.Sum([z3.If(z3.And(is_ready, at == ip), 1, 0) for is_ready, at in ready] or [z3.IntVal(0)])
                terms[f"backend/{ip}"] = z3.If(z3.And(present, eps), count, 0) if since <= t and ready else z3.IntVal(0)
            out[rule] = terms
        return out

    return u.memo(("kube-proxy desired", t, view.instance), build)


def _written(u: Unrolling, t: int, node: str) -> Terms:
    """What a sync writes (kubeproxy._rules): the desired rules, and in ``kube-proxy-keep-stale`` the machine's other rules kept."""
    layout = layout_of(u)
    f = u[t]
    keep = layout.ctx.flag(kp.KEEP_STALE)
    out: Terms = {}
    for rule, terms in desired(u, t, View(instance(node))).items():
        present = terms["present"]
        for field, term in terms.items():
            name = rule_cell(node, rule, field)
            out[name] = z3.If(present, term, f[name]) if keep else term
    return out


def _differs(u: Unrolling, t: int, node: str, want: Terms) -> z3.BoolRef:
    return z3.Or([u[t][name] != term for name, term in sorted(want.items())])


def sync(node: str) -> Encoded:
    """KubeProxySyncRules: while the machine is up, rewrite its rules when they differ from what kube-proxy's caches call for."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(machine_up(u, t, node), _differs(u, t, node, _written(u, t, node)))

    return Encoded(Action(instance(node), "KubeProxySyncRules", ()), guard, lambda u, t: _written(u, t, node))


def deliver_kind(node: str, kind: str) -> Encoded:
    """WatchDeliver of one of kube-proxy's watches, while its machine is reachable (no handler)."""
    me = instance(node)

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(reachable(u, t, node), deliver(u, t, me, kind)[0])

    return Encoded(Action(me, "WatchDeliver", (("kind", kind),)), guard, lambda u, t: deliver(u, t, me, kind)[2])


def actions(layout: Layout) -> list[Encoded]:
    """Each kube-proxy's encoded actions, in catalogue order."""
    out: list[Encoded] = []
    for node in nodes(layout):
        out += [deliver_kind(node, w.kind) for inst, w in layout.ctx.watchers if inst == instance(node)]
        out.append(sync(node))
    return out


def unconverged(u: Unrolling, t: int) -> z3.BoolRef:
    """Some reachable machine's rules differ from what the store's Services and Endpoints call for (invariants.proxy_converges)."""
    layout = layout_of(u)
    want = desired(u, t, STORE)
    out = []
    for node in nodes(layout):
        mine = {rule_cell(node, rule, field): term for rule, terms in want.items() for field, term in terms.items()}
        out.append(z3.And(reachable(u, t, node), _differs(u, t, node, mine)))
    return z3.Or(out) if out else z3.BoolVal(False)
