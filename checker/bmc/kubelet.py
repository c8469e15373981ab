"""The kubelet and its machine's container runtime, as Z3 (spec/kubelet.py, spec/runtime.py): admission, container starts, exits.

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

A pod slot stands for one uid: the encoded runs never delete a pod the
kubelet watches nor create one of the same name again, so a sandbox keyed
by uid is the sandbox of its slot. :func:`covered` checks what the encoding
takes for granted of the scenario (no status written and not yet seen,
every sandbox of a known pod, no pod leaving a node's selection: not with
``apiserver-rebind``). The status manager, probes, liveness kills,
pod termination and clean-up, heartbeats and the node watch are not encoded
yet, and are listed as such.
"""

from __future__ import annotations

import attrs
import z3

from checker.bmc import apiserver
from checker.bmc.core import NONE, Cell, Encoded, Terms, Unrolling, per_frame
from checker.bmc.informer import cache_revision, deliver
from checker.bmc.layout import Layout, layout_of
from spec import apiserver as api
from spec import kubelet as kl
from spec.component import Action
from spec.objects import POD, TERMINAL_PHASES
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
    if len(set(layout.prefixes.values())) != len(layout.prefixes) or layout.ctx.flag(api.REBIND):
        return False  # shared prefixes; or pods that leave a kubelet's selection (its handler forgets them: not encoded)
    for node in layout.prefixes:
        if instance(node) not in s.views:
            return False
        memory: kl.KubeletMemory = s.views[instance(node)].memory
        uids = {layout.pod_objects[p].meta.uid for p in on(layout, node) if p not in layout.user_pods}
        if memory.written or not set(s.machines[node].sandboxes) <= uids:
            return False
    return True


def _kl(node: str, what: str) -> str:
    return f"kl/{node}/{what}"


def _sb(node: str, pod: str, what: str) -> str:
    return f"m/{node}/sb/{pod}/{what}"


def _image(node: str, image: str) -> str:
    return f"m/{node}/image/{image}"


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
    return out


def _uid(layout: Layout, s: State, pod: str) -> int | None:
    """The uid a pod slot stands for in ``s``: an initial pod's own; for a pod created in the run, the stored one's (None before it exists).

    (A generated slot's uid may be handed to another object, such as a pod the user creates, when the ReplicaSet does not take it.)
    """
    if pod in layout.user_pods or pod in layout.generated:
        stored = s.api.objects.pods.get(pod)
        return stored.meta.uid if stored is not None else None
    return layout.pod_objects[pod].meta.uid


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
        memory: kl.KubeletMemory = s.views[instance(node)].memory
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
    return out


# ------------------------------------------------------------ reading the view


@per_frame
def _cached(u: Unrolling, t: int, node: str, pod: str) -> tuple[z3.BoolRef, z3.BoolRef]:
    """(in the kubelet's cache, being deleted there) for a pod slot that may be bound to its node."""
    layout = layout_of(u)
    at = cache_revision(u, t, instance(node), POD)
    there = apiserver.value_at(u, t, at, f"pod/{pod}/exists")
    if pod in layout.dynamic:
        there = z3.And(there, apiserver.value_at(u, t, at, f"pod/{pod}/node") == layout.node_code(node))
    return there, apiserver.value_at(u, t, at, f"pod/{pod}/deleting")


def _finished(layout: Layout, pod: str) -> bool:
    """kl.finished: terminal in the API (a phase nothing encoded writes) or in a written status (none here); never with phase-regress."""
    return not layout.ctx.flag(kl.PHASE_REGRESS) and layout.pod_objects[pod].status.phase in TERMINAL_PHASES


# ------------------------------------------------------------ actions


def deliver_pods(node: str) -> Encoded:
    """WatchDeliver of the kubelet's pod watch (spec.nodeName=<node>); its handler changes nothing here (no status written, no pod gone)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return deliver(u, t, instance(node), POD)[0]

    def effect(u: Unrolling, t: int) -> Terms:
        return dict(deliver(u, t, instance(node), POD)[2])

    return Encoded(Action(instance(node), "WatchDeliver", (("kind", POD),)), guard, effect)


def _waiting(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    layout = layout_of(u)
    f = u[t]
    there, _ = _cached(u, t, node, pod)
    seen = z3.Or(f[_kl(node, f"admitted/{pod}")], f[_kl(node, f"rejected/{pod}")])
    return z3.And(there, z3.Not(seen), z3.BoolVal(not _finished(layout, pod)))


def admit(node: str, pod: str) -> Encoded:
    """KubeletAdmitPod: the oldest waiting pod (creation time, then key) is admitted if it fits (kl.admission_failure), else rejected."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        if node not in layout.kubelet_nodes:
            return z3.BoolVal(False)  # the kubelet's cache has no Node yet
        rank = _age(layout, pod)
        older = [_waiting(u, t, node, other) for other in on(layout, node) if _age(layout, other) < rank]
        return z3.And(_waiting(u, t, node, pod), z3.Not(z3.Or(older)) if older else z3.BoolVal(True))

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        fits = z3.BoolVal(True) if layout.ctx.flag(kl.NO_ADMISSION) else _fits(u, t, node, pod)
        return {_kl(node, f"admitted/{pod}"): fits, _kl(node, f"rejected/{pod}"): z3.Not(fits)}

    return Encoded(Action(instance(node), "KubeletAdmitPod", (("pod", pod),)), guard, effect)


