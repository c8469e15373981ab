"""The API server's store, its watch history and its Service writes, as Z3 cells (spec/apiserver.py, spec/informer.py).

Cells: the store revision and the next uid; each Service slot's existence,
ClusterIP, uid and resourceVersion; each watch's cursor (NONE when it has
nothing to deliver); and, as history, the kind each step wrote.

The watch history is read off the unrolling: the event of revision r is the
write of the step that reached r, and the initial state's events are
constants. An event stays in the history (``informer._trim``) while it is
inside the watch cache's window or some watch of its kind has not delivered
it; the oldest revision a lagging list can be served at
(``informer.oldest_listable``) is the window's start or the first kept
event's, whichever is later. The store as of a revision
(``informer.store_at``) is the frame at that revision, or before the
initial one, the initial state's (or where a stale list can read it, the
pods' cells as the initial history gives them: ``store_history``).

Simplification of the encoding (not of the model): it relies on a dropped
event never being needed again, which holds for runs of the encoded actions
(a relist moves a cursor back no further than the oldest listable
revision, after which every event is kept); the differential test checks
it along every run it draws.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import z3

from checker.bmc import status
from checker.bmc.core import NONE, Cell, Terms, Unrolling
from checker.bmc.layout import MANAGED_TAINTS, READY, READY_REASONS, Layout, Watcher, clock, event_object, ip_code, layout_of, machine_up
from checker.bmc.status import unschedulable_code
from spec import apiserver as api
from spec import informer, validation
from spec.frozen import replace
from spec.objects import LEASE, NODE, POD, REPLICASET, SERVICE, Node, Pod, ReplicaSetStatus, Service
from spec.state import State

FIRST_CLUSTER_IP = 10
"""the allocator hands out 10.96.0.10 first (spec.apiserver._allocate_service)"""


RS_STATUS = ("replicas", "fully_labeled_replicas", "ready_replicas", "available_replicas", "observed_generation", "failure")
"""the ReplicaSet status fields, as cells (failure as a code: FAILURES)"""
FAILURES = ("", "FailedCreate", "FailedDelete")


def cells(layout: Layout) -> list[Cell]:
    """The store's cells."""
    out = [Cell("rev"), Cell("next_uid"), Cell("wrote", history=True), Cell("wrote_slot", history=True)]
    for key in layout.services:
        out += [Cell(f"service/{key}/exists", boolean=True), Cell(f"service/{key}/ip"), Cell(f"service/{key}/uid"), Cell(f"service/{key}/rv")]
    for key in layout.pods:
        out += [Cell(f"pod/{key}/exists", boolean=True), Cell(f"pod/{key}/rv"), Cell(f"pod/{key}/deleting", boolean=True)]
        out += [Cell(f"pod/{key}/node"), Cell(f"pod/{key}/scheduled", boolean=True), Cell(f"pod/{key}/unschedulable")]
        if key in layout.status_slots:
            out += [Cell(f"pod/{key}/{name}", boolean=boolean) for name, boolean in status.store_fields(layout, key)]
    out += [Cell(f"pod/{key}/uid") for key in layout.user_pods]
    out += [Cell(f"pod/{key}/created") for key in layout.pods if timed(layout, key)]
    out += [Cell(f"pod/{key}/deadline") for key in layout.pods if layout.clocked]
    for key in layout.replicasets:
        out += [Cell(f"rs/{key}/{field}") for field in ("replicas", "generation", "rv")]
        out += [Cell(f"rs/{key}/status/{field}") for field in RS_STATUS]
    if layout.heartbeats:
        for n in layout.nodes:
            out += [Cell(f"node/{n}/{field}") for field in NODE_FIELDS]
            out += [c for i in range(len(MANAGED_TAINTS)) for c in (Cell(taint_cell(n, i), boolean=True), Cell(taint_cell(n, i, "added")))]
            out += [Cell(f"lease/{n}/{field}") for field in ("renew", "rv")]
    if layout.quiet:
        out += [c for n in layout.nodes for c in (Cell(f"lease/{n}/exists", boolean=True), Cell(f"lease/{n}/renew"), Cell(f"lease/{n}/rv"))]
    out += [Cell(cursor(w.instance, w.kind)) for w in layout.watchers]
    out += [Cell(selected(w.instance, w.kind), boolean=True, history=True) for w in layout.watchers if layout.filtered(w)]
    return out


NODE_FIELDS = ("ready", "reason", "rv")
"""a Node's cells besides its managed taints: the Ready condition's status and reason (codes: layout.READY, layout.READY_REASONS)"""


