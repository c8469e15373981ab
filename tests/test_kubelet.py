"""The kubelet (component 7), driven through the action catalogue.

Each test takes kubelet, user, fault and clock actions with the Driver, so
every step it takes is also asserted to be enabled, and each docstring names
the Kubernetes source (k8s@v1.28 unless stated) whose behaviour it checks.
Node truth (what runs on the machine) is read from ``state.machines``; API
truth from the store.
"""

from __future__ import annotations

import attrs
import pytest
from driver import Driver

from spec.objects import FAILED, NODE_LEASE_NAMESPACE, PENDING, RUNNING, SUCCEEDED, Container, ContainerStatus, Pod
from spec.runtime import RuntimeContainer, Sandbox
from spec.scenarios import GI, MI, Bounds, NodeConfig, Scenario, Timing, UserChoices, container, node, pod, replicaset

KL = "kubelet/node-1"
FAULT = "fault"
USER = "user"
START = "KubeletStartContainer"
SYNC = "KubeletSyncStatus"


def scenario(
    *objects: object,
    nodes: tuple[NodeConfig, ...] = (node("node-1"),),
    budgets: dict[str, int] | None = None,
    clock_limit: int = 0,
    timing: Timing | None = None,
    user: UserChoices | None = None,
    registry: tuple[str, ...] | None = None,
) -> Scenario:
    return Scenario(
        name="kubelet",
        summary="kubelet test",
        nodes=nodes,
        objects=objects,  # type: ignore[arg-type]
        bounds=Bounds(budgets=budgets or {}, clock_limit=clock_limit),
        timing=timing or Timing(),
        user=user or UserChoices(),
        registry=registry,
    )


def bare(name: str, c: Container | None = None, *, restart: str = "Always", node_name: str = "node-1", grace: int = 3, **kw: object) -> Pod:
    """A bare pod bound to ``node_name`` through spec.nodeName (no scheduler involved)."""
    p = pod(name, c or container(), node_name=node_name, grace=grace, **kw)  # type: ignore[arg-type]
    return attrs.evolve(p, spec=attrs.evolve(p.spec, restart_policy=restart))


def two(policy: str, a: Container, b: Container) -> Pod:
    """A bare pod on node-1 with containers ``a`` and ``b``."""
    p = bare("p", restart=policy)
    return attrs.evolve(p, spec=attrs.evolve(p.spec, containers=(attrs.evolve(a, name="a"), attrs.evolve(b, name="b"))))


def sandbox(d: Driver, uid: int, node_name: str = "node-1") -> Sandbox | None:
    return d.state.machines[node_name].sandboxes.get(uid)


def runtime(d: Driver, name: str, container_name: str = "app") -> RuntimeContainer:
    """The container as the node's runtime has it (node truth)."""
    sb = sandbox(d, d.pod(name).meta.uid, d.pod(name).spec.node_name)
    assert sb is not None, f"no sandbox for {name}"
    return sb.containers[container_name]


def cstatus(d: Driver, name: str, container_name: str = "app") -> ContainerStatus:
    """The container's status as the API has it."""
    return next(cs for cs in d.pod(name).status.container_statuses if cs.name == container_name)


def exit_container(d: Driver, name: str, code: int, container_name: str = "app") -> Driver:
    return d.do(FAULT, "ContainerExit", pod=f"default/{name}", container=container_name, code=code)


def can_start(d: Driver, name: str, container_name: str = "app") -> bool:
    return d.can(KL, START, pod=f"default/{name}", container=container_name)


# ------------------------------------------------------------ 1. admission


@pytest.mark.parametrize(
    ("cfg", "c", "reason", "detail"),
    [
        (node("node-1", cpu=1000), container(cpu=600), "OutOfcpu", "cpu, requested: 600, used: 600, capacity: 1000"),
        (
            node("node-1", memory=1 * GI),
            container(cpu=100, memory=768 * MI),
            "OutOfmemory",
            f"memory, requested: {768 * MI}, used: {768 * MI}, capacity: {GI}",
        ),
        (node("node-1", pods=1), container(cpu=100), "OutOfpods", "pods, requested: 1, used: 1, capacity: 1"),
    ],
    ids=["cpu", "memory", "pods"],
)
def test_admission_rejects_a_pod_bound_to_a_full_node(cfg: NodeConfig, c: Container, reason: str, detail: str) -> None:
    """pkg/kubelet/lifecycle/predicate.go GeneralPredicates + kubelet.go HandlePodAdditions/rejectPod.

    Two pods bound with spec.nodeName to a node with room for one: the older is
    admitted and runs; the other is rejected with OutOf<resource>, reported
    Failed with "Pod was rejected: ..." by the status manager, and never started.
    """
    d = Driver(scenario(bare("first", c), bare("second", c), nodes=(cfg,)))
    d.do(KL, "KubeletAdmitPod", pod="default/first")
    d.do(KL, "KubeletAdmitPod", pod="default/second")
    assert d.pod("second").status.phase == PENDING, "the rejection is written by the status manager, not at admission"
    assert not can_start(d, "second")
    d.do(KL, SYNC, pod="default/second")
    status = d.pod("second").status
    assert (status.phase, status.reason) == (FAILED, reason)
    assert status.message == f"Pod was rejected: Node didn't have enough resource: {detail}"
    assert not status.ready
    d.settle()
    assert d.pod("first").status.phase == RUNNING
    assert d.pod("second").status.phase == FAILED, "Failed is terminal and sticky"
    assert sandbox(d, d.pod("second").meta.uid) is None, "a rejected pod never gets a sandbox"


