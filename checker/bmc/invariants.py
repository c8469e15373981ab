"""The invariants the Z3 encoding can judge, as conditions on one frame (spec/invariants.py)."""

from __future__ import annotations

import z3

from checker.bmc import kubelet, nodelifecycle, replicaset, scheduler
from checker.bmc.core import NONE, EncodedInvariant, Unrolling
from checker.bmc.layout import layout_of


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


def encoded(services: bool, replicasets: bool, kubelets: bool, schedulers: bool, heartbeats: bool = False) -> tuple[EncodedInvariant, ...]:
    """The invariants with an encoding, given which objects and components are encoded (catalogue order)."""
    out = [EncodedInvariant("pod-bound-once", scheduler.moved)] if schedulers else []
    out += [EncodedInvariant("rs-no-overshoot", replicaset.overshoot)] if replicasets else []
    out += [EncodedInvariant("scheduler-fit", scheduler.overbooked)] if schedulers else []
    if kubelets:
        out += [EncodedInvariant("node-capacity", kubelet.over_capacity), EncodedInvariant("phase-monotone", kubelet.phase_regressed)]
        out += [EncodedInvariant("unique-pod-ip", kubelet.shared_pod_ip)]
    out += [EncodedInvariant("unique-cluster-ip", _shared_cluster_ip)] if services else []
    return (*out, *([EncodedInvariant("no-eviction-storm", nodelifecycle.eviction_storm)] if heartbeats else []))