def taint_cell(node: str, index: int, field: str = "") -> str:
    """The cell of a Node's managed taint ``index`` (of layout.MANAGED_TAINTS): whether it is there; with ``added``, its timeAdded (or NONE)."""
    return f"node/{node}/taint/{index}" + (f"/{field}" if field else "")


def node_values(node: Node) -> dict[str, int | bool]:
    """A Node's cells (without its name)."""
    out: dict[str, int | bool] = {"ready": READY.index(node.status.ready), "reason": READY_REASONS.index(node.status.ready_reason)}
    out["rv"] = node.meta.resource_version
    have = {(t.key, t.effect): t for t in node.spec.taints}
    for i, managed in enumerate(MANAGED_TAINTS):
        taint = have.get(managed)
        out[f"taint/{i}"] = taint is not None
        out[f"taint/{i}/added"] = NONE if taint is None or taint.time_added is None else taint.time_added
    return out


def selected(instance: str, kind: str) -> str:
    """The history cell that says whether a filtered watch selects the event of the step that reached the frame."""
    return f"selected/{instance}/{kind}"


def status_values(status: ReplicaSetStatus) -> dict[str, int]:
    """A ReplicaSet status as its cells' values."""
    return {field: FAILURES.index(status.failure) if field == "failure" else getattr(status, field) for field in RS_STATUS}


def cursor(instance: str, kind: str) -> str:
    """The cell of one watch's cursor."""
    return f"cursor/{instance}/{kind}"


def is_cursor(cell: str) -> bool:
    """Whether the cell is a watch's cursor."""
    return cell.startswith("cursor/")


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The store's cells of a state."""
    out: dict[str, int | bool] = {"rev": s.api.revision, "next_uid": s.api.next_uid}
    for key in layout.services:
        svc = s.api.objects.services.get(key)
        code = ip_code(svc.spec.cluster_ip) if svc is not None else NONE
        out[f"service/{key}/exists"] = svc is not None
        out[f"service/{key}/ip"] = NONE if code is None else code
        out[f"service/{key}/uid"] = svc.meta.uid if svc is not None else 0
        out[f"service/{key}/rv"] = svc.meta.resource_version if svc is not None else 0
    out |= pod_values(layout, s.api.objects.pods)
    for key in layout.replicasets:
        rs = s.api.objects.replicasets[key]
        out |= {f"rs/{key}/replicas": rs.spec.replicas, f"rs/{key}/generation": rs.meta.generation, f"rs/{key}/rv": rs.meta.resource_version}
        out |= {f"rs/{key}/status/{field}": value for field, value in status_values(rs.status).items()}
    if layout.heartbeats:
        for n in layout.nodes:
            out |= {f"node/{n}/{field}": value for field, value in node_values(s.api.objects.nodes[n]).items()}
            lease = s.api.objects.leases[layout.leases[n]]
            out |= {f"lease/{n}/renew": lease.renew_time, f"lease/{n}/rv": lease.meta.resource_version}
    if layout.quiet:
        for n in layout.nodes:
            held = s.api.objects.leases.get(layout.leases[n])
            out |= {f"lease/{n}/exists": held is not None, f"lease/{n}/renew": held.renew_time if held is not None else NONE}
            out[f"lease/{n}/rv"] = held.meta.resource_version if held is not None else 0
    for w in layout.watchers:
        per_kind = s.channels.cursors.get(w.instance)
        out[cursor(w.instance, w.kind)] = per_kind.get(w.kind, NONE) if per_kind is not None else NONE
    return out


def pod_values(layout: Layout, pods: Mapping[str, Pod]) -> dict[str, int | bool]:
    """Every pod slot's store cells, from the pods of a store (the store's, or the store as of a revision: ``informer.store_at``)."""
    out: dict[str, int | bool] = {}
    for key in layout.pods:
        pod = layout.stored(pods, key)
        out[f"pod/{key}/exists"] = pod is not None
        out[f"pod/{key}/rv"] = pod.meta.resource_version if pod is not None else 0
        out[f"pod/{key}/deleting"] = pod is not None and pod.meta.deletion_timestamp is not None
        out[f"pod/{key}/node"] = layout.node_code(pod.spec.node_name) if pod is not None else 0
        out[f"pod/{key}/scheduled"] = pod is not None and pod.status.scheduled
        out[f"pod/{key}/unschedulable"] = unschedulable_code(layout, key, pod.status.unschedulable) if pod is not None else 0
        if key in layout.status_slots:
            given = status.values(layout, key, pod.status) if pod is not None else status.fresh(layout, key)
            out |= {f"pod/{key}/{name}": value for name, value in (given or {}).items() if name not in status.SCHEDULER_FIELDS}
        if key in layout.user_pods:
            out[f"pod/{key}/uid"] = pod.meta.uid if pod is not None else 0
        if timed(layout, key):
            out[f"pod/{key}/created"] = pod.meta.creation_timestamp if pod is not None else 0
        if layout.clocked:
            deadline = pod.meta.deletion_timestamp if pod is not None else None
            out[f"pod/{key}/deadline"] = NONE if deadline is None else deadline
    return out


