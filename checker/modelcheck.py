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
from checker.config import cli_default
from checker.explore import Limits
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
    report = checking.run_model(
        model,
        monitor,
        seed=int(cli_default("seed")) if seed is None else seed,
        max_examples=int(cli_default("max_examples")) if max_examples is None else max_examples,
        out=out,
        engine=engine,
        explore_options=checking.ExploreOptions(limits=limits or Limits()),
        replayable=False,
    )
    return ModelCheck(report, _text(report, model, engine))


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
