"""kube-scheduler, as Z3 (spec/scheduler.py): its pod watch, its scheduling cycles with the assumed pods, and its bindings.

Cells per scheduler instance and schedulable pod slot: the assumption
(whether the pod is assumed, on which node, whether its Binding is still to
be sent, and for a pod the user creates, the uid it was assumed with). The
scheduler's pod cache is the store as of its cursor, less the terminal pods
(its field selector); its Node cache is the store as of its Node cursor,
of which its cycles read the node lifecycle controller's taints where they
are cells (``layout.node_taints``; every other field of a Node is a
constant), and otherwise the store's Nodes, which nothing encoded writes.

A cycle is the spec's: the Filter plugins (the reasons that do not depend on
the node's usage or the managed taints are constants of the slot and node;
pod count, cpu and memory are sums over the cache and the assumptions;
TaintToleration names the first untolerated managed taint, in
``layout.TAINT_ORDER``, where no constant taint is untolerated),
LeastAllocated scores in integer arithmetic, and one action instance per
best node, or the FitError recorded in the pod's status. The FitError is a
code (``layout.fit_errors``): for a given pod the message is determined by
how many nodes fail on each usage reason and each managed taint.

:func:`covered` says which scenarios this holds for: a scheduler cache that
holds the store's Nodes and has nothing assumed at the start.

Under ``scheduler-missed-delete`` the cache loses the event that removes a
pod from the watch's selection (its deletion, or its turn to a terminal
phase), so it keeps a *ghost*: the pod as it last saw it. A cell per
scheduler and pod slot holds the ghost's resourceVersion (0: none); the
cache's copy of the slot is then the store as of that revision rather than
as of the cursor, until the slot's next event (a pod of the same name) or a
relist replaces it. A ghost counts in the node's usage and, unbound, stays
in the queue (sch._loses; eventhandlers.go deletePodFromCache).
"""

from __future__ import annotations

import attrs
import z3

from checker.bmc import apiserver
from checker.bmc.core import Cell, Encoded, Relisted, Terms, Unrolling
from checker.bmc.informer import cache_revision, cached, cursor_only, deliver, event_at
from checker.bmc.layout import MANAGED_TAINTS, Layout, fit_error_code, layout_of, pod_key, static_reasons, taint_keys, unmanaged
from spec import scheduler as sch
from spec.component import Action
from spec.frozen import EMPTY
from spec.informer import store_at
from spec.objects import NODE, POD, Resources, Taint
from spec.state import State

NAME = sch.NAME


def _cell(instance: str, pod: str, field: str) -> str:
    return f"sch/{instance}/{pod}/{field}"


def schedulable(layout: Layout) -> list[str]:
    """The pod slots a scheduler may queue: unbound, named for the default scheduler, not terminal (its watch selects only those)."""
    pods = layout.pod_objects
    return [key for key in layout.pods if not pods[key].spec.node_name and sch.responsible(layout.ctx, pods[key]) and not pods[key].is_terminal()]


def watchable(layout: Layout) -> list[str]:
    """The pod slots the scheduler's watch can select at some point: those not terminal, and those whose status can change."""
    return [key for key in layout.pods if key in layout.status_slots or not layout.pod_objects[key].is_terminal()]


def _ghosts(layout: Layout) -> bool:
    """The scheduler's cache loses the events that remove a pod (``scheduler-missed-delete``), so it can hold ghosts."""
    return layout.ctx.flag(sch.MISSED_DELETE)


def covered(layout: Layout, s: State) -> bool:
    """Every scheduler's cache is the store as of its cursor, holds the stored Nodes with none pending, and nothing is assumed; where the
    cache loses removals, it has no pod event pending and no ghost (so a ghost's revision is one the run wrote or the pod's at the start)."""
    for instance in layout.schedulers:
        view = s.views[instance]
        if view.memory.assumed or dict(view.cache.nodes) != dict(s.api.objects.nodes) or NODE in s.channels.cursors.get(instance, {}):
            return False
        if _ghosts(layout) and (POD in s.channels.cursors.get(instance, {}) or any(_ghost(s, instance, key) for key in watchable(layout))):
            return False
    return True


