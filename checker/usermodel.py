"""A model file: your own controller, checked beside kspec's components (``kspec check --model FILE.py``).

A model file is a Python file that defines:

- ``COMPONENTS``: a list of :class:`spec.component.ComponentType`,
  written exactly as the built-in components are (docs/model-interface.md):
  what it watches, the memory it keeps, its informer handlers, and its
  actions, whose guards read only the component's own view and whose effects
  write only through ``spec.apiserver``;
- ``INVARIANTS``: a list of :class:`spec.invariants.Invariant`,
  checked beside the built-in ones and selectable with ``--invariant``
  (a file may define only these: a question about the built-in components,
  such as ``examples/replaced_while_running.py``);
  at least one of the two is not empty;
- ``SCENARIO`` (optional): the :class:`spec.scenarios.Scenario` the
  components are meant for, checked when no ``--scenario`` is given.

:func:`load` *runs* the file, as ``python FILE.py`` would: it is the user's own
code, with every right of the process, so only pass files you would run. The
module is registered in ``sys.modules`` only while it executes. Everything it
exports is validated (types, names that clash with the catalogue's, unknown
watched kinds, a memory without a canonical form) with one line naming the
file and the attribute; an exception while importing, or later in one of the
file's functions, is one line ``FILE.py: line N: ExcType: message``. Each is
a :class:`ModelFileError`, so the CLI exits 2 without a traceback.

Traces found with a model file record its path and the SHA-256 of its bytes
(``checker.trace.ModelFileRef``): replay needs the file again (``--model``),
and says so in one line when the file changed since.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from checker import eventual
from checker.trace import ModelFileRef
from spec.canonical import to_data
from spec.catalogue import WATCH_DELIVER
from spec.component import ActionDef, ComponentType, Watch
from spec.environment import ENVIRONMENT
from spec.errors import InvalidInputError, UnknownNameError
from spec.invariants import INVARIANTS, KINDS, Invariant, Monitor
from spec.invariants import get_invariant as lookup_invariant
from spec.model import CONTROL_PLANE, NODE_COMPONENTS, KubeModel
from spec.objects import KINDS as OBJECT_KINDS
from spec.scenarios import CLUSTERS, SCENARIOS, Scenario
from spec.state import State
from spec.variants import Variant

BUILT_IN: tuple[ComponentType, ...] = (*CONTROL_PLANE, *NODE_COMPONENTS, *ENVIRONMENT)
"""Every built-in component type (their kinds and action names are taken)."""


class ModelFileError(InvalidInputError):
    """A model file that cannot be loaded or exports something kspec cannot check (one line: file, attribute, problem)."""


@attrs.frozen
class ModelFile:
    """What a model file defines, validated, with the functions wrapped to report errors in one line."""

    path: str
    """the file, as given (POSIX separators)"""
    sha256: str
    """SHA-256 of the file's bytes, 64 lowercase hex characters"""
    components: tuple[ComponentType, ...]
    """COMPONENTS"""
    invariants: tuple[Invariant, ...] = ()
    """INVARIANTS"""
    scenario: Scenario | None = None
    """SCENARIO, if it defines one"""

    @property
    def ref(self) -> ModelFileRef:
        """What a trace records of the file."""
        return ModelFileRef(self.path, self.sha256)


# ------------------------------------------------------------ loading


def load(path: str | os.PathLike[str]) -> ModelFile:
    """Run the model file at ``path`` and validate what it exports (ModelFileError otherwise)."""
    shown = Path(path).as_posix()
    try:
        source = Path(path).read_bytes()
    except OSError as e:
        raise ModelFileError(f"{shown}: cannot read: {e.strerror or e}") from None
    namespace = _execute(shown, source)
    return _validate(shown, hashlib.sha256(source).hexdigest(), namespace)


def _module_name(shown: str) -> str:
    return "kspec_model_" + re.sub(r"\W", "_", Path(shown).stem)


def _execute(shown: str, source: bytes) -> dict[str, Any]:
    """The module's namespace after running ``source``; one line for a syntax error or an exception."""
    try:
        code = compile(source, shown, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise ModelFileError(f"{shown}: line {e.lineno}: SyntaxError: {e.msg}") from None
    except ValueError as e:  # null bytes
        raise ModelFileError(f"{shown}: not Python source: {e}") from None
    name = _module_name(shown)
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(Path(shown).resolve()))
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__file__ = spec.origin
    previous = sys.modules.get(name)
    sys.modules[name] = module  # dataclasses and typing look a class's module up while it is defined
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as e:
        raise ModelFileError(_code_error(shown, e, "while importing it")) from None
    finally:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
    return module.__dict__


