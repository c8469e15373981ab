"""kspec prove: k-induction over abstractions of what the API server stores, the components remember and the container runtimes hold.

Some invariants are kept by one component's rules alone, whatever the
others do: a pod's nodeName is write-once because the binding subresource
refuses a bound pod and spec.nodeName is immutable on update
(pkg/registry/core/pod/storage/storage.go assignPod,
pkg/apis/core/validation ValidatePodUpdate); two Services never share a
ClusterIP because the allocator hands out each address once
(pkg/registry/core/service/ipallocator); two pod sandboxes never share an
IP because a node's IPAM hands out an address no sandbox of the node holds
(its pod CIDR is its own). Others rest on what components remember: a pod
uid runs only on the node it is bound to because only that node's kubelet
ever holds it (pkg/kubelet/config/apiserver.go selects
spec.nodeName=<node>) and a kubelet starts only what it holds; a
terminal phase stays final because only the pod's kubelet writes one, and
its status manager then leaves the pod alone, even while its watch has not
shown the write back (pkg/kubelet/status/status_manager.go); and the
scheduler's FitError status, a whole-status write, is only ever for a pod it
sees unbound, which it did not bind itself.

For such an invariant an *abstraction* of the objects it reads is a small
guarded-command model (``checker.guarded``): one pod as the store holds it
(whether it exists and is bound, whether it is being deleted), the same pod
followed through its writers (its phase; what its node's kubelet sees of it
and remembers writing; what the scheduler sees of it and remembers
assuming), one pod uid on the machines (stored or removed, the node it is or
was last bound to, per node whether the kubelet holds it and whether it runs
there), a pair of Services (whether each exists, and whether their
ClusterIPs are equal), or a pair of sandboxes (whether each exists and
runs, and whether their IPs are equal). Each command is a kind of change the
components make. Z3 then proves the invariant of the abstraction by
k-induction (``checker.symbolic.prove``): for every depth, from the
scenario's initial objects. Where the invariant alone is not inductive, the
abstraction states *lemmas* (as mypyvy's user invariants), and Z3 proves the
invariant and the lemmas together.

Why that is a proof about the model: every step of the executable spec
changes each pod (each pair) as some path of at most two commands does, so
every run of the spec is a run of the abstraction, and an invariant of the
abstraction holds in every run of the spec. One pod (one pair) stands for
all: a change touches one object, and the invariants are about one pod (one
pair) at a time. That premise is the abstraction's soundness, and it is
checked, not proved: ``tests/test_induction.py`` replays every step of
seeded random runs of every scenario and variant, and of every committed
counterexample, through :func:`unexplained`, and lets the Hypothesis engine
search for a step it does not explain (the differential test that keeps the
abstraction and the spec in step).

When the abstraction reaches a violation (of the invariant or of a lemma),
that is not yet a counterexample: the abstraction admits more runs than the
spec. :func:`prove_invariant` then searches the model itself, breadth-first
for a while (a shortest counterexample) and then with the Hypothesis engine
(deeper runs); a violation they find is the refutation, with a trace that
replays. When it finds none the answer is *unknown*, with the abstract
path and what was searched. The transition invariants are
monitored by a bit the violating command sets, as a history variable in
TLA+.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import attrs

from checker import symbolic
from checker.check import EXPLORE, ExploreOptions, RunReport, check_one
from checker.explore import Limits
from checker.guarded import Command, GuardedModel, Layout, Pattern, Patterns
from checker.simulate import Walk, random_walk
from spec.apiserver import CLUSTERIP_LAG, REBIND
from spec.component import Context, node_of
from spec.errors import InvalidInputError, UnknownNameError
from spec.frozen import EMPTY
from spec.invariants import INVARIANTS
from spec.kubelet import IP_BY_RUNNING, PHASE_REGRESS, STALE_RELIST, finished
from spec.model import KubeModel
from spec.objects import FAILED, PENDING, POD, RUNNING, SUCCEEDED, TERMINAL_PHASES, UNKNOWN, Pod, ReplicaSet, Service
from spec.runtime import Sandbox
from spec.scenarios import Scenario
from spec.scheduler import NAME as SCHEDULER
from spec.scheduler import NO_ASSUME, TWO_SCHEDULERS
from spec.state import State
from spec.variants import Variant

T = TypeVar("T")

PROVED, REFUTED, UNDECIDED = symbolic.PROVED, symbolic.REFUTED, symbolic.UNKNOWN
APISERVER = "kube-apiserver"
KUBELET = "kubelet"
PHASES = (PENDING, RUNNING, SUCCEEDED, FAILED, UNKNOWN)
"""a pod's phase as the abstraction numbers it"""
_TERMINAL = tuple(i for i, p in enumerate(PHASES) if p in TERMINAL_PHASES)


@attrs.frozen
class Abstraction:
    """A guarded-command model of the objects an invariant reads, as the component that keeps the invariant changes them."""

    invariant: str
    model: GuardedModel
    properties: Patterns
    what: str
    """what one abstract state stands for, in words"""
    describe: Callable[[int], str]
    """an abstract state in words"""
    alpha: Callable[[State, State], Iterator[tuple[str, int, int]]]
    """for one step of the spec, per object (or pair): its name, its abstract state before, and after (with the monitor
    bits of the transition invariants set where the step breaks them)"""
    lemmas: tuple[tuple[str, str, tuple[Pattern, ...]], ...] = ()
    """strengthening invariants, proved with the invariant ("lemma", what it says, the patterns of the states it rules
    out): together they are inductive where the invariant alone is not"""

    @property
    def claims(self) -> Patterns:
        """The invariant and its lemmas, as one property to prove."""
        return Patterns((*self.properties.bad, *self.lemmas))


# ------------------------------------------------------------ one pod


_POD = Layout([("exists", 1), ("bound", 1), ("deleting", 1), ("moved", 1)])


def _pod_commands(ctx: Context) -> list[Command]:
    """Every kind of write the API server accepts on one pod, as it changes whether the pod is bound."""
    c = _POD.command
    out = [
        c(("create", 0), APISERVER, [{"exists": 0}], {"exists": 1, "bound": 0, "deleting": 0}),
        c(("create bound", 0), APISERVER, [{"exists": 0}], {"exists": 1, "bound": 1, "deleting": 0}),
        c(("bind", 0), APISERVER, [{"exists": 1, "bound": 0, "deleting": 0}], {"bound": 1}),
        c(("mark deleting", 0), APISERVER, [{"exists": 1, "deleting": 0}], {"deleting": 1}),
        c(("remove", 0), APISERVER, [{"exists": 1}], {"exists": 0, "bound": 0, "deleting": 0}),
    ]
    if ctx.flag(REBIND):  # pods/binding accepts a bound pod: it may move to another node
        out.append(c(("bind again", 0), APISERVER, [{"exists": 1, "bound": 1, "deleting": 0}], {"moved": 1}))
    return out


def _pod_state(pod: Pod | None, moved: bool = False) -> int:
    if pod is None:
        return _POD.encode({"moved": int(moved)})
    fields = {"exists": 1, "bound": int(bool(pod.spec.node_name)), "deleting": int(pod.meta.deletion_timestamp is not None)}
    return _POD.encode({**fields, "moved": int(moved)})


def _pod_steps(before: State, after: State) -> Iterator[tuple[str, int, int]]:
    """Each pod's abstract states across one step; the monitor says whether the step moved a bound pod."""
    old_pods, new_pods = before.api.objects.pods, after.api.objects.pods
    for key in sorted({*old_pods, *new_pods}):
        old, new = old_pods.get(key), new_pods.get(key)
        same = old is not None and new is not None and old.meta.uid == new.meta.uid  # the same pod: pod-bound-once applies
        moved = same and bool(old.spec.node_name) and old.spec.node_name != new.spec.node_name  # type: ignore[union-attr]
        yield key, _pod_state(old), _pod_state(new, moved)


def _describe_pod(s: int) -> str:
    if not _POD.get(s, "exists"):
        return "no pod"
    bound = "a bound" if _POD.get(s, "bound") else "an unbound"
    deleting = ", being deleted" if _POD.get(s, "deleting") else ""
    return f"{bound} pod{deleting}{' (moved to another node)' if _POD.get(s, 'moved') else ''}"


