"""The model interface and its action catalogue.

The catalogue enumerates the enabled actions of a state in one stable order,
identical in every process whatever PYTHONHASHSEED is; ``next_state`` refuses
an action that is not enabled; every action's parameters are JSON values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from checker.simulate import random_walk
from spec import catalogue
from spec.canonical import digest, to_data
from spec.component import Action
from spec.errors import ActionNotEnabledError, UnknownNameError
from spec.frozen import FrozenMap
from spec.model import KubeModel, Model
from spec.scenarios import SCENARIOS, get_scenario
from spec.state import State


def test_kube_model_implements_the_model_interface() -> None:
    """Engines need initial_states, actions, next_state and successors, and nothing else."""
    model: Model[State, Action] = KubeModel(get_scenario("basic"))
    (s0,) = model.initial_states()
    actions = model.actions(s0)
    assert actions and [a for a, _ in model.successors(s0)] == actions
    assert model.next_state(s0, actions[0]) == model.successors(s0)[0][1]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_action_parameter_is_json(name: str) -> None:
    """Actions go into JSON traces unchanged."""
    model = KubeModel(get_scenario(name))
    walk = random_walk(model, 150, seed=7)
    for action, _ in walk.steps:
        assert json.loads(json.dumps(action.to_json())) == action.to_json()


def test_successors_never_stutter() -> None:
    """A step that leaves the state unchanged (a retry from a stale view) is not an enabled action."""
    model = KubeModel(get_scenario("scale"))
    walk = random_walk(model, 200, seed=3)
    for s in [walk.initial] + [st for _, st in walk.steps[::10]]:
        for _, nxt in model.successors(s):
            assert nxt != s


def test_next_state_refuses_actions_that_are_not_enabled() -> None:
    """The catalogue's guard is checked on every step a trace or a test takes."""
    model = KubeModel(get_scenario("basic"))
    (s0,) = model.initial_states()
    with pytest.raises(ActionNotEnabledError, match="not enabled"):
        model.next_state(s0, Action("scheduler", "SchedulerBind", (("pod", "default/nope"),)))
    with pytest.raises(ActionNotEnabledError, match="takes parameters"):
        model.next_state(s0, Action("scheduler", "SchedulerBind", (("node", "x"),)))


def test_unknown_components_and_actions_suggest_close_matches() -> None:
    """Bad names in a trace get the close matches (difflib), never a KeyError."""
    model = KubeModel(get_scenario("basic"))
    (s0,) = model.initial_states()
    with pytest.raises(UnknownNameError, match="did you mean 'scheduler'"):
        model.next_state(s0, Action("schedular", "SchedulerBind"))
    with pytest.raises(UnknownNameError, match="did you mean 'SchedulerBind'"):
        model.next_state(s0, Action("scheduler", "SchedulerBnd"))


def test_catalogue_order_groups_components_in_a_fixed_order() -> None:
    """Control plane first, then each node's kubelet and kube-proxy, then user, faults, clock."""
    model = KubeModel(get_scenario("node-failure"))
    names = [name for name, _ in model.ctx.components]
    assert names[:6] == [
        "scheduler",
        "replicaset-controller",
        "endpoints-controller",
        "node-lifecycle-controller",
        "taint-eviction-controller",
        "garbage-collector",
    ]
    assert names[6:12] == [f"{c}/node-{i}" for i in (1, 2, 3) for c in ("kubelet", "kube-proxy")]
    assert names[12:] == ["user", "fault", "clock"]
    order = {name: i for i, name in enumerate(names)}
    walk = random_walk(model, 60, seed=1)
    for _, s in walk.steps:
        positions = [order[a.component] for a in model.actions(s)]
        assert positions == sorted(positions)


def test_equal_states_are_equal_values() -> None:
    """Two walks with the same seed reach equal, equally hashed, equally serialised states."""
    a = random_walk(KubeModel(get_scenario("capacity")), 120, seed=11).final
    b = random_walk(KubeModel(get_scenario("capacity")), 120, seed=11).final
    assert a == b and hash(a) == hash(b) and digest(a) == digest(b)
    assert a is not b


def test_frozen_map_iterates_in_key_order_whatever_the_insertion_order() -> None:
    """The canonical order of every mapping in the state."""
    m = FrozenMap({"b": 1, "a": 2}).set("c", 3).set("0", 4).remove("b")
    assert list(m) == ["0", "a", "c"] and m == FrozenMap({"c": 3, "0": 4, "a": 2})
    assert to_data(m) == {"0": 4, "a": 2, "c": 3}


WALK_DIGESTS = textwrap.dedent(
    """
    import json
    from checker.simulate import random_walk
    from spec.canonical import digest
    from spec.model import KubeModel
    from spec.scenarios import SCENARIOS
    out = {}
    for name, scenario in SCENARIOS.items():
        model = KubeModel(scenario)
        walk = random_walk(model, 120, seed=5)
        out[name] = [str(a) for a, _ in walk.steps] + [digest(walk.final)] + [str(a) for a in model.actions(walk.final)]
    print(json.dumps(out, sort_keys=True))
    """
)


def _run(hashseed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    return subprocess.run([sys.executable, "-c", WALK_DIGESTS], env=env, capture_output=True, text=True, check=True).stdout


def test_enumeration_and_states_are_identical_in_every_process() -> None:
    """Sort before iterating; fingerprint from a canonical serialisation, never hash() of strings."""
    assert _run("0") == _run("4242") == _run("random")


def test_is_quiescent_after_settling() -> None:
    """A settled scenario has no component work left and no armed timer."""
    model = KubeModel(get_scenario("scale"))
    (s0,) = model.initial_states()
    assert model.is_quiescent(s0)
    assert not catalogue.successors(model.ctx, s0, include_environment=False)
    assert not model.is_quiescent(KubeModel(get_scenario("basic")).initial_states()[0])
