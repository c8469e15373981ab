"""A design question as a kspec model file: is a partitioned node's pod replaced while it still runs, and for which numbers?

    kspec check --model examples/replaced_while_running.py --scenario node-failure --symbolic timeouts,tolerations,grace

A ReplicaSet promises replicas, not at-most-once: when a node stops
reporting, the node lifecycle controller taints it unreachable, the taint
eviction controller deletes its pods once their toleration runs out, and
the ReplicaSet controller creates replacements for pods being deleted
(pkg/controller/replicaset/replica_set.go counts only active pods). The
partitioned kubelet never hears of the deletion, so the old pod keeps
running beside its replacement. That is Kubernetes' documented behaviour
(docs: Taints and Tolerations, "taint based evictions"; StatefulSets exist
for at-most-one), so it is not one of kspec's invariants: this file asks it
as a question, with an invariant that says "never".

The file defines no component, only the question (``INVARIANTS``); the
cluster is the built-in ``node-failure`` scenario (three nodes, a ReplicaSet
of two whose pods tolerate an unreachable node for 2 ticks, one node may
crash or be partitioned). ``--symbolic`` then answers for which timeouts,
tolerationSeconds and grace periods the run found breaks it.
"""

from __future__ import annotations

from spec.component import Context
from spec.invariants import STATE, Invariant
from spec.state import State


def running_at_most_replicas(ctx: Context, s: State) -> str | None:
    """No ReplicaSet has more pods with a running container than spec.replicas.

    A sandbox counts for the ReplicaSet that owns its pod in the API server's
    store; a sandbox whose pod object is already gone is not counted, so the
    count is never more than the truth.
    """
    owner_of = {}
    for pod in s.api.objects.pods.values():
        for ref in pod.meta.owner_references:
            if ref.controller:
                owner_of[pod.meta.uid] = ref.uid
    running: dict[int, list[str]] = {}
    for name, machine in sorted(s.machines.items()):
        for sandbox in machine.sandboxes.values():
            if sandbox.running() and sandbox.uid in owner_of:
                running.setdefault(owner_of[sandbox.uid], []).append(f"{sandbox.pod} on {name}")
    for key, rs in sorted(s.api.objects.replicasets.items()):
        pods = running.get(rs.meta.uid, [])
        if len(pods) > rs.spec.replicas:
            return f"ReplicaSet {key} wants {rs.spec.replicas} pods and {len(pods)} run: {', '.join(sorted(pods))}"
    return None


INVARIANTS = [
    Invariant(
        name="replicas-run-at-most",
        kind=STATE,
        summary="no ReplicaSet has more running pods than spec.replicas (a question: Kubernetes does not promise it)",
        guarantee="docs: Taints and Tolerations, taint based evictions (an evicted pod's node may still run it)",
        check=running_at_most_replicas,
    ),
]
