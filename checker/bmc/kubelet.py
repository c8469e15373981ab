"""The kubelet and its machine's container runtime, as Z3 (spec/kubelet.py, spec/runtime.py): admission, container starts, probes, faults.

Cells per node: for each pod slot that may be bound to it (bound there, or
unbound: the scheduler may bind it there), whether the kubelet admitted
or rejected it, each container's restart back-off and readiness result
(NONE when it has none); the sandbox (exists, IP as the n of
``<prefix>.n``, stopping) and each container in it (exists, running, exit
code, started and finished ticks, restarts, healthy); and which images the
machine holds. The kubelet's pod cache is the store as of its cursor, less
the pods not bound to its node then (``checker.bmc.informer``; the watch's
selection of each event is a history cell, since a Binding brings a pod
into it).

A pod slot stands for one uid: an initial pod's name comes back only
as a second life in a slot of its own, bound to another machine
(``Layout.lives``; each kubelet knows one life of a name, so its memory,
keyed by name, is the slot's), a ReplicaSet's pod's name is made from
its uid, and a user's pod the kubelet knows is never removed by the
encoded runs, so a sandbox keyed by uid is the sandbox of its slot. :func:`covered` checks what the encoding
takes for granted of the scenario (every status written and not yet seen
is one it has codes for, every sandbox of a known pod, machines' pod
CIDRs differ).

The status manager (pkg/kubelet/status) writes the status of the *status
slots* (``layout.status_slots``: the pods whose status an encoded action
can change; ``checker.bmc.status``); its memory is a copy of the
status written last (present until the watch delivers it) and, per
rejected pod, the rejection's code. The prober records each running
container's readiness result (its health) and kills a container that
fails its liveness probe; the faults ``ContainerExit`` and
``ContainerUnhealthy`` hit the first machine that runs the container. Machines crash and restart
(``NodeCrash``, ``NodeRestart``): the machine's sandboxes and the
kubelet's memory are lost, and the restarted kubelet lists the store. A
partitioned machine keeps running what it has; its kubelet neither writes
nor receives events. Where the clock runs (``layout.heartbeats``), the
kubelet renews its Lease, watches its own Node (its cache: the store as
of its cursor) and posts Ready=True, and its admission reads the node
lifecycle controller's NoExecute taints from that cache. Where the clock
stands still and no Node can be written (``layout.quiet``), it renews
(creates) its Lease once, and posting a status or a Node event to deliver
are impossible. A deleted or
finished pod's sandbox runs its preStop hooks, is killed (exit 0 by the
deletion's deadline, 137 after: the deadline is a store cell where the
clock runs), and once the pod's terminal status is reported the kubelet
deletes it with grace 0; the DELETED event makes it forget the pod, and
the clean-up removes the sandbox. Where pods/binding rebinds
(``apiserver-rebind``), a rebound pod leaves the old node's selection:
that event is DELETED to its watch, so the kubelet forgets the pod and
cleans its sandbox up likewise. The final delete and clean-up of a
user's pod (its name may come back with a new uid, and its uid is not
known beforehand) are not encoded yet, and are listed as such.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import z3

from checker.bmc import apiserver, status
from checker.bmc.core import NONE, Cell, Encoded, Relisted, Terms, Unrolling, per_frame
from checker.bmc.informer import cache_revision, cached, deliver, event_at
from checker.bmc.layout import MANAGED_TAINTS, READY, READY_REASONS, Layout, clock, layout_of, machine_up, pod_key, reachable, unmanaged
from checker.bmc.status import CONTAINER_FIELDS, CONTAINER_REASONS, PHASES, POD_REASONS, STATES
from spec import apiserver as api
from spec import kubelet as kl
from spec.component import Action
from spec.objects import FAILED, NO_EXECUTE, NODE, PENDING, POD, RUNNING, SUCCEEDED, TERMINAL_PHASES, Container, Resources, Taint
from spec.runtime import RuntimeContainer
from spec.state import State

FIELDS = ("exists", "running", "exit", "started", "finished", "restarts", "healthy")
BOOLEAN = {"exists", "running", "healthy"}


def instance(node: str) -> str:
    """The kubelet instance of a node."""
    return f"{kl.NAME}/{node}"


def on(layout: Layout, node: str) -> list[str]:
    """The pod slots that may be bound to ``node``: those bound to it and the unbound ones (the scheduler may bind them anywhere)."""
    return [key for key in layout.pods if layout.can_be_on(key, node)]


def covered(layout: Layout, s: State) -> bool:
    """The kubelets have no status written and unseen, every sandbox belongs to a pod slot of its node, and machines' prefixes differ."""
    if len(set(layout.prefixes.values())) != len(layout.prefixes):
        return False  # shared prefixes
    for node in layout.prefixes:
        if instance(node) not in s.views:
            return False
        memory: kl.KubeletMemory = s.views[instance(node)].memory or kl.KubeletMemory()  # none while the machine is down
        uids = {layout.pod_objects[p].meta.uid for p in on(layout, node) if p not in layout.user_pods}
        if not set(s.machines[node].sandboxes) <= uids or _unwritable(layout, s, node, memory):
            return False
    stored = {slot: pod for pod in s.api.objects.pods.values() if (slot := layout.pod_slot(pod.meta.key, pod.meta.uid)) in layout.status_slots}
    return all(status.values(layout, slot, pod.status) is not None for slot, pod in stored.items())


def _unwritable(layout: Layout, s: State, node: str, memory: kl.KubeletMemory) -> bool:
    """The kubelet's memory holds a written status or a rejection the encoding has no cell or code for."""
    mine = {pod_key(slot): slot for slot in _status_slots(layout, node)}
    for key, written in memory.written.items():
        if key not in mine or status.values(layout, mine[key], written) is None:
            return True
    for key in mine.values():
        uid = _uid(layout, s, key)
        if uid is not None and uid in memory.rejected and memory.rejected[uid] not in layout.rejections[key]:
            return True
    return False


def _status_slots(layout: Layout, node: str) -> list[str]:
    """The status slots bound to ``node``."""
    return [key for key in on(layout, node) if key in layout.status_slots]


def _kl(node: str, what: str) -> str:
    return f"kl/{node}/{what}"


def _sb(node: str, pod: str, what: str) -> str:
    return f"m/{node}/sb/{pod}/{what}"


def _image(node: str, image: str) -> str:
    return f"m/{node}/image/{image}"


def _written(node: str, pod: str, field: str = "present") -> str:
    """A cell of the status the kubelet wrote last for a status slot and has not seen yet (``present``: there is one)."""
    return f"kl/{node}/written/{pod}/{field}"


def cells(layout: Layout) -> list[Cell]:
    """Each kubelet's memory and each machine's sandboxes and images."""
    out: list[Cell] = []
    for node in layout.prefixes:
        out += [Cell(_image(node, image), boolean=True) for image in layout.images]
        for pod in on(layout, node):
            out += [Cell(_kl(node, f"admitted/{pod}"), boolean=True), Cell(_kl(node, f"rejected/{pod}"), boolean=True)]
            out += [Cell(_sb(node, pod, "exists"), boolean=True), Cell(_sb(node, pod, "ip")), Cell(_sb(node, pod, "stopping"), boolean=True)]
            for c in layout.pod_objects[pod].spec.containers:
                out += [Cell(_kl(node, f"backoff/{pod}/{c.name}")), Cell(_kl(node, f"probe/{pod}/{c.name}"))]
                out += [Cell(_sb(node, pod, f"{c.name}/{field}"), boolean=field in BOOLEAN) for field in FIELDS]
        for pod in _status_slots(layout, node):
            out += [Cell(_kl(node, f"rejection/{pod}")), Cell(_written(node, pod), boolean=True)]
            out += [Cell(_written(node, pod, name), boolean=boolean) for name, boolean in status.fields(layout, pod)]
        out += [Cell(_kl(node, "last_renew"))] if layout.renews else []
    return out


def _uid(layout: Layout, s: State, pod: str) -> int | None:
    """The uid a pod slot stands for in ``s``: an initial or a ReplicaSet's pod's own (its name is made from it); a user's pod's, the stored
    one's (None while it does not exist).

    (A generated slot's uid may be handed to another object, such as a pod the user creates, when the ReplicaSet does not take it: None
    then.)
    """
    stored = layout.stored(s.api.objects.pods, pod)
    if pod in layout.user_pods:
        return stored.meta.uid if stored is not None else None
    uid = layout.pod_objects[pod].meta.uid
    if pod in layout.generated and stored is None and any(p.meta.uid == uid for p in s.api.objects.pods.values()):
        return None  # the ReplicaSet did not take the uid; another object did
    return uid


