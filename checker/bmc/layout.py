"""The finite instance's constants: object slots, kind codes, watches, budgets and the initial watch history."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import attrs
import z3

from checker.bmc.core import NONE, Unrolling
from spec import apiserver as api
from spec import informer, kubelet, scheduler
from spec.component import Context, Watch, node_of
from spec.controllers import nodelifecycle as nlc
from spec.controllers.replicaset import ReplicaSetMemory, pod_from_template
from spec.frozen import replace
from spec.labels import set_matches
from spec.objects import (
    ENDPOINTS,
    LEASE,
    NO_EXECUTE,
    NO_SCHEDULE,
    NODE,
    NODE_LEASE_NAMESPACE,
    POD,
    REPLICASET,
    SERVICE,
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    Node,
    Obj,
    Pod,
    ReplicaSet,
    Resources,
    Service,
    Taint,
)
from spec.state import State, WatchEvent

N = TypeVar("N", int, z3.ArithRef)
E = TypeVar("E", bound=z3.ExprRef)
CLUSTER_IP_PREFIX = "10.96.0."


@attrs.frozen
class Watcher:
    """One watch of one component instance."""

    instance: str
    kind: str
    node: str
    """the node of a per-node instance, else ''"""


@attrs.frozen
class Layout:
    """What the component encodings read besides the frames."""

    ctx: Context
    kinds: dict[str, int]
    """kind name to its code (1, 2, ...; 0 is no write)"""
    services: tuple[str, ...]
    """the keys of every Service that can exist: the initial ones and those the user may create"""
    watchers: tuple[Watcher, ...]
    initial_log: tuple[tuple[int, str], ...]
    """(revision, kind) of each event of the initial state's watch history"""
    revision: int
    """the initial state's store revision"""
    next_uid: int
    """the initial state's next uid"""
    store_history: dict[int, dict[str, int | bool]] | None = attrs.field(factory=dict, kw_only=True)
    """for each revision before the initial one a lagging list may read, where one is encoded (a kubelet's stale relist), the pod slots'
    cells that differ in the history, as of that revision (``apiserver.store_history``); empty elsewhere, None where some status then has
    no codes"""
    service_history: dict[int, dict[str, tuple[bool, int]]]
    """for each revision a lagging list may read before the initial one: each Service slot's (exists, ClusterIP)"""
    up: dict[str, bool]
    """whether each machine is up in the initial state"""
    partitioned: dict[str, bool]
    """whether each machine is partitioned in the initial state"""
    budgets: dict[str, int]
    """the scenario's budgets"""
    namespaces: frozenset[str]
    """the namespaces that exist (constant: none is created or deleted)"""
    pods: tuple[str, ...]
    """the keys of every pod that can exist: the initial ones, then those each ReplicaSet can create (one per uid the run can hand out)"""
    pod_objects: dict[str, Pod]
    """each pod slot's object as it is (initial) or would be created, apart from its resourceVersion and deletion"""
    generated: dict[str, str]
    """a ReplicaSet's pod slot: the ReplicaSet's key"""
    first_create: int
    """the first frame a ReplicaSet's pod can exist in: 1 where a sync is in progress at the start, else 2 (a ReplicaSetSync, then the
    ReplicaSetWrite that creates it)"""
    user_pods: tuple[str, ...]
    """the pods the user may create (their uid is a cell: the API server hands it out at the create)"""
    prefixes: dict[str, str]
    """each machine's pod CIDR prefix"""
    images: tuple[str, ...]
    """every image a machine may hold: those it holds and those of every pod slot's containers"""
    kubelet_nodes: dict[str, Node]
    """each kubelet's Node as its cache holds it (constant: no Node write is encoded)"""
    stored_nodes: dict[str, Node]
    """each Node as the store holds it (constant likewise)"""
    replicasets: tuple[str, ...]
    """the keys of the initial ReplicaSets"""
    rs_objects: dict[str, ReplicaSet]
    """each ReplicaSet as the initial state holds it"""
    clock: int
    """the clock (constant: ticks are not encoded)"""
    initial_events: dict[int, tuple[str, str]]
    """the initial history's events: revision to (kind, key; a pod's slot)"""
    nodes: tuple[str, ...]
    """the stored Nodes' names; a pod's node cell holds 0 for none, else 1 + the index here"""
    dynamic: frozenset[str]
    """the pod slots whose node may change: the unbound ones (and every one where pods/binding rebinds)"""
    initial_selected: dict[str, frozenset[int]]
    """for each filtered watch (``instance/kind``), the revisions of the initial history's events it selects"""
    schedulers: tuple[str, ...]
    """the scheduler instances"""
    fit_errors: dict[str, dict[str, int]]
    """for each unbound pod slot, the scheduler's FitError messages it can carry, to their codes (see :func:`fit_error_code`)"""
    unwritten: frozenset[str]
    """the pod slots whose status no encoded action can change: created too late in the bound for their kubelet to write one, or steady
    (see :func:`_steady`)"""
    deletable: frozenset[str]
    """the pod slots an encoded action can mark deleting or remove (see :func:`_deletable`)"""
    status_slots: frozenset[str]
    """the pod slots whose status the kubelet's status manager writes here (see :func:`_status_slots`); the others' status is constant"""
    rejections: dict[str, tuple[tuple[str, str], ...]]
    """for each status slot, every (reason, message) its kubelet's admission can reject it with; a rejection's code is its index + 1"""
    rejection_codes: dict[str, dict[tuple[str, str, int], int]]
    """for each status slot, the code of the rejection for each node, reason and the usage it names (0 for a reason without one)"""
    crashable: bool
    """machines may crash and restart (the node-crash budget): whether each is up is a cell"""
    clocked: bool
    """the clock may advance (the scenario's clock limit): the clock is a cell"""
    clock_limit: int
    """the scenario's clock limit"""
    partitionable: bool
    """machines may be partitioned (the partition budget): whether each is partitioned is a cell"""
    heartbeats: bool
    """the clock may advance and the heartbeats are encodable (:func:`_heartbeats`): Nodes (Ready, managed taints) and Leases are cells"""
    failing: bool
    """the heartbeats are encoded and some Node may lose its Ready condition in the run (:func:`_failing`)"""
    node_taints: bool
    """the heartbeats are encoded and no Node starts with a taint of the node lifecycle controller: the scheduler reads those taints off
    its cached Nodes' cells (its Node deliveries are encoded), in the order ``TAINT_ORDER``"""
    quiet: bool
    """the clock stands still and no Node can be written (:func:`_quiet`): the Leases are cells (each may be created), the Nodes constants"""
    leases: dict[str, str]
    """each node's Lease key (in kube-node-lease)"""
    service_objects: dict[str, Service]
    """each Service slot's object, as it is (initial) or would be created"""
    addresses: dict[str, tuple[str, ...]] | None
    """for each Service slot, the pod slots whose address its Endpoints can list; None where Endpoints are not encodable
    (see :func:`_addresses`)"""
    pod_ips: dict[int, int]
    """the codes of every pod IP a sandbox can hold in the run, each with the first frame it can (see :func:`_pod_ips`)"""
    shows_ip_from: dict[str, int]
    """for each pod slot whose status can show an IP in the run, the first frame it can (``STATUS_LEAD`` after its creation; 0 for an
    initial pod)"""

    def node_code(self, name: str) -> int:
        """A node name as a pod's node cell holds it (0 for none)."""
        return self.nodes.index(name) + 1 if name else 0

    def node_name(self, code: int) -> str:
        """The node name of a node code."""
        return self.nodes[code - 1] if code else ""

    def can_be_on(self, key: str, node: str) -> bool:
        """The pod of slot ``key`` may be bound to ``node`` in some run."""
        return key in self.dynamic or self.pod_objects[key].spec.node_name == node

    def born(self, key: str) -> int:
        """The first frame in which the pod of slot ``key`` can exist: 0 for an initial pod, 1 for the user's; for the j-th next uid, 1 + j
        (a step hands out at most one uid) and not before ``first_create``."""
        if key in self.generated:
            return max(self.pod_objects[key].meta.uid - self.next_uid + 1, self.first_create)
        return 1 if key in self.user_pods else 0

    def after(self, key: str, steps: int) -> int:
        """The first frame an action of pod slot ``key`` can be enabled in if it needs ``steps`` steps after the pod's creation (see
        ``STATUS_LEAD``); 0 for an initial pod, which may be at any stage."""
        born = self.born(key)
        return born + steps if born else 0

    def lead(self, key: str) -> int:
        """``STATUS_LEAD`` of pod slot ``key``: bound at creation or not."""
        return STATUS_LEAD[bool(self.pod_objects[key].spec.node_name)]

    def lives(self, key: str) -> tuple[str, ...]:
        """The pod slots of pod key ``key``: one, or where the user may create a pod of an initial pod's name, each life's (:func:`pod_key`)."""
        return tuple(slot for slot in self.pods if pod_key(slot) == key)

    def pod_slot(self, key: str, uid: int) -> str:
        """The slot of the pod of ``key`` and ``uid``: the key's one slot, or the life whose uid it is (a later life's, the user's, is a cell:
        any uid but the earlier lives')."""
        lives = self.lives(key)
        fixed = [slot for slot in lives if slot not in self.user_pods and self.pod_objects[slot].meta.uid == uid]
        if len(lives) < 2:
            return lives[0] if lives else key
        return (fixed or [slot for slot in lives if slot in self.user_pods])[0]

    def stored(self, pods: Mapping[str, Pod], slot: str) -> Pod | None:
        """The pod of ``slot`` in ``pods`` (the store's, or a cache's, by key): the pod of its key where that is its life."""
        pod = pods.get(pod_key(slot))
        return pod if pod is not None and self.pod_slot(pod.meta.key, pod.meta.uid) == slot else None

    def slot(self, kind: str, key: str) -> int:
        """The code of an object slot in the history cells (1, 2, ... within its kind; 0 for an object without a slot)."""
        keys = {SERVICE: self.services, ENDPOINTS: self.services, POD: self.pods, REPLICASET: self.replicasets, NODE: self.nodes}.get(kind, ())
        keys = self.lease_keys if kind == LEASE else keys
        return keys.index(key) + 1 if key in keys else 0

    def filtered(self, w: Watcher) -> bool:
        """The watch has a selector (its selection of each event is a history cell)."""
        return f"{w.instance}/{w.kind}" in self.initial_selected

    @property
    def ticks(self) -> range:
        """The clock's values the run can reach: from the initial tick to the limit where the clock runs, else the initial tick alone."""
        return range(self.clock, max(self.clock, self.clock_limit) + 1 if self.clocked else self.clock + 1)

    @property
    def renews(self) -> bool:
        """The kubelets' Lease renewals are encoded (with the clock running or standing still): each kubelet's last renewal is a cell."""
        return self.heartbeats or self.quiet

    @property
    def lease_keys(self) -> tuple[str, ...]:
        """The Lease keys in the order of ``nodes`` (a Lease's slot is its node's)."""
        return tuple(self.leases.get(n, "") for n in self.nodes)

    @property
    def window(self) -> int:
        """The watch cache's window in revisions."""
        return self.ctx.scenario.bounds.watch_cache_window

    def watching(self, kind: str) -> tuple[Watcher, ...]:
        """The watches of ``kind``."""
        return tuple(w for w in self.watchers if w.kind == kind)

    def pod_ip_code(self, ip: str) -> int | None:
        """A pod IP as a number: "" is NONE, ``<prefix of machine m>.n`` is 1000 * m's node code + n; None for any other address."""
        if not ip:
            return NONE
        for machine, prefix in self.prefixes.items():
            n = ip.removeprefix(prefix + ".")
            if n != ip and n.isdigit() and machine in self.nodes:
                return 1000 * self.node_code(machine) + int(n)
        return None


