"""The Z3 engine (checker.bmc): its encoding in lockstep with the executable spec, its counterexamples, and what it says it covers."""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import trace as tracefmt
from checker.bmc import apiserver, core
from checker.bmc import engine as bmc
from checker.bmc import environment as bmc_environment
from checker.bmc import invariants as bmc_invariants
from checker.bmc import replicaset as bmc_replicaset
from checker.bmc import status as bmc_status
from checker.bmc.core import Cell, Encoded, EncodedInvariant, EncodingError, Footprint, Instance, Unrolling, footprints, symbolic
from checker.bmc.instance import build
from checker.bmc.layout import Layout
from checker.check import KubeProperties
from checker.cli import main
from checker.explore import Limits, explore
from spec import invariants as spec_invariants
from spec import scheduler as sch
from spec.component import Action
from spec.controllers import replicaset as rc
from spec.environment import armed_timers
from spec.fingerprint import fingerprint
from spec.frozen import replace
from spec.invariants import Monitor
from spec.kubelet import KubeletMemory
from spec.model import KubeModel
from spec.objects import TAINT_UNREACHABLE, ContainerStatus, EndpointAddress, PodStatus, Taint
from spec.scenarios import (
    DRAINING,
    OVERBOOKED,
    PLACEMENT,
    STRANDED,
    UNREADY,
    Bounds,
    Scenario,
    Timing,
    UserChoices,
    container,
    get_scenario,
    node,
    pod,
    replicaset,
)
from spec.state import State
from spec.variants import DEFAULT, SHORTEST, VARIANTS, get_variant

UNPLACED = attrs.evolve(PLACEMENT, name="unplaced", bounds=attrs.evolve(PLACEMENT.bounds, budgets={"create": 3, "delete-pod": 1}))
"""placement where the user may also delete a pod, and create it again with a new uid"""


_WEB = replicaset("web", 3, container(cpu=400))
PINNED = Scenario(
    name="pinned",
    summary="one node of 1 cpu; a ReplicaSet of 3 pods of 400m whose template names the node, so no scheduler stands between them and its kubelet",
    nodes=(node("node-1", cpu=1000),),
    objects=(
        replace(_WEB, spec=replace(_WEB.spec, template=replace(_WEB.spec.template, spec=replace(_WEB.spec.template.spec, node_name="node-1")))),
    ),
    bounds=Bounds(steps=40),
)
"""the kubelet's admission rejects the third pod (OutOfcpu), which is Failed, and the ReplicaSet replaces it (and the replacement, and so on)"""

CUT_OFF = Scenario(
    name="cut-off",
    summary="one node runs two ready pods, settled; the node may be cut off from the control plane",
    nodes=(node("node-1"),),
    objects=tuple(pod(name, container(readiness_probe=True), node_name="node-1") for name in ("a", "b")),
    bounds=Bounds(budgets={"partition": 1}, clock_limit=4, steps=30),
    timing=Timing(node_monitor_grace=2),
    settle=True,
)
"""MarkPodsNotReady's queue at its shortest: the node's Ready -> Unknown transition queues both its pods, marked in turn"""

TAINTED = Scenario(
    name="tainted",
    summary="two nodes that may be cut off from the control plane; the user creates an unbound pod",
    nodes=(node("node-1"), node("node-2")),
    user=UserChoices(pods=(pod("a", container()),)),
    bounds=Bounds(budgets={"create": 1, "partition": 2}, clock_limit=4, steps=40),
    timing=Timing(node_monitor_grace=2),
    settle=True,
)
"""the scheduler's Node deliveries at their shortest: an Unknown node's unreachable taint, once delivered, filters it out"""

RESTARTING = attrs.evolve(
    get_scenario("relist"), name="restarting", bounds=attrs.evolve(get_scenario("relist").bounds, budgets={"scale": 2, "component-restart": 6})
)
"""relist where the components' processes may restart six times (and no watch breaks)"""

RUNS = [
    ("placement", "default"),
    ("placement", "scheduler-no-assume"),
    ("placement", "two-schedulers"),
    ("services", "default"),
    ("services", "apiserver-clusterip-lag"),
    ("services", "kube-proxy-keep-stale"),
    ("draining", "endpoints-keep-terminating"),
    ("basic", "default"),
    ("replace", "default"),
    ("scale", "default"),
    ("scale", "rs-no-expectations"),
    ("relist", "default"),
    ("batch", "default"),
    ("batch", "kubelet-ip-by-running"),
    ("batch", "kubelet-phase-regress"),
    ("batch", "scheduler-missed-delete"),
    ("relist", "scheduler-missed-delete"),
    ("capacity", "default"),
    ("capacity", "kubelet-no-admission"),
    ("pinned", "default"),
    ("outage", "default"),
    ("outage", "nodelifecycle-no-disruption-mode"),
    ("node-failure", "default"),
    ("restarting", "default"),
    ("unready", "endpoints-ignore-readiness"),
    ("unplaced", "default"),
    ("tainted", "default"),
    ("cut-off", "default"),
    ("stateful", "default"),
    ("stateful", "kubelet-stale-relist"),
    ("basic", "apiserver-rebind"),
    ("stranded", "default"),
    ("stranded", "rs-ignore-tombstones"),
]
QUICK = {
    ("placement", "default"),
    ("placement", "scheduler-no-assume"),
    ("placement", "two-schedulers"),
    ("services", "default"),
    ("draining", "endpoints-keep-terminating"),
    ("scale", "rs-no-expectations"),
    ("batch", "kubelet-ip-by-running"),
    ("batch", "scheduler-missed-delete"),
    ("outage", "nodelifecycle-no-disruption-mode"),
}
"""the runs the default test run draws (every component encoded so far is in them); ``-m slow`` draws every one"""
STEPS = 6
CORPUS = Path(__file__).resolve().parent.parent / "counterexamples"


def _model(scenario: str, variant: str) -> KubeModel:
    built = {s.name: s for s in (UNPLACED, PINNED, RESTARTING, CUT_OFF, TAINTED)}
    return KubeModel(built.get(scenario) or get_scenario(scenario), DEFAULT if variant == "default" else get_variant(variant))


@functools.cache
def _instance(scenario: str, variant: str, steps: int) -> Instance:
    """The encoding of a built-in scenario and variant, built once per test process (the instance is immutable)."""
    return build(_model(scenario, variant), steps)


def _wrote(inst: Instance, before: State, after: State) -> dict[str, int | bool]:
    """The history cells of a step: the codes of the kind and the slot it wrote, and which filtered watches select its event."""
    layout: Layout = inst.data  # type: ignore[assignment]
    return apiserver.history(layout, before, after)


@pytest.mark.parametrize(("scenario", "variant"), [r if r in QUICK else pytest.param(*r, marks=pytest.mark.slow) for r in RUNS])
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_the_encoding_admits_exactly_the_executable_successor(scenario: str, variant: str, data: st.DataObject) -> None:
    """Along drawn runs: each encoded action is enabled in Z3 exactly when the catalogue offers it, and leads to its successor's abstraction.

    Every frame of the run is a constant (the abstraction of the spec's
    state), so Z3 simplifies each guard and effect to a value; the encoded
    invariants are compared with the spec's verdicts in every state.
    """
    _follow(scenario, variant, data, STEPS)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize(("scenario", "variant"), [r for r in RUNS if r != ("node-failure", "default")])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_encoding_admits_exactly_the_executable_successor_deep(scenario: str, variant: str, data: st.DataObject) -> None:
    """The same, on 200 runs of up to 9 steps each (not on node-failure, whose three nodes take about 18 s a run; scale takes over 10 min)."""
    _follow(scenario, variant, data, 9)


def _follow(scenario: str, variant: str, data: st.DataObject, steps: int) -> None:
    """Follow a drawn run of up to ``steps`` encoded actions, comparing Z3 with the spec at every step."""
    inst = _instance(scenario, variant, steps)
    model = inst.model
    monitor = Monitor(model.ctx, model.is_quiescent, [i.name for i in inst.invariants])
    assert inst.actions, "the scenario has encoded actions to draw from"
    u = inst.unrolling()
    state = inst.initial
    for t in range(data.draw(st.integers(0, steps), label="steps")):
        enabled = _compare_successors(inst, u, state, t)
        if not enabled:
            break
        i, arg = data.draw(st.sampled_from(enabled), label="action")
        state = _take(inst, u, monitor, state, t, i, arg)


def _compare_successors(inst: Instance, u: Unrolling, state: State, t: int) -> list[tuple[int, int]]:
    """Every encoded action is enabled in Z3 exactly when the catalogue offers it in ``state``, and leads to its successor's abstraction; an
    action with a parameter Z3 chooses (WatchReset's revision), at each value the spec offers and at the boundaries (``_args``).

    Returns the enabled ones: (index, parameter; 0 where there is none).
    """
    model = inst.model
    offered = {str(a) for a in model.actions(state)}
    enabled = []
    admits: dict[str, int] = {}
    for i, enc in enumerate(inst.actions):
        for arg in _args(enc, model.actions(state), state.api.revision, model.ctx.scenario.bounds.watch_cache_window) if enc.free else [0]:
            admitted = u.successor(i, arg)
            action = enc.decoded(arg)
            admits[str(action)] = admits.get(str(action), 0) + (admitted is not None)
            if admitted is not None:
                after = model.next_state(state, action)
                expected = inst.abstract(after) | _wrote(inst, state, after)
                differ = sorted(k for k in expected if admitted[k] != expected[k])
                assert not differ, f"{action} at step {t}: Z3 and the spec disagree on {differ}"
                enabled.append((i, arg))
    for label, count in sorted(admits.items()):  # the slots of a name's lives share their actions' labels: one at most is enabled
        assert count == (label in offered), f"{label} at step {t}: Z3 enables it {count} times, the spec {int(label in offered)}"
    encoded = {str(enc.action) for enc in inst.actions}
    for action in model.actions(state):
        assert str(bmc_environment.instance_of(action)) in encoded or _listed(inst, action), (
            f"{action} at step {t}: offered by the spec, neither encoded nor listed"
        )
    return enabled


def _args(enc: Encoded, offered: list[Action], revision: int, window: int) -> list[int]:
    """The values of an action's free parameter worth comparing: those the spec offers, one past each end of them, and the ends of the
    range the watch cache can serve (the guard is a conjunction of bounds on the value: an error in one shows at a boundary)."""
    mine = [int(a.param(enc.free)) for a in offered if str(bmc_environment.instance_of(a)) == str(enc.action)]
    edges = {-1, 0, revision - window - 1, revision - window, revision, revision + 1}
    return sorted({*mine, *edges, *((min(mine) - 1, max(mine) + 1) if mine else ())})


def _listed(inst: Instance, action: Action) -> bool:
    """The action is among those the instance lists as not encoded: by its label, its kind, its watch, or (a user's pod's clean-up, whose
    uid is not known beforehand) its kind with a note."""
    kind = f"{action.component} {action.name}"
    forms = {str(action), kind, str(bmc_environment.instance_of(action))}
    if action.name == "WatchDeliver":
        forms.add(f"{kind} kind={action.param('kind')}")
    return bool(forms & set(inst.not_encoded)) or any(entry.startswith(f"{kind} (") for entry in inst.not_encoded)