def test_admission_counts_only_active_pods() -> None:
    """pkg/kubelet/kubelet.go HandlePodAdditions: admission checks against the active (non-terminal) admitted pods.

    A pod that has finished frees its room for the next one.
    """
    job = bare("job", container(cpu=600), restart="Never")
    later = bare("later", container(cpu=600))
    sc = scenario(job, nodes=(node("node-1", cpu=1000),), budgets={"container-exit": 1, "create": 1}, user=UserChoices(pods=(later,)))
    d = Driver(sc).settle()
    exit_container(d, "job", 0).settle()
    assert d.pod("job").status.phase == SUCCEEDED
    d.do(USER, "UserCreate", kind="Pod", name="default/later").settle()
    assert d.pod("later").status.phase == RUNNING and runtime(d, "later").running


def test_a_rejected_replicaset_pod_is_replaced() -> None:
    """pkg/kubelet/lifecycle/predicate.go (rejection) + pkg/controller/replicaset/replica_set.go (FilterActivePods).

    The scheduler places a ReplicaSet pod on node-1 while a user binds a pod
    there through spec.nodeName, which the scheduler has not seen. The kubelet
    admits the bare pod and rejects the ReplicaSet's with OutOfcpu; the rejected
    pod is terminal, so the ReplicaSet creates a replacement, which runs on node-2.
    """
    web = replicaset("web", 1, container(cpu=600))
    hog = bare("hog", container(cpu=600))
    nodes = (node("node-1", cpu=1000), node("node-2", cpu=1000))
    d = Driver(scenario(web, nodes=nodes, budgets={"create": 1}, user=UserChoices(pods=(hog,))))
    d.settle(skip=("scheduler",)).deliver("scheduler")
    (first,) = d.pods("web")
    d.do("scheduler", "SchedulerSchedule", pod=first.meta.key, node="node-1")
    d.do(USER, "UserCreate", kind="Pod", name="default/hog")
    d.do("scheduler", "SchedulerBind", pod=first.meta.key)
    d.do(KL, "WatchDeliver", kind="Pod")  # the kubelet sees the bare pod first
    d.do(KL, "KubeletAdmitPod", pod="default/hog")
    d.settle()
    rejected = d.state.api.objects.pods[first.meta.key]
    assert (rejected.spec.node_name, rejected.status.phase, rejected.status.reason) == ("node-1", FAILED, "OutOfcpu")
    (replacement,) = [p for p in d.pods("web") if p.meta.uid != first.meta.uid]
    assert replacement.meta.owner_references[0].name == "web"
    assert (replacement.spec.node_name, replacement.status.phase) == ("node-2", RUNNING)
    assert d.pod("hog").status.phase == RUNNING


# ------------------------------------------------------------ 2. pod IPs


