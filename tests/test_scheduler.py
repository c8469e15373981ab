"""kube-scheduler (component 2): filter, score, every tie explored, assume, bind, forget.

Sources: k8s@v1.28 pkg/scheduler/schedule_one.go, eventhandlers.go,
framework/plugins (noderesources/fit.go, tainttoleration, nodeaffinity,
nodeunschedulable), framework/plugins/defaultbinder.
"""

from __future__ import annotations

import random

import attrs
from driver import Driver

from spec.model import KubeModel
from spec.objects import NO_EXECUTE, NO_SCHEDULE, Taint, Toleration
from spec.scenarios import GI, MI, Bounds, NodeConfig, Scenario, UserChoices, container, node, pod, replicaset
from spec.scheduler import stranded
from spec.state import State
from spec.variants import DEFAULT, get_variant

SCHED = "scheduler"


def scenario(nodes: tuple[NodeConfig, ...], replicas: int = 2, cpu: int = 500, **kw: object) -> Scenario:
    web = replicaset("web", replicas, container(cpu=cpu, memory=256 * MI))
    return Scenario(name="sched", summary="scheduler test", nodes=nodes, objects=(web,), **kw)  # type: ignore[arg-type]


def created(d: Driver) -> Driver:
    """Let every component but the scheduler run, then hand the scheduler its pods."""
    return d.settle(skip=(SCHED,)).deliver(SCHED)


def schedule_options(d: Driver) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a in d.enabled(SCHED, "SchedulerSchedule"):
        if a.param("node"):
            out.setdefault(str(a.param("pod")), set()).add(str(a.param("node")))
    return out


def test_ties_are_explored_as_action_parameters() -> None:
    """schedule_one.go selectHost: equal scores tie; the model offers every tied node."""
    d = created(Driver(scenario((node("node-1"), node("node-2")))))
    options = schedule_options(d)
    assert len(options) == 2 and all(nodes == {"node-1", "node-2"} for nodes in options.values())


def test_least_allocated_prefers_the_emptier_node() -> None:
    """noderesources LeastAllocated: a node with more free cpu and memory scores higher."""
    d = created(Driver(scenario((node("node-1", cpu=2000), node("node-2", cpu=4000)))))
    assert all(nodes == {"node-2"} for nodes in schedule_options(d).values())


def test_assumed_pods_count_before_their_bind_is_seen() -> None:
    """schedule_one.go assume + cache.AssumePod: the next cycle sees the node's capacity as used."""
    d = created(Driver(scenario((node("node-1", cpu=1000), node("node-2", cpu=1000)), cpu=600)))
    first, second = sorted(schedule_options(d))
    d.do(SCHED, "SchedulerSchedule", pod=first, node="node-1")
    assumed = d.memory(SCHED).assumed  # type: ignore[attr-defined]
    assert assumed[first].node == "node-1" and assumed[first].binding
    assert schedule_options(d) == {second: {"node-2"}}


def test_bind_writes_node_name_and_the_informer_confirms_the_assumption() -> None:
    """defaultbinder Bind + cache FinishBinding/AddPod: the assumed pod is confirmed by the bound pod's event."""
    d = created(Driver(scenario((node("node-1"),), replicas=1)))
    (key,) = schedule_options(d)
    d.do(SCHED, "SchedulerSchedule", pod=key, node="node-1").do(SCHED, "SchedulerBind", pod=key)
    assert d.state.api.objects.pods[key].spec.node_name == "node-1"
    assert not d.memory(SCHED).assumed[key].binding  # type: ignore[attr-defined]
    d.deliver(SCHED)
    assert key not in d.memory(SCHED).assumed  # type: ignore[attr-defined]
    assert d.state.views[SCHED].cache.pods[key].spec.node_name == "node-1"