def _take(inst: Instance, u: Unrolling, monitor: Monitor, state: State, t: int, i: int, arg: int = 0) -> State:
    """Take encoded action ``i`` (its parameter Z3 chooses at ``arg``) in the spec and in the unrolling; the encoded invariants' verdicts on
    the step agree with the spec's."""
    action = inst.actions[i].decoded(arg)
    after = inst.model.next_state(state, action)
    u.known(i, inst.abstract(after) | _wrote(inst, state, after), arg)
    spec_says = {v.invariant for v in monitor.check_step(state, action, after)}
    quiescent = inst.model.is_quiescent(after)
    # Z3 cannot see the actions it leaves out, nor timers: where the spec's state is not quiescent, the engine asks the spec and
    # discards Z3's quiescent verdicts, so they are not built here either
    judged = [inv for inv in inst.invariants if quiescent or inv.name not in bmc_invariants.QUIESCENT]
    z3_says = {inv.name for inv in judged if z3.is_true(z3.simplify(inv.bad(u, t + 1)))}
    if quiescent and any(inv.name in bmc_invariants.QUIESCENT for inv in inst.invariants):
        assert z3.is_true(z3.simplify(bmc_invariants.quiescent(u, t + 1))), f"after {action}: quiescent, but not to Z3"
    if any(e.action.component == bmc_environment.CLOCK for e in inst.actions):  # the search learns from the timers (engine._lessons)
        armed = z3.is_true(z3.simplify(bmc_environment.armed(u, t + 1)))
        assert armed == bool(armed_timers(inst.model.ctx, after)), f"after {action}: a timer armed to Z3: {armed}, to the spec: {not armed}"
    assert z3_says == spec_says, f"after {action}: Z3 says {sorted(z3_says)} broken, the spec {sorted(spec_says)}"
    return after


RENEW = ["kubelet/node-2 KubeletRenewLease", "node-lifecycle-controller WatchDeliver kind=Lease"]
EVICTION = [
    "fault NodePartition node=node-1",
    *(step for _ in range(3) for step in ("clock Tick", *RENEW)),
    "node-lifecycle-controller NodeLifecycleMarkUnknown node=node-1",
    "node-lifecycle-controller WatchDeliver kind=Node",
    "node-lifecycle-controller NodeLifecycleTaint node=node-1",
    "taint-eviction-controller WatchDeliver kind=Node",
    "taint-eviction-controller WatchDeliver kind=Node",
    *(step for _ in range(2) for step in ("clock Tick", *RENEW)),
    "taint-eviction-controller TaintEvictPod pod=default/web-bbbbj",
    "replicaset-controller WatchDeliver kind=Pod",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "scheduler WatchDeliver kind=Pod",
    "scheduler WatchDeliver kind=Pod",
]
"""outage: node-1 cut off, its grace period out (node_monitor_grace 2), Unknown, tainted, its pod evicted after its 2 tolerated ticks and replaced"""


@pytest.mark.slow  # about 20 s even without every step; the default run keeps the shorter walks
@pytest.mark.parametrize("every_step", [False, True])
def test_the_encoding_follows_an_eviction_step_by_step(every_step: bool) -> None:
    """Along a partition, three ticks, MarkUnknown, the NoExecute taint, two more ticks, the eviction and the replacement pod (27 steps,
    deeper than the random runs reach), Z3 enables each step and leads to the spec's successor; at the last state (``-m slow``: at every
    state, about a minute) every encoded action agrees with the spec."""
    state = _follow_steps("outage", EVICTION, every_step)[-1]
    assert state.api.objects.pods["default/web-bbbbj"].meta.deletion_timestamp is not None


MARKED = [
    *EVICTION[: EVICTION.index("node-lifecycle-controller WatchDeliver kind=Node") + 1],
    "node-lifecycle-controller NodeLifecycleMarkPodNotReady pod=default/web-bbbbj",
    "fault NodeHeal node=node-1",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbj",
]
"""outage: node-1 cut off and marked Unknown, its pod marked not ready (MarkPodsNotReady); the partition heals and its kubelet, seeing the
write, reports the pod ready again"""


@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_encoding_follows_a_pod_marked_not_ready_and_reported_ready_again(every_step: bool) -> None:
    """The node lifecycle controller's MarkPodsNotReady write and the kubelet's answer to it (15 steps) are each the spec's successor,
    the pod's Ready condition false after the one and true after the other (``-m slow``: every encoded action compared at every state)."""
    states = _follow_steps("outage", MARKED, every_step)
    assert [s.api.objects.pods["default/web-bbbbj"].status.ready for s in states[-5:]] == [True, False, False, False, True]


QUEUED = [
    "fault NodePartition node=node-1",
    *["clock Tick"] * 3,
    "node-lifecycle-controller NodeLifecycleMarkUnknown node=node-1",
    "node-lifecycle-controller WatchDeliver kind=Node",
    "node-lifecycle-controller NodeLifecycleMarkPodNotReady pod=default/a",
    "node-lifecycle-controller NodeLifecycleMarkPodNotReady pod=default/b",
]
"""cut-off: the node's grace period runs out; its Unknown condition, delivered, queues both pods, which are marked not ready in key order"""


def test_markpodsnotready_marks_a_node_s_pods_in_the_order_it_queued_them() -> None:
    """At every state of the walk every encoded action agrees with the spec: in particular NodeLifecycleMarkPodNotReady is enabled for the
    head of the queue only, and the second pod waits for the first."""
    states = _follow_steps(CUT_OFF.name, QUEUED, every_step=True)
    assert [s.views["node-lifecycle-controller"].memory.mark_not_ready for s in states[-3:]] == [("default/a", "default/b"), ("default/b",), ()]
    assert not any(p.status.ready for p in states[-1].api.objects.pods.values())


REBOOTED = ["fault NodeCrash node=node-1", "fault NodeRestart node=node-1", "kube-proxy/node-1 KubeProxySyncRules"]
"""node-failure: node-1 crashes, losing its NAT rules, and boots; its kube-proxy lists the store and writes them again"""


def test_a_crash_clears_a_machine_s_rules_and_its_kube_proxy_writes_them_again() -> None:
    """Along the crash, the restart and kube-proxy's sync, every encoded action agrees with the spec at every state: the rules are gone
    after the crash and back, with both backends, after the sync."""
    states = _follow_steps("node-failure", REBOOTED, every_step=True)
    rules = [s.machines["node-1"].proxy_rules for s in states]
    assert rules[0] and not rules[1] and not rules[2] and rules[3] == rules[0]


_CUT = ["clock Tick", "kubelet/node-2 KubeletRenewLease", "node-lifecycle-controller WatchDeliver kind=Lease"]
SKIPPED = [
    "fault NodePartition node=node-1",
    *_CUT * 3,
    "node-lifecycle-controller NodeLifecycleMarkUnknown node=node-1",
    "node-lifecycle-controller WatchDeliver kind=Node",
    "node-lifecycle-controller NodeLifecycleTaint node=node-1",
    *["scheduler WatchDeliver kind=Node"] * 2,
    "user UserCreate kind=Pod name=default/a",
    "scheduler WatchDeliver kind=Pod",
    "scheduler SchedulerSchedule pod=default/a node=node-2",
]
"""tainted: node-1 cut off, Unknown and tainted unreachable; the scheduler, having seen the taint, places the user's pod on node-2 only"""
UNPLACEABLE = [
    *(f"fault NodePartition node=node-{n}" for n in (1, 2)),
    *["clock Tick"] * 3,
    *(f"node-lifecycle-controller NodeLifecycleMarkUnknown node=node-{n}" for n in (1, 2)),
    *["node-lifecycle-controller WatchDeliver kind=Node"] * 2,
    *(f"node-lifecycle-controller NodeLifecycleTaint node=node-{n}" for n in (1, 2)),
    *["scheduler WatchDeliver kind=Node"] * 4,
    "user UserCreate kind=Pod name=default/a",
    "scheduler WatchDeliver kind=Pod",
    "scheduler SchedulerSchedule pod=default/a node=",
]
"""tainted: both nodes cut off and tainted unreachable (NoSchedule only: full disruption); the user's pod fits neither, and its FitError
names the taint"""


@pytest.mark.parametrize("steps", [SKIPPED, UNPLACEABLE], ids=["one-tainted", "both-tainted"])
def test_the_scheduler_reads_the_managed_taints_its_node_watch_delivered(steps: list[str]) -> None:
    """Along each walk every encoded action agrees with the spec at every state: before the scheduler's Node deliveries the user's pod
    would fit the tainted node, after them it does not, and the FitError that names the taint has its code."""
    states = _follow_steps(TAINTED.name, steps, every_step=True)
    pod = states[-1].api.objects.pods["default/a"]
    if steps is SKIPPED:
        assert states[-1].views["scheduler"].memory.assumed["default/a"].node == "node-2"
    else:
        assert pod.status.unschedulable == "0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }."


RECREATED = [
    "user UserCreate kind=Pod name=default/a",
    "user UserDeletePod pod=default/a",
    "user UserCreate kind=Pod name=default/a",
    "scheduler WatchDeliver kind=Pod",
    "scheduler WatchDeliver kind=Pod",
    "scheduler WatchDeliver kind=Pod",
    "scheduler SchedulerSchedule pod=default/a node=node-1",
]
"""unplaced: the user's unbound pod created, deleted (it goes at once) and created again, the second with the next uid; the scheduler
sees all three events and assumes the second"""


def test_a_user_s_pod_deleted_and_created_again_takes_a_new_uid() -> None:
    """At every state every encoded action agrees with the spec: the deletion clears the slot's uid, the second creation hands out the
    next one, and the scheduler assumes the pod with it."""
    states = _follow_steps(UNPLACED.name, RECREATED, every_step=True)
    uids = [s.api.objects.pods["default/a"].meta.uid if "default/a" in s.api.objects.pods else 0 for s in states[1:4]]
    assert uids[0] and not uids[1] and uids[2] == uids[0] + 1
    assert states[-1].views["scheduler"].memory.assumed["default/a"].uid == uids[2]


RELIVED = [
    "user UserDeletePod pod=default/db-0",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletKillPod pod=default/db-0",
    "kubelet/node-1 KubeletSyncStatus pod=default/db-0",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletDeletePod pod=default/db-0",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletCleanupPod uid=5",
    "user UserCreate kind=Pod name=default/db-0",
    "kubelet/node-2 WatchDeliver kind=Pod",
    "kubelet/node-2 KubeletAdmitPod pod=default/db-0",
    "kubelet/node-2 KubeletStartContainer pod=default/db-0 container=app",
]
"""stateful: db-0 deleted on node-1, its sandbox cleaned up, then created again bound to node-2, whose kubelet runs it (the first twelve
steps of the committed kubelet-stale-relist counterexample)"""


def test_a_name_s_second_life_has_a_slot_of_its_own() -> None:
    """At every state every encoded action agrees with the spec: the first life's slot is removed, the second's takes the next uid, and
    node-2's kubelet runs it in its own slot's sandbox; nothing of stateful is left out."""
    inst = _instance("stateful", "default", len(RELIVED))
    assert inst.data.lives("default/db-0") == ("default/db-0", "default/db-0#2") and not inst.not_encoded  # type: ignore[attr-defined]
    # no Service can ever exist: the Services' invariants hold in every state, and Z3 judges them so (compared with the spec at each step)
    assert {"endpoints-converge", "endpoints-never-terminating", "proxy-converges"} <= {i.name for i in inst.invariants}
    states = _follow_steps("stateful", RELIVED, every_step=True)
    first, second = states[0].api.objects.pods["default/db-0"], states[-1].api.objects.pods["default/db-0"]
    assert second.meta.uid > first.meta.uid and set(states[-1].machines["node-2"].sandboxes) == {second.meta.uid}


