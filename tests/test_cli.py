"""The kspec command line at this stage: scenarios and simulate, exit codes, determinism."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli import main
from spec.scenarios import CLUSTERS, SCENARIOS


def kspec(*args: str, hashseed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    return subprocess.run([sys.executable, "-m", "checker", *args], env=env, capture_output=True, text=True, check=False)


def test_scenarios_lists_every_built_in_scenario_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    built_in, clusters = capsys.readouterr().out.split("\n\n")
    lines = built_in.splitlines()
    assert [line.split()[0] for line in lines] == list(SCENARIOS)
    assert all(SCENARIOS[line.split()[0]].summary in line for line in lines)
    header, *lines = clusters.splitlines()
    assert header.startswith("small clusters, not in the default sweep") and [line.split()[0] for line in lines] == list(CLUSTERS)
    assert all(CLUSTERS[line.split()[0]].summary in line for line in lines)


def test_simulate_prints_the_steps_and_the_cluster_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--scenario", "basic", "--steps", "200", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("scenario basic, variant default, seed 1:")
    for header in ("NAMESPACE   NAME", "READY", "STATUS", "RESTARTS", "IP", "NODE", "# nodes", "# replicasets", "# services", "ENDPOINTS"):
        assert header in out
    assert "Running" in out and "10.244." in out


def test_simulate_output_is_identical_across_processes_and_hash_seeds() -> None:
    """The same seed prints the same text in every process, whatever PYTHONHASHSEED is."""
    runs = [kspec("simulate", "--scenario", "node-failure", "--steps", "150", "--seed", "9", hashseed=h) for h in ("0", "1", "random")]
    assert all(r.returncode == 0 for r in runs)
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    steps = re.search(r"seed 9: (\d+) steps", runs[0].stdout)
    assert steps is not None and int(steps.group(1)) >= 20


def test_different_seeds_take_different_walks(capsys: pytest.CaptureFixture[str]) -> None:
    main(["simulate", "--scenario", "scale", "--steps", "40", "--seed", "1"])
    first = capsys.readouterr().out
    main(["simulate", "--scenario", "scale", "--steps", "40", "--seed", "2"])
    assert capsys.readouterr().out != first


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["simulate", "--scenario", "bsci"], "kspec: error: unknown scenario 'bsci'; did you mean 'basic'?"),
        (["simulate", "--variant", "defualt"], "kspec: error: unknown variant 'defualt'; did you mean 'default'?"),
        (["simulate", "--steps", "many"], "kspec: error: Invalid value for '--steps': 'many' is not a valid integer range."),
        (["simulat"], "kspec: error: No such command 'simulat'. Did you mean 'simulate'?"),
        (["simulate", "--sed", "1"], "kspec: error: No such option '--sed'. (Did you mean one of: '--seed', '--steps'?)"),
    ],
)
def test_bad_usage_is_one_line_and_exit_code_two(args: list[str], expected: str) -> None:
    """Exit code 2 and one clear line naming what was wrong and the close matches; never a traceback."""
    result = kspec(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == expected
    assert "Traceback" not in result.stderr


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "simulate" in capsys.readouterr().out


def test_the_readme_example_is_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    """Every line the README shows of `kspec simulate` (apart from elisions) is printed by it."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = re.search(r"```\n\$ kspec (simulate [^\n]*)\n(.*?)```", readme, flags=re.S)
    assert block is not None
    assert main(block.group(1).split()) == 0
    printed = capsys.readouterr().out.splitlines()
    shown = [line for line in block.group(2).splitlines() if line.strip() != "..."]
    assert shown and all(line in printed for line in shown)
