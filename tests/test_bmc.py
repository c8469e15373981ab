"""The Z3 engine (checker.bmc): its encoding in lockstep with the executable spec, its counterexamples, and what it says it covers."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.bmc import engine as bmc
from checker.bmc.core import EncodedInvariant, EncodingError, Instance, Unrolling, frame_values
from checker.bmc.instance import build
from checker.check import KubeProperties
from checker.cli import main
from checker.explore import Limits, explore
from spec.invariants import Monitor
from spec.model import KubeModel
from spec.scenarios import get_scenario
from spec.state import State
from spec.variants import DEFAULT, get_variant

RUNS = [("services", "default"), ("services", "apiserver-clusterip-lag")]


def _model(scenario: str, variant: str) -> KubeModel:
    return KubeModel(get_scenario(scenario), DEFAULT if variant == "default" else get_variant(variant))


def _wrote(inst: Instance, before: State, after: State) -> int:
    """The history cell of a step: the code of the kind it wrote, 0 if it wrote nothing."""
    if after.api.revision == before.api.revision:
        return 0
    event = next(ev for ev in after.channels.log if ev.revision == after.api.revision)
    kinds: dict[str, int] = inst.data.kinds  # type: ignore[attr-defined]
    return kinds[event.kind]


def _pin(u: Unrolling, frame: int, values: dict[str, int | bool]) -> list[z3.BoolRef]:
    return [u[frame][name] == u.cells[name].literal(value) for name, value in values.items()]


def _next_frame(solver: z3.Solver, u: Unrolling, frame: int) -> dict[str, int | bool] | None:
    """The unique next frame the solver admits (None if none); fails if it admits two."""
    if solver.check() != z3.sat:
        return None
    m = solver.model()
    values = {name: frame_values(m, u[frame])[name] for name in u.cells}
    solver.push()
    solver.add(z3.Or([u[frame][name] != u.cells[name].literal(value) for name, value in values.items()]))
    assert solver.check() == z3.unsat, f"the encoding admits two next frames at frame {frame}"
    solver.pop()
    return values


@pytest.mark.parametrize(("scenario", "variant"), RUNS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_encoding_admits_exactly_the_executable_successor(scenario: str, variant: str, data: st.DataObject) -> None:
    """Along drawn runs: each encoded action is enabled in Z3 exactly when the catalogue offers it, and leads to its successor's abstraction."""
    model = _model(scenario, variant)
    inst = build(model)
    assert inst.actions, "the scenario has encoded actions to draw from"
    u = inst.unrolling()
    solver = z3.Solver()
    state = inst.initial
    for t in range(data.draw(st.integers(0, 6), label="steps")):
        step = u.step()
        offered = {str(a) for a in model.actions(state)}
        for i, enc in enumerate(inst.actions):
            solver.push()
            solver.add(*step, u.choices[t] == i)
            admitted = _next_frame(solver, u, t + 1)
            solver.pop()
            spec_enables = str(enc.action) in offered
            assert (admitted is not None) == spec_enables, (
                f"{enc.action} at step {t}: Z3 enables it: {admitted is not None}, the spec: {spec_enables}"
            )
            if admitted is not None:
                after = model.next_state(state, enc.action)
                expected = inst.abstract(after) | {"wrote": _wrote(inst, state, after)}
                differ = sorted(k for k in expected if admitted[k] != expected[k])
                assert not differ, f"{enc.action} at step {t}: Z3 and the spec disagree on {differ}"
        enabled = [i for i, enc in enumerate(inst.actions) if str(enc.action) in offered]
        if not enabled:
            break
        i = data.draw(st.sampled_from(enabled), label="action")
        after = model.next_state(state, inst.actions[i].action)
        solver.add(*step, u.choices[t] == i, *_pin(u, t + 1, inst.abstract(after) | {"wrote": _wrote(inst, state, after)}))
        assert solver.check() == z3.sat
        state = after


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_z3_finds_the_clusterip_lag_at_the_explorers_depth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """apiserver-clusterip-lag: Z3's shortest run is as short as the explorer's, and kspec replay reproduces it."""
    model = _model("services", "apiserver-clusterip-lag")
    monitor = Monitor(model.ctx, model.is_quiescent, ["unique-cluster-ip"])
    found, coverage = bmc.search(model, monitor)
    assert found is not None and coverage.stopped == "violation"
    explored = explore(model, KubeProperties(model, monitor), limits=Limits(depth=4))
    assert explored.found is not None
    assert len(found[0]) == coverage.depth == len(explored.found.actions) == 2
    code, out, _ = _run(["check", "--engine", "z3", "--variant", "apiserver-clusterip-lag", "--out", str(tmp_path)], capsys)
    assert code == 1, out
    assert "violation at depth 2 (every shorter run refuted)" in out
    saved = tmp_path / "services--apiserver-clusterip-lag--unique-cluster-ip.json"
    assert json.loads(saved.read_text())["engine"] == "z3"
    code, out, _ = _run(["replay", str(saved), "--no-tables"], capsys)
    assert code == 1 and "violation reproduces at step 2" in out


def test_default_holds_and_says_what_was_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default variant: unique-cluster-ip holds to the bound; the unencoded invariants and actions are named, never reported as holding."""
    args = ["check", "--engine", "z3", "--scenario", "services", "--depth", "6", "--json", str(tmp_path / "r.json"), "--out", str(tmp_path)]
    code, output, _ = _run(args, capsys)
    assert code == 0, output
    assert "every run of the encoded actions to depth 6 (the depth bound)" in output
    assert "holds        unique-cluster-ip" in output
    assert "not encoded  pod-bound-once" in output
    assert "not encoded, so left out of the runs: WatchDeliver ×" in output and "SchedulerBind" in output
    assert "a bounded search, not a proof" in output
    run = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    assert run["engine"] == "z3" and run["depth"] == 6 and run["judged"] == ["unique-cluster-ip"]
    assert "user UserCreate kind=Service name=default/web" in run["encoded"]
    assert "scheduler SchedulerBind" in run["not_encoded"]
    assert run["verdicts"]["pod-bound-once"] == "not encoded"


def test_a_run_that_the_spec_does_not_confirm_is_an_encoding_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every counterexample is re-executed: an encoding that calls a good state bad is caught, not reported."""
    model = _model("services", "default")
    monitor = Monitor(model.ctx, model.is_quiescent, ["unique-cluster-ip"])
    inst = build(model)

    def wrong(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.BoolVal(True) == u[t]["service/default/web/exists"]

    monkeypatch.setattr(bmc, "build", lambda m: attrs.evolve(inst, invariants=(EncodedInvariant("unique-cluster-ip", wrong),)))
    with pytest.raises(EncodingError, match=r"Z3 says \['unique-cluster-ip'\] is broken, the executable spec nothing"):
        bmc.search(model, monitor, 3)


def test_options_the_z3_engine_does_not_take_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--max-states bounds the explorer only: a one-line usage error, exit 2."""
    code, out, err = _run(["check", "--engine", "z3", "--scenario", "services", "--max-states", "10"], capsys)
    assert code == 2 and not out
    assert len(err.splitlines()) == 1 and "--max-states" in err and "need --engine explore" in err