def store_history(layout: Layout, initial: State) -> dict[int, dict[str, int | bool]] | None:
    """For each revision a lagging list may read before the initial one (from ``informer.oldest_listable``), the pod slots' cells that
    differ there from the initial state's (the initial state's own watch history gives them); None where a status then has no codes."""
    now = pod_values(layout, initial.api.objects.pods)
    out: dict[int, dict[str, int | bool]] = {}
    for revision in range(informer.oldest_listable(layout.ctx, initial), initial.api.revision):
        out[revision] = pod_values(layout, informer.store_at(initial, POD, revision))
        if set(out[revision]) != set(now):
            return None
    differ = {name for cells in out.values() for name, value in cells.items() if value != now[name]}
    return {revision: {name: value for name, value in cells.items() if name in differ} for revision, cells in out.items()}


def history(layout: Layout, before: State, after: State) -> dict[str, int | bool]:
    """The history cells of a step from ``before`` to ``after``: the kind and slot it wrote, and which filtered watches select that event."""
    out: dict[str, int | bool] = {"wrote": 0, "wrote_slot": 0}
    out |= {selected(w.instance, w.kind): False for w in layout.watchers if layout.filtered(w)}
    if after.api.revision == before.api.revision:
        return out
    event = next(ev for ev in after.channels.log if ev.revision == after.api.revision)
    key = layout.pod_slot(event.key, event_object(event).meta.uid) if event.kind == POD else event.key
    out |= {"wrote": layout.kinds[event.kind], "wrote_slot": layout.slot(event.kind, key)}
    for w in layout.watchers:
        if layout.filtered(w) and w.kind == event.kind and (not w.node or after.machines[w.node].up):
            out[selected(w.instance, w.kind)] = informer.event_type(layout.ctx.watch_of(w.instance, w.kind).selects, w.node, event) is not None
    return out


# ------------------------------------------------------------ history


def _kept(u: Unrolling, t: int, revision: z3.ArithRef | int, kind: str | z3.ArithRef) -> z3.BoolRef:
    """An event of ``revision`` and ``kind`` (a name, or a code) is still in the history at frame t (informer._trim)."""
    layout = layout_of(u)
    f = u[t]
    kept = [revision > f["rev"] - layout.window]
    for w in layout.watchers:
        if isinstance(kind, str) and kind != w.kind:
            continue
        name = cursor(w.instance, w.kind)
        undelivered = z3.And(f[name] != NONE, revision > f[name])
        kept.append(undelivered if isinstance(kind, str) else z3.And(kind == layout.kinds[w.kind], undelivered))
    return z3.Or(kept)


def oldest_listable(u: Unrolling, t: int) -> z3.ArithRef:
    """The oldest revision a lagging watch cache can serve a list at, in frame t (informer.oldest_listable)."""
    layout = layout_of(u)
    f = u[t]
    first_kept_minus_one: z3.ArithRef = f["rev"]  # an empty history
    for step in range(t, 0, -1):  # the events the steps wrote, latest first, so the earliest kept one wins
        wrote = u[step]["wrote"]
        first_kept_minus_one = z3.If(z3.And(wrote != 0, _kept(u, t, u[step]["rev"], wrote)), u[step]["rev"] - 1, first_kept_minus_one)
    for revision, kind in reversed(layout.initial_log):
        first_kept_minus_one = z3.If(_kept(u, t, revision, kind), z3.IntVal(revision - 1), first_kept_minus_one)
    window_start = f["rev"] - layout.window
    oldest = z3.If(window_start > first_kept_minus_one, window_start, first_kept_minus_one)
    return z3.If(oldest > 0, oldest, 0)


