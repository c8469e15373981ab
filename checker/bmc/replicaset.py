"""The ReplicaSet controller, as Z3 (spec/controllers/replicaset.py): its syncs, its writes, its expectations and its watches.

Cells per ReplicaSet: the expectation record (set, uid, add, timestamp, and
per pod slot whether its deletion is expected) and the sync in progress
(active; the ReplicaSet as the sync saw it: replicas, resourceVersion,
generation; the status it computed; the creates left; per pod slot its
position among the deletes left, NONE if it is not one; whether the status
write is left). The controller's caches are the store as of its cursors
(``checker.bmc.informer``).

The encoding covers a ReplicaSet whose pods (those that exist and those it
may create) are all its own and match its selector, so a sync never adopts or
releases; :func:`covered` says whether a scenario is such, and where it is
not the controller's actions are left out of the runs (and listed). The
order in which a sync deletes pods is the spec's own comparison
(``compare_for_deletion``), evaluated for each pair of pod slots whose
statuses are constants, with only the number of co-located pods it ranks
by left to Z3; where the kubelet writes a slot's status, the comparison's
keys are terms over the cached status (:meth:`Decision._first_varying`,
held to the spec by the differential tests and by ``RANKED`` in
tests/test_bmc.py), as are the pods a sync counts and its status.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable

import attrs
import z3

from checker.bmc import apiserver, status
from checker.bmc.core import NONE, Cell, Encoded, Terms, Unrolling
from checker.bmc.informer import cache_revision, deliver, event_at
from checker.bmc.layout import Layout, by_tick, clock, layout_of
from spec.component import Action
from spec.controllers import replicaset as rc
from spec.frozen import replace
from spec.objects import POD, REPLICASET, Pod, ReplicaSet
from spec.state import State

NAME = rc.NAME
STATUS = apiserver.RS_STATUS


def covered(layout: Layout) -> bool:
    """Each pod slot in a ReplicaSet's namespace is owned by it and matches, or is neither (no adoption, no release); none is being deleted."""
    for rs in layout.rs_objects.values():
        if rs.meta.deletion_timestamp is not None:
            return False
        for pod in layout.pod_objects.values():
            if pod.meta.namespace != rs.meta.namespace:
                continue
            ref = pod.meta.controller_ref()
            matches = rs.spec.selector.matches(pod.meta.labels)
            owned = ref is not None and ref.uid == rs.meta.uid
            if owned != matches and (ref is None or owned):
                return False
    return True


def _exp(rs: str, field: str) -> str:
    return f"rc/exp/{rs}/{field}"


def _sync(rs: str, field: str) -> str:
    return f"rc/sync/{rs}/{field}"


def cells(layout: Layout) -> list[Cell]:
    """The controller's memory."""
    out: list[Cell] = []
    for rs in layout.replicasets:
        out += [Cell(_exp(rs, "set"), boolean=True), Cell(_exp(rs, "uid")), Cell(_exp(rs, "add")), Cell(_exp(rs, "ts"))]
        out += [Cell(_exp(rs, f"del/{pod}"), boolean=True) for pod in layout.pods]
        out += [Cell(_sync(rs, "active"), boolean=True), Cell(_sync(rs, "replicas")), Cell(_sync(rs, "rv")), Cell(_sync(rs, "generation"))]
        out += [Cell(_sync(rs, f"status/{field}")) for field in STATUS]
        out += [Cell(_sync(rs, "creates")), Cell(_sync(rs, "write_status"), boolean=True)]
        out += [Cell(_sync(rs, f"del/{pod}")) for pod in layout.pods]
    return out


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The controller's memory in a state."""
    memory: rc.ReplicaSetMemory = s.views[NAME].memory
    out: dict[str, int | bool] = {}
    for rs in layout.replicasets:
        exp = memory.expectations.get(rs)
        out |= {_exp(rs, "set"): exp is not None, _exp(rs, "uid"): exp.uid if exp else 0, _exp(rs, "add"): exp.add if exp else 0}
        out[_exp(rs, "ts")] = exp.timestamp if exp else 0
        out |= {_exp(rs, f"del/{pod}"): exp is not None and pod in exp.dels for pod in layout.pods}
        sync = memory.syncs.get(rs)
        out[_sync(rs, "active")] = sync is not None
        seen = sync.rs if sync else None
        out |= {_sync(rs, "replicas"): seen.spec.replicas if seen else 0, _sync(rs, "rv"): seen.meta.resource_version if seen else 0}
        out[_sync(rs, "generation")] = seen.meta.generation if seen else 0
        values = apiserver.status_values(sync.status) if sync else dict.fromkeys(STATUS, 0)
        out |= {_sync(rs, f"status/{field}"): value for field, value in values.items()}
        writes = sync.writes if sync else ()
        out[_sync(rs, "creates")] = sum(1 for w in writes if w.verb == "create")
        out[_sync(rs, "write_status")] = any(w.verb == "status" for w in writes)
        deletes = [w.pod for w in writes if w.verb == "delete"]
        out |= {_sync(rs, f"del/{pod}"): deletes.index(pod) if pod in deletes else NONE for pod in layout.pods}
    return out