def _code_error(shown: str, e: BaseException, during: str) -> str:
    """``FILE.py: line N: ExcType: message (during)``, N the deepest line of the file in the traceback."""
    line = None
    tb: types.TracebackType | None = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == shown:
            line = tb.tb_lineno
        tb = tb.tb_next
    where = f" line {line}:" if line is not None else ""
    text = " ".join(str(e).split())
    return f"{shown}:{where} {type(e).__name__}{': ' + text if text else ''} ({during})"


# ------------------------------------------------------------ validation


def _validate(shown: str, sha256: str, namespace: dict[str, Any]) -> ModelFile:
    raw = _listed(shown, "COMPONENTS", namespace.get("COMPONENTS", ()), ComponentType, "spec.component.ComponentType")
    components = _Components(shown).check(raw)
    invariants = _invariants(shown, namespace.get("INVARIANTS", ()))
    if not components and not invariants:
        raise ModelFileError(
            f"{shown}: COMPONENTS: missing or empty, and no INVARIANTS; a model file defines COMPONENTS = [ComponentType(...), ...],"
            " INVARIANTS = [Invariant(...), ...] or both"
        )
    scenario = _scenario(shown, namespace.get("SCENARIO"))
    return ModelFile(shown, sha256, components, invariants, scenario)


def _type_name(value: Any) -> str:
    return type(value).__name__