def _pod_abstraction(ctx: Context, initial: Sequence[State], invariant: str) -> Abstraction:
    starts = [_pod_state(None), *(_pod_state(p) for s in initial for p in s.api.objects.pods.values())]
    model = GuardedModel(_POD, [_POD.decode(s) for s in dict.fromkeys(starts)], _pod_commands(ctx))
    bad = (("pod-bound-once", "a bound pod moved to another node", (_POD.pattern({"moved": 1}),)),)
    what = "one pod as the API server stores it: whether it exists, is bound, whether it is being deleted"
    return Abstraction(invariant, model, Patterns(bad), what, _describe_pod, _pod_steps)


# ------------------------------------------------------------ one pod through its writers


_LIFE = Layout([("exists", 1), ("bound", 1), ("phase", 3), ("deleting", 1), ("regressed", 1), ("kv", 3), ("kw", 1), ("sv", 3), ("sa", 2)])
"""One pod (by key) as the API server stores it, as its node's kubelet sees it and remembers writing it, and as the
scheduler sees it and remembers assuming it. kv: the kubelet's view holds 0 no copy, 1 a copy of another uid, 2 this
pod not terminal, 3 this pod terminal, or 4 there is no kubelet (its machine is down); kw: the status the kubelet last
wrote and has not yet seen come back is terminal; sv: the scheduler's view holds 0 no copy, 1 another uid unbound, 2
another uid bound, 3 this pod unbound, 4 this pod bound, or 5 no copy and none of this pod unbound is still to come
(its watch is past them); sa: the scheduler assumed 0 nothing, 1 this pod (Binding not sent), 2 this pod (bound, awaiting
confirmation), 3 another uid. The kubelet's fields are 0 while the pod is absent or unbound."""


class _Commands:
    """Commands under one label each, numbered by the order they are added (an action is a label and a number)."""

    def __init__(self, layout: Layout) -> None:
        self.layout, self.out, self._count = layout, list[Command](), dict[str, int]()

    def add(self, label: str, component: str, guards: Sequence[Mapping[str, int]], assign: Mapping[str, int]) -> None:
        n = self._count.get(label, 0)
        self._count[label] = n + 1
        self.out.append(self.layout.command((label, n), component, guards, assign))


def _status(c: _Commands, label: str, component: str, guard: Mapping[str, int], phases: Sequence[int], written: bool) -> None:
    """A status write from ``guard``'s states to each of ``phases`` (the monitor set where a terminal phase changes);
    ``written``: the kubelet remembers it (kw says whether it was terminal)."""
    for p in range(len(PHASES)):
        for q in phases:
            assign = {"phase": q, **({"regressed": 1} if p in _TERMINAL and q != p else {})}
            c.add(label, component, [{**guard, "phase": p}], {**assign, **({"kw": int(q in _TERMINAL)} if written else {})})


def _lands_on_node(c: _Commands, label: str, component: str, guards: Sequence[Mapping[str, int]], assign: Mapping[str, int]) -> None:
    """The pod becomes bound to a node whose kubelet may hold a copy of an earlier pod of that name (and its write), or be down."""
    for kv, kw in ((0, 0), (0, 1), (1, 0), (1, 1), (4, 0)):
        c.add(label, component, guards, {**assign, "bound": 1, "kv": kv, "kw": kw})


def _api_commands(c: _Commands, ctx: Context) -> None:
    """Creation, binding, deletion and removal, as the API server accepts them."""
    fresh = {"exists": 1, "phase": PHASES.index(PENDING), "deleting": 0}
    if _created(ctx.scenario, bound=False):
        c.add("create", APISERVER, [{"exists": 0}], {**fresh, "bound": 0, "kv": 0, "kw": 0})
    if _created(ctx.scenario, bound=True):
        earlier = (0, 1, 2) if _shared_names(ctx.scenario) else (0, 2)  # an earlier pod of the name was unbound only if shared
        for sv in earlier:  # the scheduler will see it bound only
            _lands_on_node(c, "create bound", APISERVER, [{"exists": 0, "sv": sv}], {**fresh, "sv": sv or 5})
    bindable = [{"exists": 1, "bound": 0, "deleting": 0}]
    if ctx.flag(REBIND):  # pods/binding accepts a bound pod; the kubelet of the node it left still holds it
        bindable.append({"exists": 1, "bound": 1, "deleting": 0})
        _status(c, "status from the node it left", KUBELET, {"exists": 1, "bound": 1}, range(len(PHASES)), False)
    _lands_on_node(c, "bind", SCHEDULER, [{**g, "sa": 1} for g in bindable], {"sa": 0 if ctx.flag(NO_ASSUME) else 2})
    if ctx.flag(TWO_SCHEDULERS):
        _lands_on_node(c, "bind (the other scheduler)", SCHEDULER, bindable, {})
    c.add("mark deleting", APISERVER, [{"exists": 1, "deleting": 0}], {"deleting": 1})
    gone = {"exists": 0, "bound": 0, "phase": 0, "deleting": 0, "kv": 0, "kw": 0}
    for sv in range(6):
        for sa in range(4):  # the scheduler's copy and assumption now belong to another uid
            c.add("remove", APISERVER, [{"exists": 1, "sv": sv, "sa": sa}], {**gone, "sv": (0, 1, 2, 1, 2, 0)[sv], "sa": 3 if sa in (1, 2) else sa})


def _scheduler_commands(c: _Commands, unbound: bool, regress: bool) -> None:
    """Assuming, forgetting a failed Binding, the FitError status (its view's copy, unconditionally), its view catching up.

    ``unbound``: whether there are (or will be) unbound pods at all; ``regress``: whether a terminal phase may be followed
    by another (so the view may see the pod finish while it runs again).
    """
    c.add("assume", SCHEDULER, [{"sv": 3, "sa": 0}], {"sa": 1})
    c.add("assume", SCHEDULER, [{"sv": 1, "sa": 0}], {"sa": 3})
    c.add("forget (Binding refused)", SCHEDULER, [{"sa": 1, "bound": 1}, {"sa": 1, "deleting": 1}, {"sa": 3}], {"sa": 0})
    for sv in (1, 3):
        _status(c, "FitError status", SCHEDULER, {"exists": 1, "sv": sv, "sa": 0}, [PHASES.index(PENDING)], False)
    confirm = {0: 0, 1: 1, 2: 0, 3: 0}  # a bound copy confirms an assumption whose Binding was sent
    for sa in range(4):
        for sv in (0, 1, 3):
            c.add("scheduler sees it unbound", SCHEDULER, [{"exists": 1, "sv": sv, "sa": sa}], {"sv": 3, "sa": 0 if sa == 3 else sa})
        for sv in range(6):
            c.add("scheduler sees it bound", SCHEDULER, [{"exists": 1, "bound": 1, "sv": sv, "sa": sa}], {"sv": 4, "sa": confirm[sa]})
    for sv in (1, 2):  # then a bound pod can only have been created bound: none of it unbound is to come
        c.add("scheduler sees another uid go", SCHEDULER, [{"sv": sv, "exists": 0}, {"sv": sv, "bound": 0}], {"sv": 0, "sa": 0})
        c.add("scheduler sees another uid go", SCHEDULER, [{"sv": sv, "exists": 1, "bound": 1}], {"sv": 5, "sa": 0})
    earlier = ((0, 1), (0, 2), (1, 2)) if unbound else ((0, 2),)
    for sv, seen in earlier:  # an earlier pod of the name, created (or bound) before this one
        for sa in range(4):
            c.add("scheduler sees an earlier pod", SCHEDULER, [{"sv": sv, "sa": sa}], {"sv": seen})
            c.add("scheduler sees an earlier pod", SCHEDULER, [{"sv": sv, "sa": sa}], {"sv": seen, "sa": 0})
    for p in range(len(PHASES)) if regress else _TERMINAL:  # its informer selects status.phase!=Succeeded,!=Failed
        c.add("scheduler sees it finish", SCHEDULER, [{"exists": 1, "sv": 4, "phase": p}], {"sv": 5, "sa": 0})
    c.add("scheduler restarts", SCHEDULER, [{"exists": 0}], {"sv": 0, "sa": 0})
    c.add("scheduler restarts", SCHEDULER, [{"exists": 1, "bound": 0}], {"sv": 3, "sa": 0})
    for p in range(len(PHASES)):
        c.add("scheduler restarts", SCHEDULER, [{"exists": 1, "bound": 1, "phase": p}], {"sv": 5 if p in _TERMINAL else 4, "sa": 0})


