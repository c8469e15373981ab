"""``kspec replay --format``: every rendering of every committed counterexample, checked by the tool that reads it.

- mermaid: parsed by the real ``mermaid`` package under node (tests/js: ``npm ci --prefix tests/js``),
  in one node process for all diagrams;
- html: opened in Debian's headless ``chromium`` (one browser for all reports, over the DevTools
  pipe: tests/chromium.py); the rendered text is read and no script from the data may run;
- itf: checked against the structure of Apalache's ADR-015 by a validator written here;
- dot: read by Graphviz's ``dot -Tjson`` (``apt-get install -y graphviz``), which parses DOT
  exactly as every Graphviz tool does.

Besides the corpus, a lasso (trace format version 2) found in the ``relist`` scenario, and a
trace whose model values and file name carry markup and Mermaid/DOT syntax (``HOSTILE``).
A missing tool fails the test with the line that installs it (CI runs .ci/run, which does).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from chromium import Chromium

from checker import render_dot, render_formats, render_html, render_itf, render_mermaid
from checker import trace as tracefmt
from checker.cli import main
from checker.replay import ReplayResult, replay
from checker.trace import Trace
from spec.canonical import to_data
from spec.component import Action
from spec.model import KubeModel
from spec.scenarios import get_scenario
from spec.state import State

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted(p for p in (ROOT / "counterexamples").glob("*.json") if p.name != "expected.json")
JS = ROOT / "tests" / "js"
NPM_INSTALL = "install them with: apt-get install -y nodejs npm && npm ci --prefix tests/js (.ci/run does this)"
HOSTILE = (
    '<script>window.__kspec_pwned = 1; document.title = "PWNED"</script><img src=x onerror="window.__kspec_pwned = 2">'
    ' ; # : %% #59; "q" \\ {x} [y] --> end\nloop --x, as A,B'
)
"""A value the model or the trace file may carry: markup, Mermaid entity and statement syntax, DOT quotes, a newline."""
HOSTILE_FILE = "we;ird #1: <i>x<i> %% end.json"
SOLID, DOTTED, NOTE, LOOP_START, LOOP_END = 0, 1, 2, 10, 11
"""mermaid's LINETYPE codes for ->>, -->>, notes and loop blocks."""


# --- the traces ----------------------------------------------------------------------


def find_lasso(model: KubeModel, depth: int) -> tuple[list[Action], int]:
    """A run that returns to a state on its own path (depth-first): its actions and the step its loop starts after."""
    on_path: dict[State, int] = {model.initial_states()[0]: 0}
    seen: set[State] = set()

    def search(state: State, d: int) -> tuple[list[Action], int] | None:
        for action, nxt in model.successors(state):
            if nxt in on_path:
                return [action], on_path[nxt]
            if d < depth and nxt not in seen:
                seen.add(nxt)
                on_path[nxt] = len(on_path)
                found = search(nxt, d + 1)
                del on_path[nxt]
                if found:
                    return [action, *found[0]], found[1]
        return None

    found = search(model.initial_states()[0], 0)
    assert found is not None, "no cycle within the depth"
    return found


@pytest.fixture(scope="module")
def lasso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A version-2 trace of relist: the ReplicaSet controller's sync and write take it back to a state it was in."""
    model = KubeModel(get_scenario("relist"))
    actions, loop_start = find_lasso(model, 8)
    trace = tracefmt.record(model, actions, engine="test", seed=None, message="eventually-converges: (a loop)", loop_start=loop_start)
    path = tmp_path_factory.mktemp("lasso") / "relist-loop.json"
    tracefmt.write(trace, path)
    return path


@functools.cache
def replayed(path: Path) -> tuple[Trace, ReplayResult]:
    trace = tracefmt.load(path)
    return trace, replay(trace, str(path))


def cases(lasso: Path) -> list[tuple[str, Trace, ReplayResult]]:
    """(name, trace, replay) of every committed counterexample and the lasso."""
    return [(p.stem, *replayed(p)) for p in [*CORPUS, lasso]]


