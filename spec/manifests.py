"""Real Kubernetes manifests as a scenario: YAML files or folders in, the cluster they create out.

``kspec check --manifests PATH`` reads each PATH (a file, or every ``.yaml``
and ``.yml`` file of a folder, not its subfolders, in name order, as
``kubectl apply -f`` does), every document of each file (``---``), and
``kind: List`` items. The kinds kspec models are read by :mod:`spec.kinds`
(Pod, ReplicaSet, Deployment, Service, Node, Namespace); any other kind is
skipped with one warning. The objects are created through the model's API
server at the start, in file and document order; Nodes become the
scenario's machines, or ``--nodes N`` machines of ``--node-cpu`` and
``--node-memory`` are made (default 2 nodes of 2 cpu and 4Gi). Every
namespace an object names is created first.

The bounds: no user operations and no faults, so a check asks whether the
cluster converges from these objects, whatever the interleaving of the
components; the clock does not advance. An example takes at most 60 steps
plus 60 per pod and 20 per Service (a pod needs about 15 steps to be
created, scheduled, started and published, and the components interleave:
with this bound every example of the guestbook, and of a ReplicaSet of 10,
reaches a quiescent state).
For the explorer such a cluster is large: every interleaving of every
pod's life, so give it ``--depth``, ``--max-states`` or ``--time-limit``.

YAML is read with ``yaml.safe_load_all``, after ``yaml.compose_all`` has
checked that no mapping repeats a key (kubectl's strict decoding refuses
that too). Values are then made JSON as the YAML-to-JSON conversion does (keys
become strings, dates their ISO text); NaN and infinities are refused.
A bad document is refused with one line naming the file, the document
(numbered from 1, counting empty ones), the object and the field.

The scenario keeps the JSON of every object it was built from
(:class:`ManifestSource`), so a trace found on it carries them and replays
without the files (``checker.trace``, field ``manifests``).
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import yaml

from spec import kinds, quantity
from spec.decode import DecodeError, Fields, article, child, kind_of, unsupported
from spec.errors import InvalidInputError
from spec.objects import Obj, ReplicaSet, Service
from spec.scenarios import CLUSTERS, SCENARIOS, Bounds, NodeConfig, Scenario, node

YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_NODES, DEFAULT_NODE_CPU, DEFAULT_NODE_MEMORY = 2, "2", "4Gi"
_MAX_DEPTH = 100


@attrs.frozen
class Entry:
    """One object of a manifest, as JSON."""

    where: str
    """its file and document (``guestbook/frontend.yaml: document 2``, then ``: items[0]`` in a List)"""
    text: str
    """the object as compact JSON, keys in the file's order"""

    @classmethod
    def of(cls, where: str, data: Any) -> Entry:
        """The entry of ``data``, kept as compact JSON."""
        return cls(where, json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False))

    @property
    def data(self) -> Any:
        """The object's JSON data."""
        return json.loads(self.text)


@attrs.frozen
class NodeOptions:
    """Machines made from ``--nodes``, ``--node-cpu`` and ``--node-memory`` (when no Node is in the manifests)."""

    count: int = DEFAULT_NODES
    """how many nodes: node-1, node-2, ..."""
    cpu: str = DEFAULT_NODE_CPU
    """each node's cpu, a quantity"""
    memory: str = DEFAULT_NODE_MEMORY
    """each node's memory, a quantity"""

    def configs(self) -> tuple[NodeConfig, ...]:
        """The nodes (room for 110 pods each, the kubelet's default)."""
        if self.count < 1:
            raise InvalidInputError(f"--nodes: Invalid value: {self.count}: must be at least 1")
        cpu = quantity.milli_value(_option_quantity("--node-cpu", self.cpu))
        memory = quantity.value(_option_quantity("--node-memory", self.memory))
        return tuple(node(f"node-{i}", cpu=cpu, memory=memory, pods=kinds.DEFAULT_MAX_PODS) for i in range(1, self.count + 1))


def _option_quantity(option: str, text: str) -> Fraction:
    try:
        amount = quantity.parse_quantity(text)
    except quantity.QuantityError as e:
        raise InvalidInputError(f'{option}: Invalid value: "{text}": {e}') from None
    if amount < 0:
        raise InvalidInputError(f'{option}: Invalid value: "{text}": must be greater than or equal to 0')
    return amount