LIFE = "#"
"""what joins a pod key and the number of a later life of it in that life's slot (``default/db-0#2``: it sorts right after the key)"""


def pod_key(slot: str) -> str:
    """The pod key of a pod slot: its name, less the ``#<n>`` of a later life of the name (``Layout.lives``)."""
    return slot.partition(LIFE)[0]


def up_cell(node: str) -> str:
    """The cell that says whether a machine is up (declared where machines may crash)."""
    return f"m/{node}/up"


def machine_up(u: Unrolling, t: int, node: str) -> z3.BoolRef:
    """Whether the machine is up in frame t: a cell where machines may crash, else the initial state's constant."""
    layout = layout_of(u)
    return u[t][up_cell(node)] if layout.crashable else z3.BoolVal(layout.up[node])


def partitioned_cell(node: str) -> str:
    """The cell that says whether a machine is partitioned from the API server (declared where partitions may happen)."""
    return f"m/{node}/partitioned"


def reachable(u: Unrolling, t: int, node: str) -> z3.BoolRef:
    """Machine.reachable in frame t: up and not partitioned."""
    layout = layout_of(u)
    cut = u[t][partitioned_cell(node)] if layout.partitionable else z3.BoolVal(layout.partitioned[node])
    return z3.And(machine_up(u, t, node), z3.Not(cut))