def value_at(u: Unrolling, t: int, revision: z3.ArithRef, name: str, before: z3.ExprRef | None = None) -> z3.ExprRef:
    """Cell ``name`` as of ``revision`` ≤ the revision of frame t: in the latest frame at or before it (``before`` if it is older than frame 0)."""

    def build() -> z3.ExprRef:
        value = _before_initial(u, revision, name) if before is None else before
        for step in range(t + 1):
            value = z3.If(u[step]["rev"] <= revision, u[step][name], value)
        return value

    return u.memo(("value_at", t, name), build, revision, *(() if before is None else (before,)))


def _before_initial(u: Unrolling, revision: z3.ArithRef, name: str) -> z3.ExprRef:
    """Cell ``name`` as of ``revision`` where that is not after the initial one: the initial value, or before it, where the layout has the
    store's history (``Layout.store_history``), the value then."""
    value = u[0][name]
    history = layout_of(u).store_history or {}
    for r, cells in sorted(history.items(), reverse=True):
        if name in cells:
            value = z3.If(revision <= r, u.cells[name].literal(cells[name]), value)
    return value


def rewritten(u: Unrolling, t: int, obj: str, before: z3.ArithRef, after: z3.ArithRef) -> z3.BoolRef:
    """The object of cell prefix ``obj`` (``pod/<key>``, ``rs/<key>``) was written between revisions ``before`` and ``after``: its
    resourceVersion differs (what a relist's diff compares)."""
    return value_at(u, t, before, f"{obj}/rv") != value_at(u, t, after, f"{obj}/rv")


def services_at(u: Unrolling, t: int, revision: z3.ArithRef) -> dict[str, tuple[z3.ExprRef, z3.ExprRef]]:
    """Each Service slot's (exists, ClusterIP) as of ``revision`` ≤ the revision of frame t (informer.store_at).

    Before the initial revision, the initial state's own history gives it.
    """
    layout = layout_of(u)
    out: dict[str, tuple[z3.ExprRef, z3.ExprRef]] = {}
    for key in layout.services:
        exists: z3.ExprRef = z3.BoolVal(False)
        ip: z3.ExprRef = z3.IntVal(NONE)
        for r, slots in sorted(layout.service_history.items()):
            exists = z3.If(revision >= r, z3.BoolVal(slots[key][0]), exists)
            ip = z3.If(revision >= r, z3.IntVal(slots[key][1]), ip)
        out[key] = (value_at(u, t, revision, f"service/{key}/exists", exists), value_at(u, t, revision, f"service/{key}/ip", ip))
    return out


# ------------------------------------------------------------ writes


def commit(u: Unrolling, t: int, kind: str, slot: z3.ArithRef | int, changes: Terms, sees_event: dict[str, z3.BoolRef] | None = None) -> Terms:
    """One write of ``kind`` to the slot coded ``slot``: its cells, the next revision, and the cursors of the watches that now have an event pending.

    (informer.record.) ``sees_event``: for each filtered watch of the kind,
    whether it selects the event (an unfiltered watch selects every one).
    """
    layout = layout_of(u)
    f = u[t]
    out = dict(changes)
    out["rev"] = f["rev"] + 1
    out["wrote"] = z3.IntVal(layout.kinds[kind])
    out["wrote_slot"] = z3.IntVal(slot) if isinstance(slot, int) else slot
    for w in layout.watching(kind):
        if w.node and not layout.crashable and not layout.up[w.node]:
            continue  # the watch of a machine that is down does not exist
        name = cursor(w.instance, w.kind)
        sees: z3.BoolRef = machine_up(u, t, w.node) if w.node else z3.BoolVal(True)
        if layout.filtered(w):
            assert sees_event is not None, f"a write of {kind} needs the selection of {w.instance}'s filtered watch"
            sees = z3.And(sees, sees_event[w.instance])
            out[selected(w.instance, w.kind)] = sees
        out[name] = z3.If(z3.And(sees, f[name] == NONE), f["rev"], f[name])
    return out


def _ip_used(listing: dict[str, tuple[z3.ExprRef, z3.ExprRef]], ip: z3.ArithRef | int) -> z3.BoolRef:
    return z3.Or([z3.And(exists, addr == ip) for exists, addr in listing.values()])