def test_pod_ips_come_from_the_node_pod_cidr_and_are_freed_at_teardown() -> None:
    """pkg/kubelet/kuberuntime/kuberuntime_sandbox.go createPodSandbox (CNI IPAM in Node.spec.podCIDR), kuberuntime_manager.go KillPod.

    Each running sandbox has its own address in its node's 10.244.<i>.0/24,
    reported as status.podIP; tearing a sandbox down frees its address (the
    model's IPAM hands out the lowest free one, so the next pod gets it).
    """
    later = bare("later")
    d = Driver(
        scenario(
            bare("a"),
            bare("b"),
            bare("c", node_name="node-2"),
            nodes=(node("node-1"), node("node-2")),
            budgets={"delete-pod": 1, "create": 1},
            user=UserChoices(pods=(later,)),
        )
    )
    d.settle()
    assert [d.state.api.objects.nodes[n].spec.pod_cidr for n in ("node-1", "node-2")] == ["10.244.1.0/24", "10.244.2.0/24"]
    ips = {name: d.pod(name).status.pod_ip for name in ("a", "b", "c")}
    assert ips["a"].startswith("10.244.1.") and ips["b"].startswith("10.244.1.") and ips["c"].startswith("10.244.2.")
    assert ips["a"] != ips["b"]
    for name in ("a", "b", "c"):
        p = d.pod(name)
        sb = sandbox(d, p.meta.uid, p.spec.node_name)
        assert sb is not None and sb.ip == ips[name]
    uid_a = d.pod("a").meta.uid
    d.do(USER, "UserDeletePod", pod="default/a").deliver(KL).do(KL, "KubeletKillPod", pod="default/a")
    sb_a = sandbox(d, uid_a)
    assert sb_a is not None and sb_a.ip == "", "the sandbox's network is torn down with its containers"
    d.settle()
    d.do(USER, "UserCreate", kind="Pod", name="default/later").settle()
    assert d.pod("later").status.pod_ip == ips["a"], "the freed address is handed out again"
    assert d.pod("later").status.pod_ip != d.pod("b").status.pod_ip


# ------------------------------------------------------------ 3. images


@pytest.mark.parametrize(
    ("policy", "cached", "registry", "problem"),
    [
        ("Always", True, (), "ErrImagePull"),
        ("Always", False, None, ""),
        ("IfNotPresent", True, (), ""),
        ("IfNotPresent", False, ("nginx:1.25",), ""),
        ("IfNotPresent", False, ("busybox:1.36",), "ErrImagePull"),
        ("Never", False, None, "ErrImageNeverPull"),
        ("Never", True, (), ""),
    ],
    ids=[
        "always-pulls-even-if-cached",
        "always-pulls-into-cache",
        "ifnotpresent-uses-cache",
        "ifnotpresent-pulls-when-absent",
        "missing-from-registry",
        "never-absent",
        "never-cached",
    ],
)
def test_image_pull_policy(policy: str, cached: bool, registry: tuple[str, ...] | None, problem: str) -> None:
    """pkg/kubelet/images/image_manager.go EnsureImageExists (shouldPullImage): pulls by imagePullPolicy against the node's images.

    A registry that lacks the image makes every pull fail with ErrImagePull,
    so a start from an empty registry shows that no pull was attempted.
    """
    image = "nginx:1.25"
    cfg = node("node-1", images=(image,) if cached else ())
    d = Driver(scenario(bare("p", container(image=image, image_pull_policy=policy)), nodes=(cfg,), registry=registry))
    d.settle()
    if problem:
        status = cstatus(d, "p")
        assert (status.state, status.reason) == ("waiting", problem)
        assert d.pod("p").status.phase == PENDING
        assert not can_start(d, "p")
        assert sandbox(d, d.pod("p").meta.uid) is None
        assert (image in d.state.machines["node-1"].images) == cached
    else:
        assert runtime(d, "p").running
        assert d.pod("p").status.phase == RUNNING
        assert image in d.state.machines["node-1"].images


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx:latest", "Always"),
        ("nginx", "Always"),
        ("registry.local:5000/team/app", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.local:5000/team/app:v2", "IfNotPresent"),
    ],
)
def test_api_server_defaults_pull_policy_from_the_tag(image: str, policy: str) -> None:
    """pkg/apis/core/v1/defaults.go SetDefaults_Container: ``:latest`` or no tag defaults to Always, any other tag to IfNotPresent."""
    d = Driver(scenario(bare("p", container(image=image))))
    assert d.pod("p").spec.containers[0].image_pull_policy == policy


def test_latest_image_is_pulled_even_when_cached() -> None:
    """pkg/apis/core/v1/defaults.go SetDefaults_Container + pkg/kubelet/images/image_manager.go: a cached ``:latest`` is still pulled.

    The default Always policy sends the kubelet to the registry, which lacks
    the image, so the container fails with ErrImagePull despite the cache.
    """
    cfg = node("node-1", images=("nginx:latest",))
    d = Driver(scenario(bare("p", container(image="nginx:latest")), nodes=(cfg,), registry=()))
    d.settle()
    assert cstatus(d, "p").reason == "ErrImagePull"
    assert not can_start(d, "p")


# ------------------------------------------------------------ 4. container exit and restartPolicy


