"""Calibration: no false alarms, and no invariant that cannot fail.

- the default variant holds every invariant in every built-in scenario at the
  CI budget (a bounded search, as `kspec check` reports it);
- every variant breaks the invariant it names, on its witness scenario, with
  the default `kspec check` budget and seed;
- every invariant is broken by at least one variant.
"""

from __future__ import annotations

import pytest

from checker.check import HOLDS, NOT_REACHED, VIOLATED, check_one
from checker.hypothesis_engine import Coverage
from spec.invariants import INVARIANTS, KINDS
from spec.scenarios import SCENARIOS, get_scenario
from spec.variants import DEFAULT, VARIANTS

CI_EXAMPLES = 40
DEFAULT_EXAMPLES = 300  # kspec check's default --max-examples

BUGS = [v for v in VARIANTS.values() if v is not DEFAULT]
SLOW_TO_CATCH = {"endpoints-keep-terminating", "two-schedulers"}
"""caught with the defaults in 15 to 50 s each: under ``-m slow`` (their committed counterexamples replay in the default run, tests/test_corpus.py)"""


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_default_variant_holds_every_invariant(scenario: str) -> None:
    report = check_one(SCENARIOS[scenario], DEFAULT, [], seed=0, max_examples=CI_EXAMPLES)
    assert report.trace is None, f"false alarm: {report.trace.invariant}: {report.trace.message}"
    assert {v for _, v in report.verdicts} <= {HOLDS, NOT_REACHED}
    assert isinstance(report.coverage, Coverage)
    assert report.coverage.examples >= CI_EXAMPLES and report.coverage.steps > 0


@pytest.mark.parametrize("variant", [pytest.param(v, marks=pytest.mark.slow) if v.name in SLOW_TO_CATCH else v for v in BUGS], ids=lambda v: v.name)
def test_every_variant_breaks_its_invariant(variant) -> None:  # type: ignore[no-untyped-def]
    report = check_one(get_scenario(variant.witness), variant, [], seed=0, max_examples=DEFAULT_EXAMPLES)
    assert report.trace is not None, f"{variant.name} was not caught on {variant.witness}"
    assert report.trace.invariant is not None and report.trace.invariant in variant.breaks
    assert dict(report.verdicts)[report.trace.invariant] == VIOLATED
    assert report.trace.violation_step == len(report.trace.steps)


def test_every_invariant_is_broken_by_some_variant() -> None:
    broken = {name for v in BUGS for name in v.breaks}
    assert sorted(set(INVARIANTS) - broken) == []


def test_catalogue_is_well_formed() -> None:
    for inv in INVARIANTS.values():
        assert inv.kind in KINDS
        assert "pkg/" in inv.guarantee or "docs:" in inv.guarantee, inv.name
    for v in BUGS:
        assert v.witness in SCENARIOS and v.reference and v.component
        assert set(v.breaks) <= set(INVARIANTS)