def test_a_failed_bind_forgets_the_assumed_pod() -> None:
    """schedule_one.go handleBindingCycleError: ForgetPod frees the node when the Binding fails (here 404)."""
    sc = scenario((node("node-1", cpu=1000),), replicas=1, cpu=600, bounds=Bounds(budgets={"delete-pod": 1}))
    d = created(Driver(sc))
    (key,) = schedule_options(d)
    d.do(SCHED, "SchedulerSchedule", pod=key, node="node-1")
    d.do("user", "UserDeletePod", pod=key)
    d.do(SCHED, "SchedulerBind", pod=key)
    assert key not in d.memory(SCHED).assumed  # type: ignore[attr-defined]


def test_unschedulable_nodes_are_filtered() -> None:
    """framework/plugins/nodeunschedulable: spec.unschedulable excludes the node unless tolerated."""
    sc = scenario((node("node-1"), node("node-2")), bounds=Bounds(budgets={"cordon": 1}))
    d = Driver(sc).do("user", "UserCordon", node="node-1", unschedulable=True)
    created(d)
    assert all(nodes == {"node-2"} for nodes in schedule_options(d).values())


def test_untolerated_noschedule_and_noexecute_taints_filter_nodes() -> None:
    """framework/plugins/tainttoleration Filter: NoSchedule and NoExecute taints must be tolerated."""
    tainted = node("node-1", taints=(Taint(key="dedicated", value="db", effect=NO_SCHEDULE),))
    evicting = node("node-2", taints=(Taint(key="dedicated", value="db", effect=NO_EXECUTE),))
    d = created(Driver(scenario((tainted, evicting, node("node-3")))))
    assert all(nodes == {"node-3"} for nodes in schedule_options(d).values())
    tolerant = attrs.evolve(
        replicaset("web", 1, container()),
        spec=attrs.evolve(
            replicaset("web", 1, container()).spec,
            template=attrs.evolve(
                replicaset("web", 1, container()).spec.template,
                spec=attrs.evolve(
                    replicaset("web", 1, container()).spec.template.spec, tolerations=(Toleration(key="dedicated", operator="Exists"),)
                ),
            ),
        ),
    )
    d = created(Driver(Scenario(name="t", summary="", nodes=(tainted, evicting), objects=(tolerant,))))
    assert all(nodes == {"node-1", "node-2"} for nodes in schedule_options(d).values())


def test_node_selector_filters_nodes() -> None:
    """framework/plugins/nodeaffinity: spec.nodeSelector must match the node's labels."""
    web = replicaset("web", 1, container())
    web = attrs.evolve(
        web,
        spec=attrs.evolve(
            web.spec, template=attrs.evolve(web.spec.template, spec=attrs.evolve(web.spec.template.spec, node_selector={"disk": "ssd"}))
        ),
    )
    nodes = (node("node-1"), node("node-2", labels={"disk": "ssd"}))
    d = created(Driver(Scenario(name="t", summary="", nodes=nodes, objects=(web,))))
    assert list(schedule_options(d).values()) == [{"node-2"}]


def test_no_fit_records_the_fit_error_on_the_pod() -> None:
    """schedule_one.go FitError: PodScheduled=False with '0/N nodes are available: ...'."""
    d = created(Driver(scenario((node("node-1", cpu=400), node("node-2", cpu=400)), replicas=1, cpu=500)))
    (action,) = d.enabled(SCHED, "SchedulerSchedule")
    assert action.param("node") == ""
    d.take(action)
    key = str(action.param("pod"))
    assert d.state.api.objects.pods[key].status.unschedulable == "0/2 nodes are available: 2 Insufficient cpu."
    d.deliver(SCHED)
    assert not d.enabled(SCHED, "SchedulerSchedule")


def test_pod_count_and_memory_are_part_of_the_fit() -> None:
    """noderesources/fit.go fitsRequest: 'Too many pods' and 'Insufficient memory'."""
    small = (node("node-1", pods=0), node("node-2", memory=128 * MI))
    d = created(Driver(scenario(small, replicas=1)))
    (action,) = d.enabled(SCHED, "SchedulerSchedule")
    d.take(action)
    (p,) = d.pods("web")
    assert p.status.unschedulable == "0/2 nodes are available: 1 Insufficient memory, 1 Too many pods."


