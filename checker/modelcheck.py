"""Check a model a test built itself: the engine behind the ``kspec_model`` pytest fixture.

``kspec check`` builds its models from a built-in scenario and variant; a
test that adds components of its own (``KubeModel(scenario, variant,
extra=...)``, docs/model-interface.md) checks that very model here, with the
same engines, verdicts, trace recording and readable counterexample. A
counterexample is re-executed on the model before it is reported. Its saved
trace names the test's components, so it is read with :func:`checker.junit.readable_trace`
on the same model rather than with ``kspec replay``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs

from checker import check as checking
from checker import trace as tracefmt
from checker.config import cli_default
from checker.explore import Limits
from checker.hypothesis_engine import Coverage, run_hypothesis
from checker.junit import counterexample_text, extent
from spec.component import ComponentType
from spec.errors import UnknownNameError
from spec.invariants import Monitor
from spec.model import KubeModel
from spec.scenarios import get_scenario
from spec.variants import get_variant


@attrs.frozen
class ModelCheck:
    """The verdicts of one engine run over a test's model, and their text."""

    report: checking.RunReport
    """scenario, variant, verdicts, coverage, the counterexample and where it was saved"""
    text: str
    """what was covered and each invariant's verdict, then the counterexample step by step if one was found"""

    @property
    def violated(self) -> bool:
        """Some invariant was violated."""
        return self.report.violated


def build_model(
    scenario: str = "basic", variant: str = "default", extra_components: Sequence[ComponentType] = (), symmetry: bool = False
) -> KubeModel:
    """A built-in scenario and variant with the test's own components beside the built-in ones."""
    return KubeModel(get_scenario(scenario), get_variant(variant), extra=tuple(extra_components), symmetry=symmetry)


def check_model(
    model: KubeModel,
    invariants: Sequence[str] = (),
    *,
    engine: str = checking.HYPOTHESIS,
    seed: int | None = None,
    max_examples: int | None = None,
    limits: Limits | None = None,
    out: Path | None = None,
) -> ModelCheck:
    """One engine run over ``model`` (``kspec check``'s budget unless told); the counterexample saved under ``out``."""
    if engine not in checking.ENGINES:
        raise UnknownNameError("engine", engine, checking.ENGINES)
    monitor = Monitor(model.ctx, model.is_quiescent, list(invariants))
    chosen_seed = int(cli_default("seed")) if seed is None else seed
    examples = int(cli_default("max_examples")) if max_examples is None else max_examples
    found, coverage = _search(model, monitor, engine, chosen_seed, examples, limits or Limits())
    trace, saved = None, ""
    if found is not None:
        actions, violation, _ = found
        trace_seed = chosen_seed if engine == checking.HYPOTHESIS else None
        trace = tracefmt.record(
            model, actions, engine=engine, seed=trace_seed, invariant=violation.invariant, violation_step=len(actions), message=violation.message
        )
        if out is not None:
            path = out / f"{model.scenario.name}--{model.variant.name}--{violation.invariant}.json"
            tracefmt.write(trace, path)
            saved = str(path)
    verdicts = tuple((name, _verdict(name, monitor, trace, coverage.quiescent_states)) for name in monitor.names)
    report = checking.RunReport(model.scenario.name, model.variant.name, verdicts, coverage, trace, saved, None)
    return ModelCheck(report, _text(report, model, engine))


def _search(
    model: KubeModel, monitor: Monitor, engine: str, seed: int, max_examples: int, limits: Limits
) -> tuple[checking.Found | None, Coverage | checking.ExploreCoverage]:
    """The engine's first violation (shrunk, for Hypothesis; a shortest one, for the explorer) and what it covered."""
    if engine == checking.EXPLORE:
        return checking.explore_run(model, monitor, checking.ExploreOptions(limits=limits))
    result = run_hypothesis(model, monitor, seed=seed, max_examples=max_examples)
    found = (result.found.actions, result.found.violation, None) if result.found is not None else None
    return found, result.coverage


def _text(report: checking.RunReport, model: KubeModel, engine: str) -> str:
    """The verdicts as ``kspec check`` prints them, then the counterexample."""
    lines = [f"scenario {report.scenario}, variant {report.variant} ({engine}): {report.coverage.describe()}"]
    for name, verdict in report.verdicts:
        lines.append(f"  {verdict:<12} {name}" + (f": {_violation(report)}" if verdict == checking.VIOLATED else ""))
    if report.trace is None:
        lines.append(f"({extent(report)})")
        return "\n".join(lines)
    return "\n".join([*lines, "", counterexample_text(report, model, replayable=False)])


def _violation(report: checking.RunReport) -> str:
    trace = report.trace
    assert trace is not None
    return f"{trace.message} ({len(trace.steps)} steps" + (f"; saved {report.saved})" if report.saved else ")")


def _verdict(name: str, monitor: Monitor, trace: tracefmt.Trace | None, quiescent_states: int) -> str:
    """Violated by the counterexample, not reached (a quiescent invariant, no quiescent state), else holds."""
    if trace is not None and trace.invariant == name:
        return checking.VIOLATED
    if quiescent_states == 0 and any(i.name == name for i in monitor.quiescent_checks):
        return checking.NOT_REACHED
    return checking.HOLDS
