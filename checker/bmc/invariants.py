"""The invariants the Z3 encoding can judge, as conditions on one frame (spec/invariants.py).

A quiescent invariant is judged in frames the encoding cannot tell from
quiescent (:func:`quiescent`): no watch event undelivered and no encoded
action of the invariant's component enabled. That is necessary for
quiescence, not sufficient (another component's action, one left out of
the encoding, or a timer may still be due), so the
engine asks the executable spec whether the state of such a frame is
quiescent, and rules the run out where it is not.
"""

from __future__ import annotations

from collections.abc import Callable

import z3

from checker.bmc import endpoints, kubelet, kubeproxy, nodelifecycle, replicaset, scheduler
from checker.bmc.apiserver import cursor, is_cursor
from checker.bmc.core import NONE, Encoded, EncodedInvariant, Unrolling
from checker.bmc.informer import pending
from checker.bmc.layout import layout_of, reachable


def _shared_cluster_ip(u: Unrolling, t: int) -> z3.BoolRef:
    """unique-cluster-ip broken: two Services hold the same ClusterIP (ipallocator hands out each address once)."""
    layout = layout_of(u)
    f = u[t]
    keys = layout.services
    pairs = []
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            ip = f[f"service/{a}/ip"]
            pairs.append(z3.And(f[f"service/{a}/exists"], f[f"service/{b}/exists"], ip != NONE, ip == f[f"service/{b}/ip"]))
    return z3.Or(pairs) if pairs else z3.BoolVal(False)


def busy(u: Unrolling, t: int, enc: Encoded) -> z3.BoolRef:
    """The encoded action is enabled in frame t and changes a cell there (a step that changes nothing is no work left)."""

    def build() -> z3.BoolRef:
        f = u[t]
        effect = enc.effect(u, t)
        written = {name for name, term in effect.items() if not u.cells[name].history and not term.eq(f[name])}
        if "rev" in written:  # an API write moves a watch's cursor only where it moves the revision (apiserver.commit)
            written = {name for name in written if not is_cursor(name)}
        changes = [effect[name] != f[name] for name in sorted(written)]
        return z3.And(enc.guard(u, t), z3.Or(changes)) if changes else z3.BoolVal(False)

    return u.memo(("busy", t, str(enc.action), enc.free), build)


def quiescent(u: Unrolling, t: int, components: frozenset[str] | None = None) -> z3.BoolRef:
    """Frame t may be quiescent: every watch that can deliver has delivered, and no encoded action of ``components`` (of every component
    when None) is enabled and changes a cell.

    (catalogue.is_quiescent, less what the encoding cannot see: the actions
    it leaves out and the armed timers; and with ``components``, less the
    other components' actions, which a quiescent invariant's verdict does
    not hinge on.) The drained watches' events may still be pending: the run
    delivers them at its end (:func:`drain`).
    """

    def build() -> z3.BoolRef:
        layout = layout_of(u)
        f = u[t]
        watchers = [w for w in layout.watchers if cursor(w.instance, w.kind) not in u.drained]
        pending = [z3.And(reachable(u, t, w.node) if w.node else True, f[cursor(w.instance, w.kind)] != NONE) for w in watchers]
        work = []
        for enc in u.actions:
            kind = layout.ctx.type_of(enc.action.component)
            if enc.born <= t and not kind.environment and (components is None or kind.kind in components):
                work.append(busy(u, t, enc))
        return z3.Not(z3.Or(pending + work)) if pending or work else z3.BoolVal(True)

    return u.memo(("quiescent", t, *sorted(components or ())), build)


def drain(u: Unrolling, t: int) -> z3.ArithRef:
    """The deliveries a run that ends in frame t takes at its end, to empty the drained watches (``Instance.without_unread``)."""

    def build() -> z3.ArithRef:
        layout = layout_of(u)
        counts = [pending(u, t, w.instance, w.kind) for w in layout.watchers if cursor(w.instance, w.kind) in u.drained]
        return z3.Sum(counts) if counts else z3.IntVal(0)

    return u.memo(("drain", t), build)