STALE = [
    *RELIVED,
    "fault ComponentRestart component=kubelet/node-1",
    "kubelet/node-1 KubeletAdmitPod pod=default/db-0",
    "kubelet/node-1 KubeletStartContainer pod=default/db-0 container=app",
]
"""stateful with kubelet-stale-relist: node-1's kubelet restarts, lists the first life of db-0 from the lagging cache and runs it again
(the committed counterexample)"""


def test_a_kubelet_s_stale_list_reads_the_store_before_the_initial_revision() -> None:
    """At every state every encoded action agrees with the spec, and identity-runs-once breaks at the last step in both: the restarted
    kubelet's list is served as of a revision before the initial one (the initial status write of db-0 is still to be delivered)."""
    inst = _instance("stateful", "kubelet-stale-relist", len(STALE))
    assert inst.data.store_history and not inst.not_encoded  # type: ignore[attr-defined]
    states = _follow_steps("stateful", STALE, every_step=True, variant="kubelet-stale-relist")
    restarted = states[len(RELIVED) + 1]
    assert restarted.channels.cursors["kubelet/node-1"]["Pod"] < states[0].api.revision
    assert spec_invariants.identity_runs_once(inst.model.ctx, states[-1]) is not None


REBOUND = [
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "scheduler WatchDeliver kind=Pod",
    "scheduler-2 WatchDeliver kind=Pod",
    "scheduler-2 SchedulerSchedule pod=default/web-bbbbk node=node-2",
    "scheduler-2 SchedulerBind pod=default/web-bbbbk",
    "kubelet/node-2 WatchDeliver kind=Pod",
    "kubelet/node-2 KubeletAdmitPod pod=default/web-bbbbk",
    "kubelet/node-2 KubeletStartContainer pod=default/web-bbbbk container=app",
    "scheduler SchedulerSchedule pod=default/web-bbbbk node=node-1",
    "scheduler SchedulerBind pod=default/web-bbbbk",
    "kubelet/node-2 WatchDeliver kind=Pod",
    "kubelet/node-2 KubeletCleanupPod uid=7",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletAdmitPod pod=default/web-bbbbk",
    "kubelet/node-1 KubeletStartContainer pod=default/web-bbbbk container=app",
]
"""basic with apiserver-rebind: a pod bound to node-2 and started there is bound again to node-1; node-2's kubelet sees it leave its
selection, forgets it and removes its sandbox, and node-1's runs it"""


@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_a_rebound_pod_leaves_its_kubelet_s_selection(every_step: bool) -> None:
    """Each step agrees with the spec, and every encoded action at the last state (``-m slow``: at every state, about 40 s), and the encoded
    invariants' verdicts (the second binding breaks pod-bound-once and, while node-2 still runs the pod, pod-runs-once); nothing of the
    kubelets is left out where pods/binding rebinds."""
    assert _instance("basic", "apiserver-rebind", len(REBOUND)).not_encoded == ()
    states = _follow_steps("basic", REBOUND, every_step=every_step, variant="apiserver-rebind")
    ctx = _model("basic", "apiserver-rebind").ctx
    assert spec_invariants.pod_runs_once(ctx, states[11]) is not None and spec_invariants.pod_runs_once(ctx, states[13]) is None
    assert [sorted(states[-1].machines[n].sandboxes) for n in ("node-1", "node-2")] == [[7], []]


REJECTED = [
    "replicaset-controller ReplicaSetSync rs=default/web",
    *["replicaset-controller ReplicaSetWrite rs=default/web"] * 3,
    *["kubelet/node-1 WatchDeliver kind=Pod"] * 3,
    "kubelet/node-1 KubeletAdmitPod pod=default/web-bbbbh",
    "kubelet/node-1 KubeletAdmitPod pod=default/web-bbbbj",
    "kubelet/node-1 KubeletAdmitPod pod=default/web-bbbbk",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbk",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    *["replicaset-controller WatchDeliver kind=Pod"] * 4,
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
]
"""pinned: the ReplicaSet creates its three pods on node-1, whose kubelet admits two and rejects the third (OutOfcpu) and reports it Failed;
the controller counts it out and creates a replacement"""


@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_encoding_follows_a_rejected_pod_replaced(every_step: bool) -> None:
    """A ReplicaSet's pod's status is the kubelet's to write, and the controller reads it back: along REJECTED (18 steps), Z3 leads to the
    spec's successor at each step, the rejected pod Failed with its reason, and the sync that counts it out creates a fourth pod."""
    state = _follow_steps(PINNED.name, REJECTED, every_step)[-1]
    rejected = state.api.objects.pods["default/web-bbbbk"].status
    assert (rejected.phase, rejected.reason) == ("Failed", "OutOfcpu")
    assert sorted(state.api.objects.pods) == ["default/web-bbbbh", "default/web-bbbbj", "default/web-bbbbk", "default/web-bbbbl"]


RANKED = [
    "user UserScaleReplicaSet rs=default/web replicas=3",
    "replicaset-controller WatchDeliver kind=ReplicaSet",
    "replicaset-controller ReplicaSetSync rs=default/web",
    *["replicaset-controller ReplicaSetWrite rs=default/web"] * 2,
    "scheduler WatchDeliver kind=Pod",
    "scheduler SchedulerSchedule pod=default/web-bbbbl node=node-1",
    "scheduler SchedulerBind pod=default/web-bbbbl",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletAdmitPod pod=default/web-bbbbl",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbl",
    "user UserScaleReplicaSet rs=default/web replicas=1",
    *["replicaset-controller WatchDeliver kind=Pod"] * 3,
    *["replicaset-controller WatchDeliver kind=ReplicaSet"] * 2,
    "replicaset-controller ReplicaSetSync rs=default/web",
    *["replicaset-controller ReplicaSetWrite rs=default/web"] * 2,
]
"""relist: scaled to 3, the third pod bound and admitted, its status Pending (ContainerCreating) written; scaled to 1, the sync ranks the
three pods (compare_for_deletion over the cached statuses) and deletes the pending one first, then the first listed of the two running"""


@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_encoding_ranks_pods_for_deletion_by_their_written_status(every_step: bool) -> None:
    """The ReplicaSet controller's deletion order reads the status the kubelet wrote: along RANKED, Z3's sync decides the spec's deletes in
    the spec's order (the not-ready pod first), and the two writes delete them."""
    state = _follow_steps("relist", RANKED, every_step)[-1]
    deleting = sorted(key for key, p in state.api.objects.pods.items() if p.meta.deletion_timestamp is not None)
    assert deleting == ["default/web-bbbbh", "default/web-bbbbl"] and state.api.objects.pods["default/web-bbbbl"].status.phase == "Pending"


TIMES = st.sampled_from([None, 0, 1, 2, 3, 5, 8])
"""a Ready transition: none, or a tick of outage's clock (to 8)"""


@functools.cache
def _deletion_order() -> tuple[Layout, str, str, dict[str, z3.ExprRef], z3.BoolRef]:
    """Decision._first for outage's two replacement pod slots, built once over variables for the clock, their creation times and statuses,
    whether each is bound and its rank: the term of the first sorting first."""
    inst = _instance("outage", "default", 8)
    layout: Layout = inst.data  # type: ignore[assignment]
    a, b = sorted(key for key in layout.status_slots if key in layout.generated)
    u = inst.unrolling()
    names = ["clock", *(f"pod/{key}/{field}" for key in (a, b) for field in ["created", *(name for name, _ in bmc_status.fields(layout, key))])]
    cells = {name: z3.Bool(name) if u.cells[name].boolean else z3.Int(name) for name in names}
    u.frames[0] = u.frames[0] | cells
    given = {name: z3.Bool(name) if name.startswith("bound") else z3.Int(name) for name in ("bound/a", "bound/b", "rank/a", "rank/b")}
    term = bmc_replicaset.Decision(u, 0, "default/web")._first(a, b, *given.values())
    return layout, a, b, cells | given, term


@settings(max_examples=400, deadline=None)
@given(
    statuses=st.tuples(*[st.tuples(st.sampled_from([0, 1, 1, 3, 4]), st.booleans(), TIMES, st.integers(0, 2)) for _ in range(2)]),
    bound=st.tuples(st.booleans(), st.booleans()),
    ranks=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    times=st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(0, 8)).map(sorted),
)
def test_the_deletion_order_over_written_statuses_is_the_specs(
    statuses: tuple[tuple[int, bool, int | None, int], ...], bound: tuple[bool, bool], ranks: tuple[int, int], times: list[int]
) -> None:
    """compare_for_deletion is written twice, in the spec and as terms over the cached statuses (Decision._first_varying): for drawn
    phases, readiness and its transitions, restarts, bindings, ranks, creation times and clock of outage's two replacement pod slots, the
    term puts the first slot first exactly when the spec's comparison does (or they tie and the listing order does)."""
    layout, a, b, variables, term = _deletion_order()
    created, now = {a: times[0], b: times[1]}, times[2]  # uids are handed out in creation order, and the clock never goes back
    rank = {key: r if on else 0 for key, r, on in zip((a, b), ranks, bound, strict=True)}
    values: dict[str, int | bool] = {"clock": now, "bound/a": bound[0], "bound/b": bound[1], "rank/a": rank[a], "rank/b": rank[b]}
    pods = {}
    for key, (phase, ready, transition, restarts), on in zip((a, b), statuses, bound, strict=True):
        obj = layout.pod_objects[key]
        containers = tuple(ContainerStatus(name=c.name, restart_count=restarts) for c in obj.spec.containers)
        at = None if transition is None else min(transition, now)
        given = PodStatus(phase=bmc_status.PHASES[phase], ready=ready, ready_transition=at, container_statuses=containers)
        values |= {f"pod/{key}/{name}": value for name, value in (bmc_status.values(layout, key, given) or {}).items()}
        values[f"pod/{key}/created"] = created[key]
        placed = replace(obj.spec, node_name="node-1" if on else "")
        pods[key] = replace(obj, meta=replace(obj.meta, creation_timestamp=created[key]), spec=placed, status=given)
    pairs = [(var, z3.BoolVal(values[name]) if z3.is_bool(var) else z3.IntVal(values[name])) for name, var in variables.items() if name in values]
    cmp = rc.compare_for_deletion(pods[a], pods[b], rank[a], rank[b], now, layout.ctx.timing.tick_seconds * 1_000_000_000)
    assert z3.is_true(z3.simplify(z3.substitute(term, *pairs))) == (cmp < 0 or (cmp == 0 and a < b))


