"""The garbage collector, as Z3 (spec/controllers/garbagecollector.py, garbagecollector.go attemptToDeleteItem).

Encoded where no ReplicaSet can be deleted or created in the run and every
pod slot's owner is one of the initial ReplicaSets, by uid (:func:`covered`):
then no owner is ever dangling, GarbageCollectOrphan (an owner being
deleted with the orphan finalizer) can never be enabled, and
GarbageCollectPod only records what its live GET finds. Its caches are
the store as of its cursors (``checker.bmc.informer``); a ReplicaSet is in
its cache once its cursor has passed the ReplicaSet's creation (a constant
revision of the initial history). Its memory is a cell per ReplicaSet:
whether a live GET found it present before the informer delivered it
(``solid``), dropped when an event of the ReplicaSet is delivered.
"""

from __future__ import annotations

import attrs
import z3

from checker.bmc import apiserver
from checker.bmc.core import Cell, Encoded, Terms, Unrolling
from checker.bmc.informer import cache_revision, cursor_only, deliver, event_at
from checker.bmc.layout import Layout, layout_of, pod_key
from spec.component import Action
from spec.controllers import garbagecollector as gc
from spec.objects import POD, REPLICASET
from spec.state import State

NAME = gc.NAME


def covered(layout: Layout, initial: State) -> bool:
    """No ReplicaSet can be deleted or created, none is being deleted, and every pod slot's ReplicaSet owners are initial ones."""
    scenario = layout.ctx.scenario
    budgets = scenario.bounds.budgets
    if budgets.get("delete-replicaset", 0) > 0 or (budgets.get("create", 0) > 0 and scenario.user.replicasets):
        return False
    if NAME not in initial.views or any(rs.meta.deletion_timestamp is not None for rs in layout.rs_objects.values()):
        return False
    uids = {rs.meta.uid for rs in layout.rs_objects.values()}
    return all(ref.uid in uids for pod in layout.pod_objects.values() for ref in pod.meta.owner_references if ref.kind == REPLICASET)


def _solid(rs: str) -> str:
    return f"gc/solid/{rs}"


def cells(layout: Layout) -> list[Cell]:
    """Per ReplicaSet, whether a live GET found it before the collector's informer delivered it."""
    return [Cell(_solid(key), boolean=True) for key in layout.replicasets]


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The collector's memory in a state."""
    memory = s.views[NAME].memory or gc.GarbageCollectorMemory()
    return {_solid(key): rs.meta.uid in memory.solid for key, rs in layout.rs_objects.items()}


def created_at(initial: State) -> dict[str, int]:
    """Each initial ReplicaSet's creation revision where the initial history still holds it, else 0 (every cache has it)."""
    out = dict.fromkeys(initial.api.objects.replicasets, 0)
    for ev in initial.channels.log:
        if ev.kind == REPLICASET and ev.old is None and ev.key in out:
            out[ev.key] = ev.revision
    return out


def deliver_pods() -> Encoded:
    """WatchDeliver of the collector's pod watch (the handler ignores pods)."""
    return cursor_only(NAME, POD)


def deliver_replicasets() -> Encoded:
    """WatchDeliver of the collector's ReplicaSet watch: the event's ReplicaSet is no longer noted as found by a live GET (gc._on_event)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return deliver(u, t, NAME, REPLICASET)[0]

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        _, revision, out = deliver(u, t, NAME, REPLICASET)
        kind, slot = event_at(u, t, revision)
        for key in layout.replicasets:
            mine = z3.And(kind == layout.kinds[REPLICASET], slot == layout.slot(REPLICASET, key))
            out[_solid(key)] = z3.And(u[t][_solid(key)], z3.Not(mine))
        return out

    return Encoded(Action(NAME, "WatchDeliver", (("kind", REPLICASET),)), guard, effect)


def relisted_replicasets(u: Unrolling, t: int, before: z3.ArithRef, after: z3.ArithRef) -> Terms:
    """The handler of a relist of the ReplicaSet watch from the cache as of ``before`` to the store as of ``after``: a ReplicaSet written in
    between is an event, and no longer noted (none is created or deleted here: ``covered``)."""
    layout = layout_of(u)
    out: Terms = {}
    for key in layout.replicasets:
        out[_solid(key)] = z3.And(u[t][_solid(key)], z3.Not(apiserver.rewritten(u, t, f"rs/{key}", before, after)))
    return out


def collect(pod: str, rs: str, created: int) -> Encoded:
    """GarbageCollectPod: a live pod in the collector's cache whose owner its ReplicaSet cache does not hold yet (nor its memory); the live
    GET finds the owner, so the collector notes it and deletes nothing."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        at = cache_revision(u, t, NAME, POD)
        there = z3.And(apiserver.value_at(u, t, at, f"pod/{pod}/exists"), z3.Not(apiserver.value_at(u, t, at, f"pod/{pod}/deleting")))
        unseen = cache_revision(u, t, NAME, REPLICASET) < created
        return z3.And(there, z3.Not(u[t][_solid(rs)]), unseen)

    return Encoded(Action(NAME, "GarbageCollectPod", (("pod", pod_key(pod)),)), guard, lambda u, t: {_solid(rs): z3.BoolVal(True)})


def _collectable(layout: Layout, initial: State) -> list[tuple[str, str, int]]:
    """(pod slot, its owner, the owner's creation revision) for each pod slot whose owner a lagging ReplicaSet cache may not hold yet."""
    created = created_at(initial)
    by_uid = {rs.meta.uid: key for key, rs in layout.rs_objects.items()}
    out = []
    for pod in layout.pods:
        owners = [by_uid[ref.uid] for ref in layout.pod_objects[pod].meta.owner_references if ref.kind == REPLICASET]
        if owners and created[owners[0]] > 0:
            out.append((pod, owners[0], created[owners[0]]))
    return out


def actions(layout: Layout, initial: State) -> list[Encoded]:
    """The collector's encoded actions (none where :func:`covered` is false). Where it can collect nothing (``impossible``), its deliveries
    change only what nothing else reads: its cursors and its notes (``Encoded.unread``)."""
    if not covered(layout, initial):
        return []
    collectable = _collectable(layout, initial)
    out = [attrs.evolve(deliver, unread=not collectable) for deliver in (deliver_pods(), deliver_replicasets())]
    return out + [attrs.evolve(collect(pod, rs, created), born=layout.born(pod)) for pod, rs, created in collectable]


def impossible(layout: Layout, initial: State) -> list[str]:
    """Where :func:`covered` holds: GarbageCollectOrphan (no ReplicaSet is ever deleted with the orphan finalizer), and GarbageCollectPod
    where every owner is in every cache from the start."""
    if not covered(layout, initial):
        return []
    return ["GarbageCollectOrphan"] + ([] if _collectable(layout, initial) else ["GarbageCollectPod"])