def cells(layout: Layout) -> list[Cell]:
    """Each scheduler's assumptions."""
    out: list[Cell] = []
    for instance in layout.schedulers:
        for pod in schedulable(layout):
            out += [Cell(_cell(instance, pod, "assumed"), boolean=True), Cell(_cell(instance, pod, "node"))]
            out += [Cell(_cell(instance, pod, "binding"), boolean=True), Cell(_cell(instance, pod, "uid"))]
        out += [Cell(_cell(instance, pod, "ghost")) for pod in watchable(layout)] if _ghosts(layout) else []
    return out


def _ghost(s: State, instance: str, key: str) -> int:
    """The resourceVersion of the pod the scheduler's cache holds in slot ``key`` where the store as of its cursor does not (0 if none)."""
    held = s.views[instance].cache.pods.get(key)
    if held is None:
        return 0
    cursor = s.channels.cursors.get(instance, EMPTY).get(POD)
    listed = store_at(s, POD, s.api.revision if cursor is None else cursor).get(key)
    if listed is not None and not listed.is_terminal() and listed.meta.resource_version == held.meta.resource_version:
        return 0
    return held.meta.resource_version


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The schedulers' assumptions in a state."""
    out: dict[str, int | bool] = {}
    for instance in layout.schedulers:
        memory: sch.SchedulerMemory = s.views[instance].memory
        for pod in schedulable(layout):
            entry = memory.assumed.get(pod)
            out[_cell(instance, pod, "assumed")] = entry is not None
            out[_cell(instance, pod, "node")] = layout.node_code(entry.node) if entry is not None else 0
            out[_cell(instance, pod, "binding")] = entry is not None and entry.binding
            out[_cell(instance, pod, "uid")] = entry.uid if entry is not None and pod in layout.user_pods else 0
        out |= {_cell(instance, pod, "ghost"): _ghost(s, instance, pod) for pod in watchable(layout)} if _ghosts(layout) else {}
    return out