def clock(u: Unrolling, t: int) -> z3.ArithRef:
    """The clock in frame t: a cell where it may advance, else the initial state's constant."""
    layout = layout_of(u)
    return u[t]["clock"] if layout.clocked else z3.IntVal(layout.clock)


def by_tick(u: Unrolling, t: int, terms: dict[int, E]) -> E:
    """The term of the clock's value in frame t, from one per tick of ``layout.ticks``: that term where they are all the same one."""
    layout = layout_of(u)
    out = terms[layout.clock]
    if all(term.eq(out) for term in terms.values()):
        return out
    now = clock(u, t)
    for tick, term in terms.items():
        out = z3.If(now == tick, term, out)
    return out


def layout_of(u: Unrolling) -> Layout:
    """The layout an unrolling of the Kubernetes encoding carries as its context."""
    assert isinstance(u.context, Layout)
    return u.context


def ip_code(ip: str) -> int | None:
    """A ClusterIP as a number: ``10.96.0.n`` is n, "" is NONE; any other address has no code (None)."""
    if not ip:
        return NONE
    if ip.startswith(CLUSTER_IP_PREFIX) and ip[len(CLUSTER_IP_PREFIX) :].isdigit():
        return int(ip[len(CLUSTER_IP_PREFIX) :])
    return None


def service_fields(svc: Service | None) -> tuple[bool, int]:
    """(exists, ClusterIP code) of a Service slot."""
    if svc is None:
        return False, NONE
    code = ip_code(svc.spec.cluster_ip)
    assert code is not None, f"ClusterIP {svc.spec.cluster_ip!r} has no code"
    return True, code


def unmanaged(node: Node) -> Node:
    """The Node without the node lifecycle controller's taints (where they are cells, the rest of its taints are constants)."""
    return replace(node, spec=replace(node.spec, taints=tuple(t for t in node.spec.taints if t.key not in nlc.MANAGED_TAINTS)))


def static_reasons(pod: Pod, node: Node, node_taints: bool = False) -> list[str]:
    """The Filter reasons of ``pod`` on ``node`` that do not depend on the node's usage (spec.scheduler.filter_reasons); with
    ``node_taints`` (``Layout.node_taints``), nor on the node lifecycle controller's taints, which are cells then."""
    if node_taints:
        node = unmanaged(node)
    return [r for r in scheduler.filter_reasons(pod, node, []) if r not in scheduler.FIT_REASONS]


TAINT_ORDER = (TAINT_UNSCHEDULABLE, TAINT_UNREACHABLE, TAINT_NOT_READY)
"""the keys of the node lifecycle controller's taints in the order they stand on a Node that started with none of them: the unschedulable
taint comes with the first write (nlc.desired_taints lists it first, and keeps it while spec.unschedulable, a constant, says so), and
the other two never stand together (one Ready condition calls for one of them)"""


