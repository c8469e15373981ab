"""A replayed trace as a Graphviz digraph: its states as nodes, its steps as edges.

A node is a distinct state (by ``spec.canonical.digest``, as the trace
records it), labelled with the steps after which the run is in it (``0`` is
the initial state), the first 8 hex digits of its digest, and the number of
pods and the clock. An edge is a step, labelled with its number, component
and action. A step that returns
to a state seen before (the back edge of a lasso, trace format version 2)
is drawn dashed; the state where the invariant is violated is filled red and
names it (an eventual property's last state: red if it is doomed, orange if
replay could not decide). The explorer's whole reachable graph is another file:
``kspec check --engine explore --graph FILE.dot`` (``checker.graphs``).

Labels are DOT double-quoted strings: backslashes and quotes are escaped, line
breaks are ``\\n`` and other control characters become spaces, so no value can
end a string or inject an attribute.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from checker import render_steps as steps
from spec.canonical import digest
from spec.state import State

if TYPE_CHECKING:
    from checker.replay import ReplayResult
    from checker.trace import Trace


_STYLE = {
    "VIOLATED": ', fillcolor="#ffebe9", color=red, penwidth=2',
    "UNDECIDED": ', fillcolor="#fff8c5", color=orange, penwidth=2',
}
"""How the state the verdict is about is drawn; a state where the property holds after all keeps the plain style."""


def quote(value: object) -> str:
    """A DOT double-quoted string showing exactly ``value`` (lines joined with ``\\n``)."""
    out = []
    for c in str(value):
        if c in '\\"':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif ord(c) < 32 or ord(c) == 127:
            out.append(" ")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def render(trace: Trace, result: ReplayResult, source: str) -> str:
    """The DOT text of a replayed trace."""
    states = steps.states(result)
    digests = [digest(s) for s in states]  # of the states replayed (a replay with a changed model file is not checked against the trace's)
    node_of: dict[str, int] = {}
    for d in digests:
        node_of.setdefault(d, len(node_of))
    visits: dict[int, list[int]] = {}
    for i, d in enumerate(digests):
        visits.setdefault(node_of[d], []).append(i)
    at, word = steps.outcome(trace, result)
    title = f"kspec replay {source}: scenario {trace.scenario}, variant {result.model.variant.name}\n{_wrap(result.summary, 100)}"
    lines = [
        "digraph counterexample {",
        f"  graph [label={quote(title)}, labelloc=t, fontname=Helvetica];",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica];',
        "  edge [fontname=Helvetica, fontsize=10];",
    ]
    for node, numbers in visits.items():
        verdict = _wrap(f"{word}: {result.message}") if at in numbers else ""
        style = _STYLE.get(word.partition(" ")[0], "") if verdict else ""
        lines.append(f"  s{node} [{_node_label(numbers, states[numbers[0]], digests[numbers[0]], verdict)}{style}];")
    seen = {node_of[digests[0]]}
    for step in result.steps:
        a, b = node_of[digests[step.number - 1]], node_of[digests[step.number]]
        label = quote(f"{step.number}. {step.action.component}\n{steps.action_text(step.action)}")
        back = b in seen
        seen.add(b)
        lines.append(f"  s{a} -> s{b} [label={label}" + (", style=dashed, color=blue, constraint=false];" if back else "];"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_label(numbers: list[int], state: State, state_digest: str, verdict: str) -> str:
    """A state's label: the steps after which the run is in it, its digest, pods and clock, and the verdict if it is about it."""
    label = f"{'steps' if len(numbers) > 1 else 'step'} {', '.join(map(str, numbers))}" + (" (initial state)" if numbers[0] == 0 else "")
    label += f"\n{state_digest[:8]}\n{len(state.api.objects.pods)} pods, clock {state.clock}"
    return f"label={quote(label + (chr(10) + verdict if verdict else ''))}"


def _wrap(text: str, width: int = 60) -> str:
    """Long text on several lines (Graphviz does not wrap labels)."""
    return "\n".join(textwrap.wrap(text, width)) or text
