"""``kspec check``: run an engine over scenarios and variants, judge each invariant, save counterexamples.

Each (scenario, variant) pair is one engine run over the selected
invariants: the Hypothesis engine (random interleavings, the violation
shrunk) or the exhaustive explorer (every interleaving within the bounds,
breadth-first, so the violation is a shortest one). A run stops at the first
violation, which is replayed through the executable spec (``checker.replay``)
and saved as a trace. Each invariant of a run is then *violated* (by that
counterexample), *holds* (nothing broke it: in every state the explorer
reached, or in every example Hypothesis ran; never a proof beyond the
scenario's bounds) or *not reached* (a quiescent invariant when no quiescent
state was reached). The Z3 engine (``checker.bmc``) searches the runs of
the actions it encodes, breadth-first in the depth, so its violation is a
shortest such run; an invariant it has no encoding for is *not encoded*.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from checker import eventual, usermodel
from checker import trace as tracefmt
from checker.bmc import engine as bmc
from checker.explore import BFS, ExploreResult, Limits, Progress, explore
from checker.graphs import write_graph
from checker.hypothesis_engine import Coverage, run_hypothesis
from checker.replay import replay
from spec.component import Action
from spec.errors import KspecError
from spec.invariants import Monitor, Violation
from spec.model import KubeModel
from spec.scenarios import Scenario
from spec.state import State
from spec.variants import Variant

Found = tuple[tuple[Action, ...], Violation, int | None]
"""a counterexample: its actions, the violation, and where its loop starts when it is a lasso (else None)"""

HOLDS, VIOLATED, NOT_REACHED, NOT_ENCODED = "holds", "violated", "not reached", "not encoded"
HYPOTHESIS, EXPLORE, Z3 = "hypothesis", "explore", bmc.Z3
ENGINES = (HYPOTHESIS, EXPLORE, Z3)


@attrs.frozen
class ExploreOptions:
    """How the explorer searches: order and bounds, and where to write the reachable graph."""

    order: str = BFS
    limits: Limits = attrs.field(factory=Limits)
    graph: Path | None = None
    eventually: bool = False
    """also check the eventual properties ``converges`` and ``binds`` on the reachable graph"""
    workers: int = 1
    """processes for a breadth-first search"""
    progress: Callable[[Progress], None] | None = attrs.field(default=None, eq=False)
    """called every ``progress_every`` seconds while the explorer runs"""
    progress_every: float = 2.0
    refuted: Callable[[int, float], None] | None = attrs.field(default=None, eq=False)
    """called as Z3 refutes each depth, with the depth and the seconds so far"""
    symmetry: bool = False
    """visit states that differ only by renaming interchangeable nodes once (``spec.symmetry``)"""


@attrs.frozen
class ExploreCoverage:
    """What an explorer run covered."""

    result: ExploreResult
    quiescent_states: int
    symmetry: int = 1
    """permutations of interchangeable nodes folded into one state (1: no symmetry reduction)"""

    @property
    def seconds(self) -> float:
        """Wall time."""
        return self.result.seconds

    def describe(self) -> str:
        """One line: states, transitions, depth, and whether the search was complete."""
        r = self.result
        if r.complete:
            extent = "complete: every reachable state"
        elif r.stopped == "violation":
            extent = "stopped at the first violation"
        else:
            extent = f"incomplete: stopped at the {r.stopped} bound"
        line = (
            f"{r.states:,} distinct states, {r.transitions:,} transitions, depth {r.depth}, "
            f"{self.quiescent_states:,} quiescent states, {r.seconds:.1f} s ({r.order}, {extent})"
        )
        if self.symmetry > 1:
            line += f"; node symmetry: {self.symmetry} permutations per state"
        for v in r.eventual:
            line += f"; eventually {v.name}: {v.doomed:,} doomed states, {v.undecided:,} beyond the bounds (undecided)"
            if v.stalls:
                line += f", {v.stalls:,} cycles without progress"
            if v.stalls and v.lassos is not None:
                line += f", {v.lassos:,} of them fair (livelocks)"
            elif v.stalls and self.symmetry > 1:
                line += " (fairness is not judged under symmetry)"
        return line

    def as_json(self) -> dict[str, object]:
        """The run's statistics for ``--json``."""
        r = self.result
        return {
            "engine": EXPLORE,
            "order": r.order,
            "complete": r.complete,
            "stopped": r.stopped or None,
            "states": r.states,
            "transitions": r.transitions,
            "depth": r.depth,
            "quiescent_states": self.quiescent_states,
            "seconds": round(r.seconds, 3),
            "states_per_second": round(r.states / r.seconds) if r.seconds > 0 else None,
            "bytes_per_state": round(r.bytes_per_state, 1),
            "peak_queue": r.peak_queue,
            "workers": r.workers,
            "symmetry": self.symmetry,
            "actions": {c.label: {"enabled": c.enabled, "new_states": c.new_states} for c in r.coverage},
            "never_fired": list(r.never_fired),
            "eventually": {v.name: {"doomed": v.doomed, "undecided": v.undecided, "stalls": v.stalls, "fair_stalls": v.lassos} for v in r.eventual},
        }


