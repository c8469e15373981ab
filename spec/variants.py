"""Behaviour variants: named changes of one component, usually a real bug.

A variant is data: a name, the behaviour flags it switches on (components
consult them through ``Context.flag``), and the facts a reader needs: what it
changes, in which component, the invariants it breaks, the scenario that
witnesses it and the upstream reference. The default variant switches nothing
on: it is today's Kubernetes.

Calibration (tested in tests/test_calibration.py): the default variant holds
every invariant in every built-in scenario at the CI budget, every variant
breaks the invariants it lists on its witness scenario, and every invariant is
listed by at least one variant.
"""

from __future__ import annotations

import attrs

from spec.errors import UnknownNameError


@attrs.frozen
class Variant:
    """A named change of component behaviour."""

    name: str
    """the variant's name"""
    summary: str
    """what it changes, in one line"""
    changes: frozenset[str] = frozenset()
    """behaviour flags it switches on"""
    component: str = ""
    """the component it changes"""
    reference: str = ""
    """the upstream issue or source it reproduces"""
    breaks: tuple[str, ...] = ()
    """the invariants it breaks (the first is the one its witness run looks for)"""
    witness: str = ""
    """the built-in scenario on which it breaks them"""


DEFAULT = Variant(name="default", summary="today's Kubernetes: no behaviour changed")


def _v(name: str, component: str, summary: str, breaks: tuple[str, ...], witness: str, reference: str, *extra: str) -> Variant:
    return Variant(name, summary, frozenset({name, *extra}), component, reference, breaks, witness)


_BUGS = (
    _v(
        "rs-no-expectations",
        "replicaset-controller",
        "manages replicas from its cache alone, without waiting for its own creations to be observed",
        ("rs-no-overshoot",),
        "scale",
        "pkg/controller/controller_utils.go ControllerExpectations; kubernetes/kubernetes#129795 (expectations expiring)",
    ),
    _v(
        "rs-ignore-tombstones",
        "replicaset-controller",
        "ignores deletions a relist infers (DeletedFinalStateUnknown), so its deletion expectations stay unmet",
        ("rs-converges",),
        "relist",
        "pkg/controller/replicaset/replica_set.go deletePod (the cache.DeletedFinalStateUnknown branch)",
    ),
    _v(
        "scheduler-no-assume",
        "scheduler",
        "binds without assuming the pod in its cache, so a stale cache double-books a node",
        ("scheduler-fit",),
        "capacity",
        "pkg/scheduler/schedule_one.go assume; kubernetes/kubernetes#106884, #60469",
    ),
    _v(
        "two-schedulers",
        "scheduler",
        "two scheduler instances (no leader election), each with its own cache and assumptions",
        ("scheduler-fit",),
        "capacity",
        "cmd/kube-scheduler --leader-elect; pkg/scheduler/internal/cache",
    ),
    _v(
        "scheduler-missed-delete",
        "scheduler",
        "a pod's DELETED watch event never reaches the scheduler cache, whose node usage then leaks",
        ("scheduler-cache-accurate",),
        "basic",
        "pkg/scheduler/eventhandlers.go deletePodFromCache; kubernetes/kubernetes#55587",
    ),
    _v(
        "apiserver-rebind",
        "apiserver",
        "pods/binding accepts a pod that is already bound (with two schedulers racing, the second binding moves it)",
        ("pod-bound-once", "pod-runs-once", "identity-runs-once"),
        "basic",
        "pkg/registry/core/pod/storage/storage.go assignPod (the 'already assigned to node' check)",
        "two-schedulers",
    ),
    _v(
        "apiserver-clusterip-lag",
        "apiserver",
        "the ClusterIP allocator reads Services from a lagging cache and hands out an address already in use",
        ("unique-cluster-ip",),
        "services",
        "pkg/registry/core/service/ipallocator/controller/repair.go ('assigned to multiple services')",
    ),
    _v(
        "kubelet-no-admission",
        "kubelet",
        "the kubelet runs whatever is bound to it, without its admission predicates",
        ("node-capacity",),
        "capacity",
        "pkg/kubelet/lifecycle/predicate.go; pkg/kubelet/kubelet.go HandlePodAdditions",
    ),
    _v(
        "kubelet-stale-relist",
        "kubelet",
        "a restarted kubelet lists from a lagging API server cache and starts a pod deleted and recreated elsewhere",
        ("identity-runs-once", "phase-monotone"),
        "stateful",
        "kubernetes/kubernetes#59848",
    ),
    _v(
        "kubelet-phase-regress",
        "kubelet",
        "the status manager keeps reporting pods whose phase is already terminal, so the phase can regress",
        ("phase-monotone",),
        "batch",
        "kubernetes/kubernetes#58711; openshift/origin#17011 (Succeeded back to Pending)",
    ),
    _v(
        "kubelet-ip-by-running",
        "kubelet",
        "pod IPs are allocated as if a sandbox whose containers exited had released its address",
        ("unique-pod-ip",),
        "batch",
        "pkg/kubelet/kuberuntime/kuberuntime_sandbox.go (the sandbox, not its containers, holds the network)",
    ),
    _v(
        "kube-proxy-keep-stale",
        "kube-proxy",
        "kube-proxy never removes the rules of Services that are gone",
        ("proxy-converges",),
        "services",
        "pkg/proxy/iptables/proxier.go syncProxyRules (stale service chains are deleted on every sync)",
    ),
    _v(
        "endpoints-keep-terminating",
        "endpoints-controller",
        "terminating pods stay in the ready addresses",
        ("endpoints-never-terminating",),
        "basic",
        "kubernetes/kubernetes#54723",
    ),
    _v(
        "endpoints-ignore-readiness",
        "endpoints-controller",
        "pods that are not ready are published as ready addresses",
        ("endpoints-converge",),
        "basic",
        "pkg/controller/endpoint/endpoints_controller.go addEndpointSubset (podutil.IsPodReady)",
    ),
    _v(
        "nodelifecycle-no-disruption-mode",
        "node-lifecycle-controller",
        "NoExecute taints (and so evictions) continue when every node looks unhealthy at once",
        ("no-eviction-storm",),
        "outage",
        "pkg/controller/nodelifecycle/node_lifecycle_controller.go handleDisruption; kubernetes/kubernetes#28832",
    ),
)