def _follow_steps(scenario: str, steps: list[str], every_step: bool, variant: str = "default") -> list[State]:
    """Take ``steps`` in the spec and in Z3: each step's successor (with ``every_step``, every encoded action's) agrees at each state, and every
    encoded action at the last; the encoded invariants' verdicts agree on each step. Returns the states, the initial one first."""
    inst = _instance(scenario, variant, len(steps))
    monitor = Monitor(inst.model.ctx, inst.model.is_quiescent, [i.name for i in inst.invariants])
    names = [str(e.action) for e in inst.actions]
    u, state = inst.unrolling(), inst.initial
    states = [state]
    for t, step in enumerate(steps):
        base, _, arg = step.partition(" revision=") if step.startswith("fault WatchReset") else (step, "", "0")
        same = [i for i, name in enumerate(names) if name == base] or [names.index(base)]
        if len(same) > 1:  # the slots of a name's lives share labels: the one enabled
            same = [i for i in same if u.successor(i, int(arg)) is not None] or same
        i = same[0]
        if every_step:
            assert (i, int(arg)) in _compare_successors(inst, u, state, t), f"step {t + 1}: {step} is not enabled"
        else:
            after = inst.model.next_state(state, inst.actions[i].decoded(int(arg)))
            assert u.successor(i, int(arg)) == inst.abstract(after) | _wrote(inst, state, after), f"step {t + 1}: {step}"
        state = _take(inst, u, monitor, state, t, i, int(arg))
        states.append(state)
    _compare_successors(inst, u, state, len(steps))
    return states


RESTARTS = [
    "user UserScaleReplicaSet rs=default/web replicas=3",
    "replicaset-controller WatchDeliver kind=ReplicaSet",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "fault ComponentRestart component=replicaset-controller",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "scheduler WatchDeliver kind=Pod",
    "scheduler SchedulerSchedule pod=default/web-bbbbl node=node-1",
    "fault ComponentRestart component=scheduler",
    "scheduler SchedulerSchedule pod=default/web-bbbbl node=node-1",
    "scheduler SchedulerBind pod=default/web-bbbbl",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletAdmitPod pod=default/web-bbbbl",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbl",
    "fault ComponentRestart component=kubelet/node-1",
    "kubelet/node-1 KubeletAdmitPod pod=default/web-bbbbh",
    "fault ComponentRestart component=garbage-collector",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "fault ComponentRestart component=replicaset-controller",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "fault ComponentRestart component=endpoints-controller",
]
"""restarting: the ReplicaSet controller restarts mid-sync and again with a creation expected, the scheduler with a pod assumed, the
kubelet with a status written and unseen (it admits its running pods again), the collector and the endpoints controller"""


@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_encoding_follows_components_restarting(every_step: bool) -> None:
    """ComponentRestart: along RESTARTS, each process's memory is a fresh one's and its caches the store, in Z3 as in the spec. Before the
    controller's second restart it expects a creation its watch has not delivered; after it, the expectation is gone and its list holds
    the pod, with nothing pending."""
    states = _follow_steps(RESTARTING.name, RESTARTS, every_step)
    assert states[-1].used("component-restart") == 6
    before, after = states[-4], states[-3]
    assert before.views[rc.NAME].memory.expectations["default/web"].add == 1 and "default/web-bbbbl" not in before.views[rc.NAME].cache.pods
    assert not after.views[rc.NAME].memory.expectations and "default/web-bbbbl" in after.views[rc.NAME].cache.pods
    assert rc.NAME in before.channels.cursors and rc.NAME not in after.channels.cursors


RELISTED = [
    "user UserScaleReplicaSet rs=default/web replicas=1",
    "replicaset-controller WatchDeliver kind=ReplicaSet",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletKillPod pod=default/web-bbbbh",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbh",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletDeletePod pod=default/web-bbbbh",
    "fault WatchReset component=scheduler kind=Pod revision=18",
    "fault WatchReset component=kubelet/node-1 kind=Pod revision=19",
    "fault WatchReset component=replicaset-controller kind=Pod revision=19",
]
"""relist: scaled to 1, the controller deletes a pod, whose kubelet kills it and removes it; three watches break: the scheduler's relists
short of the removal, the kubelet's and the controller's at it (the controller never saw the pod marked: its relist infers the deletion)"""


@pytest.mark.parametrize("variant", ["default", "rs-ignore-tombstones"])
@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_encoding_follows_watches_relisting(variant: str, every_step: bool) -> None:
    """WatchReset, with the revision Z3 chooses: along RELISTED, Z3 leads to the spec's successor at each step (``-m slow``: every encoded
    action, each WatchReset at the revisions ``_args`` picks, agrees with the spec at every state); the controller's relist infers the deletion it
    expects (a tombstone), and rs-ignore-tombstones keeps expecting it."""
    states = _follow_steps("relist", RELISTED, every_step, variant)
    before, after = (s.views[rc.NAME].memory.expectations["default/web"].dels for s in states[-2:])
    assert before == ("default/web-bbbbh",) and after == (before if variant == "rs-ignore-tombstones" else ())
    assert rc.NAME not in states[-1].channels.cursors and states[-1].used("watch-reset") == 3


TOMBSTONED = [
    "user UserScaleReplicaSet rs=default/web replicas=0",
    "replicaset-controller WatchDeliver kind=ReplicaSet",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "fault WatchReset component=replicaset-controller kind=Pod revision=9",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "user UserScaleReplicaSet rs=default/web replicas=1",
    "replicaset-controller WatchDeliver kind=ReplicaSet",
    "replicaset-controller WatchDeliver kind=ReplicaSet",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "replicaset-controller WatchDeliver kind=ReplicaSet",
    "scheduler WatchDeliver kind=Pod",
    "endpoints-controller WatchDeliver kind=Pod",
    "node-lifecycle-controller WatchDeliver kind=Pod",
    "taint-eviction-controller WatchDeliver kind=Pod",
    "garbage-collector WatchDeliver kind=Pod",
    *(["garbage-collector WatchDeliver kind=ReplicaSet"] * 4),
]
"""stranded: scaled to 0, the controller deletes its unbound pod, which the API server removes at once; its pod watch breaks before
delivering that and relists at the removal (a tombstone); scaled back to 1, it syncs, and every watch delivers what is pending"""


@pytest.mark.parametrize("variant", ["default", "rs-ignore-tombstones"])
@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_encoding_follows_a_deletion_only_a_relist_sees(variant: str, every_step: bool) -> None:
    """On a cluster without nodes (the scheduler's cycle records "no nodes available"), Z3 leads to the spec's successor at each step of
    TOMBSTONED. The controller's relist infers the deletion it expects; rs-ignore-tombstones keeps expecting it, so scaled back to 1 it
    creates nothing, and rs-converges breaks in the quiescent last state, in Z3 as in the spec; the default creates the pod instead."""
    steps = TOMBSTONED if variant == "rs-ignore-tombstones" else TOMBSTONED[:10]
    inst = _instance(STRANDED.name, variant, len(steps))
    _compare_successors(inst, inst.unrolling(), inst.initial, 0)  # the FitError recorded at the start is news to no cycle, in Z3 too
    states = _follow_steps(STRANDED.name, steps, every_step, variant)
    assert states[0].api.objects.pods["default/web-bbbbg"].status.unschedulable == sch.NO_NODES
    assert "default/web-bbbbg" not in states[4].api.objects.pods
    before, after = (s.views[rc.NAME].memory.expectations["default/web"].dels for s in states[4:6])
    assert before == ("default/web-bbbbg",) and after == (before if variant == "rs-ignore-tombstones" else ())
    writes = [w.verb for w in states[10].views[rc.NAME].memory.syncs["default/web"].writes]
    if variant == "default":
        assert writes[0] == "create"
        return
    model = _model(STRANDED.name, variant)
    assert "create" not in writes and model.is_quiescent(states[-1]) and not states[-1].api.objects.pods
    broken = Monitor(model.ctx, model.is_quiescent, ["rs-converges"]).check_state(states[-1], True)
    assert [v.invariant for v in broken] == ["rs-converges"]  # and Z3's verdict agreed at that step (_take)


GHOSTED = [
    *RELISTED[:9],
    "scheduler WatchDeliver kind=Pod",
    "scheduler WatchDeliver kind=Pod",
    *(["replicaset-controller WatchDeliver kind=Pod"] * 3),
    "user UserScaleReplicaSet rs=default/web replicas=3",
    "replicaset-controller WatchDeliver kind=ReplicaSet",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "fault WatchReset component=scheduler kind=Pod revision=22",
]
"""relist under scheduler-missed-delete: the deleted pod's end reaches the scheduler (the deletion mark, then its terminal status, which
the cache loses, so it keeps the pod as a ghost); scaled up again once the controller has seen the deletion, it creates a pod, and
before the scheduler sees it its watch breaks and relists at the store's revision, which drops the ghost"""


@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_encoding_follows_a_lost_deletion_and_the_relist_that_ends_it(every_step: bool) -> None:
    """scheduler-missed-delete: along GHOSTED, Z3 leads to the spec's successor at each step, the scheduler's cache keeping the removed pod
    until its relist, which drops it."""
    states = _follow_steps("relist", GHOSTED, every_step, "scheduler-missed-delete")
    ghost, relisted = states[-10], states[-1]
    assert "default/web-bbbbh" not in ghost.api.objects.pods and "default/web-bbbbh" in ghost.views["scheduler"].cache.pods
    assert "scheduler" not in ghost.channels.cursors and "default/web-bbbbh" not in relisted.views["scheduler"].cache.pods


SERVED = [
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
    "scheduler WatchDeliver kind=Pod",
    "scheduler SchedulerSchedule pod=default/web-bbbbk node=node-1",
    "scheduler SchedulerBind pod=default/web-bbbbk",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletAdmitPod pod=default/web-bbbbk",
    "kubelet/node-1 KubeletStartContainer pod=default/web-bbbbk container=app",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbk",
    "kubelet/node-1 KubeletProbeReadiness pod=default/web-bbbbk container=app",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbk",
    "endpoints-controller WatchDeliver kind=Pod",
    "endpoints-controller WatchDeliver kind=Pod",
    "endpoints-controller WatchDeliver kind=Pod",
    "endpoints-controller WatchDeliver kind=Pod",
    "endpoints-controller EndpointsSync service=default/web",
    "kube-proxy/node-1 WatchDeliver kind=Endpoints",
    "kube-proxy/node-1 KubeProxySyncRules",
    "fault ContainerUnhealthy pod=default/web-bbbbk container=app",
    "kubelet/node-1 KubeletProbeReadiness pod=default/web-bbbbk container=app",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbk",
    "endpoints-controller WatchDeliver kind=Pod",
    "endpoints-controller WatchDeliver kind=Endpoints",
    "endpoints-controller EndpointsSync service=default/web",
    "kube-proxy/node-1 WatchDeliver kind=Endpoints",
    "kube-proxy/node-1 KubeProxySyncRules",
    "user UserDeletePod pod=default/web-bbbbk",
    "endpoints-controller WatchDeliver kind=Pod",
    "endpoints-controller WatchDeliver kind=Endpoints",
    "endpoints-controller EndpointsSync service=default/web",
]
"""basic: a pod created, bound, started and probed ready; its status written, the Endpoints list it as ready and node-1's kube-proxy
routes to it; it stops answering its probe, is reported not ready and moved to notReadyAddresses, its backend withdrawn; deleted, it leaves
the Endpoints"""


