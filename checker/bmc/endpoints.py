"""The Endpoints controller, as Z3 (spec/controllers/endpoints.py; pkg/controller/endpoint/endpoints_controller.go).

Cells: each Service slot's Endpoints object (whether it exists, its
resourceVersion) and, for each pod slot its Service selects that can show an
IP in the run (``layout.addresses``), where its address is listed
(``NOT_LISTED``, ``READY``: subsets[0].addresses, or ``NOT_READY``:
notReadyAddresses) with the IP (a code, ``layout.pod_ip_code``; NONE when not
listed) and node (a node code; 0) the controller wrote. An address's uid is
its pod slot's, so a set of listed slots is the controller's sorted address
list, and its labels and ports are the Service's. The pods' IPs and
readiness are read from their status as the controller's cache holds it
(a status slot's cells, or its constant status); the caches are read off the
unrolling (``checker.bmc.informer``); its watches have no handler.

Encoded: the watch deliveries, EndpointsSync (create, update with the
cached resourceVersion, delete of an orphan), the quiescent invariant
``endpoints-converge`` and the transition invariant
``endpoints-never-terminating``.
"""

from __future__ import annotations

import attrs
import z3

from checker.bmc import status
from checker.bmc.apiserver import choose, commit, pod_status, terminal
from checker.bmc.core import NONE, Cell, Encoded, Terms, Unrolling
from checker.bmc.informer import cache_revision, cached, cursor_only
from checker.bmc.layout import Layout, layout_of
from spec.component import Action
from spec.controllers import endpoints as ec
from spec.objects import ENDPOINTS, POD, SERVICE
from spec.state import State

NAME = ec.NAME
NOT_LISTED, READY, NOT_READY = 0, 1, 2


ADDRESS = ("addr", "ip", "node")
"""an address's fields: where it is listed, its IP's code and its node's code"""


@attrs.frozen
class View:
    """Where a read of the Endpoints inputs comes from: the controller's caches (``instance``) or the store (``instance`` empty)."""

    instance: str = ""

    def read(self, u: Unrolling, t: int, kind: str, name: str) -> z3.ExprRef:
        """Cell ``name`` of an object of ``kind`` as this view holds it in frame t."""
        return cached(u, t, self.instance, kind, name) if self.instance else u[t][name]

    def status(self, u: Unrolling, t: int, pod: str, field: str) -> z3.ExprRef:
        """A status field of pod slot ``pod`` as this view holds it in frame t."""
        return pod_status(u, t, pod, field, cache_revision(u, t, self.instance, POD) if self.instance else None)


STORE = View()


def encodable(layout: Layout) -> bool:
    """The Endpoints are cells here: there are Service slots, their addresses can be encoded (``layout.addresses``) and the controller runs.

    (Where no Service can ever exist, only the controller's pod deliveries
    are possible, and they are encoded by themselves: :func:`serviceless`.)
    """
    return bool(layout.services) and layout.addresses is not None and any(inst == NAME for inst, _ in layout.ctx.components)


def cell(key: str, field: str) -> str:
    """The cell of a field of the Endpoints of Service slot ``key`` (``exists``, ``rv``, or ``<address field>/<pod slot>``)."""
    return f"endpoints/{key}/{field}"


def listed(layout: Layout, key: str) -> tuple[str, ...]:
    """The pod slots the Endpoints of Service slot ``key`` can list."""
    assert layout.addresses is not None
    return layout.addresses[key]


def cells(layout: Layout) -> list[Cell]:
    """Each Service slot's Endpoints cells."""
    out: list[Cell] = []
    for key in layout.services:
        out += [Cell(cell(key, "exists"), boolean=True), Cell(cell(key, "rv"))]
        out += [Cell(cell(key, f"{field}/{pod}")) for pod in listed(layout, key) for field in ADDRESS]
    return out


Address = dict[str, z3.ArithRef]
"""an address's fields as terms (``ADDRESS``)"""

UNLISTED: dict[str, int] = {"addr": NOT_LISTED, "ip": NONE, "node": 0}
"""the fields of a slot the Endpoints do not list"""