class KubeProperties:
    """The explorer's view of the invariant catalogue: quiescence read off the successors it already has."""

    def __init__(self, model: KubeModel, names: Sequence[str] | Monitor) -> None:
        self.model = model
        self.monitor = names if isinstance(names, Monitor) else Monitor(model.ctx, model.is_quiescent, names)
        self.names = self.monitor.names
        self.edge_checks = bool(self.monitor.transition_checks)
        self.quiescent_states = 0

    def check_state(self, state: State, successors: Sequence[tuple[Action, State]]) -> list[Violation]:
        """State invariants, and quiescent ones if no component has work left."""
        quiescent = self.model.quiescent_given(state, successors)
        self.quiescent_states += quiescent
        return self.monitor.check_state(state, quiescent)

    def check_edge(self, before: State, action: Action, after: State) -> list[Violation]:
        """Transition invariants."""
        return self.monitor.check_transition(before, action, after)


@attrs.frozen
class RunReport:
    """The verdicts of one (scenario, variant) run."""

    scenario: str
    """the scenario's name"""
    variant: str
    """the variant's name"""
    verdicts: tuple[tuple[str, str], ...]
    """(invariant, holds / violated / not reached) in catalogue order"""
    coverage: Coverage | ExploreCoverage | bmc.BmcCoverage
    """what the run covered"""
    trace: tracefmt.Trace | None
    """the shrunk counterexample, if one was found"""
    saved: str
    """where the counterexample was written ("" if nowhere)"""
    steps_to_first: int | None
    """steps taken until the first violation was met (before shrinking)"""
    seconds_to_first: float | None = None
    """seconds until the first violation was met (before shrinking)"""

    @property
    def violated(self) -> bool:
        """Some invariant was violated."""
        return self.trace is not None


def check_one(
    scenario: Scenario,
    variant: Variant,
    invariants: Sequence[str],
    *,
    seed: int,
    max_examples: int,
    profile: str = "ci",
    out: Path | None = None,
    engine: str = HYPOTHESIS,
    explore_options: ExploreOptions | None = None,
    user: usermodel.ModelFile | None = None,
) -> RunReport:
    """One engine run on ``scenario`` and ``variant`` (:func:`run_model`).

    ``user``: a model file whose components and invariants join the built-in ones.
    """
    symmetric = engine == EXPLORE and explore_options is not None and explore_options.symmetry
    model = usermodel.build_model(scenario, variant, user, symmetric)
    monitor = usermodel.build_monitor(model, invariants, user)
    return run_model(
        model, monitor, seed=seed, max_examples=max_examples, profile=profile, out=out, engine=engine, explore_options=explore_options, user=user
    )