class View:
    """A scheduler's pod cache and assumptions in frame t, as terms (view.cache.pods, view.memory)."""

    def __init__(self, u: Unrolling, t: int, instance: str) -> None:
        layout = layout_of(u)
        self.layout, self.instance, self.f = layout, instance, u[t]
        self.u, self.t = u, t
        at = cache_revision(u, t, instance, POD)
        self.pods = watchable(layout)
        self.ghost = {key: _has_ghost(u, t, instance, key) for key in self.pods}
        self.rev = {key: _cached_revision(u, t, instance, key, at) for key in self.pods}
        self.exists = {key: z3.Or(self.ghost[key], _watched(u, t, key, at)) for key in self.pods}
        self.node = {key: self._node(key) for key in self.pods}
        self.queued = set(schedulable(layout))
        self.deleting = {key: self.value(key, "deleting") for key in sorted(self.queued)}
        self.assume = not layout.ctx.flag(sch.NO_ASSUME)
        self._used: dict[str, tuple[z3.ArithRef, ...]] = {}
        self._fits: dict[tuple[str, str], tuple[z3.BoolRef, tuple[z3.BoolRef, ...], z3.ArithRef]] = {}

    def value(self, pod: str, field: str) -> z3.ExprRef:
        """A field of the pod as the cache holds it: the store as of the cursor, or as of a ghost's revision."""
        return apiserver.value_at(self.u, self.t, self.rev[pod], f"pod/{pod}/{field}")

    def _node(self, key: str) -> z3.ArithRef:
        if key in self.layout.dynamic:
            return self.value(key, "node")
        return z3.IntVal(self.layout.node_code(self.layout.pod_objects[key].spec.node_name))

    def memory(self, pod: str, field: str) -> z3.ExprRef:
        """A field of the pod's assumption (False or 0 for a pod that cannot be queued)."""
        if pod not in self.queued:
            return z3.BoolVal(False) if field in ("assumed", "binding") else z3.IntVal(0)
        return self.f[_cell(self.instance, pod, field)]

    def usage(self, node: str) -> list[tuple[z3.BoolRef, Resources]]:
        """sch.node_usage on ``node``: the bound pods in the cache whose Binding is not pending, and the assumed pods not yet seen bound."""
        code = self.layout.node_code(node)
        out = []
        for key in self.pods:
            pending = z3.And(self.memory(key, "assumed"), self.memory(key, "binding"))
            out.append((z3.And(self.exists[key], self.node[key] == code, z3.Not(pending)), self.layout.pod_objects[key].spec.requests()))
        if self.assume:
            for key in sorted(self.queued):
                unseen = z3.Or(z3.Not(self.exists[key]), self.node[key] == 0, self.memory(key, "binding"))
                assumed_here = z3.And(self.memory(key, "assumed"), self.memory(key, "node") == code, unseen)
                out.append((assumed_here, self.layout.pod_objects[key].spec.requests()))
        return out

    def in_queue(self, pod: str) -> z3.BoolRef:
        """sch.queue: unbound in the cache, not being deleted, not assumed."""
        return z3.And(self.exists[pod], self.node[pod] == 0, z3.Not(self.deleting[pod]), z3.Not(self.memory(pod, "assumed")))

    def fit(self, pod: str, node: str) -> tuple[z3.BoolRef, tuple[z3.BoolRef, ...], z3.ArithRef]:
        """The pod on ``node``: (feasible, whether it fails on each usage reason, its LeastAllocated score).

        (sch.filter_reasons, sch._fit_reasons, sch.least_allocated_score.)
        """
        if (pod, node) not in self._fits:
            self._fits[pod, node] = self._fit(pod, node)
        return self._fits[pod, node]

    def _totals(self, node: str) -> tuple[z3.ArithRef, ...]:
        """The node's usage as sums: (pods, cpu, memory, cpu and memory as LeastAllocated counts them)."""
        if node not in self._used:
            used = self.usage(node)
            self._used[node] = (
                _sum([(c, 1) for c, _ in used]),
                _sum([(c, r.cpu) for c, r in used]),
                _sum([(c, r.memory) for c, r in used]),
                _sum([(c, _nonzero(r)[0]) for c, r in used]),
                _sum([(c, _nonzero(r)[1]) for c, r in used]),
            )
        return self._used[node]

    def tainted(self, pod: str, node: str) -> tuple[z3.BoolRef, ...]:
        """For each of the pod's ``layout.taint_keys``, whether the cached Node's first untolerated taint has it (sch.filter_reasons):
        none where a constant taint (one the node lifecycle controller does not manage, which stands before its) is untolerated."""
        obj = self.layout.pod_objects[pod]
        keys = taint_keys(obj, list(self.layout.stored_nodes.values())) if self.layout.node_taints else ()
        if any(sch.untolerated(obj, taint) for taint in unmanaged(self.layout.stored_nodes[node]).spec.taints):
            return tuple(z3.BoolVal(False) for _ in keys)
        stands = {
            key: z3.Or(
                [
                    cached(self.u, self.t, self.instance, NODE, apiserver.taint_cell(node, i))
                    for i, (k, effect) in enumerate(MANAGED_TAINTS)
                    if k == key and sch.untolerated(obj, Taint(key=k, effect=effect))
                ]
                or [z3.BoolVal(False)]
            )
            for key in keys
        }
        return tuple(z3.And(stands[key], *(z3.Not(stands[k]) for k in keys[: keys.index(key)])) for key in keys)

    def _fit(self, pod: str, node: str) -> tuple[z3.BoolRef, tuple[z3.BoolRef, ...], z3.ArithRef]:
        obj, node_obj = self.layout.pod_objects[pod], self.layout.stored_nodes[node]
        count, cpu, memory, scored_cpu, scored_memory = self._totals(node)
        alloc, req = node_obj.status.allocatable, obj.spec.requests()
        static = static_reasons(obj, node_obj, self.layout.node_taints)
        fails = (
            count + 1 > alloc.pods,
            z3.And(z3.BoolVal(req.cpu > 0), req.cpu > alloc.cpu - cpu),
            z3.And(z3.BoolVal(req.memory > 0), req.memory > alloc.memory - memory),
            *self.tainted(pod, node),
        )
        feasible = z3.And(z3.BoolVal(not static), z3.Not(z3.Or(fails)))
        own_cpu, own_memory = _nonzero(req)
        score = (_free_share(own_cpu + scored_cpu, alloc.cpu) + _free_share(own_memory + scored_memory, alloc.memory)) / 2
        return feasible, fails, score