def _kubelet_commands(c: _Commands, ctx: Context) -> None:
    """The status manager's writes (pod workers leave a finished pod alone), its view catching up, a restart."""
    on_node = {"exists": 1, "bound": 1}
    regress = ctx.flag(PHASE_REGRESS)  # the pod workers forget that a pod finished, so a terminal copy may be out of date
    writers = [(kv, kw) for kv in (2, 3) for kw in (0, 1)] if regress else [(2, 0)]
    for kv, kw in writers:
        _status(c, "kubelet writes status", KUBELET, {**on_node, "kv": kv, "kw": kw}, range(len(PHASES)), True)
    for kv in range(4):  # a down machine's kubelet sees nothing until it restarts
        if kv < 3 or regress:  # a relist is not older than what the view has seen
            c.add("kubelet sees it", KUBELET, [{**on_node, "kv": kv}], {"kv": 2})
        for p in range(len(PHASES)) if regress else _TERMINAL:  # the copy is terminal; its write is forgotten (or not)
            c.add("kubelet sees it finished", KUBELET, [{**on_node, "kv": kv, "phase": p}], {"kv": 3})
            c.add("kubelet sees its write", KUBELET, [{**on_node, "kv": kv, "phase": p}], {"kv": 3, "kw": 0})
    c.add("kubelet sees another uid's write", KUBELET, [{**on_node, "kv": 1}], {"kw": 0})
    c.add("its node crashes", KUBELET, [on_node], {"kv": 4, "kw": 0})
    c.add("kubelet sees another uid go", KUBELET, [{**on_node, "kv": 1}], {"kv": 0, "kw": 0})
    stale = ctx.flag(STALE_RELIST)
    for p in range(len(PHASES)):
        listed = [0, 1, 2, *([3] if p in _TERMINAL else [])] if stale else [3 if p in _TERMINAL else 2]
        for kv in listed:
            c.add("kubelet restarts", KUBELET, [{**on_node, "phase": p}], {"kv": kv, "kw": 0})


def _created(scenario: Scenario, bound: bool) -> bool:
    """Whether anyone may create a pod with (``bound``) or without spec.nodeName: a user's bare pod, a ReplicaSet's template."""
    replicasets = (*scenario.user.replicasets, *(o for o in scenario.objects if isinstance(o, ReplicaSet)))
    specs = [*(p.spec for p in scenario.user.pods), *(rs.spec.template.spec for rs in replicasets)]
    return any(bool(spec.node_name) == bound for spec in specs)


def _names(scenario: Scenario, bound: bool) -> tuple[set[str], set[str]]:
    """The keys of the pods created with (``bound``) or without spec.nodeName: fixed keys, and generateName prefixes."""
    replicasets = (*scenario.user.replicasets, *(o for o in scenario.objects if isinstance(o, ReplicaSet)))
    fixed = {p.meta.key for p in scenario.user.pods if bool(p.spec.node_name) == bound}
    if not bound:  # the scenario's own unbound pods are earlier pods of their names too
        fixed |= {o.meta.key for o in scenario.objects if isinstance(o, Pod) and not o.spec.node_name}
    prefixes = {f"{rs.meta.namespace}/{rs.meta.name}-" for rs in replicasets if bool(rs.spec.template.spec.node_name) == bound}
    return fixed, prefixes


def _shared_names(scenario: Scenario) -> bool:
    """Whether one pod name may be created both unbound and bound (a generated name may be any with its prefix)."""
    (fixed_a, pre_a), (fixed_b, pre_b) = _names(scenario, False), _names(scenario, True)
    if fixed_a & fixed_b:
        return True
    covers = [(p, n) for p in pre_a for n in (*fixed_b, *pre_b)] + [(p, n) for p in pre_b for n in (*fixed_a, *pre_a)]
    return any(n.startswith(p) or p.startswith(n) for p, n in covers)


def _life_state(s: State, key: str, regressed: bool = False) -> int:
    """The pod named ``key`` in ``s``: in the store, in its node's kubelet and in the scheduler."""
    pod = s.api.objects.pods.get(key)
    fields = {"regressed": int(regressed)}
    if pod is not None:
        fields |= {"exists": 1, "bound": int(bool(pod.spec.node_name)), "phase": PHASES.index(pod.status.phase)}
        fields["deleting"] = int(pod.meta.deletion_timestamp is not None)
        fields |= _kubelet_fields(s, key, pod)
    return _LIFE.encode(fields | _scheduler_fields(s, key, pod))


def _kubelet_fields(s: State, key: str, pod: Pod) -> dict[str, int]:
    """kv and kw: what the kubelet of the pod's node holds of it and remembers writing (0 while the pod is unbound)."""
    kubelet = f"{KUBELET}/{pod.spec.node_name}"
    if not pod.spec.node_name or kubelet not in s.views:
        return {}
    if not s.machines[node_of(kubelet)].up:
        return {"kv": 4}
    copy = s.views[kubelet].cache.pods.get(key)
    written = s.views[kubelet].memory.written.get(key)
    kv = 0 if copy is None else 1 if copy.meta.uid != pod.meta.uid else 3 if copy.is_terminal() else 2
    return {"kv": kv, "kw": int(written is not None and written.phase in TERMINAL_PHASES)}


def _scheduler_fields(s: State, key: str, pod: Pod | None) -> dict[str, int]:
    """sv and sa: what the scheduler's view holds of the name and what it assumed, relative to the stored pod's uid."""
    if SCHEDULER not in s.views:
        return {}
    view = s.views[SCHEDULER]
    copy, entry = view.cache.pods.get(key), view.memory.assumed.get(key)
    same = copy is not None and pod is not None and copy.meta.uid == pod.meta.uid
    sv = (3 if same else 1) + int(bool(copy.spec.node_name)) if copy is not None else 0 if _unbound_to_come(s, pod) else 5
    mine = entry is not None and pod is not None and entry.uid == pod.meta.uid
    return {"sv": sv, "sa": 0 if entry is None else 3 if not mine else 1 if entry.binding else 2}


def _unbound_to_come(s: State, pod: Pod | None) -> bool:
    """Whether the scheduler's pod watch still has to deliver (or a relist may show) ``pod`` unbound (True if no pod)."""
    if pod is None:
        return True
    cursor = s.channels.cursors.get(SCHEDULER, EMPTY).get(POD)
    if cursor is None:
        return False
    pending = (ev for ev in s.channels.log if ev.revision > cursor and ev.kind == POD and ev.key == pod.meta.key)
    versions = (v for ev in pending for v in (ev.old, ev.new))
    return any(isinstance(v, Pod) and v.meta.uid == pod.meta.uid and not v.spec.node_name for v in versions)


def _life_steps(before: State, after: State) -> Iterator[tuple[str, int, int]]:
    """Each pod's abstract states across one step; the monitor says whether the step changed a terminal phase."""
    old_pods, new_pods = before.api.objects.pods, after.api.objects.pods
    keys = {*old_pods, *new_pods}
    for s in (before, after):
        if SCHEDULER in s.views:
            keys |= {*s.views[SCHEDULER].cache.pods, *s.views[SCHEDULER].memory.assumed}
    for key in sorted(keys):
        old, new = old_pods.get(key), new_pods.get(key)
        regressed = (
            old is not None and new is not None and old.meta.uid == new.meta.uid and old.is_terminal() and old.status.phase != new.status.phase
        )
        yield key, _life_state(before, key), _life_state(after, key, regressed)


_KV = ("no copy", "a copy of an earlier pod", "a copy", "a terminal copy", "down")
_SV = ("no copy", "an earlier pod unbound", "an earlier pod bound", "a copy unbound", "a copy bound", "no copy, past it")
_SA = ("", ", assumed it", ", assumed it and sent the Binding", ", assumed an earlier pod")


def _describe_life(s: int) -> str:
    g = functools.partial(_LIFE.get, s)
    scheduler = f"scheduler: {_SV[g('sv')]}{_SA[g('sa')]}"
    if not g("exists"):
        return f"no pod; {scheduler}"
    deleting = ", being deleted" if g("deleting") else ""
    regressed = " (left a terminal phase)" if g("regressed") else ""
    head = f"{'a bound' if g('bound') else 'an unbound'} pod, {PHASES[g('phase')]}{deleting}{regressed}"
    kubelet = f"; kubelet: {_KV[g('kv')]}{', wrote a terminal status' if g('kw') else ''}" if g("bound") else ""
    return f"{head}{kubelet}; {scheduler}"


