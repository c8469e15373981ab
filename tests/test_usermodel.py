"""Your own controller, checked beside kspec's: ``kspec check --model FILE.py`` and docs/tutorial-controller.md.

The tutorial's commands are run as shown and their output compared with the
text (timings, Hypothesis' example counts and file digests aside): the buggy
controller is caught by both engines, its trace replays, the fixed one
passes the same checks, and the old trace no longer reproduces against it.
Bad model files each get one line and exit code 2.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from checker import trace as tracefmt
from checker import usermodel
from checker.cli import main
from checker.replay import replay
from spec.component import Action
from spec.model import KubeModel

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial-controller.md"
BUGGY = ROOT / "examples" / "one_pod_per_node.py"
FIXED = ROOT / "examples" / "one_pod_per_node_fixed.py"

Run = tuple[int, str, str]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> Run:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------ the tutorial


def _blocks(fence: str) -> list[str]:
    """The bodies of the tutorial's fenced blocks of one language."""
    return re.findall(rf"^```{fence}\n(.*?)^```$", TUTORIAL.read_text(), flags=re.S | re.M)


def _sessions() -> list[tuple[str, list[str]]]:
    """Every ``$ command`` of the tutorial's console blocks with the output lines shown under it."""
    out: list[tuple[str, list[str]]] = []
    for block in _blocks("console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            else:
                out[-1][1].append(line)
    return out


def _normal(line: str) -> str:
    """A line with what legitimately varies (seconds, Hypothesis' counts, file digests) replaced."""
    line = re.sub(r"\d[\d,]*\.\d+ s\b", "<t> s", line)
    line = re.sub(r"sha256 [0-9a-f]{12}", "sha256 <hex>", line)
    if "(hypothesis, seed" in line or line.startswith("result: no invariant violated"):
        line = re.sub(r"\d[\d,]* (examples|steps|quiescent states)", r"<n> \1", line)
    return line.rstrip()


def _shown_in(expected: list[str], actual: list[str]) -> str:
    """Empty if the shown lines are the output, ``...`` standing for any lines; else what differs."""
    segments: list[list[str]] = [[]]
    for line in expected:
        if line.strip() == "...":
            segments.append([])
        else:
            segments[-1].append(_normal(line))
    lines = [_normal(line) for line in actual]
    at = 0
    for i, segment in enumerate(segments):
        starts = [j for j in range(at, len(lines) - len(segment) + 1) if lines[j : j + len(segment)] == segment]
        if i == 0:
            starts = starts[:1] if starts[:1] == [0] else []
        if not starts:
            return f"not in the output in this order: {segment}"
        at = starts[0] + len(segment)
    if segments[-1] and at != len(lines):
        return f"the output goes on: {lines[at:]}"
    return ""


def _run_tutorial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> dict[str, Run]:
    (tmp_path / "examples").mkdir()
    for source in (BUGGY, FIXED):
        shutil.copy(source, tmp_path / "examples" / source.name)
    monkeypatch.chdir(tmp_path)
    results: dict[str, Run] = {}
    last: Run | None = None
    for command, shown in _sessions():
        if command == "echo $?":
            assert last is not None and shown == [str(last[0])], f"exit code {last and last[0]}, the tutorial shows {shown}"
            continue
        words = shlex.split(command)
        assert words[0] == "kspec", command
        last = results[command] = _run(words[1:], capsys)
        problem = _shown_in(shown, last[1].splitlines())
        assert not problem, f"$ {command}: {problem}\n{last[1]}{last[2]}"
    return results


def test_the_tutorial_finds_the_bug_and_passes_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Every command of the tutorial prints what it shows; the claims it makes hold (exit codes, verdicts)."""
    results = _run_tutorial(tmp_path, monkeypatch, capsys)
    buggy, fixed = "--model examples/one_pod_per_node.py", "--model examples/one_pod_per_node_fixed.py"
    trace = "kspec-out/one-pod-per-node--default--one-agent-per-node.json"
    found = "violated     one-agent-per-node"
    assert results[f"kspec check {buggy}"][0] == 1 and found in results[f"kspec check {buggy}"][1]
    explore = "--engine explore --depth 6 --invariant one-agent-per-node"
    assert results[f"kspec check {buggy} {explore}"][0] == 1 and "(4 steps;" in results[f"kspec check {buggy} {explore}"][1]
    assert results[f"kspec replay {trace} {buggy} --no-tables"][0] == 1
    assert results[f"kspec check {fixed} --max-examples 50"][0] == 0
    assert results[f"kspec check {fixed} {explore}"][0] == 0
    old = results[f"kspec replay {trace} {fixed} --no-tables"]
    assert old[0] == 0 and "violation no longer reproduces" in old[1]
    recorded = json.loads((tmp_path / trace).read_text())["model_file"]
    assert recorded["path"] == "examples/one_pod_per_node.py" and recorded["sha256"] == usermodel.load(BUGGY).sha256


def test_the_tutorials_code_is_the_examples_code() -> None:
    """Each Python block of the tutorial is an excerpt of one of the example files, so the text cannot drift from them."""
    sources = [BUGGY.read_text(), FIXED.read_text()]
    blocks = _blocks("python")
    assert len(blocks) >= 5
    for block in blocks:
        assert any(block in source for source in sources), f"not in examples/: {block[:80]!r}"


def test_the_output_comparison_notices_a_change() -> None:
    """The tutorial test fails when a shown line is not printed, or printed elsewhere."""
    actual = ["a 1.5 s", "b", "c", "d"]
    assert _shown_in(["a 2.0 s", "b", "...", "d"], actual) == ""
    assert _shown_in(["a", "...", "d"], actual) != ""
    assert _shown_in(["a 1.5 s", "c", "...", "d"], actual) != ""
    assert _shown_in(["a 1.5 s", "b"], actual) != ""


# ------------------------------------------------------------ traces


def _buggy_trace() -> tuple[usermodel.ModelFile, tracefmt.Trace]:
    """The tutorial's 4-step counterexample, recorded with the buggy model file."""
    user = usermodel.load(BUGGY)
    assert user.scenario is not None
    model = KubeModel(user.scenario, extra=user.components)
    steps = [
        Action("user", "UserDeletePod", (("pod", "default/node-agent-bbbbh"),)),
        Action("node-agent-controller", "WatchDeliver", (("kind", "Pod"),)),
        Action("node-agent-controller", "NodeAgentCreate", (("node", "node-1"),)),
        Action("node-agent-controller", "NodeAgentCreate", (("node", "node-1"),)),
    ]
    message = "node node-1 has 2 active agent pods: default/node-agent-bbbbm, default/node-agent-bbbbn"
    trace = tracefmt.record(
        model, steps, engine="test", seed=None, invariant="one-agent-per-node", violation_step=4, message=message, model_file=user.ref
    )
    return user, trace


def test_a_trace_records_the_model_file_and_reads_back() -> None:
    user, trace = _buggy_trace()
    data = tracefmt.to_json(trace)
    assert list(data)[list(data).index("variant") + 1] == "model_file"
    assert data["model_file"] == {"path": user.path, "sha256": user.sha256}
    assert tracefmt.parse(tracefmt.dumps(trace), "t.json") == trace
    assert replay(trace, "t.json", user=user).reproduced


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda m: m.update(sha256="abc"), "t.json: model_file.sha256: expected 64 lowercase hex characters"),
        (lambda m: m.update(extra=1), "t.json: model_file.extra: unknown field"),
        (lambda m: m.pop("path"), "t.json: model_file.path: missing field"),
    ],
)
def test_a_malformed_model_file_field_is_one_line(change, needle: str) -> None:  # type: ignore[no-untyped-def]
    data = tracefmt.to_json(_buggy_trace()[1])
    change(data["model_file"])
    with pytest.raises(tracefmt.TraceError, match=re.escape(needle)):
        tracefmt.parse(json.dumps(data), "t.json")


