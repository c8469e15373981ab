"""The Hypothesis engine: a RuleBasedStateMachine generated from the action catalogue.

The machine has no copy of the actions. Its one rule takes a step: it asks
the catalogue (``spec.catalogue.enabled_steps``) for the enabled actions and
lets Hypothesis choose one, so shrinking works on those choices and a shrunk
example is a shorter run of the same catalogue. After every step the
:class:`spec.invariants.Monitor` checks the selected invariants (quiescent
ones only in quiescent states); a violation ends the example.

Out of the box Hypothesis would run about 50 steps per example and pick rules
uniformly, so a watch event held back while three other components act would
come up rarely. Hypothesis here only searches (its shrinker stops on a
wall-clock limit, which would make results depend on the machine); the first
example that breaks an invariant is shrunk by ``checker.shrink``. Three things make rare interleavings likely:

- **step count from the scenario**: every example may run
  ``scenario.bounds.steps`` steps;
- **swarm testing** (Groce et al., ISSTA 2012): each example first switches
  off each of the catalogue's action kinds with probability one half (component kind and
  action name, e.g. ``kubelet WatchDeliver``); a switched-off kind runs only
  when nothing else is enabled. Holding back one kind of delivery for a whole
  example is how a stale cache meets a fresh write;
- **weights**: a step first picks a component instance uniformly, then one of
  its actions, so an instance with one rare action (a fault, a restart) is as
  likely to act as one with a dozen pending deliveries.

Profiles are registered here, in one place, for the engine and the test
suite alike: ``ci`` (derandomized, no example database written, the
default; an engine run is seeded explicitly), ``dev`` (random, the local
example database, more examples) and ``deep`` (many more examples, for runs
behind the ``slow`` marker). Hypothesis is a driver
inside checker/, not the public API.

Hypothesis (6.131 and later) also mixes into its draws the literals of every
local module the process has loaded
(``hypothesis.internal.conjecture.providers._get_local_constants``), so the
examples of one seed would depend on what else the process imported (a test
module, ``checker.cli``, a ``--model`` file). An engine run draws from a fixed
pool instead: the constants of the ``spec`` package's source, the model
itself (:func:`_model_constants_only`). Some of its small integers then come
up more often as the choice of component or action, which catches the
deepest variants more often than uniform choices alone.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, rule

import spec
from checker.shrink import shrink
from spec import catalogue
from spec.component import Action
from spec.invariants import Monitor, Violation
from spec.model import KubeModel
from spec.state import State

PROFILES = ("ci", "dev", "deep")
_ALL = list(HealthCheck)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None, suppress_health_check=_ALL)
settings.register_profile("dev", max_examples=300, deadline=None, suppress_health_check=_ALL)
settings.register_profile("deep", database=None, max_examples=5000, deadline=None, suppress_health_check=_ALL)


@attrs.frozen
class Found:
    """The shrunk counterexample of a run."""

    actions: tuple[Action, ...]
    """the steps, from the scenario's initial state"""
    violation: Violation
    """the invariant it breaks and why"""


@attrs.frozen
class Coverage:
    """What a run covered."""

    examples: int
    """examples run (shrinking included)"""
    steps: int
    """steps taken over all examples"""
    quiescent_states: int
    """quiescent states the quiescent invariants were checked in"""
    seconds: float
    """wall time"""

    def describe(self) -> str:
        """One line: examples, steps, quiescent states, time."""
        return f"{self.examples} examples, {self.steps:,} steps, {self.quiescent_states:,} quiescent states, {self.seconds:.1f} s"

    def as_json(self) -> dict[str, object]:
        """The run's statistics for ``--json``."""
        return {
            "engine": "hypothesis",
            "examples": self.examples,
            "steps": self.steps,
            "quiescent_states": self.quiescent_states,
            "seconds": round(self.seconds, 3),
        }


@attrs.frozen
class RunResult:
    """The outcome of one engine run."""

    found: Found | None
    """the shrunk counterexample, if an invariant broke"""
    coverage: Coverage
    """what was covered"""
    steps_to_first: int | None
    """steps taken (over all examples) until the first violation was met, before shrinking"""
    seconds_to_first: float | None
    """seconds until the first violation was met"""


class _Violated(Exception):
    """Raised inside the machine to make Hypothesis shrink the example."""


class _Run:
    """Counters and the last violation, shared by every example of a run."""

    def __init__(self) -> None:
        self.examples = 0
        self.steps = 0
        self.quiescent = 0
        self.last: Found | None = None
        self.first_steps: int | None = None
        self.first_seconds: float | None = None
        self.started = time.perf_counter()

    def violated(self, actions: Sequence[Action], violation: Violation) -> None:
        self.last = Found(tuple(actions), violation)
        if self.first_steps is None:
            self.first_steps = self.steps
            self.first_seconds = time.perf_counter() - self.started


def _choose(data: Any, steps: list[catalogue.Step]) -> catalogue.Step:
    """An instance uniformly, then one of its enabled actions."""
    instances = sorted({instance for _, _, instance, _ in steps})
    instance = instances[data.draw(st.integers(0, len(instances) - 1), label="component") if len(instances) > 1 else 0]
    mine = [step for step in steps if step[2] == instance]
    return mine[data.draw(st.integers(0, len(mine) - 1), label="action") if len(mine) > 1 else 0]


