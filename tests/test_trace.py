"""The trace format: what one engine writes, every other reads back unchanged, and bad files fail in one line.

A recorded trace of the ``basic`` scenario survives write and load, and its
text is the same in every process. Each kind of damage a trace file can
suffer (cut short, edited by hand, written by a newer kspec, not a trace at
all) is a TraceError naming the file and the field; for any JSON whatsoever,
``parse`` returns a trace or raises TraceError, never anything else.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import trace
from checker.trace import Step, Trace, TraceError
from spec import SPEC_VERSION
from spec.canonical import digest, to_data
from spec.component import Action
from spec.errors import InvalidInputError
from spec.model import KubeModel
from spec.scenarios import get_scenario

ROOT = Path(__file__).resolve().parent.parent
STEPS = 10

RECORD_SCRIPT = f"""
import sys
from checker import trace
from spec.model import KubeModel
from spec.scenarios import get_scenario
model = KubeModel(get_scenario("basic"))
state = model.initial_states()[0]
actions = []
for _ in range({STEPS}):
    enabled = model.actions(state)
    if not enabled:
        break
    actions.append(enabled[0])
    state = model.next_state(state, enabled[0])
sys.stdout.write(trace.dumps(trace.record(model, actions, engine="test", seed=7, invariant="inv", violation_step=2, message="boom")))
"""


@functools.cache
def basic_actions() -> tuple[Action, ...]:
    """The first enabled action at each of up to STEPS steps of the basic scenario."""
    model = KubeModel(get_scenario("basic"))
    state = model.initial_states()[0]
    actions: list[Action] = []
    for _ in range(STEPS):
        enabled = model.actions(state)
        if not enabled:
            break
        actions.append(enabled[0])
        state = model.next_state(state, enabled[0])
    return tuple(actions)


@functools.cache
def basic_trace() -> Trace:
    """A counterexample-shaped trace of real basic-scenario steps."""
    return trace.record(KubeModel(get_scenario("basic")), basic_actions(), engine="test", seed=7, invariant="inv", violation_step=2, message="boom")


def valid_data() -> dict[str, Any]:
    """A fresh, mutable copy of the basic trace as JSON data."""
    return copy.deepcopy(trace.to_json(basic_trace()))


def error_for(text: str | bytes, tmp_path: Path, name: str = "t.json") -> str:
    """The one-line TraceError message that loading this file content gives."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(TraceError) as info:
        trace.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


def mutated(**changes: Any) -> str:
    data = valid_data()
    data.update(changes)
    return json.dumps(data)


# --- recording and round trips ------------------------------------------------


def test_record_replays_the_actions_and_digests_each_state() -> None:
    model = KubeModel(get_scenario("basic"))
    t = basic_trace()
    assert len(t.steps) >= 3
    assert t.actions() == basic_actions()
    state = model.initial_states()[0]
    assert t.initial_digest == digest(state)
    for step in t.steps:
        state = model.next_state(state, step.action)
        assert step.digest == digest(state)
    assert len({step.digest for step in t.steps} | {t.initial_digest}) > 1
    assert (t.scenario, t.variant, t.engine, t.seed, t.spec_version) == ("basic", "default", "test", 7, SPEC_VERSION)
    assert (t.invariant, t.violation_step, t.message) == ("inv", 2, "boom")
    assert t.bounds == to_data(get_scenario("basic").bounds)


def test_round_trip_through_a_file_is_exact(tmp_path: Path) -> None:
    t = basic_trace()
    path = tmp_path / "deep" / "dir" / "t.json"
    trace.write(t, path)
    loaded = trace.load(path)
    assert loaded == t
    assert loaded.actions() == t.actions()
    assert path.read_text() == trace.dumps(t)
    assert trace.dumps(loaded) == trace.dumps(t)
    assert os.listdir(path.parent) == ["t.json"]