def test_replay_needs_the_model_file_and_notices_a_changed_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    user, trace = _buggy_trace()
    path = tmp_path / "t.json"
    tracefmt.write(trace, path)
    code, _, err = _run(["replay", str(path), "--no-tables"], capsys)
    assert code == 2 and err == f"kspec: error: {path}: model_file: recorded with the model file {user.path}; replay it with --model {user.path}\n"
    changed = tmp_path / "changed.py"
    changed.write_text(BUGGY.read_text() + "\n# edited\n")
    code, out, _ = _run(["replay", str(path), "--model", str(changed), "--no-tables"], capsys)
    assert code == 1 and out.startswith(f"note: {changed.as_posix()} (sha256 ") and "without digest checks" in out.splitlines()[0]
    builtin = ROOT / "counterexamples" / "rs-no-expectations.json"
    code, _, err = _run(["replay", str(builtin), "--model", str(BUGGY)], capsys)
    assert code == 2 and "model_file: recorded without a model file; replay it without --model" in err


# ------------------------------------------------------------ the CLI


def test_a_model_file_joins_a_built_in_scenario(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--scenario NAME adds the file's components to a built-in scenario; its invariants are checked there too."""
    args = ["check", "--model", str(FIXED), "--scenario", "basic", "--engine", "explore", "--depth", "2", "--out", str(tmp_path)]
    code, out, _ = _run(args, capsys)
    assert code == 0 and out.startswith("scenario basic, variant default (explore)")
    assert "holds        one-agent-per-node" in out and "NodeAgentCreate" not in out.split("never fired:")[1]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--invariant", "one-agent-per-nod"], "--invariant: unknown invariant 'one-agent-per-nod'; did you mean 'one-agent-per-node'?"),
        (["--scenario", "one-pod-per-nod"], "--scenario: unknown scenario 'one-pod-per-nod'; did you mean 'one-pod-per-node'?"),
        (["--engine", "explore", "--symmetry"], "--symmetry is not available with --model"),
    ],
)
def test_check_with_a_model_file_refuses_bad_options(args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["check", "--model", str(BUGGY), *args], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1


HEADER = "from spec.component import ActionDef, ComponentType, Watch\nfrom spec.invariants import Invariant\n"
CONTROLLER = 'ComponentType(kind="mine", actions=(ActionDef("MineAct", (), lambda c, s, m: (), lambda c, s, m: s),)'
"""a component with one action, without its closing parenthesis (so that a test can add arguments)"""


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("def f(:\n    pass\n", "bad.py: line 1: SyntaxError: "),
        ("import kspec_no_such_module\n", "bad.py: line 1: ModuleNotFoundError: No module named 'kspec_no_such_module' (while importing it)"),
        ("x = 1\ny = 2\nz = x / 0\n", "bad.py: line 3: ZeroDivisionError: division by zero (while importing it)"),
        ("x = 1\n", "bad.py: COMPONENTS: missing or empty, and no INVARIANTS; a model file defines COMPONENTS = [ComponentType(...), ...]"),
        ("COMPONENTS = []\n", "bad.py: COMPONENTS: missing or empty, and no INVARIANTS; a model file defines"),
        ("COMPONENTS = {}\n", "bad.py: COMPONENTS: expected a list of spec.component.ComponentType, got dict"),
        ("COMPONENTS = [print]\n", "bad.py: COMPONENTS[0]: expected a spec.component.ComponentType, got builtin_function_or_method"),
        (
            f"COMPONENTS = [{CONTROLLER.replace('MineAct', 'ReplicaSetSync')})]\n",
            "COMPONENTS[0].actions[0].name: action name 'ReplicaSetSync' is already an action of replicaset-controller",
        ),
        (f"COMPONENTS = [{CONTROLLER.replace('mine', 'scheduler')})]\n", "COMPONENTS[0].kind: component kind 'scheduler' is already a built-in"),
        (f"COMPONENTS = [{CONTROLLER}, watches=(Watch('Pods'),))]\n", "COMPONENTS[0].watches[0].kind: unknown kind 'Pods'; did you mean 'Pod'"),
        (f"COMPONENTS = [{CONTROLLER}, initial_memory=dict)]\n", "COMPONENTS[0].initial_memory: returns a dict"),
        (
            f"COMPONENTS = [{CONTROLLER})]\nINVARIANTS = [Invariant('pod-runs-once', 'state', '', '', print)]\n",
            "invariant name 'pod-runs-once' is already",
        ),
        (f"COMPONENTS = [{CONTROLLER})]\nINVARIANTS = [Invariant('mine', 'always', '', '', print)]\n", "unknown invariant kind 'always'"),
        (f"COMPONENTS = [{CONTROLLER})]\nSCENARIO = 'basic'\n", "bad.py: SCENARIO: expected a spec.scenarios.Scenario, got str"),
    ],
)
def test_a_bad_model_file_is_one_line(
    source: str, needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.py").write_text(HEADER + source if "COMPONENTS" in source else source)
    code, out, err = _run(["check", "--model", "bad.py"], capsys)
    assert code == 2 and out == "" and err.startswith("kspec: error: bad.py") and err.count("\n") == 1
    assert needle in err, err


def test_a_missing_model_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["check", "--model", str(tmp_path / "nope.py")], capsys)
    assert code == 2 and err == f"kspec: error: {(tmp_path / 'nope.py').as_posix()}: cannot read: No such file or directory\n"