def _life_abstraction(ctx: Context, initial: Sequence[State], invariant: str) -> Abstraction:
    keys = sorted({key for s in initial for key in s.api.objects.pods})
    starts = [_LIFE.encode({}), *(_life_state(s, key) for s in initial for key in keys)]
    c = _Commands(_LIFE)
    unbound = _created(ctx.scenario, bound=False) or any(_LIFE.get(s, "exists") and not _LIFE.get(s, "bound") for s in starts)
    _api_commands(c, ctx)
    _scheduler_commands(c, unbound, ctx.flag(PHASE_REGRESS))
    _kubelet_commands(c, ctx)
    model = GuardedModel(_LIFE, [_LIFE.decode(s) for s in dict.fromkeys(starts)], c.out)
    running_unbound = _LIFE.pattern({"exists": 1, "bound": 0, "phase": PHASES.index(RUNNING)})
    bad = (("phase-monotone", "a terminal phase changed, or a pod runs unbound", (_LIFE.pattern({"regressed": 1}), running_unbound)),)
    what = (
        "one pod as the API server stores it, as its node's kubelet sees it and remembers writing it, "
        "and as the scheduler sees it and remembers assuming it"
    )
    lemmas = _LIFE_LEMMAS if unbound else (*_LIFE_LEMMAS, _NO_UNBOUND_LEMMA)
    return Abstraction(invariant, model, Patterns(bad), what, _describe_life, _life_steps, lemmas)


def _life_lemma(text: str, *states: Mapping[str, int], exists: bool = True) -> tuple[str, str, tuple[Pattern, ...]]:
    """A lemma ruling out the states with these fields (of a pod that exists, unless ``exists`` is False)."""
    return "lemma", text, tuple(_LIFE.pattern({**({"exists": 1} if exists else {}), **fields}) for fields in states)


_LIFE_LEMMAS = (
    _life_lemma("a pod in a terminal phase is bound", *({"bound": 0, "phase": p} for p in _TERMINAL)),
    _life_lemma(
        "a pod in a terminal phase is seen terminal by its node's kubelet, or the kubelet remembers writing it so, or is down",
        *({"phase": p, "kv": kv} for p in _TERMINAL for kv in (0, 1)),
        *({"phase": p, "kv": 2, "kw": 0} for p in _TERMINAL),
    ),
    _life_lemma(
        "the scheduler holds a copy of the pod only while it is stored, and has assumed it only while it holds that copy",
        *({"exists": 0, "sv": sv} for sv in (3, 4)),
        *({"exists": 0, "sa": sa} for sa in (1, 2)),
        *({"sv": sv, "sa": sa} for sv in (0, 1, 2, 5) for sa in (1, 2)),
        exists=False,
    ),
    _life_lemma(
        "the scheduler holds no unbound copy of a bound pod, unless it bound the pod itself and awaits the confirmation",
        *({"bound": 1, "sv": sv} for sv in (0, 1)),
        *({"bound": 1, "sv": 3, "sa": sa} for sa in (0, 1, 3)),
    ),
)
"""why phase-monotone holds: a terminal phase is written only by the kubelet, which then leaves the pod alone, and the
scheduler's FitError status, the other whole-status write, is never for a bound pod"""
_NO_UNBOUND_LEMMA = _life_lemma(
    "no pod is unbound, in the store or in the scheduler's view", {"exists": 1, "bound": 0}, {"sv": 1}, {"sv": 3}, exists=False
)
"""where every pod is created bound"""


# ------------------------------------------------------------ pairs of addressed objects


def _address_fields(a_ip: str, b_ip: str) -> dict[str, int]:
    """a's address is 1 (if it has one); b's is 1 if it is a's, else 2 (0: none)."""
    return {"a_ip": int(bool(a_ip)), "b_ip": 0 if not b_ip else 1 if b_ip == a_ip else 2}


def _address_commands(layout: Layout, component: str, create: str, remove: str, address: str, cleared: Sequence[str] = ()) -> list[Command]:
    """Creating and removing either object of a pair, as it changes whether their addresses are equal.

    ``create`` and ``remove`` name the change (``{who}``: a or b); ``cleared``: fields of the object a removal resets
    besides its address (suffixes of ``a_`` and ``b_``).
    """
    c = layout.command

    def gone(who: str) -> dict[str, int]:
        return {who: 0, f"{who}_ip": 0, **{f"{who}_{field}": 0 for field in cleared}}

    a, b = create.format(who="a"), create.format(who="b")
    return [
        c((a, 0), component, [{"a": 0, "b": 0}, {"a": 0, "b": 1, "b_ip": 0}], {"a": 1, "a_ip": 1, "b_ip": 0}),
        c((f"{a}, another {address} than b's", 0), component, [{"a": 0, "b": 1, "b_ip": 2}], {"a": 1, "a_ip": 1}),
        c((f"{b}, another {address} than a's", 0), component, [{"b": 0}], {"b": 1, "b_ip": 2}),
        c((remove.format(who="a"), 0), component, [{"a": 1, "b_ip": 1}], {**gone("a"), "b_ip": 2}),
        c((remove.format(who="a"), 1), component, [{"a": 1, "b_ip": 0}, {"a": 1, "b_ip": 2}], gone("a")),
        c((remove.format(who="b"), 0), component, [{"b": 1}], gone("b")),
    ]


def _reused_address_commands(layout: Layout, component: str, create: str, address: str, free: Mapping[str, Mapping[str, int]]) -> list[Command]:
    """A variant's allocator handing out the other object's address, where ``free[who]`` says that address looks free."""
    c = layout.command
    return [
        c((f"{create.format(who='a')}, b's {address}", 0), component, [{"a": 0, "b": 1, "b_ip": 2, **free["b"]}], {"a": 1, "a_ip": 1, "b_ip": 1}),
        c((f"{create.format(who='b')}, a's {address}", 0), component, [{"b": 0, "a": 1, "a_ip": 1, **free["a"]}], {"b": 1, "b_ip": 1}),
    ]


def _ordered_pairs(old: Mapping[str, T], new: Mapping[str, T], state: Callable[[T | None, T | None], int]) -> Iterator[tuple[str, int, int]]:
    """Each ordered pair of distinct objects (by name, before or after the step): its abstract states before and after."""
    keys = sorted({*old, *new})
    for a in keys:
        for b in keys:
            if a != b:
                yield f"{a} and {b}", state(old.get(a), old.get(b)), state(new.get(a), new.get(b))


def _pair_starts(initial: Iterable[Iterable[T]], state: Callable[[T | None, T | None], int]) -> list[int]:
    """The abstract states of every ordered pair of the initial objects, either of them possibly absent."""
    starts: dict[int, None] = {}
    for objects in initial:
        present: list[T | None] = [None, *objects]
        starts |= dict.fromkeys(state(a, b) for a in present for b in present if a is None or a is not b)
    return list(starts)


def _describe_addresses(layout: Layout, s: int, address: str, extra: Callable[[str], str] = lambda who: "") -> str:
    """A pair in words: whether each exists, whether b's address is a's (and ``extra(who)`` of each that exists)."""
    article = "an" if address[0] in "AEIOU" else "a"
    shown = {"a": f"with {article} {address}" if layout.get(s, "a_ip") else f"without {address}"}
    shown["b"] = (f"without {address}", f"with a's {address}", f"with another {address}")[layout.get(s, "b_ip")]
    return "; ".join(f"{who} {shown[who]}{extra(who)}" if layout.get(s, who) else f"{who}: none" for who in ("a", "b"))


# ------------------------------------------------------------ a pair of Services


_PAIR = Layout([("a", 1), ("a_ip", 1), ("b", 1), ("b_ip", 2)])
"""b_ip: 0 none, 1 the same ClusterIP as a's, 2 another one"""
_SERVICE_CHANGES = ("create {who}", "delete {who}", "ClusterIP")


def _pair_commands(ctx: Context) -> list[Command]:
    """Creating and deleting either Service, as it changes whether the two ClusterIPs are equal."""
    c = _PAIR.command
    out = _address_commands(_PAIR, APISERVER, *_SERVICE_CHANGES)
    out += [c((f"create {who} without ClusterIP", 0), APISERVER, [{who: 0}], {who: 1, f"{who}_ip": 0}) for who in ("a", "b")]
    if ctx.flag(CLUSTERIP_LAG):  # the allocator reads a lagging cache: it may hand out the other's address
        out += _reused_address_commands(_PAIR, APISERVER, "create {who}", "ClusterIP", {"a": {}, "b": {}})
    return out


def _ip(svc: Service | None) -> str:
    return "" if svc is None or svc.spec.cluster_ip in ("", "None") else svc.spec.cluster_ip