def taint_keys(pod: Pod, nodes: Sequence[Node]) -> tuple[str, ...]:
    """The keys of ``TAINT_ORDER`` whose taints may stand on one of ``nodes`` untolerated by ``pod`` (the unschedulable taint only on an
    unschedulable node): the TaintToleration reasons the scheduler's cycles read off the cached Nodes' taint cells."""
    out = []
    for key in TAINT_ORDER:
        effects = [effect for k, effect in MANAGED_TAINTS if k == key]
        possible = key != TAINT_UNSCHEDULABLE or any(n.spec.unschedulable for n in nodes)
        if possible and any(scheduler.untolerated(pod, Taint(key=key, effect=effect)) for effect in effects):
            out.append(key)
    return tuple(out)


def fit_error_code(nodes: int, counts: Sequence[N]) -> N:
    """The code of a FitError, from how many nodes fail on each of spec.scheduler.FIT_REASONS, and where the scheduler reads the
    node lifecycle controller's taints, on each of the pod's ``taint_keys`` (numbers, or Z3 terms).

    The other reasons are constants of the pod, so the counts determine the message.
    """
    code = counts[0]
    for c in counts[1:]:
        code = code * (nodes + 1) + c
    return code + 1


def _fit_errors(pod: Pod, nodes: list[Node], node_taints: bool) -> dict[str, int]:
    """Every FitError the scheduler can record for ``pod``, by its code (spec.scheduler.fit_error; with no nodes, the one error that says so)."""
    if not nodes:
        return {scheduler.NO_NODES: fit_error_code(0, [0])}
    statics = [static_reasons(pod, node, node_taints) for node in nodes]
    keys = taint_keys(pod, nodes) if node_taints else ()
    reasons = [*scheduler.FIT_REASONS, *(scheduler.taint_reason(Taint(key=key, effect=NO_SCHEDULE)) for key in keys)]
    out: dict[str, int] = {}
    for counts in itertools.product(range(len(nodes) + 1), repeat=len(reasons)):
        dynamic = [[reason] for reason, c in zip(reasons, counts, strict=True) for _ in range(c)]
        out[scheduler.fit_error(len(nodes), statics + dynamic)] = fit_error_code(len(nodes), counts)
    return out


def _generated(ctx: Context, initial: State, depth: int) -> dict[str, Pod]:
    """The pods each ReplicaSet can create in ``depth`` steps, as the API server would create them (spec.apiserver.create)."""
    out: dict[str, Pod] = {}
    for rs in initial.api.objects.replicasets.values():
        for uid in range(initial.api.next_uid, initial.api.next_uid + depth):
            s = replace(initial, api=replace(initial.api, next_uid=uid))
            created = api.create(ctx, s, pod_from_template(rs)).obj
            if isinstance(created, Pod) and created.meta.key not in initial.api.objects.pods:
                out[created.meta.key] = created
    return out


STATUS_LEAD = {True: 3, False: 6}
"""the fewest steps from a pod's creation to a status write of its kubelet, bound at creation or not: the scheduler's watch delivery, its
cycle and its Binding for an unbound pod; then the kubelet's delivery, its admission and the write (so the admission can come
``STATUS_LEAD - 2`` steps after the creation, a container start or status write ``- 1``, a probe or container fault ``STATUS_LEAD``)"""


def _status_slots(pods: dict[str, Pod], unwritten: frozenset[str]) -> frozenset[str]:
    """The pod slots whose status may change in the encoded runs: those not ``unwritten``."""
    return frozenset(key for key in pods if key not in unwritten)


def _failing(ctx: Context, initial: State) -> bool:
    """Some Node may lose its Ready condition in the run: one is not Ready at the start, or the node lifecycle controller's grace period
    for one can run out before the clock's limit (its probe timestamp, or the clock where it has none yet, plus the grace period).

    Only NodeLifecycleMarkUnknown takes Ready from True (no kubelet posts
    Ready=False here), and a probe timestamp only grows; so where this is
    false no node is ever tainted NoExecute, no pod is evicted and
    MarkPodsNotReady queues none.
    """
    grace, nodes = ctx.timing.node_monitor_grace, initial.api.objects.nodes
    if any(n.status.ready != "True" for n in nodes.values()):
        return True
    for inst, ctype in ctx.components:
        if ctype.kind == nlc.NAME:
            health = initial.views[inst].memory.health
            probes = [health[name].probe_timestamp if name in health else initial.clock for name in nodes]
            return any(probe + grace < ctx.scenario.bounds.clock_limit for probe in probes)
    return False


def _deletable(ctx: Context, pods: dict[str, Pod], failing: bool) -> frozenset[str]:
    """The pod slots an encoded action may delete: every one with the user's delete-pod budget; a ReplicaSet's pods (its controller deletes
    surplus ones, and must not be assumed never to overshoot); where a Node may lose its Ready condition (``failing``: the heartbeats are
    encoded and :func:`_failing`), a pod that does not tolerate the node lifecycle controller's NoExecute taints forever (taint
    eviction).

    A later life of a name (:func:`_relivable`) needs each earlier one gone, and only the user deletes those (nothing else can, where a
    name has lives), so the n-th life is deletable only with a budget of n deletes.
    """
    budget = ctx.scenario.bounds.budgets.get("delete-pod", 0)
    if budget > 0:
        return frozenset(slot for slot in pods if sum(pod_key(other) == pod_key(slot) for other in pods if other < slot) < budget)
    execute = [Taint(key=key, effect=effect) for key, effect in MANAGED_TAINTS if effect == NO_EXECUTE]

    def evictable(pod: Pod) -> bool:
        return failing and not all(any(t.tolerates(x) and t.toleration_seconds is None for t in pod.spec.tolerations) for x in execute)

    return frozenset(key for key, p in pods.items() if p.meta.controller_ref() is not None or evictable(p))


