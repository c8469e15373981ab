"""A replayed trace as a Mermaid ``sequenceDiagram``, for code review tools that render Mermaid.

Participants, left to right: the user, the API server, each control-plane
component that appears (scheduler, controller-manager controllers), each
node's kubelet and kube-proxy, then the environment's faults and clock.
Each step becomes, with its number:

- one arrow to the API server per write it made (``create``, ``update``,
  ``status``, ``bind``, ``delete``, ``remove``: ``checker.render_steps``);
- a dashed arrow from the API server for a watch delivery, with the event;
- an arrow from ``faults`` to the component a fault hits;
- a note over the component for what changed on a machine (node truth);
- a self-arrow for a step that changed only a component's memory.

The violated invariant is a note at the step where it breaks; a lasso
(trace format version 2) puts the steps that repeat in a ``loop`` block.

Every text that comes from the model or the trace is written with Mermaid's
entity codes (``#59;`` for ``;``) for every character but letters, digits
and a few plain punctuation marks, so no label can end a statement, start a
comment or carry markup: it renders as the text it is. Participant ids are
``p_`` and letters, digits and underscores only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs

from checker import render_steps as steps
from spec.catalogue import WATCH_DELIVER
from spec.component import Context
from spec.state import State

if TYPE_CHECKING:
    from checker.replay import ReplayResult, ReplayStep
    from checker.trace import Trace

_PLAIN = re.compile(r"[A-Za-z0-9 _.,/=()\-]")
_ID_CHAR = re.compile(r"[^A-Za-z0-9_]")
USER, FAULTS, CLOCK = "user", "fault", "clock"
LABELS = {USER: "user", FAULTS: "faults", CLOCK: "clock"}


def text(value: object) -> str:
    """A label Mermaid shows as exactly this text: every other character as an entity code (``#59;``)."""
    flat = " ".join(str(value).split())
    return "".join(c if _PLAIN.fullmatch(c) else f"#{ord(c)};" for c in flat) or "#8203;"


@attrs.frozen
class Item:
    """One line of the diagram body."""

    shape: str
    """arrow (``->>``), reply (``-->>``), self (``->>`` to itself), note, loop (a block starts) or end (it ends)"""
    source: str = ""
    """the component instance (or the API server) it starts at, or the note is over"""
    target: str = ""
    """where it ends ("" for a note over one participant)"""
    label: str = ""
    """the text, not yet escaped"""


def render(trace: Trace, result: ReplayResult, source: str) -> str:
    """The sequence diagram of a replayed trace."""
    ctx = result.model.ctx
    states = steps.states(result)
    at, word = steps.outcome(trace, result)
    broke = at if trace.invariant else None
    loop = steps.loop_start(trace, result)
    body: list[Item] = []
    if broke == 0:
        body.append(Item("note", steps.API_SERVER, "", f"{word} in the initial state: {result.message}"))
    for step, before in zip(result.steps, states[:-1], strict=True):
        if loop is not None and step.number == loop + 1:
            body.append(Item("loop", label=f"the last {len(result.steps) - loop} steps return to the state after step {loop}"))
        body += step_items(ctx, step, before)
        if step.number == broke:
            body.append(Item("note", _actor(ctx, step.action.component), steps.API_SERVER, f"{word}: {result.message}"))
    if loop is not None:
        body.append(Item("end"))
    if broke is None:
        body.append(Item("note", steps.API_SERVER, "", result.summary))
    return _diagram(ctx, trace, result, source, body)


def step_items(ctx: Context, step: ReplayStep, before: State) -> list[Item]:
    """The arrows and notes of one step."""
    action, n = step.action, step.number
    actor = _actor(ctx, action.component)
    what = steps.action_text(action)
    if action.name == WATCH_DELIVER:
        items = [Item("reply", steps.API_SERVER, actor, f"{n}. watch {steps.delivered(ctx, before, action)}")]
    elif actor == FAULTS:
        target = steps.fault_target(ctx, before, action)
        items = [Item("arrow", FAULTS, target, f"{n}. {what}") if target else Item("note", FAULTS, "", f"{n}. {what}")]
    elif actor == CLOCK:
        items = [Item("note", CLOCK, "", f"{n}. {what}: clock {step.state.clock}")]
    else:
        items = []
    writes = steps.api_writes(before, step.state)
    items += [Item("arrow", actor, steps.API_SERVER, f"{n}. {what}: {w}") for w in writes]
    by_node: dict[str, list[str]] = {}
    for node, change in steps.runtime_changes(before, step.state):
        by_node.setdefault(node, []).append(change)
    for node, changes in by_node.items():
        over = actor if ctx.type_of(action.component).per_node else _node_owner(node)
        head = f"{n}. " if items else f"{n}. {what}: "
        items.append(Item("note", over, "", head + ", ".join(changes)))
    if not items:
        items.append(Item("self", actor, actor, f"{n}. {what}"))
    return items


def _actor(ctx: Context, instance: str) -> str:
    """The participant of a component instance: itself, or for the environment the user, the clock or faults."""
    kind = ctx.type_of(instance)
    if kind.environment:
        return instance if instance in LABELS else FAULTS
    return instance


def _node_owner(node: str) -> str:
    """The kubelet of a node (node truth is drawn over it)."""
    return f"kubelet/{node}"


def _diagram(ctx: Context, trace: Trace, result: ReplayResult, source: str, body: list[Item]) -> str:
    used = {p for item in body for p in (item.source, item.target) if p}
    order = _participants(ctx, used)
    ids = _ids(order)
    title = f"kspec replay {source}: scenario {trace.scenario}, variant {result.model.variant.name}"
    lines = ["sequenceDiagram", f"    title {text(title)}"]
    for name in order:
        keyword = "actor" if name == USER else "participant"
        lines.append(f"    {keyword} {ids[name]} as {text(LABELS.get(name, name))}")
    depth = 1
    for item in body:
        depth -= item.shape == "end"
        lines.append("    " * depth + _line(item, ids))
        depth += item.shape == "loop"
    return "\n".join(lines) + "\n"


def _line(item: Item, ids: dict[str, str]) -> str:
    label = text(item.label)
    if item.shape == "loop":
        return f"loop {label}"
    if item.shape == "end":
        return "end"
    if item.shape == "note":
        over = ids[item.source] + (f",{ids[item.target]}" if item.target and item.target != item.source else "")
        return f"Note over {over}: {label}"
    arrow = "-->>" if item.shape == "reply" else "->>"
    return f"{ids[item.source]}{arrow}{ids[item.target]}: {label}"


def _participants(ctx: Context, used: set[str]) -> list[str]:
    """The participants in use, in diagram order: user, API server, cluster components in catalogue order, faults, clock."""
    cluster = [name for name, kind in ctx.components if not kind.environment and name in used]
    known = {USER, steps.API_SERVER, FAULTS, CLOCK, *cluster}
    others = sorted(used - known)
    head = [USER] if USER in used else []
    tail = [p for p in (FAULTS, CLOCK) if p in used]
    return [*head, steps.API_SERVER, *cluster, *others, *tail]


def _ids(order: list[str]) -> dict[str, str]:
    """A Mermaid id per participant: ``p_`` and the name's letters, digits and underscores, made unique."""
    ids: dict[str, str] = {}
    for name in order:
        base = "p_" + _ID_CHAR.sub("_", name)
        candidate, n = base, 2
        while candidate in ids.values():
            candidate, n = f"{base}_{n}", n + 1
        ids[name] = candidate
    return ids
