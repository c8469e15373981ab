"""The engines agree on every variant: a violation one engine finds within a bound that another covers completely, the other finds too.

Three searches of the same model answer the same question:

- Hypothesis (``kspec check``): the committed counterexample of each variant
  is a Hypothesis trace of ``L`` steps that replays, so a violation is
  reachable within ``L`` steps;
- the explorer (``--engine explore``), breadth-first: within the depth ``L``
  it must find that invariant broken, at a depth of at most ``L`` (it finds
  the shortest), and its trace must replay;
- the explorer over symbolic numbers (``--engine explore --symbolic``, the
  spec computing with SymInts that record every branch on a number): at the
  scenario's own numbers it must reach the verdict and depth of the plain
  explorer;
- Z3 (``kspec prove``, k-induction over the API server's writes): what it
  proves on the witness scenario, no step of the Hypothesis trace breaks,
  and what the trace breaks, it does not prove;
- Z3 (``kspec check --engine z3``, bounded model checking of the runs of
  the actions it encodes): where the trace is such a run, it finds the
  violation within ``L`` steps; what it finds, the variant is known to
  break.

A search stopped by its time budget before it covered depth ``L`` decides
nothing, and the slow test says so by skipping; the default run takes the
variants whose depth ``L`` the explorer covers in seconds, so there it
cannot skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker import induction
from checker import trace as tracefmt
from checker.bmc import engine as bmc
from checker.bmc import environment as bmc_environment
from checker.bmc import instance as bmc_instance
from checker.check import EXPLORE, ExploreCoverage, ExploreOptions, check_one
from checker.concolic import KINDS, recording, symbolic_scenario
from checker.explore import ExploreResult, Limits
from checker.numbers import explore_scenario
from checker.replay import replay
from checker.symbolic import PROVED, prove
from spec.invariants import Monitor
from spec.scenarios import get_scenario
from spec.variants import DEFAULT, VARIANTS, Variant

CORPUS = Path(__file__).resolve().parent.parent / "counterexamples"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
BUGS = [v for v in VARIANTS.values() if v is not DEFAULT]
QUICK = ("apiserver-clusterip-lag", "kube-proxy-keep-stale", "kubelet-ip-by-running", "nodelifecycle-no-disruption-mode")
"""variants whose committed trace is short enough for the explorer to cover its depth in seconds"""


def _hypothesis_depth(variant: Variant) -> int:
    """The length of the variant's committed Hypothesis trace, which must replay to its violation."""
    name = f"{variant.name}.json"
    trace = tracefmt.load(CORPUS / name)
    result = replay(trace, name)
    assert result.reproduced, f"{name}: {result.summary}"
    assert trace.invariant == variant.breaks[0]
    return len(trace.steps)


def _explorer(variant: Variant, depth: int, seconds: float) -> tuple[ExploreResult, tracefmt.Trace | None]:
    """The explorer on the variant's witness, breadth-first to ``depth``, for the invariant its trace breaks."""
    options = ExploreOptions(limits=Limits(depth=depth, seconds=seconds))
    report = check_one(get_scenario(variant.witness), variant, variant.breaks[:1], seed=0, max_examples=1, engine=EXPLORE, explore_options=options)
    assert isinstance(report.coverage, ExploreCoverage)
    return report.coverage.result, report.trace


def _agree(variant: Variant, seconds: float) -> None:
    depth = _hypothesis_depth(variant)
    result, trace = _explorer(variant, depth, seconds)
    if trace is None and result.stopped == "time":
        pytest.skip(f"the explorer covered depth {result.depth - 1} of {depth} in {seconds:.0f} s: it decides nothing")
    missed = f"Hypothesis breaks {variant.breaks[0]} in {depth} steps; the explorer covered every path that long and did not"
    assert trace is not None, f"{missed} ({result.states:,} states)"
    assert trace.invariant == variant.breaks[0]
    assert len(trace.steps) <= depth, "breadth-first search finds the shortest counterexample"
    replayed = replay(trace, "explorer")
    assert replayed.reproduced and replayed.violation_step == len(trace.steps)

    symbolic, _ = symbolic_scenario(get_scenario(variant.witness), KINDS)
    with recording():
        numbers = explore_scenario(symbolic, variant, variant.breaks[:1], Limits(depth=len(trace.steps)))
    assert numbers.found is not None, "the explorer over symbolic numbers misses what the plain explorer finds"
    assert numbers.found.violation.invariant == variant.breaks[0]
    assert len(numbers.found.actions) == len(trace.steps)


@pytest.mark.parametrize("variant", [VARIANTS[name] for name in QUICK], ids=lambda v: v.name)
def test_engines_agree_on_a_short_counterexample(variant: Variant) -> None:
    _agree(variant, seconds=120)