def _has_ghost(u: Unrolling, t: int, instance: str, pod: str) -> z3.BoolRef:
    """The scheduler's cache holds a ghost in the pod slot in frame t."""
    return u[t][_cell(instance, pod, "ghost")] != 0 if _ghosts(layout_of(u)) else z3.BoolVal(False)


def _cached_revision(u: Unrolling, t: int, instance: str, pod: str, at: z3.ArithRef) -> z3.ArithRef:
    """The revision as of which the scheduler's cache holds the pod slot: its ghost's, if it has one, else its cursor's ``at``."""
    if not _ghosts(layout_of(u)):
        return at
    return z3.If(_has_ghost(u, t, instance, pod), u[t][_cell(instance, pod, "ghost")], at)


def _view(u: Unrolling, t: int, instance: str) -> View:
    return u.memo(("scheduler view", t, instance), lambda: View(u, t, instance))


def _sum(terms: list[tuple[z3.BoolRef, int]]) -> z3.ArithRef:
    kept = [z3.If(c, n, 0) for c, n in terms if n]
    return z3.Sum(kept) if kept else z3.IntVal(0)


def _nonzero(r: Resources) -> tuple[int, int]:
    """The requests LeastAllocated scores with (sch._nonzero)."""
    return (r.cpu or sch.DEFAULT_CPU_REQUEST, r.memory or sch.DEFAULT_MEMORY_REQUEST)


def _free_share(requested: z3.ArithRef, capacity: int) -> z3.ArithRef:
    """One resource's LeastAllocated score: the free share times MAX_NODE_SCORE, rounded down; 0 when over (or no capacity)."""
    if not capacity:
        return z3.IntVal(0)
    return z3.If(requested <= capacity, (capacity - requested) * sch.MAX_NODE_SCORE / capacity, 0)


# ------------------------------------------------------------ actions


def _fields(instance: str, pod: str) -> list[str]:
    return [_cell(instance, pod, field) for field in ("assumed", "node", "binding", "uid")]