@pytest.mark.parametrize(
    ("policy", "code", "restarts", "phase_while_down"),
    [
        ("Always", 0, True, RUNNING),
        ("Always", 1, True, RUNNING),
        ("OnFailure", 1, True, RUNNING),
        ("OnFailure", 0, False, SUCCEEDED),
        ("Never", 0, False, SUCCEEDED),
        ("Never", 1, False, FAILED),
    ],
)
def test_container_exit_and_restart_policy(policy: str, code: int, restarts: bool, phase_while_down: str) -> None:
    """pkg/kubelet/container/helpers.go ShouldContainerBeRestarted + pkg/kubelet/kubelet_pods.go getPhase.

    Always restarts, OnFailure restarts only a non-zero exit, Never never does;
    the phase while the container is down follows getPhase (Always and a failed
    OnFailure stay Running because they restart), and a restart counts in restartCount.
    """
    d = Driver(scenario(bare("p", restart=policy), budgets={"container-exit": 1}))
    d.settle()
    exit_container(d, "p", code)
    assert not runtime(d, "p").running
    assert can_start(d, "p") == restarts
    d.settle(skip=(START,))
    assert d.pod("p").status.phase == phase_while_down
    d.settle()
    status = d.pod("p").status
    if restarts:
        assert status.phase == RUNNING
        assert runtime(d, "p").running and runtime(d, "p").restarts == 1
        assert (cstatus(d, "p").state, cstatus(d, "p").restart_count) == ("running", 1)
    else:
        assert status.phase == phase_while_down
        cs = cstatus(d, "p")
        assert (cs.state, cs.exit_code, cs.restart_count) == ("terminated", code, 0)
        assert cs.reason == ("Completed" if code == 0 else "Error")
        sb = sandbox(d, d.pod("p").meta.uid)
        assert sb is not None and not sb.running() and sb.ip == "", "a finished pod's sandbox is torn down"


def test_phase_of_a_pod_with_two_containers() -> None:
    """pkg/kubelet/kubelet_pods.go getPhase: running > 0 is Running; then all stopped decides by restartPolicy (Never: Failed on any failure)."""
    d = Driver(scenario(two("Never", container(), container()), budgets={"container-exit": 2}))
    d.settle()
    exit_container(d, "p", 0, "a").settle()
    assert d.pod("p").status.phase == RUNNING, "one container still runs"
    exit_container(d, "p", 1, "b").settle()
    assert d.pod("p").status.phase == FAILED


def test_phase_succeeded_when_every_onfailure_container_exits_zero() -> None:
    """pkg/kubelet/kubelet_pods.go getPhase: OnFailure with all containers stopped and succeeded is Succeeded, not restarted."""
    d = Driver(scenario(two("OnFailure", container(), container()), budgets={"container-exit": 2}))
    d.settle()
    exit_container(d, "p", 0, "a").settle()
    assert d.pod("p").status.phase == RUNNING
    exit_container(d, "p", 0, "b").settle()
    assert d.pod("p").status.phase == SUCCEEDED
    assert not can_start(d, "p", "a") and not can_start(d, "p", "b")


def test_a_waiting_container_keeps_the_pod_pending() -> None:
    """pkg/kubelet/kubelet_pods.go getPhase: a container waiting without a previous termination makes the pod Pending even if another runs."""
    d = Driver(scenario(two("Always", container(image="busybox:1.36", image_pull_policy="Never"), container())))
    d.settle()
    assert runtime(d, "p", "b").running
    assert cstatus(d, "p", "a").reason == "ErrImageNeverPull"
    assert d.pod("p").status.phase == PENDING


# ------------------------------------------------------------ 5. probes


def test_readiness_probe_gates_ready_and_a_failure_does_not_restart() -> None:
    """pkg/kubelet/prober/worker.go + prober_manager.go: readiness starts at Failure; a failing probe sets ready=false, with no restart.

    pkg/kubelet/status/generate.go: pod Ready is ContainersReady.
    """
    d = Driver(scenario(bare("p", container(readiness_probe=True)), budgets={"container-unhealthy": 1}))
    d.settle(skip=("KubeletProbeReadiness",))
    assert runtime(d, "p").running
    assert d.pod("p").status.phase == RUNNING
    assert not d.pod("p").status.ready and not cstatus(d, "p").ready
    d.do(KL, "KubeletProbeReadiness", pod="default/p", container="app").do(KL, SYNC, pod="default/p")
    assert d.pod("p").status.ready and cstatus(d, "p").ready
    d.do(FAULT, "ContainerUnhealthy", pod="default/p", container="app")
    assert not d.enabled(KL, "KubeletLivenessKill"), "no liveness probe, no kill"
    d.do(KL, "KubeletProbeReadiness", pod="default/p", container="app")
    d.settle()
    status = d.pod("p").status
    assert (status.phase, status.ready, cstatus(d, "p").ready) == (RUNNING, False, False)
    assert runtime(d, "p").running and runtime(d, "p").restarts == 0


