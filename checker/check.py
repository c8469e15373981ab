"""``kspec check``: run an engine over scenarios and variants, judge each invariant, save counterexamples.

Each (scenario, variant) pair is one engine run over the selected
invariants. A run stops at the first violation, which is shrunk, replayed
through the executable spec (``checker.replay``) and saved as a trace. Each
invariant of a run is then *violated* (by that counterexample), *holds* (no
example broke it; a bounded search, not a proof) or *not reached* (a
quiescent invariant when no example reached a quiescent state).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from checker import trace as tracefmt
from checker.hypothesis_engine import Coverage, run_hypothesis
from checker.replay import replay
from spec.invariants import INVARIANTS, QUIESCENT, Monitor
from spec.model import KubeModel
from spec.scenarios import Scenario
from spec.variants import Variant

HOLDS, VIOLATED, NOT_REACHED = "holds", "violated", "not reached"
ENGINES = ("hypothesis",)


@attrs.frozen
class RunReport:
    """The verdicts of one (scenario, variant) run."""

    scenario: str
    """the scenario's name"""
    variant: str
    """the variant's name"""
    verdicts: tuple[tuple[str, str], ...]
    """(invariant, holds / violated / not reached) in catalogue order"""
    coverage: Coverage
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
) -> RunReport:
    """One engine run; the counterexample (if any) replayed, and saved under ``out``."""
    model = KubeModel(scenario, variant)
    monitor = Monitor(model.ctx, model.is_quiescent, invariants)
    result = run_hypothesis(model, monitor, seed=seed, max_examples=max_examples, profile=profile)
    trace, saved = None, ""
    if result.found is not None:
        v = result.found.violation
        trace = tracefmt.record(
            model,
            result.found.actions,
            engine="hypothesis",
            seed=seed,
            invariant=v.invariant,
            violation_step=len(result.found.actions),
            message=v.message,
        )
        confirmed = replay(trace, "<engine>")
        assert confirmed.reproduced, f"the executable spec does not confirm the counterexample: {confirmed.summary}"
        if out is not None:
            path = out / f"{scenario.name}--{variant.name}--{v.invariant}.json"
            tracefmt.write(trace, path)
            saved = str(path)
    verdicts = tuple((name, _verdict(name, trace, result.coverage)) for name in monitor.names)
    return RunReport(scenario.name, variant.name, verdicts, result.coverage, trace, saved, result.steps_to_first, result.seconds_to_first)


def _verdict(name: str, trace: tracefmt.Trace | None, coverage: Coverage) -> str:
    if trace is not None and trace.invariant == name:
        return VIOLATED
    if INVARIANTS[name].kind == QUIESCENT and coverage.quiescent_states == 0:
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
) -> list[RunReport]:
    """Every run in order, reporting each as it finishes."""
    reports = []
    for scenario, variant in runs:
        report = check_one(scenario, variant, invariants, seed=seed, max_examples=max_examples, profile=profile, out=out)
        if progress is not None:
            progress(report)
        reports.append(report)
    return reports


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
                "examples": r.coverage.examples,
                "steps": r.coverage.steps,
                "quiescent_states": r.coverage.quiescent_states,
                "seconds": round(r.coverage.seconds, 3),
                "verdicts": dict(r.verdicts),
                "counterexample": r.saved or None,
                "trace_steps": len(r.trace.steps) if r.trace else None,
                "message": r.trace.message if r.trace else None,
            }
            for r in reports
        ],
    }
