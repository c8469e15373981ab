"""kspec check --engine explore --symbolic: every interleaving for every number in a range (checker.numbers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Failure, JUnitXml
from test_junit import assert_valid_junit

from checker import junit, numbers
from checker import trace as tracefmt
from checker.cli import main
from checker.concolic import SymInt, concrete_scenario
from checker.explore import Limits
from spec.fingerprint import fingerprint
from spec.model import KubeModel
from spec.scenarios import Scenario, container, node, pod
from spec.variants import DEFAULT, VARIANTS

ROOT = Path(__file__).resolve().parent.parent
NO_ADMISSION = VARIANTS["kubelet-no-admission"]
DEPTH = 5

# two pods bound to one node of 1000m from the start: whether they fit is a question of numbers
PINNED = Scenario(
    name="pinned",
    summary="two pods of 400m bound to one node of 1000m",
    nodes=(node("node-1", cpu=1000),),
    objects=(pod("a", container(cpu=400), node_name="node-1"), pod("b", container(cpu=400), node_name="node-1")),
)
A, B = "requests.cpu[a/app]", "requests.cpu[b/app]"


@pytest.fixture(scope="module")
def no_admission() -> numbers.Cover:
    return numbers.cover(PINNED, NO_ADMISSION, ["node-capacity"], ["requests"], Limits(depth=DEPTH), replayable=False)


def _values(a: int, b: int) -> dict[str, int]:
    return {A: a, B: b, "requests.memory[a/app]": 256 << 20, "requests.memory[b/app]": 256 << 20}


def test_without_admission_a_node_is_overcommitted_exactly_when_the_requests_exceed_it(no_admission: numbers.Cover) -> None:
    assert no_admission.covered and no_admission.violated
    assert [p.name for p in no_admission.parameters] == [A, "requests.memory[a/app]", B, "requests.memory[b/app]"]
    for a, b, broken in [(400, 400, False), (500, 500, False), (999, 1, False), (500, 501, True), (1001, 1, True), (1, 1600, True)]:
        cell = no_admission.cell_for(_values(a, b))
        assert cell is not None
        assert (cell.result.found is not None) == broken, (a, b, cell.verdict)
    first = no_admission.cells[0]
    assert first.witness == tuple(sorted(_values(400, 400).items()))  # the scenario's own numbers come first
    assert first.conditions == (f"{A} + {B} <= 1000",)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(a=st.integers(1, 1600), b=st.integers(1, 1600))
def test_each_cells_verdict_is_the_plain_explorers_for_any_numbers_in_it(no_admission: numbers.Cover, a: int, b: int) -> None:
    """The differential check: a plain exploration with ints gives the verdict and depth of the cell that holds its numbers."""
    cell = no_admission.cell_for(_values(a, b))
    assert cell is not None
    plain = numbers.explore_numbers(PINNED, NO_ADMISSION, ["node-capacity"], ["requests"], _values(a, b), Limits(depth=DEPTH))
    assert (plain.found is None) == (cell.result.found is None)
    if plain.found is not None and cell.result.found is not None:
        assert len(plain.found.actions) == len(cell.result.found.actions)
        assert plain.found.violation.invariant == "node-capacity"


def test_with_admission_no_numbers_overcommit_the_node() -> None:
    c = numbers.cover(PINNED, DEFAULT, ["node-capacity"], ["requests"], Limits(depth=DEPTH), replayable=False)
    assert c.covered and not c.violated
    assert len(c.cells) >= 2  # a pod that does not fit takes other branches (admission refuses it), still without a violation
    text = numbers.format_cover(c)
    covered = f"covered: every assignment in the ranges lies in one of these {len(c.cells)} cells, 0 of them broken"
    assert covered in text
    root = ET.fromstring(junit.covers_to_xml([c], model_of=_pinned_model))
    assert_valid_junit(root)
    [case] = root.iter("testcase")
    assert case.get("name") == "node-capacity" and case.find("failure") is None
    assert case.findtext("system-out", "").startswith(f"holds in every cell; {covered} (each cell's states within the bounds)")


def _pinned_model(trace: tracefmt.Trace, source: str) -> KubeModel:
    assert trace.numbers is not None
    return KubeModel(concrete_scenario(PINNED, trace.numbers.kinds, dict(trace.numbers.values)), NO_ADMISSION)


def test_a_cover_in_junit_fails_the_invariant_with_every_cell_that_breaks_it(no_admission: numbers.Cover) -> None:
    """CI reads a cover as one case per invariant: the failure names the broken cells and shows the first one's counterexample."""
    root = ET.fromstring(junit.covers_to_xml([no_admission], model_of=_pinned_model))
    assert_valid_junit(root)
    broken = [i for i, cell in enumerate(no_admission.cells, start=1) if cell.result.found is not None]
    assert len(broken) == 3
    [suite] = root.iter("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("kspec.pinned.kubelet-no-admission", "1", "1")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"scenario": "pinned", "variant": "kubelet-no-admission", "engine": "explore", "symbolic": "requests"} | {
        "numbers": "4",
        "cells": "4",
        "covered": "true",
        "stopped": "",
    }
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.get("message", "").startswith(f"node-capacity: broken in 3 of 4 cells of numbers; cell {broken[0]}: ")
    text = failure.text or ""
    for i in broken:
        assert f"cell {i}: " in text and numbers.broken_where(no_admission.cells[i - 1]) in text
    trace = no_admission.cells[broken[0] - 1].trace
    assert trace is not None  # the first broken cell's counterexample, step by step, replayed on its numbers
    assert "\nstep 1: " in text and text.endswith(f"violation reproduces at step {len(trace.steps)}: {trace.message}")


