"""docs/model-interface.md stays true: its code runs, and a user's component joins the catalogue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from checker.simulate import random_walk
from spec.model import KubeModel
from spec.objects import FAILED
from spec.scenarios import get_scenario

DOC = Path(__file__).resolve().parent.parent / "docs" / "model-interface.md"


def code_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def namespace() -> dict[str, Any]:
    env: dict[str, Any] = {"__name__": "model_interface_doc"}
    exec(compile(code_blocks()[0], str(DOC), "exec"), env)
    return env


def test_the_documented_controller_runs_beside_the_built_in_ones(namespace: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The second block of the document runs as written and the new controller acts."""
    exec(compile(code_blocks()[1], str(DOC), "exec"), dict(namespace))
    assert "pod-gc PodGCDelete pod=default/batch" in capsys.readouterr().out


def test_the_documented_controller_deletes_every_failed_pod_it_sees(namespace: dict[str, Any]) -> None:
    """Its action is in the catalogue with the others, guarded by its own view, and its memory is its own."""
    model = KubeModel(attrs.evolve(get_scenario("capacity"), settle=True), extra=[namespace["POD_GC"]])
    assert ("pod-gc", namespace["POD_GC"]) in model.ctx.components
    walk = random_walk(model, 400, seed=1)
    deletions = [(a, s) for a, s in walk.steps if a.name == "PodGCDelete"]
    assert deletions
    for action, state in deletions:
        assert action.param("pod") not in state.api.objects.pods
        assert state.views["pod-gc"].memory.deleted >= 1
    for state in [s for _, s in walk.steps]:
        for key, pod in state.views["pod-gc"].cache.pods.items():
            if pod.status.phase == FAILED and key in state.api.objects.pods:
                assert any(a.name == "PodGCDelete" and a.param("pod") == key for a in model.actions(state))


def test_a_model_written_from_scratch_fits_the_interface() -> None:
    """The counter of the document satisfies the four methods an engine needs."""
    env: dict[str, Any] = {}
    exec(compile(code_blocks()[2], str(DOC), "exec"), env)
    counter = env["Counter"](3)
    (state,) = counter.initial_states()
    seen = [state]
    while counter.successors(state):
        ((_, state),) = counter.successors(state)
        seen.append(state)
    assert seen == [0, 1, 2, 3] and counter.actions(3) == []
