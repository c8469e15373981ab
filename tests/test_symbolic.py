"""Z3 on guarded-command models: bounded model checking and k-induction read the same commands the explorer runs."""

from __future__ import annotations

import pytest
import z3
from calibration.twophase import CONSISTENT, TwoPhase
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.explore import explore
from checker.symbolic import PROVED, REFUTED, UNKNOWN, Encoding, EncodingError, bmc, prove


def _replays(model: TwoPhase, actions: tuple[tuple[str, int], ...]) -> int:
    state = model.initial_states()[0]
    for action in actions:
        state = model.next_state(state, action)
    return state


def test_bmc_finds_the_violation_at_the_explorers_shortest_depth() -> None:
    model = TwoPhase(3, eager_commit=True)
    shortest = explore(model, model.invariants).found
    result = bmc(model, model.invariants, 10)
    assert shortest is not None and result.found is not None
    assert result.depth == len(result.found.actions) == len(shortest.actions) == 5
    assert model.consistent(_replays(model, result.found.actions)) == CONSISTENT == result.found.violation.message


def test_bmc_reports_how_deep_it_looked_when_it_finds_nothing() -> None:
    model = TwoPhase(3)
    result = bmc(model, model.invariants, 8)
    assert (result.found, result.depth, result.stopped) == (None, 8, "")


def _symbolic_successors(model: TwoPhase, s: int) -> set[int]:
    """Every t with step(s, t), enumerated with blocking clauses."""
    enc = Encoding(model, model.invariants)
    t = enc.state("t")
    solver = enc.solver()
    solver.add(enc.step(enc.const(s), t))
    found: set[int] = set()
    while solver.check() == z3.sat:
        value = solver.model().eval(t).as_long()
        found.add(value)
        solver.add(t != value)
    return found


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2, max_value=3), st.data())
def test_the_z3_step_admits_exactly_the_executable_successors(n: int, data: st.DataObject) -> None:
    """On any state of the layout, reachable or not (a differential test of the two interpretations)."""
    model = TwoPhase(n, eager_commit=data.draw(st.booleans()))
    s = data.draw(st.integers(min_value=0, max_value=(1 << model.layout.bits) - 1))
    assert _symbolic_successors(model, s) == {t for _, t in model.successors(s)}


def test_k_induction_proves_the_strengthened_invariant_for_every_depth() -> None:
    for n in (3, 8):
        model = TwoPhase(n)
        result = prove(model, model.inductive, 4)
        assert (result.verdict, result.k) == (PROVED, 1)
    assert explore(TwoPhase(3), TwoPhase(3).inductive).found is None  # and it does hold where the explorer looks


def test_k_induction_without_the_lemmas_is_unknown_with_a_counterexample_to_induction() -> None:
    model = TwoPhase(3)
    result = prove(model, model.invariants, 3)
    assert result.verdict == UNKNOWN and result.k == 3 and result.induction_counterexample is not None
    *good, bad = result.induction_counterexample
    assert len(good) == 3 and all(model.consistent(s) is None for s in good) and model.consistent(bad) == CONSISTENT
    for before, after in zip(result.induction_counterexample, result.induction_counterexample[1:], strict=False):
        assert after in {t for _, t in model.successors(before)}  # real steps, from a state no run reaches


def test_k_induction_refutes_a_broken_design_with_a_shortest_trace() -> None:
    model = TwoPhase(3, eager_commit=True)
    result = prove(model, model.inductive, 8)
    assert result.verdict == REFUTED and result.counterexample is not None
    assert result.k == len(result.counterexample.actions)
    assert model.inductive.check_state(_replays(model, result.counterexample.actions))


def test_a_path_the_model_does_not_take_is_an_encoding_error() -> None:
    model = TwoPhase(2)
    enc = Encoding(model, model.invariants)
    with pytest.raises(EncodingError, match="which the executable model does not"):
        enc.decode([0, 0b10])  # RM 0 committed with no Commit message


def test_bmc_stops_at_its_time_bound_and_says_so() -> None:
    model = TwoPhase(8)
    result = bmc(model, model.invariants, 40, seconds=0.5)
    assert result.found is None and result.stopped == "time" and 0 <= result.depth < 40