def deliver_pods(instance: str) -> Encoded:
    """WatchDeliver of the scheduler's pod watch: a pod removed from its selection, a pod seen bound or another uid ends its assumption
    (sch._on_event); under ``scheduler-missed-delete`` a removal is lost instead, and the cache keeps the pod as a ghost (sch._loses)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return deliver(u, t, instance, POD)[0]

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        f = u[t]
        _, revision, moved_cursor = deliver(u, t, instance, POD)
        _, slot = event_at(u, t, revision)
        out: Terms = dict(moved_cursor)
        removed = {pod: z3.Not(_watched(u, t, pod, revision)) for pod in watchable(layout)}
        lost = {pod: z3.And(z3.BoolVal(_ghosts(layout)), gone) for pod, gone in removed.items()}
        for pod in schedulable(layout):
            ends = z3.And(slot == layout.slot(POD, pod), z3.Not(lost[pod]), _ends(u, t, instance, pod, revision, removed[pod]))
            out |= {name: z3.If(ends, u.cells[name].literal(0), f[name]) for name in _fields(instance, pod)}
        if _ghosts(layout):
            for pod, gone in removed.items():
                name = _cell(instance, pod, "ghost")
                kept = apiserver.value_at(u, t, revision - 1, f"pod/{pod}/rv")
                out[name] = z3.If(slot == layout.slot(POD, pod), z3.If(gone, kept, 0), f[name])
        return out

    return Encoded(Action(instance, "WatchDeliver", (("kind", POD),)), guard, effect)


def _ends(u: Unrolling, t: int, instance: str, pod: str, revision: z3.ArithRef, removed: z3.BoolRef) -> z3.BoolRef:
    """An event that shows the pod as of ``revision`` ends its assumption (sch._on_event): the pod is assumed and has left the watch's
    selection (``removed``), or is seen bound once its Binding is sent, or is another pod of the name (another uid)."""
    layout = layout_of(u)
    f = u[t]
    other: z3.BoolRef = z3.BoolVal(False)
    if pod in layout.user_pods:
        other = apiserver.value_at(u, t, revision, f"pod/{pod}/uid") != f[_cell(instance, pod, "uid")]
    seen_bound = z3.And(apiserver.value_at(u, t, revision, f"pod/{pod}/node") != 0, z3.Not(f[_cell(instance, pod, "binding")]))
    return z3.And(f[_cell(instance, pod, "assumed")], z3.Or(removed, seen_bound, other))


def _watched(u: Unrolling, t: int, pod: str, revision: z3.ArithRef) -> z3.BoolRef:
    """The pod slot as of ``revision`` is one the scheduler's watch selects: it exists and is not terminal."""
    return z3.And(apiserver.value_at(u, t, revision, f"pod/{pod}/exists"), z3.Not(apiserver.terminal(u, t, pod, revision)))


def relisted_pods(instance: str) -> Relisted:
    """The handler of a relist of the scheduler's pod watch from the cache as of ``before`` (or a ghost's revision) to the store as of
    ``after``: each pod slot whose object, as the watch selects it (not terminal), differs is an event, which ends its assumption as a
    delivered one does; the list replaces every ghost."""

    def relisted(u: Unrolling, t: int, before: z3.ArithRef, after: z3.ArithRef) -> Terms:
        layout = layout_of(u)
        f = u[t]
        out: Terms = {}
        for pod in schedulable(layout):
            held = _cached_revision(u, t, instance, pod, before)
            old_in, new_in = z3.Or(_has_ghost(u, t, instance, pod), _watched(u, t, pod, before)), _watched(u, t, pod, after)
            changed = z3.Or(old_in != new_in, z3.And(new_in, apiserver.rewritten(u, t, f"pod/{pod}", held, after)))
            ends = z3.And(changed, _ends(u, t, instance, pod, after, z3.Not(new_in)))
            out |= {name: z3.If(ends, u.cells[name].literal(0), f[name]) for name in _fields(instance, pod)}
        if _ghosts(layout):
            out |= {_cell(instance, pod, "ghost"): z3.IntVal(0) for pod in watchable(layout)}
        return out

    return relisted