def _container_values(rc: RuntimeContainer | None) -> dict[str, int | bool]:
    if rc is None:
        return dict.fromkeys(FIELDS, 0) | {"exists": False, "running": False, "healthy": False, "exit": NONE, "finished": NONE}
    return {
        "exists": True,
        "running": rc.running,
        "exit": NONE if rc.exit_code is None else rc.exit_code,
        "started": rc.started_at,
        "finished": NONE if rc.finished_at is None else rc.finished_at,
        "restarts": rc.restarts,
        "healthy": rc.healthy,
    }


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The kubelets' memories and the machines in a state."""
    out: dict[str, int | bool] = {}
    for node, prefix in layout.prefixes.items():
        memory: kl.KubeletMemory = s.views[instance(node)].memory or kl.KubeletMemory()  # none while the machine is down
        machine = s.machines[node]
        out |= {_image(node, image): image in machine.images for image in layout.images}
        for pod in on(layout, node):
            uid = _uid(layout, s, pod)
            out[_kl(node, f"admitted/{pod}")] = uid in memory.admitted
            out[_kl(node, f"rejected/{pod}")] = uid is not None and uid in memory.rejected
            sandbox = machine.sandboxes.get(uid) if uid is not None else None
            out[_sb(node, pod, "exists")] = sandbox is not None
            out[_sb(node, pod, "ip")] = int(sandbox.ip.removeprefix(prefix + ".")) if sandbox is not None and sandbox.ip else NONE
            out[_sb(node, pod, "stopping")] = sandbox is not None and sandbox.stopping
            for c in layout.pod_objects[pod].spec.containers:
                key = f"{uid}/{c.name}"
                out[_kl(node, f"backoff/{pod}/{c.name}")] = memory.backoff.get(key, NONE)
                probe = memory.probes.get(key)
                out[_kl(node, f"probe/{pod}/{c.name}")] = NONE if probe is None else int(probe)
                rc = sandbox.containers.get(c.name) if sandbox is not None else None
                out |= {_sb(node, pod, f"{c.name}/{field}"): value for field, value in _container_values(rc).items()}
        for pod in _status_slots(layout, node):
            uid = _uid(layout, s, pod)
            rejection = memory.rejected.get(uid) if uid is not None else None
            rejections = layout.rejections[pod]
            out[_kl(node, f"rejection/{pod}")] = rejections.index(rejection) + 1 if rejection in rejections else 0
            written = memory.written.get(pod_key(pod))
            out[_written(node, pod)] = written is not None
            given = status.values(layout, pod, written) if written is not None else status.fresh(layout, pod)
            out |= {_written(node, pod, name): value for name, value in (given or {}).items()}
        if layout.renews:
            out[_kl(node, "last_renew")] = memory.last_renew
    return out


# ------------------------------------------------------------ reading the view


@per_frame
def _cached(u: Unrolling, t: int, node: str, pod: str) -> tuple[z3.BoolRef, z3.BoolRef]:
    """(in the kubelet's cache, being deleted there) for a pod slot that may be bound to its node."""
    at = cache_revision(u, t, instance(node), POD)
    return _selected_at(u, t, node, pod, at), apiserver.value_at(u, t, at, f"pod/{pod}/deleting")