def _steady(ctx: Context, initial: State, pod: Pod, deletable: frozenset[str], failing: bool) -> bool:
    """An initial pod whose status no encoded action changes: admitted, its containers running, its status the one its kubelet generates.

    Where no container exits or stops answering its probes, no machine
    crashes, nothing can delete the pod (its termination would end its
    containers) and every readiness probe's last result is the container's
    health, nothing the encoding runs changes what the status manager
    generates for such a pod. Where a Node may lose its Ready condition
    (``failing``), the node lifecycle controller's MarkPodNotReady may write
    any Ready pod's status, so no pod is steady there.
    """
    if pod.meta.key in deletable or failing:
        return False
    budgets = ctx.scenario.bounds.budgets
    node, me = pod.spec.node_name, f"{kubelet.NAME}/{pod.spec.node_name}"
    faults = ("container-exit", "container-unhealthy", "node-crash")
    if any(budgets.get(fault, 0) > 0 for fault in faults) or me not in initial.views or node not in initial.machines:
        return False
    memory = initial.views[me].memory
    sandbox = initial.machines[node].sandboxes.get(pod.meta.uid)
    if not isinstance(memory, kubelet.KubeletMemory) or pod.meta.uid not in memory.admitted or pod.meta.key in memory.written or sandbox is None:
        return False
    running = all((rc := sandbox.containers.get(c.name)) is not None and rc.running for c in pod.spec.containers)
    probed = running and all(
        not c.readiness_probe or memory.probes.get(f"{pod.meta.uid}/{c.name}", False) == sandbox.containers[c.name].healthy
        for c in pod.spec.containers
    )
    cached = initial.views[me].cache.pods.get(pod.meta.key) == pod
    return probed and cached and kubelet.desired_status(ctx, initial, me, pod) == pod.status


def _late(pods: dict[str, Pod], born: dict[str, int], depth: int) -> frozenset[str]:
    """The pod slots created too late in runs of ``depth`` steps for their kubelet to write a status (``STATUS_LEAD``)."""
    return frozenset(key for key, when in born.items() if when + STATUS_LEAD[bool(pods[key].spec.node_name)] > depth)


def _rejections(initial: State, pods: dict[str, Pod], key: str, heartbeats: bool) -> dict[tuple[str, str, int], tuple[str, str]]:
    """Every rejection the kubelet's admission can give slot ``key`` on each node it may be bound to, beside any set of that node's other pods.

    Keyed by the node, the reason and the usage its message names (0 for
    node affinity and taints). With ``heartbeats``, the node may also carry a
    NoExecute taint of the node lifecycle controller.
    """
    pod = pods[key]
    out: dict[tuple[str, str, int], tuple[str, str]] = {}
    for name in [pod.spec.node_name] if pod.spec.node_name else sorted(initial.api.objects.nodes):
        stored = initial.api.objects.nodes.get(name)
        if stored is None:
            continue
        nodes = [stored]
        if heartbeats:
            for taint, effect in MANAGED_TAINTS:
                if effect == NO_EXECUTE:
                    tainted = (*stored.spec.taints, Taint(key=taint, effect=effect, time_added=0))
                    nodes.append(replace(stored, spec=replace(stored.spec, taints=tainted)))
        usages = {(0, Resources())}
        for k, other in pods.items():
            if k != key and other.spec.node_name in ("", name):
                usages |= {(count + 1, used + other.spec.requests()) for count, used in usages}
        for node, (count, used) in itertools.product(nodes, sorted(usages, key=lambda u: (u[0], u[1].cpu, u[1].memory))):
            failure = kubelet.usage_failure(pod, node, count, used)
            if failure is not None:
                amount = {"OutOfpods": count, "OutOfcpu": used.cpu, "OutOfmemory": used.memory}.get(failure[0], 0)
                out[name, failure[0], amount] = failure
    return out


def _rejection_tables(
    initial: State, pods: dict[str, Pod], slots: frozenset[str], heartbeats: bool
) -> tuple[dict[str, tuple[tuple[str, str], ...]], dict[str, dict[tuple[str, str, int], int]]]:
    """For each status slot: its rejections, sorted, and the code of each by (reason, usage)."""
    messages: dict[str, tuple[tuple[str, str], ...]] = {}
    codes: dict[str, dict[tuple[str, str, int], int]] = {}
    for key in sorted(slots):
        found = _rejections(initial, pods, key, heartbeats)
        messages[key] = tuple(sorted(set(found.values())))
        codes[key] = {by: messages[key].index(failure) + 1 for by, failure in sorted(found.items())}
    return messages, codes


def _selected(initial: State, instance: str, watch: Watch) -> frozenset[int]:
    """The revisions of the initial history's events the instance's filtered watch selects."""
    log = initial.channels.log
    return frozenset(ev.revision for ev in log if ev.kind == watch.kind and informer.event_type(watch.selects, node_of(instance), ev))


