"""The counterexample-trace format: one versioned JSON file shared by every engine.

Every engine (random walks, Hypothesis, the explicit-state and symbolic
checkers) writes what it found as a trace, and replay, rendering and the
committed ``counterexamples/`` read it back. A trace is one JSON object whose
fields are exactly these, in this order::

    {
      "format": "kspec-trace",          // always this string
      "version": 1,                     // the trace format version (FORMAT_VERSION)
      "spec_version": "1",              // spec.SPEC_VERSION when it was recorded
      "scenario": "basic",              // the scenario's name
      "bounds": {...},                  // to_data(scenario.bounds) when it was recorded
      "variant": "default",             // the variant's name
      "engine": "hypothesis",           // which engine found it (any non-empty string)
      "seed": 0,                        // the engine's seed, or null
      "invariant": "rs-no-overshoot",   // the violated invariant, or null for a plain trace
      "violation_step": 3,              // the step after which it is violated (0: the initial state), or null
      "message": "text",                // the violation's message ("" if none)
      "initial_digest": "<32 hex>",     // spec.canonical.digest of the initial state
      "steps": [                        // the actions, in order, each with the digest of the state after it
        {"component": "scheduler", "action": "SchedulerBind", "params": {"pod": "default/web-1"}, "digest": "<32 hex>"}
      ]
    }

``violation_step`` is null exactly when ``invariant`` is, and is at most the
number of steps. Version 2 is a lasso of an eventual property: it adds
``"loop_start": K`` before ``steps`` (the last step returns to the state after
the first K steps; ``invariant`` is null and K is less than the number of
steps). A trace without a loop is written as version 1. Parameter values are strings, integers or booleans; integers
are never booleans. Digests are 32 lowercase hex characters (128-bit BLAKE2b).

A trace found with a model file (``kspec check --model FILE.py``, your own
components beside the built-in ones) has one more field, in either version,
right after ``variant``: ``"model_file": {"path": "FILE.py", "sha256": "<64
hex>"}``, the file as given and the SHA-256 of its bytes. Replay needs the
file again and compares the digest (``checker.usermodel``).

A trace of a scenario built from manifests (``kspec check --manifests``) has
one more field, in either version, right after ``scenario``:
``"manifests": {"nodes": {"count": 2, "cpu": "2", "memory": "4Gi"} or null,
"objects": [{"source": "FILE: document N", "object": {...}}]}``, the JSON of
every object the scenario was built from and the options that made its
nodes (null when the Nodes are among the objects). Replay rebuilds the
scenario from it, without the files (``spec.manifests``, which checks it as
strictly as a manifest).

A trace found with some of the scenario's numbers changed (``kspec check
--engine explore --symbolic``, which explores every interleaving for every
number in a range) has one more field, in either version, right after
``bounds``: ``"numbers": {"kinds": ["timeouts"], "values": {"timing.node_monitor_grace": 3, ...}}``,
the kinds of number left open (``checker.concolic.KINDS``) and the value the
run used for each of them. Replay builds the scenario with those values.

:func:`dumps` gives the same bytes for equal traces in every process (fixed
field order, ASCII only, two-space indent, one trailing newline);
:func:`write` replaces a file atomically. :func:`parse` and :func:`load`
check the structure and types strictly and raise :class:`TraceError`, a
one-line ``"<file>: <field path>: <problem>"``, for any input that is not a
trace this kspec reads (field paths index steps from 0: ``steps[3].params.pod``).
They do not check names of scenarios, variants, components or actions, nor the
digests' values: replay does that against the model.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from spec import SPEC_VERSION
from spec.canonical import digest, to_data
from spec.component import Action, Param
from spec.errors import InvalidInputError, close_matches
from spec.manifests import ManifestScenario

if TYPE_CHECKING:
    from spec.model import KubeModel

FORMAT = "kspec-trace"
"""The value of every trace's ``format`` field."""
FORMAT_VERSION = 2
"""The newest trace format version this kspec reads and writes. Version 2 adds ``loop_start`` (a lasso); a trace
without a loop is written as version 1, which every kspec reads."""