def test_liveness_failure_kills_and_the_container_restarts() -> None:
    """pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions: a container failing its liveness probe is killed.

    It is then restarted per restartPolicy (pkg/kubelet/container/helpers.go ShouldContainerBeRestarted).
    """
    d = Driver(scenario(bare("p", container(readiness_probe=True, liveness_probe=True)), budgets={"container-unhealthy": 1}))
    d.settle()
    assert d.pod("p").status.ready
    d.do(FAULT, "ContainerUnhealthy", pod="default/p", container="app")
    d.do(KL, "KubeletLivenessKill", pod="default/p", container="app")
    killed = runtime(d, "p")
    assert (killed.running, killed.exit_code) == (False, 137)
    d.do(KL, START, pod="default/p", container="app")
    assert runtime(d, "p").running and runtime(d, "p").healthy
    d.settle(skip=("KubeletProbeReadiness",))
    assert cstatus(d, "p").restart_count == 1
    assert not d.pod("p").status.ready, "a restarted container is not ready until its readiness probe succeeds again"
    d.settle()
    assert d.pod("p").status.ready


def test_no_liveness_kill_while_the_pod_is_deleted() -> None:
    """pkg/kubelet/prober/worker.go: liveness results are forced to Success once the pod has a deletionTimestamp."""
    d = Driver(scenario(bare("p", container(liveness_probe=True, pre_stop=True)), budgets={"container-unhealthy": 1, "delete-pod": 1}))
    d.settle()
    d.do(USER, "UserDeletePod", pod="default/p").deliver(KL)
    d.do(FAULT, "ContainerUnhealthy", pod="default/p", container="app")
    assert not d.enabled(KL, "KubeletLivenessKill")
    assert d.can(KL, "KubeletRunPreStop", pod="default/p")


# ------------------------------------------------------------ 6. restart back-off


def ticks_until_restartable(d: Driver, name: str, limit: int = 50) -> int:
    """Let everything but restarts run and the clock tick until the kubelet may restart ``name``'s container."""
    for waited in range(limit):
        d.settle(skip=(START,))
        if can_start(d, name):
            return waited
        assert cstatus(d, name).reason == "CrashLoopBackOff", "the status shows the back-off while waiting"
        assert d.pod(name).status.phase == RUNNING
        d.tick()
    raise AssertionError("never restartable")


def test_restart_back_off_doubles_up_to_the_maximum() -> None:
    """pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff + client-go util/flowcontrol/backoff.go (10 s doubling to 300 s).

    With back-off 2 ticks doubling to 8: the first restart is immediate, then
    each crash waits 2, 4, 8, 8 ticks (counted from the exit); the container
    shows CrashLoopBackOff meanwhile and is not restartable before.
    """
    sc = scenario(bare("p"), budgets={"container-exit": 5}, clock_limit=40, timing=Timing(backoff_initial=2, backoff_max=8))
    d = Driver(sc)
    d.settle()
    waits = []
    for _ in range(5):
        crashed_at = d.state.clock
        exit_container(d, "p", 1)
        waits.append(ticks_until_restartable(d, "p"))
        assert d.state.clock == crashed_at + waits[-1]
        d.do(KL, START, pod="default/p", container="app")
    assert waits == [0, 2, 4, 8, 8]
    d.settle()
    assert cstatus(d, "p").state == "running" and cstatus(d, "p").restart_count == 5


def test_tick_needs_an_armed_timer_and_a_clock_limit() -> None:
    """pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff: the back-off is a deadline the clock can move towards.

    Time passes in the model only while such a deadline is pending, and never past the scenario's clock_limit.
    """
    timing = Timing(backoff_initial=2, backoff_max=8)
    d = Driver(scenario(bare("p"), budgets={"container-exit": 2}, clock_limit=1, timing=timing))
    d.settle()
    assert not d.can("clock", "Tick"), "nothing to wait for"
    exit_container(d, "p", 1).do(KL, START, pod="default/p", container="app")
    exit_container(d, "p", 1).settle(skip=(START,))
    assert d.can("clock", "Tick"), "the back-off is armed"
    d.tick().settle(skip=(START,))
    assert d.state.clock == 1 and not can_start(d, "p")
    assert not d.can("clock", "Tick"), "the clock limit is reached"
    frozen = Driver(scenario(bare("p"), budgets={"container-exit": 2}, clock_limit=0, timing=timing)).settle()
    exit_container(frozen, "p", 1).do(KL, START, pod="default/p", container="app")
    exit_container(frozen, "p", 1).settle(skip=(START,))
    assert not frozen.can("clock", "Tick"), "clock_limit 0: time never passes"


SLOW_TIMING = Timing(backoff_initial=1, backoff_max=2, node_monitor_grace=1, default_toleration_seconds=20)