@pytest.mark.slow
@pytest.mark.parametrize("variant", BUGS, ids=lambda v: v.name)
def test_engines_agree_on_every_variant(variant: Variant) -> None:
    """Hypothesis with kspec check's defaults catches it afresh, and the explorer agrees wherever 60 s cover the trace's depth."""
    report = check_one(get_scenario(variant.witness), variant, [], seed=0, max_examples=300)
    assert report.trace is not None and report.trace.invariant in variant.breaks
    _agree(variant, seconds=60)


@pytest.mark.parametrize("variant", BUGS, ids=lambda v: v.name)
def test_what_prove_proves_no_hypothesis_trace_breaks(variant: Variant) -> None:
    """The third engine, Z3: an invariant ``kspec prove`` proves on the witness scenario holds at every step of the variant's
    committed Hypothesis trace, and one that trace breaks is never proved."""
    name = f"{variant.name}.json"
    trace = tracefmt.load(CORPUS / name)
    replayed = replay(trace, name)
    model, states = replayed.model, [replayed.initial, *(step.state for step in replayed.steps)]
    proved = []
    for invariant in induction.ABSTRACTIONS:
        abstraction = induction.abstraction_for(model, invariant)
        verdict = prove(abstraction.model, abstraction.claims, max_k=5).verdict
        monitor = Monitor(model.ctx, model.is_quiescent, [invariant])
        broken = [v for step, before in zip(replayed.steps, states, strict=False) for v in monitor.check_step(before, step.action, step.state)]
        assert not (verdict == PROVED and broken), f"prove proved {invariant}, and the trace breaks it: {broken[0].message}"
        if trace.invariant == invariant:
            assert verdict != PROVED and broken
        if verdict == PROVED:
            proved.append(invariant)
    assert not set(proved) & set(variant.breaks), f"prove proves {set(proved) & set(variant.breaks)}, which {variant.name} is known to break"
    assert len(proved) >= 2  # on every cluster, most of the six hold


Z3_DEPTH = 4
"""the bound of Z3's search where the committed trace leaves its encoding (it is only looking for a finding it could not confirm)"""
Z3_COVERED_DEPTH = {False: 9, True: 10}
"""the longest committed trace whose whole length Z3 searches, in the default run and with ``-m slow`` (nodelifecycle-no-disruption-mode's
10 steps on outage take about 50 s; two-schedulers' 19 steps on capacity take hours)"""


Z3_SLOW = frozenset({"rs-no-expectations"})
"""the variants whose Z3 agreement runs only with ``-m slow``: about 17 s, and tests/test_bmc.py finds the same violation at the explorer's
depth in the default run"""


@pytest.mark.parametrize("everything", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.parametrize("variant", [pytest.param(v, marks=pytest.mark.slow) if v.name in Z3_SLOW else v for v in BUGS], ids=lambda v: v.name)
def test_z3_bounded_model_checking_agrees(variant: Variant, everything: bool) -> None:
    """The third engine's search, kspec check --engine z3: where every step of the committed trace of L ≤ 9 steps (``-m slow``: 10) is
    an action it encodes and the trace's invariant is one it judges, it finds a violation within L steps; on every variant, whatever it finds with
    every invariant it judges, to 4 steps (``-m slow``: to L), is an invariant the variant is known to break (its runs are the model's:
    a false alarm would be an encoding bug)."""
    trace = tracefmt.load(CORPUS / f"{variant.name}.json")
    model = replay(trace, variant.name).model
    inst = bmc_instance.build(model, len(trace.steps))
    encoded = {str(e.action) for e in inst.actions}
    judged = [i.name for i in inst.invariants]
    short = len(trace.steps) <= Z3_COVERED_DEPTH[everything]
    # a WatchReset instance stands for every revision, which Z3 chooses
    covered = short and trace.invariant in judged and all(str(bmc_environment.instance_of(s.action)) in encoded for s in trace.steps)
    depth = len(trace.steps) if covered else min(Z3_DEPTH, len(trace.steps))
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, judged), depth if everything else min(Z3_DEPTH, depth))
    if found is not None:
        assert found[1].invariant in variant.breaks, f"Z3 breaks {found[1].invariant} on {variant.name}, not in its catalogue entry"
    if covered and found is None and trace.invariant is not None:
        found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, [trace.invariant]), depth)
    if covered:
        assert found is not None, f"the committed trace breaks {trace.invariant} in {len(trace.steps)} encoded steps; Z3 refuted that depth"
        assert len(found[0]) <= len(trace.steps)
    assert coverage.stopped in ("violation", "depth", "nothing to judge")