def _pair_state(a: Service | None, b: Service | None) -> int:
    return _PAIR.encode({"a": int(a is not None), "b": int(b is not None), **_address_fields(_ip(a), _ip(b))})


def _pair_steps(before: State, after: State) -> Iterator[tuple[str, int, int]]:
    return _ordered_pairs(before.api.objects.services, after.api.objects.services, _pair_state)


def _pair_abstraction(ctx: Context, initial: Sequence[State], invariant: str) -> Abstraction:
    starts = _pair_starts((s.api.objects.services.values() for s in initial), _pair_state)
    model = GuardedModel(_PAIR, [_PAIR.decode(s) for s in starts], _pair_commands(ctx))
    bad = (("unique-cluster-ip", "two Services share a ClusterIP", (_PAIR.pattern({"a": 1, "b": 1, "a_ip": 1, "b_ip": 1}),)),)
    what = "two Services as the API server stores them: whether each exists and whether their ClusterIPs are equal"
    return Abstraction(invariant, model, Patterns(bad), what, lambda s: _describe_addresses(_PAIR, s, "ClusterIP"), _pair_steps)


# ------------------------------------------------------------ a pair of pod sandboxes


_SANDBOXES = Layout([("a", 1), ("a_ip", 1), ("a_running", 1), ("b", 1), ("b_ip", 2), ("b_running", 1)])
"""b_ip: 0 none, 1 the same IP as a's, 2 another one"""
_SANDBOX_CHANGES = ("start {who}'s sandbox", "remove {who}'s sandbox", "IP")


def _sandbox_commands(ctx: Context) -> list[Command]:
    """A kubelet creating and removing either sandbox, tearing down its network, and its containers starting and exiting."""
    c = _SANDBOXES.command
    out = _address_commands(_SANDBOXES, KUBELET, *_SANDBOX_CHANGES, cleared=("running",))
    out += [
        c(("tear down a's network", 0), KUBELET, [{"a": 1, "a_ip": 1, "b_ip": 1}], {"a_ip": 0, "b_ip": 2}),
        c(("tear down a's network", 1), KUBELET, [{"a": 1, "a_ip": 1, "b_ip": 0}, {"a": 1, "a_ip": 1, "b_ip": 2}], {"a_ip": 0}),
        c(("tear down b's network", 0), KUBELET, [{"b": 1, "b_ip": 1}, {"b": 1, "b_ip": 2}], {"b_ip": 0}),
    ]
    for who in ("a", "b"):
        out.append(c((f"{who}'s containers run", 0), KUBELET, [{who: 1, f"{who}_running": 0}], {f"{who}_running": 1}))
        out.append(c((f"{who}'s containers all exit", 0), KUBELET, [{who: 1, f"{who}_running": 1}], {f"{who}_running": 0}))
    if ctx.flag(IP_BY_RUNNING):  # an address counts as free once the sandbox's containers have exited
        out += _reused_address_commands(_SANDBOXES, KUBELET, _SANDBOX_CHANGES[0], "IP", {"a": {"a_running": 0}, "b": {"b_running": 0}})
    return out


def _sandbox_state(a: Sandbox | None, b: Sandbox | None) -> int:
    fields = {"a": int(a is not None), "a_running": int(a is not None and a.running())}
    fields |= {"b": int(b is not None), "b_running": int(b is not None and b.running())}
    return _SANDBOXES.encode({**fields, **_address_fields(a.ip if a else "", b.ip if b else "")})


def _sandboxes(s: State) -> dict[str, Sandbox]:
    return {f"{name}/{sandbox.pod} (uid {uid})": sandbox for name, machine in s.machines.items() for uid, sandbox in machine.sandboxes.items()}


def _sandbox_steps(before: State, after: State) -> Iterator[tuple[str, int, int]]:
    return _ordered_pairs(_sandboxes(before), _sandboxes(after), _sandbox_state)


def _describe_sandboxes(s: int) -> str:
    return _describe_addresses(_SANDBOXES, s, "IP", lambda who: ", running" if _SANDBOXES.get(s, f"{who}_running") else ", exited")


def _sandbox_abstraction(ctx: Context, initial: Sequence[State], invariant: str) -> Abstraction:
    starts = _pair_starts((_sandboxes(s).values() for s in initial), _sandbox_state)
    model = GuardedModel(_SANDBOXES, [_SANDBOXES.decode(s) for s in starts], _sandbox_commands(ctx))
    bad = (("unique-pod-ip", "two sandboxes hold one IP", (_SANDBOXES.pattern({"a": 1, "b": 1, "a_ip": 1, "b_ip": 1}),)),)
    what = "two pod sandboxes as the container runtimes hold them: whether each exists and runs, and whether their IPs are equal"
    return Abstraction(invariant, model, Patterns(bad), what, _describe_sandboxes, _sandbox_steps)


# ------------------------------------------------------------ one pod uid on the machines


def _node_layout(invariant: str, fields: Callable[[int], list[tuple[str, int]]], nodes: int) -> Layout:
    """The layout ``fields`` gives for this many nodes, or an exit-2 error saying how many nodes fit a 64-bit state."""
    if sum(width for _, width in fields(nodes)) > 64:
        fit = max(k for k in range(1, nodes) if sum(width for _, width in fields(k)) <= 64)
        raise InvalidInputError(
            f"--nodes: kspec prove's abstraction of {invariant} has fields for each node and fits {fit} nodes; this cluster has"
            f" {nodes} (prove the other invariants with --invariant)"
        )
    return Layout(fields(nodes))


@attrs.frozen
class _Placement:
    """The layout of one pod uid's placement in a cluster of these nodes: field ``node`` numbers them from 1 (0: none)."""

    nodes: tuple[str, ...]
    layout: Layout

    @classmethod
    def of(cls, nodes: Sequence[str]) -> _Placement:
        def fields(n: int) -> list[tuple[str, int]]:
            return [("exists", 1), ("gone", 1), ("node", n.bit_length()), *((f"{f}{i}", 1) for i in range(n) for f in ("c", "r"))]

        return cls(tuple(nodes), _node_layout("pod-runs-once", fields, len(nodes)))

    def traces(self, s: State) -> dict[int, dict[str, int]]:
        """Every uid the state holds anywhere, with its fields: the store, the watch history, each kubelet's view and machine."""
        out: dict[int, dict[str, int]] = {}
        for ev in s.channels.log:  # in revision order: the last write of a uid names the node it was last bound to
            obj = ev.new if ev.new is not None else ev.old
            if ev.kind == POD:
                out[obj.meta.uid] = {"gone": 1, "node": _number(self.nodes, obj.spec.node_name)}
        for i, node in enumerate(self.nodes):
            view = s.views.get(f"{KUBELET}/{node}")
            for pod in view.cache.pods.values() if view is not None else ():
                fields = out.setdefault(pod.meta.uid, {"gone": 1, "node": _number(self.nodes, pod.spec.node_name)})
                fields[f"c{i}"] = 1
            for uid, sandbox in s.machines[node].sandboxes.items():
                fields = out.setdefault(uid, {"gone": 1, "node": i + 1})
                fields[f"r{i}"] = int(sandbox.running())
        for pod in s.api.objects.pods.values():
            out.setdefault(pod.meta.uid, {}).update({"exists": 1, "gone": 0, "node": _number(self.nodes, pod.spec.node_name)})
        return out

    def steps(self, before: State, after: State) -> Iterator[tuple[str, int, int]]:
        """Each uid's abstract states across one step (a uid with no trace left is all zeros unless it was once stored)."""
        old, new = self.traces(before), self.traces(after)
        for uid in sorted({*old, *new}):
            start = old.get(uid, {})
            end = new.get(uid, {"gone": 1} if start.get("exists") or start.get("gone") else {})
            yield f"uid {uid}", self.layout.encode(start), self.layout.encode(end)

    def describe(self, s: int) -> str:
        get = functools.partial(self.layout.get, s)
        where = self.nodes[get("node") - 1] if get("node") else "no node"
        store = "stored, bound to " if get("exists") else "removed, last bound to " if get("gone") else "not created, "
        held = [f"{n}'s kubelet holds it" for i, n in enumerate(self.nodes) if get(f"c{i}")]
        runs = [f"runs on {n}" for i, n in enumerate(self.nodes) if get(f"r{i}")]
        return ", ".join([store + where, *held, *runs])

    def commands(self, ctx: Context) -> list[Command]:
        """The API server creating, binding and removing the pod; each kubelet seeing it and running it."""
        c, n = _Commands(self.layout), len(self.nodes)
        _placed(c, ctx, n, {"exists": 0, "gone": 0})
        c.add("remove", APISERVER, [{"exists": 1}], {"exists": 0, "gone": 1})
        traceless = {"gone": 1, **{f"{f}{i}": 0 for i in range(n) for f in ("c", "r")}}
        c.add("forget", APISERVER, [traceless], {"node": 0})  # no write, copy or sandbox of it is left anywhere
        for i in range(n):
            seen = [{f"c{i}": 0}] if ctx.flag(REBIND) else [{"node": i + 1, f"c{i}": 0}]  # a kubelet may see a node it left
            c.add(f"{self.nodes[i]}'s kubelet sees it", KUBELET, seen, {f"c{i}": 1})
            c.add(f"{self.nodes[i]}'s kubelet drops it", KUBELET, [{f"c{i}": 1}], {f"c{i}": 0})
            c.add(f"runs on {self.nodes[i]}", KUBELET, [{f"c{i}": 1, f"r{i}": 0}], {f"r{i}": 1})
            c.add(f"stops on {self.nodes[i]}", KUBELET, [{f"r{i}": 1}], {f"r{i}": 0})
        return c.out