def _finished(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    """kl.finished: ``_reported_terminal``; never with phase-regress."""
    if layout_of(u).ctx.flag(kl.PHASE_REGRESS):
        return z3.BoolVal(False)
    return _reported_terminal(u, t, node, pod)


def _reported_terminal(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    """The pod's phase is terminal in the kubelet's cache or in the status it wrote last (a constant for a slot whose status is)."""
    layout = layout_of(u)
    if pod not in layout.status_slots:
        return z3.BoolVal(layout.pod_objects[pod].status.phase in TERMINAL_PHASES)
    f = u[t]
    written = z3.And(f[_written(node, pod)], status.terminal_phase(f[_written(node, pod, "phase")]))
    return z3.Or(apiserver.terminal(u, t, pod, cache_revision(u, t, instance(node), POD)), written)


# ------------------------------------------------------------ actions


def deliver_pods(node: str) -> Encoded:
    """WatchDeliver of the kubelet's pod watch (spec.nodeName=<node>); its handler forgets a written status the event shows, and all it
    holds of a pod whose DELETED event it is (kl._on_event, _forget_pod)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(reachable(u, t, node), deliver(u, t, instance(node), POD)[0])

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        f = u[t]
        _, revision, out = deliver(u, t, instance(node), POD)
        kind, slot = event_at(u, t, revision)
        for pod in on(layout, node):
            if not _leaves(layout, pod) and pod not in layout.status_slots:
                continue  # nothing of it to forget
            mine = z3.And(kind == layout.kinds[POD], slot == layout.slot(POD, pod))
            deleted = z3.And(mine, z3.Not(_kept_at(u, t, node, pod, revision)))  # a DELETED event to this watch: gone, or rebound
            if _leaves(layout, pod):
                out |= {name: z3.If(deleted, value, f[name]) for name, value in _forgotten_pod(layout, node, pod).items()}
            if pod not in layout.status_slots:
                continue
            shown = {name: apiserver.pod_status(u, t, pod, name, revision) for name, _ in status.fields(layout, pod)}
            seen = z3.And(mine, f[_written(node, pod)], z3.Not(status.differs(_written_terms(u, t, node, pod), shown)))
            out |= {name: z3.If(z3.Or(seen, deleted), value, f[name]) for name, value in _forgotten(layout, node, pod).items()}
        return out

    return Encoded(Action(instance(node), "WatchDeliver", (("kind", POD),)), guard, effect)


def _kept_at(u: Unrolling, t: int, node: str, pod: str, revision: z3.ArithRef) -> z3.BoolRef:
    """The kubelet's watch still selects the pod slot as of the revision of an event of it that the watch delivers: it is stored, and where
    pods/binding rebinds, still bound to ``node`` (elsewhere an event the watch delivers keeps the pod on its node)."""
    if _rebound(layout_of(u), pod):
        return _selected_at(u, t, node, pod, revision)
    return apiserver.value_at(u, t, revision, f"pod/{pod}/exists")


def _leaves(layout: Layout, pod: str) -> bool:
    """The pod slot may leave a kubelet's selection in the run: it may be deleted, or bound elsewhere (where pods/binding rebinds, or an
    unbound one: it may never have been in the selection, which the guards read)."""
    return pod in layout.deletable or pod in layout.dynamic


def relisted_pods(node: str) -> Relisted:
    """The handler of a relist of the kubelet's pod watch from the cache as of ``before`` to the store as of ``after``: a pod slot that left
    its selection is forgotten, one whose object differs and shows the written status has it forgotten (kl._on_event as a delivery)."""

    def relisted(u: Unrolling, t: int, before: z3.ArithRef, after: z3.ArithRef) -> Terms:
        layout = layout_of(u)
        f = u[t]
        out: Terms = {}
        for pod in on(layout, node):
            if not _leaves(layout, pod) and pod not in layout.status_slots:
                continue  # nothing of it to forget
            old_in, new_in = (_selected_at(u, t, node, pod, r) for r in (before, after))
            deleted = z3.And(old_in, z3.Not(new_in))
            if _leaves(layout, pod):
                out |= {name: z3.If(deleted, value, f[name]) for name, value in _forgotten_pod(layout, node, pod).items()}
            if pod not in layout.status_slots:
                continue
            written = apiserver.rewritten(u, t, f"pod/{pod}", before, after)
            shown = {name: apiserver.pod_status(u, t, pod, name, after) for name, _ in status.fields(layout, pod)}
            changed = z3.And(new_in, z3.Or(z3.Not(old_in), written))
            seen = z3.And(changed, f[_written(node, pod)], z3.Not(status.differs(_written_terms(u, t, node, pod), shown)))
            out |= {name: z3.If(z3.Or(seen, deleted), value, f[name]) for name, value in _forgotten(layout, node, pod).items()}
        return out

    return relisted


def _selected_at(u: Unrolling, t: int, node: str, pod: str, revision: z3.ArithRef) -> z3.BoolRef:
    """The pod slot as of ``revision`` is one the kubelet's watch selects (spec.nodeName=<node>)."""
    layout = layout_of(u)
    there = apiserver.value_at(u, t, revision, f"pod/{pod}/exists")
    if pod in layout.dynamic:
        there = z3.And(there, apiserver.value_at(u, t, revision, f"pod/{pod}/node") == layout.node_code(node))
    return there


def _written_terms(u: Unrolling, t: int, node: str, pod: str) -> Terms:
    layout = layout_of(u)
    return {name: u[t][_written(node, pod, name)] for name, _ in status.fields(layout, pod)}


def _forgotten(layout: Layout, node: str, pod: str) -> Terms:
    """The written-status cells of a slot with nothing written."""
    fresh = status.fresh(layout, pod)
    out: Terms = {_written(node, pod): z3.BoolVal(False)}
    return out | {_written(node, pod, name): z3.BoolVal(v) if isinstance(v, bool) else z3.IntVal(v) for name, v in fresh.items()}


def _forgotten_pod(layout: Layout, node: str, pod: str) -> Terms:
    """kl._forget_pod for a pod slot: neither admitted nor rejected, no probe result or back-off (the written status: ``_forgotten``)."""
    out: Terms = {_kl(node, f"admitted/{pod}"): z3.BoolVal(False), _kl(node, f"rejected/{pod}"): z3.BoolVal(False)}
    out |= {_kl(node, f"rejection/{pod}"): z3.IntVal(0)} if pod in layout.status_slots else {}
    for c in layout.pod_objects[pod].spec.containers:
        out |= {_kl(node, f"backoff/{pod}/{c.name}"): z3.IntVal(NONE), _kl(node, f"probe/{pod}/{c.name}"): z3.IntVal(NONE)}
    return out


def _waiting(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    f = u[t]
    there, _ = _cached(u, t, node, pod)
    seen = z3.Or(f[_kl(node, f"admitted/{pod}")], f[_kl(node, f"rejected/{pod}")])
    return z3.And(there, z3.Not(seen), z3.Not(_finished(u, t, node, pod)))


def admit(node: str, pod: str) -> Encoded:
    """KubeletAdmitPod: the oldest waiting pod (creation time, then key) is admitted if it fits (kl.admission_failure), else rejected."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        if node not in layout.kubelet_nodes:
            return z3.BoolVal(False)  # the kubelet's cache has no Node yet
        older = [z3.And(_waiting(u, t, node, other), _older(u, t, node, other, pod)) for other in on(layout, node) if other != pod]
        return z3.And(machine_up(u, t, node), _waiting(u, t, node, pod), z3.Not(z3.Or(older)) if older else z3.BoolVal(True))

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        if layout.ctx.flag(kl.NO_ADMISSION):
            return {_kl(node, f"admitted/{pod}"): z3.BoolVal(True)}
        if pod not in layout.status_slots:
            fits = _fits(u, t, node, pod)
            return {_kl(node, f"admitted/{pod}"): fits, _kl(node, f"rejected/{pod}"): z3.Not(fits)}
        code = _rejection(u, t, node, pod)
        return {_kl(node, f"admitted/{pod}"): code == 0, _kl(node, f"rejected/{pod}"): code != 0, _kl(node, f"rejection/{pod}"): code}

    return Encoded(Action(instance(node), "KubeletAdmitPod", (("pod", pod_key(pod)),)), guard, effect)


def _older(u: Unrolling, t: int, node: str, a: str, b: str) -> z3.BoolRef:
    """Pod slot ``a`` is admitted before ``b``: (creationTimestamp, key) of the cached pods is smaller (kl._admit_guard)."""
    at = cache_revision(u, t, instance(node), POD)
    created_a, created_b = apiserver.created(u, t, a, at), apiserver.created(u, t, b, at)
    return z3.Or(created_a < created_b, z3.And(created_a == created_b, z3.BoolVal(a < b)))


RESOURCES = ("pods", "cpu", "memory")
"""the order kl.usage_failure checks the resources in"""


@per_frame
def _usage(u: Unrolling, t: int, node: str, pod: str) -> dict[str, tuple[int, int, z3.ArithRef]]:
    """For each resource: (what the pod requests, the node's allocatable, what the other active admitted pods in the cache use)."""
    layout = layout_of(u)
    f = u[t]
    at = cache_revision(u, t, instance(node), POD)
    active = []
    for other in on(layout, node):
        if other == pod or (other not in layout.status_slots and layout.pod_objects[other].is_terminal()):
            continue
        there, _ = _cached(u, t, node, other)
        live = z3.And(there, f[_kl(node, f"admitted/{other}")], z3.Not(apiserver.terminal(u, t, other, at)))
        active.append((live, layout.pod_objects[other].spec.requests()))
    alloc, req = layout.kubelet_nodes[node].status.allocatable, layout.pod_objects[pod].spec.requests()
    out = {}
    for resource, requested, use in (("pods", 1, lambda r: 1), ("cpu", req.cpu, lambda r: r.cpu), ("memory", req.memory, lambda r: r.memory)):
        used = z3.Sum([z3.If(a, use(r), 0) for a, r in active]) if active else z3.IntVal(0)
        out[resource] = (requested, getattr(alloc, resource), used)
    return out


def _static_failure(layout: Layout, node: str, pod: str) -> tuple[str, str] | None:
    """kl.usage_failure's reasons that do not depend on usage or on the node lifecycle controller's taints: node affinity, the other taints."""
    node_obj = unmanaged(layout.kubelet_nodes[node]) if layout.heartbeats else layout.kubelet_nodes[node]
    failure = kl.usage_failure(layout.pod_objects[pod], node_obj, 0, Resources())
    return failure if failure is not None and not failure[0].startswith("OutOf") else None


def _untolerated(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    """The kubelet's cached Node carries a NoExecute taint of the node lifecycle controller that the pod does not tolerate."""
    layout = layout_of(u)
    if not layout.heartbeats:
        return z3.BoolVal(False)
    tolerations = layout.pod_objects[pod].spec.tolerations
    out = []
    for i, (key, effect) in enumerate(MANAGED_TAINTS):
        if effect == NO_EXECUTE and not any(tol.tolerates(Taint(key=key, effect=effect)) for tol in tolerations):
            out.append(cached_node(u, t, node, f"taint/{i}"))
    return z3.Or(out) if out else z3.BoolVal(False)


def _static_code(u: Unrolling, t: int, node: str, pod: str, codes: dict[tuple[str, str, int], int] | None) -> z3.ArithRef:
    """The usage-independent failure as a rejection code (with ``codes``; else 1 for any failure), 0 for none."""
    layout = layout_of(u)
    static = _static_failure(layout, node, pod)
    if static is not None:
        return z3.IntVal(codes[node, static[0], 0] if codes is not None else 1)
    tainted = codes.get((node, "TaintToleration", 0), NONE) if codes is not None else 1
    return z3.If(_untolerated(u, t, node, pod), tainted, 0)


@per_frame
def _fits(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    """No admission failure: room for the pod's requests beside the active admitted pods; node affinity and taints."""
    conditions = [requested + used <= capacity for requested, capacity, used in _usage(u, t, node, pod).values() if requested > 0]
    return z3.And(_static_code(u, t, node, pod, None) == 0, *conditions)


def _rejection(u: Unrolling, t: int, node: str, pod: str) -> z3.ArithRef:
    """kl.usage_failure as the status slot's rejection code (0: admitted; ``layout.rejection_codes``)."""
    layout = layout_of(u)
    codes = layout.rejection_codes[pod]
    code: z3.ArithRef = _static_code(u, t, node, pod, codes)
    usage = _usage(u, t, node, pod)
    for resource in reversed(RESOURCES):
        requested, capacity, used = usage[resource]
        if requested > 0:
            named: z3.ArithRef = z3.IntVal(NONE)
            for (where, reason, amount), value in sorted(codes.items()):
                if where == node and reason == f"OutOf{resource}":
                    named = z3.If(used == amount, value, named)
            code = z3.If(requested + used > capacity, named, code)
    return code


def _fault(u: Unrolling, t: int, pod: str, container: str, healthy_only: bool) -> tuple[z3.BoolRef, list[tuple[str, z3.BoolRef]]]:
    """A container fault's reach (environment._with_container): (some machine runs the container, healthy if ``healthy_only``; for each
    machine it may run on, in name order, whether the fault hits it there: the first such machine)."""

    def build() -> tuple[z3.BoolRef, list[tuple[str, z3.BoolRef]]]:
        layout = layout_of(u)
        f = u[t]
        hit: list[tuple[str, z3.BoolRef]] = []
        earlier: list[z3.BoolRef] = []
        for node in layout.prefixes:
            if pod not in on(layout, node):
                continue
            rc = _sb(node, pod, container)
            here = z3.And(f[f"{rc}/running"], f[f"{rc}/healthy"]) if healthy_only else f[f"{rc}/running"]
            hit.append((node, z3.And(here, *(z3.Not(e) for e in earlier))))
            earlier.append(here)
        return z3.Or(earlier or [z3.BoolVal(False)]), hit

    return u.memo(("container fault", t, pod, container, healthy_only), build)


def _container_fault(action: Action, budget: str, healthy_only: bool, changes: Callable[[Unrolling, int, str], Terms]) -> Encoded:
    """A container fault of ``budget``: enabled while the budget lasts and some machine runs the action's container; ``changes`` (of frame
    t, on a machine) on the first such machine (``_fault``)."""
    pod, container = str(action.param("pod")), str(action.param("container"))
    spent = f"budget/{budget}"

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(u[t][spent] < layout_of(u).budgets.get(budget, 0), _fault(u, t, pod, container, healthy_only)[0])

    def effect(u: Unrolling, t: int) -> Terms:
        f = u[t]
        out: Terms = {spent: f[spent] + 1}
        for node, there in _fault(u, t, pod, container, healthy_only)[1]:
            out |= {name: z3.If(there, term, f[name]) for name, term in changes(u, t, node).items()}
        return out

    return Encoded(action, guard, effect)


def _exited(u: Unrolling, t: int, node: str, pod: str, container: str, code: int) -> Terms:
    """A container's process ends with ``code`` at frame t's tick (runtime: running false, exit code and finish time recorded)."""
    rc = _sb(node, pod, container)
    return {f"{rc}/running": z3.BoolVal(False), f"{rc}/exit": z3.IntVal(code), f"{rc}/finished": clock(u, t)}


def exit_container(pod: str, container: str, code: int) -> Encoded:
    """ContainerExit: a running container's process exits with ``code`` (a fault, counted against its budget)."""
    action = Action("fault", "ContainerExit", (("pod", pod_key(pod)), ("container", container), ("code", code)))
    return _container_fault(action, "container-exit", False, lambda u, t, node: _exited(u, t, node, pod, container, code))


def make_unhealthy(pod: str, container: str) -> Encoded:
    """ContainerUnhealthy: a running container's application stops answering its probes (a fault, counted against its budget)."""
    action = Action("fault", "ContainerUnhealthy", (("pod", pod_key(pod)), ("container", container)))
    return _container_fault(action, "container-unhealthy", True, lambda u, t, node: {_sb(node, pod, f"{container}/healthy"): z3.BoolVal(False)})


def _probed(u: Unrolling, t: int, node: str, pod: str, container: str) -> z3.BoolRef:
    """kl._running for one container: the machine is up, the pod in the kubelet's cache and its container running."""
    return z3.And(machine_up(u, t, node), _cached(u, t, node, pod)[0], u[t][_sb(node, pod, f"{container}/running")])


def probe(node: str, pod: str, container: str) -> Encoded:
    """KubeletProbeReadiness: a running container's readiness result (none counts as failure) becomes its health."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        f = u[t]
        healthy = f[_sb(node, pod, f"{container}/healthy")]
        return z3.And(_probed(u, t, node, pod, container), (f[_kl(node, f"probe/{pod}/{container}")] == 1) != healthy)

    def effect(u: Unrolling, t: int) -> Terms:
        return {_kl(node, f"probe/{pod}/{container}"): z3.If(u[t][_sb(node, pod, f"{container}/healthy")], 1, 0)}

    return Encoded(Action(instance(node), "KubeletProbeReadiness", (("pod", pod_key(pod)), ("container", container))), guard, effect)


def kill_unlive(node: str, pod: str, container: str) -> Encoded:
    """KubeletLivenessKill: a running container of a pod not being deleted fails its liveness probe and is killed (exit 137)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        f = u[t]
        deleting = _cached(u, t, node, pod)[1]
        return z3.And(_probed(u, t, node, pod, container), z3.Not(f[_sb(node, pod, f"{container}/healthy")]), z3.Not(deleting))

    action = Action(instance(node), "KubeletLivenessKill", (("pod", pod_key(pod)), ("container", container)))
    return Encoded(action, guard, lambda u, t: _exited(u, t, node, pod, container, kl.SIGKILL_EXIT))


def probes(layout: Layout, node: str, pod: str) -> list[Encoded]:
    """The probe actions of a pod slot's containers that have probes (from the first frame a container of the slot can run in)."""
    out: list[Encoded] = []
    for c in layout.pod_objects[pod].spec.containers:
        out += [probe(node, pod, c.name)] if c.readiness_probe else []
        out += [kill_unlive(node, pod, c.name)] if c.liveness_probe else []
    return [attrs.evolve(e, born=layout.after(pod, layout.lead(pod))) for e in out]


def faults(layout: Layout) -> list[Encoded]:
    """The container faults that have a budget: exits with code 0 or 1, and (for containers with a probe) unhealthiness; each from the first
    frame a container of its slot can run in."""
    out: list[Encoded] = []
    for pod in layout.pods:
        mine: list[Encoded] = []
        for c in layout.pod_objects[pod].spec.containers:
            if layout.budgets.get("container-exit", 0) > 0:
                mine += [exit_container(pod, c.name, code) for code in (0, 1)]
            if (c.readiness_probe or c.liveness_probe) and layout.budgets.get("container-unhealthy", 0) > 0:
                mine.append(make_unhealthy(pod, c.name))
        out += [attrs.evolve(e, born=layout.after(pod, layout.lead(pod))) for e in mine]
    return out


def impossible(layout: Layout) -> list[str]:
    """The kubelet actions no pod slot can take in the bound (so none is listed as left out): a probe no container has; a Node status
    post where no Node can be written (``layout.quiet``: every cached Node stays Ready); and named with the instance, where no slot that
    can be bound to its node needs it: a preStop hook no deletable pod has, a kill where no pod can be deleted or end, a final delete and a
    clean-up where none can be deleted (or rebound), a status write where every slot's status is one no encoded action can change
    (``layout.unwritten``)."""
    containers = [c for p in layout.pod_objects.values() for c in p.spec.containers]
    out = [] if any(c.readiness_probe for c in containers) else ["KubeletProbeReadiness"]
    out += [] if any(c.liveness_probe for c in containers) else ["KubeletLivenessKill"]
    out += ["KubeletPostNodeStatus"] if layout.quiet else []
    for node in layout.prefixes:
        mine = on(layout, node)
        deletable = [pod for pod in mine if pod in layout.deletable]
        ending = any(layout.pod_objects[pod].spec.restart_policy != "Always" for pod in mine)
        names = [] if any(_hooked(layout, pod) for pod in deletable) else ["KubeletRunPreStop"]
        names += [] if deletable or ending else ["KubeletKillPod"]
        names += [] if deletable else ["KubeletDeletePod"]
        names += [] if deletable or layout.ctx.flag(api.REBIND) else ["KubeletCleanupPod"]
        names += [] if set(mine) - layout.unwritten else ["KubeletSyncStatus"]
        out += [f"{instance(node)} {name}" for name in names]
    return out


def start(node: str, pod: str, container: str) -> Encoded:
    """KubeletStartContainer: create the sandbox if needed (its IP the lowest free one), pull the image, start or restart the container."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        f = u[t]
        there, deleting = _cached(u, t, node, pod)
        sandbox, blocked = f[_sb(node, pod, "exists")], z3.Or(f[_sb(node, pod, "stopping")], f[_sb(node, pod, "ip")] == NONE)
        rc = _sb(node, pod, container)
        skip = z3.And(
            f[f"{rc}/exists"],
            z3.Or(
                f[f"{rc}/running"],
                z3.Not(_should_restart(layout, pod, deleting, f[f"{rc}/exit"])),
                _restart_at(u, t, node, pod, container) > clock(u, t),
            ),
        )
        return z3.And(
            machine_up(u, t, node),
            f[_kl(node, f"admitted/{pod}")],
            there,
            z3.Not(deleting),
            z3.Not(_finished(u, t, node, pod)),
            z3.Not(z3.And(sandbox, blocked)),
            z3.Not(skip),
            _image_ok(layout, f, node, pod, container),
        )

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        f = u[t]
        rc = _sb(node, pod, container)
        old = f[f"{rc}/exists"]
        out: Terms = {
            _sb(node, pod, "exists"): z3.BoolVal(True),
            _sb(node, pod, "ip"): z3.If(f[_sb(node, pod, "exists")], f[_sb(node, pod, "ip")], _free_ip(u, t, node)),
            f"{rc}/exists": z3.BoolVal(True),
            f"{rc}/running": z3.BoolVal(True),
            f"{rc}/exit": z3.IntVal(NONE),
            f"{rc}/started": clock(u, t),
            f"{rc}/finished": z3.IntVal(NONE),
            f"{rc}/healthy": z3.BoolVal(True),
            f"{rc}/restarts": z3.If(old, f[f"{rc}/restarts"] + 1, 0),
            _kl(node, f"backoff/{pod}/{container}"): z3.If(
                old, _next_backoff(u, t, node, pod, container), f[_kl(node, f"backoff/{pod}/{container}")]
            ),
            _kl(node, f"probe/{pod}/{container}"): z3.IntVal(NONE),
        }
        image = next(c.image for c in layout.pod_objects[pod].spec.containers if c.name == container)
        out[_image(node, image)] = z3.BoolVal(True)
        return out

    return Encoded(Action(instance(node), "KubeletStartContainer", (("pod", pod_key(pod)), ("container", container))), guard, effect)


def _should_restart(layout: Layout, pod: str, deleting: z3.BoolRef, exit_code: z3.ArithRef) -> z3.BoolRef:
    """kl.should_restart: not while deleted; by restartPolicy."""
    policy = layout.pod_objects[pod].spec.restart_policy
    by_policy = z3.BoolVal(True) if policy == "Always" else exit_code != 0 if policy == "OnFailure" else z3.BoolVal(False)
    return z3.And(z3.Not(deleting), by_policy)


def _restart_at(u: Unrolling, t: int, node: str, pod: str, container: str) -> z3.ArithRef:
    """kl._restart_at: when the back-off lets an exited container restart."""
    layout = layout_of(u)
    f = u[t]
    rc = _sb(node, pod, container)
    finished = z3.If(f[f"{rc}/finished"] == NONE, 0, f[f"{rc}/finished"])
    backoff = f[_kl(node, f"backoff/{pod}/{container}")]
    return z3.If(finished - f[f"{rc}/started"] > 2 * layout.ctx.timing.backoff_max, finished, finished + z3.If(backoff == NONE, 0, backoff))


def _next_backoff(u: Unrolling, t: int, node: str, pod: str, container: str) -> z3.ArithRef:
    """kl._next_backoff: the initial period the first time or after a long run, else double, capped."""
    layout = layout_of(u)
    timing = layout.ctx.timing
    f = u[t]
    rc = _sb(node, pod, container)
    current = f[_kl(node, f"backoff/{pod}/{container}")]
    finished = z3.If(f[f"{rc}/finished"] == NONE, 0, f[f"{rc}/finished"])
    fresh = z3.Or(current == NONE, finished - f[f"{rc}/started"] > 2 * timing.backoff_max)
    return z3.If(fresh, timing.backoff_initial, z3.If(2 * current < timing.backoff_max, 2 * current, timing.backoff_max))


def _image_ok(layout: Layout, f: Terms, node: str, pod: str, container: str) -> z3.BoolRef:
    """kl.image_problem is empty: the image is present where the policy needs it, or the registry has it."""
    c = next(c for c in layout.pod_objects[pod].spec.containers if c.name == container)
    present = f[_image(node, c.image)]
    registry = layout.ctx.scenario.registry
    pullable = z3.BoolVal(registry is None or c.image in registry)
    if c.image_pull_policy == "Never":
        return present
    if c.image_pull_policy == "IfNotPresent":
        return z3.Or(present, pullable)
    return pullable


@per_frame
def _free_ip(u: Unrolling, t: int, node: str) -> z3.ArithRef:
    """Machine.free_ip: the lowest address from .2 no sandbox holds (with kubelet-ip-by-running, no sandbox with a running container)."""
    layout = layout_of(u)
    f = u[t]
    only_running = layout.ctx.flag(kl.IP_BY_RUNNING)
    holders = []
    for pod in on(layout, node):
        running = z3.Or([f[_sb(node, pod, f"{c.name}/running")] for c in layout.pod_objects[pod].spec.containers] or [z3.BoolVal(False)])
        holders.append((z3.And(f[_sb(node, pod, "exists")], running) if only_running else f[_sb(node, pod, "exists")], f[_sb(node, pod, "ip")]))
    ip: z3.ArithRef = z3.IntVal(2 + len(holders))
    for n in range(1 + len(holders), 1, -1):
        used = z3.Or([z3.And(h, addr == n) for h, addr in holders] or [z3.BoolVal(False)])
        ip = z3.If(used, ip, n)
    return ip


# ------------------------------------------------------------ the status manager (generateAPIPodStatus)


def _generated(u: Unrolling, t: int, node: str, pod: str, previous: Terms) -> Terms:
    """kl.desired_status for a status slot on ``node``: the rejection's, or the status the runtime's containers give.

    ``previous`` is the status written last and not yet seen, else the cached one.
    """
    layout = layout_of(u)
    f = u[t]
    rejection = f[_kl(node, f"rejection/{pod}")]
    rejected = dict(previous) | {
        "phase": z3.IntVal(PHASES.index(FAILED)),
        "ready": z3.BoolVal(False),
        "reason": _reason_of(layout, pod, rejection),
        "message": rejection,
        "ip": z3.IntVal(NONE),
    }
    running = _from_runtime(u, t, node, pod, previous)
    return {name: z3.If(f[_kl(node, f"rejected/{pod}")], rejected[name], running[name]) for name in sorted(previous)}


def _reason_of(layout: Layout, pod: str, code: z3.ArithRef) -> z3.ArithRef:
    """The pod reason of a rejection code."""
    out: z3.ArithRef = z3.IntVal(0)
    for i, (reason, _) in enumerate(layout.rejections[pod]):
        out = z3.If(code == i + 1, POD_REASONS.index(reason), out)
    return out


def _from_runtime(u: Unrolling, t: int, node: str, pod: str, previous: Terms) -> Terms:
    """The non-rejected branch of kl.desired_status: container statuses, phase (kl.get_phase), readiness, IP."""
    layout = layout_of(u)
    f = u[t]
    obj = layout.pod_objects[pod]
    deleting = apiserver.value_at(u, t, cache_revision(u, t, instance(node), POD), f"pod/{pod}/deleting")
    out: Terms = dict(previous)
    statuses = [_container_status(u, t, node, pod, c.name, previous, deleting) for c in obj.spec.containers]
    for c, cs in zip(obj.spec.containers, statuses, strict=True):
        out |= {f"cs/{c.name}/{name}": term for name, term in cs.items()}
    sandbox = f[_sb(node, pod, "exists")]
    some_running = z3.Or([f[_sb(node, pod, f"{c.name}/running")] for c in obj.spec.containers] or [z3.BoolVal(False)])
    phase = _phase(obj.spec.restart_policy, statuses, z3.And(deleting, z3.Or(z3.Not(sandbox), z3.Not(some_running))))
    ready = z3.And(phase == PHASES.index(RUNNING), *[cs["ready"] for cs in statuses])
    ip = f[_sb(node, pod, "ip")]
    out |= {
        "phase": phase,
        "ready": ready,
        "transition": z3.If(ready == previous["ready"], previous["transition"], clock(u, t)),
        "ip": z3.If(z3.And(sandbox, ip != NONE), 1000 * layout.node_code(node) + ip, previous["ip"]),
        "reason": z3.IntVal(0),
        "message": z3.IntVal(0),
        "unschedulable": z3.IntVal(0),
        "statuses": z3.BoolVal(True),
    }
    return out


def _container_status(u: Unrolling, t: int, node: str, pod: str, container: str, previous: Terms, deleting: z3.BoolRef) -> Terms:
    """kl._container_status: from the runtime's container, or from what was reported before when there is none."""
    layout = layout_of(u)
    f = u[t]
    c = next(c for c in layout.pod_objects[pod].spec.containers if c.name == container)
    rc = _sb(node, pod, container)
    was = f"cs/{container}"
    before_known = z3.And(previous["statuses"], z3.Or(previous[f"{was}/state"] != 0, previous[f"{was}/before"]))
    unknown = _cs("waiting", "ContainerStatusUnknown", kl.SIGKILL_EXIT, 0, False, True)
    creating = _cs("waiting", 0, NONE, 0, False, False) | {"reason": _image_reason(u, t, node, c)}
    probe = f[_kl(node, f"probe/{pod}/{container}")]
    running = _cs("running", "", NONE, f[f"{rc}/restarts"], probe == 1 if c.readiness_probe else True, False)
    exit_code, restarts = f[f"{rc}/exit"], f[f"{rc}/restarts"]
    backing_off = _restart_at(u, t, node, pod, container) > clock(u, t)
    crashed = _cs("waiting", "", exit_code, restarts, False, True) | {"reason": z3.If(backing_off, CONTAINER_REASONS.index("CrashLoopBackOff"), 0)}
    done = _cs("terminated", "", exit_code, restarts, False, False) | {
        "reason": z3.If(exit_code == 0, CONTAINER_REASONS.index("Completed"), CONTAINER_REASONS.index("Error"))
    }
    restart = z3.And(_should_restart(layout, pod, deleting, exit_code), z3.Not(f[_sb(node, pod, "stopping")]))
    out: Terms = {}
    for name in CONTAINER_FIELDS:
        exited = z3.If(restart, crashed[name], done[name])
        present = z3.If(f[f"{rc}/running"], running[name], exited)
        out[name] = z3.If(f[f"{rc}/exists"], present, z3.If(before_known, unknown[name], creating[name]))
    return out


def _cs(state: str, reason: str | int, exit_code: int | z3.ArithRef, restarts: int | z3.ArithRef, ready: bool | z3.BoolRef, before: bool) -> Terms:
    def num(v: int | z3.ArithRef) -> z3.ArithRef:
        return z3.IntVal(v) if isinstance(v, int) else v

    return {
        "state": z3.IntVal(STATES.index(state)),
        "reason": z3.IntVal(CONTAINER_REASONS.index(reason) if isinstance(reason, str) else reason),
        "exit": num(exit_code),
        "restarts": num(restarts),
        "ready": z3.BoolVal(ready) if isinstance(ready, bool) else ready,
        "before": z3.BoolVal(before),
    }


def _image_reason(u: Unrolling, t: int, node: str, c: Container) -> z3.ArithRef:
    """kl.image_problem as a reason code, or ContainerCreating."""
    layout = layout_of(u)
    image, policy = c.image, c.image_pull_policy
    present = u[t][_image(node, image)]
    registry = layout.ctx.scenario.registry
    pullable = registry is None or image in registry
    creating, never, pull = (CONTAINER_REASONS.index(r) for r in ("ContainerCreating", "ErrImageNeverPull", "ErrImagePull"))
    if policy == "Never":
        return z3.If(present, creating, never)
    if pullable:
        return z3.IntVal(creating)
    return z3.If(present, creating, pull) if policy == "IfNotPresent" else z3.IntVal(pull)


def _phase(policy: str, statuses: list[Terms], terminal: z3.BoolRef) -> z3.ArithRef:
    """kl.get_phase over the container statuses' terms."""
    waiting_code, running_code, terminated_code = (STATES.index(s) for s in STATES)

    def count(conditions: list[z3.BoolRef]) -> z3.ArithRef:
        return z3.Sum([z3.If(c, 1, 0) for c in conditions]) if conditions else z3.IntVal(0)

    running = count([cs["state"] == running_code for cs in statuses])
    waiting = count([z3.And(cs["state"] == waiting_code, z3.Not(cs["before"])) for cs in statuses])
    stopped = count([z3.Or(cs["state"] == terminated_code, cs["before"]) for cs in statuses])
    succeeded = count([z3.And(cs["state"] == terminated_code, cs["exit"] == 0) for cs in statuses])
    code = {p: z3.IntVal(PHASES.index(p)) for p in PHASES}
    all_succeeded = z3.BoolVal(False) if not statuses else succeeded == len(statuses)
    if policy == "Always":
        when_stopped = code[RUNNING]
    else:
        when_stopped = z3.If(stopped == succeeded, code[SUCCEEDED], code[FAILED] if policy == "Never" else code[RUNNING])
    by_state = z3.If(waiting > 0, code[PENDING], z3.If(running > 0, code[RUNNING], z3.If(stopped > 0, when_stopped, code[PENDING])))
    return z3.If(z3.And(terminal, running == 0), z3.If(all_succeeded, code[SUCCEEDED], code[FAILED]), by_state)


@per_frame
def _cached_status(u: Unrolling, t: int, node: str, pod: str) -> Terms:
    """The status of a status slot in the kubelet's cache (the store as of its cursor)."""
    layout = layout_of(u)
    at = cache_revision(u, t, instance(node), POD)
    return {name: apiserver.pod_status(u, t, pod, name, at) for name, _ in status.fields(layout, pod)}


@per_frame
def _desired(u: Unrolling, t: int, node: str, pod: str) -> Terms:
    """kl.desired_status from the status written last and not yet seen, else the cached one."""
    f = u[t]
    cached, written = _cached_status(u, t, node, pod), _written_terms(u, t, node, pod)
    previous = {name: z3.If(f[_written(node, pod)], written[name], cached[name]) for name in sorted(cached)}
    return _generated(u, t, node, pod, previous)


def sync_status(node: str, pod: str) -> Encoded:
    """KubeletSyncStatus: the status manager writes the generated status of a known, unfinished pod that differs from the cached and the written one.

    The UID precondition: the write is a step only where the slot's pod is stored (a slot stands for one uid, and another life of the name
    has a slot of its own). A pod the kubelet knows from a stale list may be gone; the write then changes nothing, not even the memory.
    """

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        f = u[t]
        there, _ = _cached(u, t, node, pod)
        known = z3.Or(f[_kl(node, f"admitted/{pod}")], f[_kl(node, f"rejected/{pod}")])
        want = _desired(u, t, node, pod)
        news = z3.And(
            status.differs(want, _cached_status(u, t, node, pod)),
            z3.Or(z3.Not(f[_written(node, pod)]), status.differs(want, _written_terms(u, t, node, pod))),
        )
        stored = f[f"pod/{pod}/exists"]
        return z3.And(reachable(u, t, node), there, known, z3.Not(_finished(u, t, node, pod)), news, stored)

    def effect(u: Unrolling, t: int) -> Terms:
        want = _desired(u, t, node, pod)
        out = apiserver.write_pod_status(u, t, pod, want)
        out |= {_written(node, pod): z3.BoolVal(True)} | {_written(node, pod, name): term for name, term in want.items()}
        return out

    return Encoded(Action(instance(node), "KubeletSyncStatus", (("pod", pod_key(pod)),)), guard, effect)


# ------------------------------------------------------------ termination (kubelet_pods.go, pod_workers.go, status_manager.go)


def _some_running(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    """Sandbox.running: some container of the slot's sandbox on the machine runs (false without a sandbox)."""
    containers = layout_of(u).pod_objects[pod].spec.containers
    return z3.Or([u[t][_sb(node, pod, f"{c.name}/running")] for c in containers] or [z3.BoolVal(False)])


def _hooked(layout: Layout, pod: str) -> bool:
    """Some container of the pod has a preStop hook."""
    return any(c.pre_stop for c in layout.pod_objects[pod].spec.containers)


def run_prestop(node: str, pod: str) -> Encoded:
    """KubeletRunPreStop: a deleted pod's running sandbox, not yet stopping, runs its preStop hooks; its containers keep running."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        f = u[t]
        there, deleting = _cached(u, t, node, pod)
        sandbox = z3.And(f[_sb(node, pod, "exists")], z3.Not(f[_sb(node, pod, "stopping")]), _some_running(u, t, node, pod))
        return z3.And(machine_up(u, t, node), there, deleting, sandbox)

    def effect(u: Unrolling, t: int) -> Terms:
        return {_sb(node, pod, "stopping"): z3.BoolVal(True)}

    return Encoded(Action(instance(node), "KubeletRunPreStop", (("pod", pod_key(pod)),)), guard, effect)


@per_frame
def _ends(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    """kl._kill_guard's case of a pod not being deleted: rejected, or the status the kubelet generates has a terminal phase."""
    layout = layout_of(u)
    f = u[t]
    if pod in layout.status_slots:
        return z3.Or(f[_kl(node, f"rejected/{pod}")], status.terminal_phase(_desired(u, t, node, pod)["phase"]))
    if layout.pod_objects[pod].spec.restart_policy == "Always":
        return f[_kl(node, f"rejected/{pod}")]  # kl.get_phase: such a pod is terminal only once deleted
    previous = {name: status.constant(layout, pod, name) for name, _ in status.fields(layout, pod)}
    return z3.Or(f[_kl(node, f"rejected/{pod}")], status.terminal_phase(_from_runtime(u, t, node, pod, previous)["phase"]))


def kill_pod(node: str, pod: str) -> Encoded:
    """KubeletKillPod: a sandbox with an IP whose pod is deleted (after its preStop hooks, if it has any and a container runs) or ends
    (``_ends``): every running container stops, with exit code 0 by the deletion's deadline and 137 after it; the network goes."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        f = u[t]
        there, deleting = _cached(u, t, node, pod)
        after_hooks = z3.Or(f[_sb(node, pod, "stopping")], z3.BoolVal(not _hooked(layout, pod)), z3.Not(_some_running(u, t, node, pod)))
        networked = z3.And(f[_sb(node, pod, "exists")], f[_sb(node, pod, "ip")] != NONE)
        return z3.And(machine_up(u, t, node), there, networked, z3.If(deleting, after_hooks, _ends(u, t, node, pod)))

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        f = u[t]
        code: z3.ArithRef = z3.IntVal(0)
        if layout.clocked:
            at = cache_revision(u, t, instance(node), POD)
            late = z3.And(_cached(u, t, node, pod)[1], clock(u, t) > apiserver.value_at(u, t, at, f"pod/{pod}/deadline"))
            code = z3.If(late, kl.SIGKILL_EXIT, 0)
        out: Terms = {_sb(node, pod, "stopping"): z3.BoolVal(True), _sb(node, pod, "ip"): z3.IntVal(NONE)}
        for c in layout.pod_objects[pod].spec.containers:
            rc = _sb(node, pod, c.name)
            running = f[f"{rc}/running"]
            out |= {f"{rc}/running": z3.BoolVal(False), f"{rc}/exit": z3.If(running, code, f[f"{rc}/exit"])}
            out[f"{rc}/finished"] = z3.If(running, clock(u, t), f[f"{rc}/finished"])
        return out

    return Encoded(Action(instance(node), "KubeletKillPod", (("pod", pod_key(pod)),)), guard, effect)


def final_delete(node: str, pod: str) -> Encoded:
    """KubeletDeletePod: a deleted pod whose terminal status is reported (in the cache or the status written last) and whose containers
    have stopped is deleted with grace 0 and its UID (canBeDeleted; the UID matches: a slot stands for one uid); NotFound changes nothing."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        there, deleting = _cached(u, t, node, pod)
        terminal = _reported_terminal(u, t, node, pod)
        return z3.And(reachable(u, t, node), there, deleting, terminal, z3.Not(_some_running(u, t, node, pod)))

    def effect(u: Unrolling, t: int) -> Terms:
        return apiserver.choose(u, t, [(u[t][f"pod/{pod}/exists"], apiserver.remove_pod(u, t, pod))])

    return Encoded(Action(instance(node), "KubeletDeletePod", (("pod", pod_key(pod)),)), guard, effect)


def cleanup(node: str, pod: str, uid: int) -> Encoded:
    """KubeletCleanupPod (HandlePodCleanups): the sandbox (of ``uid``) of a pod slot the kubelet's cache no longer holds is killed and
    removed."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(machine_up(u, t, node), u[t][_sb(node, pod, "exists")], z3.Not(_cached(u, t, node, pod)[0]))

    def effect(u: Unrolling, t: int) -> Terms:
        return _no_sandbox(layout_of(u), node, pod)

    return Encoded(Action(instance(node), "KubeletCleanupPod", (("uid", uid),)), guard, effect)


def _rebound(layout: Layout, pod: str) -> bool:
    """The pod slot may be bound to another node once bound (pods/binding rebinds): it leaves its kubelet's selection while it exists."""
    return layout.ctx.flag(api.REBIND) and pod not in layout.user_pods


def termination(layout: Layout, node: str, pod: str) -> list[Encoded]:
    """The termination actions of a pod slot on ``node`` that it can take: preStop and the final delete for a slot that can be deleted
    (not a user's pod: its name may be created again, with a new uid), a kill also for one that can end, the clean-up of the sandbox also
    for one that can be rebound; each from the first frame a container of the slot can run in."""
    out: list[Encoded] = []
    deletable = pod in layout.deletable
    if deletable and _hooked(layout, pod):
        out.append(run_prestop(node, pod))
    if deletable or layout.pod_objects[pod].spec.restart_policy != "Always":
        out.append(kill_pod(node, pod))
    if deletable and pod not in layout.user_pods:
        out.append(final_delete(node, pod))
    if (deletable and pod not in layout.user_pods) or _rebound(layout, pod):
        out.append(cleanup(node, pod, layout.pod_objects[pod].meta.uid))
    return [attrs.evolve(e, born=layout.after(pod, layout.lead(pod))) for e in out]


# ------------------------------------------------------------ node heartbeats (pkg/kubelet/nodelease, kubelet_node_status.go)


def cached_node(u: Unrolling, t: int, node: str, field: str) -> z3.ExprRef:
    """A cell of the kubelet's own Node as its cache holds it (the store as of its Node cursor)."""
    return cached(u, t, instance(node), NODE, f"node/{node}/{field}")


def _lease_due(u: Unrolling, t: int, node: str) -> z3.BoolRef:
    """kl._lease_due: reachable, and the renew interval has passed since the last renewal."""
    layout = layout_of(u)
    return z3.And(reachable(u, t, node), clock(u, t) >= u[t][_kl(node, "last_renew")] + layout.ctx.timing.lease_renew_interval)


def renew_lease(node: str) -> Encoded:
    """KubeletRenewLease: the node's Lease gets renewTime = now (created if it does not exist yet: layout.quiet), and the kubelet remembers
    when."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return _lease_due(u, t, node)

    def effect(u: Unrolling, t: int) -> Terms:
        return apiserver.write_lease(u, t, node, clock(u, t)) | {_kl(node, "last_renew"): clock(u, t)}

    return Encoded(Action(instance(node), "KubeletRenewLease", ()), guard, effect)


def deliver_nodes(node: str) -> Encoded:
    """WatchDeliver of the kubelet's Node watch (its own Node); the handler ignores Nodes."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(reachable(u, t, node), deliver(u, t, instance(node), NODE)[0])

    def effect(u: Unrolling, t: int) -> Terms:
        return deliver(u, t, instance(node), NODE)[2]

    return Encoded(Action(instance(node), "WatchDeliver", (("kind", NODE),)), guard, effect)


def post_node_status(node: str) -> Encoded:
    """KubeletPostNodeStatus: the cached Node is not Ready; report Ready=True, reason KubeletReady (unconditional; nothing if the store says so)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(cached_node(u, t, node, "ready") != READY.index("True"), reachable(u, t, node))

    def effect(u: Unrolling, t: int) -> Terms:
        f = u[t]
        ready, reason = READY.index("True"), READY_REASONS.index("KubeletReady")
        written = apiserver.write_node(u, t, node, {f"node/{node}/ready": z3.IntVal(ready), f"node/{node}/reason": z3.IntVal(reason)})
        differs = z3.Or(f[f"node/{node}/ready"] != ready, f[f"node/{node}/reason"] != reason)
        return {name: z3.If(differs, term, apiserver.unchanged(u, t, name)) for name, term in written.items()}

    return Encoded(Action(instance(node), "KubeletPostNodeStatus", ()), guard, effect)


def heartbeats(layout: Layout, node: str) -> list[Encoded]:
    """The kubelet's heartbeats and its Node watch, where they are encoded; where no Node is ever written (``layout.quiet``), the Lease's
    renewals alone (its Node status post and Node watch delivery are impossible: ``impossible``)."""
    if layout.heartbeats:
        return [renew_lease(node), deliver_nodes(node), post_node_status(node)]
    return [renew_lease(node)] if layout.quiet else []


def timers(u: Unrolling, t: int) -> list[z3.BoolRef]:
    """kl._timers armed: an exited container of a cached pod that should restart, its back-off still running (a kubelet that is up)."""
    layout = layout_of(u)
    f = u[t]
    out = []
    for node in layout.prefixes:
        for pod in on(layout, node):
            there, deleting = _cached(u, t, node, pod)
            for c in layout.pod_objects[pod].spec.containers:
                rc = _sb(node, pod, c.name)
                waiting = z3.And(f[f"{rc}/exists"], z3.Not(f[f"{rc}/running"]), _should_restart(layout, pod, deleting, f[f"{rc}/exit"]))
                out.append(z3.And(machine_up(u, t, node), there, waiting, _restart_at(u, t, node, pod, c.name) > clock(u, t)))
    return out


def urgent(u: Unrolling, t: int) -> list[z3.BoolRef]:
    """kl._urgent: a kubelet's Lease is due."""
    return [_lease_due(u, t, node) for node in layout_of(u).prefixes]


def lost(layout: Layout, node: str) -> Terms:
    """The kubelet's memory and the machine's sandboxes after a crash (kl.KubeletMemory(), no sandbox); images stay on disk."""
    out: Terms = {}
    for pod in on(layout, node):
        out |= _forgotten_pod(layout, node, pod) | _no_sandbox(layout, node, pod)
    for pod in _status_slots(layout, node):
        out |= _forgotten(layout, node, pod)
    if layout.renews:
        out[_kl(node, "last_renew")] = z3.IntVal(kl.KubeletMemory().last_renew)
    return out


def _no_sandbox(layout: Layout, node: str, pod: str) -> Terms:
    """A pod slot's sandbox cells on a machine that holds no sandbox for it."""
    out: Terms = {_sb(node, pod, "exists"): z3.BoolVal(False), _sb(node, pod, "ip"): z3.IntVal(NONE), _sb(node, pod, "stopping"): z3.BoolVal(False)}
    values = _container_values(None)
    for c in layout.pod_objects[pod].spec.containers:
        out |= {_sb(node, pod, f"{c.name}/{field}"): z3.BoolVal(v) if field in BOOLEAN else z3.IntVal(int(v)) for field, v in values.items()}
    return out


def left_out(layout: Layout, s: State) -> list[str]:
    """The status writes of pods outside the status slots, on nodes where the status manager is encoded for others (kept as constants); the
    final delete and clean-up of a user's pod that can be deleted (its name may be created again, with another uid, which a pod slot's
    cells do not cover), and the clean-up of one that can be rebound (its uid is not known beforehand).

    (Not the status writes of pods whose status no encoded action can change: ``layout.unwritten``.)
    """
    if not covered(layout, s):
        return []
    out = [
        f"{instance(node)} KubeletSyncStatus pod={pod}"
        for node in layout.prefixes
        if _status_slots(layout, node)
        for pod in on(layout, node)
        if pod not in layout.status_slots and pod not in layout.unwritten
    ]
    for node in layout.prefixes:
        users = [pod for pod in on(layout, node) if pod in layout.user_pods]
        out += [f"{instance(node)} KubeletDeletePod pod={pod_key(pod)}" for pod in users if pod in layout.deletable]
        gone = [pod for pod in users if pod in layout.deletable or layout.ctx.flag(api.REBIND)]
        out += [f"{instance(node)} KubeletCleanupPod (the sandbox of pod={pod_key(pod)})" for pod in gone]
    return out


def actions(layout: Layout, s: State) -> list[Encoded]:
    """The kubelets' encoded actions and the container faults (none where :func:`covered` is false)."""
    if not covered(layout, s):
        return []
    out: list[Encoded] = []
    for node in layout.prefixes:
        if (s.machines[node].partitioned and not layout.partitionable) or not (s.machines[node].up or layout.crashable):
            continue
        out.append(deliver_pods(node))
        out += heartbeats(layout, node)
        out += [attrs.evolve(admit(node, pod), born=layout.after(pod, layout.lead(pod) - 2)) for pod in on(layout, node)]
        for pod in on(layout, node):
            after = layout.after(pod, layout.lead(pod) - 1)
            out += [attrs.evolve(start(node, pod, c.name), born=after) for c in layout.pod_objects[pod].spec.containers]
        out += [attrs.evolve(sync_status(node, pod), born=layout.after(pod, layout.lead(pod) - 1)) for pod in _status_slots(layout, node)]
        out += [e for pod in on(layout, node) for e in probes(layout, node, pod)]
        out += [e for pod in on(layout, node) for e in termination(layout, node, pod)]
    return out + faults(layout)


def shared_pod_ip(u: Unrolling, t: int) -> z3.BoolRef:
    """unique-pod-ip broken: two sandboxes of a machine hold the same address (machines' pod CIDRs differ)."""
    layout = layout_of(u)
    f = u[t]
    pairs = []
    for node in layout.prefixes:
        pods = on(layout, node)
        for i, a in enumerate(pods):
            for b in pods[i + 1 :]:
                ip = f[_sb(node, a, "ip")]
                pairs.append(z3.And(f[_sb(node, a, "exists")], f[_sb(node, b, "exists")], ip != NONE, ip == f[_sb(node, b, "ip")]))
    return z3.Or(pairs) if pairs else z3.BoolVal(False)


@per_frame
def _runs(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    """The machine holds a sandbox of the pod slot's uid with a running container (runtime.Sandbox.running)."""
    f = u[t]
    containers = layout_of(u).pod_objects[pod].spec.containers
    return z3.And(f[_sb(node, pod, "exists")], z3.Or([f[_sb(node, pod, f"{c.name}/running")] for c in containers] or [z3.BoolVal(False)]))


def _runs_twice(u: Unrolling, t: int) -> list[z3.BoolRef]:
    """A pod slot's sandbox runs on two machines (a slot's sandboxes on every machine are of the slot's one uid, and its name's)."""
    layout = layout_of(u)
    out = []
    for pod in layout.pods:
        nodes = _nodes(layout, pod)
        out += [z3.And(_runs(u, t, a, pod), _runs(u, t, b, pod)) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
    return out


def runs_elsewhere(u: Unrolling, t: int) -> z3.BoolRef:
    """pod-runs-once broken: a pod uid runs on two machines, or on one its stored pod is not bound to.

    (A sandbox of a removed pod breaks neither; the encoded runs remove no pod while its sandbox runs: a pod bound and not terminal is
    deleted gracefully, and the final delete waits for the containers to stop.)
    """
    layout = layout_of(u)
    f = u[t]
    out = _runs_twice(u, t)
    for node in layout.prefixes:
        for pod in on(layout, node):
            out.append(z3.And(_runs(u, t, node, pod), f[f"pod/{pod}/exists"], f[f"pod/{pod}/node"] != layout.node_code(node)))
    return z3.Or(out) if out else z3.BoolVal(False)


def identity_twice(u: Unrolling, t: int) -> z3.BoolRef:
    """identity-runs-once broken: two running sandboxes of one pod name: of one slot on two machines, or of two lives of the name
    (``Layout.lives``). A machine holds one sandbox per slot in the encoded runs (a pod is removed only once its sandbox cannot run again,
    and a user's pod's name comes back in its slot only after that)."""
    layout = layout_of(u)
    out = _runs_twice(u, t)
    for key in sorted({pod_key(slot) for slot in layout.pods}):
        lives = layout.lives(key)
        for i, a in enumerate(lives):
            out += [z3.And(_runs(u, t, x, a), _runs(u, t, y, b)) for b in lives[i + 1 :] for x in _nodes(layout, a) for y in _nodes(layout, b)]
    return z3.Or(out) if out else z3.BoolVal(False)


def _nodes(layout: Layout, pod: str) -> list[str]:
    """The machines the pod slot may be bound to."""
    return [node for node in layout.prefixes if layout.can_be_on(pod, node)]


def over_capacity(u: Unrolling, t: int) -> z3.BoolRef:
    """node-capacity broken: the pods a machine runs (a sandbox with a running container, its pod stored) need more than the Node's allocatable."""
    layout = layout_of(u)
    f = u[t]
    over = []
    for node in layout.prefixes:
        stored = layout.stored_nodes.get(node)
        if stored is None:
            continue
        alloc = stored.status.allocatable
        running = []
        for pod in on(layout, node):
            containers = layout.pod_objects[pod].spec.containers
            runs = z3.Or([f[_sb(node, pod, f"{c.name}/running")] for c in containers] or [z3.BoolVal(False)])
            running.append((z3.And(f[_sb(node, pod, "exists")], runs, f[f"pod/{pod}/exists"]), layout.pod_objects[pod].spec.requests()))
        for field in ("pods", "cpu", "memory"):
            used = z3.Sum([z3.If(r, getattr(req, field), 0) for r, req in running]) if running else z3.IntVal(0)
            over.append(used > getattr(alloc, field))
    return z3.Or(over) if over else z3.BoolVal(False)


def phase_regressed(u: Unrolling, t: int) -> z3.BoolRef:
    """phase-monotone broken by step t-1: a pod of the same uid left Succeeded or Failed, or a pod is Running without a node."""
    layout = layout_of(u)
    if t == 0:
        return z3.BoolVal(False)
    before, after = u[t - 1], u[t]
    running = PHASES.index(RUNNING)
    out = []
    for key in layout.pods:
        phase = apiserver.pod_status(u, t, key, "phase")
        out.append(z3.And(after[f"pod/{key}/exists"], phase == running, after[f"pod/{key}/node"] == 0))
        if key not in layout.status_slots:
            continue
        same = z3.And(before[f"pod/{key}/exists"], after[f"pod/{key}/exists"])
        if key in layout.user_pods:
            same = z3.And(same, before[f"pod/{key}/uid"] == after[f"pod/{key}/uid"])
        old = apiserver.pod_status(u, t - 1, key, "phase")
        out.append(z3.And(same, status.terminal_phase(old), phase != old))
    return z3.Or(out) if out else z3.BoolVal(False)