def crash_looping_with_time_to_pass() -> Driver:
    """p on node-1 after two crashes (back-off now 2 ticks, last restart at tick 1); node-2 partitioned.

    node-2's pod tolerates the unreachable node for 20 ticks, so the clock can
    advance while p runs.
    """
    sc = scenario(
        bare("p"),
        bare("q", node_name="node-2"),
        nodes=(node("node-1"), node("node-2")),
        budgets={"container-exit": 4, "partition": 1},
        clock_limit=30,
        timing=SLOW_TIMING,
    )
    d = Driver(sc).settle()
    for wait in (0, SLOW_TIMING.backoff_initial):
        exit_container(d, "p", 1)
        assert ticks_until_restartable(d, "p") == wait
        d.do(KL, START, pod="default/p", container="app")
    assert d.state.clock == 1
    d.do(FAULT, "NodePartition", node="node-2")
    return d


def run_until(d: Driver, tick: int) -> Driver:
    while d.state.clock < tick:
        d.settle().tick()
    return d.settle()


def test_a_crash_after_a_long_run_restarts_immediately() -> None:
    """client-go util/flowcontrol/backoff.go IsInBackOffSince: an entry is expired, so no back-off, if finishedAt is > 2 x max after its last update.

    pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff asks
    IsInBackOffSince(key, finishedAt): a container that ran longer than twice
    the maximum back-off since its last restart is restarted at once.
    """
    d = run_until(crash_looping_with_time_to_pass(), 1 + 2 * SLOW_TIMING.backoff_max + 1)
    exit_container(d, "p", 1)
    assert ticks_until_restartable(d, "p") == 0


def test_back_off_reset_is_measured_from_the_exit() -> None:
    """client-go util/flowcontrol/backoff.go Next(key, finishedAt): the back-off resets only if the exit came > 2 x max after the last restart.

    pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff calls
    Next(key, cStatus.FinishedAt). Here the container exits 3 ticks after its
    last restart (not more than 2 x 2), waits out its 2-tick back-off and is
    restarted 5 ticks after the last one: the back-off must stay at 2 (doubled,
    capped), so the next crash waits 2 ticks, not the initial 1.
    """
    d = run_until(crash_looping_with_time_to_pass(), 4)
    exit_container(d, "p", 1)
    assert ticks_until_restartable(d, "p") == 2
    d.do(KL, START, pod="default/p", container="app")
    exit_container(d, "p", 1)
    assert ticks_until_restartable(d, "p") == SLOW_TIMING.backoff_max


# ------------------------------------------------------------ 7 and 8. termination


def test_prestop_runs_before_the_containers_are_killed() -> None:
    """pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer: the preStop hook runs first, the container still running.

    Only then is the container stopped (SIGTERM, exit 0 within the grace period).
    """
    d = Driver(scenario(bare("p", container(pre_stop=True)), budgets={"delete-pod": 1}))
    d.settle()
    d.do(USER, "UserDeletePod", pod="default/p").deliver(KL)
    assert not d.can(KL, "KubeletKillPod", pod="default/p"), "preStop comes first"
    d.do(KL, "KubeletRunPreStop", pod="default/p")
    assert runtime(d, "p").running, "containers run during the hook"
    assert not d.can(KL, "KubeletRunPreStop", pod="default/p"), "the hook runs once"
    d.do(KL, "KubeletKillPod", pod="default/p")
    stopped = runtime(d, "p")
    assert (stopped.running, stopped.exit_code) == (False, 0), "stopped by SIGTERM within the grace period"


def test_without_prestop_the_kill_comes_first() -> None:
    """pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer: no preStop hook, no hook step."""
    d = Driver(scenario(bare("p"), budgets={"delete-pod": 1}))
    d.settle()
    d.do(USER, "UserDeletePod", pod="default/p").deliver(KL)
    assert not d.enabled(KL, "KubeletRunPreStop")
    d.do(KL, "KubeletKillPod", pod="default/p")
    assert not runtime(d, "p").running