def _placement_abstraction(ctx: Context, initial: Sequence[State], invariant: str) -> Abstraction:
    p = _Placement.of(sorted(initial[0].machines))
    starts = [0, *(p.layout.encode(fields) for s in initial for fields in p.traces(s).values())]
    model = GuardedModel(p.layout, [p.layout.decode(s) for s in dict.fromkeys(starts)], p.commands(ctx))
    n = len(p.nodes)
    twice = tuple(p.layout.pattern({f"r{i}": 1, f"r{j}": 1}) for i in range(n) for j in range(i + 1, n))
    astray = _off_node(p.layout, n, ("r",), {"exists": 1})
    bad = (("pod-runs-once", "a pod uid runs on two nodes, or on one it is not bound to", twice + astray),)
    unborn = tuple(p.layout.pattern({"exists": 0, "gone": 0, **fields}) for fields in _nonzero(p.layout, n, ("c", "r"), ("node",)))
    lemmas = (
        ("lemma", "a kubelet holds a pod only while it is (or was last) bound to the kubelet's node", _off_node(p.layout, n, ("c",))),
        ("lemma", "a pod runs only on the node it is (or was last) bound to", _off_node(p.layout, n, ("r",))),
        ("lemma", "a pod not yet created is bound nowhere, held by no kubelet and runs nowhere", unborn),
    )
    what = "one pod uid: whether it is stored, the node it is (or was last) bound to, and per node whether the kubelet holds it and runs it"
    return Abstraction(invariant, model, Patterns(bad), what, p.describe, p.steps, lemmas)


def _number(nodes: Sequence[str], node: str) -> int:
    """A node's number in field ``node``: from 1 in name order (0 for no node, or one outside the cluster)."""
    return nodes.index(node) + 1 if node in nodes else 0


def _placed(c: _Commands, ctx: Context, nodes: int, unstored: Mapping[str, int]) -> None:
    """The API server creating the pod (unbound, or bound to a node) from ``unstored`` states, and binding it (again, with
    apiserver-rebind: pods/binding accepts a bound pod)."""
    if _created(ctx.scenario, bound=False):
        c.add("create", APISERVER, [unstored], {"exists": 1})
    for i in range(1, nodes + 1):
        if _created(ctx.scenario, bound=True):
            c.add("create bound", APISERVER, [unstored], {"exists": 1, "node": i})
        others = range(1, nodes + 1) if ctx.flag(REBIND) else ()
        c.add("bind", SCHEDULER, [{"exists": 1, "node": j} for j in (0, *others) if j != i], {"node": i})


def _off_node(layout: Layout, nodes: int, per_node: Sequence[str], fields: Mapping[str, int] = EMPTY) -> tuple[Pattern, ...]:
    """The states with ``fields`` where a per-node field of some node i is set and the pod is not (or was not last) bound to i."""
    values = range(1 << layout.width["node"])
    return tuple(layout.pattern({**fields, f"{f}{i}": 1, "node": v}) for i in range(nodes) for f in per_node for v in values if v != i + 1)


def _nonzero(layout: Layout, nodes: int, per_node: Sequence[str], fields: Sequence[str]) -> list[dict[str, int]]:
    """One assignment per field that is not zero (per-node fields for every node; wide fields with each nonzero value)."""
    names = [*(f"{f}{i}" for i in range(nodes) for f in per_node), *fields]
    return [{name: v} for name in names for v in range(1, 1 << layout.width[name])]


# ------------------------------------------------------------ one pod name on the machines


