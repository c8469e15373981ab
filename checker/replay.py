"""Replay: re-execute a trace through the executable spec, step by step.

Strict replay (the default) checks everything the trace recorded: the
scenario (rebuilt from the manifests a trace carries, when it was built from
manifests) and variant exist, the scenario's bounds and the spec version are
the ones it was recorded with, every step names a known component, action and
parameters, is enabled, and leads to a state with the recorded digest. Any
mismatch is bad input (exit 2) naming the file, the field and the step: the
spec drifted since the trace was recorded.

Replay against another variant (``--variant``, typically ``default`` to see
whether a fix holds) re-executes the same steps without the digest checks and
stops where a step is no longer enabled: the trace diverged, so the recorded
violation cannot reproduce there.

The verdict: *reproduces* when the recorded invariant is violated (at the
recorded step, in a strict replay), *no longer reproduces* otherwise. A
trace of an eventual property (``eventually-converges``,
``eventually-binds``) ends in a state from which no good state is
reachable: replay re-judges that by exploring every state reachable from
the last one (``checker.eventual.doomed``), and says *undecided* if that
search does not finish within its time bound.
"""

from __future__ import annotations

import attrs

from checker import eventual, usermodel
from checker.concolic import numbered_scenario
from checker.trace import Trace, TraceError
from spec import SPEC_VERSION
from spec.canonical import digest, to_data
from spec.component import Action
from spec.errors import ActionNotEnabledError, UnknownNameError
from spec.invariants import Violation
from spec.manifests import scenario_from_json
from spec.model import KubeModel
from spec.scenarios import Scenario
from spec.state import State
from spec.variants import VARIANTS, Variant


@attrs.frozen
class ReplayStep:
    """One re-executed step."""

    number: int
    """1-based step number"""
    action: Action
    """the action"""
    state: State
    """the state after it"""
    violations: tuple[Violation, ...]
    """the recorded invariant's violations in that state"""


@attrs.frozen
class ReplayResult:
    """What a replay found."""

    model: KubeModel
    """the model the trace was replayed on"""
    initial: State
    """the initial state"""
    steps: tuple[ReplayStep, ...]
    """the steps re-executed"""
    violation_step: int | None
    """the first step (0: the initial state) at which the recorded invariant is violated"""
    message: str
    """its message"""
    diverged: str
    """why replay stopped before the end ("" if it did not)"""
    reproduced: bool
    """the recorded violation reproduces"""
    undecided: bool = False
    """an eventual property's trace whose last state could not be re-judged within the bound"""
    eventual: bool = False
    """the trace is an eventual property's: its last state was re-judged by a search from it"""

    @property
    def summary(self) -> str:
        """One line: the verdict."""
        if self.reproduced:
            return f"violation reproduces at step {self.violation_step}: {self.message}"
        if self.undecided:
            return f"violation undecided at step {self.violation_step}: {self.message}"
        if self.eventual and not self.diverged:
            return f"violation no longer reproduces: {self.message}"
        return "violation no longer reproduces" + (f" ({self.diverged})" if self.diverged else "")