@pytest.mark.parametrize(("crash", "phase"), [(None, SUCCEEDED), (1, FAILED)])
def test_graceful_deletion_ends_with_the_kubelet_final_delete(crash: int | None, phase: str) -> None:
    """pkg/registry/core/pod/strategy.go CheckGracefulDelete, pkg/kubelet/status/status_manager.go canBeDeleted/syncPod,
    pkg/kubelet/kubelet_pods.go HandlePodCleanups.

    A user delete only sets deletionTimestamp; the kubelet kills the containers,
    reports the terminal phase (Succeeded when every container exited 0, Failed
    otherwise), then sends DELETE with grace 0; only then is the pod gone, and
    the sandbox is removed once the kubelet sees the deletion.
    """
    d = Driver(scenario(bare("p", grace=3), budgets={"delete-pod": 1, "container-exit": 1}))
    d.settle()
    uid = d.pod("p").meta.uid
    if crash is not None:
        exit_container(d, "p", crash)
    d.do(USER, "UserDeletePod", pod="default/p")
    deleting = d.pod("p")
    assert (deleting.meta.deletion_timestamp, deleting.meta.deletion_grace_period_seconds) == (3, 3)
    assert not d.enabled(KL, "KubeletKillPod"), "the kubelet has not seen the delete"
    d.deliver(KL)
    assert not d.enabled(KL, START), "no restart once the pod is deleted"
    d.do(KL, "KubeletKillPod", pod="default/p")
    assert not d.can(KL, "KubeletDeletePod", pod="default/p"), "the terminal phase is reported first"
    d.do(KL, SYNC, pod="default/p")
    assert d.pod("p").status.phase == phase
    d.do(KL, "KubeletDeletePod", pod="default/p")
    assert "default/p" not in d.state.api.objects.pods
    assert sandbox(d, uid) is not None, "the runtime still has the stopped sandbox"
    assert not d.can(KL, "KubeletCleanupPod", uid=uid)
    d.deliver(KL).do(KL, "KubeletCleanupPod", uid=uid)
    assert sandbox(d, uid) is None


def test_final_delete_carries_the_uid_precondition() -> None:
    """pkg/kubelet/status/status_manager.go syncPod: the final DELETE has Preconditions{UID}, so it cannot remove a new pod of the same name."""
    p = bare("p")
    d = Driver(scenario(budgets={"create": 2, "delete-pod": 1, "force-delete": 1}, user=UserChoices(pods=(p,))))
    d.do(USER, "UserCreate", kind="Pod", name="default/p").settle()
    old_uid = d.pod("p").meta.uid
    d.do(USER, "UserDeletePod", pod="default/p").settle(skip=("KubeletDeletePod",))
    assert d.pod("p").status.phase == SUCCEEDED
    d.do(USER, "UserForceDeletePod", pod="default/p").do(USER, "UserCreate", kind="Pod", name="default/p")
    assert d.pod("p").meta.uid != old_uid
    assert d.state.views[KL].cache.pods["default/p"].meta.uid == old_uid, "the kubelet's view still has the old pod"
    assert not d.can(KL, "KubeletDeletePod", pod="default/p"), "the DELETE fails its precondition (a stutter)"
    d.settle()
    assert d.pod("p").status.phase == RUNNING and d.pod("p").meta.uid != old_uid


# ------------------------------------------------------------ 9. node Lease


def test_lease_is_created_and_renewed_at_the_clock() -> None:
    """pkg/kubelet/nodelease + component-helpers apimachinery/lease/controller.go: the kubelet creates and renews kube-node-lease/<node>.

    A reachable kubelet whose renewal is due holds the clock; a partitioned
    kubelet cannot renew, so its Lease stays old (and does not hold the clock).
    """
    nodes = (node("node-1"), node("node-2"))
    d = Driver(scenario(nodes=nodes, budgets={"partition": 1}, clock_limit=5))
    key = f"{NODE_LEASE_NAMESPACE}/node-1"
    assert key not in d.state.api.objects.leases
    d.do(KL, "KubeletRenewLease")
    lease = d.state.api.objects.leases[key]
    assert (lease.holder, lease.renew_time) == ("node-1", 0)
    assert not d.can(KL, "KubeletRenewLease"), "renewed for this interval"
    d.settle()
    d.do(FAULT, "NodePartition", node="node-2")  # arms the node-monitor grace timer
    d.tick()
    assert d.can(KL, "KubeletRenewLease")
    assert not d.can("clock", "Tick"), "time does not pass a due renewal"
    assert not d.can("kubelet/node-2", "KubeletRenewLease")
    d.do(KL, "KubeletRenewLease")
    assert d.state.api.objects.leases[key].renew_time == 1
    d.deliver("node-lifecycle-controller", ["Lease"])
    assert d.can("clock", "Tick")
    assert d.state.api.objects.leases[f"{NODE_LEASE_NAMESPACE}/node-2"].renew_time == 0


# ------------------------------------------------------------ 10. partition


def test_status_writes_need_the_api_but_containers_keep_running() -> None:
    """pkg/kubelet/status/status_manager.go syncPod: a partitioned kubelet cannot write status.

    The node meanwhile keeps running (and restarting) its containers.
    """
    d = Driver(scenario(bare("p"), budgets={"partition": 1, "container-exit": 1}))
    d.settle()
    d.do(FAULT, "NodePartition", node="node-1")
    exit_container(d, "p", 1).settle()
    assert runtime(d, "p").running and runtime(d, "p").restarts == 1, "the kubelet restarts locally"
    assert cstatus(d, "p").restart_count == 0, "the API did not hear of it"
    assert not d.enabled(KL, SYNC)
    assert not d.enabled(KL, "KubeletRenewLease")
    d.do(FAULT, "NodeHeal", node="node-1")
    assert d.can(KL, SYNC, pod="default/p")
    d.settle()
    assert cstatus(d, "p").restart_count == 1