@attrs.frozen
class _Identity:
    """The layout of one pod name (namespace/name) across uids: the stored one, and every earlier one of that name."""

    nodes: tuple[str, ...]
    layout: Layout
    regress: bool
    """kubelet-phase-regress: the kubelet starts pods it already finished"""

    @classmethod
    def of(cls, nodes: Sequence[str], regress: bool) -> _Identity:
        def fields(n: int) -> list[tuple[str, int]]:
            per_node = [(f"{f}{i}", 1) for i in range(n) for f in ("k", "r", "ek")] + [(f"er{i}", 2) for i in range(n)]
            return [("exists", 1), ("deleting", 1), ("terminal", 1), ("node", n.bit_length()), *per_node]

        return cls(tuple(nodes), _node_layout("identity-runs-once", fields, len(nodes)), regress)

    def startable(self, s: State, node: str, pod: Pod) -> bool:
        """Whether the node's kubelet may (re)start this copy: not deleted, and not finished (kubelet.py ``finished``)."""
        return pod.meta.deletion_timestamp is None and not finished(s.views[f"{KUBELET}/{node}"].memory, pod, self.regress)

    def names(self, s: State) -> dict[str, dict[str, int]]:
        """Every pod name the store, a kubelet or a machine holds, with its fields."""
        out: dict[str, dict[str, int]] = {}
        stored = s.api.objects.pods
        for key, pod in stored.items():
            fields = {"exists": 1, "deleting": int(pod.meta.deletion_timestamp is not None), "terminal": int(pod.is_terminal())}
            out[key] = fields | {"node": _number(self.nodes, pod.spec.node_name)}
        for i, node in enumerate(self.nodes):
            view = s.views.get(f"{KUBELET}/{node}")
            for key, pod in view.cache.pods.items() if view is not None else ():
                current = key in stored and stored[key].meta.uid == pod.meta.uid
                if self.startable(s, node, pod):
                    out.setdefault(key, {})[f"k{i}" if current else f"ek{i}"] = 1
            for uid, sandbox in s.machines[node].sandboxes.items():
                if sandbox.running():
                    fields = out.setdefault(sandbox.pod, {})
                    if sandbox.pod in stored and stored[sandbox.pod].meta.uid == uid:
                        fields[f"r{i}"] = 1
                    else:
                        fields[f"er{i}"] = min(fields.get(f"er{i}", 0) + 1, 2)
        return out

    def steps(self, before: State, after: State) -> Iterator[tuple[str, int, int]]:
        """Each pod name's abstract states across one step."""
        old, new = self.names(before), self.names(after)
        for key in sorted({*old, *new}):
            yield key, self.layout.encode(old.get(key, {})), self.layout.encode(new.get(key, {}))

    def describe(self, s: int) -> str:
        get = functools.partial(self.layout.get, s)
        if get("exists"):
            where = f"bound to {self.nodes[get('node') - 1]}" if get("node") else "unbound"
            store = f"stored, {where}" + ", being deleted" * get("deleting") + ", terminal" * get("terminal")
        else:
            store = "none stored"
        parts = [store]
        for i, n in enumerate(self.nodes):
            parts += [f"{n}'s kubelet may start it"] * get(f"k{i}") + [f"runs on {n}"] * get(f"r{i}")
            parts += [f"{n}'s kubelet may start an earlier one"] * get(f"ek{i}")
            parts += [f"{'an earlier one runs' if get(f'er{i}') == 1 else 'earlier ones run'} on {n}"] * bool(get(f"er{i}"))
        return ", ".join(parts)

    def commands(self, ctx: Context) -> list[Command]:
        """The API server creating, binding, deleting and removing the stored pod; each kubelet starting what it may start."""
        c = _Commands(self.layout)
        forced = ctx.scenario.bounds.budgets.get("force-delete", 0) > 0
        self._store_commands(c, ctx)
        for i in range(len(self.nodes)):
            self._kubelet_commands(c, ctx, i, forced)
        if forced:  # UserForceDeletePod: removed at once, wherever it runs
            self._remove_running(c, "force remove", {})
        if self.regress:  # a terminal pod is removed at once (grace 0), and its kubelet may still start it
            self._remove_running(c, "remove", {"terminal": 1})
        return c.out

    def _store_commands(self, c: _Commands, ctx: Context) -> None:
        """Create, bind, mark deleting; remove only a pod that cannot run again (registry/core/pod/strategy.go: an unbound or
        terminal pod goes at once; a bound one when its kubelet's final DELETE confirms it stopped, status_manager.go canBeDeleted)."""
        n = len(self.nodes)
        _placed(c, ctx, n, {"exists": 0})
        c.add("mark deleting", APISERVER, [{"exists": 1, "deleting": 0}], {"deleting": 1})
        gone = {"exists": 0, "deleting": 0, "terminal": 0, "node": 0}
        c.add("remove unbound", APISERVER, [{"exists": 1, "node": 0}], gone)
        for i in range(n):
            stopped = {"exists": 1, "node": i + 1, f"k{i}": 0, f"r{i}": 0}
            c.add("remove", APISERVER, [{**stopped, "terminal": 1}, {**stopped, "deleting": 1}], gone)

    def _kubelet_commands(self, c: _Commands, ctx: Context, i: int, forced: bool) -> None:
        """Node ``i``'s kubelet: it may start a pod it holds live and unfinished (kubelet.go HandlePodAdditions, pod_workers.go),
        writes a terminal phase once the containers stopped, and its watch shows only pods bound to its node."""
        name, on_node = self.nodes[i], {"exists": 1, "node": i + 1}
        if self.regress:  # the kubelet forgets it finished the pod: it may start it again, and report it running
            c.add(f"{name}'s kubelet writes a terminal phase", KUBELET, [on_node], {"terminal": 1})
            c.add(f"{name}'s kubelet writes a running phase", KUBELET, [on_node], {"terminal": 0})
        else:
            c.add(f"{name}'s kubelet writes a terminal phase", KUBELET, [{**on_node, f"r{i}": 0}], {"terminal": 1, f"k{i}": 0})
        if ctx.flag(REBIND) or ctx.flag(STALE_RELIST):  # a kubelet may hold a copy of a node it left, or an old copy
            seen = [{"exists": 1, f"k{i}": 0}]
        else:
            seen = [{**on_node, f"k{i}": 0, **({} if self.regress else {"terminal": 0})}]
        c.add(f"{name}'s kubelet may start it", KUBELET, seen, {f"k{i}": 1})
        c.add(f"{name}'s kubelet may not start it", KUBELET, [{f"k{i}": 1}], {f"k{i}": 0})
        c.add(f"starts on {name}", KUBELET, [{f"k{i}": 1, f"r{i}": 0}], {f"r{i}": 1})
        c.add(f"stops on {name}", KUBELET, [{f"r{i}": 1}], {f"r{i}": 0})
        if ctx.flag(STALE_RELIST) or forced:  # a lagging list, or a backlog behind a force delete, shows an earlier pod live
            c.add(f"{name}'s kubelet may start an earlier one", KUBELET, [{f"ek{i}": 0}], {f"ek{i}": 1})
        c.add(f"{name}'s kubelet may not start an earlier one", KUBELET, [{f"ek{i}": 1}], {f"ek{i}": 0})
        for e in (0, 1):
            c.add(f"an earlier one starts on {name}", KUBELET, [{f"ek{i}": 1, f"er{i}": e}], {f"er{i}": e + 1})
        for e in (1, 2):
            c.add(f"an earlier one stops on {name}", KUBELET, [{f"er{i}": e}], {f"er{i}": e - 1})

    def _remove_running(self, c: _Commands, label: str, guard: Mapping[str, int]) -> None:
        """The stored pod is removed whatever its node's kubelet holds and runs, which becomes an earlier pod's."""
        gone = {"exists": 0, "deleting": 0, "terminal": 0, "node": 0}
        for i in range(len(self.nodes)):
            for k, r, e in itertools.product((0, 1), (0, 1), (0, 1, 2)):
                moved = {f"k{i}": 0, f"r{i}": 0, f"er{i}": min(e + r, 2), **({f"ek{i}": 1} if k else {})}
                c.add(label, APISERVER, [{**guard, "exists": 1, "node": i + 1, f"k{i}": k, f"r{i}": r, f"er{i}": e}], {**gone, **moved})


def _identity_abstraction(ctx: Context, initial: Sequence[State], invariant: str) -> Abstraction:
    p = _Identity.of(sorted(initial[0].machines), ctx.flag(PHASE_REGRESS))
    starts = [0, *(p.layout.encode(fields) for s in initial for fields in p.names(s).values())]
    model = GuardedModel(p.layout, [p.layout.decode(s) for s in dict.fromkeys(starts)], p.commands(ctx))
    n, pat = len(p.nodes), p.layout.pattern
    twice = [pat({f"r{i}": 1, f"r{j}": 1}) for i in range(n) for j in range(i + 1, n)]
    twice += [pat({f"r{i}": 1, f"er{j}": e}) for i in range(n) for j in range(n) for e in (1, 2)]
    twice += [pat({f"er{i}": e, f"er{j}": f}) for i in range(n) for j in range(i + 1, n) for e in (1, 2) for f in (1, 2)]
    twice += [pat({f"er{i}": 2}) for i in range(n)]
    bad = (("identity-runs-once", "two pods of one name run at once", tuple(twice)),)
    elsewhere = _off_node(p.layout, n, ("k", "r"))
    unstored = [pat({"exists": 0, **fields}) for fields in _nonzero(p.layout, n, ("k", "r"), ("deleting", "terminal", "node"))]
    earlier = [pat({f"ek{i}": 1}) for i in range(n)] + [pat({f"er{i}": e}) for i in range(n) for e in (1, 2)]
    lemmas = (
        ("lemma", "a kubelet may start or runs the stored pod only on the node it is bound to", elsewhere),
        ("lemma", "with no pod of the name stored, no kubelet may start one and none runs", tuple(unstored)),
        ("lemma", "no kubelet may start a removed pod of the name, and none runs", tuple(earlier)),
    )
    what = (
        "one pod name: the stored pod (bound where, being deleted, terminal) and per node whether its kubelet may start it "
        "or an earlier pod of the name, and whether they run there"
    )
    return Abstraction(invariant, model, Patterns(bad), what, p.describe, p.steps, lemmas)


ABSTRACTIONS: Mapping[str, Callable[[Context, Sequence[State], str], Abstraction]] = {
    "pod-bound-once": _pod_abstraction,
    "pod-runs-once": _placement_abstraction,
    "identity-runs-once": _identity_abstraction,
    "phase-monotone": _life_abstraction,
    "unique-pod-ip": _sandbox_abstraction,
    "unique-cluster-ip": _pair_abstraction,
}
"""the invariants ``kspec prove`` can prove, and the abstraction each is proved on"""


def abstraction_for(model: KubeModel, invariant: str) -> Abstraction:
    """The abstraction ``invariant`` is proved on, from ``model``'s initial objects and variant (exit-2 error if there is none)."""
    if invariant not in INVARIANTS:
        raise UnknownNameError("invariant", invariant, INVARIANTS, where="--invariant")
    if invariant not in ABSTRACTIONS:
        known = ", ".join(ABSTRACTIONS)
        raise InvalidInputError(
            f"--invariant: kspec prove has no abstraction for {invariant} yet; it proves {known} (kspec check searches for the others)"
        )
    return ABSTRACTIONS[invariant](model.ctx, model.initial_states(), invariant)


def unexplained(abstraction: Abstraction, before: State, after: State) -> list[str]:
    """The objects whose change in one step of the spec no path of at most two commands makes (the abstraction is unsound there)."""
    out = []
    for name, start, end in abstraction.alpha(before, after):
        if end != start and end not in _within_two(abstraction.model, start):
            out.append(f"{name}: {abstraction.describe(start)} -> {abstraction.describe(end)} ({start:#x} -> {end:#x})")
    return out


def _within_two(model: GuardedModel, s: int) -> set[int]:
    one = {t for _, t in model.successors(s)}
    return one | {u for t in one for _, u in model.successors(t)}


# ------------------------------------------------------------ the premise, on the cluster at hand