@pytest.mark.slow  # about 20 s even without every step; the default run keeps the shorter walks
@pytest.mark.parametrize("every_step", [False, True])
def test_the_encoding_follows_a_pod_served_probed_and_withdrawn(every_step: bool) -> None:
    """The Endpoints read a selected pod's IP and readiness from the status its kubelet writes: along SERVED (30 steps), Z3 leads to the
    spec's successor at each step, and the states on the way list the pod as ready, then not ready, then not at all."""
    followed = _follow_steps("basic", SERVED, every_step)
    states = [followed[n] for n in (16, 18, 25, 27, len(SERVED))]
    listed = [(eps.addresses, eps.not_ready_addresses) if (eps := s.api.objects.endpoints.get("default/web")) else None for s in states]
    address = (EndpointAddress(ip="10.244.1.2", node_name="node-1", pod="default/web-bbbbk", uid=7),)
    assert listed == [(address, ()), (address, ()), ((), address), ((), address), ((), ())]
    assert [s.machines["node-1"].proxy_rules["default/web:80"].backends for s in states[1:4:2]] == [("10.244.1.2:8080",), ()]


def _replayed(inst: Instance, steps: list[tuple[int, dict[str, int | bool]]]) -> Unrolling:
    """An unrolling whose steps are the known ones: each an action's index and the frame it leads to."""
    u = inst.unrolling()
    for i, values in steps:
        u.known(i, values)
    return u


def _check_local_pairs(inst: Instance, steps: list[tuple[int, dict[str, int | bool]]]) -> int:
    """After ``steps``: for each local action a (``Instance.reduced``) enabled, and each local action b of another component enabled after
    a, b is enabled first, a after it, the two orders end in the same frame, and every transition invariant judges the last step of both
    alike (the swap that sorts a run into the reduced unrolling's order). Returns the pairs checked."""
    t, pairs = len(steps), 0
    base = _replayed(inst, steps)
    first = {a: after for a in sorted(inst.order) if (after := base.successor(a)) is not None}
    transitions = [i for i in inst.invariants if spec_invariants.INVARIANTS[i.name].kind == spec_invariants.TRANSITION]
    for a, after_a in first.items():
        u = _replayed(inst, [*steps, (a, after_a)])
        for b in sorted(inst.order):
            if inst.order[b] == inst.order[a] or (ab := u.successor(b)) is None:
                continue
            label = f"{inst.actions[a].action}, then {inst.actions[b].action}, at step {t}"
            assert b in first, f"{label}: the second is not enabled first"
            ba = _replayed(inst, [*steps, (b, first[b])]).successor(a)
            assert ba == ab, f"{label}: the other order is not enabled or ends elsewhere"
            one, other = _replayed(inst, [*steps, (a, after_a), (b, ab)]), _replayed(inst, [*steps, (b, first[b]), (a, ba)])
            verdicts = [[z3.is_true(z3.simplify(i.bad(w, t + 2))) for i in transitions] for w in (one, other)]
            assert verdicts[0] == verdicts[1], f"{label}: a transition invariant judges the two orders' last steps apart"
            pairs += 1
    return pairs


@pytest.mark.parametrize(
    ("scenario", "variant"),
    [
        ("batch", "scheduler-missed-delete"),
        pytest.param("basic", "default", marks=pytest.mark.slow),
        pytest.param("relist", "default", marks=pytest.mark.slow),
    ],
)
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_local_actions_of_different_components_commute(scenario: str, variant: str, data: st.DataObject) -> None:
    """The search's reduction rests on it (``Instance.reduced``): along drawn runs, every pair of adjacent local actions of different
    components can be swapped, to the same frame and the same transition verdicts, in the encoding itself."""
    inst = _instance(scenario, variant, STEPS).reduced(STEPS)
    assert any(e.action.name == "WatchDeliver" for i, e in enumerate(inst.actions) if i in inst.order)
    steps: list[tuple[int, dict[str, int | bool]]] = []
    for _ in range(data.draw(st.integers(0, STEPS), label="steps")):
        _check_local_pairs(inst, steps)
        u = _replayed(inst, steps)
        enabled = [(i, after) for i in range(len(inst.actions)) if not inst.actions[i].free and (after := u.successor(i)) is not None]
        if not enabled:
            break
        steps.append(data.draw(st.sampled_from(enabled), label="action"))
    _check_local_pairs(inst, steps)


STARTED = [
    "user UserCreate kind=Pod name=default/extra",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletAdmitPod pod=default/extra",
    "kubelet/node-1 KubeletStartContainer pod=default/extra container=app",
]
"""batch: the user's pod is created, and node-1's kubelet admits and starts it while the other components' watches have its creation to
deliver"""


@pytest.mark.parametrize(
    ("scenario", "variant", "steps", "least"),
    [("batch", "scheduler-missed-delete", STARTED, 150), pytest.param("basic", "default", SERVED[:7], 350, marks=pytest.mark.slow)],
)
def test_local_actions_commute_along_a_walk(scenario: str, variant: str, steps: list[str], least: int) -> None:
    """The same at each state of a walk where several components' local steps are enabled (on basic, SERVED's first 7 steps: about a minute)."""
    inst = _instance(scenario, variant, len(steps) + 2).reduced(len(steps) + 2)
    names = [str(e.action) for e in inst.actions]
    known, pairs = list[tuple[int, dict[str, int | bool]]](), 0
    for step in steps:
        pairs += _check_local_pairs(inst, known)
        i = names.index(step)
        after = _replayed(inst, known).successor(i)
        assert after is not None, step
        known.append((i, after))
    assert pairs + _check_local_pairs(inst, known) >= least


def test_a_footprint_is_every_cell_the_terms_read_in_any_frame_and_every_cell_written() -> None:
    """An action that reads cell a two frames back and cell c now, and writes b (and writes a as it was: no write) has the footprint
    reads {a, c}, writes {b}; one not yet built at the step has none."""
    cells = [Cell("a"), Cell("b"), Cell("c", boolean=True)]
    action = Action("test", "Act")
    enc = Encoded(
        action,
        guard=lambda u, t: u[t - 2]["a"] > 0,
        effect=lambda u, t: {"b": z3.If(u[t]["c"], 1, 2), "a": u[t]["a"]},
    )
    late = attrs.evolve(enc, born=5)
    u = symbolic(cells, [enc, late], None, 3)
    assert footprints(u, 3) == (Footprint(frozenset({"a", "c"}), frozenset({"b"})), Footprint(frozenset(), frozenset()))


@pytest.mark.parametrize(
    "scenario", ["batch", "basic", pytest.param("outage", marks=pytest.mark.slow), pytest.param("relist", marks=pytest.mark.slow)]
)
def test_an_action_reads_at_any_step_no_cell_it_does_not_read_where_its_footprint_is_read(scenario: str) -> None:
    """``Instance.local_ranks`` reads each footprint at one step, the run's last or, if sooner, the first at which every action is built: at
    every other step of a run of 10, each action reads and writes no cell it does not there (about 5 s on basic)."""
    inst = _instance(scenario, "default", 10)
    read_at = inst.footprint_step(10)
    there = footprints(symbolic(inst.cells, inst.actions, inst.data, read_at), read_at)
    for t in range(1, 10):
        for enc, then, used in zip(inst.actions, footprints(symbolic(inst.cells, inst.actions, inst.data, t), t), there, strict=True):
            assert then.reads <= used.reads and then.writes <= used.writes, f"{enc.action} at step {t}, read at step {read_at}"


@pytest.mark.parametrize("scenario", ["batch", "unready", "relist", pytest.param("services", marks=pytest.mark.slow)])
def test_what_an_unread_delivery_writes_only_the_drain_reads(scenario: str) -> None:
    """The premise of the drain (``Instance.without_unread``): what an unread delivery writes, no judged invariant reads (a quiescent one
    in a frame whose drained watches may still have events pending), and no other encoded action but an API write (which sets a cursor
    with nothing pending), a WatchReset (whose revisions the history's undelivered events widen), and its own watch's WatchReset and its
    component's restart, which set its cursor afresh; read off the footprints, so a change to an encoding that breaks it fails here."""
    inst = _instance(scenario, "default", 8)
    unread = {i for i, e in enumerate(inst.actions) if e.unread}
    assert unread, "the scenario has unread deliveries"
    t = inst.footprint_step(8)
    prints = footprints(symbolic(inst.cells, inst.actions, inst.data, t), t)
    drained = inst.without_unread(bmc._cursor)
    searched = symbolic(drained.cells, drained.actions, drained.data, t)  # the unrolling a search judges the invariants on
    searched.drained = drained.drained
    names = core._Names()
    judged = {i.name: names.of([i.bad(searched, t)]) for i in inst.invariants}
    for i in sorted(unread):
        written = prints[i].writes
        component, kind = inst.actions[i].action.component, dict(inst.actions[i].action.params)["kind"]
        assert written and {w for w in written if apiserver.is_cursor(w)} == {bmc._cursor(inst.actions[i])}
        assert not any(written & read for read in judged.values()), [(n, sorted(written & r)) for n, r in judged.items() if written & r]
        for j, (enc, fp) in enumerate(zip(inst.actions, prints, strict=True)):
            read = fp.reads & written
            params = dict(enc.action.params)
            own = params.get("component") == component and params.get("kind", kind) == kind  # its restart, or its own watch's relist
            if not read or j in unread or (own and enc.action.name in ("ComponentRestart", "WatchReset")):
                continue
            api_write = "rev" in fp.writes or enc.action.name == "WatchReset"
            assert api_write and all(map(apiserver.is_cursor, read)), f"{enc.action} reads {sorted(read)}, which {inst.actions[i].action} writes"


def test_the_reduction_orders_local_steps_of_every_component() -> None:
    """On basic, where nothing is left out, the local actions the reduction orders are every watch delivery and the components' steps that
    touch only their own memory and their machine: the scheduler's cycle, the ReplicaSet controller's sync, the kubelet's admission,
    container starts, probes, kills and clean-ups, and kube-proxy's sync; never an API write or a fault."""
    inst = _instance("basic", "default", 10).reduced(10)
    local = {inst.actions[i].action.name for i in inst.order}
    deliveries = {str(e.action) for e in inst.actions if e.action.name == "WatchDeliver"}
    assert deliveries <= {str(inst.actions[i].action) for i in inst.order}
    assert local == {
        "WatchDeliver",
        "SchedulerSchedule",
        "ReplicaSetSync",
        "KubeletAdmitPod",
        "KubeletStartContainer",
        "KubeletProbeReadiness",
        "KubeletKillPod",
        "KubeletCleanupPod",
        "KubeProxySyncRules",
    }
    ranked = sorted(inst.order)
    assert ranked == list(range(ranked[0], len(inst.actions))) and [inst.order[i] for i in ranked] == sorted(inst.order.values())


def _first_steps_spec(inst: Instance, depth: int) -> dict[str, int]:
    """Breadth-first over the encoded actions: each action's first step (0-based) in the runs of up to ``depth`` steps."""
    encoded = {str(e.action) for e in inst.actions}
    seen, frontier, first = {fingerprint(inst.initial)}, [inst.initial], dict[str, int]()
    for step in range(depth):
        following = []
        for state in frontier:
            for action, after in inst.model.successors(state):
                if str(action) not in encoded:
                    continue
                first.setdefault(str(action), step)
                if (key := fingerprint(after)) not in seen:
                    seen.add(key)
                    following.append(after)
        frontier = following
    return first


