"""Node symmetry: renaming interchangeable nodes is a symmetry of the model, and the reduced search keeps every verdict."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from checker import eventual
from checker.check import KubeProperties
from checker.cli import main
from checker.explore import Eventually, Limits, explore
from spec.fingerprint import digest16
from spec.invariants import INVARIANTS, QUIESCENT, STATE
from spec.model import KubeModel
from spec.scenarios import Bounds, Scenario, container, get_scenario, node, replicaset
from spec.symmetry import NodeSymmetry, Renamer, interchangeable
from spec.variants import get_variant

SYMMETRIC = ("basic", "node-failure", "outage", "scale")


def _walk_states(model: KubeModel, seed: int, steps: int) -> list[Any]:
    """The states of one random walk from the initial state."""
    rng = random.Random(seed)
    state = model.initial_states()[0]
    states = [state]
    for _ in range(steps):
        step = model.random_successor(state, rng)
        if step is None:
            break
        state = step[1]
        states.append(state)
    return states


def _renamers(model: KubeModel) -> list[Renamer]:
    assert model.symmetry is not None
    return model.symmetry.renamers


def test_interchangeable_nodes_are_the_unnamed_ones_with_equal_configurations() -> None:
    assert interchangeable(get_scenario("basic")) == (("node-1", "node-2"),)
    assert interchangeable(get_scenario("node-failure")) == (("node-1", "node-2", "node-3"),)
    # a pod pinned to node-1 makes it special; one node has no partner
    for name in ("capacity", "stateful", "batch", "services", "relist"):
        assert interchangeable(get_scenario(name)) == ()
    assert NodeSymmetry(get_scenario("node-failure"), KubeModel(get_scenario("node-failure")).initial_states()[0]).order == 6


@pytest.mark.parametrize("scenario", SYMMETRIC)
def test_the_digest_of_a_renaming_is_the_digest_of_the_renamed_state(scenario: str) -> None:
    model = KubeModel(get_scenario(scenario), symmetry=True)
    for seed in range(3):
        for state in _walk_states(model, seed, 25)[::2]:
            for r in _renamers(model):
                assert r.digest(state) == digest16(r.rename(state))


@pytest.mark.parametrize("scenario", SYMMETRIC)
def test_successors_commute_with_renaming(scenario: str) -> None:
    """succ(pi(s)) = pi(succ(s)), action by action: what makes the reduction sound."""
    model = KubeModel(get_scenario(scenario), symmetry=True)
    renamers = _renamers(model)
    moved = 0
    for seed in range(2):
        for state in _walk_states(model, seed, 20)[::2]:
            for r in renamers:
                renamed = r.rename(state)
                moved += digest16(renamed) != digest16(state)
                expected = sorted((digest16(r.rename(a)), r.digest(t)) for a, t in model.successors(state))
                actual = sorted((digest16(a), digest16(t)) for a, t in model.successors(renamed))
                assert actual == expected
    assert moved > 0, "renaming never changed a state: the test would not notice a broken renaming"


@pytest.mark.parametrize(("scenario", "variant"), [("basic", "default"), ("basic", "endpoints-keep-terminating"), ("node-failure", "default")])
def test_every_property_is_blind_to_node_names(scenario: str, variant: str) -> None:
    """Invariants, quiescence and the good states of both eventual properties give the same answer on every permuted copy."""
    model = KubeModel(get_scenario(scenario), get_variant(variant), symmetry=True)
    goods = [make(model) for make in eventual.GOOD.values()]
    checks = [inv for inv in INVARIANTS.values() if inv.kind in (STATE, QUIESCENT)]
    broken = 0
    for seed in range(3):
        for state in _walk_states(model, seed, 30):
            verdicts = [inv.check(model.ctx, state) is None for inv in checks]
            broken += not all(verdicts)
            good = [g(state, model.successors(state)) for g in goods]
            for r in _renamers(model):
                copy = r.rename(state)
                assert [inv.check(model.ctx, copy) is None for inv in checks] == verdicts
                assert [g(copy, model.successors(copy)) for g in goods] == good
    if variant != "default":
        assert broken > 0, "no walk broke an invariant: the test would not notice a name-dependent one"


def test_symmetry_reduces_basic_and_keeps_the_verdicts() -> None:
    plain = KubeModel(get_scenario("basic"))
    reduced = KubeModel(get_scenario("basic"), symmetry=True)
    limits = Limits(depth=5)
    a = explore(plain, KubeProperties(plain, list(INVARIANTS)), limits=limits)
    b = explore(reduced, KubeProperties(reduced, list(INVARIANTS)), limits=limits)
    assert (a.states, a.found) == (1698, None)
    assert b.found is None and b.states == 992 and b.depth == a.depth
    two = explore(reduced, KubeProperties(reduced, list(INVARIANTS)), limits=limits, workers=2)
    assert (two.states, two.transitions) == (b.states, b.transitions)
    assert {c.label for c in a.coverage if c.new_states} == {c.label for c in b.coverage if c.new_states}


def test_a_symmetric_search_finds_an_equally_short_counterexample_that_replays() -> None:
    """The path is re-executed from the initial state with real actions, so it replays on the unreduced model."""
    nodes = (node("node-1"), node("node-2"))
    pair = Scenario(name="pair", summary="2 nodes, RS of 1", nodes=nodes, objects=(replicaset("web", 1, container()),), bounds=Bounds(steps=40))
    variant = get_variant("apiserver-rebind")
    results = []
    for symmetric in (False, True):
        model = KubeModel(pair, variant, symmetry=symmetric)
        results.append(explore(model, KubeProperties(model, ["pod-bound-once"]), fewest_switches=False))
    plain, reduced = results
    assert plain.found is not None and reduced.found is not None
    assert len(reduced.found.actions) == len(plain.found.actions) == 8 and reduced.states < plain.states
    model = KubeModel(pair, variant)
    properties = KubeProperties(model, ["pod-bound-once"])
    state = model.initial_states()[0]
    for action in reduced.found.actions:
        before, state = state, model.next_state(state, action)
    broken = properties.check_edge(before, action, state) + properties.check_state(state, model.successors(state))
    assert [v.invariant for v in broken] == ["pod-bound-once"]


def test_an_eventual_property_not_declared_symmetric_is_refused() -> None:
    model = KubeModel(get_scenario("basic"), symmetry=True)
    properties = KubeProperties(model, [])
    with pytest.raises(ValueError, match="declared symmetric"):
        explore(model, properties, limits=Limits(depth=1), eventually=[Eventually("converges", eventual.converged(model))])
    ok = explore(model, properties, limits=Limits(depth=2), eventually=eventual.properties(model))
    assert [(v.name, v.doomed) for v in ok.eventual] == [("converges", 0), ("binds", 0)]


def test_cli_symmetry_reports_the_permutations_and_needs_the_explorer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--scenario", "basic", "--invariant", "pod-bound-once", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")]
    assert main([*args, "--engine", "explore", "--depth", "3", "--symmetry"]) == 0
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert run["symmetry"] == 2
    assert "node symmetry: 2 permutations per state" in capsys.readouterr().out
    assert main([*args, "--symmetry"]) == 2
    assert "--symmetry" in capsys.readouterr().err