@attrs.frozen
class Premise:
    """The soundness premise checked on seeded random runs of the scenario being proved on."""

    walks: int
    steps: int
    unexplained: tuple[str, ...]
    """the steps the abstraction does not explain (walk, step, action, what changed); empty if it explains every one"""
    changes: tuple[tuple[str, int], ...]
    """the kinds of action that changed what the abstraction tracks, with how often, by name"""


def premise_walks(model: KubeModel, walks: int) -> list[Walk]:
    """Seeded random runs (seeds 0 .. walks - 1), each as long as the scenario's step bound."""
    return [random_walk(model, model.scenario.bounds.steps, seed) for seed in range(walks)]


def check_premise(abstraction: Abstraction, walks: Sequence[Walk]) -> Premise:
    """Every step of ``walks`` through :func:`unexplained`, and which actions change the abstract state."""
    problems: list[str] = []
    changes: dict[str, int] = {}
    for seed, walk in enumerate(walks):
        before = walk.initial
        for i, (action, after) in enumerate(walk.steps, start=1):
            if any(start != end for _, start, end in abstraction.alpha(before, after)):
                changes[action.name] = changes.get(action.name, 0) + 1
            problems += [f"walk {seed}, step {i} ({action.name}): {p}" for p in unexplained(abstraction, before, after)]
            before = after
    return Premise(len(walks), sum(len(w.steps) for w in walks), tuple(problems), tuple(sorted(changes.items())))


# ------------------------------------------------------------ proving


@attrs.frozen
class Outcome:
    """What ``kspec prove`` found for one invariant on one scenario and variant."""

    scenario: str
    variant: str
    abstraction: Abstraction
    verdict: str
    proof: symbolic.ProofResult
    premise: Premise | None
    """the premise checked on random runs of this scenario (None if no runs were asked for)"""
    searches: tuple[RunReport, ...]
    """the searches of the model itself when the abstraction reached a violation (the explorer's, then Hypothesis's if
    the explorer found nothing); the last one found the violation if any did"""
    seconds: float


@attrs.frozen
class Search:
    """How far ``kspec prove`` searches the model when the abstraction reaches a violation."""

    explore_seconds: float = 20.0
    """the breadth-first explorer's time (its counterexample is a shortest one); 0: skip it"""
    max_examples: int = 300
    """then the Hypothesis engine's examples"""


def prove_invariant(
    scenario: Scenario, variant: Variant, invariant: str, max_k: int, out: Path | None, search: Search = Search(), walks: Sequence[Walk] = ()
) -> Outcome:
    """k-induction on the invariant's abstraction; where it reaches a violation, the explorer and then the Hypothesis engine look for a real one.

    ``walks``: random runs of this scenario and variant to check the premise on; a step the abstraction does not explain
    turns a proof into unknown (the abstraction is not sound for this cluster).
    """
    started = time.monotonic()
    abstraction = abstraction_for(KubeModel(scenario, variant), invariant)
    premise = check_premise(abstraction, walks) if walks else None
    proof = symbolic.prove(abstraction.model, abstraction.claims, max_k)
    searches: list[RunReport] = []
    verdict = UNDECIDED if proof.verdict == PROVED and premise is not None and premise.unexplained else proof.verdict
    if proof.verdict == REFUTED:  # the abstraction breaks the invariant or a lemma: is there a violation in the model?
        if search.explore_seconds > 0:
            options = ExploreOptions(limits=Limits(seconds=search.explore_seconds))
            searches.append(check_one(scenario, variant, [invariant], seed=0, max_examples=1, out=out, engine=EXPLORE, explore_options=options))
        if not searches or searches[-1].trace is None:
            searches.append(check_one(scenario, variant, [invariant], seed=0, max_examples=search.max_examples, out=out))
        verdict = REFUTED if searches[-1].trace is not None else UNDECIDED
    return Outcome(scenario.name, variant.name, abstraction, verdict, proof, premise, tuple(searches), time.monotonic() - started)


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def format_outcome(o: Outcome) -> str:
    """The outcome as ``kspec prove`` prints it."""
    a, proof = o.abstraction, o.proof
    head = f"{a.invariant} on {o.scenario}, variant {o.variant}:"
    commands = f"{len(a.model.commands)} kinds of change"
    how = [f"  by k-induction on {a.what} ({commands}; tests/test_induction.py checks that every step of the spec is one of them)"]
    how += _premise_lines(o.premise)
    lemmas = [f"    {text}" for _, text, _ in a.lemmas]
    if o.verdict == PROVED:
        with_lemmas = [f"  with {len(lemmas)} lemmas, proved with it (together they are inductive):", *lemmas] if lemmas else []
        return "\n".join([f"{head} proved for every depth (k = {proof.k})", *how, *with_lemmas])
    if o.verdict == REFUTED:
        found = o.searches[-1]
        assert found.trace is not None
        where = f"; saved {found.saved}" if found.saved else ""
        lines = [f"{head} refuted: {found.trace.message} ({len(found.trace.steps)} steps{where})", *how]
        engine = (
            "the explorer found it in the model (a shortest run)" if found.trace.engine == EXPLORE else "the Hypothesis engine found it in the model"
        )
        lines.append(f"  the abstraction reaches it in {_steps(proof.k)}; {engine}")
        return "\n".join(lines)
    lines = [f"{head} unknown", *how]
    if proof.counterexample is not None:
        path = [a.describe(s) for s in proof.counterexample.states]
        steps = [f"    {path[0]}", *(f"    --{label}--> {state}" for (label, _), state in zip(proof.counterexample.actions, path[1:], strict=True))]
        broken = proof.counterexample.violation
        what = f"the lemma '{broken.message}'" if broken.invariant == "lemma" else "it"
        lines.append(f"  the abstraction breaks {what} in {_steps(proof.k)}, a run the model itself did not take:")
        lines += [*steps, *(f"  searched: {search.coverage.describe()}" for search in o.searches)]
    elif proof.induction_counterexample is not None:
        lines.append(f"  not inductive up to k = {proof.k}; the counterexample to induction (good states, then a bad one):")
        lines += [f"    {a.describe(s)}" for s in proof.induction_counterexample]
    return "\n".join(lines)


def _premise_lines(premise: Premise | None) -> list[str]:
    """What the premise check on this scenario's random runs showed."""
    if premise is None:
        return []
    runs = f"{premise.walks} random runs of this cluster ({premise.steps:,} steps)"
    if premise.unexplained:
        count = len(premise.unexplained)
        return [
            f"  the premise fails on {runs}: {count} step{'s' if count != 1 else ''} no path of the abstraction explains, so a proof would "
            f"not carry over; the first: {premise.unexplained[0]}"
        ]
    changed = ", ".join(f"{name} {n:,}" for name, n in premise.changes) or "none"
    return [f"  premise checked on {runs}: every step is a path of at most two commands; steps that change it: {changed}"]


def to_json(outcomes: Sequence[Outcome]) -> dict[str, object]:
    """The machine-readable outcomes ``kspec prove --json`` writes."""
    return {
        "format": "kspec-prove",
        "version": 1,
        "proved": all(o.verdict == PROVED for o in outcomes),
        "outcomes": [_outcome_json(o) for o in outcomes],
    }


def _outcome_json(o: Outcome) -> dict[str, object]:
    a, proof = o.abstraction, o.proof
    found = o.searches[-1] if o.searches and o.searches[-1].trace is not None else None
    path = None
    if proof.counterexample is not None:
        steps = zip(proof.counterexample.actions, proof.counterexample.states[1:], strict=True)
        path = [{"state": a.describe(proof.counterexample.states[0])}, *({"command": label, "state": a.describe(t)} for (label, _), t in steps)]
    return {
        "invariant": a.invariant,
        "scenario": o.scenario,
        "variant": o.variant,
        "verdict": o.verdict,
        "k": proof.k,
        "z3_seconds": round(proof.seconds, 3),
        "seconds": round(o.seconds, 3),
        "abstraction": {"what": a.what, "commands": len(a.model.commands), "lemmas": [text for _, text, _ in a.lemmas]},
        "abstract_path": path,
        "broken_lemma": proof.counterexample.violation.message
        if proof.counterexample and proof.counterexample.violation.invariant == "lemma"
        else None,
        "induction_counterexample": [a.describe(t) for t in proof.induction_counterexample] if proof.induction_counterexample else None,
        "premise": attrs.asdict(o.premise) if o.premise is not None else None,
        "searches": [search.coverage.as_json() for search in o.searches],
        "counterexample": (found.saved or None) if found else None,
        "message": found.trace.message if found and found.trace else None,
        "trace_steps": len(found.trace.steps) if found and found.trace else None,
    }
