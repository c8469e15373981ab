"""kspec prove: k-induction over abstractions of what the API server stores and the container runtimes hold.

Some invariants are kept by one component's rules alone, whatever the
others do: a pod's nodeName is write-once because the binding subresource
refuses a bound pod and spec.nodeName is immutable on update
(pkg/registry/core/pod/storage/storage.go assignPod,
pkg/apis/core/validation ValidatePodUpdate); two Services never share a
ClusterIP because the allocator hands out each address once
(pkg/registry/core/service/ipallocator); two pod sandboxes never share an
IP because a node's IPAM hands out an address no sandbox of the node holds
(its pod CIDR is its own). For such an invariant an *abstraction* of the
objects it reads is a small guarded-command model (``checker.guarded``): one
pod as the store holds it (whether it exists, whether it is bound, its
phase, whether it is being deleted), a pair of Services (whether each
exists, and whether their ClusterIPs are equal), or a pair of sandboxes
(whether each exists and runs, and whether their IPs are equal). Each
command is a kind of change the component accepts. Z3 then proves the invariant of the
abstraction by k-induction (``checker.symbolic.prove``): for every depth, from
the scenario's initial objects.

Why that is a proof about the model: every step of the executable spec
changes each pod (each pair) as some path of at most two commands does, so
every run of the spec is a run of the abstraction, and an invariant of the
abstraction holds in every run of the spec. One pod (one pair) stands for
all: a change touches one object, and the invariants are about one pod (one
pair) at a time. That premise is the abstraction's
soundness, and it is checked, not proved: ``tests/test_induction.py``
replays every step of seeded random runs of every scenario and variant,
and of every committed counterexample, through :func:`unexplained`, and
lets the Hypothesis engine search for a step it does not explain (the
differential test that keeps the abstraction and the spec in step).

When the abstraction reaches a violation, that is not yet a counterexample:
the abstraction admits more runs than the spec (its writers are
"anyone"). :func:`prove_invariant` then searches the model itself with the
Hypothesis engine; a violation it finds is the refutation, with a trace
that replays. When it finds none the answer is *unknown*, with the
abstract path and what the abstraction leaves out. The transition
invariants are monitored by a bit the violating command sets, as a history
variable in TLA+.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import attrs

from checker import symbolic
from checker.check import RunReport, check_one
from checker.guarded import Command, GuardedModel, Layout, Pattern, Patterns
from spec.apiserver import CLUSTERIP_LAG, REBIND
from spec.component import Context
from spec.errors import InvalidInputError, UnknownNameError
from spec.invariants import INVARIANTS
from spec.kubelet import IP_BY_RUNNING
from spec.model import KubeModel
from spec.objects import FAILED, PENDING, RUNNING, SUCCEEDED, TERMINAL_PHASES, UNKNOWN, Pod, Service
from spec.runtime import Sandbox
from spec.scenarios import Scenario
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
    left_out: str
    """what the abstraction does not encode that the invariant may rest on ("" if nothing)"""
    alpha: Callable[[State, State], Iterator[tuple[str, int, int]]]
    """for one step of the spec, per object (or pair): its name, its abstract state before, and after (with the monitor
    bits of the transition invariants set where the step breaks them)"""


# ------------------------------------------------------------ one pod


_POD = Layout([("exists", 1), ("bound", 1), ("phase", 3), ("deleting", 1), ("moved", 1), ("regressed", 1)])


def _pod_commands(ctx: Context) -> list[Command]:
    """Every kind of write the API server accepts on one pod, as it changes the abstract fields."""
    c = _POD.command
    out = [
        c(("create", 0), APISERVER, [{"exists": 0}], {"exists": 1, "bound": 0, "phase": 0, "deleting": 0}),
        c(("create bound", 0), APISERVER, [{"exists": 0}], {"exists": 1, "bound": 1, "phase": 0, "deleting": 0}),
        c(("bind", 0), APISERVER, [{"exists": 1, "bound": 0, "deleting": 0}], {"bound": 1}),
        c(("mark deleting", 0), APISERVER, [{"exists": 1, "deleting": 0}], {"deleting": 1}),
        c(("remove", 0), APISERVER, [{"exists": 1}], {"exists": 0, "bound": 0, "phase": 0, "deleting": 0}),
    ]
    if ctx.flag(REBIND):  # pods/binding accepts a bound pod: it may move to another node
        out.append(c(("bind again", 0), APISERVER, [{"exists": 1, "bound": 1, "deleting": 0}], {"moved": 1}))
    for p, before in enumerate(PHASES):
        for q, after in enumerate(PHASES):
            if p != q:  # PUT pods/status replaces the status: any phase to any other
                monitor = {"regressed": 1} if p in _TERMINAL else {}
                out.append(c((f"status {before} -> {after}", 0), APISERVER, [{"exists": 1, "phase": p}], {"phase": q, **monitor}))
    return out


def _pod_state(pod: Pod | None, moved: bool = False, regressed: bool = False) -> int:
    if pod is None:
        return _POD.encode({"moved": int(moved), "regressed": int(regressed)})
    fields = {"exists": 1, "bound": int(bool(pod.spec.node_name)), "phase": PHASES.index(pod.status.phase)}
    fields |= {"deleting": int(pod.meta.deletion_timestamp is not None), "moved": int(moved), "regressed": int(regressed)}
    return _POD.encode(fields)


def _pod_steps(before: State, after: State) -> Iterator[tuple[str, int, int]]:
    """Each pod's abstract states across one step; the monitors say whether the step broke its transition invariants."""
    old_pods, new_pods = before.api.objects.pods, after.api.objects.pods
    for key in sorted({*old_pods, *new_pods}):
        old, new = old_pods.get(key), new_pods.get(key)
        moved = regressed = False
        if old is not None and new is not None and old.meta.uid == new.meta.uid:  # the same pod: its transition invariants apply
            moved = bool(old.spec.node_name) and old.spec.node_name != new.spec.node_name
            regressed = old.is_terminal() and old.status.phase != new.status.phase
        yield key, _pod_state(old), _pod_state(new, moved, regressed)


