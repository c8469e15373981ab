"""The exhaustive explorer: exact state counts, shortest counterexamples, bounds, the table, the graph."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from calibration.eviction import Eviction
from calibration.twophase import LABELS, TwoPhase

from checker import eventual
from checker import trace as tracefmt
from checker.check import EXPLORE, ExploreOptions, KubeProperties, check_one
from checker.cli import main
from checker.explore import BFS, DFS, Eventually, EventualVerdict, FingerprintTable, Limits, Progress, StatePredicates, explore, table_key
from spec.fingerprint import fingerprint
from spec.model import KubeModel
from spec.scenarios import get_scenario
from spec.variants import DEFAULT, get_variant


def _consistent(model: TwoPhase) -> StatePredicates:
    return StatePredicates((("consistent", model.consistent),))


@pytest.mark.parametrize("order", [BFS, DFS])
def test_twophase_3_has_the_288_states_tlc_counts(order: str) -> None:
    model = TwoPhase(3)
    result = explore(model, _consistent(model), order=order)
    assert (result.states, result.complete, result.stopped, result.found) == (288, True, "", None)
    assert result.expanded == 288 and result.never_fired == ()
    assert sorted(c.label for c in result.coverage) == sorted(LABELS)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_breadth_and_depth_first_agree(n: int) -> None:
    model = TwoPhase(n)
    counts = {order: explore(model, _consistent(model), order=order).states for order in (BFS, DFS)}
    assert counts[BFS] == counts[DFS]


@pytest.mark.parametrize("depth", [0, 1, 3, 6])
def test_depth_bound_counts_the_same_states_in_either_order(depth: int) -> None:
    """A depth-first search re-expands a state reached again by a shorter path, so both orders see every state within the bound."""
    model = TwoPhase(4)
    bfs = explore(model, _consistent(model), limits=Limits(depth=depth))
    dfs = explore(model, _consistent(model), order=DFS, limits=Limits(depth=depth))
    assert bfs.states == dfs.states and not bfs.complete and not dfs.complete
    assert bfs.stopped == dfs.stopped == "depth" and bfs.depth == depth


def test_a_bound_that_is_never_hit_leaves_the_search_complete() -> None:
    model = TwoPhase(3)
    result = explore(model, _consistent(model), limits=Limits(depth=100, states=10_000))
    assert result.complete and result.states == 288


def test_state_bound_stops_and_says_so() -> None:
    model = TwoPhase(4)
    result = explore(model, _consistent(model), limits=Limits(states=100))
    assert not result.complete and result.stopped == "states" and 100 <= result.states < 200


def test_bfs_counterexample_is_shortest_and_replays() -> None:
    model = TwoPhase(3, eager_commit=True)
    result = explore(model, _consistent(model))
    assert result.found is not None and result.stopped == "violation"
    actions = result.found.actions
    assert len(actions) == 5  # prepare, TM receives it, commit, that RM commits, another aborts
    state = model.initial_states()[0]
    for action in actions:
        state = model.next_state(state, action)
    assert model.consistent(state) is not None
    dfs = explore(model, _consistent(model), order=DFS)
    assert dfs.found is not None and len(dfs.found.actions) >= len(actions)


def test_progress_reports_while_searching() -> None:
    seen: list[Progress] = []
    model = TwoPhase(5)
    explore(model, _consistent(model), progress=seen.append, progress_every=0.0)
    assert seen and seen[-1].states <= 8832 and seen[-1].rate > 0
    assert [p.states for p in seen] == sorted(p.states for p in seen)


def test_fingerprint_table_keeps_parents_across_growth() -> None:
    table = FingerprintTable(capacity=4)
    keys = [table_key(i) for i in range(5000)]
    assert all(table.add(k, keys[i - 1] if i else 0) for i, k in enumerate(keys))
    assert not table.add(keys[17], 0) and table.count == 5000
    assert table.parent(keys[17]) == keys[16] and table.parent(keys[0]) == 0
    assert table_key(10_000) not in table and keys[4999] in table
    assert table.nbytes / table.count <= 43


def test_table_key_is_never_zero_and_distinct_for_small_integers() -> None:
    keys = {table_key(i) for i in range(100_000)}
    assert len(keys) == 100_000 and 0 not in keys


def test_fingerprints_are_structural_and_process_independent() -> None:
    model = KubeModel(get_scenario("basic"))
    initial = model.initial_states()[0]
    fresh = KubeModel(get_scenario("basic")).initial_states()[0]
    assert initial is not fresh and fingerprint(initial) == fingerprint(fresh)
    successors = [s for _, s in model.successors(initial)]
    assert len({fingerprint(s) for s in successors}) == len(set(successors)) > 1
    code = "from spec.fingerprint import fingerprint; from spec.model import KubeModel; from spec.scenarios import get_scenario; "
    code += "print(fingerprint(KubeModel(get_scenario('basic')).initial_states()[0]))"
    outs = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True).stdout
        for seed in ("0", "777")
    }
    assert outs == {f"{fingerprint(initial)}\n"}


def test_check_explore_finds_the_shortest_trace_and_it_replays(tmp_path: Path) -> None:
    args = ["check", "--engine", "explore", "--variant", "apiserver-clusterip-lag", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")]
    assert main(args) == 1
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert run["engine"] == "explore" and run["trace_steps"] == 2 and run["stopped"] == "violation"
    saved = Path(run["counterexample"])
    trace = tracefmt.load(saved)
    assert trace.engine == "explore" and trace.seed is None and trace.invariant == "unique-cluster-ip"
    assert main(["replay", str(saved), "--no-tables"]) == 1


@pytest.mark.parametrize("suffix", [".graphml", ".dot"])
def test_check_explore_writes_the_reachable_graph(tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    graph = tmp_path / f"g{suffix}"
    args = ["check", "--engine", "explore", "--scenario", "services", "--depth", "3", "--graph", str(graph), "--json", str(tmp_path / "r.json")]
    assert main([*args, "--out", str(tmp_path)]) == 0
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert not run["complete"] and run["stopped"] == "depth"
    assert "incomplete: stopped at the depth bound" in capsys.readouterr().out
    text = graph.read_text()
    if suffix == ".graphml":
        g = nx.read_graphml(graph)
        assert g.number_of_nodes() == run["states"] and g.number_of_edges() > 0
        assert all(data["action"] for _, _, data in g.edges(data=True))
    else:
        assert text.startswith("digraph states {") and text.count(" -> ") > 0


def test_require_coverage_fails_when_an_action_never_fires(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--engine", "explore", "--scenario", "services", "--depth", "2", "--require-coverage", "--out", str(tmp_path)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "never fired: " in out and "scheduler SchedulerBind" in out and "--require-coverage" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--graph", "g.png", "--engine", "explore", "--scenario", "basic"], "unknown graph format '.png'"),
        (["--depth", "3"], "need --engine explore"),
        (["--engine", "explore", "--graph", "g.dot"], "--graph needs a single run"),
        (["--engine", "explore", "--order", "random"], "'random' is not one of 'bfs', 'dfs'"),
        (
            ["--engine", "explore", "--order", "dfs", "--workers", "2", "--scenario", "basic"],
            "--workers with a single explorer run spreads a breadth-first",
        ),
    ],
)
def test_explore_options_misused_exit_2(args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


MANIFEST = json.loads((Path(__file__).resolve().parent / "state_counts.json").read_text())["scenarios"]


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_scenario_state_counts_are_pinned_and_order_independent(name: str) -> None:
    """A spec change that changes a scenario's state space is noticed here (re-pin with benchmarks/explore.py --pin if intended)."""
    model = KubeModel(get_scenario(name))
    pinned = MANIFEST[name]
    counts = {order: explore(model, KubeProperties(model, []), order=order, limits=Limits(depth=pinned["depth"])).states for order in (BFS, DFS)}
    assert counts == {BFS: pinned["states"], DFS: pinned["states"]}, f"{name}: state space changed; pinned {pinned}"