def _first_steps_z3(inst: Instance, depth: int, reduced: bool) -> dict[str, int]:
    """The same from Z3: the first step at which each encoded action can be chosen, asked of the unrolling a step at a time."""
    inst = inst.reduced(depth) if reduced else inst
    u, solver, first = inst.unrolling(), z3.Solver(), dict[str, int]()
    for step in range(depth):
        solver.add(*u.step())
        for i, enc in enumerate(inst.actions):
            if str(enc.action) not in first and enc.born <= step and solver.check(u.choices[step] == i) == z3.sat:
                first[str(enc.action)] = step
    return first


@pytest.mark.parametrize(
    ("scenario", "reduced"),
    [("basic", True), pytest.param("basic", False, marks=pytest.mark.slow), pytest.param("capacity", True, marks=pytest.mark.slow)],
)
def test_z3_and_the_explorer_take_the_same_actions_as_early(scenario: str, reduced: bool) -> None:
    """Exhaustively, where the random runs only sample: every encoded action the executable spec can take within 6 steps Z3 can take at
    the same step, and no other (on basic, where nothing is left out, that is every action of the model; about 10 s a scenario). The
    search's unrolling, whose adjacent local steps come in one order (``Instance.reduced``), and with ``-m slow`` the unreduced one."""
    inst = _instance(scenario, "default", 6)
    spec_first = _first_steps_spec(inst, 6)
    assert _first_steps_z3(inst, 6, reduced) == spec_first
    assert len(spec_first) >= 27 and max(spec_first.values()) == 5


def test_a_pod_running_twice_or_off_its_node_is_judged_as_the_spec_judges_it() -> None:
    """pod-runs-once and identity-runs-once read the machines' sandboxes: with web-bbbbk started on node-1 (SERVED's first 8 steps), a copy
    of its sandbox on node-2 breaks both, and the sandbox moved to node-2 alone breaks pod-runs-once (it runs off its nodeName), in Z3 as in
    the spec; the real state breaks neither."""
    inst = _instance("basic", "default", 1)
    model = inst.model
    state = inst.initial
    for label in SERVED[:8]:
        state = model.next_state(state, next(a for a in model.actions(state) if str(a) == label))
    one, two = state.machines["node-1"], state.machines["node-2"]
    uid, sandbox = next(iter(one.sandboxes.items()))
    moved = replace(sandbox, ip=f"{two.pod_cidr_prefix}.{sandbox.ip.rsplit('.', 1)[1]}")
    copied = replace(state, machines=state.machines.set("node-2", replace(two, sandboxes=two.sandboxes.set(uid, moved))))
    away = replace(copied, machines=copied.machines.set("node-1", replace(one, sandboxes=one.sandboxes.remove(uid))))
    checks = {"pod-runs-once": spec_invariants.pod_runs_once, "identity-runs-once": spec_invariants.identity_runs_once}
    verdicts = []
    for s in (state, copied, away):
        u = inst.unrolling()
        u.known(0, inst.abstract(s))
        z3_says = {inv.name for inv in inst.invariants if inv.name in checks and z3.is_true(z3.simplify(inv.bad(u, 1)))}
        assert z3_says == {name for name, check in checks.items() if check(model.ctx, s) is not None}
        verdicts.append(sorted(z3_says))
    assert verdicts == [[], ["identity-runs-once", "pod-runs-once"], ["pod-runs-once"]]


TERMINATED = [
    "user UserDeletePod pod=default/web-bbbbh",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletKillPod pod=default/web-bbbbh",
    "kubelet/node-1 KubeletSyncStatus pod=default/web-bbbbh",
    "kubelet/node-1 KubeletDeletePod pod=default/web-bbbbh",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 WatchDeliver kind=Pod",
    "kubelet/node-1 KubeletCleanupPod uid=5",
    "replicaset-controller WatchDeliver kind=Pod",
    "replicaset-controller WatchDeliver kind=Pod",
    "replicaset-controller WatchDeliver kind=Pod",
    "replicaset-controller ReplicaSetSync rs=default/web",
    "replicaset-controller ReplicaSetWrite rs=default/web",
]
"""draining: the running pod deleted; its kubelet kills it, reports it Succeeded, deletes it with grace 0, forgets it on the DELETED event
and removes its sandbox; the ReplicaSet controller sees the three events and creates a replacement"""


@pytest.mark.parametrize("every_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_encoding_follows_a_pod_terminated_and_replaced(every_step: bool) -> None:
    """The kubelet's termination: along TERMINATED, Z3 leads to the spec's successor at each step, and the states on the way show the
    containers stopped with exit 0 within the grace period, the terminal status reported, the pod gone, forgotten and its sandbox removed."""
    states = _follow_steps(DRAINING.name, TERMINATED, every_step)
    killed, reported, removed, forgotten, cleaned, last = (states[n] for n in (3, 4, 5, 7, 8, len(TERMINATED)))
    assert killed.machines["node-1"].sandboxes[5].containers["app"].exit_code == 0 and not killed.machines["node-1"].sandboxes[5].ip
    assert reported.api.objects.pods["default/web-bbbbh"].status.phase == "Succeeded"
    assert "default/web-bbbbh" not in removed.api.objects.pods and 5 in removed.machines["node-1"].sandboxes
    memory = forgotten.views["kubelet/node-1"].memory
    assert isinstance(memory, KubeletMemory) and 5 not in memory.admitted and not memory.written
    assert not cleaned.machines["node-1"].sandboxes and list(last.api.objects.pods) == ["default/web-bbbbk"]


PUBLISH = [
    "user UserCreate kind=Service name=default/web",
    "endpoints-controller WatchDeliver kind=Service",
    "endpoints-controller EndpointsSync service=default/web",
    "endpoints-controller WatchDeliver kind=Endpoints",
    "kube-proxy/node-1 WatchDeliver kind=Service",
    "kube-proxy/node-1 WatchDeliver kind=Endpoints",
    "kube-proxy/node-1 KubeProxySyncRules",
    "user UserDeleteService service=default/web",
    "endpoints-controller WatchDeliver kind=Service",
    "endpoints-controller EndpointsSync service=default/web",
    "kube-proxy/node-1 WatchDeliver kind=Service",
    "kube-proxy/node-1 KubeProxySyncRules",
    "endpoints-controller WatchDeliver kind=Endpoints",
    "kube-proxy/node-1 WatchDeliver kind=Endpoints",
]
"""services: a Service published (its Endpoints created, kube-proxy's rule with the pod as backend) and withdrawn (Endpoints deleted, rule gone)"""


@pytest.mark.parametrize("variant", ["default", pytest.param("kube-proxy-keep-stale", marks=pytest.mark.slow)])
def test_the_encoding_follows_a_service_published_and_withdrawn(variant: str) -> None:
    """Every encoded action agrees with the spec at every state along PUBLISH, and Z3's verdicts on the two quiescent invariants do too
    (quiescent after the 7th step and the last: the rules converge, except that kube-proxy-keep-stale keeps the withdrawn rule)."""
    steps = PUBLISH if variant == "default" else PUBLISH[:11] + PUBLISH[12:]  # the withdrawn rule stays: nothing to sync
    inst = _instance("services", variant, len(steps))
    monitor = Monitor(inst.model.ctx, inst.model.is_quiescent, [i.name for i in inst.invariants])
    names = [str(e.action) for e in inst.actions]
    u, state = inst.unrolling(), inst.initial
    quiet: list[int] = []
    for t, step in enumerate(steps):
        i = names.index(step)
        assert (i, 0) in _compare_successors(inst, u, state, t), f"step {t + 1}: {step} is not enabled"
        state = _take(inst, u, monitor, state, t, i)
        quiet += [t + 1] if inst.model.is_quiescent(state) else []
        if t + 1 == 7:
            assert state.machines["node-1"].proxy_rules["default/web:80"].backends == ("10.244.1.2:8080",)
    assert _compare_successors(inst, u, state, len(steps)) == [(i, 0) for i, name in enumerate(names) if name.startswith("user UserCreate")]
    assert quiet == [7, len(steps)]
    stale = z3.is_true(z3.simplify(next(i for i in inst.invariants if i.name == "proxy-converges").bad(u, len(steps))))
    assert stale == (variant == "kube-proxy-keep-stale") and "default/web" not in state.api.objects.endpoints


@pytest.mark.parametrize("variant", ["default", "endpoints-keep-terminating"])
def test_a_terminating_pod_listed_as_ready_is_found_at_the_explorers_depth(variant: str) -> None:
    """endpoints-never-terminating: a pod deleted, then a Service created that selects it; the endpoints controller lists the terminating
    pod as ready only in endpoints-keep-terminating, at the depth the explorer finds (5), and the run re-executes in the spec."""
    found, _ = _at_the_explorers_depth(DRAINING.name, variant, "endpoints-never-terminating", 5)
    if found is None:
        return
    names = [a.name for a in found[0]]
    assert "UserDeletePod" in names and names[-1] == "EndpointsSync"


@pytest.mark.parametrize("variant", ["default", "endpoints-ignore-readiness"])
def test_a_pod_published_ready_after_its_readiness_is_lost_is_found_at_the_explorers_depth(variant: str) -> None:
    """endpoints-converge at quiescence: the settled pod's container stops answering, the kubelet probes and reports it not ready, and every
    pod watch delivers that; the endpoints controller keeps the pod among the ready addresses only in endpoints-ignore-readiness, found by
    Z3 at the depth the explorer finds (10), every shorter run refuted, and the run re-executes in the spec."""
    found, coverage = _at_the_explorers_depth(UNREADY.name, variant, "endpoints-converge", 10)
    if found is None:
        return
    names = [a.name for a in found[0]]
    assert names[:3] == ["ContainerUnhealthy", "KubeletProbeReadiness", "KubeletSyncStatus"] and names.count("WatchDeliver") == 7
    assert "10.244.1.2" in found[1].message and not coverage.not_encoded
    # the deliveries nothing but quiescence reads are left out of the runs and taken at the end: they count towards the depth
    drained = [str(a) for a in found[0][-4:]]
    assert set(drained) <= set(coverage.unread) and not set(map(str, found[0][:-4])) & set(coverage.unread)
    model = _model(UNREADY.name, variant)
    shorter, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, ["endpoints-converge"]), 9)
    assert shorter is None and coverage.depth == 9 and coverage.stopped == "depth"


def _at_the_explorers_depth(scenario: str, variant: str, invariant: str, depth: int) -> tuple[bmc.Shortest | None, bmc.BmcCoverage]:
    """Z3's and the explorer's searches to ``depth``: in the default variant neither finds a violation; in a bug variant both find one of
    exactly ``depth`` steps (Z3's re-executed in the spec, every shorter run refuted)."""
    model = _model(scenario, variant)
    monitor = Monitor(model.ctx, model.is_quiescent, [invariant])
    found, coverage = bmc.search(model, monitor, depth)
    explored = explore(model, KubeProperties(model, monitor), limits=Limits(depth=depth))
    if variant == "default":
        assert found is None and explored.found is None and coverage.depth == depth and coverage.stopped == "depth"
        return None, coverage
    assert found is not None and len(found[0]) == coverage.depth == depth and found[1].invariant == invariant
    assert explored.found is not None and len(explored.found.actions) == depth
    return found, coverage


