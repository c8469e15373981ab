"""A replayed trace as one self-contained HTML report that steps through it.

One file, no network access needed: the CSS and the script are inline and
nothing is loaded from anywhere. Every step is rendered here, server-side,
as a section of its own: the action, the writes it made to the API server
(``checker.render_steps``), the visible changes (``checker.render.cluster_changes``),
the violation where the invariant breaks, and the cluster tables after it
(``checker.render.cluster_tables``) with the cells that changed since the
previous step marked. The inline scripts only show one section at a time
(prev/next buttons, the left and right arrow keys, the step list, the
``#step-N`` fragment); without them every step shows, one after another.

Every value from the model or the trace goes through ``html.escape``; the
scripts are constants that read no data, so no value can become markup or
code: a label value containing ``<script>`` shows as that text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from checker import render_steps as steps
from checker.render import Table, cluster_changes, cluster_tables
from spec.catalogue import WATCH_DELIVER
from spec.component import Context
from spec.state import State

if TYPE_CHECKING:
    from checker.replay import ReplayResult
    from checker.trace import Trace

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1f2328; }
header { padding: 12px 20px; border-bottom: 1px solid #d0d7de; background: #f6f8fa; }
header h1 { font-size: 18px; margin: 0 0 4px; }
header p { margin: 2px 0; }
.verdict { font-weight: 600; }
.layout { display: flex; align-items: flex-start; }
nav.steps { width: 300px; max-height: calc(100vh - 120px); overflow: auto; position: sticky; top: 0; border-right: 1px solid #d0d7de; }
nav.steps ol { list-style: none; margin: 0; padding: 0; }
nav.steps a { display: block; padding: 3px 10px; color: inherit; text-decoration: none; font-size: 12px; }
nav.steps a { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
nav.steps a[aria-current="step"] { background: #ddf4ff; font-weight: 600; }
nav.steps a.violated { color: #cf222e; }
main { flex: 1; padding: 0 20px 20px; min-width: 0; }
.controls { padding: 8px 0; position: sticky; top: 0; background: #fff; }
.controls button { font: inherit; padding: 2px 12px; }
html.js section.step { display: none; }
html.js section.step.current { display: block; }
section.step h2 { font-size: 16px; margin: 12px 0 6px; }
.violation { border: 1px solid #cf222e; background: #ffebe9; padding: 6px 10px; margin: 6px 0; }
.loop, .note { border: 1px solid #0969da; background: #ddf4ff; padding: 6px 10px; margin: 6px 0; }
ul.changes { font-family: ui-monospace, monospace; font-size: 12px; padding-left: 18px; }
li.add { color: #1a7f37; } li.del { color: #cf222e; } li.mod { color: #9a6700; }
table { border-collapse: collapse; margin: 4px 0 12px; font-family: ui-monospace, monospace; font-size: 12px; }
th, td { border: 1px solid #d0d7de; padding: 2px 6px; text-align: left; }
th { background: #f6f8fa; }
td.changed { background: #fff8c5; }
tr.added td { background: #dafbe1; }
tr.removed td { background: #ffebe9; text-decoration: line-through; }
caption { text-align: left; font-weight: 600; }
"""

_SCRIPT = """
(function () {
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.step"));
  var links = Array.prototype.slice.call(document.querySelectorAll("nav.steps a"));
  var position = document.getElementById("position");
  var current = 0;
  function show(i) {
    current = Math.max(0, Math.min(sections.length - 1, i));
    sections.forEach(function (s, j) { s.classList.toggle("current", j === current); });
    links.forEach(function (a, j) {
      if (j === current) { a.setAttribute("aria-current", "step"); } else { a.removeAttribute("aria-current"); }
    });
    position.textContent = "step " + current + " of " + (sections.length - 1);
    if (location.hash !== "#step-" + current) { history.replaceState(null, "", "#step-" + current); }
  }
  function fromHash() {
    var m = /^#step-(\\d+)$/.exec(location.hash);
    return m ? parseInt(m[1], 10) : 0;
  }
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  links.forEach(function (a, j) { a.addEventListener("click", function (e) { e.preventDefault(); show(j); }); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowLeft" || e.key === "k") { show(current - 1); e.preventDefault(); }
    if (e.key === "ArrowRight" || e.key === "j") { show(current + 1); e.preventDefault(); }
  });
  window.addEventListener("hashchange", function () { show(fromHash()); });
  show(fromHash());
})();
"""

_EARLY = 'document.documentElement.className = "js";'
"""Before the body is laid out: with a script, steps start hidden (laying out every step first is slow)."""

_KEY_COLUMNS = {"nodes": 1, "machines (node truth)": 1}