def _decided(model: TwoPhase) -> list[Eventually]:
    return [Eventually("decided", model.decided)]


def test_every_twophase_state_can_still_reach_a_decision() -> None:
    model = TwoPhase(3)
    result = explore(model, _consistent(model), eventually=_decided(model))
    assert result.complete and result.eventual == (EventualVerdict("decided", 0, 0, None),)


def test_a_doomed_state_is_found_with_the_shortest_path_to_it() -> None:
    model = TwoPhase(3, tm_never_aborts=True)
    result = explore(model, _consistent(model), eventually=_decided(model))
    (verdict,) = result.eventual
    assert verdict.doomed > 0 and verdict.undecided == 0
    assert verdict.path is not None and sorted(name for name, _ in verdict.path) == ["RMChooseToAbort", "RMPrepare"]
    # one RM aborted, another prepared: the TM can neither commit nor abort, and the prepared RM waits forever
    state = model.initial_states()[0]
    for action in verdict.path:
        state = model.next_state(state, action)
    assert not model.decided(state)


def test_a_bounded_search_leaves_the_frontier_undecided_rather_than_doomed() -> None:
    model = TwoPhase(3)
    result = explore(model, _consistent(model), eventually=_decided(model), limits=Limits(depth=3))
    (verdict,) = result.eventual
    assert verdict.doomed == 0 and verdict.undecided > 0