def run_model(
    model: KubeModel,
    monitor: Monitor,
    *,
    seed: int,
    max_examples: int,
    profile: str = "ci",
    out: Path | None = None,
    engine: str = HYPOTHESIS,
    explore_options: ExploreOptions | None = None,
    user: usermodel.ModelFile | None = None,
    replayable: bool = True,
) -> RunReport:
    """One engine run over ``model``; the counterexample (if any) recorded, confirmed, and saved under ``out``.

    Recording re-executes the steps on ``model``. A ``replayable`` trace is
    then replayed as ``kspec replay`` reads it (the model rebuilt from the
    trace, with the model file ``user``); a model a test built with its own
    components is not rebuilt from a trace, so its recording is the check.
    """
    coverage: Coverage | ExploreCoverage | bmc.BmcCoverage
    if engine == EXPLORE:
        found, coverage = explore_run(model, monitor, explore_options or ExploreOptions())
        steps_to_first, seconds_to_first = (coverage.result.transitions, coverage.result.seconds) if found else (None, None)
        trace_seed = None  # the explorer has no randomness
    elif engine == Z3:
        options = explore_options or ExploreOptions()
        shortest, coverage = bmc.search(model, monitor, options.limits.depth, options.limits.seconds, refuted=options.refuted)
        found = (shortest[0], shortest[1], None) if shortest is not None else None
        steps_to_first, seconds_to_first = (len(shortest[0]), coverage.seconds) if shortest else (None, None)
        trace_seed = None  # Z3's answer does not depend on a seed
    else:
        result = run_hypothesis(model, monitor, seed=seed, max_examples=max_examples, profile=profile)
        found = (result.found.actions, result.found.violation, None) if result.found is not None else None
        coverage, steps_to_first, seconds_to_first, trace_seed = result.coverage, result.steps_to_first, result.seconds_to_first, seed
    trace, saved = None, ""
    if found is not None:
        actions, v, loop_start = found
        doomed = v.invariant not in monitor.names  # a doomed state: a plain trace, the property is judged on the graph
        trace = tracefmt.record(
            model,
            actions,
            engine=engine,
            seed=trace_seed,
            invariant=None if doomed else v.invariant,
            violation_step=None if doomed else len(actions),
            message=f"{v.invariant}: {v.message}" if doomed else v.message,
            loop_start=loop_start,
            model_file=user.ref if user is not None else None,
        )
        if replayable:
            confirmed = replay(trace, "<engine>", user=user)
            assert confirmed.reproduced or confirmed.undecided, f"the executable spec does not confirm the counterexample: {confirmed.summary}"
        if out is not None:
            path = out / f"{model.scenario.name}--{model.variant.name}--{v.invariant}.json"
            tracefmt.write(trace, path)
            saved = str(path)
    quiescent = {i.name for i in monitor.quiescent_checks}
    unjudged = set(coverage.unjudged) if isinstance(coverage, bmc.BmcCoverage) else set()
    verdicts = tuple(
        (name, NOT_ENCODED if name in unjudged else _verdict(name, name in quiescent, trace, coverage.quiescent_states)) for name in monitor.names
    )
    return RunReport(model.scenario.name, model.variant.name, verdicts, coverage, trace, saved, steps_to_first, seconds_to_first)


def explore_run(model: KubeModel, monitor: Monitor, options: ExploreOptions) -> tuple[Found | None, ExploreCoverage]:
    """The explorer's first violation (a safety one, else a doomed state of an eventual property) and what it covered."""
    properties = KubeProperties(model, monitor)
    eventually = eventual.properties(model) if options.eventually else []
    result = explore(
        model,
        properties,
        order=options.order,
        limits=options.limits,
        graph=options.graph is not None,
        eventually=eventually,
        workers=options.workers,
        progress=options.progress,
        progress_every=options.progress_every,
    )
    if options.graph is not None:
        write_graph(result.graph, options.graph)
    coverage = ExploreCoverage(result, properties.quiescent_states, model.symmetry.order if model.symmetry else 1)
    if result.found is not None:
        return (result.found.actions, result.found.violation, None), coverage
    for v in result.eventual:
        if v.path is not None and v.loop_start is None:
            message = f"after these steps {eventual.MESSAGES[v.name]} ({v.doomed} such states)"
            return (v.path, Violation(f"{eventual.PREFIX}{v.name}", message), None), coverage
        if v.path is not None and v.loop_start is not None:
            loop = len(v.path) - v.loop_start
            message = f"the last {loop} steps repeat forever in a weakly fair run, so {eventual.MESSAGES[v.name]} ({v.lassos} such cycles)"
            return (v.path, Violation(f"{eventual.PREFIX}{v.name}", message), v.loop_start), coverage
    return None, coverage


def _verdict(name: str, quiescent: bool, trace: tracefmt.Trace | None, quiescent_states: int) -> str:
    """Violated by the counterexample, not reached (a quiescent invariant, no quiescent state), else holds."""
    if trace is not None and trace.invariant == name:
        return VIOLATED
    if quiescent and quiescent_states == 0:
        return NOT_REACHED
    return HOLDS