@pytest.mark.parametrize(
    ("guard", "needle"),
    [
        ("lambda c, s, m: [s.views[m].memory.nodes]", "line 5: AttributeError: 'NoneType' object has no attribute 'nodes' (in the guard of MineAct)"),
        ("lambda c, s, m: ['node-1']", "COMPONENTS[0].actions[0].guard: yielded 'node-1'; a guard yields tuples of 0 values"),
    ],
)
def test_an_error_in_the_files_code_while_checking_is_one_line(
    guard: str, needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A guard that raises, or yields the wrong shape, stops the check with the file and line, not a traceback."""
    monkeypatch.chdir(tmp_path)
    controller = CONTROLLER.replace("lambda c, s, m: ()", f"\n    {guard}", 1)
    Path("bad.py").write_text(f"{HEADER}\nCOMPONENTS = [{controller})]\n")
    code, _, err = _run(["check", "--model", "bad.py", "--scenario", "services", "--max-examples", "1", "--out", str(tmp_path)], capsys)
    assert code == 2 and err.startswith("kspec: error: bad.py") and err.count("\n") == 1
    assert needle in err, err


def test_loading_leaves_sys_modules_as_it_was() -> None:
    """The model file's module is registered only while it runs (the kspec modules it imports stay, as any import's)."""
    usermodel.load(BUGGY)
    before = set(sys.modules)
    usermodel.load(BUGGY)
    assert set(sys.modules) == before and not [name for name in sys.modules if "one_pod_per_node" in name]


def test_kspec_invariants_lists_a_model_files_invariants_after_the_built_in_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["invariants", "--model", str(BUGGY)], capsys)
    names = [line.split()[0] for line in out.splitlines()]
    assert code == 0 and names[-2:] == ["one-agent-per-node", "every-node-has-agent"] and "pod-bound-once" in names
    assert "one-agent-per-node" not in _run(["invariants"], capsys)[1]


# ------------------------------------------------------------ numbers, and questions about the built-in components

QUESTION = ROOT / "examples" / "replaced_while_running.py"
QUESTION_TRACE = ROOT / "examples" / "replaced-while-running.json"


def test_a_model_files_numbers_are_covered_and_its_cells_replay_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--engine explore --symbolic runs the file's components and checks its invariants; each cell's trace names the file."""
    (tmp_path / "examples").mkdir()
    shutil.copy(BUGGY, tmp_path / "examples" / BUGGY.name)
    monkeypatch.chdir(tmp_path)
    args = ["check", "--model", "examples/one_pod_per_node.py", "--engine", "explore", "--symbolic", "timeouts", "--junit", "j.xml"]
    code, out, _ = _run(args, capsys)
    assert code == 1
    assert "cell 1: timing.lease_renew_interval=1: one-agent-per-node broken at depth 4" in out
    assert "cell 2: timing.lease_renew_interval 2 .. 4: one-agent-per-node broken at depth 4" in out
    assert "covered: every assignment in the ranges lies in one of these 2 cells, 2 of them broken" in out
    saved = sorted(Path("kspec-out").glob("*--numbers-*.json"))
    assert len(saved) == 2
    trace = tracefmt.load(saved[1])
    assert trace.model_file is not None and trace.model_file.path == "examples/one_pod_per_node.py"
    assert trace.numbers is not None and dict(trace.numbers.values)["timing.lease_renew_interval"] >= 2
    code, out, _ = _run(["replay", str(saved[1]), "--model", "examples/one_pod_per_node.py", "--no-tables"], capsys)
    assert code == 1 and "violation reproduces at step 4" in out
    xml = Path("j.xml").read_text()
    assert 'name="one-agent-per-node"' in xml and "one-agent-per-node: broken in 2 of 2 cells of numbers" in xml
    assert f"replay it: kspec replay {saved[0]} --model examples/one_pod_per_node.py" in xml