def render(trace: Trace, result: ReplayResult, source: str) -> str:
    """The HTML report of a replayed trace."""
    ctx = result.model.ctx
    states = steps.states(result)
    tables = [cluster_tables(ctx, s) for s in states]
    headings = ["initial state", *(str(s.action) for s in result.steps)]
    sections = [_section(ctx, trace, result, i, headings[i], states, tables) for i in range(len(states))]
    at, word = steps.outcome(trace, result)
    violated = at if word.startswith("VIOLATED") else None
    mark = ' class="violated"'
    nav = "".join(
        f'<li><a href="#step-{i}" title="{escape(h)}"{mark if i == violated else ""}>{i}. {escape(h)}</a></li>' for i, h in enumerate(headings)
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>kspec replay: {escape(source)}</title>",
            f"<style>{_CSS}</style>",
            f"<script>{_EARLY}</script>",
            "</head>",
            "<body>",
            _header(trace, result, source),
            '<div class="layout">',
            f'<nav class="steps" aria-label="steps"><ol>{nav}</ol></nav>',
            "<main>",
            '<div class="controls"><button id="prev" type="button">&larr; prev</button> '
            '<button id="next" type="button">next &rarr;</button> <span id="position"></span></div>',
            *sections,
            "</main>",
            "</div>",
            f"<script>{_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _header(trace: Trace, result: ReplayResult, source: str) -> str:
    lines = [
        f"<h1>kspec replay: {escape(source)}</h1>",
        f"<p>scenario {escape(trace.scenario)}, variant {escape(result.model.variant.name)}, {len(trace.steps)} steps "
        f"(engine {escape(trace.engine)}{'' if trace.seed is None else f', seed {trace.seed}'})</p>",
    ]
    if trace.invariant:
        lines.append(f"<p>recorded: {escape(trace.invariant)} violated at step {trace.violation_step}: {escape(trace.message)}</p>")
    elif trace.message:
        lines.append(f"<p>recorded: {escape(trace.message)}</p>")
    lines.append(f'<p class="verdict">{escape(result.summary)}</p>')
    return "<header>" + "".join(lines) + "</header>"


def _section(ctx: Context, trace: Trace, result: ReplayResult, i: int, heading: str, states: Sequence[State], tables: Sequence[list[Table]]) -> str:
    """Step ``i``: what it did, and the cluster tables after it (``tables[i]``) marked against those before it."""
    parts = [f'<section class="step" id="step-{i}">', f"<h2>Step {i}: {escape(heading)}</h2>"]
    loop = steps.loop_start(trace, result)
    if loop is not None and i == loop:
        parts.append(f'<p class="loop">The loop starts here: the last step (step {len(result.steps)}) returns to this state.</p>')
    if loop is not None and i == len(result.steps):
        parts.append(f'<p class="loop">Back to the state after step {loop}: a run can go round the loop forever.</p>')
    at, word = steps.outcome(trace, result)
    if at == i:
        kind = "violation" if word.startswith("VIOLATED") else "note"
        parts.append(f'<p class="{kind}"><strong>{escape(word)}</strong>: {escape(result.message)}</p>')
    before = states[i - 1] if i else None
    if before is not None:
        action = result.steps[i - 1].action
        writes = steps.api_writes(before, states[i])
        delivered = steps.delivered(ctx, before, action) if action.name == WATCH_DELIVER else ""
        shown = [f"{w} (labels {w.labels})" if w.labels else str(w) for w in writes]
        parts.append(_list("writes to the API server", shown) if writes else "")
        parts.append(f"<p>watch event delivered: {escape(delivered)}</p>" if delivered else "")
        changes = cluster_changes(ctx, before, states[i])
        parts.append(_changes(changes) if changes else "<p>(no visible change: caches, memory or watch channels only)</p>")
    old_tables: Sequence[Table | None] = tables[i - 1] if i else [None] * len(tables[i])
    parts += [_table(table, old) for table, old in zip(tables[i], old_tables, strict=True)]
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _list(title: str, items: Sequence[str]) -> str:
    return f'<p>{escape(title)}:</p><ul class="changes">' + "".join(f"<li>{escape(x)}</li>" for x in items) + "</ul>"


def _changes(lines: Sequence[str]) -> str:
    classes = {"+": "add", "-": "del", "~": "mod"}
    items = "".join(f'<li class="{classes.get(line[:1], "mod")}">{escape(line)}</li>' for line in lines)
    return f'<p>changes:</p><ul class="changes">{items}</ul>'


def _table(table: Table, before: Table | None) -> str:
    """A table with the rows added since ``before`` marked, changed cells marked and removed rows shown struck through."""
    keys = _KEY_COLUMNS.get(table.title, 2)
    old = {row[:keys]: row for row in before.rows} if before is not None else None
    rows = []
    for row in table.rows:
        prev = old.get(row[:keys]) if old is not None else row
        if prev is None:
            rows.append('<tr class="added">' + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
            continue
        marks = [c != p and h != "AGE" for h, c, p in zip(table.headers, row, prev, strict=True)]
        cells = "".join(f'<td class="changed">{escape(c)}</td>' if m else f"<td>{escape(c)}</td>" for c, m in zip(row, marks, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    if old is not None:
        current = {row[:keys] for row in table.rows}
        rows += ['<tr class="removed">' + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for key, row in old.items() if key not in current]
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = "".join(rows) or f'<tr><td colspan="{len(table.headers)}">No resources found.</td></tr>'
    return f"<table><caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