# ------------------------------------------------------------ the sync's decision


def _claimable(layout: Layout, rs: ReplicaSet, key: str) -> bool:
    """The slot's pod may count for the ReplicaSet (when it is in the cache, not being deleted and not terminal): owned, matching.

    A slot whose status is constant and terminal never counts.
    """
    pod = layout.pod_objects[key]
    ref = pod.meta.controller_ref()
    owned = pod.meta.namespace == rs.meta.namespace and ref is not None and ref.uid == rs.meta.uid
    return owned and (key in layout.status_slots or not pod.is_terminal())


def _count(terms: list[z3.BoolRef]) -> z3.ArithRef:
    return z3.Sum([z3.If(b, 1, 0) for b in terms]) if terms else z3.IntVal(0)


def _by_clock(u: Unrolling, t: int, test: Callable[[int], bool]) -> z3.BoolRef:
    """``test`` of the clock in frame t (a constant where every tick the run can reach gives the same answer)."""
    return by_tick(u, t, {tick: z3.BoolVal(test(tick)) for tick in layout_of(u).ticks})


def _counted(rs: ReplicaSet, pod: Pod, field: str, tick: int) -> bool:
    """The pod alone counts in the ReplicaSet's status ``field`` at ``tick`` (rc.calculate_status)."""
    return bool(getattr(rc.calculate_status(rs, (pod,), tick, ""), field))