class _Spinner:
    """States 0 -> 1 -> 2 -> 0 spin; 2 -> 3 leaves the cycle for the good state 3 (and ``trap`` adds 4, a dead end)."""

    def __init__(self, trap: bool = False) -> None:
        self.trap = trap

    def initial_states(self) -> list[int]:
        return [0]

    def successors(self, state: int) -> list[tuple[str, int]]:
        moves = {0: [("spin", 1)], 1: [("spin", 2)], 2: [("spin", 0), ("leave", 3)], 3: [], 4: []}[state]
        return moves + ([("fall", 4)] if self.trap and state == 1 else [])


def test_a_cycle_without_progress_is_counted_and_a_dead_end_is_doomed() -> None:
    """A cycle that may spin forever is a stall; it is not doomed while a good state stays reachable from it."""
    good = [Eventually("done", lambda state, _successors: state == 3)]
    result = explore(_Spinner(), StatePredicates(()), eventually=good)
    (verdict,) = result.eventual
    assert (verdict.doomed, verdict.stalls, verdict.undecided) == (0, 1, 0)
    (verdict,) = explore(_Spinner(trap=True), StatePredicates(()), eventually=good).eventual
    assert (verdict.doomed, verdict.stalls, verdict.path) == (1, 1, ("spin", "fall"))
    (verdict,) = explore(_Spinner(), StatePredicates(()), eventually=[Eventually("any", lambda state, _successors: state == 1)]).eventual
    assert verdict.stalls == 0  # the cycle passes through a good state


@pytest.mark.slow
def test_eventually_converges_finds_a_doomed_state_of_kube_proxy_keep_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The services scenario is small enough to explore completely: with stale rules kept, convergence becomes unreachable."""
    args = ["check", "--engine", "explore", "--variant", "kube-proxy-keep-stale", "--invariant", "unique-pod-ip", "--eventually"]
    assert main([*args, "--out", str(tmp_path), "--json", str(tmp_path / "r.json")]) == 1
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert run["complete"] and run["eventually"]["converges"]["doomed"] > 0 and run["eventually"]["converges"]["undecided"] == 0
    trace = tracefmt.load(tmp_path / "services--kube-proxy-keep-stale--eventually-converges.json")
    assert trace.invariant is None and trace.message.startswith("eventually-converges: ") and 0 < len(trace.steps) <= 6
    assert "violated     eventually-converges" in capsys.readouterr().out
    # replay re-judges the last state by exploring everything reachable from it
    assert main(["replay", str(tmp_path / "services--kube-proxy-keep-stale--eventually-converges.json"), "--no-tables"]) == 1
    assert "violation reproduces at step" in capsys.readouterr().out


@pytest.mark.slow  # about 18 s; the default run checks liveness on kube-proxy-keep-stale and the small models
def test_eventually_binds_finds_the_pod_a_scheduler_that_misses_a_delete_strands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """scheduler-missed-delete on replace: the deleted pod's requests stay in the cache, so its replacement is never bound.

    ``converges`` holds (a ReplicaSet counts a pending pod); ``binds`` does
    not. Depth-first order reaches the runs' ends (about 50 steps) at once,
    where breadth-first would not within minutes; the default model has no
    doomed state in the same search.
    """
    args = [
        "check",
        "--engine",
        "explore",
        "--order",
        "dfs",
        "--scenario",
        "replace",
        "--invariant",
        "pod-bound-once",
        "--eventually",
        "--time-limit",
        "4",
    ]
    out = ["--out", str(tmp_path), "--json", str(tmp_path / "r.json")]
    assert main([*args, "--variant", "scheduler-missed-delete", *out]) == 1
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert run["eventually"]["binds"]["doomed"] > 0 and run["eventually"]["converges"]["doomed"] == 0
    saved = tmp_path / "replace--scheduler-missed-delete--eventually-binds.json"
    assert tracefmt.load(saved).message.startswith("eventually-binds: after these steps a pending pod that a node could take is never bound")
    capsys.readouterr()
    assert main(["replay", str(saved), "--no-tables"]) == 1
    assert "eventually-binds: a pending pod that a node could take is never bound: none of the" in capsys.readouterr().out
    assert main([*args, *out]) == 0
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert run["eventually"]["binds"]["doomed"] == 0 and run["eventually"]["converges"]["doomed"] == 0


@pytest.mark.slow
def test_services_holds_every_invariant_in_every_reachable_state(tmp_path: Path) -> None:
    """The default model, explored completely on services: every invariant holds and convergence stays reachable."""
    args = ["check", "--engine", "explore", "--scenario", "services", "--eventually", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")]
    assert main(args) == 0
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    settled = {"doomed": 0, "undecided": 0, "stalls": 0, "fair_stalls": 0}
    assert run["complete"] and run["eventually"] == {"converges": settled, "binds": settled}
    assert set(run["verdicts"].values()) == {"holds"}


def _switches(model: TwoPhase, actions: tuple[tuple[str, int], ...]) -> int:
    comps = [model.action_component(a) for a in actions]
    return sum(1 for a, b in pairwise(comps) if a != b)


def test_shortest_counterexample_with_the_fewest_component_switches() -> None:
    """Same length as plain breadth-first search finds, but each component's steps kept together where possible."""
    model = TwoPhase(3, eager_commit=True)
    plain = explore(model, _consistent(model), fewest_switches=False)
    polished = explore(model, _consistent(model))
    assert plain.found is not None and polished.found is not None
    assert len(polished.found.actions) == len(plain.found.actions) == 5
    assert _switches(model, polished.found.actions) <= _switches(model, plain.found.actions)
    # an RM prepares, the TM receives it and commits, that RM commits (two switches at least), another RM aborts (one more)
    assert _switches(model, polished.found.actions) == 3
    state = model.initial_states()[0]
    for action in polished.found.actions:
        state = model.next_state(state, action)
    assert model.consistent(state) == polished.found.violation.message


