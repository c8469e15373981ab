"""kspec check, replay, variants and invariants from the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker import induction
from checker import trace as tracefmt
from checker.check import check_all
from checker.cli import main
from spec.errors import KspecError
from spec.invariants import INVARIANTS
from spec.scenarios import SCENARIOS, get_scenario
from spec.variants import DEFAULT, VARIANTS


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_variants_lists_each_with_invariant_witness_and_reference(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["variants"], capsys)
    assert code == 0
    for v in VARIANTS.values():
        assert v.name in out
        if v.witness:
            assert f"on scenario {v.witness}; reference: {v.reference}" in out


def test_invariants_lists_every_invariant_and_marks_those_prove_proves(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["invariants"], capsys)
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == list(INVARIANTS)
    marked = [line.split()[0] for line in out.splitlines() if line.endswith(" (kspec prove)")]
    assert marked == [name for name in INVARIANTS if name in induction.ABSTRACTIONS] and "identity-runs-once" in marked


def test_check_variant_finds_saves_and_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check", "--variant", "rs-no-expectations", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")], capsys)
    assert code == 1
    assert "violated     rs-no-overshoot" in out and "scenario scale, variant rs-no-expectations" in out
    saved = tmp_path / "scale--rs-no-expectations--rs-no-overshoot.json"
    summary = json.loads((tmp_path / "r.json").read_text())
    assert summary["violated"] and summary["runs"][0]["counterexample"] == str(saved)
    trace = tracefmt.load(saved)
    assert trace.invariant == "rs-no-overshoot" and trace.seed == 0 and trace.engine == "hypothesis"
    code, out, _ = _run(["replay", str(saved)], capsys)
    assert code == 1 and f"violation reproduces at step {trace.violation_step}" in out and "# pods" in out
    code, out, _ = _run(["replay", str(saved), "--variant", "default", "--no-tables"], capsys)
    assert code == 0 and "violation no longer reproduces" in out


def test_check_default_reports_coverage_not_proof(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check", "--scenario", "services", "--max-examples", "10", "--out", str(tmp_path)], capsys)
    assert code == 0
    assert "holds        unique-cluster-ip" in out and "a bounded search, not a proof" in out
    assert not list(tmp_path.iterdir())


def test_check_only_selected_invariants(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check", "--scenario", "services", "--invariant", "unique-pod-ip", "--max-examples", "5", "--out", str(tmp_path)], capsys)
    assert code == 0 and "unique-pod-ip" in out and "rs-converges" not in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "--variant", "rs-no-expectation"], "did you mean 'rs-no-expectations'"),
        (["check", "--invariant", "pod-bound-twice"], "unknown invariant 'pod-bound-twice'"),
        (["check", "--scenario", "bsic"], "did you mean 'basic'"),
    ],
)
def test_check_bad_names_exit_2(args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(args, capsys)
    assert code == 2 and needle in err and err.count("\n") == 1


def _saved_trace(tmp_path: Path) -> Path:
    assert main(["check", "--variant", "kubelet-ip-by-running", "--out", str(tmp_path)]) == 1
    return next(tmp_path.glob("*.json"))


def _edit(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = json.loads(path.read_text())
    change(data)
    out = path.with_name("edited.json")
    out.write_text(json.dumps(data))
    return out


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.update(scenario="basik"), "scenario: unknown scenario 'basik'; did you mean 'basic'"),
        (lambda d: d.update(variant="nope"), "variant: unknown variant 'nope'"),
        (lambda d: d.update(invariant="pod-runs-twice", violation_step=1), "invariant: unknown invariant"),
        (lambda d: d["steps"][0].update(action="KubeletAdmitPods"), "steps[0]: unknown action of"),
        (lambda d: d["steps"][0].update(component="kubelet/node-9"), "steps[0]: unknown component"),
        (lambda d: d["steps"][1].update(digest="0" * 32), "steps[1].digest: the state after step 2 differs"),
        (lambda d: d.update(initial_digest="f" * 32), "initial_digest: the initial state no longer matches"),
        (lambda d: d["bounds"].update(steps=1), "bounds: scenario batch's bounds changed"),
        (lambda d: d.update(version=3), "version: trace format version 3 is newer"),
        (lambda d: d.update(steps=list(reversed(d["steps"]))), "cannot run"),
    ],
)
def test_replay_bad_or_drifted_trace_exit_2_one_line(tmp_path: Path, change, needle: str, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    edited = _edit(_saved_trace(tmp_path), change)
    capsys.readouterr()
    code, out, err = _run(["replay", str(edited)], capsys)
    assert code == 2, out
    assert needle in err and "edited.json" in err and err.count("\n") == 1 and "Traceback" not in err


def test_replay_truncated_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _saved_trace(tmp_path)
    path.write_text(path.read_text()[:200])
    capsys.readouterr()
    code, _, err = _run(["replay", str(path)], capsys)
    assert code == 2 and "truncated or not valid JSON" in err


def test_same_seed_same_counterexample_in_every_process(tmp_path: Path) -> None:
    """``kspec check --seed S`` finds, shrinks and saves the same trace whatever PYTHONHASHSEED is."""
    runs = []
    for hashseed in ("0", "4242"):
        out = tmp_path / hashseed
        args = ["check", "--variant", "rs-no-expectations", "--seed", "3", "--out", str(out), "--json", str(out / "r.json")]
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        done = subprocess.run([sys.executable, "-m", "checker", *args], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 1, done.stderr
        summary = json.loads((out / "r.json").read_text())["runs"][0]
        trace_bytes = (out / "scale--rs-no-expectations--rs-no-overshoot.json").read_bytes()
        runs.append((trace_bytes, summary["examples"], summary["steps"], summary["trace_steps"], summary["message"]))
    assert runs[0] == runs[1]
    assert tracefmt.parse(runs[0][0].decode(), "trace").seed == 3


def test_same_seed_same_run_whatever_else_the_process_loaded() -> None:
    """Hypothesis mixes the literals of every loaded local module into its draws; an engine run does not depend on them.

    Without the fixed pool (checker.hypothesis_engine), importing checker.cli first changes this run's examples and steps.
    """
    run = (
        "import sys; sys.path.insert(0, '.');{extra} from checker.check import check_one; from spec.scenarios import get_scenario;"
        " from spec.variants import DEFAULT; r = check_one(get_scenario('capacity'), DEFAULT, [], seed=0, max_examples=30);"
        " print(r.coverage.describe().rsplit(',', 1)[0])"
    )
    outputs = []
    for extra in ("", " import checker.cli, tests.test_manifests;"):
        done = subprocess.run([sys.executable, "-c", run.format(extra=extra)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and "examples" in outputs[0]


def test_workers_run_the_scenarios_at_once_and_report_what_one_process_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--workers 2`` spreads the runs over two processes: the same reports, in the same order, and the same files."""
    outputs, files = [], []
    for workers in ("1", "2"):
        out = tmp_path / workers
        args = ["check", "--scenario", "all", "--variant", "apiserver-clusterip-lag", "--invariant", "unique-cluster-ip", "--engine", "explore"]
        code, stdout, err = _run([*args, "--depth", "2", "--workers", workers, "--out", str(out)], capsys)
        assert code == 1, err
        finished = [line.split(":")[0] for line in err.splitlines()]  # "[i/10] scenario / variant", in the order the runs finished
        assert sorted(finished) == sorted(f"[{i}/10] {name} / apiserver-clusterip-lag" for i, name in enumerate(_finished(err), start=1))
        assert sorted(_finished(err)) == sorted(SCENARIOS)
        outputs.append([re.sub(r"\d+\.\d s", "S", line).replace(str(out), "OUT") for line in stdout.splitlines()])
        files.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1] and files[0] == files[1]
    assert list(files[0]) == ["services--apiserver-clusterip-lag--unique-cluster-ip.json"]
    assert "violated     unique-cluster-ip: " in "\n".join(outputs[1])