MANAGED_TAINTS = (
    (TAINT_UNREACHABLE, NO_SCHEDULE),
    (TAINT_UNREACHABLE, NO_EXECUTE),
    (TAINT_NOT_READY, NO_SCHEDULE),
    (TAINT_NOT_READY, NO_EXECUTE),
    (TAINT_UNSCHEDULABLE, NO_SCHEDULE),
)
"""the (key, effect) of each taint the node lifecycle controller manages (nodelifecycle.desired_taints), as a Node's taint cells index them"""
READY = ("True", "False", "Unknown")
"""a Node's Ready condition status, as its cell codes it"""
READY_REASONS = ("KubeletReady", "NodeStatusUnknown")
"""the Ready condition's reasons the encoded writes give"""


def _heartbeats(ctx: Context, initial: State) -> bool:
    """The clock may advance and the heartbeats are encodable: each node has a Lease, a Ready condition and reason with codes, no NoExecute taint.

    (The NoExecute taints, which the kubelet's admission and the taint
    eviction controller read, are then all the node lifecycle controller's,
    whose cells say where they are.)
    """
    if ctx.scenario.bounds.clock_limit <= 0 or not any(ctype.kind == nlc.NAME for _, ctype in ctx.components):
        return False
    holders = {lease.holder for lease in initial.api.objects.leases.values()}
    for name, node in initial.api.objects.nodes.items():
        managed = [(t.key, t.effect) for t in node.spec.taints if t.key in nlc.MANAGED_TAINTS]
        if name not in holders or node.status.ready not in READY or node.status.ready_reason not in READY_REASONS:
            return False
        if any(t.effect == NO_EXECUTE for t in node.spec.taints) or not set(managed) <= set(MANAGED_TAINTS) or len(set(managed)) != len(managed):
            return False
    return set(initial.machines) <= set(initial.api.objects.nodes)


def _quiet(ctx: Context, initial: State) -> bool:
    """The clock stands still and no Node is ever written: only the kubelets' first Lease renewals and the deliveries of Leases and pods
    to the node lifecycle and taint eviction controllers can happen of their part of the model.

    Every Node is Ready=True in the store and, with no Node event pending,
    in every cache, so no kubelet posts a status (KubeletPostNodeStatus
    needs a cached Node not Ready); the node lifecycle controller has no
    pod queued, every probe timestamp it holds is within the grace period
    of the clock that does not move (an event's probe is the clock), and
    every node carries the managed taints its conditions call for, so it
    never marks a node Unknown, a pod not ready or taints a node; with no
    NoExecute taint the taint eviction controller never evicts. Nothing then
    writes a Node, so every Node watch's delivery is impossible too. Each
    existing Lease is its node's (``kube-node-lease/<node>``).
    """
    if ctx.scenario.bounds.clock_limit > 0:
        return False
    nodes = initial.api.objects.nodes
    if any(n.status.ready != "True" or any(t.effect == NO_EXECUTE for t in n.spec.taints) for n in nodes.values()):
        return False
    for inst, w in ctx.watchers:
        cache = initial.views[inst].cache.nodes
        if w.kind == NODE and (NODE in initial.channels.cursors.get(inst, {}) or any(nodes.get(k) != n for k, n in cache.items())):
            return False
    if any(key != f"{NODE_LEASE_NAMESPACE}/{lease.holder}" or lease.holder not in nodes for key, lease in initial.api.objects.leases.items()):
        return False
    for inst, ctype in ctx.components:
        if ctype.kind != nlc.NAME:
            continue
        memory: nlc.NodeLifecycleMemory = initial.views[inst].memory
        expired = any(h.probe_timestamp + ctx.timing.node_monitor_grace < initial.clock for h in memory.health.values())
        if memory.mark_not_ready or expired:
            return False
        if any(nlc.taint_keys(nlc.desired_taints(n, False, initial.clock)) != nlc.taint_keys(n.spec.taints) for n in nodes.values()):
            return False
    return True


def _service_objects(ctx: Context, initial: State) -> dict[str, Service] | None:
    """Each Service slot's object: the initial one or the user's (None where a slot would hold two different Services)."""
    out: dict[str, Service] = dict(initial.api.objects.services.items())
    for svc in ctx.scenario.user.services:
        known = out.setdefault(svc.meta.key, svc)
        if known.spec != svc.spec or known.meta.labels != svc.meta.labels:
            return None
    return dict(sorted(out.items()))


def _pod_ips(
    initial: State, pods: dict[str, Pod], dynamic: frozenset[str], sandbox_from: dict[str, int], code: Callable[[str], int | None]
) -> dict[int, int] | None:
    """The codes of every IP a sandbox can hold in the run, each with the first frame it can; None where one has no code.

    Machine.free_ip hands out the lowest address from .2 no sandbox holds, so
    a machine holds ``.k`` only while k - 1 sandboxes exist there, each of a
    pod slot that may be bound to it (from frame ``sandbox_from``) or an
    initial one (from frame 0); and the initial sandboxes' addresses.
    """
    out: dict[int | None, int] = {}
    for name, machine in sorted(initial.machines.items()):
        slots = {key: when for key, when in sandbox_from.items() if key in dynamic or pods[key].spec.node_name == name}
        frames = sorted([0] * sum(1 for sb in machine.sandboxes.values() if sb.pod not in slots) + list(slots.values()))
        out |= {code(f"{machine.pod_cidr_prefix}.{k}"): when for k, when in enumerate(frames, start=2)}
        out |= {code(sandbox.ip): 0 for sandbox in machine.sandboxes.values() if sandbox.ip}
    if None in out:
        return None
    return {c: when for c, when in sorted(out.items()) if c is not None}