def hostile(path: Path = ROOT / "counterexamples" / "rs-no-expectations.json") -> tuple[Trace, ReplayResult]:
    """A replay whose model carries HOSTILE: a pod named and labelled with it appears at step 1, whose parameter and the violation carry it."""
    trace, result = replayed(path)
    pod = next(iter(result.initial.api.objects.pods.values()))
    evil = attrs.evolve(pod, meta=attrs.evolve(pod.meta, name=HOSTILE, labels={"app": HOSTILE}))

    def with_evil(s: State) -> State:
        return attrs.evolve(s, api=attrs.evolve(s.api, objects=s.api.objects.put(evil)))

    steps = [attrs.evolve(step, state=with_evil(step.state)) for step in result.steps]
    steps[0] = attrs.evolve(steps[0], action=Action("user", "UserScaleReplicaSet", (("rs", HOSTILE), ("replicas", 3))))
    return trace, attrs.evolve(result, steps=tuple(steps), message=f"violated by {HOSTILE}")


def flat(text: str) -> str:
    return " ".join(text.split())


def changed_objects(before: State, after: State) -> int:
    """How many objects differ between two API stores."""
    old, new = to_data(before.api.objects), to_data(after.api.objects)
    return sum(old[kind].get(key) != new[kind].get(key) for kind in old for key in {*old[kind], *new[kind]})


# --- mermaid -------------------------------------------------------------------------