def _describe_pod(s: int) -> str:
    if not _POD.get(s, "exists"):
        return "no pod"
    bound = "a bound" if _POD.get(s, "bound") else "an unbound"
    deleting = ", being deleted" if _POD.get(s, "deleting") else ""
    monitors = "".join(text for name, text in (("moved", " (moved to another node)"), ("regressed", " (left a terminal phase)")) if _POD.get(s, name))
    return f"{bound} pod, {PHASES[_POD.get(s, 'phase')]}{deleting}{monitors}"


def _pod_abstraction(ctx: Context, initial: Sequence[State], invariant: str) -> Abstraction:
    starts = [_pod_state(None), *(_pod_state(p) for s in initial for p in s.api.objects.pods.values())]
    model = GuardedModel(_POD, [_fields(_POD, s) for s in dict.fromkeys(starts)], _pod_commands(ctx))
    bad: tuple[tuple[str, str, tuple[Pattern, ...]], ...]
    if invariant == "pod-bound-once":
        bad = (("pod-bound-once", "a bound pod moved to another node", (_POD.pattern({"moved": 1}),)),)
        left_out = ""
    else:
        running_unbound = _POD.pattern({"exists": 1, "bound": 0, "phase": PHASES.index(RUNNING)})
        bad = (("phase-monotone", "a terminal phase changed, or a pod runs unbound", (_POD.pattern({"regressed": 1}), running_unbound)),)
        left_out = (
            "the API server accepts any status a writer sends: terminal phases are kept final by the kubelet's status manager "
            "(pkg/kubelet/status/status_manager.go) and a pod runs only once bound because only its node's kubelet starts it, "
            "and neither is encoded"
        )
    what = "one pod as the API server stores it: whether it exists, is bound, its phase, whether it is being deleted"
    return Abstraction(invariant, model, Patterns(bad), what, _describe_pod, left_out, _pod_steps)