FIELDS = (
    "format",
    "version",
    "spec_version",
    "scenario",
    "bounds",
    "variant",
    "engine",
    "seed",
    "invariant",
    "violation_step",
    "message",
    "initial_digest",
    "steps",
)
"""The top-level fields of version 1, in the order they are written."""
LASSO_FIELDS = (*FIELDS[:-1], "loop_start", "steps")
"""The top-level fields of version 2 (a lasso: ``loop_start`` before ``steps``)."""
MODEL_FILE = "model_file"
"""The optional top-level field of a trace found with a model file; written right after ``variant``."""
MODEL_FILE_FIELDS = ("path", "sha256")
"""The fields of ``model_file``."""
MANIFESTS = "manifests"
"""The optional top-level field of a trace of a scenario built from manifests; written right after ``scenario``."""
NUMBERS = "numbers"
"""The optional top-level field of a trace run with some of the scenario's numbers changed; written right after ``bounds``."""
NUMBERS_FIELDS = ("kinds", "values")
"""The fields of ``numbers``."""
STEP_FIELDS = ("component", "action", "params", "digest")
"""The fields of one step, in the order they are written."""

_DIGEST = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class TraceError(InvalidInputError):
    """A trace file that cannot be read, or is not a trace this kspec reads (one line: file, field, problem)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.splitlines()))


@attrs.frozen
class Step:
    """One step of a trace: the action taken and the state it led to."""

    action: Action
    """the action"""
    digest: str
    """spec.canonical.digest of the state after the action"""

    def to_json(self) -> dict[str, Any]:
        """The step as trace JSON."""
        return {**self.action.to_json(), "digest": self.digest}


@attrs.frozen
class ModelFileRef:
    """The model file a trace was found with: its path as given and the SHA-256 of its bytes."""

    path: str
    """the file, as given to ``--model``"""
    sha256: str
    """64 lowercase hex characters"""

    def to_json(self) -> dict[str, str]:
        """The reference as trace JSON."""
        return {"path": self.path, "sha256": self.sha256}


@attrs.frozen
class Numbers:
    """The scenario numbers a run changed: which kinds were left open, and the value used for each number."""

    kinds: tuple[str, ...]
    """kinds of number (``checker.concolic.KINDS``)"""
    values: tuple[tuple[str, int], ...]
    """(number's name, value), sorted by name"""

    def to_json(self) -> dict[str, Any]:
        """The numbers as trace JSON."""
        return {"kinds": list(self.kinds), "values": dict(self.values)}


@attrs.frozen
class Trace:
    """A recorded run: where it happened, the steps taken and, for a counterexample, what was violated."""

    scenario: str
    """the scenario's name"""
    variant: str
    """the variant's name"""
    engine: str
    """the engine that produced it"""
    seed: int | None
    """the engine's seed, if it has one"""
    invariant: str | None
    """the violated invariant; None for a plain trace"""
    violation_step: int | None
    """the number of steps after which the invariant is violated (0: the initial state); None iff invariant is None"""
    message: str
    """the violation's message ("" if none)"""
    bounds: dict[str, Any] = attrs.field(hash=False)
    """the scenario's bounds as plain JSON data, as they were when it was recorded"""
    initial_digest: str
    """digest of the initial state"""
    steps: tuple[Step, ...]
    """the steps, in order"""
    spec_version: str = SPEC_VERSION
    """spec.SPEC_VERSION when it was recorded"""
    loop_start: int | None = None
    """a lasso: the number of steps before the loop; the last step returns to the state after that many steps.
    A weakly fair run can repeat the loop forever (an eventual property's livelock). None: no loop."""
    model_file: ModelFileRef | None = None
    """the model file whose components ran beside the built-in ones (``kspec check --model``); None: none"""
    manifests: dict[str, Any] | None = attrs.field(default=None, hash=False)
    """a scenario built from manifests: what it was built from (``spec.manifests.ManifestSource.to_json``); None: a named scenario"""
    numbers: Numbers | None = None
    """the scenario's numbers this run changed (``kspec check --engine explore --symbolic``); None: the scenario's own"""

    def __attrs_post_init__(self) -> None:
        problem = _violation_problem(self.invariant, self.violation_step, len(self.steps))
        if problem:
            raise InvalidInputError(f"trace: violation_step: {problem}")
        problem = _loop_problem(self.invariant, self.loop_start, len(self.steps))
        if problem:
            raise InvalidInputError(f"trace: loop_start: {problem}")

    def actions(self) -> tuple[Action, ...]:
        """The actions, in order."""
        return tuple(step.action for step in self.steps)


# --- writing -----------------------------------------------------------------


def to_json(trace: Trace) -> dict[str, Any]:
    """The trace as plain JSON data, fields in the documented order."""
    values = {
        "format": FORMAT,
        "version": 1 if trace.loop_start is None else 2,
        "spec_version": trace.spec_version,
        "scenario": trace.scenario,
        MANIFESTS: trace.manifests,
        "bounds": trace.bounds,
        NUMBERS: trace.numbers.to_json() if trace.numbers is not None else None,
        "variant": trace.variant,
        MODEL_FILE: trace.model_file.to_json() if trace.model_file is not None else None,
        "engine": trace.engine,
        "seed": trace.seed,
        "invariant": trace.invariant,
        "violation_step": trace.violation_step,
        "message": trace.message,
        "initial_digest": trace.initial_digest,
        "loop_start": trace.loop_start,
        "steps": [step.to_json() for step in trace.steps],
    }
    optional = {MANIFESTS, NUMBERS, MODEL_FILE, "loop_start"}  # written only when the trace has them
    return {key: value for key, value in values.items() if key not in optional or value is not None}


def dumps(trace: Trace) -> str:
    """The trace file's text: the same for equal traces in every process."""
    return json.dumps(to_json(trace), indent=2, ensure_ascii=True, allow_nan=False) + "\n"


def write(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write the trace to ``path`` atomically (a reader sees the old file or the new one, never a part)."""
    write_text(dumps(trace), path)


def write_json(data: Any, path: str | os.PathLike[str]) -> None:
    """Write any JSON document (a check summary, say) atomically, with sorted keys."""
    write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n", path)


def write_text(text: str, path: str | os.PathLike[str]) -> None:
    """Write a text file atomically (creating its folder); TraceError naming the file if it cannot be written."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace(target, text.encode("utf-8"))
    except OSError as e:
        raise TraceError(f"{path}: cannot write: {_os_reason(e)}") from None


def _replace(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (best effort: not every platform opens directories)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


# --- recording ---------------------------------------------------------------


def record(
    model: KubeModel,
    actions: Iterable[Action],
    *,
    engine: str,
    seed: int | None,
    invariant: str | None = None,
    violation_step: int | None = None,
    message: str = "",
    loop_start: int | None = None,
    model_file: ModelFileRef | None = None,
    numbers: Numbers | None = None,
) -> Trace:
    """Replay ``actions`` from the model's initial state and record them with each state's digest.

    ``numbers``: the changed numbers the model's scenario was built with (``kspec check --engine explore --symbolic``).
    """
    state = model.initial_states()[0]
    initial_digest = digest(state)
    steps: list[Step] = []
    for action in actions:
        state = model.next_state(state, action)
        steps.append(Step(action, digest(state)))
    return Trace(
        scenario=model.scenario.name,
        variant=model.variant.name,
        engine=engine,
        seed=seed,
        invariant=invariant,
        violation_step=violation_step,
        message=message,
        bounds=to_data(model.scenario.bounds),
        initial_digest=initial_digest,
        steps=tuple(steps),
        loop_start=loop_start,
        model_file=model_file,
        manifests=model.scenario.source.to_json() if isinstance(model.scenario, ManifestScenario) else None,
        numbers=numbers,
    )


# --- reading -----------------------------------------------------------------


def load(path: str | os.PathLike[str]) -> Trace:
    """Read and check the trace file at ``path``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise TraceError(f"{path}: cannot read: {_os_reason(e)}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TraceError(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})") from None
    return parse(text, str(path))


def parse(text: str, source: str) -> Trace:
    """Check the text of a trace file (``source`` names it in errors) and return the trace."""
    return _Reader(source).trace(_decode(text, source))


class _JsonProblem(ValueError):
    """Raised by the decoder's hooks for JSON that Python accepts but a trace must not contain."""


def _no_constants(name: str) -> Any:
    raise _JsonProblem(f"{name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JsonProblem(f"duplicate key {_show(key)} in an object")
        result[key] = value
    return result


def _decode(text: str, source: str) -> Any:
    if not text.strip():
        raise TraceError(f"{source}: empty file, not a trace")
    try:
        return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        truncated = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string")
        what = "truncated or not valid JSON" if truncated else "not valid JSON"
        raise TraceError(f"{source}: {what} (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except _JsonProblem as e:
        raise TraceError(f"{source}: not valid JSON ({e})") from None
    except RecursionError:
        raise TraceError(f"{source}: not valid JSON (nested too deeply)") from None
    except ValueError as e:
        raise TraceError(f"{source}: not valid JSON ({e})") from None


@attrs.frozen
class _Reader:
    """Checks decoded JSON against the format; every problem is a TraceError naming the file and field."""

    source: str
    """the file name for messages"""

    def fail(self, field: str, problem: str) -> TraceError:
        return TraceError(f"{self.source}: {field}: {problem}")

    def trace(self, data: Any) -> Trace:
        if not isinstance(data, dict):
            raise TraceError(f"{self.source}: not a kspec trace: expected a JSON object at the top level, got {_kind(data)}")
        self.check_format(data)
        lasso = self.check_version(data) >= 2
        fields = LASSO_FIELDS if lasso else FIELDS
        optional = tuple(field for field in (MODEL_FILE, MANIFESTS, NUMBERS) if field in data)
        self.check_fields(data, (*fields, *optional), "")
        steps = self.list_of(data["steps"], "steps")
        invariant = self.optional_name(data["invariant"], "invariant")
        violation_step = self.optional_count(data["violation_step"], "violation_step")
        problem = _violation_problem(invariant, violation_step, len(steps))
        if problem:
            raise self.fail("violation_step", problem)
        loop_start = self.integer(data["loop_start"], "loop_start") if lasso else None
        problem = _loop_problem(invariant, loop_start, len(steps))
        if problem:
            raise self.fail("loop_start", problem)
        return Trace(
            scenario=self.name(data["scenario"], "scenario"),
            variant=self.name(data["variant"], "variant"),
            engine=self.name(data["engine"], "engine"),
            seed=self.optional_int(data["seed"], "seed"),
            invariant=invariant,
            violation_step=violation_step,
            message=self.string(data["message"], "message"),
            bounds=self.mapping(data["bounds"], "bounds"),
            initial_digest=self.digest(data["initial_digest"], "initial_digest"),
            steps=tuple(self.step(step, f"steps[{i}]") for i, step in enumerate(steps)),
            spec_version=self.name(data["spec_version"], "spec_version"),
            loop_start=loop_start,
            model_file=self.model_file(data[MODEL_FILE]) if MODEL_FILE in data else None,
            manifests=self.mapping(data[MANIFESTS], MANIFESTS) if MANIFESTS in data else None,
            numbers=self.numbers(data[NUMBERS]) if NUMBERS in data else None,
        )

    def numbers(self, data: Any) -> Numbers:
        data = self.mapping(data, NUMBERS)
        self.check_fields(data, NUMBERS_FIELDS, NUMBERS + ".")
        kinds = tuple(self.name(k, f"{NUMBERS}.kinds[{i}]") for i, k in enumerate(self.list_of(data["kinds"], f"{NUMBERS}.kinds")))
        values = self.mapping(data["values"], f"{NUMBERS}.values")
        for key, value in values.items():
            if self.integer(value, f"{NUMBERS}.values{_key(key, dot=True)}") < 1:
                raise self.fail(f"{NUMBERS}.values{_key(key, dot=True)}", f"expected an integer >= 1, got {value}")
        return Numbers(kinds, tuple(sorted(values.items())))

    def model_file(self, data: Any) -> ModelFileRef:
        data = self.mapping(data, MODEL_FILE)
        self.check_fields(data, MODEL_FILE_FIELDS, MODEL_FILE + ".")
        sha256 = self.string(data["sha256"], f"{MODEL_FILE}.sha256")
        if not _SHA256.fullmatch(sha256):
            raise self.fail(f"{MODEL_FILE}.sha256", f"expected 64 lowercase hex characters, got {_show(sha256)}")
        return ModelFileRef(self.name(data["path"], f"{MODEL_FILE}.path"), sha256)

    def check_format(self, data: dict[str, Any]) -> None:
        if "format" not in data:
            raise self.fail("format", f"missing field; not a kspec trace (expected {_show(FORMAT)})")
        if data["format"] != FORMAT:
            raise self.fail("format", f"expected {_show(FORMAT)}, got {_show(data['format'])}; not a kspec trace")

    def check_version(self, data: dict[str, Any]) -> int:
        if "version" not in data:
            raise self.fail("version", "missing field")
        version = self.integer(data["version"], "version")
        if version > FORMAT_VERSION:
            raise self.fail("version", f"trace format version {version} is newer than this kspec reads ({FORMAT_VERSION}); upgrade kspec")
        if version < 1:
            raise self.fail("version", f"unknown trace format version {version}; this kspec reads versions 1 to {FORMAT_VERSION}")
        return version

    def check_fields(self, data: dict[str, Any], fields: Sequence[str], prefix: str) -> None:
        for key in data:
            if key not in fields:
                matches = close_matches(key, fields)
                if matches:
                    raise self.fail(prefix + _key(key), "unknown field; did you mean " + " or ".join(repr(m) for m in matches) + "?")
                raise self.fail(prefix + _key(key), "unknown field; known fields: " + ", ".join(fields))
        missing = [f for f in fields if f not in data]
        if missing:
            also = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
            raise self.fail(prefix + missing[0], "missing field" + also)

    def step(self, data: Any, field: str) -> Step:
        data = self.mapping(data, field)
        self.check_fields(data, STEP_FIELDS, field + ".")
        params = self.mapping(data["params"], f"{field}.params")
        action = Action(
            component=self.name(data["component"], f"{field}.component"),
            name=self.name(data["action"], f"{field}.action"),
            params=tuple((key, self.param(value, f"{field}.params{_key(key, dot=True)}")) for key, value in params.items()),
        )
        return Step(action, self.digest(data["digest"], f"{field}.digest"))

    def param(self, value: Any, field: str) -> Param:
        if isinstance(value, (str, int)):  # bool is an int
            return value
        raise self.fail(field, f"expected a string, integer or boolean, got {_kind(value)}")

    def mapping(self, value: Any, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object, got {_kind(value)}")
        return value

    def list_of(self, value: Any, field: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, got {_kind(value)}")
        return value

    def string(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string, got {_kind(value)}")
        return value

    def name(self, value: Any, field: str) -> str:
        text = self.string(value, field)
        if not text:
            raise self.fail(field, "expected a non-empty string, got an empty one")
        return text

    def optional_name(self, value: Any, field: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string or null, got {_kind(value)}")
        return self.name(value, field)

    def integer(self, value: Any, field: str) -> int:
        if type(value) is not int:
            raise self.fail(field, f"expected an integer, got {_kind(value)}")
        return value

    def optional_int(self, value: Any, field: str) -> int | None:
        if value is None:
            return None
        if type(value) is not int:
            raise self.fail(field, f"expected an integer or null, got {_kind(value)}")
        return value

    def optional_count(self, value: Any, field: str) -> int | None:
        count = self.optional_int(value, field)
        if count is not None and count < 0:
            raise self.fail(field, f"expected an integer >= 0 or null, got {count}")
        return count

    def digest(self, value: Any, field: str) -> str:
        text = self.string(value, field)
        if not _DIGEST.fullmatch(text):
            raise self.fail(field, f"expected 32 lowercase hex characters, got {_show(text)}")
        return text


def _violation_problem(invariant: str | None, violation_step: int | None, steps: int) -> str:
    """What is wrong with a trace's violation fields ("" if nothing)."""
    if invariant is None and violation_step is not None:
        return f"is {violation_step} but invariant is null; both are null for a plain trace"
    if invariant is not None and violation_step is None:
        return f"is null but invariant is {_show(invariant)}; a counterexample says after which step it is violated"
    if violation_step is not None and not 0 <= violation_step <= steps:
        return f"is {violation_step}, beyond the trace's {steps} steps"
    return ""


def _loop_problem(invariant: str | None, loop_start: int | None, steps: int) -> str:
    """What is wrong with a trace's loop ("" if nothing)."""
    if loop_start is None:
        return ""
    if invariant is not None:
        return f"is {loop_start} but invariant is {_show(invariant)}; only an eventual property's trace ends in a loop"
    if not 0 <= loop_start < steps:
        return f"is {loop_start}; a loop starts before the last of the trace's {steps} steps"
    return ""


# --- message helpers ---------------------------------------------------------

_KINDS: dict[type, str] = {type(None): "null", bool: "boolean", int: "integer", float: "float", str: "string", list: "list", dict: "object"}


def _kind(value: Any) -> str:
    """The JSON kind of a decoded value, for messages."""
    return _KINDS.get(type(value), type(value).__name__)


def _show(value: Any, limit: int = 60) -> str:
    """A value as one line of JSON, shortened."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        text = _kind(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _key(key: str, dot: bool = False) -> str:
    """A key as a field-path component: ``name`` (``.name`` with dot) if simple, ``["..."]`` otherwise."""
    if _SIMPLE_KEY.fullmatch(key):
        return f".{key}" if dot else key
    return f"[{_show(key)}]"


def _os_reason(e: OSError) -> str:
    return e.strerror or str(e)