@attrs.frozen
class ManifestSource:
    """What a manifest scenario was built from: its objects' JSON, and the node options if no Node was given."""

    entries: tuple[Entry, ...]
    """the objects of modelled kinds, in creation order"""
    nodes: NodeOptions | None
    """the generated nodes; None when the Nodes are among the entries"""

    def to_json(self) -> dict[str, Any]:
        """The source as a trace embeds it."""
        nodes = None if self.nodes is None else {"count": self.nodes.count, "cpu": self.nodes.cpu, "memory": self.nodes.memory}
        return {"nodes": nodes, "objects": [{"source": e.where, "object": e.data} for e in self.entries]}

    @classmethod
    def from_json(cls, data: object, where: str) -> ManifestSource:
        """Read :meth:`to_json`'s data back, strictly (InvalidInputError naming ``where`` and the field)."""
        try:
            top = Fields.of(data, "manifests")
            top.known(("nodes", "objects"))
            entries = tuple(_entry_from_json(f) for f in top.objects("objects"))
            if not top.has("nodes"):
                return cls(entries, None)
            n = top.mapping("nodes")
            n.known(("count", "cpu", "memory"))
            return cls(entries, NodeOptions(n.integer("count", 0), n.required_string("cpu"), n.required_string("memory")))
        except DecodeError as e:
            raise InvalidInputError(f"{where}: {e}") from None


def _entry_from_json(f: Fields) -> Entry:
    f.known(("source", "object"))
    obj = Fields.of(f.get("object"), f.at("object"))
    return Entry.of(f.required_string("source"), obj.data)


@attrs.frozen
class ManifestScenario(Scenario):
    """A scenario built from manifests; it keeps what it was built from, so that a trace can rebuild it."""

    source: ManifestSource = attrs.field(kw_only=True)
    """the objects' JSON and the node options"""


@attrs.frozen
class Loaded:
    """A manifest scenario and the warnings reading it gave (skipped kinds, ignored fields)."""

    scenario: ManifestScenario
    warnings: tuple[str, ...]


# ------------------------------------------------------------ files and documents


def yaml_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files to read: each file given, and each folder's .yaml/.yml files in name order."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
            if not found:
                raise InvalidInputError(f"{given}: no .yaml or .yml files in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidInputError(f"{given}: no such file or folder")
    return files


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InvalidInputError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})") from None


def _yaml_error(path: Path, index: int, e: yaml.YAMLError) -> InvalidInputError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or getattr(e, "context", None) or str(e)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return InvalidInputError(f"{path}: document {index}: invalid YAML{at}: {problem}")


def documents(path: Path) -> list[Any]:
    """Every document of a YAML file, as ``yaml.safe_load_all`` gives it (None for an empty one)."""
    text = _text(path)
    done: list[Any] = []
    try:
        for tree in yaml.compose_all(text, Loader=yaml.SafeLoader):
            done.append(tree)
            _check_keys(path, len(done), tree)
        done = []
        for value in yaml.safe_load_all(text):
            done.append(value)
        return done
    except yaml.YAMLError as e:
        raise _yaml_error(path, len(done) + 1, e) from None


def _check_keys(path: Path, index: int, tree: yaml.Node | None, seen: set[int] | None = None) -> None:
    """Refuse a mapping that repeats a key, as the API server's YAML decoder does."""
    seen = set() if seen is None else seen
    if tree is None or id(tree) in seen:
        return
    seen.add(id(tree))
    if isinstance(tree, yaml.MappingNode):
        lines: dict[tuple[str, str], int] = {}
        for key, value in tree.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                first = lines.get((key.tag, key.value))
                lines.setdefault((key.tag, key.value), key.start_mark.line + 1)
                if first is not None:
                    where = f"{path}: document {index}: invalid YAML at line {key.start_mark.line + 1}, column {key.start_mark.column + 1}"
                    raise InvalidInputError(f'{where}: mapping key "{key.value}" already defined at line {first}')
            _check_keys(path, index, value, seen)
    elif isinstance(tree, yaml.SequenceNode):
        for item in tree.value:
            _check_keys(path, index, item, seen)


class _NoJson(ValueError):
    """A YAML value with no JSON form (the message starts with its field path)."""