def test_explorer_counterexamples_keep_components_together_on_kubernetes(tmp_path: Path) -> None:
    plain_model = KubeModel(get_scenario("services"), get_variant("kube-proxy-keep-stale"))
    props = KubeProperties(plain_model, ["proxy-converges"])
    plain = explore(plain_model, props, fewest_switches=False)
    polished = explore(plain_model, props)
    assert plain.found is not None and polished.found is not None
    assert len(plain.found.actions) == len(polished.found.actions)

    def switches(actions: tuple[Any, ...]) -> int:
        return sum(1 for a, b in pairwise(actions) if a.component != b.component)

    assert switches(polished.found.actions) < switches(plain.found.actions)  # 2 switches instead of 5


def _summary(result: Any) -> tuple[Any, ...]:
    return (result.states, result.transitions, result.depth, result.complete, result.stopped, result.coverage, result.found, result.eventual)


@pytest.mark.parametrize(("model", "limits"), [(TwoPhase(4), Limits()), (TwoPhase(3, eager_commit=True), Limits()), (TwoPhase(5), Limits(depth=6))])
def test_two_workers_find_what_one_finds(model: TwoPhase, limits: Limits) -> None:
    one = explore(model, _consistent(model), limits=limits, eventually=_decided(model))
    two = explore(model, _consistent(model), limits=limits, eventually=_decided(model), workers=2)
    assert _summary(one) == _summary(two) and two.workers == 2


def test_two_workers_on_kubernetes_match_one(tmp_path: Path) -> None:
    model = KubeModel(get_scenario("services"), get_variant("kube-proxy-keep-stale"))
    one, two = KubeProperties(model, ["proxy-converges"]), KubeProperties(model, ["proxy-converges"])
    results = [explore(model, one), explore(model, two, workers=2)]
    assert _summary(results[0]) == _summary(results[1]) and results[0].found is not None
    assert one.quiescent_states == two.quiescent_states > 0
    bounded = [explore(model, KubeProperties(model, ["unique-pod-ip"]), limits=Limits(depth=6), workers=w) for w in (1, 2)]
    assert _summary(bounded[0]) == _summary(bounded[1])