class Decision:
    """What ReplicaSetSync of one ReplicaSet decides in frame t (rc.plan), as terms."""

    def __init__(self, u: Unrolling, t: int, key: str) -> None:
        layout = layout_of(u)
        self.u, self.t = u, t
        self.layout, self.key = layout, key
        rs = layout.rs_objects[key]
        f = u[t]
        pods_at, rs_at = cache_revision(u, t, NAME, POD), cache_revision(u, t, NAME, REPLICASET)
        self.pods_at = pods_at
        self._creation: dict[tuple[str, str], z3.BoolRef] = {}
        self.cached = {field: apiserver.value_at(u, t, rs_at, f"rs/{key}/{field}") for field in ("replicas", "generation", "rv")}
        cached_status = {field: apiserver.value_at(u, t, rs_at, f"rs/{key}/status/{field}") for field in STATUS}
        self.claimed: dict[str, z3.BoolRef] = {}
        self.nodes: dict[str, z3.ArithRef] = {}
        for pod in layout.pods:
            if _claimable(layout, rs, pod):
                there = apiserver.value_at(u, t, pods_at, f"pod/{pod}/exists")
                active = z3.And(z3.Not(apiserver.value_at(u, t, pods_at, f"pod/{pod}/deleting")), z3.Not(apiserver.terminal(u, t, pod, pods_at)))
                self.claimed[pod] = z3.And(there, active)
                self.nodes[pod] = apiserver.value_at(u, t, pods_at, f"pod/{pod}/node")
        n = _count(list(self.claimed.values()))
        exp_set, add = f[_exp(key, "set")], f[_exp(key, "add")]
        no_dels = z3.Not(z3.Or([f[_exp(key, f"del/{pod}")] for pod in layout.pods]))
        expired = clock(u, t) - f[_exp(key, "ts")] > layout.ctx.timing.expectations_timeout
        satisfied = z3.Or(z3.BoolVal(layout.ctx.flag(rc.NO_EXPECTATIONS)), z3.Not(exp_set), z3.And(add <= 0, no_dels), expired)
        self.manage = satisfied
        diff = n - self.cached["replicas"]
        self.diff = diff
        self.creates = z3.If(z3.And(satisfied, diff < 0), z3.If(-diff > rc.BURST_REPLICAS, rc.BURST_REPLICAS, -diff), 0)
        self.positions = self._positions(rs, z3.If(diff > rc.BURST_REPLICAS, rc.BURST_REPLICAS, diff), n)
        self.doomed = {pod: z3.And(satisfied, diff > 0, c, self.positions[pod] < diff) for pod, c in self.claimed.items()}
        self.status = self._status(rs, n)
        self.write_status = z3.Or([self.status[field] != cached_status[field] for field in STATUS])
        self.any_write = z3.Or(self.creates > 0, z3.Or(list(self.doomed.values()) or [z3.BoolVal(False)]), self.write_status)

    def _positions(self, rs: ReplicaSet, diff: z3.ArithRef, n: z3.ArithRef) -> dict[str, z3.ArithRef]:
        """Each claimed pod's place in the order rc.pods_to_delete deletes them (all of them, in cache order, when diff covers every pod).

        Whether a pod is bound, and the number of claimed pods bound to its
        node (its rank), are read from the cache; every other key of
        ``compare_for_deletion`` is a constant of the two slots.
        """
        layout = self.layout
        objs = {pod: layout.pod_objects[pod] for pod in self.claimed}
        node = {p: self.nodes[p] for p in objs}
        rank = {p: z3.If(node[p] == 0, 0, _count([z3.And(c, node[q] == node[p]) for q, c in self.claimed.items()])) for p in objs}
        out: dict[str, z3.ArithRef] = {}
        for p in objs:
            before_sorted, before_listed = [], []
            for q in objs:
                if q == p:
                    continue
                first = self._first(q, p, node[q] != 0, node[p] != 0, rank[q], rank[p])
                before_sorted.append(z3.And(self.claimed[q], first))
                if q < p:
                    before_listed.append(self.claimed[q])
            out[p] = z3.If(diff >= n, _count(before_listed), _count(before_sorted))
        return out

    def _first(self, key_a: str, key_b: str, bound_a: z3.BoolRef, bound_b: z3.BoolRef, rank_a: z3.ArithRef, rank_b: z3.ArithRef) -> z3.BoolRef:
        """Slot ``key_a`` sorts before ``key_b`` (the listing order breaks a tie) with compare_for_deletion, each bound or not as the terms say.

        The comparison reads the clock (readiness ages; where ticks the run
        can reach compare differently, the term chooses by the clock cell)
        and, last, the creation timestamps (:meth:`_by_creation`).
        """
        layout = self.layout
        if key_a in layout.status_slots or key_b in layout.status_slots:
            return self._first_varying(key_a, key_b, bound_a, bound_b, rank_a, rank_b)
        tick_ns = layout.ctx.timing.tick_seconds * 1_000_000_000
        a, b = layout.pod_objects[key_a], layout.pod_objects[key_b]
        listed = key_a < key_b
        b = replace(b, meta=replace(b.meta, creation_timestamp=a.meta.creation_timestamp)) if self._timed(key_a, key_b) else b

        def on_node(pod: Pod, bound: bool) -> Pod:
            return replace(pod, spec=replace(pod.spec, node_name="node" if bound else ""))

        def static(cmp: int) -> z3.BoolRef:
            if cmp == 0 and self._timed(key_a, key_b):
                return self._by_creation(key_a, key_b)
            return z3.BoolVal(cmp < 0 or (cmp == 0 and listed))

        def comparisons(tick: int) -> tuple[tuple[int, int, int], ...]:
            """For each (a bound, b bound): compare_for_deletion with a's rank higher, with b's, and with equal ranks."""
            out = []
            for x, y in itertools.product((False, True), repeat=2):
                pa, pb = on_node(a, x), on_node(b, y)
                out.append(tuple(rc.compare_for_deletion(pa, pb, i, j, tick, tick_ns) for i, j in ((1, 0), (0, 1), (0, 0))))
            return tuple(out)  # type: ignore[arg-type]

        def term(compared: tuple[tuple[int, int, int], ...]) -> z3.BoolRef:
            cases: dict[tuple[bool, bool], z3.BoolRef] = {}
            for (x, y), (with_rank_a, with_rank_b, equal) in zip(itertools.product((False, True), repeat=2), compared, strict=True):
                tie = static(equal)
                if with_rank_a == with_rank_b or not (x and y):  # the keys before the rank decide (an unbound pod's rank is 0)
                    cases[x, y] = tie
                else:
                    cases[x, y] = z3.Or(rank_a > rank_b, z3.And(rank_a == rank_b, tie))
            return z3.If(bound_a, z3.If(bound_b, cases[True, True], cases[True, False]), z3.If(bound_b, cases[False, True], cases[False, False]))

        compared = {tick: comparisons(tick) for tick in layout.ticks}
        terms = {c: term(c) for c in sorted(set(compared.values()))}
        return by_tick(self.u, self.t, {tick: terms[c] for tick, c in compared.items()})

    def _first_varying(
        self, key_a: str, key_b: str, bound_a: z3.BoolRef, bound_b: z3.BoolRef, rank_a: z3.ArithRef, rank_b: z3.ArithRef
    ) -> z3.BoolRef:
        """rc.compare_for_deletion where a slot's status is a cell (read from the cache), as a term: ``key_a`` sorts first.

        The keys in its order: unbound first, the phase's ordinal, not ready
        first, the deletion cost, the higher rank; then, both ready with
        different transitions, the newer transition; more restarts; the newer
        creation (:meth:`_by_creation`, the listing order on a tie).
        """
        layout = self.layout
        a, b = self._ordering(key_a), self._ordering(key_b)
        smaller_uid = layout.pod_objects[key_a].meta.uid < layout.pod_objects[key_b].meta.uid
        unknown_a, unknown_b = a["transition"] == NONE, b["transition"] == NONE
        newer = z3.If(unknown_a, True, z3.If(unknown_b, False, self._newer(a["transition"], b["transition"], smaller_uid)))
        by_transition = z3.And(a["ready"] != 0, b["ready"] != 0, a["transition"] != b["transition"])
        out = z3.If(by_transition, newer, z3.If(a["restarts"] != b["restarts"], a["restarts"] > b["restarts"], self._by_creation(key_a, key_b)))
        keys = [
            (z3.If(bound_a, 1, 0), z3.If(bound_b, 1, 0)),
            (a["phase"], b["phase"]),
            (a["ready"], b["ready"]),
            (z3.IntVal(rc.deletion_cost(layout.pod_objects[key_a])), z3.IntVal(rc.deletion_cost(layout.pod_objects[key_b]))),
            (-rank_a, -rank_b),
        ]
        for x, y in reversed(keys):
            out = z3.If(x != y, x < y, out)
        return out

    def _ordering(self, key: str) -> dict[str, z3.ArithRef]:
        """What compare_for_deletion reads of a slot's cached status: the phase's ordinal, ready (0/1), its transition, the most restarts."""
        read = functools.partial(apiserver.pod_status, self.u, self.t, key, at=self.pods_at)
        phase = read("phase")
        ordinal: z3.ArithRef = z3.IntVal(0)
        for name, value in sorted(rc.PHASE_ORDER.items()):
            ordinal = z3.If(phase == status.PHASES.index(name), value, ordinal)
        restarts: z3.ArithRef = z3.IntVal(0)
        for c in self.layout.pod_objects[key].spec.containers:
            count = read(f"cs/{c.name}/restarts")
            restarts = z3.If(count > restarts, count, restarts)
        return {"phase": ordinal, "ready": z3.If(read("ready"), 1, 0), "transition": read("transition"), "restarts": restarts}

    def _newer(self, time_a: z3.ArithRef, time_b: z3.ArithRef, smaller_uid: bool) -> z3.BoolRef:
        """rc._newer_first of two known times: the younger by floor(log2(age)) first; equal ranks, the smaller uid."""
        now = clock(self.u, self.t)
        rank_a, rank_b = self._log_rank(now - time_a), self._log_rank(now - time_b)
        return z3.If(rank_a == rank_b, smaller_uid, rank_a < rank_b)

    def _timed(self, key_a: str, key_b: str) -> bool:
        """One of the two slots' creation timestamps is a cell (apiserver.timed)."""
        return apiserver.timed(self.layout, key_a) or apiserver.timed(self.layout, key_b)

    def _by_creation(self, key_a: str, key_b: str) -> z3.BoolRef:
        """compare_for_deletion's last key, the creation timestamps (rc._newer_first), where every other key ties: ``key_a`` first.

        Uids are handed out in creation order and the clock never goes back,
        so the pod with the smaller uid was not created later: equal
        timestamps tie (the listing order decides); otherwise the newer pod
        goes first unless both ages have the same floor(log2) (rc._log_rank_diff),
        when the smaller uid does.
        """
        if (key_a, key_b) in self._creation:
            return self._creation[key_a, key_b]
        layout = self.layout
        u, t = self.u, self.t
        created_a, created_b = apiserver.created(u, t, key_a, self.pods_at), apiserver.created(u, t, key_b, self.pods_at)
        same_bucket = self._log_rank(clock(u, t) - created_a) == self._log_rank(clock(u, t) - created_b)
        a_older_uid = layout.pod_objects[key_a].meta.uid < layout.pod_objects[key_b].meta.uid
        out = z3.If(created_a == created_b, z3.BoolVal(key_a < key_b), same_bucket if a_older_uid else z3.Not(same_bucket))
        self._creation[key_a, key_b] = out
        return out

    def _log_rank(self, age: z3.ArithRef) -> z3.ArithRef:
        """floor(log2(age in nanoseconds)), -1 for no age (rc._log_rank_diff), for the ages the run can reach."""
        layout = self.layout
        tick_ns = layout.ctx.timing.tick_seconds * 1_000_000_000
        out: z3.ArithRef = z3.IntVal(-1)
        for ticks in range(1, layout.ticks.stop):
            out = z3.If(age == ticks, int(math.log2(ticks * tick_ns)), out)
        return out

    def _status(self, rs: ReplicaSet, n: z3.ArithRef) -> dict[str, z3.ArithRef]:
        """rc.calculate_status over the claimed pods (a constant status's readiness and availability by the clock; a status slot's cached)."""
        layout = self.layout
        counts: dict[str, list[z3.BoolRef]] = {"fully_labeled_replicas": [], "ready_replicas": [], "available_replicas": []}
        for pod, c in self.claimed.items():
            obj = layout.pod_objects[pod]
            if pod in layout.status_slots:
                ready, available = self._readiness(rs, pod)
                labeled = z3.BoolVal(_counted(rs, obj, "fully_labeled_replicas", layout.clock))
                for field, term in (("fully_labeled_replicas", labeled), ("ready_replicas", ready), ("available_replicas", available)):
                    counts[field].append(z3.And(c, term))
                continue
            for field, bucket in counts.items():
                bucket.append(z3.And(c, _by_clock(self.u, self.t, functools.partial(_counted, rs, obj, field))))
        status = {field: _count(bucket) for field, bucket in counts.items()}
        return status | {"replicas": n, "observed_generation": self.cached["generation"], "failure": z3.IntVal(0)}

    def _readiness(self, rs: ReplicaSet, pod: str) -> tuple[z3.BoolRef, z3.BoolRef]:
        """A status slot's (ready, available) in the cache: available once ready for longer than minReadySeconds (rc.calculate_status)."""
        ready = self._cached_status(pod, "ready")
        if rs.spec.min_ready_seconds == 0:
            return ready, ready
        transition = self._cached_status(pod, "transition")
        return ready, z3.And(ready, transition != NONE, transition + rs.spec.min_ready_seconds < clock(self.u, self.t))

    def _cached_status(self, pod: str, field: str) -> z3.ExprRef:
        return apiserver.pod_status(self.u, self.t, pod, field, self.pods_at)


