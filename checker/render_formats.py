"""The renderings of a replayed trace that ``kspec replay --format`` offers.

=========  =====================================================================
text       the step-by-step terminal output (``checker.render.format_replay``)
mermaid    a Mermaid sequenceDiagram (``checker.render_mermaid``)
html       one self-contained HTML report (``checker.render_html``)
itf        the Informal Trace Format JSON of Apalache and Quint (``checker.render_itf``)
dot        the run as a Graphviz digraph (``checker.render_dot``)
=========  =====================================================================

Every rendering is text ending in one newline, the same for equal traces in
every process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from checker import render_dot, render_html, render_itf, render_mermaid
from checker.render import format_replay

if TYPE_CHECKING:
    from checker.replay import ReplayResult
    from checker.trace import Trace

Renderer = Callable[["Trace", "ReplayResult", str], str]

RENDERERS: dict[str, Renderer] = {
    "mermaid": render_mermaid.render,
    "html": render_html.render,
    "itf": render_itf.render,
    "dot": render_dot.render,
}
FORMATS = ("text", *RENDERERS)
"""Every format name, the default (text) first."""


def render(fmt: str, trace: Trace, result: ReplayResult, source: str, tables: bool = True) -> str:
    """The replayed trace in format ``fmt`` (``tables`` applies to text only)."""
    if fmt == "text":
        return format_replay(trace, result, source, tables) + "\n"
    return RENDERERS[fmt](trace, result, source)