def _addresses(
    initial: State,
    services: dict[str, Service] | None,
    pods: dict[str, Pod],
    shown: frozenset[str],
    user: Sequence[str],
    ips: dict[int, int] | None,
    code: Callable[[str], int | None],
) -> dict[str, tuple[str, ...]] | None:
    """For each Service slot, the pod slots its Endpoints can list; None where the encoding cannot say.

    An address is a pod's IP, node and uid: the Endpoints hold each listed
    slot's IP and node as cells, and its uid is the slot's. So the Endpoints
    (and kube-proxy's backends, a count per pod IP) are encoded where no pod
    a Service selects is the user's (its uid is a cell), every pod IP has a
    code (``ips``), no Service is of type NodePort, and the initial Endpoints
    and rules are made of those slots and IPs. Only the slots that can show
    an IP in the run (``shown``) are listed.
    """
    if services is None or ips is None or any(s.spec.type == "NodePort" or any(p.node_port for p in s.spec.ports) for s in services.values()):
        return None
    out: dict[str, tuple[str, ...]] = {}
    for key, svc in services.items():
        selected = [
            pkey
            for pkey, pod in pods.items()
            if svc.spec.selector is not None and pod.meta.namespace == svc.meta.namespace and set_matches(svc.spec.selector, pod.meta.labels)
        ]
        if any(pkey in user for pkey in selected):
            return None
        out[key] = tuple(pkey for pkey in selected if pkey in shown)
    if not set(initial.api.objects.endpoints) <= set(services):
        return None
    for key, eps in initial.api.objects.endpoints.items():
        listed = [*eps.addresses, *eps.not_ready_addresses]
        if any(a.pod not in out[key] or a.uid != pods[a.pod].meta.uid or code(a.ip) not in ips for a in listed):
            return None
    keys = {f"{key}:{p.port}" for key, svc in services.items() for p in svc.spec.ports}
    rules = [(key, rule) for m in initial.machines.values() for key, rule in m.proxy_rules.items()]
    backends = [code(backend.rpartition(":")[0]) for _, rule in rules for backend in rule.backends]
    return out if all(key in keys and ip_code(rule.cluster_ip) is not None for key, rule in rules) and set(backends) <= set(ips) else None


def _user_pods(ctx: Context, initial: State, heartbeats: bool) -> dict[str, Pod]:
    """The pods the user may create, as the API server would create them, by slot: a pod's key, or where an initial pod has that key and
    :func:`_relivable`, the key's second life (``<key>#2``: created once the initial pod is gone)."""
    out: dict[str, Pod] = {}
    for p in ctx.scenario.user.pods:
        key, before = p.meta.key, initial
        if key in initial.api.objects.pods:
            if not _relivable(ctx, initial, p, heartbeats):
                continue
            before = replace(initial, api=replace(initial.api, objects=initial.api.objects.drop(POD, key)))
        created = api.create(ctx, before, p).obj
        if isinstance(created, Pod):
            out[key if before is initial else f"{key}{LIFE}2"] = created
    return out


def _relivable(ctx: Context, initial: State, pod: Pod, heartbeats: bool) -> bool:
    """The user's pod of an initial pod's name is encoded as a second life of the name in a slot of its own: where both are bound at
    creation, to different machines (so each kubelet knows one life of the name: it keys its memory by name), and nothing else keys pods
    by name: no ReplicaSet or Service can exist, the node lifecycle controller's MarkPodsNotReady queue does not (no heartbeats), pods/binding
    does not rebind, the scheduler's cache loses no deletion."""
    old = initial.api.objects.pods[pod.meta.key]
    user = ctx.scenario.user
    if heartbeats or ctx.flag(api.REBIND) or ctx.flag(scheduler.MISSED_DELETE) or initial.api.objects.replicasets or user.replicasets:
        return False
    if initial.api.objects.services or user.services:
        return False
    return bool(pod.spec.node_name and old.spec.node_name) and pod.spec.node_name != old.spec.node_name