def test_file_has_the_documented_fields_in_order() -> None:
    data = json.loads(trace.dumps(basic_trace()))
    assert list(data) == list(trace.FIELDS)
    assert (data["format"], data["version"]) == ("kspec-trace", 1)
    assert list(data["steps"][0]) == ["component", "action", "params", "digest"]
    assert trace.dumps(basic_trace()).endswith("}\n")


def test_write_replaces_an_existing_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("old contents")
    plain = trace.record(KubeModel(get_scenario("basic")), basic_actions()[:2], engine="walk", seed=None)
    trace.write(plain, path)
    assert trace.load(path) == plain
    trace.write(basic_trace(), path)
    assert trace.load(path) == basic_trace()
    assert os.listdir(tmp_path) == ["t.json"]


def test_dumps_is_the_same_bytes_in_another_process() -> None:
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-c", RECORD_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert result.stdout == trace.dumps(basic_trace())


def test_plain_trace_round_trips_with_nulls() -> None:
    plain = trace.record(KubeModel(get_scenario("basic")), (), engine="walk", seed=None)
    assert (plain.invariant, plain.violation_step, plain.message, plain.steps) == (None, None, "", ())
    assert trace.parse(trace.dumps(plain), "p.json") == plain


def test_params_keep_their_types_and_order() -> None:
    step = Step(Action("user", "Scale", (("rs", "default/web"), ("replicas", 3), ("force", True))), "0" * 32)
    t = attrs.evolve(basic_trace(), steps=(step,), violation_step=1)
    loaded = trace.parse(trace.dumps(t), "t.json")
    assert loaded.steps[0].action.params == (("rs", "default/web"), ("replicas", 3), ("force", True))
    assert type(loaded.steps[0].action.param("force")) is bool


def test_inconsistent_violation_fields_are_refused_when_recording() -> None:
    model = KubeModel(get_scenario("basic"))
    with pytest.raises(InvalidInputError, match="violation_step"):
        trace.record(model, basic_actions()[:2], engine="x", seed=0, invariant="inv", violation_step=3)
    with pytest.raises(InvalidInputError, match="violation_step"):
        trace.record(model, (), engine="x", seed=0, invariant="inv")
    with pytest.raises(InvalidInputError, match="violation_step"):
        trace.record(model, (), engine="x", seed=0, violation_step=0)


# --- bad files -----------------------------------------------------------------