def _at_quiescence(bad: Callable[[Unrolling, int], z3.BoolRef], component: str) -> Callable[[Unrolling, int], z3.BoolRef]:
    """A quiescent invariant's condition: ``bad`` in a frame where every watch has delivered and ``component``'s actions change nothing.

    Where the watches have delivered, the component's caches are the store,
    so with its actions idle what it writes is what the store calls for: the
    other components' actions do not bear on the verdict, and leaving them
    out of the condition keeps it small (a run where they are due is not
    quiescent, and the engine rules it out on the spec's word).
    """
    parts = frozenset({component})
    return lambda u, t: z3.And(quiescent(u, t, parts), bad(u, t))


QUIESCENT = {
    "rs-converges": replicaset.NAME,
    "scheduler-cache-accurate": scheduler.NAME,
    "endpoints-converge": endpoints.NAME,
    "proxy-converges": kubeproxy.NAME,
}
"""the quiescent invariants with an encoding, each with the component whose actions its condition requires idle"""


def _never(u: Unrolling, t: int) -> z3.BoolRef:
    """An invariant no state breaks here."""
    return z3.BoolVal(False)


def encoded(
    services: bool,
    replicasets: bool,
    kubelets: bool,
    schedulers: bool,
    heartbeats: bool = False,
    addresses: tuple[bool, bool] = (False, False),
    serviceless: bool = False,
) -> tuple[EncodedInvariant, ...]:
    """The invariants with an encoding, given which objects and components are encoded (catalogue order).

    ``addresses``: whether the Endpoints controller, and kube-proxy, are encoded. ``serviceless``: no Service can ever exist
    (``endpoints.serviceless``), so their three invariants hold in every state (no Service for an Endpoints to differ from, no
    EndpointsSync, no rule on any machine), and their encoding is that constant.
    """
    out = [EncodedInvariant("pod-bound-once", scheduler.moved)] if schedulers else []
    if kubelets:
        out += [EncodedInvariant("pod-runs-once", kubelet.runs_elsewhere), EncodedInvariant("identity-runs-once", kubelet.identity_twice)]
    if replicasets:
        out += [EncodedInvariant("rs-no-overshoot", replicaset.overshoot)]
        out += [EncodedInvariant("rs-converges", _at_quiescence(replicaset.unconverged, QUIESCENT["rs-converges"]))]
    out += [EncodedInvariant("scheduler-fit", scheduler.overbooked)] if schedulers else []
    out += [EncodedInvariant("node-capacity", kubelet.over_capacity)] if kubelets else []
    if schedulers:
        out += [EncodedInvariant("scheduler-cache-accurate", _at_quiescence(scheduler.inaccurate, QUIESCENT["scheduler-cache-accurate"]))]
    if serviceless:
        out += [EncodedInvariant(name, _never) for name in ("endpoints-converge", "endpoints-never-terminating", "proxy-converges")]
    if addresses[0]:
        out += [EncodedInvariant("endpoints-converge", _at_quiescence(endpoints.unconverged, QUIESCENT["endpoints-converge"]))]
        out += [EncodedInvariant("endpoints-never-terminating", endpoints.ready_terminating)]
    out += [EncodedInvariant("proxy-converges", _at_quiescence(kubeproxy.unconverged, QUIESCENT["proxy-converges"]))] if addresses[1] else []
    if kubelets:
        out += [EncodedInvariant("phase-monotone", kubelet.phase_regressed), EncodedInvariant("unique-pod-ip", kubelet.shared_pod_ip)]
    out += [EncodedInvariant("unique-cluster-ip", _shared_cluster_ip)] if services else []
    return (*out, *([EncodedInvariant("no-eviction-storm", nodelifecycle.eviction_storm)] if heartbeats else []))
