"""The taint eviction controller, as Z3 (spec/controllers/tainteviction.py, taint_eviction.go).

It has no memory: its caches of Nodes and pods are the store as of its
cursors (``checker.bmc.informer``), and its deliveries only move them. A
bound, active pod in its cache whose node carries NoExecute taints is
evicted (an ordinary DELETE, ``apiserver.delete_pod``) once the earliest
taint's timeAdded plus the smallest tolerationSeconds of the matching
tolerations has come, at once if some taint is not tolerated, never if
every matching toleration is unbounded (``tainteviction.eviction_time``).
The NoExecute taints here are the node lifecycle controller's (a scenario
whose Nodes start with one is not encoded: ``layout._heartbeats``). Where
no Node is ever written (``layout.quiet``), only its pod deliveries are
possible.
"""

from __future__ import annotations

import itertools

import attrs
import z3

from checker.bmc import apiserver
from checker.bmc.core import Encoded, Terms, Unrolling, per_frame
from checker.bmc.informer import cache_revision, cached, cursor_only
from checker.bmc.layout import MANAGED_TAINTS, Layout, clock, layout_of, pod_key
from spec.component import Action
from spec.controllers import tainteviction as te
from spec.frozen import replace
from spec.objects import NO_EXECUTE, NODE, POD, Taint

NAME = te.NAME
NO_EXECUTE_TAINTS = tuple(i for i, (_, effect) in enumerate(MANAGED_TAINTS) if effect == NO_EXECUTE)
"""the indexes of the managed taints that are NoExecute"""


def deliver_event(kind: str) -> Encoded:
    """WatchDeliver of the controller's watch of ``kind`` (it has no handler: the cache is all it keeps)."""
    return cursor_only(NAME, kind)


def _offset(layout: Layout, pod: str, node: str, taints: tuple[int, ...]) -> int | None:
    """te.eviction_time of the pod on its node carrying the managed taints ``taints``, each added at tick 0: the delay, or None (never)."""
    stored = layout.stored_nodes[node]
    extra = tuple(Taint(key=MANAGED_TAINTS[i][0], effect=MANAGED_TAINTS[i][1], time_added=0) for i in taints)
    return te.eviction_time(layout.pod_objects[pod], replace(stored, spec=replace(stored.spec, taints=(*stored.spec.taints, *extra))))


@per_frame
def _eviction(u: Unrolling, t: int, pod: str, node: str) -> tuple[z3.BoolRef, z3.ArithRef]:
    """(the pod has an eviction time on ``node``, that time), from the cached Node's NoExecute taints and their timeAdded."""
    layout = layout_of(u)
    present = {i: cached(u, t, NAME, NODE, apiserver.taint_cell(node, i)) for i in NO_EXECUTE_TAINTS}
    added = {i: cached(u, t, NAME, NODE, apiserver.taint_cell(node, i, "added")) for i in NO_EXECUTE_TAINTS}
    has: z3.BoolRef = z3.BoolVal(False)
    when: z3.ArithRef = z3.IntVal(0)
    for size in range(1, len(NO_EXECUTE_TAINTS) + 1):
        for taints in itertools.combinations(NO_EXECUTE_TAINTS, size):
            offset = _offset(layout, pod, node, taints)
            if offset is None:
                continue
            exactly = z3.And([present[i] if i in taints else z3.Not(present[i]) for i in NO_EXECUTE_TAINTS])
            earliest = added[taints[0]]
            for i in taints[1:]:
                earliest = z3.If(added[i] < earliest, added[i], earliest)
            has, when = z3.Or(has, exactly), z3.If(exactly, earliest + offset, when)
    return has, when


def _candidate(u: Unrolling, t: int, pod: str, node: str) -> tuple[z3.BoolRef, z3.ArithRef]:
    """te._candidates: the pod is in the cache, bound to ``node``, active, and has an eviction time there."""
    at = cache_revision(u, t, NAME, POD)
    layout = layout_of(u)
    there = cached(u, t, NAME, POD, f"pod/{pod}/exists")
    deleting = cached(u, t, NAME, POD, f"pod/{pod}/deleting")
    bound = cached(u, t, NAME, POD, f"pod/{pod}/node") == layout.node_code(node)
    has, when = _eviction(u, t, pod, node)
    return z3.And(there, z3.Not(deleting), z3.Not(apiserver.terminal(u, t, pod, at)), bound, has), when


def evict(pod: str) -> Encoded:
    """TaintEvictPod: the pod's eviction time has come; DELETE it with its default grace period (TaintManagerEviction)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        due = []
        for node in layout.nodes:
            if layout.can_be_on(pod, node):
                candidate, when = _candidate(u, t, pod, node)
                due.append(z3.And(candidate, when <= clock(u, t)))
        return z3.Or(due) if due else z3.BoolVal(False)

    def effect(u: Unrolling, t: int) -> Terms:
        return apiserver.delete_pod(u, t, pod)[1]

    return Encoded(Action(NAME, "TaintEvictPod", (("pod", pod_key(pod)),)), guard, effect)


def actions(layout: Layout) -> list[Encoded]:
    """The controller's encoded actions: all of them where the heartbeats are encoded; where no Node is ever written (``layout.quiet``),
    its pod deliveries, which move its cursor and nothing reads (``Encoded.unread``; the rest is impossible: ``impossible``)."""
    if layout.quiet:
        return [attrs.evolve(deliver_event(POD), unread=True)]
    if not layout.heartbeats:
        return []
    return [deliver_event(NODE), deliver_event(POD), *(attrs.evolve(evict(pod), born=layout.born(pod)) for pod in layout.pods)]


def impossible(layout: Layout) -> list[str]:
    """Where no Node is ever written (``layout.quiet``), no NoExecute taint ever appears, so no pod is evicted."""
    return ["TaintEvictPod"] if layout.quiet else []


def timers(u: Unrolling, t: int) -> list[z3.BoolRef]:
    """te._timers armed: a candidate's eviction time is still to come."""
    layout = layout_of(u)
    out = []
    for pod in layout.pods:
        for node in layout.nodes:
            if layout.can_be_on(pod, node) and layout.born(pod) <= t:
                candidate, when = _candidate(u, t, pod, node)
                out.append(z3.And(candidate, when > clock(u, t)))
    return out