def create_service(u: Unrolling, t: int, svc: Service, lagging: bool) -> tuple[z3.BoolRef, Terms]:
    """POST of a Service that does not exist: (whether it is stored, the cells it changes) (apiserver.create, _allocate_service).

    The allocator reads the store, or in ``apiserver-clusterip-lag`` the
    Services as of the oldest revision the watch cache can list at. A
    requested ClusterIP already in use is Invalid; otherwise the lowest free
    10.96.0.n from n = 10 is handed out.
    """
    layout = layout_of(u)
    f = u[t]
    key = svc.meta.key
    if validation.errors_for(svc) or svc.meta.namespace not in layout.namespaces:
        return z3.BoolVal(False), {}
    listing = services_at(u, t, oldest_listable(u, t)) if lagging else {k: (f[f"service/{k}/exists"], f[f"service/{k}/ip"]) for k in layout.services}
    requested = ip_code(svc.spec.cluster_ip)
    assert requested is not None
    if requested != NONE:
        stored: z3.BoolRef = z3.Not(_ip_used(listing, requested))
        ip: z3.ArithRef = z3.IntVal(requested)
    else:
        stored = z3.BoolVal(True)
        ip = z3.IntVal(FIRST_CLUSTER_IP + len(layout.services))
        for n in range(FIRST_CLUSTER_IP + len(layout.services) - 1, FIRST_CLUSTER_IP - 1, -1):
            ip = z3.If(_ip_used(listing, n), ip, n)
    changes: Terms = {
        f"service/{key}/exists": z3.BoolVal(True),
        f"service/{key}/ip": ip,
        f"service/{key}/uid": f["next_uid"],
        f"service/{key}/rv": f["rev"] + 1,
        "next_uid": f["next_uid"] + 1,
    }
    return stored, commit(u, t, SERVICE, layout.slot(SERVICE, key), changes)


def delete_service(u: Unrolling, t: int, key: str) -> Terms:
    """DELETE of an existing Service without finalizers: it is removed at once (apiserver._delete_immediately_or_finalize)."""
    layout = layout_of(u)
    changes: Terms = {
        f"service/{key}/exists": z3.BoolVal(False),
        f"service/{key}/ip": z3.IntVal(NONE),
        f"service/{key}/uid": z3.IntVal(0),
        f"service/{key}/rv": z3.IntVal(0),
    }
    return commit(u, t, SERVICE, layout.slot(SERVICE, key), changes)


# ------------------------------------------------------------ pods and ReplicaSets


def _selection_table(layout: Layout, w: Watcher, key: str) -> list[tuple[int, list[int]]]:
    """For each node code the pod of slot ``key`` may carry, the phase codes in which ``w`` selects it (the selectors read the pod's
    nodeName and phase): a constant of the layout, computed once per unrolling."""
    pod = layout.pod_objects[key]
    selects = layout.ctx.watch_of(w.instance, POD).selects
    assert selects is not None
    out = []
    for code in range(len(layout.nodes) + 1):
        placed = replace(pod, spec=replace(pod.spec, node_name=layout.node_name(code)))
        out.append((code, [i for i, p in enumerate(status.PHASES) if selects(w.node, replace(placed, status=replace(placed.status, phase=p)))]))
    return out


def _in_selection(table: list[tuple[int, list[int]]], exists: z3.BoolRef, node: z3.ArithRef, phase: z3.ArithRef) -> z3.BoolRef:
    """The pod, present as ``exists`` says, bound to the node coded ``node``, in the phase coded ``phase``, is selected by the watch whose
    ``_selection_table`` is ``table``."""
    options = []
    for code, phases in table:
        if len(phases) == len(status.PHASES):
            options.append(node == code)
        elif phases:
            options.append(z3.And(node == code, z3.Or([phase == i for i in phases])))
    return z3.And(exists, z3.Or(options)) if options else z3.BoolVal(False)


def pod_selected(u: Unrolling, t: int, key: str, changes: Terms) -> dict[str, z3.BoolRef]:
    """For each filtered pod watch, whether it selects the write ``changes`` makes to slot ``key``: the pod was or is now in its selection."""
    layout = layout_of(u)
    f = u[t]
    out: dict[str, z3.BoolRef] = {}
    old = [f[f"pod/{key}/exists"], f[f"pod/{key}/node"], pod_status(u, t, key, "phase")]
    new = [changes.get(f"pod/{key}/{field}", term) for field, term in zip(("exists", "node", "phase"), old, strict=True)]
    for w in layout.watching(POD):
        if layout.filtered(w):
            table = u.memo(("selection", w.instance, key), functools.partial(_selection_table, layout, w, key))
            was, now = (u.memo(("in selection", w.instance, key), functools.partial(_in_selection, table, *pod), *pod) for pod in (old, new))
            out[w.instance] = z3.Or(was, now)
    return out