def schedule(instance: str, pod: str, node: str) -> Encoded:
    """SchedulerSchedule onto ``node``: the pod is queued, the node feasible and among the best scored; assume the pod there."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        view = _view(u, t, instance)
        fits = {n: view.fit(pod, n) for n in layout.nodes}
        feasible, _, score = fits[node]
        best = [z3.Implies(other[0], other[2] <= score) for n, other in fits.items() if n != node]
        return z3.And(view.in_queue(pod), feasible, *best)

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        uid = _view(u, t, instance).value(pod, "uid") if pod in layout.user_pods else z3.IntVal(0)
        return {
            _cell(instance, pod, "assumed"): z3.BoolVal(True),
            _cell(instance, pod, "node"): z3.IntVal(layout.node_code(node)),
            _cell(instance, pod, "binding"): z3.BoolVal(True),
            _cell(instance, pod, "uid"): uid,
        }

    return Encoded(Action(instance, "SchedulerSchedule", (("pod", pod_key(pod)), ("node", node))), guard, effect)


def _fit_error(u: Unrolling, t: int, instance: str, pod: str) -> tuple[View, z3.BoolRef, z3.ArithRef]:
    """(the view, no node fits, the FitError's code) for the pod (layout.fit_error_code over the counts of nodes failing each usage reason
    and each managed taint)."""
    layout = layout_of(u)
    view = _view(u, t, instance)
    fits = [view.fit(pod, n) for n in layout.nodes]
    reasons = len(fits[0][1]) if fits else 1  # a cluster without nodes: no node fits, and the one code is "no nodes available"'s
    counts = [z3.Sum([z3.If(fails[i], 1, 0) for _, fails, _ in fits]) for i in range(reasons)]
    return view, z3.Not(z3.Or([feasible for feasible, _, _ in fits])), fit_error_code(len(layout.nodes), counts)


def unschedulable(instance: str, pod: str) -> Encoded:
    """SchedulerSchedule with no node: none fits and the FitError is news; PUT the cached pod's status with it (unconditional)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        view, none_fits, code = _fit_error(u, t, instance, pod)
        return z3.And(view.in_queue(pod), none_fits, view.value(pod, "unschedulable") != code)

    def effect(u: Unrolling, t: int) -> Terms:
        view, _, code = _fit_error(u, t, instance, pod)
        scheduled = view.value(pod, "scheduled")
        return apiserver.write_pod_status(u, t, pod, {"scheduled": scheduled, "unschedulable": code})

    return Encoded(Action(instance, "SchedulerSchedule", (("pod", pod_key(pod)), ("node", ""))), guard, effect)


def bind(instance: str, pod: str) -> Encoded:
    """SchedulerBind: POST the Binding; the pod stays assumed until seen bound, and is forgotten on failure (always with scheduler-no-assume)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        f = u[t]
        return z3.And(f[_cell(instance, pod, "assumed")], f[_cell(instance, pod, "binding")])

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        f = u[t]
        uid = f[_cell(instance, pod, "uid")] if pod in layout.user_pods else None
        ok, written = apiserver.bind(u, t, pod, f[_cell(instance, pod, "node")], uid)
        keep = z3.And(ok, z3.BoolVal(not layout.ctx.flag(sch.NO_ASSUME)))
        memory = {name: z3.If(keep, f[name], u.cells[name].literal(0)) for name in _fields(instance, pod)}
        return written | memory | {_cell(instance, pod, "binding"): z3.BoolVal(False)}

    return Encoded(Action(instance, "SchedulerBind", (("pod", pod_key(pod)),)), guard, effect)


def impossible(layout: Layout) -> list[str]:
    """Where no pod slot is ever queued (every pod names its node, or another scheduler), no cycle and no Binding."""
    return [] if schedulable(layout) else ["SchedulerSchedule", "SchedulerBind"]


def actions(layout: Layout, s: State) -> list[Encoded]:
    """The schedulers' encoded actions (none where :func:`covered` is false)."""
    if not layout.schedulers or not covered(layout, s):
        return []
    out: list[Encoded] = []
    for instance in layout.schedulers:
        out.append(deliver_pods(instance))
        nodes = cursor_only(instance, NODE)  # only its cycles read the Nodes, and only their managed taints (layout.node_taints)
        if not schedulable(layout):
            out.append(attrs.evolve(nodes, unread=True))
        elif layout.node_taints:
            out.append(nodes)
        for pod in schedulable(layout):
            mine = [schedule(instance, pod, node) for node in layout.nodes] + [unschedulable(instance, pod), bind(instance, pod)]
            out += [attrs.evolve(enc, born=layout.born(pod)) for enc in mine]
    return out