def test_a_cover_stopped_by_its_time_limit_says_what_it_did_not_explore() -> None:
    c = numbers.cover(PINNED, NO_ADMISSION, ["node-capacity"], ["requests"], Limits(depth=DEPTH, seconds=0.0), replayable=False)
    assert not c.covered and c.cells == () and c.stopped == "time limit"
    assert "not covered: time limit after 0 cells" in numbers.format_cover(c)


def test_states_differ_by_the_terms_of_their_numbers_not_only_their_values() -> None:
    x, y = SymInt(400, z3.Int("x")), SymInt(400, z3.Int("y"))
    assert fingerprint((x, 1)) != fingerprint((y, 1)) != fingerprint((400, 1))
    assert fingerprint((x, 1)) == fingerprint((SymInt(400, z3.Int("x")), 1))


def test_check_covers_the_numbers_saves_each_counterexample_and_replay_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--engine", "explore", "--scenario", "services", "--variant", "apiserver-clusterip-lag", "--symbolic", "requests,timeouts"]
    outputs = ["--out", str(tmp_path), "--json", str(tmp_path / "cover.json"), "--junit", str(tmp_path / "cover.xml")]
    assert main([*args, "--depth", "3", *outputs]) == 1
    out = capsys.readouterr().out
    assert "covered: every assignment in the ranges lies in one of these 2 cells, 2 of them broken" in out
    assert "result: 1 of 1 runs found a violation for some numbers" in out
    summary = json.loads((tmp_path / "cover.json").read_text())
    assert summary["format"] == "kspec-cover" and summary["violated"] and summary["runs"][0]["covered"]
    cells = summary["runs"][0]["cells"]
    assert [(c["violated"], c["depth"]) for c in cells] == [("unique-cluster-ip", 2)] * 2
    assert cells[1]["extent"]["timing.lease_renew_interval"] == [2, 4] and cells[1]["counterexample"].endswith("numbers-2.json")
    saved = sorted(tmp_path.glob("*--numbers-*.json"))
    assert [p.name for p in saved] == [f"services--apiserver-clusterip-lag--unique-cluster-ip--numbers-{i}.json" for i in (1, 2)]
    data = json.loads(saved[1].read_text())
    assert data["numbers"]["kinds"] == ["requests", "timeouts"] and data["numbers"]["values"]["timing.lease_renew_interval"] >= 2
    assert main(["replay", str(saved[1]), "--no-tables"]) == 1
    assert "violation reproduces at step 2" in capsys.readouterr().out
    report = JUnitXml.fromfile(str(tmp_path / "cover.xml"))
    assert (report.tests, report.failures) == (15, 1)  # every invariant is a case; one is broken
    cases = {case.name: case for suite in report for case in suite}
    [failure] = [r for r in cases["unique-cluster-ip"].result if isinstance(r, Failure)]
    assert failure.message.startswith("unique-cluster-ip: broken in 2 of 2 cells of numbers; cell 1: ClusterIP ")
    assert f"replay it: kspec replay {saved[0]}" in (failure.text or "")
    assert "cells 1, 2 stopped at another invariant's violation" in (cases["pod-bound-once"].system_out or "")


def test_a_traces_numbers_are_checked_against_its_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--engine", "explore", "--scenario", "services", "--variant", "apiserver-clusterip-lag", "--symbolic", "timeouts"]
    assert main([*args, "--depth", "2", "--out", str(tmp_path)]) == 1
    capsys.readouterr()
    path = sorted(tmp_path.glob("*.json"))[0]
    data = json.loads(path.read_text())
    data["numbers"]["values"]["timing.node_monitor_grase"] = data["numbers"]["values"].pop("timing.node_monitor_grace")
    path.write_text(json.dumps(data))
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kspec: error: {path}: numbers.values: unknown number of scenario services 'timing.node_monitor_grase'")
    assert "did you mean 'timing.node_monitor_grace'" in err and len(err.splitlines()) == 1
    data["numbers"]["values"]["timing.node_monitor_grase"] = 0
    path.write_text(json.dumps(data))
    assert main(["replay", str(path)]) == 2
    assert 'numbers.values["timing.node_monitor_grase"]: expected an integer >= 1, got 0' in capsys.readouterr().err


def test_options_the_cover_cannot_honour_are_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--engine", "explore", "--scenario", "services", "--symbolic", "timeouts"]
    assert main([*args, "--graph", "g.dot", "--symmetry"]) == 2
    err = capsys.readouterr().err
    assert "it takes none of --graph, --symmetry" in err and len(err.strip().splitlines()) == 1


def test_the_cover_prints_the_same_text_whatever_the_hash_seed(tmp_path: Path) -> None:
    args = ["-m", "checker", "check", "--engine", "explore", "--scenario", "services", "--variant", "apiserver-clusterip-lag"]
    args += ["--symbolic", "requests,timeouts", "--depth", "3"]
    outs = []
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, *args, "--out", str(tmp_path / seed)], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        assert done.returncode == 1, done.stderr
        outs.append(done.stdout.replace(str(tmp_path / seed), "OUT").split("  covered:")[0])
    assert outs[0] == outs[1]