def _fields(layout: Layout, s: int) -> dict[str, int]:
    """The abstract state ``s`` as its field values."""
    return {name: layout.get(s, name) for name in layout.shift}


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
    model = GuardedModel(_PAIR, [_fields(_PAIR, s) for s in starts], _pair_commands(ctx))
    bad = (("unique-cluster-ip", "two Services share a ClusterIP", (_PAIR.pattern({"a": 1, "b": 1, "a_ip": 1, "b_ip": 1}),)),)
    what = "two Services as the API server stores them: whether each exists and whether their ClusterIPs are equal"
    return Abstraction(invariant, model, Patterns(bad), what, lambda s: _describe_addresses(_PAIR, s, "ClusterIP"), "", _pair_steps)


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
    model = GuardedModel(_SANDBOXES, [_fields(_SANDBOXES, s) for s in starts], _sandbox_commands(ctx))
    bad = (("unique-pod-ip", "two sandboxes hold one IP", (_SANDBOXES.pattern({"a": 1, "b": 1, "a_ip": 1, "b_ip": 1}),)),)
    what = "two pod sandboxes as the container runtimes hold them: whether each exists and runs, and whether their IPs are equal"
    return Abstraction(invariant, model, Patterns(bad), what, _describe_sandboxes, "", _sandbox_steps)


ABSTRACTIONS: Mapping[str, Callable[[Context, Sequence[State], str], Abstraction]] = {
    "pod-bound-once": _pod_abstraction,
    "phase-monotone": _pod_abstraction,
    "unique-cluster-ip": _pair_abstraction,
    "unique-pod-ip": _sandbox_abstraction,
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


# ------------------------------------------------------------ proving


@attrs.frozen
class Outcome:
    """What ``kspec prove`` found for one invariant on one scenario and variant."""

    scenario: str
    variant: str
    abstraction: Abstraction
    verdict: str
    proof: symbolic.ProofResult
    search: RunReport | None
    """the search of the model itself, when the abstraction reached a violation"""
    seconds: float


def prove_invariant(scenario: Scenario, variant: Variant, invariant: str, max_k: int, out: Path | None, max_examples: int = 300) -> Outcome:
    """k-induction on the invariant's abstraction; where it reaches a violation, the Hypothesis engine looks for a real one."""
    started = time.monotonic()
    abstraction = abstraction_for(KubeModel(scenario, variant), invariant)
    proof = symbolic.prove(abstraction.model, abstraction.properties, max_k)
    search = None
    verdict = proof.verdict
    if proof.verdict == REFUTED:
        search = check_one(scenario, variant, [invariant], seed=0, max_examples=max_examples, out=out)
        verdict = REFUTED if search.trace is not None else UNDECIDED
    return Outcome(scenario.name, variant.name, abstraction, verdict, proof, search, time.monotonic() - started)


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def format_outcome(o: Outcome) -> str:
    """The outcome as ``kspec prove`` prints it."""
    a, proof = o.abstraction, o.proof
    head = f"{a.invariant} on {o.scenario}, variant {o.variant}:"
    commands = f"{len(a.model.commands)} kinds of change"
    how = f"  by k-induction on {a.what} ({commands}; tests/test_induction.py checks that every step of the spec is one of them)"
    if o.verdict == PROVED:
        return "\n".join([f"{head} proved for every depth (k = {proof.k})", how])
    if o.verdict == REFUTED:
        assert o.search is not None and o.search.trace is not None
        where = f"; saved {o.search.saved}" if o.search.saved else ""
        lines = [f"{head} refuted: {o.search.trace.message} ({len(o.search.trace.steps)} steps{where})", how]
        lines.append(f"  the abstraction reaches it in {_steps(proof.k)}; the Hypothesis engine found it in the model")
        return "\n".join(lines)
    lines = [f"{head} unknown", how]
    if proof.counterexample is not None:
        path = [a.describe(s) for s in proof.counterexample.states]
        steps = [f"    {path[0]}", *(f"    --{label}--> {state}" for (label, _), state in zip(proof.counterexample.actions, path[1:], strict=True))]
        examples = o.search.coverage.describe() if o.search is not None else ""
        lines += [f"  the abstraction breaks it in {_steps(proof.k)}, a run the model itself did not take in {examples}:", *steps]
    elif proof.induction_counterexample is not None:
        lines.append(f"  not inductive up to k = {proof.k}; the counterexample to induction (good states, then a bad one):")
        lines += [f"    {a.describe(s)}" for s in proof.induction_counterexample]
    if a.left_out:
        lines.append(f"  not encoded: {a.left_out}")
    return "\n".join(lines)