@pytest.mark.slow
def test_runs_that_only_z3_takes_for_quiescent_are_ruled_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a weaker quiescence condition (every watch delivered, whatever the components would do), Z3 offers shorter runs whose last
    state the spec finds busy: the engine rules them out on the spec's word, learning why (engine._lessons), and still finds the shortest
    real violation."""
    full = bmc_invariants.quiescent
    monkeypatch.setattr(bmc_invariants, "quiescent", lambda u, t, _=None: full(u, t, frozenset()))
    monkeypatch.setattr(bmc, "_busy_in_encoding", lambda *_: None)
    model = _model("services", "kube-proxy-keep-stale")
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, ["proxy-converges"]), 7)
    assert found is not None and len(found[0]) == coverage.depth == 7 and found[1].invariant == "proxy-converges"
    # the first run ruled out teaches the search what keeps it busy (kube-proxy's rules to sync), which rules out the rest of its kind
    # (without the lessons, 16 runs are ruled out one by one)
    assert 0 < coverage.ruled_out <= 2 and f"{coverage.ruled_out} runs ruled out" in coverage.describe()
    assert [a.name for a in found[0]].count("UserDeleteService") == 1


@pytest.mark.parametrize(("scenario", "variant"), [("scale", "rs-no-expectations")])
def test_the_unrolled_relation_follows_the_spec(scenario: str, variant: str) -> None:
    """The solver's own transition relation (Unrolling.step) admits the variant's committed counterexample frame by frame, and nothing else."""
    model = _model(scenario, variant)
    trace = [step.action for step in tracefmt.load(CORPUS / f"{variant}.json").steps]
    inst = build(model, len(trace))
    u = inst.unrolling()
    solver = z3.Solver()
    state = inst.initial
    for t, action in enumerate(trace):
        after = model.next_state(state, action)
        solver.add(*u.step())
        index = [str(e.action) for e in inst.actions].index(str(action))
        solver.add(*(u[t + 1][name] == u.cells[name].literal(value) for name, value in (inst.abstract(after) | _wrote(inst, state, after)).items()))
        assert solver.check() == z3.sat, f"step {t + 1} ({action}) is not admitted"
        solver.push()
        solver.add(u.choices[t] != index)
        others = solver.check()
        solver.pop()
        assert others == z3.unsat or _same_successor(model, state, after, inst, solver.model(), u, t), f"another action also reaches step {t + 1}"
        state = after


def _same_successor(model: KubeModel, state: State, after: State, inst: Instance, m: z3.ModelRef, u: Unrolling, t: int) -> bool:
    """Another action Z3 chose leads to the same abstract state: true in the spec too."""
    other = inst.actions[m.eval(u.choices[t], model_completion=True).as_long()].action
    return inst.abstract(model.next_state(state, other)) == inst.abstract(after)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_every_bug_variant_names_a_cluster_where_its_shortest_run_is_within_reach() -> None:
    """spec.variants.SHORTEST covers every bug variant (a new one must say where both exhaustive engines reach it), with an invariant the
    variant breaks and a scenario --scenario takes."""
    assert sorted(SHORTEST) == sorted(n for n in VARIANTS if n != DEFAULT.name)
    for name, row in SHORTEST.items():
        assert row.invariant in VARIANTS[name].breaks and get_scenario(row.scenario).name == row.scenario and row.steps > 0


Z3_SLOW = {"apiserver-rebind", "two-schedulers", "nodelifecycle-no-disruption-mode", "scheduler-missed-delete"}
"""the rows Z3 takes more than a few seconds on (benchmarks/shortest.py); rs-ignore-tombstones has a test of its own"""
EXPLORER_MEASURED = {"scheduler-missed-delete", "rs-ignore-tombstones"}
"""the rows breadth-first search takes 21 and 48 minutes on, measured (README), not tested"""
EXPLORER_QUICK = {"apiserver-clusterip-lag", "kubelet-no-admission", "endpoints-keep-terminating", "kube-proxy-keep-stale"}
"""the rows breadth-first search takes under a second on: in the default run (the others, up to a minute each, with -m slow)"""


def _shortest(names: Iterable[str], slow: set[str]) -> list[Any]:
    return [pytest.param(n, marks=[pytest.mark.slow, pytest.mark.timeout(1800)]) if n in slow else n for n in sorted(names)]


@pytest.mark.parametrize("variant", _shortest(set(SHORTEST) - {"rs-ignore-tombstones"}, Z3_SLOW))
def test_z3_finds_each_variant_at_the_explorers_depth(variant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """kspec check --engine z3 on the variant's cluster, bounded at the explorer's shortest: a run of that length, every shorter one
    refuted, saved, and kspec replay reproduces it."""
    row = SHORTEST[variant]
    args = ["check", "--engine", "z3", "--scenario", row.scenario, "--variant", variant, "--invariant", row.invariant]
    code, out, _ = _run([*args, "--depth", str(row.steps), "--out", str(tmp_path)], capsys)
    assert code == 1, out
    assert f"violation at depth {row.steps} (every shorter run refuted)" in out
    saved = tmp_path / f"{row.scenario}--{variant}--{row.invariant}.json"
    assert json.loads(saved.read_text())["engine"] == "z3"
    code, out, _ = _run(["replay", str(saved), "--no-tables"], capsys)
    assert code == 1 and f"violation reproduces at step {row.steps}" in out


@pytest.mark.parametrize("variant", _shortest(set(SHORTEST) - EXPLORER_MEASURED, set(SHORTEST) - EXPLORER_QUICK))
def test_the_explorers_shortest_run_has_the_listed_length(variant: str) -> None:
    """Breadth-first search's shortest counterexample on the variant's cluster is as long as spec.variants.SHORTEST says (and Z3 finds)."""
    row = SHORTEST[variant]
    model = _model(row.scenario, variant)
    explored = explore(model, KubeProperties(model, Monitor(model.ctx, model.is_quiescent, [row.invariant])), limits=Limits(depth=row.steps))
    assert explored.found is not None and len(explored.found.actions) == row.steps


JUDGED = ["pod-bound-once", "pod-runs-once", "identity-runs-once", "rs-no-overshoot", "rs-converges", "scheduler-fit", "node-capacity"]
JUDGED += ["scheduler-cache-accurate"]
JUDGED += ["endpoints-converge", "endpoints-never-terminating", "proxy-converges"]
JUDGED += ["phase-monotone", "unique-pod-ip", "unique-cluster-ip", "no-eviction-storm"]
"""the invariants with an encoding on services (every one), in catalogue order"""


@pytest.mark.parametrize("fresh_after", [None, 0, bmc.FRESH_AFTER])
def test_every_way_of_asking_finds_the_same_shortest_run(fresh_after: int | None) -> None:
    """One incremental solver, a fresh solver per depth, or the default switch between them: the same depth, and a run that breaks it."""
    model = _model("batch", "kubelet-ip-by-running")
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, ["unique-pod-ip"]), 7, fresh_after=fresh_after)
    assert found is not None and len(found[0]) == coverage.depth == 5
    assert found[1].invariant == "unique-pod-ip"


def test_deliveries_that_only_move_an_unread_cursor_are_left_out_only_where_nothing_reads_it() -> None:
    """Where no Service exists, the endpoints controller's pod deliveries move only its cursor (and the garbage collector's, where it can
    collect nothing, its cursors and notes; the ReplicaSet controller's where no ReplicaSet exists; the scheduler's Node deliveries where
    no pod is ever queued): a search leaves them out of the runs (and says so), and still finds the shortest run; one for a quiescent
    invariant takes them at the end of a run (tested on unready)."""
    model = _model("batch", "kubelet-ip-by-running")
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, ["unique-pod-ip"]), 5)
    controller = ["replicaset-controller WatchDeliver kind=ReplicaSet", "replicaset-controller WatchDeliver kind=Pod"]
    collector = ["garbage-collector WatchDeliver kind=Pod", "garbage-collector WatchDeliver kind=ReplicaSet"]
    others = ["scheduler WatchDeliver kind=Node", "endpoints-controller WatchDeliver kind=Pod"]
    assert found is not None and coverage.depth == 5 and coverage.unread == (*controller, *collector, *others)
    assert "endpoints-controller WatchDeliver kind=Pod" in coverage.encoded and "only a cursor that no judged invariant reads" in coverage.describe()
    relist = _model("relist", "default")  # no Service either
    _, coverage = bmc.search(relist, Monitor(relist.ctx, relist.is_quiescent, ["rs-converges", "unique-pod-ip"]), 1)
    assert coverage.judged == ("rs-converges", "unique-pod-ip") and set(coverage.unread) >= {*collector, "endpoints-controller WatchDeliver kind=Pod"}
    assert "no judged invariant reads (a run judged at quiescence takes them at its end)" in coverage.describe()


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_scheduler_no_assume_is_found_on_its_witness_scenario() -> None:
    """capacity: three pods of 400m created, delivered, scheduled and bound to a node of 1 cpu; every run of 12 steps refuted (about 2.5 min
    since the search orders adjacent local steps; more than 10 min when the ReplicaSet's pods' statuses first became cells)."""
    model = _model("capacity", "scheduler-no-assume")
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, ["scheduler-fit"]), 13)
    assert found is not None and len(found[0]) == coverage.depth == 13
    assert found[1].invariant == "scheduler-fit" and "scheduled pods there need cpu 1200 > allocatable 1000" in found[1].message


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_endpoints_keep_terminating_is_found_on_its_witness_scenario() -> None:
    """basic: a pod created, bound and admitted is deleted, then started, probed ready and reported; the endpoints controller, having seen
    the deletion and the readiness, publishes it as ready. Every run of 15 steps refuted, as long as Hypothesis's shrunk trace (about 17
    min)."""
    model = _model("basic", "endpoints-keep-terminating")
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, ["endpoints-never-terminating"]), 16)
    assert found is not None and len(found[0]) == coverage.depth == 16
    assert found[1].invariant == "endpoints-never-terminating" and "as ready though the controller saw it terminating" in found[1].message


@pytest.mark.slow
def test_kubelet_stale_relist_is_found_at_its_shortest_depth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """stateful: db-0 deleted and created again on node-2 (a second life of the name), then node-1's kubelet restarts, lists the first
    life from the lagging cache and runs it: found at 15, every run of 14 steps refuted (about 40 s), saved and replayed."""
    args = ["check", "--engine", "z3", "--scenario", "stateful", "--variant", "kubelet-stale-relist", "--invariant", "identity-runs-once"]
    code, out, _ = _run([*args, "--depth", "15", "--out", str(tmp_path)], capsys)
    assert code == 1 and "violation at depth 15 (every shorter run refuted)" in out and "every action the scenario can take" in out
    code, out, _ = _run(["replay", str(tmp_path / "stateful--kubelet-stale-relist--identity-runs-once.json"), "--no-tables"], capsys)
    assert code == 1 and "violation reproduces at step 15" in out and "runs twice" in out


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_rs_ignore_tombstones_is_found_at_the_explorers_depth_on_stranded() -> None:
    """stranded: Z3 finds a run of 21 steps, the explorer's shortest (2,881 s of breadth-first search: README), at 13 steps of its runs and
    8 drained deliveries at the end (2 to 3.5 minutes here); within the time bound it proves no run of 13 steps shorter, not yet all 20."""
    model = _model(STRANDED.name, "rs-ignore-tombstones")
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, ["rs-converges"]), 21, time_limit=600)
    assert found is not None and len(found[0]) == 21 and found[1].invariant == "rs-converges"
    assert coverage.stopped == "time" and 13 <= coverage.depth < 21 and not coverage.not_encoded and coverage.found == 21
    said = f"violation of 21 steps, not shown the shortest: none shorter among the runs of the encoded actions to depth {coverage.depth}"
    assert coverage.describe().startswith(said)
    assert "fault WatchReset component=replicaset-controller kind=Pod" in [str(a).rsplit(" revision=", 1)[0] for a in found[0]]


def test_a_violation_in_hand_at_the_time_bound_is_not_called_the_shortest() -> None:
    """A search stopped by time with a drained run in hand says how long it is and how far shorter ones were ruled out, never "every shorter
    run refuted"; without one it says what it covered."""
    held = bmc.BmcCoverage(13, 21, "time", ("a",), (), ("rs-converges",), (), 1.0, found=21)
    assert held.describe().startswith("violation of 21 steps, not shown the shortest: none shorter among the runs of the encoded actions to depth 13")
    assert held.as_json()["found"] == 21 and "every shorter run refuted" not in held.describe()
    empty = attrs.evolve(held, found=0)
    assert empty.describe().startswith("every run of the encoded actions to depth 13 (stopped at the time bound)") and empty.as_json()["found"] == 0