def test_pods_with_a_node_name_skip_the_scheduler() -> None:
    """eventhandlers.go: a pod created with spec.nodeName is an assigned pod, not queued."""
    pinned = pod("pinned", container(), node_name="node-1")
    sc = Scenario(name="t", summary="", nodes=(node("node-1"),), user=UserChoices(pods=(pinned,)), bounds=Bounds(budgets={"create": 1}))
    d = Driver(sc).do("user", "UserCreate", kind="Pod", name="default/pinned").deliver(SCHED)
    assert not d.enabled(SCHED)
    assert d.state.views[SCHED].cache.pods["default/pinned"].spec.node_name == "node-1"


def test_terminal_pods_free_their_node() -> None:
    """scheduler.go pod informer selects status.phase!=Succeeded,!=Failed: a finished pod's requests stop counting."""
    job = pod("job", container(cpu=800), node_name="node-1")
    job = attrs.evolve(job, spec=attrs.evolve(job.spec, restart_policy="Never"))
    sc = Scenario(
        name="t",
        summary="",
        nodes=(node("node-1", cpu=1000, memory=2 * GI),),
        objects=(job, replicaset("web", 1, container(cpu=500))),
        bounds=Bounds(budgets={"container-exit": 1}),
    )
    d = Driver(sc).settle(skip=(SCHED,)).deliver(SCHED)
    assert schedule_options(d) == {} and len(d.enabled(SCHED, "SchedulerSchedule")) == 1  # only the FitError write
    d.do("fault", "ContainerExit", pod="default/job", container="app", code=0).settle(skip=(SCHED,)).deliver(SCHED)
    assert d.pod("job").status.phase == "Succeeded"
    assert list(schedule_options(d).values()) == [{"node-1"}]


def test_stranded_pods_are_pending_pods_that_a_node_could_take() -> None:
    """The good states of the eventual property ``binds``: judged by the API server's state, not the scheduler's cache."""
    roomy = Driver(scenario((node("node-1", cpu=1000),), replicas=1, cpu=500)).settle(skip=(SCHED,))
    assert stranded(roomy.ctx, roomy.state) == [p.meta.key for p in roomy.pods("web")]
    roomy.settle()
    assert roomy.pod("web").spec.node_name == "node-1" and stranded(roomy.ctx, roomy.state) == []
    full = created(Driver(scenario((node("node-1", cpu=400),), replicas=1, cpu=500)))
    assert stranded(full.ctx, full.state) == []  # no node could take it: pending, but not stranded


def _walk_to_rest(model: KubeModel, seed: int) -> State:
    rng = random.Random(seed)
    state = model.initial_states()[0]
    for _ in range(1000):
        step = model.random_successor(state, rng)
        if step is None:
            return state
        state = step[1]
    raise AssertionError("the walk did not come to rest")


def test_a_scheduler_that_misses_a_delete_strands_the_replacement_pod() -> None:
    """scheduler-missed-delete (#55587): the deleted pod keeps its requests in the cache, so its replacement never fits.

    Every run of the one-node scenario comes to rest; with the variant, every
    one rests with a pod that the node could take still pending, so ``binds``
    has no good state left; without it, none does.
    """
    tight = Scenario(
        name="tight",
        summary="one node with room for one pod, which may be deleted",
        nodes=(node("node-1", cpu=600),),
        objects=(replicaset("web", 1, container(cpu=400)),),
        bounds=Bounds(budgets={"delete-pod": 1}),
        settle=True,
    )
    for variant, expected in ((DEFAULT, 0), (get_variant("scheduler-missed-delete"), 1)):
        model = KubeModel(tight, variant)
        rested = [_walk_to_rest(model, seed) for seed in range(4)]
        assert [len(stranded(model.ctx, s)) for s in rested] == [expected] * 4
        assert all(model.is_quiescent(s) and len(s.api.objects.pods) == 1 for s in rested)