def _age(layout: Layout, pod: str) -> tuple[int, str]:
    return layout.pod_objects[pod].meta.creation_timestamp, pod


@per_frame
def _fits(u: Unrolling, t: int, node: str, pod: str) -> z3.BoolRef:
    """No admission failure: room for the pod's requests beside the active admitted pods; node affinity and taints (constant here)."""
    layout = layout_of(u)
    f = u[t]
    obj = layout.pod_objects[pod]
    node_obj = layout.kubelet_nodes[node]
    alone = kl.admission_failure(obj, node_obj, [])
    if alone is not None and not alone[0].startswith("OutOf"):
        return z3.BoolVal(False)  # node affinity or a NoExecute taint: the node does not change here
    active = []
    for other in on(layout, node):
        if layout.pod_objects[other].is_terminal():
            continue
        there, _ = _cached(u, t, node, other)
        active.append((z3.And(there, f[_kl(node, f"admitted/{other}")]), layout.pod_objects[other].spec.requests()))
    alloc, req = node_obj.status.allocatable, obj.spec.requests()
    conditions = []
    for requested, capacity, use in (
        (1, alloc.pods, lambda r: 1),
        (req.cpu, alloc.cpu, lambda r: r.cpu),
        (req.memory, alloc.memory, lambda r: r.memory),
    ):
        if requested > 0:
            used = z3.Sum([z3.If(a, use(r), 0) for a, r in active]) if active else z3.IntVal(0)
            conditions.append(requested + used <= capacity)
    return z3.And(conditions) if conditions else z3.BoolVal(True)


def exit_container(node: str, pod: str, container: str, code: int) -> Encoded:
    """ContainerExit: a running container's process exits with ``code`` (a fault, counted against its budget)."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        layout = layout_of(u)
        f = u[t]
        return z3.And(f["budget/container-exit"] < layout.budgets.get("container-exit", 0), f[_sb(node, pod, f"{container}/running")])

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        f = u[t]
        return {
            "budget/container-exit": f["budget/container-exit"] + 1,
            _sb(node, pod, f"{container}/running"): z3.BoolVal(False),
            _sb(node, pod, f"{container}/exit"): z3.IntVal(code),
            _sb(node, pod, f"{container}/finished"): z3.IntVal(layout.clock),
        }

    return Encoded(Action("fault", "ContainerExit", (("pod", pod), ("container", container), ("code", code))), guard, effect)


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
                _restart_at(u, t, node, pod, container) > layout.clock,
            ),
        )
        return z3.And(
            f[_kl(node, f"admitted/{pod}")],
            there,
            z3.Not(deleting),
            z3.BoolVal(not _finished(layout, pod)),
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
            f"{rc}/started": z3.IntVal(layout.clock),
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

    return Encoded(Action(instance(node), "KubeletStartContainer", (("pod", pod), ("container", container))), guard, effect)


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


def actions(layout: Layout, s: State) -> list[Encoded]:
    """The kubelets' encoded actions and the container exits (none where :func:`covered` is false)."""
    if not covered(layout, s):
        return []
    out: list[Encoded] = []
    for node in layout.prefixes:
        if not s.machines[node].reachable:
            continue
        out.append(deliver_pods(node))
        out += [attrs.evolve(admit(node, pod), born=layout.born(pod)) for pod in on(layout, node)]
        for pod in on(layout, node):
            out += [attrs.evolve(start(node, pod, c.name), born=layout.born(pod)) for c in layout.pod_objects[pod].spec.containers]
    if layout.budgets.get("container-exit", 0) > 0:
        for node in layout.prefixes:
            out += [
                attrs.evolve(exit_container(node, pod, c.name, code), born=layout.born(pod))
                for pod in on(layout, node)
                for c in layout.pod_objects[pod].spec.containers
                for code in (0, 1)
            ]
    return out


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