def test_a_question_file_defines_only_an_invariant_about_the_built_in_components() -> None:
    user = usermodel.load(QUESTION)
    assert user.components == () and [i.name for i in user.invariants] == ["replicas-run-at-most"]
    assert user.scenario is None


def test_which_numbers_let_a_partitioned_nodes_pod_be_replaced_while_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The committed run: eviction after the toleration, a replacement beside the still-running pod, for any grace period."""
    args = ["replay", str(QUESTION_TRACE), "--model", str(QUESTION), "--symbolic", "timeouts,tolerations,grace"]
    code, out, _ = _run(args, capsys)
    assert code == 1
    extents = {m[1]: (int(m[2]), int(m[3]), int(m[4])) for m in re.finditer(r"^  (\S+)\s+(\d+)\s+(\d+) \.\. (\d+)$", out, re.M)}
    assert extents["grace[web]"] == (3, 1, 12)  # the grace period does not matter: the partitioned kubelet never hears of the deletion
    assert extents["tolerations[web/node.kubernetes.io/unreachable:NoExecute]"] == (2, 2, 2)
    assert extents["timing.node_monitor_grace"] == (2, 2, 2)
    assert "the same 38 steps break replicas-run-at-most at step 38" in out
    assert "checked: a plain replay with the numbers at each of these extents" in out
    code, _, err = _run(["replay", str(QUESTION_TRACE), "--symbolic", "grace"], capsys)
    assert code == 2 and "model_file: recorded with the model file examples/replaced_while_running.py; replay it with --model" in err


@pytest.mark.slow
def test_hypothesis_finds_a_partitioned_nodes_pod_replaced_while_it_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--model", str(QUESTION), "--scenario", "node-failure", "--invariant", "replicas-run-at-most", "--max-examples", "1000"]
    code, out, _ = _run([*args, "--out", str(tmp_path)], capsys)
    assert code == 1 and "violated     replicas-run-at-most: ReplicaSet default/web wants 2 pods and 3 run" in out
