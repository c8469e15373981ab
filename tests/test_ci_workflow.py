"""The example GitHub Actions workflow in docs/: a valid workflow that keeps what kspec check writes."""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from checker.cli import check, prove
from checker.config import cli_default

DOCS = Path(__file__).resolve().parent.parent / "docs"
WORKFLOW = DOCS / "github-actions.yml"


def _workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def _steps() -> list[dict[str, Any]]:
    jobs = _workflow()["jobs"]
    assert isinstance(jobs, dict) and jobs
    (job,) = jobs.values()
    assert isinstance(job["runs-on"], str) and isinstance(job["steps"], list)
    for step in job["steps"]:
        assert isinstance(step, dict) and ("uses" in step) != ("run" in step), step
    return job["steps"]


def _junit_file() -> str:
    (command,) = [s["run"] for s in _steps() if "run" in s and s["run"].startswith("kspec check")]
    words = shlex.split(command)
    return words[words.index("--junit") + 1]


def test_it_runs_on_every_pull_request() -> None:
    data = _workflow()
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert isinstance(triggers, dict) and "pull_request" in triggers
    assert data["permissions"]["checks"] == "write"


def test_it_installs_kspec_then_runs_check_with_a_junit_report() -> None:
    runs = [s["run"] for s in _steps() if "run" in s]
    install = next(i for i, r in enumerate(runs) if "pip install" in r)
    checking = next(i for i, r in enumerate(runs) if r.startswith("kspec check"))
    assert install < checking
    options = {o for p in check.params for o in p.opts}
    (command,) = [r for r in runs if r.startswith("kspec check")]
    assert "--junit" in options and {w for w in shlex.split(command) if w.startswith("--")} <= options
    assert _junit_file().endswith(".xml")


def test_the_prove_step_runs_after_the_check_with_options_prove_takes_and_its_json_is_kept() -> None:
    runs = [s["run"] for s in _steps() if "run" in s]
    checking = next(i for i, r in enumerate(runs) if r.startswith("kspec check"))
    (proving,) = [i for i, r in enumerate(runs) if r.startswith("kspec prove")]
    words = shlex.split(runs[proving])
    assert checking < proving and {w for w in words if w.startswith("--")} <= {o for p in prove.params for o in p.opts}
    (upload,) = [s for s in _steps() if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert words[words.index("--json") + 1] in upload["with"]["path"].split()


def test_the_upload_step_keeps_the_folder_kspec_writes_counterexamples_to_and_the_report() -> None:
    (upload,) = [s for s in _steps() if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["uses"] == "actions/upload-artifact@v4"
    assert re.fullmatch(r"\$\{\{ !cancelled\(\) \}\}|always\(\)|failure\(\)", upload["if"])
    paths = [p.strip().rstrip("/") for p in upload["with"]["path"].splitlines() if p.strip()]
    assert cli_default("out_dir") in paths  # the default of kspec check --out: the test fails if the two drift
    assert _junit_file() in paths


def test_the_reports_are_published_from_the_same_files() -> None:
    (publish,) = [s for s in _steps() if s.get("uses", "").startswith("mikepenz/action-junit-report@")]
    (prove_run,) = [s["run"] for s in _steps() if "run" in s and s["run"].startswith("kspec prove")]
    words = shlex.split(prove_run)
    reports = [_junit_file(), words[words.index("--junit") + 1]]
    assert all(fnmatch.fnmatch(report, publish["with"]["report_paths"]) for report in reports) and publish["if"]
    (upload,) = [s for s in _steps() if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert set(reports) <= set(upload["with"]["path"].split())


def test_docs_ci_shows_the_workflow_as_it_is() -> None:
    text = (DOCS / "ci.md").read_text()
    block = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)[0]
    assert block == WORKFLOW.read_text()
    assert f"{cli_default('out_dir')}/" in text