def model_for(trace: Trace, source: str, variant: str | None = None, strict: bool = True, user: usermodel.ModelFile | None = None) -> KubeModel:
    """The model a trace runs on (``user``'s components beside the built-in ones); TraceError naming the file and field for unknown names or drift."""
    problem = usermodel.trace_problem(trace.model_file, user, source)
    if problem:
        raise TraceError(problem)
    if trace.manifests is not None:  # built from manifests: the trace carries them
        scenario: Scenario = scenario_from_json(trace.scenario, trace.manifests, f"{source}: manifests")
    else:
        scenario = usermodel.get_scenario(trace.scenario, user, where=f"{source}: scenario")
    if trace.numbers is not None:  # run with some of the scenario's numbers changed: the trace carries them
        scenario = numbered_scenario(scenario, trace.numbers.kinds, dict(trace.numbers.values), f"{source}: numbers")
    name = variant or trace.variant
    if name not in VARIANTS:
        raise UnknownNameError("variant", name, VARIANTS, where=f"{source}: variant" if variant is None else "--variant")
    if trace.invariant is not None:
        usermodel.get_invariant(trace.invariant, user, where=f"{source}: invariant")
    if strict and trace.spec_version != SPEC_VERSION:
        raise TraceError(f"{source}: spec_version: recorded with spec version {trace.spec_version}, this kspec has {SPEC_VERSION}")
    if strict and trace.bounds != to_data(scenario.bounds):
        raise TraceError(f"{source}: bounds: scenario {scenario.name}'s bounds changed since the trace was recorded")
    chosen: Variant = VARIANTS[name]
    return usermodel.build_model(scenario, chosen, user)


def replay(trace: Trace, source: str, variant: str | None = None, user: usermodel.ModelFile | None = None) -> ReplayResult:
    """Re-execute ``trace`` (found with the model file ``user``, if any).

    Strict unless ``variant`` replaces the recorded variant or ``user`` is not the recorded model file.
    """
    strict = (variant is None or variant == trace.variant) and not usermodel.drift(trace.model_file, user)
    model = model_for(trace, source, variant, strict, user)
    names = [trace.invariant] if trace.invariant else []
    monitor = usermodel.build_monitor(model, names, user)
    s = model.initial_states()[0]
    if strict and digest(s) != trace.initial_digest:
        raise TraceError(f"{source}: initial_digest: the initial state no longer matches the trace: the spec drifted since it was recorded")
    first = (0, found[0].message) if names and (found := monitor.check_state(s)) else None
    initial, steps, diverged = s, [], ""
    under = f"variant {model.variant.name}" + (f" with {user.path}" if user is not None else "")
    for i, step in enumerate(trace.steps):
        try:
            nxt = model.next_state(s, step.action)
        except UnknownNameError as e:
            if strict:
                raise UnknownNameError(e.what, e.name, e.known, where=f"{source}: steps[{i}]") from None
            diverged = f"step {i + 1} names {e.what} {e.name!r}, which {under} does not have"
            break
        except ActionNotEnabledError as e:
            if strict:
                raise TraceError(f"{source}: steps[{i}]: step {i + 1} cannot run ({e}): the spec drifted since the trace was recorded") from None
            diverged = f"step {i + 1} is not enabled under {under}: {step.action}"
            break
        if strict and digest(nxt) != step.digest:
            why = "differs from the recorded one: the spec drifted since the trace was recorded"
            raise TraceError(f"{source}: steps[{i}].digest: the state after step {i + 1} {why}")
        violations = tuple(monitor.check_step(s, step.action, nxt)) if names else ()
        if violations and first is None:
            first = (i + 1, violations[0].message)
        steps.append(ReplayStep(i + 1, step.action, nxt, violations))
        s = nxt
    prop = eventual.property_of(trace.message) if trace.invariant is None else None
    if prop is not None and not diverged and trace.loop_start is not None:
        states = [initial, *(step.state for step in steps)][trace.loop_start : -1]
        holds, why = eventual.fair_loop(model, states, [step.action for step in steps][trace.loop_start :], prop)
        return ReplayResult(model, initial, tuple(steps), len(steps), f"{eventual.PREFIX}{prop}: {why}", diverged, holds, eventual=True)
    if prop is not None and not diverged:
        verdict, why = eventual.doomed(model, s, prop)
        message = f"{eventual.PREFIX}{prop}: {why}"
        return ReplayResult(model, initial, tuple(steps), len(steps), message, diverged, verdict is True, verdict is None, eventual=True)
    at, message = first if first is not None else (None, "")
    reproduced = at is not None and (not strict or at == trace.violation_step)
    return ReplayResult(model, initial, tuple(steps), at, message, diverged, reproduced)