def machine_class(model: KubeModel, monitor: Monitor, run: _Run) -> type[RuleBasedStateMachine]:
    """A RuleBasedStateMachine over ``model``'s catalogue that checks ``monitor``'s invariants."""
    ctx = model.ctx
    kinds = catalogue.action_labels(ctx, possible_only=False)  # the swarm's units: every kind, so seeds keep their meaning
    kind_of = {name: ctype.kind for name, ctype in ctx.components}

    class KubeMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.state: State = model.initial_states()[0]
            self.actions: list[Action] = []
            self.off: frozenset[str] = frozenset()
            run.examples += 1

        @initialize(flags=st.lists(st.booleans(), min_size=len(kinds), max_size=len(kinds)))
        def swarm(self, flags: list[bool]) -> None:
            """Switch off each action kind with probability one half for this example, and check the initial state."""
            self.off = frozenset(k for k, off in zip(kinds, flags, strict=True) if off)
            self._report(monitor.check_state(self.state))

        @rule(data=st.data())
        def step(self, data: Any) -> None:
            """Take one enabled, non-stuttering step chosen by Hypothesis."""
            s = self.state
            on: list[catalogue.Step] = []
            off: list[catalogue.Step] = []
            for step in catalogue.enabled_steps(ctx, s):
                (off if f"{kind_of[step[2]]} {step[0].name}" in self.off else on).append(step)
            for pool in (on, off):  # switched-off kinds only when nothing else changes the state
                while pool:
                    chosen = _choose(data, pool)
                    action, adef, instance, params = chosen
                    nxt = adef.effect(ctx, s, instance, *params)
                    if catalogue.changed(s, nxt):
                        run.steps += 1
                        self.actions.append(action)
                        self.state = nxt
                        self._report(monitor.check_step(s, action, nxt))
                        return
                    pool = [x for x in pool if x is not chosen]
            # nothing is enabled: the rest of the example stutters

        def _report(self, violations: list[Violation]) -> None:
            if violations:
                run.violated(self.actions, violations[0])
                raise _Violated(violations[0].message)

    return KubeMachine


def run_hypothesis(model: KubeModel, monitor: Monitor, *, seed: int = 0, max_examples: int = 100, profile: str = "ci") -> RunResult:
    """Search ``model`` for a violation of ``monitor``'s invariants; shrink the first one found.

    The same seed, model and settings give the same examples in every process:
    the ``ci`` profile has no example database, and nothing the machine draws
    depends on hashing or set order.
    """
    run = _Run()
    counting = _counting_quiescence(monitor, run)
    machine = machine_class(model, counting, run)
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    chosen = settings(
        settings.get_profile(profile),
        max_examples=max_examples,
        stateful_step_count=model.scenario.bounds.steps,
        phases=phases,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
    )
    test = hypothesis.seed(seed)(get_state_machine_test(machine, settings=chosen))
    with contextlib.suppress(_Violated), _model_constants_only():
        test()
    found = run.last
    if found is not None:
        one = Monitor(monitor.ctx, monitor.quiescent, [found.violation.invariant], monitor.catalogue)
        actions, violation = shrink(model, one, found.actions, found.violation.invariant)
        found = Found(tuple(actions), violation)
    seconds = time.perf_counter() - run.started
    coverage = Coverage(run.examples, run.steps, run.quiescent, seconds)
    return RunResult(found, coverage, run.first_steps, run.first_seconds)


@contextlib.contextmanager
def _model_constants_only() -> Iterator[None]:
    """Within the block, Hypothesis draws its constants from the model's source, whatever else this process has loaded."""
    providers = importlib.import_module("hypothesis.internal.conjecture.providers")
    original, cache = getattr(providers, "_get_local_constants", None), getattr(providers, "CONSTANTS_CACHE", None)
    if original is None or cache is None:  # a Hypothesis without module constants
        yield
        return
    pool = _spec_constants()
    setattr(providers, "_get_local_constants", lambda: pool)  # noqa: B010 (an internal of Hypothesis, restored below)
    cache.cache.clear()
    try:
        yield
    finally:
        setattr(providers, "_get_local_constants", original)  # noqa: B010
        cache.cache.clear()


@functools.cache
def _spec_constants() -> Any:
    """The literals of every module of the ``spec`` package, read from source in path order (nothing is written to disk)."""
    constants_ast = importlib.import_module("hypothesis.internal.constants_ast")
    pool = constants_ast.Constants()
    for path in sorted(Path(spec.__file__).parent.rglob("*.py")):
        pool |= constants_ast._constants_from_source(path.read_bytes(), limit=True)
    return pool


def _counting_quiescence(monitor: Monitor, run: _Run) -> Monitor:
    """The monitor, with its quiescence test counting the quiescent states it meets."""
    test = monitor.quiescent

    def quiescent(s: State) -> bool:
        if test(s):
            run.quiescent += 1
            return True
        return False

    return Monitor(monitor.ctx, quiescent, monitor.names, monitor.catalogue)