def test_coverage_leaves_out_actions_the_scenario_cannot_enable() -> None:
    """A fault with no budget is not 'never fired': --require-coverage flags only what the scenario should exercise."""
    labels = KubeModel(get_scenario("services")).action_labels()
    assert "user UserDeleteService" in labels and "scheduler SchedulerBind" in labels
    assert "fault NodeCrash" not in labels and "clock Tick" not in labels
    assert "fault NodeCrash" in KubeModel(get_scenario("node-failure")).action_labels()


def test_check_reports_progress_while_exploring() -> None:
    seen: list[Progress] = []
    options = ExploreOptions(limits=Limits(depth=4), progress=seen.append, progress_every=0.0)
    report = check_one(get_scenario("services"), DEFAULT, [], seed=0, max_examples=1, engine=EXPLORE, explore_options=options)
    assert seen and seen[-1].states <= report.coverage.result.states  # type: ignore[union-attr]
    assert max(p.depth for p in seen) <= 4 and all(p.queue >= 0 for p in seen)


def _running(model: Eviction) -> list[Eventually]:
    return [Eventually("running", model.running)]


def test_a_cycle_that_leaves_a_fair_action_enabled_is_not_a_violation() -> None:
    """The resync cycle never takes Run though Run stays enabled in it: no weakly fair run stays there."""
    model = Eviction(evicts=False)
    result = explore(model, StatePredicates(()), eventually=_running(model))
    (verdict,) = result.eventual
    assert result.complete and (verdict.doomed, verdict.stalls, verdict.lassos, verdict.path) == (0, 1, 0, None)


def test_a_fair_livelock_is_reported_as_a_lasso_that_returns_to_its_start() -> None:
    """Create and Evict take turns; Run is disabled each time the pod is gone, so weak fairness allows it forever."""
    model = Eviction(evicts=True)
    (verdict,) = explore(model, StatePredicates(()), eventually=_running(model)).eventual
    assert verdict.doomed == 0  # a running pod stays reachable: only fairness tells this loop apart
    assert (verdict.lassos, verdict.loop_start, verdict.path) == (1, 0, (("Create", -1), ("Evict", -1)))
    state = start = model.initial_states()[0]
    assert verdict.path is not None
    for action in verdict.path:
        state = model.next_state(state, action)
        assert not model.running(state)
    assert state == start


def test_two_workers_judge_fairness_as_one_does() -> None:
    model = Eviction(evicts=True)
    one = explore(model, StatePredicates(()), eventually=_running(model))
    two = explore(model, StatePredicates(()), eventually=_running(model), workers=2)
    assert one.eventual == two.eventual


def test_fairness_is_not_judged_without_a_fair_hook() -> None:
    model = TwoPhase(3)
    (verdict,) = explore(model, _consistent(model), eventually=_decided(model)).eventual
    assert verdict.lassos is None and verdict.loop_start is None


def test_kubernetes_retry_cycles_are_not_livelocks_under_weak_fairness(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """relist's cycles (a ReplicaSet sync retried while its cache lags) end once the informer delivers: none is fair.

    One of them, saved as a lasso trace by hand, replays and is judged not fair (so it does not reproduce).
    """
    model = KubeModel(get_scenario("relist"))
    result = explore(model, KubeProperties(model, []), limits=Limits(depth=7), eventually=eventual.properties(model))
    assert [(v.name, v.stalls, v.lassos, v.path) for v in result.eventual] == [("converges", 4, 0, None), ("binds", 2, 0, None)]
    start = table_key(fingerprint(model.initial_states()[0]))
    cycle = nx.find_cycle(result.graph.subgraph(n for n in result.graph if n != start))
    nodes = nx.shortest_path(result.graph, start, cycle[0][0]) + [v for _, v in cycle]
    state, actions = model.initial_states()[0], []
    for target in nodes[1:]:
        action, state = next((a, t) for a, t in model.successors(state) if table_key(fingerprint(t)) == target)
        actions.append(action)
    loop_start = len(nodes) - 1 - len(cycle)
    message = "eventually-converges: (by hand)"
    saved = tmp_path / "loop.json"
    tracefmt.write(tracefmt.record(model, actions, engine="test", seed=None, message=message, loop_start=loop_start), saved)
    assert main(["replay", str(saved), "--no-tables"]) == 0
    out = capsys.readouterr().out
    assert "the loop is not fair:" in out and "stays enabled and is never taken" in out