def test_truncated_file(tmp_path: Path) -> None:
    text = trace.dumps(basic_trace())
    message = error_for(text[: len(text) // 2], tmp_path)
    assert "truncated or not valid JSON (line " in message


def test_garbage_is_not_valid_json(tmp_path: Path) -> None:
    assert error_for('{"format": }', tmp_path) == f"{tmp_path / 't.json'}: not valid JSON (line 1, column 12: Expecting value)"


def test_empty_file(tmp_path: Path) -> None:
    assert "empty file" in error_for("", tmp_path)


def test_wrong_type_of_seed(tmp_path: Path) -> None:
    assert error_for(mutated(seed="7"), tmp_path).endswith("t.json: seed: expected an integer or null, got string")


def test_bool_is_not_an_integer(tmp_path: Path) -> None:
    assert error_for(mutated(version=True), tmp_path).endswith("t.json: version: expected an integer, got boolean")
    assert error_for(mutated(seed=False), tmp_path).endswith("t.json: seed: expected an integer or null, got boolean")


def test_params_must_be_an_object_of_scalars(tmp_path: Path) -> None:
    data = valid_data()
    data["steps"][1]["params"] = ["pod"]
    assert error_for(json.dumps(data), tmp_path).endswith("t.json: steps[1].params: expected an object, got list")
    data["steps"][1]["params"] = {"pod": ["default/web-1"]}
    assert error_for(json.dumps(data), tmp_path).endswith("t.json: steps[1].params.pod: expected a string, integer or boolean, got list")
    data["steps"][1]["params"] = {"n": 1.5}
    assert error_for(json.dumps(data), tmp_path).endswith("t.json: steps[1].params.n: expected a string, integer or boolean, got float")


def test_unknown_field_suggests_the_close_match(tmp_path: Path) -> None:
    data = valid_data()
    data["varient"] = data.pop("variant")
    assert "t.json: varient: unknown field; did you mean 'variant'" in error_for(json.dumps(data), tmp_path)
    data = valid_data()
    data["steps"][0]["digets"] = data["steps"][0].pop("digest")
    assert error_for(json.dumps(data), tmp_path).endswith("t.json: steps[0].digets: unknown field; did you mean 'digest'?")
    assert error_for(mutated(colour="red"), tmp_path).endswith("t.json: colour: unknown field; known fields: " + ", ".join(trace.FIELDS))


def test_newer_version_asks_for_an_upgrade(tmp_path: Path) -> None:
    message = error_for(mutated(version=7, new_field=1), tmp_path)
    assert message.endswith("t.json: version: trace format version 7 is newer than this kspec reads (2); upgrade kspec")


def test_wrong_format(tmp_path: Path) -> None:
    assert error_for(mutated(format="kspec-walk"), tmp_path).endswith('t.json: format: expected "kspec-trace", got "kspec-walk"; not a kspec trace')
    assert "not a kspec trace" in error_for("[1, 2]", tmp_path)
    assert "format: missing field" in error_for('{"name": "x"}', tmp_path)


def test_missing_steps(tmp_path: Path) -> None:
    data = valid_data()
    del data["steps"]
    assert error_for(json.dumps(data), tmp_path).endswith("t.json: steps: missing field")
    del data["seed"]
    assert error_for(json.dumps(data), tmp_path).endswith("t.json: seed: missing field (also missing: steps)")


def test_bad_digest(tmp_path: Path) -> None:
    data = valid_data()
    data["steps"][2]["digest"] = "xyz"
    assert error_for(json.dumps(data), tmp_path).endswith('t.json: steps[2].digest: expected 32 lowercase hex characters, got "xyz"')
    message = error_for(mutated(initial_digest="A" * 32), tmp_path)
    assert "initial_digest: expected 32 lowercase hex characters" in message
    message = error_for(mutated(initial_digest="0" * 32 + "\n"), tmp_path)
    assert "initial_digest: expected 32 lowercase hex characters" in message


def test_violation_step_beyond_the_steps(tmp_path: Path) -> None:
    n = len(basic_trace().steps)
    assert trace.parse(mutated(violation_step=n), "t.json").violation_step == n
    message = error_for(mutated(violation_step=n + 1), tmp_path)
    assert message.endswith(f"t.json: violation_step: is {n + 1}, beyond the trace's {n} steps")
    assert "violation_step: expected an integer >= 0 or null, got -1" in error_for(mutated(violation_step=-1), tmp_path)
    assert "violation_step: is null but invariant" in error_for(mutated(violation_step=None), tmp_path)
    assert "violation_step: is 2 but invariant is null" in error_for(mutated(invariant=None), tmp_path)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    data = trace.dumps(basic_trace()).encode()
    message = error_for(data[:10] + b"\xff\xfe" + data[10:], tmp_path)
    assert message.endswith("t.json: not UTF-8 text (byte 0xff at offset 10)")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(TraceError) as info:
        trace.load(path)
    assert str(info.value) == f"{path}: cannot read: No such file or directory"


def test_duplicate_keys_and_nan_are_refused(tmp_path: Path) -> None:
    text = trace.dumps(basic_trace())
    assert 'duplicate key "seed"' in error_for(text.replace('"seed": 7', '"seed": 7, "seed": 8'), tmp_path)
    assert "NaN is not a JSON number" in error_for(text.replace('"seed": 7', '"seed": NaN'), tmp_path)


def test_deeply_nested_json_is_refused_not_a_crash() -> None:
    with pytest.raises(TraceError, match="nested too deeply"):
        trace.parse("[" * 100_000 + "]" * 100_000, "t.json")


def test_message_is_one_line_even_for_a_file_name_with_a_newline() -> None:
    with pytest.raises(TraceError) as info:
        trace.parse("[]", "odd\nname.json")
    assert str(info.value).startswith("odd name.json: not a kspec trace")


# --- any input: a Trace or a TraceError ----------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def parse_or_trace_error(text: str) -> None:
    """parse returns a Trace that round-trips, or raises a one-line TraceError."""
    try:
        result = trace.parse(text, "t.json")
    except TraceError as e:
        assert "\n" not in str(e)
        assert str(e).startswith("t.json: ")
        return
    assert isinstance(result, Trace)
    assert trace.parse(trace.dumps(result), "t.json") == result


@settings(max_examples=150)
@given(JSON_VALUES)
def test_any_json_value_parses_or_fails_cleanly(value: Any) -> None:
    parse_or_trace_error(json.dumps(value))


@settings(max_examples=100)
@given(st.text(max_size=40))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    parse_or_trace_error(text)


def field_paths(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every place in a trace's JSON a value sits: top-level fields, step fields, parameters."""
    paths: list[tuple[Any, ...]] = [(key,) for key in data]
    for i, step in enumerate(data["steps"]):
        paths.append(("steps", i))
        paths += [("steps", i, key) for key in step]
        paths += [("steps", i, "params", key) for key in step["params"]]
    return paths


@settings(max_examples=200)
@given(st.data(), JSON_VALUES, st.booleans())
def test_any_mutation_of_a_valid_trace_parses_or_fails_cleanly(data: st.DataObject, value: Any, delete: bool) -> None:
    trace_data = valid_data()
    path = data.draw(st.sampled_from(field_paths(trace_data)))
    parent: Any = trace_data
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    parse_or_trace_error(json.dumps(trace_data))


@settings(max_examples=100)
@given(st.data())
def test_any_prefix_of_a_valid_trace_fails_cleanly(data: st.DataObject) -> None:
    text = trace.dumps(basic_trace())
    cut = data.draw(st.integers(0, len(text) - 2))
    with pytest.raises(TraceError) as info:
        trace.parse(text[:cut], "t.json")
    assert "\n" not in str(info.value)


# --- lassos (format version 2) ------------------------------------------------


def lasso_data(loop_start: Any = 3) -> dict[str, Any]:
    """A version-2 trace: the basic steps with a loop from step ``loop_start`` (the digests need not close it to parse)."""
    plain = attrs.evolve(basic_trace(), invariant=None, violation_step=None, message="eventually-converges: ...")
    return copy.deepcopy(trace.to_json(attrs.evolve(plain, loop_start=3)) | {"loop_start": loop_start})


def test_a_lasso_is_version_2_with_loop_start_before_the_steps() -> None:
    data = lasso_data()
    assert list(data) == list(trace.LASSO_FIELDS) and data["version"] == 2 and data["loop_start"] == 3
    parsed = trace.parse(json.dumps(data), "t.json")
    assert parsed.loop_start == 3 and trace.to_json(parsed) == data
    assert trace.to_json(basic_trace())["version"] == 1  # a trace without a loop stays readable by every kspec


def test_bad_loops_are_one_line_errors(tmp_path: Path) -> None:
    n = len(basic_trace().steps)
    assert error_for(json.dumps(lasso_data(n)), tmp_path).endswith(
        f"t.json: loop_start: is {n}; a loop starts before the last of the trace's {n} steps"
    )
    assert "loop_start: expected an integer" in error_for(json.dumps(lasso_data("3")), tmp_path)
    assert "only an eventual property's trace ends in a loop" in error_for(
        json.dumps(lasso_data() | {"invariant": "inv", "violation_step": 2}), tmp_path
    )
    missing = lasso_data()
    del missing["loop_start"]
    assert error_for(json.dumps(missing), tmp_path).endswith("t.json: loop_start: missing field")
    assert "t.json: loop_start: unknown field" in error_for(mutated(loop_start=3), tmp_path)  # version 1 has no loops