def check_all(
    runs: Sequence[tuple[Scenario, Variant]],
    invariants: Sequence[str],
    *,
    seed: int,
    max_examples: int,
    profile: str = "ci",
    out: Path | None = None,
    progress: Callable[[RunReport], None] | None = None,
    engine: str = HYPOTHESIS,
    explore_options: ExploreOptions | None = None,
    user: usermodel.ModelFile | None = None,
    jobs: int = 1,
) -> list[RunReport]:
    """Every run, reported in the order given (``progress`` is called as each finishes).

    ``jobs`` > 1 with several runs runs up to that many at once in forked
    processes (:func:`_check_forked`); each run is the one a single process
    makes, so the reports and counterexamples are the same. An explorer run
    or a Z3 run then searches in its one process, without progress lines
    (they would interleave); a single run spreads its search over
    ``explore_options.workers`` instead.
    """
    forked = jobs > 1 and len(runs) > 1
    if forked and engine in (EXPLORE, Z3):
        explore_options = attrs.evolve(explore_options or ExploreOptions(), workers=1, progress=None, refuted=None)

    def one(scenario: Scenario, variant: Variant) -> RunReport:
        return check_one(
            scenario,
            variant,
            invariants,
            seed=seed,
            max_examples=max_examples,
            profile=profile,
            out=out,
            engine=engine,
            explore_options=explore_options,
            user=user,
        )

    if forked:
        return _check_forked(runs, one, jobs, progress)
    reports = []
    for scenario, variant in runs:
        report = one(scenario, variant)
        if progress is not None:
            progress(report)
        reports.append(report)
    return reports


_forked_runs: list[tuple[Callable[[Scenario, Variant], RunReport], Scenario, Variant]] = []
"""the runs of :func:`_check_forked`, which the forked processes inherit (only an index goes to them)"""


def _forked_run(index: int) -> tuple[int, RunReport | KspecError]:
    """One run in a forked process; bad input comes back as its message (an exception's arguments need not survive the pipe)."""
    one, scenario, variant = _forked_runs[index]
    try:
        return index, one(scenario, variant)
    except KspecError as e:
        return index, KspecError(str(e))


def _ignore_interrupts() -> None:
    """In a forked process: Ctrl-C is the main process's to handle (it stops every process of the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _check_forked(
    runs: Sequence[tuple[Scenario, Variant]],
    one: Callable[[Scenario, Variant], RunReport],
    jobs: int,
    progress: Callable[[RunReport], None] | None,
) -> list[RunReport]:
    """The runs spread over ``jobs`` forked processes, as ``checker.parallel`` forks the explorer's workers.

    The processes inherit the model, the invariants and the model file; only
    a run's index goes to a process and its report comes back, through
    multiprocessing's pipes. Each process writes its own counterexample
    files (atomically). The first bad input, in run order, is raised here.
    An interrupt (or any error) in the main process terminates the pool, so
    no run goes on after ``kspec check`` has stopped.
    """
    _forked_runs[:] = [(one, scenario, variant) for scenario, variant in runs]
    results: list[RunReport | KspecError | None] = [None] * len(runs)
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(runs)), initializer=_ignore_interrupts) as pool:
            for index, result in pool.imap_unordered(_forked_run, range(len(runs))):
                results[index] = result
                if progress is not None and isinstance(result, RunReport):
                    progress(result)
    finally:
        _forked_runs.clear()
    for outcome in results:
        if isinstance(outcome, KspecError):
            raise outcome
    return [r for r in results if isinstance(r, RunReport)]


def to_json(reports: Sequence[RunReport]) -> dict[str, object]:
    """The machine-readable summary ``--json`` writes."""
    return {
        "format": "kspec-check",
        "version": 1,
        "violated": any(r.violated for r in reports),
        "runs": [
            {
                "scenario": r.scenario,
                "variant": r.variant,
                **r.coverage.as_json(),
                "verdicts": dict(r.verdicts),
                "counterexample": r.saved or None,
                "trace_steps": len(r.trace.steps) if r.trace else None,
                "message": r.trace.message if r.trace else None,
            }
            for r in reports
        ],
    }
