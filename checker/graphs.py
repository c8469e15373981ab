"""The reachable state graph the explorer builds: writing it as GraphML or DOT.

Nodes are the explorer's 64-bit state keys (written as 16 hex digits), edges
carry the action as their ``action`` attribute. GraphML goes through
networkx's writer; DOT is written here (one line per node and edge) so that
no Graphviz binding is needed. Both are written atomically.
"""

from __future__ import annotations

import json
import os
from typing import Any

import networkx as nx

from checker.trace import write_text
from spec.errors import InvalidInputError

FORMATS = {".graphml": "GraphML", ".dot": "DOT", ".gv": "DOT"}


def node_id(key: int) -> str:
    """A state key as 16 hex digits."""
    return f"{key:016x}"


def to_dot(graph: Any) -> str:
    """The graph in Graphviz DOT, nodes and edges in a stable (sorted) order."""
    lines = ["digraph states {", "  node [shape=point];"]
    lines += [f'  "{node_id(n)}";' for n in sorted(graph.nodes)]
    for a, b, action in sorted(graph.edges(data="action")):
        lines.append(f'  "{node_id(a)}" -> "{node_id(b)}" [label={json.dumps(str(action))}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(graph: Any) -> str:
    """The graph in GraphML, nodes and edges in a stable (sorted) order."""
    stable: nx.DiGraph[str] = nx.DiGraph()
    stable.add_nodes_from(node_id(n) for n in sorted(graph.nodes))
    stable.add_edges_from((node_id(a), node_id(b), {"action": str(action)}) for a, b, action in sorted(graph.edges(data="action")))
    return "\n".join(nx.generate_graphml(stable)) + "\n"


def check_graph_path(path: str | os.PathLike[str]) -> str:
    """The format ``path``'s suffix asks for (InvalidInputError, exit 2, for any other suffix)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise InvalidInputError(f"{os.fspath(path)}: unknown graph format {suffix or '(none)'!r}; use .graphml, .dot or .gv")
    return FORMATS[suffix]


def write_graph(graph: Any, path: str | os.PathLike[str]) -> None:
    """Write ``graph`` to ``path`` as GraphML (``.graphml``) or DOT (``.dot``, ``.gv``)."""
    fmt = check_graph_path(path)
    write_text(to_graphml(graph) if fmt == "GraphML" else to_dot(graph), path)