def parse_mermaid(files: list[Path]) -> dict[str, dict[str, Any]]:
    """What the mermaid package reads in each file (one node process for all)."""
    node = shutil.which("node")
    assert node, f"node and the npm packages mermaid and jsdom are needed to check Mermaid output: {NPM_INSTALL}"
    for package in ("mermaid", "jsdom"):
        assert (JS / "node_modules" / package).is_dir(), f"the npm package {package} is missing: {NPM_INSTALL}"
    proc = subprocess.run([node, str(JS / "parse-mermaid.mjs"), *map(str, files)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    return {r["file"]: r for r in reports}


def test_mermaid_parses_for_every_counterexample_and_special_characters_read_as_text(tmp_path: Path, lasso: Path) -> None:
    """Every case's diagram and the hostile trace's, parsed in one node process (starting node and mermaid costs seconds)."""
    files = {name: tmp_path / f"{name}.mmd" for name, _, _ in cases(lasso)}
    for name, trace, result in cases(lasso):
        files[name].write_text(render_mermaid.render(trace, result, name))
    files["hostile"] = tmp_path / "hostile.mmd"
    files["hostile"].write_text(render_mermaid.render(*hostile(), HOSTILE_FILE))
    two = tracefmt.load(ROOT / "counterexamples" / "two-schedulers.json")
    files["diverged"] = tmp_path / "diverged.mmd"  # replayed under the default variant, it stops at step 9
    files["diverged"].write_text(render_mermaid.render(two, replay(two, "two-schedulers.json", "default"), "two-schedulers.json"))
    reports = parse_mermaid(list(files.values()))
    for name, trace, result in cases(lasso):
        check_diagram(name, trace, result, reports[str(files[name])])
    report = reports[str(files["diverged"])]
    assert report["ok"] and report["messages"][-1]["text"].startswith("violation no longer reproduces (step 9 names component 'scheduler-2'")
    report = reports[str(files["hostile"])]
    assert report["ok"], f"special characters: {report.get('error')}"
    texts = [m["text"] for m in report["messages"]]
    assert f"1. UserScaleReplicaSet rs={flat(HOSTILE)} replicas=3: create pods default/{flat(HOSTILE)}" in texts
    assert f"VIOLATED rs-no-overshoot: violated by {flat(HOSTILE)}" in texts
    assert HOSTILE_FILE in report["title"]


def check_diagram(name: str, trace: Trace, result: ReplayResult, report: dict[str, Any]) -> None:
    """Parsed; every step drawn; the components and the API server are participants; the violation and the loop where they belong."""
    assert report["ok"], f"{name}: {report.get('error')}"
    assert report["type"] == "sequence" and trace.scenario in report["title"]
    messages = report["messages"]
    texts = [m["text"] for m in messages]
    for step in result.steps:
        assert any(t.startswith(f"{step.number}. ") for t in texts), f"{name}: step {step.number} is not drawn"
    labels = {label for _, label in report["actors"]}
    assert "API server" in labels
    assert {s.action.component for s in result.steps if not result.model.ctx.type_of(s.action.component).environment} <= labels
    api = next(actor for actor, label in report["actors"] if label == "API server")
    for step, before in zip(result.steps, [result.initial, *(s.state for s in result.steps)], strict=False):
        of_step = [m for m in messages if m["text"].startswith(f"{step.number}. ")]
        writes = [m for m in of_step if m["type"] == SOLID and m["to"] == api]
        assert len(writes) == changed_objects(before, step.state), f"{name}: step {step.number}: one arrow per object written"
        if step.action.name == "WatchDeliver":
            assert [m["type"] for m in of_step if m["from"] == api] == [DOTTED], f"{name}: step {step.number}: the event"
    if trace.invariant:
        (at,) = [i for i, m in enumerate(messages) if m["type"] == NOTE and m["text"].startswith(f"VIOLATED {trace.invariant}: ")]
        assert texts[at - 1].startswith(f"{result.violation_step}. "), f"{name}: the violation note is not at its step"
    if trace.loop_start is None:
        assert all(m["type"] not in (LOOP_START, LOOP_END) for m in messages)
    else:
        (start,) = [i for i, m in enumerate(messages) if m["type"] == LOOP_START]
        (end,) = [i for i, m in enumerate(messages) if m["type"] == LOOP_END]
        assert texts[start + 1].startswith(f"{trace.loop_start + 1}. ") and texts[end - 1].startswith(f"{len(result.steps)}. ")


def test_mermaid_arrows_are_the_writes_to_the_api_server(lasso: Path) -> None:
    """rs-no-expectations: the user's scale, the controller's two pod creations and its status write, each an arrow to the API server."""
    trace, result = replayed(ROOT / "counterexamples" / "rs-no-expectations.json")
    text = render_mermaid.render(trace, result, "t.json")
    assert "p_user->>p_API_server: 1. UserScaleReplicaSet rs=default/web replicas=3#58; update replicasets default/web" in text
    assert "p_API_server-->>p_replicaset_controller: 2. watch MODIFIED ReplicaSet default/web" in text
    assert "p_replicaset_controller->>p_API_server: 7. ReplicaSetWrite rs=default/web#58; create pods default/web-bbbbr" in text
    assert "p_replicaset_controller->>p_replicaset_controller: 3. ReplicaSetSync rs=default/web" in text


# --- html ----------------------------------------------------------------------------

VISIBLE = (
    "JSON.stringify([document.querySelectorAll('section.step').length, document.scripts.length,"
    " [...document.querySelectorAll('section.step')].filter(s => getComputedStyle(s).display !== 'none').map(s => s.id)])"
)
"""The number of steps and of scripts in a report, and the steps it shows."""


def visible_after(key: str) -> str:
    return f"(document.dispatchEvent(new KeyboardEvent('keydown', {{key: '{key}'}})), {VISIBLE})"


def test_html_reports_step_through_in_chromium_and_run_no_script_from_the_data(tmp_path: Path, lasso: Path) -> None:
    """Every case's report, and reports whose trace file (through the CLI) and model objects (a pod's name and label value)
    carry markup, in one browser (starting Chromium costs seconds)."""
    data = json.loads((ROOT / "counterexamples" / "rs-no-expectations.json").read_text())
    copy = tmp_path / HOSTILE_FILE
    copy.write_text(json.dumps(data | {"message": HOSTILE, "engine": HOSTILE}))
    from_cli = tmp_path / "cli.html"
    assert main(["replay", str(copy), "--format", "html", "--out", str(from_cli)]) == 1
    from_model = tmp_path / "model.html"
    from_model.write_text(render_html.render(*hostile(), HOSTILE))
    with Chromium() as browser:
        for name, trace, result in cases(lasso):
            path = tmp_path / f"{name}.html"
            path.write_text(render_html.render(trace, result, name))
            check_report(browser, path, trace, result)
        page = browser.open(f"{path.as_uri()}#step-2", visible_after("ArrowRight"))
        assert json.loads(page["probe"])[2] == ["step-3"]
        page = browser.open(f"{path.as_uri()}#step-0", visible_after("ArrowLeft"))
        assert json.loads(page["probe"])[2] == ["step-0"]
        for path in (from_cli, from_model):
            page = browser.open(f"{path.as_uri()}#step-1", "String(window.__kspec_pwned)")
            assert page["probe"] == "undefined" and page["title"] != "PWNED", f"{path.name}: a script from the data ran"
            assert flat(HOSTILE) in flat(page["text"]), f"{path.name}: the value does not read as text"
    assert f"create pods default/{flat(HOSTILE)} (labels app={flat(HOSTILE)})" in flat(page["text"])


def check_report(browser: Chromium, path: Path, trace: Trace, result: ReplayResult) -> None:
    """Self-contained; opened at its violation, it shows that step alone, with the violation and the verdict."""
    html = path.read_text()
    assert not re.search(r"\bsrc=|<link|@import|url\(|https?://", html), f"{path.name}: the report loads something"
    at = result.violation_step if result.violation_step is not None else len(result.steps)
    page = browser.open(f"{path.as_uri()}#step-{at}", VISIBLE)
    assert json.loads(page["probe"]) == [len(result.steps) + 1, 2, [f"step-{at}"]], path.name
    assert f"Step {at}: " in page["text"] and flat(result.summary) in flat(page["text"]), path.name
    assert flat(result.message) in flat(page["text"].split(f"Step {at}: ", 1)[1]), path.name


# --- itf -----------------------------------------------------------------------------


def itf_problems(data: Any) -> list[str]:
    """What breaks ADR-015's structure (every integer a #bigint, as its 2023-09-14 revision writes them)."""
    problems: list[str] = []
    if not isinstance(data, dict) or set(data) - {"#meta", "params", "vars", "states", "loop"}:
        return ["the trace is not an object of #meta, params, vars, states, loop"]
    if not isinstance(data.get("#meta", {}), dict):
        problems.append("#meta: not an object")
    variables = data.get("vars")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables) or len(set(variables)) != len(variables):
        return [*problems, "vars: not a list of distinct strings"]
    states = data.get("states")
    if not isinstance(states, list) or not states:
        return [*problems, "states: not a non-empty list"]
    for i, state in enumerate(states):
        if not isinstance(state, dict) or set(state) - {"#meta"} != set(variables):
            problems.append(f"states[{i}]: does not define exactly the vars")
            continue
        if state.get("#meta", {}).get("index") != i:
            problems.append(f"states[{i}].#meta.index is not {i}")
        for var in variables:
            itf_expr(state[var], f"states[{i}].{var}", problems)
    loop = data.get("loop")
    if "loop" in data and (type(loop) is not int or not 0 <= loop < len(states)):
        problems.append(f"loop: {loop!r} is not the index of a state")
    return problems


def itf_expr(v: Any, where: str, problems: list[str]) -> None:
    if isinstance(v, (bool, str)):
        return
    if isinstance(v, list):
        for i, x in enumerate(v):
            itf_expr(x, f"{where}[{i}]", problems)
        return
    if not isinstance(v, dict):
        problems.append(f"{where}: {type(v).__name__} is not an ITF expression")
        return
    tagged = [k for k in v if k.startswith("#")]
    if not tagged:
        for k, x in v.items():
            itf_expr(x, f"{where}.{k}", problems)
        return
    (tag,) = tagged if len(v) == 1 else [None]
    if tag == "#bigint" and isinstance(v[tag], str) and re.fullmatch(r"-?[0-9]+", v[tag]):
        return
    if tag in ("#tup", "#set") and isinstance(v[tag], list):
        itf_expr(v[tag], where + tag, problems)
    elif tag == "#map" and isinstance(v[tag], list) and all(isinstance(p, list) and len(p) == 2 for p in v[tag]):
        itf_expr([x for p in v[tag] for x in p], where + tag, problems)
    else:
        problems.append(f"{where}: malformed {tag or 'object with # keys'}")


def test_itf_of_every_counterexample_follows_the_adr(lasso: Path) -> None:
    for name, trace, result in cases(lasso):
        text = render_itf.render(trace, result, name)
        data = json.loads(text)
        assert itf_problems(data) == [], name
        states = data["states"]
        assert len(states) == len(result.steps) + 1 and data["#meta"]["format"] == "ITF"
        assert ("loop" in data) == (trace.loop_start is not None) and data.get("loop") == trace.loop_start
        for state, step in zip(states[1:], result.steps, strict=True):
            assert (state["action"]["component"], state["action"]["name"]) == (step.action.component, step.action.name)
            assert [k for k, _ in state["objects"]["pods"]["#map"]] == list(step.state.api.objects.pods)
            assert state["clock"] == {"#bigint": str(step.state.clock)}
        if trace.loop_start is not None:  # the loop closes: the last state is the one the loop starts from
            assert {**states[-1], "#meta": 0, "action": 0} == {**states[trace.loop_start], "#meta": 0, "action": 0}
        for line in text.splitlines()[1:]:
            if line.startswith("    {"):
                state = json.loads(line.strip().rstrip(","))
                assert line.strip().rstrip(",") == json.dumps(state, sort_keys=True, separators=(",", ":"))


def test_itf_values_follow_the_mapping_the_module_documents() -> None:
    trace, result = replayed(ROOT / "counterexamples" / "kubelet-stale-relist.json")
    data = render_itf.to_itf(trace, result, "t.json")
    assert data["states"][0]["action"] == {"component": "", "name": "init", "params": {"#map": []}}
    assert data["states"][1]["action"]["params"] == {"#map": [["pod", "default/db-0"]]}
    assert data["states"][-1]["#meta"]["verdict"].startswith("VIOLATED identity-runs-once: pod default/db-0 runs twice")
    pod = dict(map(tuple, data["states"][0]["objects"]["pods"]["#map"]))["default/db-0"]
    assert pod["meta"]["deletion_timestamp"] == {"tag": "None", "value": {"#tup": []}}
    assert pod["meta"]["labels"]["#map"] and pod["spec"]["containers"][0]["name"] == "app"
    machine = dict(map(tuple, data["states"][0]["machines"]["#map"]))["node-1"]
    assert machine["sandboxes"]["#map"][0][0] == {"#bigint": "5"} and machine["up"] is True


# --- dot -----------------------------------------------------------------------------


def graphviz(path: Path) -> dict[str, Any]:
    """Graphviz's reading of a DOT file (``dot -Tjson``)."""
    dot = shutil.which("dot")
    assert dot, "Graphviz's dot is needed to check DOT output: install it with apt-get install -y graphviz (.ci/run does this)"
    proc = subprocess.run([dot, "-Tjson", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and not proc.stderr, f"{path.name}: {proc.stderr}"
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def unescape(label: str) -> str:
    """A DOT escString as it is drawn: ``\\n`` a line break, ``\\\\`` a backslash."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), label)


def test_dot_of_every_counterexample_is_read_by_graphviz(tmp_path: Path, lasso: Path) -> None:
    for name, trace, result in cases(lasso):
        path = tmp_path / f"{name}.dot"
        path.write_text(render_dot.render(trace, result, name))
        graph = graphviz(path)
        nodes = {o["_gvid"]: o for o in graph["objects"]}
        edges = graph["edges"]
        distinct = {trace.initial_digest, *(s.digest for s in trace.steps)}
        assert len(nodes) == len(distinct) and len(edges) == len(result.steps), name
        steps_of = {gvid: re.findall(r"^steps? ([0-9]+(?:, [0-9]+)*)", unescape(o["label"]))[0] for gvid, o in nodes.items()}
        red = [o for o in nodes.values() if o.get("color") == "red"]
        if result.reproduced:
            assert len(red) == 1 and "\nVIOLATED" in unescape(red[0]["label"]), name
            assert str(result.violation_step) in steps_of[red[0]["_gvid"]].split(", ")
        else:  # the lasso: its loop is not fair, so the property is not violated
            assert red == [] and any("\nNOT VIOLATED: " in unescape(o["label"]) for o in nodes.values()), name
        dashed = [e for e in edges if e.get("style") == "dashed"]
        if trace.loop_start is None:
            assert dashed == [], name
        else:
            (back,) = dashed
            assert str(trace.loop_start) in steps_of[back["head"]].split(", ") and unescape(back["label"]).startswith(f"{len(result.steps)}. ")


def test_dot_labels_read_as_their_text(tmp_path: Path) -> None:
    trace, result = hostile()
    path = tmp_path / "hostile.dot"
    path.write_text(render_dot.render(trace, result, HOSTILE_FILE))
    graph = graphviz(path)
    labels = [unescape(e["label"]) for e in graph["edges"]]
    assert labels[0] == f"1. user\nUserScaleReplicaSet rs={HOSTILE} replicas=3"
    assert unescape(graph["label"]).startswith(f"kspec replay {HOSTILE_FILE}: ")


def test_the_explorers_graph_is_read_by_graphviz(tmp_path: Path) -> None:
    graph_file = tmp_path / "services.dot"
    assert main(["check", "--engine", "explore", "--scenario", "services", "--depth", "2", "--graph", str(graph_file), "--out", str(tmp_path)]) == 0
    graph = graphviz(graph_file)
    assert len(graph["objects"]) > 1 and all(e["label"] for e in graph["edges"])


# --- the command line ----------------------------------------------------------------


def test_replay_writes_each_format_to_stdout_or_atomically_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = str(ROOT / "counterexamples" / "rs-no-expectations.json")
    trace, result = replayed(Path(source))
    assert main(["replay", source]) == 1
    default = capsys.readouterr().out
    assert main(["replay", source, "--format", "text"]) == 1
    assert capsys.readouterr().out == default == render_formats.render("text", trace, result, source)
    for fmt in render_formats.FORMATS:
        out = tmp_path / fmt / "replay.out"
        assert main(["replay", source, "--format", fmt, "-o", str(out)]) == 1
        printed = capsys.readouterr()
        assert printed.out == "" and printed.err.startswith(f"wrote {out} ({fmt}): violation reproduces at step 7")
        assert out.read_text() == render_formats.render(fmt, trace, result, source)
        assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left behind
    assert main(["replay", source, "--format", "mermaid", "--variant", "default"]) == 0
    assert "violation no longer reproduces" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "svg"], "Invalid value for '--format': 'svg' is not one of 'text', 'mermaid', 'html', 'itf', 'dot'."),
        (["--format", "dot", "-o", "{blocker}/x.dot"], "{blocker}/x.dot: cannot write: "),
    ],
)
def test_bad_format_or_output_path_is_one_line_and_exit_code_two(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = [a.replace("{blocker}", str(blocker)) for a in args]
    assert main(["replay", str(ROOT / "counterexamples" / "rs-no-expectations.json"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kspec: error: {expected.replace('{blocker}', str(blocker))}") and err.count("\n") == 1


def test_renderings_are_the_same_in_every_process(lasso: Path) -> None:
    """Another process with another hash seed renders every format of the lasso and of a counterexample byte for byte alike."""
    paths = [lasso, ROOT / "counterexamples" / "kubelet-stale-relist.json"]
    script = (
        "import json, sys\n"
        "from checker import trace, render_formats\n"
        "from checker.replay import replay\n"
        "out = {}\n"
        "for p in sys.argv[1:]:\n"
        "    t = trace.load(p); r = replay(t, p)\n"
        "    out[p] = {f: render_formats.render(f, t, r, p) for f in render_formats.FORMATS}\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    proc = subprocess.run([sys.executable, "-c", script, *map(str, paths)], capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    other = json.loads(proc.stdout)
    for p in paths:
        trace, result = replayed(p)
        assert other[str(p)] == {f: render_formats.render(f, trace, result, str(p)) for f in render_formats.FORMATS}


def test_the_readme_diagram_is_real_output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"`(kspec replay \S+ --format mermaid)`\s.*?```mermaid\n(.*?)```", readme, flags=re.S)
    assert block is not None
    assert main(block.group(1).split()[1:]) == 1
    assert capsys.readouterr().out == block.group(2)