def pod_status(u: Unrolling, t: int, key: str, field: str, at: z3.ArithRef | None = None) -> z3.ExprRef:
    """A status field of the stored pod of slot ``key`` in frame t, or as of revision ``at``; the slot's constant where its status does not change."""
    layout = layout_of(u)
    if key not in layout.status_slots and field not in status.SCHEDULER_FIELDS:
        return status.constant(layout, key, field)
    name = f"pod/{key}/{field}"
    return u[t][name] if at is None else value_at(u, t, at, name)


def terminal(u: Unrolling, t: int, key: str, at: z3.ArithRef | None = None) -> z3.BoolRef:
    """The pod's phase is Succeeded or Failed, in frame t or as of revision ``at``."""
    return status.terminal_phase(pod_status(u, t, key, "phase", at))


def timed(layout: Layout, key: str) -> bool:
    """The pod slot's creationTimestamp is a cell: the pod is created in the run, and the clock may have moved by then."""
    return layout.clocked and (key in layout.user_pods or key in layout.generated)


def created(u: Unrolling, t: int, key: str, at: z3.ArithRef | None = None) -> z3.ArithRef:
    """The creationTimestamp of the pod of slot ``key`` in frame t, or as of revision ``at`` (a constant where it is not a cell)."""
    layout = layout_of(u)
    if not timed(layout, key):
        return z3.IntVal(layout.pod_objects[key].meta.creation_timestamp)
    name = f"pod/{key}/created"
    return u[t][name] if at is None else value_at(u, t, at, name)


def _created(layout: Layout, key: str, f: Terms, now: z3.ArithRef) -> Terms:
    """The cells of a pod slot as its POST stores it at tick ``now`` (resourceVersion: the next revision)."""
    pod = layout.pod_objects[key]
    stamp: Terms = {f"pod/{key}/created": now} if timed(layout, key) else {}
    stamp |= {f"pod/{key}/deadline": z3.IntVal(NONE)} if layout.clocked else {}
    return (
        stamp
        | {
            f"pod/{key}/exists": z3.BoolVal(True),
            f"pod/{key}/rv": f["rev"] + 1,
            f"pod/{key}/deleting": z3.BoolVal(False),
            f"pod/{key}/node": z3.IntVal(layout.node_code(pod.spec.node_name)),
            f"pod/{key}/scheduled": z3.BoolVal(pod.status.scheduled),
            f"pod/{key}/unschedulable": z3.IntVal(unschedulable_code(layout, key, pod.status.unschedulable)),
        }
        | _status_cells(layout, key, status.fresh(layout, key))
    )


def _status_cells(layout: Layout, key: str, given: dict[str, int | bool]) -> Terms:
    """A status slot's stored status fields at the given values (nothing for another slot)."""
    if key not in layout.status_slots:
        return {}
    return {
        f"pod/{key}/{name}": z3.BoolVal(v) if isinstance(v, bool) else z3.IntVal(v)
        for name, v in given.items()
        if name not in status.SCHEDULER_FIELDS
    }


def create_pod(u: Unrolling, t: int, rs_key: str) -> Terms:
    """POST of a ReplicaSet's pod (generateName): the slot of the uid the API server hands out now is stored (apiserver.create)."""
    layout = layout_of(u)
    f = u[t]
    changes: Terms = {"next_uid": f["next_uid"] + 1}
    slot: z3.ArithRef = z3.IntVal(0)
    sees: dict[str, z3.BoolRef] = {w.instance: z3.BoolVal(False) for w in layout.watching(POD) if layout.filtered(w)}
    for key in layout.pods:
        if layout.generated.get(key) != rs_key:
            continue
        now = f["next_uid"] == layout.pod_objects[key].meta.uid
        stored = _created(layout, key, f, clock(u, t))
        changes |= {name: z3.If(now, term, f[name]) for name, term in stored.items()}
        slot = z3.If(now, layout.slot(POD, key), slot)
        sees = {name: z3.If(now, term, sees[name]) for name, term in pod_selected(u, t, key, stored).items()}
    return commit(u, t, POD, slot, changes, sees)