def test_the_final_delete_waits_for_the_partition_to_heal() -> None:
    """pkg/kubelet/status/status_manager.go syncPod: the final DELETE is an API call too; cut off, the pod stays in the store."""
    d = Driver(scenario(bare("p"), budgets={"partition": 1, "delete-pod": 1}))
    d.settle()
    d.do(USER, "UserDeletePod", pod="default/p").settle(skip=("KubeletDeletePod",))
    assert d.pod("p").status.phase == SUCCEEDED
    d.do(FAULT, "NodePartition", node="node-1")
    assert not d.enabled(KL, "KubeletDeletePod")
    d.do(FAULT, "NodeHeal", node="node-1").do(KL, "KubeletDeletePod", pod="default/p")
    assert "default/p" not in d.state.api.objects.pods


def test_a_partitioned_kubelet_does_not_see_a_delete_and_keeps_running() -> None:
    """pkg/kubelet/kubelet.go syncLoop: the kubelet acts on its watch of the API; cut off from it, the pod's containers keep running."""
    d = Driver(scenario(bare("p"), budgets={"partition": 1, "delete-pod": 1}))
    d.settle()
    d.do(FAULT, "NodePartition", node="node-1").do(USER, "UserDeletePod", pod="default/p")
    assert d.pod("p").meta.deletion_timestamp is not None
    assert not d.enabled(KL, "WatchDeliver") and not d.enabled(KL, "KubeletKillPod")
    d.settle()
    assert runtime(d, "p").running
    uid = d.pod("p").meta.uid
    d.do(FAULT, "NodeHeal", node="node-1").settle()
    assert "default/p" not in d.state.api.objects.pods and sandbox(d, uid) is None


# ------------------------------------------------------------ 11. cleanup of pods the API no longer has


def test_force_deleted_pod_is_cleaned_up_after_the_partition_heals() -> None:
    """pkg/kubelet/kubelet_pods.go HandlePodCleanups: a sandbox whose pod the API no longer has is killed once the kubelet hears of it."""
    d = Driver(scenario(bare("p"), budgets={"partition": 1, "force-delete": 1}))
    d.settle()
    uid = d.pod("p").meta.uid
    d.do(FAULT, "NodePartition", node="node-1").do(USER, "UserForceDeletePod", pod="default/p")
    assert "default/p" not in d.state.api.objects.pods
    d.settle()
    assert runtime_of(d, uid).running, "the machine still runs the force-deleted pod"
    assert not d.enabled(KL, "KubeletCleanupPod")
    d.do(FAULT, "NodeHeal", node="node-1").deliver(KL)
    d.do(KL, "KubeletCleanupPod", uid=uid)
    assert sandbox(d, uid) is None


def runtime_of(d: Driver, uid: int) -> RuntimeContainer:
    sb = sandbox(d, uid)
    assert sb is not None
    return sb.containers["app"]


def test_kubelet_restart_relists_and_cleans_up_but_keeps_running_pods() -> None:
    """pkg/kubelet/kubelet.go (a restarted kubelet lists its pods) + kubelet_pods.go HandlePodCleanups.

    The kubelet restarts before it has seen a force delete: its relist no
    longer has the pod, so its sandbox is cleaned up without any watch event;
    the other pod is admitted again and its running container is left alone.
    """
    d = Driver(scenario(bare("gone"), bare("kept"), budgets={"force-delete": 1, "component-restart": 1}))
    d.settle()
    gone, kept = d.pod("gone").meta.uid, d.pod("kept").meta.uid
    before = runtime_of(d, kept)
    d.do(USER, "UserForceDeletePod", pod="default/gone")
    d.do(FAULT, "ComponentRestart", component=KL)
    assert not d.enabled(KL, "WatchDeliver")
    assert d.memory(KL).admitted == ()  # type: ignore[attr-defined]
    assert d.can(KL, "KubeletCleanupPod", uid=gone)
    assert d.can(KL, "KubeletAdmitPod", pod="default/kept")
    d.settle()
    assert sandbox(d, gone) is None
    assert runtime_of(d, kept) == before, "not restarted"
    assert d.pod("kept").status.phase == RUNNING and d.memory(KL).admitted == (kept,)  # type: ignore[attr-defined]
