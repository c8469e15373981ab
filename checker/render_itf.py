"""A replayed trace in the Informal Trace Format (ITF), the JSON traces of Apalache and Quint.

The format is Apalache's ADR-015 (https://apalache-mc.org/docs/adr/015adr-trace.html):
a JSON object with ``#meta``, ``vars``, ``states`` (one object per state,
each with a ``#meta`` holding its ``index`` and a value for every variable)
and, for a lasso, ``loop``: the index of the state the last one returns to.
kspec writes the initial state and the state after every step replayed, so a
trace of N steps has N + 1 states; a lasso (trace format version 2,
``loop_start`` K) has ``"loop": K`` (unless its replay under another
variant stopped before the loop closed).

The variables, and how kspec's state maps to ITF values:

=================  ==========================================================
``action``         the step that led to the state: a record ``{component,
                   name, params}``, ``params`` a ``#map`` from parameter name
                   to value; the initial state has ``name`` ``"init"`` and
                   ``component`` ``""``
``clock``          the logical clock in ticks
``revision``       the etcd revision (the API server's resourceVersion counter)
``objects``        API truth: a record with one field per kind (``namespaces``,
                   ``nodes``, ``pods``, ``replicasets``, ``services``,
                   ``endpoints``, ``leases``), each a ``#map`` from the store key
                   (``namespace/name``) to the object
``machines``       node truth: a ``#map`` from node name to the machine (power,
                   reachability, sandboxes by pod UID, iptables rules, connections)
``watch_cursors``  channels: a ``#map`` from component instance to a ``#map`` from
                   kind to the revision just before its next undelivered event;
                   a watch with nothing to deliver is absent
``budget``         environment operations used so far, a ``#map`` by budget name
=================  ==========================================================

Values: an object or any other attrs value is a record of its fields (the
Python field names, ``snake_case``); a ``FrozenMap`` is a ``#map`` in key
order; a tuple is a list; a frozenset is a ``#set``; a label selector is its
string form; every integer is a ``#bigint`` (the ADR's revision of
2023-09-14 writes all integers that way); a field declared optional
(``X | None``) is a Quint option variant, ``{"tag": "Some", "value": v}`` or
``{"tag": "None", "value": {"#tup": []}}``. Components' caches and in-memory
state are not exported.

The invariant, the violation and the verdict are in the trace's ``#meta``
(``kspec``); the ``#meta`` of the state they are about (where the invariant
broke, or an eventual property's last state) has a ``verdict`` such as
``VIOLATED <invariant>: <message>`` (``checker.render_steps.outcome``).
Output is deterministic: keys sorted, ASCII only, one state per line.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs

from checker import render_steps as steps
from spec.component import Action
from spec.frozen import FrozenMap
from spec.labels import Selector
from spec.state import State

if TYPE_CHECKING:
    from checker.replay import ReplayResult
    from checker.trace import Trace

ADR = "https://apalache-mc.org/docs/adr/015adr-trace.html"
VARS = ("action", "budget", "clock", "machines", "objects", "revision", "watch_cursors")
NONE = {"tag": "None", "value": {"#tup": []}}


def value(v: Any) -> Any:
    """The ITF expression of a model value."""
    if v is None:
        return NONE
    if isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    if isinstance(v, FrozenMap):
        return {"#map": [[value(k), value(x)] for k, x in v.items()]}
    if isinstance(v, tuple):
        return [value(x) for x in v]
    if isinstance(v, frozenset):
        items = [value(x) for x in v]
        return {"#set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(v, Selector):
        return str(v)
    if attrs.has(type(v)):
        return {f.name: _field(getattr(v, f.name), f) for f in attrs.fields(type(v))}
    raise TypeError(f"no ITF form for {type(v).__name__}")


def _field(v: Any, field: attrs.Attribute[Any]) -> Any:
    """A record field's value; an optional field (annotated ``X | None``) is an option variant."""
    if v is not None and "None" in str(field.type):
        return {"tag": "Some", "value": value(v)}
    return value(v)


def _action(action: Action | None) -> dict[str, Any]:
    if action is None:
        return {"component": "", "name": "init", "params": {"#map": []}}
    return {"component": action.component, "name": action.name, "params": {"#map": [[k, value(v)] for k, v in action.params]}}


def state_vars(s: State, action: Action | None) -> dict[str, Any]:
    """The ITF variables of one state, reached by ``action`` (None: the initial state)."""
    return {
        "action": _action(action),
        "budget": value(s.budget),
        "clock": value(s.clock),
        "machines": value(s.machines),
        "objects": value(s.api.objects),
        "revision": value(s.api.revision),
        "watch_cursors": value(s.channels.cursors),
    }


def to_itf(trace: Trace, result: ReplayResult, source: str) -> dict[str, Any]:
    """The ITF trace as JSON data."""
    states = steps.states(result)
    actions: list[Action | None] = [None, *(s.action for s in result.steps)]
    at, word = steps.outcome(trace, result)
    out = []
    for i, (s, action) in enumerate(zip(states, actions, strict=True)):
        meta: dict[str, Any] = {"index": i}
        if at == i:
            meta["verdict"] = f"{word}: {result.message}"
        out.append({"#meta": meta, **state_vars(s, action)})
    data: dict[str, Any] = {"#meta": _meta(trace, result, source), "vars": list(VARS), "states": out}
    loop = steps.loop_start(trace, result)
    if loop is not None:
        data["loop"] = loop
    return data


def _meta(trace: Trace, result: ReplayResult, source: str) -> dict[str, Any]:
    return {
        "format": "ITF",
        "format-description": ADR,
        "source": source,
        "description": f"kspec replay of {source}: scenario {trace.scenario}, variant {result.model.variant.name}; {result.summary}",
        "kspec": {
            "scenario": trace.scenario,
            "variant": result.model.variant.name,
            "recorded_variant": trace.variant,
            "engine": trace.engine,
            "seed": trace.seed,
            "invariant": trace.invariant,
            "violation_step": result.violation_step,
            "message": result.message,
            "reproduced": result.reproduced,
            "verdict": result.summary,
        },
    }


def render(trace: Trace, result: ReplayResult, source: str) -> str:
    """The ITF JSON text: sorted keys, ASCII, one state per line."""
    data = to_itf(trace, result, source)
    head = {k: v for k, v in data.items() if k != "states"}
    lines = ["{"]
    lines += [f"  {_dumps(k)}: {_dumps(v)}," for k, v in sorted(head.items())]
    lines.append('  "states": [')
    lines += [f"    {_dumps(s)}" + ("," if i < len(data["states"]) - 1 else "") for i, s in enumerate(data["states"])]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def _dumps(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
