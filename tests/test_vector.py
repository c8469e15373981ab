"""The level-at-a-time search of guarded-command models: the same answers as the state-by-state explorer, faster."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from calibration.twophase import CONSISTENT, TwoPhase

from checker.explore import Eventually, Limits, StatePredicates, explore
from checker.guarded import Layout


def _both(model: TwoPhase, limits: Limits | None = None) -> tuple[Any, Any]:
    limits = limits or Limits()
    return explore(model, model.invariants, limits=limits), explore(model, model.invariants, limits=limits, vectorise=False)


def _same(levels: Any, states: Any) -> None:
    assert levels.vectorised and not states.vectorised
    fields = ("states", "transitions", "expanded", "depth", "complete", "stopped")
    assert [getattr(levels, f) for f in fields] == [getattr(states, f) for f in fields]
    assert [(c.label, c.enabled) for c in levels.coverage] == [(c.label, c.enabled) for c in states.coverage]
    # which of several transitions into a new state gets the credit may differ; how many new states there are may not
    assert sum(c.new_states for c in levels.coverage) == sum(c.new_states for c in states.coverage)


def test_twophase_3_has_the_288_states_tlc_counts_a_level_at_a_time() -> None:
    model = TwoPhase(3)
    result = explore(model, model.invariants)
    assert result.vectorised and (result.states, result.complete, result.found, result.never_fired) == (288, True, None, ())


@pytest.mark.parametrize("n", [1, 2, 4, 5])
def test_levels_and_states_agree_on_complete_searches(n: int) -> None:
    _same(*_both(TwoPhase(n)))


@pytest.mark.parametrize("depth", [0, 1, 3, 6])
def test_levels_and_states_agree_within_a_depth_bound(depth: int) -> None:
    levels, states = _both(TwoPhase(4), Limits(depth=depth))
    _same(levels, states)
    assert levels.stopped == "depth" and levels.depth == depth


def test_twophase_8_has_the_states_tlc_publishes_in_few_bytes_each() -> None:
    """1,745,408 states (TLC's count) in about two seconds here; Spin takes about as long (README, benchmarks/explore.py)."""
    result = explore(TwoPhase(8), TwoPhase(8).invariants)
    assert (result.states, result.complete, result.depth) == (1_745_408, True, 25)
    assert result.bytes_per_state <= 40


def test_a_violation_is_found_at_the_least_depth_with_the_fewest_switches() -> None:
    model = TwoPhase(3, eager_commit=True)
    levels, states = _both(model)
    assert levels.found is not None and states.found is not None
    assert levels.stopped == "violation" and levels.found.violation.message == CONSISTENT
    assert len(levels.found.actions) == len(states.found.actions) == 5
    components = [model.action_component(a) for a in levels.found.actions]
    assert sum(a != b for a, b in pairwise(components)) == 3
    state = model.initial_states()[0]
    for action in levels.found.actions:
        state = model.next_state(state, action)
    assert model.consistent(state) == CONSISTENT


def test_plain_counterexample_is_a_real_path_too() -> None:
    model = TwoPhase(4, eager_commit=True)
    result = explore(model, model.invariants, fewest_switches=False)
    assert result.found is not None and result.vectorised
    state = model.initial_states()[0]
    for action in result.found.actions:
        state = model.next_state(state, action)
    assert model.consistent(state) is not None


def test_a_state_bound_stops_the_search_between_levels() -> None:
    result = explore(TwoPhase(5), TwoPhase(5).invariants, limits=Limits(states=1000))
    assert result.vectorised and not result.complete and result.stopped == "states" and result.states >= 1000


def test_patterns_judge_every_state_as_the_predicate_does() -> None:
    model = TwoPhase(3, eager_commit=True)
    plain = explore(model, StatePredicates((("consistent", model.consistent),)), fewest_switches=False)
    assert not plain.vectorised  # plain predicates cannot be applied to a level at once
    assert plain.found is not None
    assert plain.found.violation == explore(model, model.invariants, fewest_switches=False).found.violation  # type: ignore[union-attr]


def test_graphs_and_eventual_properties_take_the_state_by_state_search() -> None:
    model = TwoPhase(3)
    assert not explore(model, model.invariants, graph=True).vectorised
    result = explore(model, model.invariants, eventually=[Eventually("decided", model.decided)])
    assert not result.vectorised and result.eventual[0].doomed == 0


def test_layouts_refuse_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Layout([("a", 1), ("a", 2)])
    with pytest.raises(ValueError, match="65 bits"):
        Layout([("a", 64), ("b", 1)])
    with pytest.raises(ValueError, match="does not fit 2 bits"):
        Layout([("a", 2)]).encode({"a": 4})


def test_a_command_that_changes_nothing_is_no_transition() -> None:
    model = TwoPhase(2)
    state = model.initial_states()[0]
    for action in [("TMAbort", -1), ("RMRcvAbortMsg", 0)]:
        state = model.next_state(state, action)
    assert ("RMRcvAbortMsg", 0) not in model.actions(state)
    with pytest.raises(ValueError, match="not enabled"):
        model.next_state(state, ("RMRcvAbortMsg", 0))