# ------------------------------------------------------------ actions


def sync(key: str) -> Encoded:
    """ReplicaSetSync: enabled when no sync of the ReplicaSet is in progress and one would write something."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(z3.Not(u[t][_sync(key, "active")]), u.memo(("replicaset decision", t, key), lambda: Decision(u, t, key)).any_write)

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        d, f = u.memo(("replicaset decision", t, key), lambda: Decision(u, t, key)), u[t]
        sets = z3.And(d.manage, d.diff != 0)
        out: Terms = {
            _exp(key, "set"): z3.Or(sets, f[_exp(key, "set")]),
            _exp(key, "uid"): z3.If(sets, layout.rs_objects[key].meta.uid, f[_exp(key, "uid")]),
            _exp(key, "add"): z3.If(sets, d.creates, f[_exp(key, "add")]),
            _exp(key, "ts"): z3.If(sets, clock(u, t), f[_exp(key, "ts")]),
        }
        for pod in layout.pods:
            out[_exp(key, f"del/{pod}")] = z3.If(sets, d.doomed.get(pod, z3.BoolVal(False)), f[_exp(key, f"del/{pod}")])
            out[_sync(key, f"del/{pod}")] = z3.If(d.doomed[pod], d.positions[pod], NONE) if pod in d.doomed else z3.IntVal(NONE)
        out |= {_sync(key, "active"): z3.BoolVal(True), _sync(key, "creates"): d.creates, _sync(key, "write_status"): d.write_status}
        out |= {_sync(key, field): d.cached[field] for field in ("replicas", "rv", "generation")}
        out |= {_sync(key, f"status/{field}"): d.status[field] for field in STATUS}
        return out

    return Encoded(Action(NAME, "ReplicaSetSync", (("rs", key),)), guard, effect)


def write(key: str) -> Encoded:
    """ReplicaSetWrite: the next write of the sync in progress (creates, then deletes in order, then the status)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return u[t][_sync(key, "active")]

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        f = u[t]
        creating = f[_sync(key, "creates")] > 0
        deleting = {pod: f[_sync(key, f"del/{pod}")] == 0 for pod in layout.pods}
        any_delete = z3.Or(list(deleting.values()))
        status = {field: f[_sync(key, f"status/{field}")] for field in STATUS}
        written = apiserver.choose(
            u,
            t,
            [(creating, apiserver.create_pod(u, t, key))]
            + [(z3.And(z3.Not(creating), gone), _delete(u, t, key, pod)) for pod, gone in deleting.items()]
            + [(z3.And(z3.Not(creating), z3.Not(any_delete)), apiserver.write_replicaset_status(u, t, key, status))],
        )
        creates = z3.If(creating, f[_sync(key, "creates")] - 1, f[_sync(key, "creates")])
        positions = {
            pod: z3.If(z3.And(z3.Not(creating), f[_sync(key, f"del/{pod}")] != NONE), f[_sync(key, f"del/{pod}")] - 1, f[_sync(key, f"del/{pod}")])
            for pod in layout.pods
        }
        write_status = z3.And(f[_sync(key, "write_status")], z3.Or(creating, any_delete))
        positions = {pod: z3.If(p < 0, NONE, p) for pod, p in positions.items()}
        left = z3.Or(creates > 0, z3.Or([p != NONE for p in positions.values()] or [z3.BoolVal(False)]), write_status)
        out = dict(written)
        out[_sync(key, "creates")] = creates
        out[_sync(key, "write_status")] = write_status
        out |= {_sync(key, f"del/{pod}"): p for pod, p in positions.items()}
        out[_sync(key, "active")] = left
        for name in [_sync(key, field) for field in ("replicas", "rv", "generation")] + [_sync(key, f"status/{field}") for field in STATUS]:
            out[name] = z3.If(left, f[name], 0)
        return out

    return Encoded(Action(NAME, "ReplicaSetWrite", (("rs", key),)), guard, effect)