VARIANTS: dict[str, Variant] = {v.name: v for v in (DEFAULT, *_BUGS)}


@attrs.frozen
class ShortestRun:
    """Where a variant's shortest counterexample is within reach of breadth-first search."""

    scenario: str
    """a built-in scenario or one of ``spec.scenarios.CLUSTERS``"""
    invariant: str
    """the invariant it breaks there"""
    steps: int
    """the length of the explorer's shortest counterexample there"""


SHORTEST: dict[str, ShortestRun] = {
    "apiserver-clusterip-lag": ShortestRun("services", "unique-cluster-ip", 2),
    "kubelet-no-admission": ShortestRun("overbooked", "node-capacity", 4),
    "kubelet-ip-by-running": ShortestRun("batch", "unique-pod-ip", 5),
    "endpoints-keep-terminating": ShortestRun("draining", "endpoints-never-terminating", 5),
    "kubelet-phase-regress": ShortestRun("batch", "phase-monotone", 6),
    "rs-no-expectations": ShortestRun("scale", "rs-no-overshoot", 7),
    "kube-proxy-keep-stale": ShortestRun("services", "proxy-converges", 7),
    "kubelet-stale-relist": ShortestRun("stateful", "phase-monotone", 7),
    "apiserver-rebind": ShortestRun("basic", "pod-bound-once", 8),
    "scheduler-no-assume": ShortestRun("placement", "scheduler-fit", 8),
    "two-schedulers": ShortestRun("placement", "scheduler-fit", 9),
    "nodelifecycle-no-disruption-mode": ShortestRun("outage", "no-eviction-storm", 10),
    "scheduler-missed-delete": ShortestRun("batch", "scheduler-cache-accurate", 10),
    "endpoints-ignore-readiness": ShortestRun("unready", "endpoints-converge", 10),
    "rs-ignore-tombstones": ShortestRun("stranded", "rs-converges", 21),
}
"""for each bug variant, a cluster where breadth-first search finds its shortest counterexample, the invariant broken there and that
counterexample's length (``benchmarks/shortest.py`` measures both exhaustive engines on each; ``tests/test_bmc.py`` holds Z3 to them)"""


def get_variant(name: str) -> Variant:
    """The variant called ``name`` (exit-2 error with close matches otherwise)."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise UnknownNameError("variant", name, VARIANTS) from None