def build_layout(ctx: Context, initial: State, depth: int = 0) -> Layout:
    """The constants of the scenario's finite instance, for runs of up to ``depth`` steps."""
    kinds = sorted({w.kind for _, w in ctx.watchers} | {SERVICE})
    services = sorted(set(initial.api.objects.services) | {s.meta.key for s in ctx.scenario.user.services})
    watchers = tuple(Watcher(inst, w.kind, node_of(inst) if ctx.type_of(inst).per_node else "") for inst, w in ctx.watchers)
    oldest = informer.oldest_listable(ctx, initial)
    generated = _generated(ctx, initial, depth)
    heartbeats = _heartbeats(ctx, initial)
    user_pods = _user_pods(ctx, initial, heartbeats)
    pods = {**dict(initial.api.objects.pods.items()), **user_pods, **generated}
    images = {i for m in initial.machines.values() for i in m.images} | {c.image for p in pods.values() for c in p.spec.containers}
    history = {
        r: {key: service_fields(informer.store_at(initial, SERVICE, r).get(key)) for key in services} for r in range(oldest, initial.api.revision)
    }
    first_create = 1 if any(isinstance(v.memory, ReplicaSetMemory) and v.memory.syncs for v in initial.views.values()) else 2
    born = dict.fromkeys(user_pods, 1) | {key: max(p.meta.uid - initial.api.next_uid + 1, first_create) for key, p in generated.items()}
    node_taints = heartbeats and not any(t.key in nlc.MANAGED_TAINTS for n in initial.api.objects.nodes.values() for t in n.spec.taints)
    quiet = _quiet(ctx, initial)
    leases = {lease.holder: key for key, lease in sorted(initial.api.objects.leases.items())}
    leases |= {n: f"{NODE_LEASE_NAMESPACE}/{n}" for n in sorted(initial.api.objects.nodes) if n not in leases} if quiet else {}
    failing = heartbeats and _failing(ctx, initial)
    deletable = _deletable(ctx, pods, failing)
    unwritten = _late(pods, born, depth) | {key for key, p in initial.api.objects.pods.items() if _steady(ctx, initial, p, deletable, failing)}
    status = _status_slots(pods, unwritten)
    dynamic = frozenset(key for key, p in pods.items() if not p.spec.node_name or ctx.flag(api.REBIND))
    shown = frozenset(key for key, p in pods.items() if key in status or p.status.pod_ip)
    service_objects = _service_objects(ctx, initial)
    rejections, rejection_codes = _rejection_tables(initial, pods, status, heartbeats)
    layout = Layout(
        ctx=ctx,
        kinds={k: i + 1 for i, k in enumerate(kinds)},
        services=tuple(services),
        watchers=watchers,
        initial_log=tuple((ev.revision, ev.kind) for ev in initial.channels.log),
        revision=initial.api.revision,
        next_uid=initial.api.next_uid,
        service_history=history,
        up={name: m.up for name, m in sorted(initial.machines.items())},
        budgets=dict(sorted(ctx.scenario.bounds.budgets.items())),
        namespaces=frozenset(initial.api.objects.namespaces),
        pods=tuple(pods),
        pod_objects=pods,
        generated={key: f"{p.meta.namespace}/{ref.name}" for key, p in generated.items() if (ref := p.meta.controller_ref()) is not None},
        first_create=first_create,
        user_pods=tuple(user_pods),
        prefixes={name: m.pod_cidr_prefix for name, m in sorted(initial.machines.items())},
        images=tuple(sorted(images)),
        stored_nodes=dict(initial.api.objects.nodes.items()),
        kubelet_nodes={
            n: node
            for n in initial.machines
            if f"kubelet/{n}" in initial.views and (node := initial.views[f"kubelet/{n}"].cache.nodes.get(n)) is not None
        },
        replicasets=tuple(initial.api.objects.replicasets),
        rs_objects=dict(initial.api.objects.replicasets.items()),
        clock=initial.clock,
        initial_events={},
        nodes=tuple(sorted(initial.api.objects.nodes)),
        dynamic=dynamic,
        initial_selected={f"{inst}/{w.kind}": _selected(initial, inst, w) for inst, w in ctx.watchers if w.selects is not None},
        fit_errors={key: _fit_errors(p, list(initial.api.objects.nodes.values()), node_taints) for key, p in pods.items() if not p.spec.node_name},
        schedulers=tuple(inst for inst, ctype in ctx.components if ctype.kind == "scheduler"),
        unwritten=unwritten,
        deletable=deletable,
        status_slots=status,
        rejections=rejections,
        rejection_codes=rejection_codes,
        crashable=ctx.scenario.bounds.budgets.get("node-crash", 0) > 0,
        clocked=ctx.scenario.bounds.clock_limit > 0,
        clock_limit=ctx.scenario.bounds.clock_limit,
        partitionable=ctx.scenario.bounds.budgets.get("partition", 0) > 0,
        heartbeats=heartbeats,
        failing=failing,
        node_taints=node_taints,
        quiet=quiet,
        leases=dict(sorted(leases.items())),
        partitioned={name: m.partitioned for name, m in sorted(initial.machines.items())},
        service_objects=service_objects or {},
        addresses=None,
        pod_ips={},
        shows_ip_from={},
    )
    lead = {key: when + STATUS_LEAD[bool(pods[key].spec.node_name)] for key, when in born.items()}
    sandbox_from = {key: lead.get(key, 1) - 1 for key in pods if lead.get(key, 1) - 1 <= depth}
    ips = _pod_ips(initial, pods, dynamic, sandbox_from, layout.pod_ip_code)
    addresses = _addresses(initial, service_objects, pods, shown, layout.user_pods, ips, layout.pod_ip_code)
    shows = {key: lead.get(key, 0) for key in sorted(shown)}
    events = {ev.revision: (ev.kind, layout.pod_slot(ev.key, event_object(ev).meta.uid) if ev.kind == POD else ev.key) for ev in initial.channels.log}
    return attrs.evolve(layout, addresses=addresses, pod_ips=ips or {}, shows_ip_from=shows, initial_events=events)


def event_object(event: WatchEvent) -> Obj:
    """The object a watch event is of (its new state; its old one for a deletion)."""
    obj: Obj | None = event.new if event.new is not None else event.old
    assert obj is not None, f"event of revision {event.revision} has no object"
    return obj