def to_json(value: Any, field: str = "", depth: int = 0) -> Any:
    """A YAML value as the JSON the API server would receive (_NoJson for NaN, infinities, odd types)."""
    if depth > _MAX_DEPTH:
        raise _NoJson(f"{field or 'the document'}: nested too deeply (or refers to itself)")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NoJson(f"{field}: Invalid value: {value}: JSON has no NaN or infinity")
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        keys = {k: str(k).lower() if isinstance(k, bool) else str(k) for k in value}
        return {keys[k]: to_json(v, child(field, keys[k]), depth + 1) for k, v in value.items()}
    if isinstance(value, set):
        return {str(k): None for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [to_json(v, f"{field}[{i}]", depth + 1) for i, v in enumerate(value)]
    raise _NoJson(f"{field}: a YAML {type(value).__name__} has no JSON form")


Warnings = list[tuple[int, str]]
"""warnings, each with the number of entries read before it (to list them in document order)"""


def read_entries(paths: Sequence[str | Path]) -> tuple[list[Entry], Warnings]:
    """The objects of modelled kinds in the manifests at ``paths``, and a warning per skipped document."""
    entries: list[Entry] = []
    warnings: Warnings = []
    for path in yaml_files(paths):
        for index, raw in enumerate(documents(path), start=1):
            where = f"{path}: document {index}"
            try:
                data = to_json(raw)
            except _NoJson as e:
                raise InvalidInputError(f"{_label(where, raw)}: {e}") from None
            if data is not None:
                entries += _entries(where, data, warnings, len(entries))
    return entries, warnings


def _entries(where: str, data: Any, warnings: Warnings, before: int) -> list[Entry]:
    """One document's entries: the object, a List's items, or nothing (a skipped kind, with a warning)."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}: expected a Kubernetes object (a mapping with apiVersion and kind), got {article(kind_of(data))}")
    version, kind = _type_meta(where, data)
    if kind == "List":
        if version != "v1":
            raise InvalidInputError(f"{where}: {unsupported('apiVersion', version, ('v1',))}")
        items = Fields.of(data, "")
        try:
            items.known(("apiVersion", "kind", "metadata", "items"))
            pairs = items.items("items")
        except DecodeError as e:
            raise InvalidInputError(f"{where} (List): {e}") from None
        found: list[Entry] = []
        for field, item in pairs:
            found += _entries(f"{where}: {field}", item, warnings, before + len(found))
        return found
    if kind not in kinds.KINDS:
        warnings.append((before, f"{where}: kind {kind} is not modelled; skipped"))
        return []
    if kinds.KINDS[kind] != version:
        raise InvalidInputError(f"{_label(where, data)}: {unsupported('apiVersion', version, (kinds.KINDS[kind],))}")
    return [Entry.of(where, data)]


def _type_meta(where: str, data: dict[str, Any]) -> tuple[str, str]:
    """apiVersion and kind, both required strings."""
    f = Fields(data, "")
    try:
        version, kind = f.string("apiVersion"), f.string("kind")
    except DecodeError as e:
        raise InvalidInputError(f"{where}: {e}") from None
    for field, value in (("apiVersion", version), ("kind", kind)):
        if not value:
            raise InvalidInputError(f"{where}: {field}: Required value: every object needs apiVersion and kind")
    return version, kind


def _label(where: str, data: Any) -> str:
    """``where (Kind name)``, as far as the object says."""
    if not isinstance(data, dict):
        return where
    kind = data.get("kind") if isinstance(data.get("kind"), str) else "object"
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"{where} ({kind} {name})" if isinstance(name, str) and name else f"{where} ({kind})"


# ------------------------------------------------------------ the scenario


@attrs.define
class _Cluster:
    """The objects, nodes and namespaces read so far, with where each came from (to name duplicates)."""

    objects: list[Obj] = attrs.Factory(list)
    nodes: list[NodeConfig] = attrs.Factory(list)
    namespaces: set[str] = attrs.Factory(lambda: {"default"})
    origin: dict[tuple[str, str], str] = attrs.Factory(dict)
    warnings: Warnings = attrs.Factory(list)
    kinds: Counter[str] = attrs.Factory(Counter)

    def claim(self, kind: str, key: str, label: str, name: str) -> None:
        previous = self.origin.setdefault((kind, key), label)
        if previous != label:
            raise InvalidInputError(f'{label}: metadata.name: Duplicate value: "{name}": a {kind} of that name comes from {previous}')

    def add(self, index: int, entry: Entry) -> None:
        data = entry.data
        version, kind = _type_meta(entry.where, data)
        label = _label(entry.where, data)
        if kind not in kinds.KINDS:
            raise InvalidInputError(f"{label}: kind: Unsupported value: {kind!r}: kspec reads " + ", ".join(sorted(kinds.KINDS)))
        try:
            decoded = kinds.read(Fields(data, ""), version, kind)
        except DecodeError as e:
            raise InvalidInputError(f"{label}: {e}") from None
        self.warnings += [(index, f"{label}: {w}") for w in decoded.warnings]
        self.kinds[decoded.kind] += decoded.obj is not None
        obj = decoded.obj
        if isinstance(obj, NodeConfig):
            self.claim("Node", obj.name, label, obj.name)
            self.nodes.append(obj)
        elif isinstance(obj, str):
            self.namespaces.add(obj)
        elif obj is not None:
            if obj.meta.name:
                self.claim(obj.kind, obj.meta.key, label, obj.meta.name)
            self._claim_node_ports(obj, label)
            self.namespaces.add(obj.meta.namespace)
            self.objects.append(obj)

    def _claim_node_ports(self, obj: Obj, label: str) -> None:
        if isinstance(obj, Service):
            for i, port in enumerate(obj.spec.ports):
                if port.node_port and self.origin.setdefault(("nodePort", str(port.node_port)), label) != label:
                    raise InvalidInputError(f"{label}: spec.ports[{i}].nodePort: Invalid value: {port.node_port}: provided port is already allocated")


def scenario_name(paths: Sequence[str | Path]) -> str:
    """The scenario's name: the names of the paths without .yaml/.yml, joined by '+' (never a built-in scenario's or small cluster's)."""
    parts = [Path(p).resolve().name if Path(p).name in ("", ".", "..") else Path(p).name for p in paths]
    stems = [p[: -len(s)] if (s := Path(p).suffix) in YAML_SUFFIXES else p for p in parts]
    name = re.sub(r"[^A-Za-z0-9._+-]", "-", "+".join(s for s in stems if s)) or "manifests"
    return f"{name}-manifests" if name in SCENARIOS or name in CLUSTERS else name


def _steps(objects: Sequence[Obj]) -> int:
    pods = sum(o.spec.replicas if isinstance(o, ReplicaSet) else 1 for o in objects if o.kind in ("Pod", "ReplicaSet"))
    services = sum(1 for o in objects if isinstance(o, Service))
    return 60 + 60 * pods + 20 * services


def _build(name: str, source: ManifestSource, where: str) -> tuple[ManifestScenario, Warnings]:
    """The scenario of ``source`` and its warnings (``where`` prefixes every error: the trace that embeds it, say)."""
    cluster = _Cluster()
    try:
        for index, entry in enumerate(source.entries):
            cluster.add(index, entry)
        nodes = _nodes(cluster, source.nodes)
    except InvalidInputError as e:
        raise InvalidInputError(f"{where}{e}") from None
    what = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in sorted(cluster.kinds.items()) if kind != "Node" and n) or "no objects"
    scenario = ManifestScenario(
        name=name,
        summary=f"{len(nodes)} nodes and {what} from manifests, from creation; no user operations, no faults",
        nodes=nodes,
        objects=tuple(cluster.objects),
        namespaces=tuple(sorted(cluster.namespaces)),
        bounds=Bounds(steps=_steps(cluster.objects)),
        source=source,
    )
    return scenario, cluster.warnings