def _unlisted() -> Address:
    return {field: z3.IntVal(value) for field, value in UNLISTED.items()}


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The Endpoints cells of a state."""
    out: dict[str, int | bool] = {}
    for key in layout.services:
        eps = s.api.objects.endpoints.get(key)
        out[cell(key, "exists")] = eps is not None
        out[cell(key, "rv")] = eps.meta.resource_version if eps is not None else 0
        ready = {a.pod: a for a in eps.addresses} if eps is not None else {}
        not_ready = {a.pod: a for a in eps.not_ready_addresses} if eps is not None else {}
        for pod in listed(layout, key):
            a = ready.get(pod) or not_ready.get(pod)
            code = layout.pod_ip_code(a.ip) if a is not None else NONE
            assert code is not None, f"{a}: an IP without a code"
            fields = {"addr": READY if pod in ready else NOT_READY, "ip": code, "node": layout.node_code(a.node_name)} if a else UNLISTED
            out |= {cell(key, f"{field}/{pod}"): value for field, value in fields.items()}
    return out


def desired(u: Unrolling, t: int, key: str, view: View) -> dict[str, Address]:
    """The address of each pod slot in the Endpoints the controller computes from ``view`` (desired_endpoints, ShouldPodBeInEndpoints).

    A pod is listed while it exists, has an IP, is not terminal and (unless
    included) is not terminating: as ready if it is ready, or with
    publishNotReadyAddresses or ``endpoints-ignore-readiness``.
    """
    return u.memo(("endpoints desired", t, key, view.instance), lambda: _desired(u, t, key, view))


def _desired(u: Unrolling, t: int, key: str, view: View) -> dict[str, Address]:
    layout = layout_of(u)
    svc = layout.service_objects[key]
    publish = svc.spec.publish_not_ready_addresses
    keep_terminating = publish or layout.ctx.flag(ec.KEEP_TERMINATING)
    out: dict[str, Address] = {}
    for pod in listed(layout, key):
        if layout.shows_ip_from[pod] > t:
            out[pod] = _unlisted()
            continue
        ip = view.status(u, t, pod, "ip")
        present = z3.And(view.read(u, t, POD, f"pod/{pod}/exists"), ip != NONE, z3.Not(status.terminal_phase(view.status(u, t, pod, "phase"))))
        if not keep_terminating:
            present = z3.And(present, z3.Not(view.read(u, t, POD, f"pod/{pod}/deleting")))
        ready = z3.Or(publish or layout.ctx.flag(ec.IGNORE_READINESS), view.status(u, t, pod, "ready"))
        node = view.read(u, t, POD, f"pod/{pod}/node")
        out[pod] = {
            "addr": z3.If(present, z3.If(ready, READY, NOT_READY), NOT_LISTED),
            "ip": z3.If(present, ip, NONE),
            "node": z3.If(present, node, 0),
        }
    return out


def _content_differs(u: Unrolling, t: int, key: str, view: View, want: dict[str, Address]) -> z3.BoolRef:
    """The Endpoints of ``view`` list other addresses than ``want`` (same_content; the labels and ports are the Service's)."""
    return z3.Or([view.read(u, t, ENDPOINTS, cell(key, f"{field}/{pod}")) != term for pod, a in sorted(want.items()) for field, term in a.items()])


def _sync_guard(u: Unrolling, t: int, key: str) -> z3.BoolRef:
    """_sync_guard: the cached Service's Endpoints are missing or list other addresses; or the cached Endpoints' Service is gone."""
    layout = layout_of(u)
    view = View(NAME)
    svc = view.read(u, t, SERVICE, f"service/{key}/exists")
    eps = view.read(u, t, ENDPOINTS, cell(key, "exists"))
    if layout.service_objects[key].spec.selector is None:
        return z3.And(z3.Not(svc), eps)
    stale = z3.Or(z3.Not(eps), _content_differs(u, t, key, view, desired(u, t, key, view)))
    return z3.If(svc, stale, eps)


def _write(u: Unrolling, t: int, key: str, exists: bool, addresses: dict[str, Address]) -> Terms:
    """A write of the Endpoints of slot ``key``: present (with a new resourceVersion) or removed, with these addresses."""
    f = u[t]
    changes: Terms = {cell(key, "exists"): z3.BoolVal(exists), cell(key, "rv"): f["rev"] + 1 if exists else z3.IntVal(0)}
    changes |= {cell(key, f"{field}/{pod}"): term for pod, a in addresses.items() for field, term in a.items()}
    return commit(u, t, ENDPOINTS, layout_of(u).slot(ENDPOINTS, key), changes)


def _sync(u: Unrolling, t: int, key: str) -> Terms:
    """EndpointsSync (syncService): delete the Endpoints of a Service that is gone, create them, or update them with the cached resourceVersion.

    A DELETE of Endpoints that are gone is NotFound, a POST of ones that
    exist AlreadyExists, a PUT whose resourceVersion is not the stored one a
    Conflict: nothing is written.
    """
    layout = layout_of(u)
    f = u[t]
    view = View(NAME)
    stored = f[cell(key, "exists")]
    none = {pod: _unlisted() for pod in listed(layout, key)}
    namespace = layout.service_objects[key].meta.namespace in layout.namespaces
    current = z3.And(stored, f[cell(key, "rv")] == view.read(u, t, ENDPOINTS, cell(key, "rv")))
    svc = view.read(u, t, SERVICE, f"service/{key}/exists")
    removed = (z3.And(z3.Not(svc), stored), _write(u, t, key, False, none))
    if layout.service_objects[key].spec.selector is None:
        return choose(u, t, [removed])
    cached_eps = view.read(u, t, ENDPOINTS, cell(key, "exists"))
    want = desired(u, t, key, view)
    created = (z3.And(svc, z3.Not(cached_eps), z3.Not(stored), namespace), _write(u, t, key, True, want) | {"next_uid": f["next_uid"] + 1})
    updated = (z3.And(svc, cached_eps, current, _content_differs(u, t, key, STORE, want)), _write(u, t, key, True, want))
    return choose(u, t, [removed, created, updated])


def sync(key: str) -> Encoded:
    """EndpointsSync of one Service slot."""
    return Encoded(Action(NAME, "EndpointsSync", (("service", key),)), lambda u, t: _sync_guard(u, t, key), lambda u, t: _sync(u, t, key))


def deliver_kind(kind: str) -> Encoded:
    """WatchDeliver of one of the controller's watches (no handler: the cache is the store as of the cursor)."""
    return cursor_only(NAME, kind)


def actions(layout: Layout) -> list[Encoded]:
    """The controller's encoded actions, in catalogue order."""
    kinds = [w.kind for inst, w in layout.ctx.watchers if inst == NAME]
    return [*(deliver_kind(kind) for kind in kinds), *(sync(key) for key in layout.services)]


def serviceless(layout: Layout, initial: State) -> bool:
    """No Service ever exists (none at the start, none the user may create) and nothing of one is left: no Endpoints, no NAT rule, no
    Service or Endpoints in a cache or an event pending. Then only the controller's pod deliveries can happen of the Services' part of the
    model: EndpointsSync needs a Service or an orphan Endpoints, KubeProxySyncRules rules that differ from none, and no Service or
    Endpoints is ever written for a watch to deliver."""
    if layout.services or initial.api.objects.endpoints or any(m.proxy_rules for m in initial.machines.values()):
        return False
    for inst, w in layout.ctx.watchers:
        cache = initial.views[inst].cache
        if w.kind in (SERVICE, ENDPOINTS) and (w.kind in initial.channels.cursors.get(inst, {}) or cache.services or cache.endpoints):
            return False
    return any(inst == NAME for inst, _ in layout.ctx.components)


def serviceless_actions() -> list[Encoded]:
    """Where no Service ever exists (:func:`serviceless`): the controller's pod deliveries, which move its cursor (and nothing reads it but
    the quiescence condition: ``unread``)."""
    return [attrs.evolve(deliver_kind(POD), unread=True)]


SERVICELESS_IMPOSSIBLE = ("EndpointsSync", "KubeProxySyncRules", f"WatchDeliver kind={SERVICE}", f"WatchDeliver kind={ENDPOINTS}")
"""what no run can take where no Service ever exists (:func:`serviceless`)"""


def _multisets_differ(a: list[tuple[z3.ArithRef, z3.ArithRef]], b: list[tuple[z3.ArithRef, z3.ArithRef]]) -> z3.BoolRef:
    """Two lists of (where listed, IP) hold the listed entries a different number of times (NOT_LISTED entries do not count)."""

    def count(entries: list[tuple[z3.ArithRef, z3.ArithRef]], e: tuple[z3.ArithRef, z3.ArithRef]) -> z3.ArithRef:
        return z3.Sum([z3.If(z3.And(x[0] == e[0], x[1] == e[1]), 1, 0) for x in entries])

    return z3.Or([z3.And(e[0] != NOT_LISTED, count(a, e) != count(b, e)) for e in [*a, *b]] or [z3.BoolVal(False)])


def unconverged(u: Unrolling, t: int) -> z3.BoolRef:
    """The store's Endpoints of some Service with a selector are missing or list other IPs than its pods (invariants.endpoints_converge).

    The invariant compares the sorted IPs of the ready and not-ready
    addresses with those of the active pods with an IP, as ready when they
    are ready (or the Service publishes not-ready addresses), whatever the
    variant: the same multisets.
    """
    layout = layout_of(u)
    f = u[t]
    out = []
    for key, svc in layout.service_objects.items():
        if svc.spec.selector is None:
            continue
        shown = [pod for pod in listed(layout, key) if layout.shows_ip_from[pod] <= t]
        have = [(f[cell(key, f"addr/{pod}")], f[cell(key, f"ip/{pod}")]) for pod in shown]
        want = []
        for pod in shown:
            ip = pod_status(u, t, pod, "ip")
            active = z3.And(f[f"pod/{pod}/exists"], z3.Not(f[f"pod/{pod}/deleting"]), z3.Not(terminal(u, t, pod)), ip != NONE)
            ready = z3.Or(svc.spec.publish_not_ready_addresses, pod_status(u, t, pod, "ready"))
            want.append((z3.If(active, z3.If(ready, READY, NOT_READY), NOT_LISTED), ip))
        out.append(z3.And(f[f"service/{key}/exists"], z3.Or(z3.Not(f[cell(key, "exists")]), _multisets_differ(have, want))))
    return z3.Or(out) if out else z3.BoolVal(False)


def ready_terminating(u: Unrolling, t: int) -> z3.BoolRef:
    """endpoints-never-terminating broken by step t-1: an EndpointsSync wrote a ready address of a pod the controller's cache showed
    terminating or finished (invariants.endpoints_never_terminating; a Service that publishes not-ready addresses is exempt).

    An address's uid is its pod slot's, so a cached pod of the slot is the
    address's pod.
    """
    layout = layout_of(u)
    if t == 0:
        return z3.BoolVal(False)
    before, after = u[t - 1], u[t]
    view = View(NAME)
    bad = []
    for i, enc in enumerate(u.actions):
        if enc.action.component != NAME or enc.action.name != "EndpointsSync":
            continue
        key = str(enc.action.param("service"))
        if layout.service_objects[key].spec.publish_not_ready_addresses:
            continue
        written = z3.And(after[cell(key, "exists")], after[cell(key, "rv")] != before[cell(key, "rv")])
        seen = view.read(u, t - 1, SERVICE, f"service/{key}/exists")
        listed_ready = []
        for pod in listed(layout, key):
            gone = z3.Or(view.read(u, t - 1, POD, f"pod/{pod}/deleting"), status.terminal_phase(view.status(u, t - 1, pod, "phase")))
            listed_ready.append(z3.And(after[cell(key, f"addr/{pod}")] == READY, view.read(u, t - 1, POD, f"pod/{pod}/exists"), gone))
        if listed_ready:
            bad.append(z3.And(u.choices[t - 1] == i, written, seen, z3.Or(listed_ready)))
    return z3.Or(bad) if bad else z3.BoolVal(False)