def test_a_status_write_no_pod_can_reach_in_the_bound_is_not_listed_as_left_out() -> None:
    """On node-failure, the pods node-3's kubelet could run are the ReplicaSet's replacements, which cannot get a status within 6
    steps: the kubelet's status write is impossible there, not left out (the random runs check that the spec never offers it); within
    10 steps it is encoded."""
    short, deep = _instance("node-failure", "default", 6), _instance("node-failure", "default", 10)
    assert short.not_encoded == () and not any(str(e.action).startswith("kubelet/node-3 KubeletSyncStatus") for e in short.actions)
    assert deep.not_encoded == () and any(str(e.action).startswith("kubelet/node-3 KubeletSyncStatus") for e in deep.actions)


def test_default_holds_and_says_what_was_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default variant: unique-cluster-ip holds to the bound; the unencoded invariants and actions are named, never reported as holding."""
    args = ["check", "--engine", "z3", "--scenario", "services", "--depth", "6", "--json", str(tmp_path / "r.json"), "--out", str(tmp_path)]
    args += ["--junit", str(tmp_path / "r.xml")]
    code, output, err = _run(args, capsys)
    assert code == 0, output
    assert "every run of the encoded actions to depth 6 (the depth bound)" in output
    progress = [line.split(" (")[0] for line in err.splitlines() if line.startswith("  ... ")]
    assert progress == [f"  ... every run of {d} steps refuted" for d in range(7)]
    assert "holds        unique-cluster-ip" in output and "holds        proxy-converges" in output
    assert "not encoded" not in output and "holds        pod-runs-once" in output and "holds        scheduler-cache-accurate" in output
    assert "left out" not in output and "every action the scenario can take in the bound is encoded" in output
    assert "KubeletSyncStatus" not in output  # every pod's status that an encoded action can change is a cell: none left out
    assert "KubeletKillPod" not in output and "KubeletDeletePod" not in output  # the pods' termination is encoded
    assert "a bounded search, not a proof" in output
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert run["engine"] == "z3" and run["depth"] == 6 and run["judged"] == JUDGED
    assert "user UserCreate kind=Service name=default/web" in run["encoded"]
    assert any(a.startswith("kubelet/node-1 KubeletKillPod pod=") for a in run["encoded"]) and run["not_encoded"] == []
    # the clock stands still and no Node is written: the kubelet's Lease is created, and no Node event is ever delivered
    assert "kubelet/node-1 KubeletRenewLease" in run["encoded"] and "node-lifecycle-controller WatchDeliver kind=Lease" in run["encoded"]
    assert not any("kind=Node" in a or "NodeLifecycle" in a for a in run["encoded"])
    assert "not encoded" not in run["verdicts"].values()
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "r.xml").getroot().iter("testcase")}
    held = cases["unique-cluster-ip"].find("system-out")
    assert held is not None and "every run of the encoded actions to depth 6" in (held.text or "")


def test_what_no_run_can_take_is_not_listed_and_the_rest_is() -> None:
    """Where the clock stands still and every Node is Ready with the taints its conditions call for, nothing writes a Node: the node
    lifecycle controller's marks and taints, the evictions, the status posts and the Node deliveries are impossible, not left out; a
    Node with a stale taint makes them possible, and they are listed again; faults Z3 does not encode are always listed."""
    assert _instance("basic", "default", 6).not_encoded == ()
    assert _instance("capacity", "default", 8).not_encoded == ()  # no Service ever: only the endpoints controller's pod deliveries
    # every component relists consistently after a restart, and every watch whose deliveries are encoded may relist
    assert _instance("scale", "default", 6).not_encoded == () and _instance("relist", "default", 6).not_encoded == ()
    # a kubelet that lists from a lagging cache when it restarts: its restart is encoded (from the store's history), as are the others'
    lagging = _instance("stateful", "kubelet-stale-relist", 6)
    restarts = [str(e.action) for e in lagging.actions if e.action.name == "ComponentRestart"]
    assert lagging.not_encoded == () and lagging.data.store_history  # type: ignore[attr-defined]
    assert set(restarts) == {f"fault ComponentRestart component={name}" for name, c in lagging.model.ctx.components if c.watches}
    stale = Taint(key=TAINT_UNREACHABLE, effect="NoSchedule")
    scenario = attrs.evolve(get_scenario("basic"), nodes=(node("node-1", taints=(stale,)), node("node-2")))
    left_out = build(KubeModel(scenario, DEFAULT), 6).not_encoded
    assert "node-lifecycle-controller NodeLifecycleTaint" in left_out and "kubelet/node-1 KubeletPostNodeStatus" in left_out
    assert "scheduler WatchDeliver kind=Node" in left_out and "kubelet/node-1 KubeletRenewLease" in left_out


def test_a_run_that_the_spec_does_not_confirm_is_an_encoding_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every counterexample is re-executed: an encoding that calls a good state bad is caught, not reported."""
    model = _model("services", "default")
    monitor = Monitor(model.ctx, model.is_quiescent, ["unique-cluster-ip"])
    inst = build(model)

    def wrong(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.BoolVal(True) == u[t]["service/default/web/exists"]

    monkeypatch.setattr(bmc, "build", lambda m, depth: attrs.evolve(inst, invariants=(EncodedInvariant("unique-cluster-ip", wrong),)))
    with pytest.raises(EncodingError, match=r"Z3 says \['unique-cluster-ip'\] is broken, the executable spec nothing"):
        bmc.search(model, monitor, 3)


def test_an_invariant_without_an_encoding_is_said_to_be_unchecked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """kspec check --engine z3 --invariant with none Z3 encodes there (the guestbook's frontend Service is a NodePort, whose Endpoints the
    encoding does not cover): no search, and the summary says that nothing was checked."""
    guestbook = Path(__file__).resolve().parent / "data" / "manifests" / "guestbook"
    args = ["check", "--engine", "z3", "--manifests", str(guestbook), "--invariant", "endpoints-converge"]
    report = tmp_path.parent / f"{tmp_path.name}.xml"
    code, out, _ = _run([*args, "--out", str(tmp_path), "--junit", str(report)], capsys)
    assert code == 0 and "nothing to judge: no selected invariant has an encoding" in out and "not encoded  endpoints-converge" in out
    assert "result: no invariant violated in 1 runs (no run searched" in out and "nothing was checked" in out
    assert not list(tmp_path.iterdir())
    cases = {c.get("name"): c for c in ET.parse(report).getroot().iter("testcase")}
    skipped = cases["endpoints-converge"].find("skipped")
    assert skipped is not None and (skipped.text or "").startswith("not encoded: Z3 has no encoding of this invariant yet")


def test_options_the_z3_engine_does_not_take_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--max-states bounds the explorer only: a one-line usage error, exit 2."""
    code, out, err = _run(["check", "--engine", "z3", "--scenario", "services", "--max-states", "10"], capsys)
    assert code == 2 and not out
    assert len(err.splitlines()) == 1 and "--max-states" in err and "need --engine explore" in err


def test_node_capacity_is_found_where_the_kubelet_admits_everything() -> None:
    """A node with room for one pod, a kubelet that admits everything: Z3 breaks node-capacity in as many steps as the explorer."""
    for variant, broken in ((get_variant("kubelet-no-admission"), True), (DEFAULT, False)):
        model = KubeModel(OVERBOOKED, variant)
        monitor = Monitor(model.ctx, model.is_quiescent, ["node-capacity"])
        found, coverage = bmc.search(model, monitor, 6)
        explored = explore(model, KubeProperties(model, monitor), limits=Limits(depth=6))
        assert (found is not None) == broken == (explored.found is not None)
        if found is not None and explored.found is not None:
            assert len(found[0]) == len(explored.found.actions) == coverage.depth
            assert found[1].invariant == "node-capacity"
        else:
            assert coverage.stopped == "depth" and "node-capacity" in coverage.judged


def test_scheduler_fit_is_found_where_the_scheduler_does_not_assume() -> None:
    """Two pods of 600m, one of which only the labelled node takes: a scheduler that does not assume puts both there, in 8 steps.

    (8 is the explorer's depth: the slow test below.)
    """
    model = _model(PLACEMENT.name, "scheduler-no-assume")
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, ["scheduler-fit"]), 8)
    assert found is not None and len(found[0]) == coverage.depth == 8
    assert found[1].invariant == "scheduler-fit" and "to node-2: scheduled pods there need cpu 1200" in found[1].message


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "depth"), [("scheduler-no-assume", 8), ("two-schedulers", 9), ("default", 0)])
def test_scheduler_fit_at_the_explorers_depth(variant: str, depth: int) -> None:
    """The same cluster: Z3 breaks scheduler-fit in as many steps as the breadth-first explorer, and the default scheduler holds to 9."""
    model = _model(PLACEMENT.name, variant)
    monitor = Monitor(model.ctx, model.is_quiescent, ["scheduler-fit"])
    bound = depth or 9
    found, coverage = bmc.search(model, monitor, bound)
    explored = explore(model, KubeProperties(model, monitor), limits=Limits(depth=bound))
    assert (found is not None) == bool(depth) == (explored.found is not None)
    if found is not None and explored.found is not None:
        assert len(found[0]) == len(explored.found.actions) == coverage.depth == depth
    else:
        assert coverage.stopped == "depth" and coverage.depth == bound


def test_a_bug_not_found_within_the_bound_points_to_where_it_is_within_reach(capsys: pytest.CaptureFixture[str]) -> None:
    """two-schedulers on its witness, capacity, needs more steps than a shallow bound: each exhaustive engine says so and names the
    cluster where its shortest run is (spec.variants.SHORTEST); where it finds the bug, or for another invariant, it says nothing more."""
    base = ["check", "--variant", "two-schedulers", "--invariant", "scheduler-fit", "--depth", "3"]
    for engine in ("z3", "explore"):
        code, out, _ = _run([*base, "--engine", engine], capsys)
        command = f"kspec check --engine {engine} --scenario placement --variant two-schedulers --invariant scheduler-fit"
        assert code == 0 and f"  within reach: two-schedulers breaks scheduler-fit in 9 steps on placement ({command})" in out.splitlines()
    code, out, _ = _run(["check", "--engine", "z3", "--variant", "two-schedulers", "--invariant", "node-capacity", "--depth", "3"], capsys)
    assert code == 0 and "within reach" not in out