def delete_pod(u: Unrolling, t: int, key: str) -> tuple[z3.BoolRef, Terms]:
    """DELETE of a pod with its own grace period: (whether it was found, the cells it changes) (apiserver._delete_pod).

    A bound pod that is not terminal and has a grace period is marked
    deleting, its deadline now + grace; a second DELETE is a no-op (with
    the same grace the deadline cannot be brought forward); any other pod
    goes at once (no pod here has finalizers).
    """
    layout = layout_of(u)
    f = u[t]
    exists, deleting = f[f"pod/{key}/exists"], f[f"pod/{key}/deleting"]
    grace = layout.pod_objects[key].spec.termination_grace_period_seconds
    graceful = z3.And(f[f"pod/{key}/node"] != 0, z3.Not(terminal(u, t, key)), z3.BoolVal(grace > 0))
    marked: Terms = {f"pod/{key}/deleting": z3.BoolVal(True), f"pod/{key}/rv": f["rev"] + 1}
    marked |= {f"pod/{key}/deadline": clock(u, t) + grace} if layout.clocked else {}
    mark = commit(u, t, POD, layout.slot(POD, key), marked, pod_selected(u, t, key, marked))
    out = choose(u, t, [(z3.And(exists, graceful, z3.Not(deleting)), mark), (z3.And(exists, z3.Not(graceful)), remove_pod(u, t, key))])
    return exists, out


def remove_pod(u: Unrolling, t: int, key: str) -> Terms:
    """The pod of slot ``key`` leaves the store (a DELETE with grace 0, or of a pod that needs none): its cells as before it was created."""
    layout = layout_of(u)
    removed: Terms = {f"pod/{key}/exists": z3.BoolVal(False), f"pod/{key}/rv": z3.IntVal(0), f"pod/{key}/deleting": z3.BoolVal(False)}
    removed |= {f"pod/{key}/node": z3.IntVal(0), f"pod/{key}/scheduled": z3.BoolVal(False), f"pod/{key}/unschedulable": z3.IntVal(0)}
    removed |= _status_cells(layout, key, status.fresh(layout, key))
    removed |= {f"pod/{key}/created": z3.IntVal(0)} if timed(layout, key) else {}
    removed |= {f"pod/{key}/uid": z3.IntVal(0)} if key in layout.user_pods else {}
    removed |= {f"pod/{key}/deadline": z3.IntVal(NONE)} if layout.clocked else {}
    return commit(u, t, POD, layout.slot(POD, key), removed, pod_selected(u, t, key, removed))


def choose(u: Unrolling, t: int, options: list[tuple[z3.BoolRef, Terms]]) -> Terms:
    """The changes of the first option whose condition holds (the conditions exclude one another); a cell no holding option writes is unchanged."""
    names = sorted({name for _, changes in options for name in changes})
    out: Terms = {}
    for name in names:
        value = unchanged(u, t, name)
        for cond, changes in reversed(options):
            if name in changes:
                value = z3.If(cond, changes[name], value)
        out[name] = value
    return out


def unchanged(u: Unrolling, t: int, name: str) -> z3.ExprRef:
    """A cell's value when a step does not write: its own, or for a history cell, nothing written."""
    return u.cells[name].literal(0) if u.cells[name].history else u[t][name]


def scale_replicaset(u: Unrolling, t: int, key: str, replicas: int) -> Terms:
    """PUT of a ReplicaSet with a new spec.replicas: the generation goes up (apiserver._prepare_for_update)."""
    layout = layout_of(u)
    f = u[t]
    changes: Terms = {f"rs/{key}/replicas": z3.IntVal(replicas), f"rs/{key}/generation": f[f"rs/{key}/generation"] + 1, f"rs/{key}/rv": f["rev"] + 1}
    return commit(u, t, REPLICASET, layout.slot(REPLICASET, key), changes)


def write_replicaset_status(u: Unrolling, t: int, key: str, status: dict[str, z3.ArithRef]) -> Terms:
    """PUT .../status of a ReplicaSet whose uid is unchanged: written if it differs (a Conflict is retried with the live resourceVersion).

    (ReplicaSet controller _status, apiserver.update_status: a status equal to the stored one writes nothing.)
    """
    layout = layout_of(u)
    f = u[t]
    differs = z3.Or([status[field] != f[f"rs/{key}/status/{field}"] for field in RS_STATUS])
    changes: Terms = {f"rs/{key}/status/{field}": status[field] for field in RS_STATUS} | {f"rs/{key}/rv": f["rev"] + 1}
    written = commit(u, t, REPLICASET, layout.slot(REPLICASET, key), changes)
    return {name: z3.If(differs, term, unchanged(u, t, name)) for name, term in written.items()}