def _nodes(cluster: _Cluster, options: NodeOptions | None) -> tuple[NodeConfig, ...]:
    if cluster.nodes and options is not None:
        first = next(label for (kind, _), label in cluster.origin.items() if kind == "Node")
        raise InvalidInputError(f"--nodes, --node-cpu and --node-memory cannot be combined with Node manifests ({first})")
    if cluster.nodes:
        return tuple(cluster.nodes)
    return (options or NodeOptions()).configs()


def scenario_from_manifests(
    paths: Sequence[str | Path], nodes: int | None = None, node_cpu: str | None = None, node_memory: str | None = None
) -> Loaded:
    """The scenario the manifests at ``paths`` create, named after them, with the warnings reading them gave.

    ``nodes``, ``node_cpu`` and ``node_memory`` make the machines when the
    manifests hold no Node (defaults: 2 nodes of 2 cpu and 4Gi); giving any
    of them together with Node manifests is an error.
    """
    entries, skipped = read_entries(paths)
    given = (nodes, node_cpu, node_memory) != (None, None, None)
    has_nodes = any(e.data.get("kind") == "Node" for e in entries)
    options = None
    if given or not has_nodes:
        options = NodeOptions(DEFAULT_NODES if nodes is None else nodes, node_cpu or DEFAULT_NODE_CPU, node_memory or DEFAULT_NODE_MEMORY)
    scenario, decoded = _build(scenario_name(paths), ManifestSource(tuple(entries), options), "")
    in_order = sorted([(at, 0, text) for at, text in skipped] + [(at, 1, text) for at, text in decoded], key=lambda w: w[:2])
    return Loaded(scenario, tuple(text for _, _, text in in_order))


def scenario_from_json(name: str, data: object, where: str) -> ManifestScenario:
    """Rebuild a manifest scenario from the JSON a trace embeds (``ManifestSource.to_json``)."""
    return _build(name, ManifestSource.from_json(data, where), f"{where}: ")[0]
