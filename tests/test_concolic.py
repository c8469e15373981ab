"""kspec replay --symbolic: for which numbers the same steps break the invariant (checker.concolic)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import z3

from checker import concolic
from checker import trace as tracefmt
from checker.cli import main
from checker.replay import model_for
from spec.errors import ActionNotEnabledError
from spec.model import KubeModel

ROOT = Path(__file__).resolve().parent.parent
NO_ASSUME = ROOT / "counterexamples" / "scheduler-no-assume.json"


def test_a_symbolic_int_computes_as_an_int_and_records_each_branch() -> None:
    x, y = concolic.SymInt(5, z3.Int("x")), concolic.SymInt(2, z3.Int("y"))
    with concolic.recording() as path:
        total = sum([x, y, 1])
        assert total == 8 and isinstance(total, concolic.SymInt)
        assert not (3 * x - y < 10)
        assert (x - y) // y == 1 and x % y == 1
        assert x and hash(x) == hash(5)
        assert x == x  # the same number: no condition
    solver = z3.Solver()
    solver.add(*path)
    assert solver.check(z3.Int("x") == 5, z3.Int("y") == 2) == z3.sat
    assert solver.check(z3.Int("x") == 3, z3.Int("y") == 2) == z3.unsat  # 3*3 - 2 < 10 takes the other branch
    assert len(path) == 7


def _breaks(model: KubeModel, actions: list, invariant: str) -> bool:  # type: ignore[type-arg]
    try:
        return concolic.final_violation(model, actions, invariant) is not None
    except ActionNotEnabledError:
        return False


def test_the_double_booking_needs_requests_between_a_third_and_a_half_of_a_node() -> None:
    """scheduler-no-assume on capacity (1000m nodes): two web pods fit on node-1 and three do not, so 334m to 500m.

    The region is the run's own branches: above 500m the steps still break scheduler-fit, through other branches.
    """
    trace = tracefmt.load(NO_ASSUME)
    model = model_for(trace, str(NO_ASSUME))
    actions = [s.action for s in trace.steps]
    region = concolic.region(model.scenario, model.variant, actions, "scheduler-fit", ["requests"])
    extent = {b.parameter.name: (b.least, b.greatest) for b in region.bounds}
    assert extent["requests.cpu[web/app]"] == (334, 500) and region.step == len(actions)
    assert "Not(requests.cpu[web/app] <= 333)" in region.conditions and "requests.cpu[web/app] <= 500" in region.conditions
    for cpu, broken in ((333, False), (334, True), (400, True), (500, True)):  # 333: three pods fit node-1, nothing is double-booked
        scenario = concolic.concrete_scenario(model.scenario, ["requests"], {"requests.cpu[web/app]": cpu})
        assert _breaks(KubeModel(scenario, model.variant), actions, "scheduler-fit") is broken, cpu


def test_replay_symbolic_prints_the_region_and_refuses_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(NO_ASSUME), "--symbolic", "requests"]) == 1
    out = capsys.readouterr().out
    assert "requests.cpu[web/app]                400  334 .. 500" in out and "breaks scheduler-fit at step 15" in out
    assert main(["replay", str(NO_ASSUME), "--symbolic", "request"]) == 2
    assert capsys.readouterr().err == "kspec: error: --symbolic: unknown kind of number 'request'; did you mean 'requests'?\n"
    assert main(["replay", str(NO_ASSUME), "--symbolic", "requests", "--format", "html"]) == 2
    assert "--symbolic prints the region only" in capsys.readouterr().err


def test_check_symbolic_answers_with_the_numbers_of_the_counterexample_it_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--variant", "scheduler-no-assume", "--symbolic", "requests", "--out", str(tmp_path)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "requests.cpu[web/app]                400  334 .. 500" in out and "checked: a plain replay" in out
    assert main([*args[:-2], "--model", "x.py"]) == 2  # a model file is read (and must exist) with --symbolic as without
    assert capsys.readouterr().err == "kspec: error: x.py: cannot read: No such file or directory\n"


def test_check_symbolic_with_a_model_file_runs_its_components_and_names_its_invariant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = str(Path(__file__).resolve().parent.parent / "examples" / "one_pod_per_node.py")
    assert main(["check", "--model", model, "--symbolic", "timeouts", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "the same 4 steps break one-agent-per-node at step 4 whenever these hold" in out
    assert re.search(r"^  timing.lease_renew_interval\s+1  1 \.\. 1$", out, re.M)
    assert "breaks one-agent-per-node at step 4" in out.split("checked: ")[1]
