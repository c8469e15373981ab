"""The committed counterexamples: each replays to its recorded verdict, the same way in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checker import trace as tracefmt
from checker.cli import main
from checker.render import format_replay
from checker.replay import replay
from spec.variants import DEFAULT, VARIANTS

CORPUS = Path(__file__).resolve().parent.parent / "counterexamples"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())


def test_one_trace_per_variant() -> None:
    assert sorted(EXPECTED) == sorted(f"{name}.json" for name in VARIANTS if name != DEFAULT.name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_trace_shows_the_bug_its_variant_is_catalogued_for(name: str) -> None:
    """Each committed trace breaks the first invariant its variant lists, on its witness scenario."""
    trace = tracefmt.load(CORPUS / name)
    variant = VARIANTS[name.removesuffix(".json")]
    assert (trace.variant, trace.scenario, trace.invariant) == (variant.name, variant.witness, variant.breaks[0])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_replay_reproduces_the_recorded_violation(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected = EXPECTED[name]
    trace = tracefmt.load(CORPUS / name)
    result = replay(trace, name)
    assert result.reproduced and result.violation_step == expected["step"]
    assert trace.invariant == expected["invariant"]
    assert main(["replay", str(CORPUS / name), "--no-tables"]) == expected["exit"]
    assert f"violation reproduces at step {expected['step']}" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_txt_rendering_is_current(name: str) -> None:
    trace = tracefmt.load(CORPUS / name)
    text = format_replay(trace, replay(trace, name), name, tables=False) + "\n"
    assert (CORPUS / name.replace(".json", ".txt")).read_text() == text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_default_variant_does_not_reproduce(name: str) -> None:
    """Replayed against today's Kubernetes, no recorded bug reproduces (exit 0)."""
    result = replay(tracefmt.load(CORPUS / name), name, variant="default")
    assert not result.reproduced


def test_replay_output_is_the_same_under_any_hash_seed() -> None:
    files = [str(CORPUS / n) for n in sorted(EXPECTED)]
    code = "import sys; from checker.cli import main; [main(['replay', f]) for f in sys.argv[1:]]"
    outs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.append(subprocess.run([sys.executable, "-c", code, *files], env=env, capture_output=True, text=True, check=True).stdout)
    assert outs[0] == outs[1] and "violation reproduces" in outs[0]