def _listed(shown: str, attr: str, value: Any, cls: type, what: str) -> list[Any]:
    """``value`` as a list of ``cls`` instances; ModelFileError naming the attribute or its element otherwise."""
    if not isinstance(value, (list, tuple)):
        raise ModelFileError(f"{shown}: {attr}: expected a list of {what}, got {_type_name(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, cls):
            raise ModelFileError(f"{shown}: {attr}[{i}]: expected a {what}, got {_type_name(item)}")
    return list(value)


def _taken(what: str, name: str, owner: str) -> str:
    return f"{what} {name!r} is already {owner}; {what}s are unique in the catalogue"


@attrs.define
class _Components:
    """Validates COMPONENTS against the built-in catalogue and wraps their functions."""

    shown: str
    kinds: dict[str, str] = attrs.field(factory=lambda: {c.kind: "a built-in component" for c in BUILT_IN})
    actions: dict[str, str] = attrs.field(factory=lambda: {WATCH_DELIVER: "every watching component's watch delivery"})

    def __attrs_post_init__(self) -> None:
        for ctype in BUILT_IN:
            for adef in ctype.actions:
                self.actions.setdefault(adef.name, f"an action of {ctype.kind}")

    def check(self, raw: list[ComponentType]) -> tuple[ComponentType, ...]:
        return tuple(self.component(f"COMPONENTS[{i}]", ctype) for i, ctype in enumerate(raw))

    def fail(self, field: str, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.shown}: {field}: {problem}")

    def component(self, field: str, ctype: ComponentType) -> ComponentType:
        kind = ctype.kind
        if not isinstance(kind, str) or not kind or "/" in kind:
            raise self.fail(f"{field}.kind", f"expected a non-empty name without '/', got {kind!r}")
        if kind in self.kinds:
            raise self.fail(f"{field}.kind", _taken("component kind", kind, self.kinds[kind]))
        self.kinds[kind] = f"the kind of {field}"
        where = f"{field} ({kind})"
        for hook in ("initial_memory", "on_event", "timers", "urgent"):
            value = getattr(ctype, hook)
            if value is not None and not callable(value):
                raise self.fail(f"{field}.{hook}", f"expected a function or None, got {_type_name(value)}")
        actions = tuple(self.action(f"{field}.actions[{i}]", a) for i, a in enumerate(_seq(self, f"{field}.actions", ctype.actions, ActionDef)))
        watches = self.watches(field, _seq(self, f"{field}.watches", ctype.watches, Watch))
        wrapped = attrs.evolve(
            ctype,
            actions=actions,
            watches=watches,
            initial_memory=_wrap(self.shown, ctype.initial_memory, f"{where}.initial_memory"),
            on_event=_wrap(self.shown, ctype.on_event, f"{where}.on_event"),
            timers=_wrap(self.shown, ctype.timers, f"{where}.timers"),
            urgent=_wrap(self.shown, ctype.urgent, f"{where}.urgent"),
        )
        self.memory(f"{field}.initial_memory", wrapped)
        return wrapped

    def action(self, field: str, adef: ActionDef) -> ActionDef:
        name = adef.name
        if not isinstance(name, str) or not name:
            raise self.fail(f"{field}.name", f"expected a non-empty string, got {name!r}")
        if name in self.actions:
            raise self.fail(f"{field}.name", _taken("action name", name, self.actions[name]))
        self.actions[name] = f"the name of {field}"
        params = tuple(adef.params) if isinstance(adef.params, (list, tuple)) else adef.params
        if not isinstance(params, tuple) or not all(isinstance(p, str) and p for p in params):
            raise self.fail(f"{field}.params", f"expected a tuple of parameter names, got {adef.params!r}")
        for hook in ("guard", "effect", "possible"):
            if not callable(getattr(adef, hook)):
                raise self.fail(f"{field}.{hook}", f"expected a function, got {_type_name(getattr(adef, hook))}")
        guard = _checked_guard(self.shown, adef.guard, f"{field}.guard", f"the guard of {name}", len(params))
        effect = _checked_effect(self.shown, adef.effect, f"the effect of {name}")
        return attrs.evolve(adef, params=params, guard=guard, effect=effect)

    def watches(self, field: str, watches: tuple[Watch, ...]) -> tuple[Watch, ...]:
        seen: set[str] = set()
        out = []
        for i, watch in enumerate(watches):
            if watch.kind not in OBJECT_KINDS:
                raise UnknownNameError("kind", str(watch.kind), OBJECT_KINDS, where=f"{self.shown}: {field}.watches[{i}].kind")
            if watch.kind in seen:
                raise self.fail(f"{field}.watches[{i}].kind", f"a second watch of {watch.kind}; a component has one informer per kind")
            seen.add(watch.kind)
            selects = _wrap(self.shown, watch.selects, f"the selector of {field}.watches[{i}]")
            out.append(attrs.evolve(watch, selects=selects))
        return tuple(out)

    def memory(self, field: str, ctype: ComponentType) -> None:
        """A fresh instance's memory must hash and serialise canonically, as every part of the state does."""
        memory = ctype.initial_memory()
        try:
            to_data(memory)
            hash(memory)
        except TypeError as e:
            why = f"returns a {_type_name(memory)} ({e}); memory is part of the state: use a frozen attrs class of tuples, FrozenMaps and scalars"
            raise self.fail(field, why) from None


def _seq(checker: _Components, field: str, value: Any, cls: type) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise checker.fail(field, f"expected a tuple of {cls.__name__}, got {_type_name(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, cls):
            raise checker.fail(f"{field}[{i}]", f"expected a {cls.__module__}.{cls.__name__}, got {_type_name(item)}")
    return tuple(value)


# ------------------------------------------------------------ wrapping the file's functions


def _wrap(shown: str, fn: Any, what: str) -> Any:
    """``fn`` reporting any exception it raises as a ModelFileError naming the file's line (None stays None)."""
    if fn is None:
        return None

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except ModelFileError:
            raise
        except Exception as e:
            raise ModelFileError(_code_error(shown, e, f"in {what}")) from None

    return call


def _checked_guard(shown: str, fn: Callable[..., Any], field: str, what: str, arity: int) -> Callable[..., tuple[tuple[Any, ...], ...]]:
    """The guard, its parameter tuples materialised and checked."""
    call = _wrap(shown, lambda *args: tuple(fn(*args)), what)

    def guard(*args: Any) -> tuple[tuple[Any, ...], ...]:
        out: tuple[Any, ...] = call(*args)
        for params in out:
            if type(params) is not tuple or len(params) != arity or not all(isinstance(p, (str, int)) for p in params):
                want = f"tuples of {arity} values (str, int or bool), one per parameter name"
                raise ModelFileError(f"{shown}: {field}: yielded {params!r}; a guard yields {want}")
        return out

    return guard


def _checked_effect(shown: str, fn: Callable[..., Any], what: str) -> Callable[..., State]:
    """The effect, checked to return the next State."""
    call = _wrap(shown, fn, what)

    def effect(*args: Any) -> State:
        result = call(*args)
        if not isinstance(result, State):
            raise ModelFileError(f"{shown}: {what} returned {_type_name(result)}; an effect returns the next spec.state.State")
        return result

    return effect


# ------------------------------------------------------------ invariants and scenario


def _invariants(shown: str, value: Any) -> tuple[Invariant, ...]:
    raw = _listed(shown, "INVARIANTS", value, Invariant, "spec.invariants.Invariant")
    seen: set[str] = set()
    out = []
    for i, inv in enumerate(raw):
        field = f"{shown}: INVARIANTS[{i}]"
        if not isinstance(inv.name, str) or not inv.name or inv.name.startswith(eventual.PREFIX):
            raise ModelFileError(f"{field}.name: expected a non-empty name not starting with {eventual.PREFIX!r}, got {inv.name!r}")
        if inv.name in INVARIANTS or inv.name in seen:
            owner = "a built-in invariant" if inv.name in INVARIANTS else "an invariant of this file"
            raise ModelFileError(f"{field}.name: {_taken('invariant name', inv.name, owner)}")
        seen.add(inv.name)
        if inv.kind not in KINDS:
            raise UnknownNameError("invariant kind", str(inv.kind), KINDS, where=f"{field}.kind")
        if not callable(inv.check):
            raise ModelFileError(f"{field}.check: expected a function, got {_type_name(inv.check)}")
        out.append(attrs.evolve(inv, check=_checked_invariant(shown, inv)))
    return tuple(out)


def _checked_invariant(shown: str, inv: Invariant) -> Callable[..., str | None]:
    call = _wrap(shown, inv.check, f"invariant {inv.name}")

    def check(*args: Any) -> str | None:
        result = call(*args)
        if result is not None and not isinstance(result, str):
            raise ModelFileError(f"{shown}: invariant {inv.name} returned {_type_name(result)}; a check returns None or a message")
        return result

    return check


def _scenario(shown: str, value: Any) -> Scenario | None:
    if value is None:
        return None
    if not isinstance(value, Scenario):
        raise ModelFileError(f"{shown}: SCENARIO: expected a spec.scenarios.Scenario, got {_type_name(value)}")
    builtin = SCENARIOS.get(value.name) or CLUSTERS.get(value.name)
    if builtin is not None and builtin != value:
        raise ModelFileError(f"{shown}: SCENARIO.name: {value.name!r} is a built-in scenario's name; give your scenario its own")
    return value


# ------------------------------------------------------------ using it


def invariant_catalogue(user: ModelFile | None) -> dict[str, Invariant]:
    """The built-in invariants, then the model file's, by name."""
    return {**INVARIANTS, **{i.name: i for i in (user.invariants if user else ())}}


def get_invariant(name: str, user: ModelFile | None, where: str = "") -> Invariant:
    """The invariant called ``name``, built-in or the model file's (exit-2 error with close matches otherwise)."""
    return lookup_invariant(name, invariant_catalogue(user), where)


def get_scenario(name: str, user: ModelFile | None, where: str = "") -> Scenario:
    """The built-in scenario or small cluster called ``name``, or the model file's SCENARIO if it has that name."""
    if user is not None and user.scenario is not None and user.scenario.name == name:
        return user.scenario
    found = SCENARIOS.get(name) or CLUSTERS.get(name)
    if found is None:
        mine = [user.scenario.name] if user is not None and user.scenario is not None else []
        raise UnknownNameError("scenario", name, [*SCENARIOS, *CLUSTERS, *mine], where=where)
    return found


def build_model(scenario: Scenario, variant: Variant, user: ModelFile | None = None, symmetry: bool = False) -> KubeModel:
    """The model of ``scenario`` under ``variant``, with the model file ``user``'s components beside the built-in ones."""
    return KubeModel(scenario, variant, extra=user.components if user is not None else (), symmetry=symmetry)


def build_monitor(model: KubeModel, names: Sequence[str], user: ModelFile | None) -> Monitor:
    """A Monitor of ``names`` (every invariant if empty), the model file's invariants included."""
    return Monitor(model.ctx, model.is_quiescent, names, invariant_catalogue(user))


def trace_problem(recorded: ModelFileRef | None, user: ModelFile | None, source: str) -> str:
    """Why a trace cannot be replayed with (or without) this model file ("" if it can)."""
    if recorded is not None and user is None:
        return f"{source}: model_file: recorded with the model file {recorded.path}; replay it with --model {recorded.path}"
    if recorded is None and user is not None:
        return f"{source}: model_file: recorded without a model file; replay it without --model"
    return ""


def drift(recorded: ModelFileRef | None, user: ModelFile | None) -> str:
    """One line when the model file differs from the one the trace was recorded with ("" if it does not)."""
    if recorded is None or user is None or recorded.sha256 == user.sha256:
        return ""
    return (
        f"note: {user.path} (sha256 {user.sha256[:12]}) is not the file the trace was recorded with "
        f"({recorded.path}, sha256 {recorded.sha256[:12]}): replaying its steps without digest checks"
    )