def _delete(u: Unrolling, t: int, key: str, pod: str) -> Terms:
    """A delete write: the pod's DELETE; a pod already gone counts as an observed deletion (rc._delete)."""
    layout = layout_of(u)
    found, changes = apiserver.delete_pod(u, t, pod)
    uid = layout.rs_objects[key].meta.uid
    observed = _deletion_observed(u, t, key, uid, pod)
    return changes | {name: z3.If(found, u[t][name], term) for name, term in observed.items()}


def _deletion_observed(u: Unrolling, t: int, key: str, uid: int, pod: str) -> Terms:
    """rc.deletion_observed: the pod's deletion is no longer expected."""
    f = u[t]
    mine = z3.And(f[_exp(key, "set")], f[_exp(key, "uid")] == uid)
    return {_exp(key, f"del/{pod}"): z3.And(f[_exp(key, f"del/{pod}")], z3.Not(mine))}


def deliver_kind(kind: str) -> Encoded:
    """WatchDeliver of the controller's ReplicaSet or pod watch; a pod event updates the expectations (rc._on_event)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return deliver(u, t, NAME, kind)[0]

    def effect(u: Unrolling, t: int) -> Terms:
        _, revision, moved = deliver(u, t, NAME, kind)
        return moved | (_on_pod_event(u, t, revision) if kind == POD else {})

    return Encoded(Action(NAME, "WatchDeliver", (("kind", kind),)), guard, effect)


def _on_pod_event(u: Unrolling, t: int, revision: z3.ArithRef) -> Terms:
    """addPod / updatePod / deletePod for the pod event of ``revision``: creations and deletions observed."""
    layout = layout_of(u)
    _, slot = event_at(u, t, revision)
    return _observed(u, t, revision - 1, revision, lambda pod: slot == layout.slot(POD, pod), tombstones=False)


def relisted_pods(u: Unrolling, t: int, before: z3.ArithRef, after: z3.ArithRef) -> Terms:
    """The handlers of a relist of the pod watch from the cache as of ``before`` to the store as of ``after`` (informer._diff_handlers): each
    pod slot that differs is an event; a deletion is a tombstone, which the variant rs-ignore-tombstones ignores."""
    return _observed(u, t, before, after, lambda pod: z3.BoolVal(True), tombstones=True)


def _observed(u: Unrolling, t: int, before: z3.ArithRef, after: z3.ArithRef, which: Callable[[str], z3.BoolRef], tombstones: bool) -> Terms:
    """rc._on_event for the pod slots ``which`` selects, each changed from its object as of ``before`` to its object as of ``after``."""
    layout = layout_of(u)
    f = u[t]
    ignored = tombstones and layout.ctx.flag(rc.IGNORE_TOMBSTONES)
    out: Terms = {}
    for rs_key, rs in layout.rs_objects.items():
        add = f[_exp(rs_key, "add")]
        mine = z3.And(f[_exp(rs_key, "set")], f[_exp(rs_key, "uid")] == rs.meta.uid)
        for pod in layout.pods:
            ref = layout.pod_objects[pod].meta.controller_ref()
            if ref is None or ref.kind != REPLICASET or ref.uid != rs.meta.uid or layout.pod_objects[pod].meta.namespace != rs.meta.namespace:
                continue
            this = which(pod)
            old_in, new_in = (apiserver.value_at(u, t, r, f"pod/{pod}/exists") for r in (before, after))
            old_del, new_del = (apiserver.value_at(u, t, r, f"pod/{pod}/deleting") for r in (before, after))
            gone = z3.And(old_in, z3.Not(new_in), z3.BoolVal(not ignored))
            marked = z3.And(new_in, new_del, z3.Or(z3.Not(old_in), z3.Not(old_del)))
            added = z3.And(z3.Not(old_in), new_in, z3.Not(new_del))
            name = _exp(rs_key, f"del/{pod}")
            out[name] = z3.If(z3.And(this, mine, z3.Or(gone, marked)), False, out.get(name, f[name]))
            add = z3.If(z3.And(this, mine, added), add - 1, add)
        out[_exp(rs_key, "add")] = add
    return out


def actions(layout: Layout) -> list[Encoded]:
    """The controller's encoded actions (none where :func:`covered` is false).

    With no ReplicaSet, its deliveries move only its cursors (an orphan pod
    matches no ReplicaSet to adopt it), which only the quiescence condition
    reads (``Encoded.unread``); its syncs are impossible (:func:`impossible`).
    """
    if not layout.replicasets:
        return [attrs.evolve(deliver_kind(kind), unread=True) for kind in (REPLICASET, POD)]
    if not covered(layout):
        return []
    out = [deliver_kind(REPLICASET), deliver_kind(POD)]
    for key in layout.replicasets:
        out += [sync(key), write(key)]
    return out


def impossible(layout: Layout) -> list[str]:
    """Where no ReplicaSet exists and the user creates none, no sync of one."""
    return [] if layout.replicasets or layout.ctx.scenario.user.replicasets else ["ReplicaSetSync", "ReplicaSetWrite"]


def _owned_active(u: Unrolling, t: int, key: str) -> list[z3.BoolRef]:
    """Per pod slot the ReplicaSet owns: whether the store holds it active in frame t (rc: exists, not being deleted, not terminal)."""
    layout = layout_of(u)
    f = u[t]
    uid = layout.rs_objects[key].meta.uid
    owned = []
    for pod in layout.pods:
        obj = layout.pod_objects[pod]
        ref = obj.meta.controller_ref()
        if ref is not None and ref.kind == REPLICASET and ref.uid == uid and (pod in layout.status_slots or not obj.is_terminal()):
            owned.append(z3.And(f[f"pod/{pod}/exists"], z3.Not(f[f"pod/{pod}/deleting"]), z3.Not(apiserver.terminal(u, t, pod))))
    return owned


def overshoot(u: Unrolling, t: int) -> z3.BoolRef:
    """rs-no-overshoot broken by step t-1: a write created a pod while the store held the sync's replicas of active pods the ReplicaSet owns."""
    if t == 0:
        return z3.BoolVal(False)
    f = u[t - 1]
    bad = []
    for i, enc in enumerate(u.actions):
        if enc.action.component != NAME or enc.action.name != "ReplicaSetWrite":
            continue
        key = str(enc.action.param("rs"))
        owned = _owned_active(u, t - 1, key)
        bad.append(z3.And(u.choices[t - 1] == i, f[_sync(key, "active")], f[_sync(key, "creates")] > 0, _count(owned) >= f[_sync(key, "replicas")]))
    return z3.Or(bad) if bad else z3.BoolVal(False)


def unconverged(u: Unrolling, t: int) -> z3.BoolRef:
    """rs-converges broken in frame t (where it is quiescent): a ReplicaSet does not own spec.replicas active pods, or its status.replicas
    does not count them (none is ever being deleted here: ``covered``)."""
    f = u[t]
    bad = []
    for key in layout_of(u).replicasets:
        active = _count(_owned_active(u, t, key))
        bad.append(z3.Or(active != f[f"rs/{key}/replicas"], f[f"rs/{key}/status/replicas"] != active))
    return z3.Or(bad) if bad else z3.BoolVal(False)