def create_user_pod(u: Unrolling, t: int, key: str) -> Terms:
    """POST of one of the scenario's pods, which does not exist: it takes the next uid (apiserver.create).

    The layout holds only pods the API server accepts (validation and the
    namespace do not change here).
    """
    layout = layout_of(u)
    f = u[t]
    changes = _created(layout, key, f, clock(u, t)) | {f"pod/{key}/uid": f["next_uid"], "next_uid": f["next_uid"] + 1}
    return commit(u, t, POD, layout.slot(POD, key), changes, pod_selected(u, t, key, changes))


def write_pod_status(u: Unrolling, t: int, key: str, given: Terms) -> Terms:
    """PUT .../status of a pod, unconditional (no resourceVersion): the ``given`` status fields, the others as stored (apiserver.update_status).

    A pod that is gone is NotFound; a status equal to the stored one writes nothing.
    """
    layout = layout_of(u)
    f = u[t]
    changes: Terms = {f"pod/{key}/{name}": term for name, term in given.items()} | {f"pod/{key}/rv": f["rev"] + 1}
    differs = z3.And(f[f"pod/{key}/exists"], z3.Or([term != pod_status(u, t, key, name) for name, term in sorted(given.items())]))
    written = commit(u, t, POD, layout.slot(POD, key), changes, pod_selected(u, t, key, changes))
    return {name: z3.If(differs, term, unchanged(u, t, name)) for name, term in written.items()}


def bind(u: Unrolling, t: int, key: str, node: z3.ArithRef, uid: z3.ArithRef | None) -> tuple[z3.BoolRef, Terms]:
    """POST pods/binding: (whether it succeeded, the cells it changes) (apiserver.bind).

    The pod must exist with the uid (when one is given), not be deleting,
    and have no node (unless ``apiserver-rebind``); it then gets the node,
    the PodScheduled condition and no FitError, written if that changes it.
    """
    layout = layout_of(u)
    f = u[t]
    ok = z3.And(f[f"pod/{key}/exists"], z3.Not(f[f"pod/{key}/deleting"]))
    if uid is not None:
        ok = z3.And(ok, f[f"pod/{key}/uid"] == uid)
    if not layout.ctx.flag(api.REBIND):
        ok = z3.And(ok, f[f"pod/{key}/node"] == 0)
    changes: Terms = {f"pod/{key}/node": node, f"pod/{key}/scheduled": z3.BoolVal(True), f"pod/{key}/unschedulable": z3.IntVal(0)}
    changes[f"pod/{key}/rv"] = f["rev"] + 1
    differs = z3.Or(node != f[f"pod/{key}/node"], z3.Not(f[f"pod/{key}/scheduled"]), f[f"pod/{key}/unschedulable"] != 0)
    written = commit(u, t, POD, layout.slot(POD, key), changes, pod_selected(u, t, key, changes))
    return ok, {name: z3.If(z3.And(ok, differs), term, unchanged(u, t, name)) for name, term in written.items()}


# ------------------------------------------------------------ Nodes and Leases


def write_node(u: Unrolling, t: int, node: str, changes: Terms) -> Terms:
    """A write of a Node (its status, or its taints): the changed cells, a new resourceVersion, the event (its kubelet's watch selects it)."""
    layout = layout_of(u)
    sees = {}
    for w in layout.watching(NODE):
        if layout.filtered(w):
            selects = layout.ctx.watch_of(w.instance, NODE).selects
            assert selects is not None
            sees[w.instance] = z3.BoolVal(bool(selects(w.node, layout.stored_nodes[node])))
    return commit(u, t, NODE, layout.slot(NODE, node), changes | {f"node/{node}/rv": u[t]["rev"] + 1}, sees)


def write_lease(u: Unrolling, t: int, node: str, renew: z3.ArithRef) -> Terms:
    """PUT of the node's Lease with a new renewTime, nothing if it holds that time already (apiserver._write_update); where the Leases are
    created in the run (``layout.quiet``), a POST with the next uid if the Lease does not exist yet (apiserver.create)."""
    layout = layout_of(u)
    f = u[t]
    written = commit(u, t, LEASE, layout.slot(LEASE, layout.leases[node]), {f"lease/{node}/renew": renew, f"lease/{node}/rv": f["rev"] + 1})
    differs = renew != f[f"lease/{node}/renew"]
    if not layout.quiet:
        return {name: z3.If(differs, term, unchanged(u, t, name)) for name, term in written.items()}
    exists = f[f"lease/{node}/exists"]
    created = written | {f"lease/{node}/exists": z3.BoolVal(True), "next_uid": f["next_uid"] + 1}
    return {name: z3.If(exists, z3.If(differs, written.get(name, f[name]), unchanged(u, t, name)), term) for name, term in created.items()}