def test_forked_hypothesis_runs_are_the_runs_of_one_process(tmp_path: Path) -> None:
    """Each Hypothesis run in a forked process makes the examples, steps and counterexample file it makes alone."""
    variant = VARIANTS["kubelet-phase-regress"]
    runs = [(get_scenario(name), variant) for name in ("batch", "services", "basic")]
    outcomes = []
    for jobs in (1, 2):
        out = tmp_path / str(jobs)
        reports = check_all(runs, ["phase-monotone"], seed=0, max_examples=5, out=out, jobs=jobs)
        covered = [(r.scenario, r.verdicts, r.coverage.as_json()["examples"], r.coverage.as_json()["steps"]) for r in reports]
        outcomes.append((covered, [r.saved.replace(str(out), "") for r in reports], {p.name: p.read_bytes() for p in sorted(out.iterdir())}))
    assert outcomes[0] == outcomes[1]
    covered, _, files = outcomes[1]
    assert [c[0] for c in covered] == ["batch", "services", "basic"] and list(files) == ["batch--kubelet-phase-regress--phase-monotone.json"]


def _finished(err: str) -> list[str]:
    """The scenarios of the progress lines, in the order the runs finished."""
    return [line.split("] ", 1)[1].split(" / ")[0] for line in err.splitlines()]


def test_workers_raise_the_bad_input_a_run_meets_as_one_process_does() -> None:
    """Bad input met inside a forked run comes back as the same one-line error."""
    runs = [(get_scenario("services"), DEFAULT), (get_scenario("batch"), DEFAULT)]
    messages = []
    for jobs in (1, 2):
        with pytest.raises(KspecError) as raised:
            check_all(runs, ["pod-runs-twice"], seed=0, max_examples=1, jobs=jobs)
        messages.append(str(raised.value))
    assert messages[0] == messages[1] and "did you mean 'pod-runs-once'" in messages[0]


def test_ctrl_c_stops_every_worker_at_once(tmp_path: Path) -> None:
    """Ctrl-C during ``--workers 2`` ends kspec check at once (exit 130, one line) and leaves no run going on."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "checker", "check", "--workers", "2", "--out", str(out)]
    started = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_interruptible)
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C goes to the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.splitlines()[-1] == "kspec: aborted", err
    assert time.monotonic() - started < 30  # the ten runs take minutes; none was waited for
    time.sleep(0.5)
    assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and str(out) in _cmdline(p)]


def test_ctrl_c_while_kspec_loads_is_one_line_too(tmp_path: Path) -> None:
    """Half a second in, kspec is still importing the spec, Hypothesis and Z3: a Ctrl-C then ends it as one during a run does."""
    args = [sys.executable, "-m", "checker", "check", "--engine", "explore", "--depth", "30", "--out", str(tmp_path)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip() == "kspec: aborted", err


def _interruptible() -> None:
    """In the child: Ctrl-C back to its default, which a shell's background job (``pytest &``) would pass on ignored, as Python keeps it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