# ------------------------------------------------------------ invariants


def _bound_to(u: Unrolling, t: int, node: str) -> z3.BoolRef:
    """Some stored pod's node became ``node`` in the step into frame t (only a Binding writes a node)."""
    layout = layout_of(u)
    before, after = u[t - 1], u[t]
    code = layout.node_code(node)
    moved = [
        z3.And(before[f"pod/{key}/exists"], after[f"pod/{key}/exists"], after[f"pod/{key}/node"] == code, before[f"pod/{key}/node"] != code)
        for key in sorted(layout.dynamic)
    ]
    return z3.Or(moved) if moved else z3.BoolVal(False)


def inaccurate(u: Unrolling, t: int) -> z3.BoolRef:
    """scheduler-cache-accurate broken in frame t (where it is quiescent): a scheduler's usage of a node (its cached bound pods and its
    assumptions, sch.node_usage) is not the requests of the live pods bound there, in pods, cpu or memory."""
    layout = layout_of(u)
    f = u[t]
    bad = []
    for node in layout.nodes:
        code = layout.node_code(node)
        live = [(z3.And(f[f"pod/{key}/exists"], f[f"pod/{key}/node"] == code, z3.Not(apiserver.terminal(u, t, key))), key) for key in layout.pods]
        truth = [(c, layout.pod_objects[key].spec.requests()) for c, key in live if layout.can_be_on(key, node)]
        for instance in layout.schedulers:
            thinks = _view(u, t, instance).usage(node)
            for field in ("pods", "cpu", "memory"):
                bad.append(_sum([(c, getattr(r, field)) for c, r in thinks]) != _sum([(c, getattr(r, field)) for c, r in truth]))
    return z3.Or(bad) if bad else z3.BoolVal(False)


def overbooked(u: Unrolling, t: int) -> z3.BoolRef:
    """scheduler-fit broken by step t-1: a Binding put a pod on a node whose scheduled, non-terminal pods then need more than allocatable."""
    layout = layout_of(u)
    if t == 0:
        return z3.BoolVal(False)
    f = u[t]
    over = []
    for node in layout.nodes:
        alloc = layout.stored_nodes[node].status.allocatable
        code = layout.node_code(node)
        on = []
        for key in layout.pods:
            if layout.can_be_on(key, node):
                live = z3.And(f[f"pod/{key}/exists"], f[f"pod/{key}/node"] == code, f[f"pod/{key}/scheduled"], z3.Not(apiserver.terminal(u, t, key)))
                on.append((live, layout.pod_objects[key].spec.requests()))
        needs = z3.Or(
            _sum([(c, 1) for c, _ in on]) > alloc.pods,
            _sum([(c, r.cpu) for c, r in on]) > alloc.cpu,
            _sum([(c, r.memory) for c, r in on]) > alloc.memory,
        )
        over.append(z3.And(_bound_to(u, t, node), needs))
    return z3.Or(over) if over else z3.BoolVal(False)


def moved(u: Unrolling, t: int) -> z3.BoolRef:
    """pod-bound-once broken by step t-1: a pod of the same uid that had a node now has another."""
    layout = layout_of(u)
    if t == 0:
        return z3.BoolVal(False)
    before, after = u[t - 1], u[t]
    out = []
    for key in sorted(layout.dynamic):
        same = z3.And(before[f"pod/{key}/exists"], after[f"pod/{key}/exists"])
        if key in layout.user_pods:
            same = z3.And(same, before[f"pod/{key}/uid"] == after[f"pod/{key}/uid"])
        out.append(z3.And(same, before[f"pod/{key}/node"] != 0, after[f"pod/{key}/node"] != before[f"pod/{key}/node"]))
    return z3.Or(out) if out else z3.BoolVal(False)
