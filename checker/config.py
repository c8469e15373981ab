"""The ``[tool.kspec]`` table of a project's ``pyproject.toml``: the checks ``pytest --kspec`` runs.

::

    [tool.kspec]
    seed = 0                          # hypothesis [default: kspec check's]
    max-examples = 300                # hypothesis [default: kspec check's]
    out = "kspec-out"                 # counterexamples, relative to pyproject.toml [default: kspec check's --out]

    [[tool.kspec.check]]              # optional; without it, [tool.kspec] itself is the one check
    scenarios = ["services"]          # built-in scenarios, or "all" [default: each variant's witness; every scenario for default]
    variants = ["default"]            # [default: ["default"]]
    engines = ["hypothesis", "explore"]  # [default: ["hypothesis"]]
    depth = 6                         # explore: states deeper are not expanded [default: no bound]
    max-states = 100000               # explore: stop after this many distinct states [default: no bound]
    time-limit = 60                   # explore: seconds per check [default: no bound]

    [[tool.kspec.check]]              # your own cluster and controller (paths relative to pyproject.toml)
    manifests = ["k8s/"]              # instead of scenarios: the cluster these YAML files or folders create
    model = "controllers/agent.py"    # your components and invariants beside the built-in ones (the file is run)

    [[tool.kspec.check]]              # each check takes the keys of [tool.kspec] (but out) as defaults
    variants = ["apiserver-clusterip-lag"]
    engines = ["explore"]
    invariants = ["unique-cluster-ip"]  # [default: every invariant]
    depth = 3

Without ``[[tool.kspec.check]]`` the table itself is the one check. Each
check runs every (scenario, variant, engine) it names. An unknown key, an
unknown name, a value of the wrong type or an explore bound that no explore
check uses is a :class:`ConfigError` (or ``UnknownNameError``): one line
naming the file and the key, with the close matches.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from checker import usermodel
from checker.check import ENGINES, EXPLORE, HYPOTHESIS, Z3
from checker.explore import Limits
from spec.errors import InvalidInputError, UnknownNameError
from spec.manifests import scenario_from_manifests
from spec.scenarios import CLUSTERS, SCENARIOS
from spec.variants import DEFAULT, VARIANTS

ALL = "all"
"""in ``scenarios``: every built-in scenario"""
CHECK_KEYS = ("scenarios", "manifests", "model", "variants", "engines", "invariants", "seed", "max-examples", "depth", "max-states", "time-limit")
"""the keys of one check (a ``[[tool.kspec.check]]`` table, or ``[tool.kspec]`` itself)"""
KEYS = (*CHECK_KEYS, "out", "check")
"""the keys of ``[tool.kspec]``"""
EXPLORE_KEYS = ("depth", "max-states", "time-limit")
"""bounds that only the explorer takes (and Z3: depth and time-limit)"""


class ConfigError(InvalidInputError):
    """A ``[tool.kspec]`` value of the wrong type or range (one line: file, key, problem)."""


@attrs.frozen
class CheckConfig:
    """One engine run: a scenario, a variant, an engine and its budget."""

    scenario: str
    variant: str
    engine: str
    invariants: tuple[str, ...]
    """the invariants checked (empty: every one)"""
    seed: int
    max_examples: int
    limits: Limits
    """the explorer's bounds"""
    manifests: tuple[str, ...] = ()
    """the manifest files or folders the scenario is built from (``kspec check --manifests``), if any"""
    model: str | None = None
    """the model file (``kspec check --model``), if any"""

    @property
    def name(self) -> str:
        """``scenario/variant/engine``."""
        return f"{self.scenario}/{self.variant}/{self.engine}"


@attrs.frozen
class ProjectConfig:
    """The checks of one ``pyproject.toml``."""

    path: Path
    """the pyproject.toml read"""
    out: Path
    """where counterexamples are written"""
    checks: tuple[CheckConfig, ...]


def cli_default(name: str) -> Any:
    """The default of ``kspec check``'s option ``name`` (``out_dir``, ``seed``, ``max_examples``): one place for both."""
    from checker.cli import check

    for param in check.params:
        if param.name == name:
            return param.default
    raise KeyError(name)


def load_project(path: Path) -> ProjectConfig:
    """Read ``[tool.kspec]`` from the pyproject.toml at ``path``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    tool = data.get("tool")
    table = tool.get("kspec") if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: no [tool.kspec] table: add one to say what pytest --kspec checks")
    return _Reader(path).project(table)


@attrs.frozen
class _Reader:
    """Checks ``[tool.kspec]`` value by value; each problem names the file and the key."""

    path: Path

    def where(self, key: str) -> str:
        return f"{self.path}: [tool.kspec].{key}"

    def project(self, table: dict[str, Any]) -> ProjectConfig:
        self.known_keys(table, KEYS, "")
        out = table.get("out", cli_default("out_dir"))
        if not isinstance(out, str) or not out:
            raise ConfigError(f"{self.where('out')}: expected a folder name (a non-empty string), got {out!r}")
        entries = table.get("check")
        if entries is None:
            single = self.checks(table, "")
            self.check_bounds_used(table, [(table, {})], "")
            return ProjectConfig(self.path, self.path.parent / out, tuple(single))
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise ConfigError(f"{self.where('check')}: expected one or more [[tool.kspec.check]] tables, got {entries!r}")
        defaults = {k: v for k, v in table.items() if k in CHECK_KEYS}
        self.checks(defaults, "")  # the defaults' own values, each named as a [tool.kspec] key
        checks = []
        for i, entry in enumerate(entries):
            self.known_keys(entry, CHECK_KEYS, f".check[{i}]")
            merged = {**defaults, **entry}
            checks += self.checks(merged, f"check[{i}].")
            self.check_bounds_used(entry, [(merged, {})], f"check[{i}].")
        self.check_bounds_used(defaults, [({**defaults, **e}, e) for e in entries], "")
        return ProjectConfig(self.path, self.path.parent / out, tuple(checks))

    def known_keys(self, table: Mapping[str, Any], known: Sequence[str], where: str) -> None:
        for key in table:
            if key not in known:
                raise UnknownNameError("key", key, known, where=f"{self.path}: [tool.kspec]{where}")

    def check_bounds_used(self, table: Mapping[str, Any], users: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], prefix: str) -> None:
        """An explorer bound that no explore check takes is a mistake (as ``kspec check --depth`` without ``--engine explore``).

        ``users``: each check that inherits ``table``'s keys, merged, with its own keys (which override them).
        """
        for key in EXPLORE_KEYS:
            takers = [merged for merged, own in users if key not in own]
            bounded = {EXPLORE} if key == "max-states" else {EXPLORE, Z3}
            if key in table and not any(bounded & set(self.names(u, "engines", ENGINES, [HYPOTHESIS], prefix)) for u in takers):
                whom, add = ("the explorer only", f'"{EXPLORE}"') if key == "max-states" else ("the explorer and Z3 only", f'"{EXPLORE}" or "{Z3}"')
                raise ConfigError(f"{self.where(prefix + key)}: bounds {whom}, and no check here uses it; add {add} to engines")

    def checks(self, table: Mapping[str, Any], prefix: str) -> list[CheckConfig]:
        """Every (scenario, variant, engine) of one check table (its defaults merged in)."""
        variants = self.names(table, "variants", VARIANTS, [DEFAULT.name], prefix)
        engines = self.names(table, "engines", ENGINES, [HYPOTHESIS], prefix)
        model = self.files(table, "model", prefix)
        user = usermodel.load(model[0]) if model else None
        manifests = tuple(self.files(table, "manifests", prefix))
        invariants = tuple(self.names(table, "invariants", usermodel.invariant_catalogue(user), [], prefix))
        seed = self.integer(table, "seed", None, prefix)
        max_examples = self.integer(table, "max-examples", 1, prefix)
        limits = Limits(self.integer(table, "depth", 0, prefix), self.integer(table, "max-states", 1, prefix), self.seconds(table, prefix))
        budget = (int(cli_default("seed")) if seed is None else seed, int(cli_default("max_examples")) if max_examples is None else max_examples)
        runs = []
        for variant in variants:
            for scenario in self.scenarios(table, variant, prefix, manifests, user):
                own = (manifests, model[0] if model else None)
                runs += [CheckConfig(scenario, variant, engine, invariants, *budget, limits, *own) for engine in engines]
        return runs

    def scenarios(self, table: Mapping[str, Any], variant: str, prefix: str, manifests: Sequence[str], user: usermodel.ModelFile | None) -> list[str]:
        """The manifests' scenario; else those named (``all``: every one); else the model file's, or the variant's witness (all for default)."""
        if manifests:
            if "scenarios" in table:
                raise ConfigError(f"{self.where(prefix + 'manifests')}: cannot be combined with scenarios: the manifests are the scenario")
            return [scenario_from_manifests(manifests).scenario.name]
        mine = [user.scenario.name] if user is not None and user.scenario is not None else []
        default = mine or (list(SCENARIOS) if variant == DEFAULT.name else [VARIANTS[variant].witness])
        names = self.names(table, "scenarios", [*SCENARIOS, *CLUSTERS, *mine, ALL], default, prefix)
        return [*SCENARIOS, *(m for m in mine if m not in SCENARIOS)] if ALL in names else names

    def files(self, table: Mapping[str, Any], key: str, prefix: str) -> list[str]:
        """``model`` (a path) or ``manifests`` (a list of paths), relative to pyproject.toml's folder, each of which must exist."""
        if key not in table:
            return []
        value = table[key]
        many = key == "manifests"
        given = value if many and isinstance(value, list) else [value]
        if not given or (many and not isinstance(value, list)) or not all(isinstance(v, str) and v for v in given):
            expected = "a non-empty list of file or folder paths" if many else "a file path"
            raise ConfigError(f"{self.where(prefix + key)}: expected {expected}, got {value!r}")
        paths = [self.path.parent / v for v in given]
        for shown, path in zip(given, paths, strict=True):
            if not path.exists():
                raise ConfigError(f"{self.where(prefix + key)}: {shown!r} does not exist (paths are relative to {self.path.name}'s folder)")
        return [str(p) for p in paths]

    def names(self, table: Mapping[str, Any], key: str, known: Sequence[str] | Mapping[str, Any], default: list[str], prefix: str) -> list[str]:
        """A list of known names, in the order given."""
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.where(prefix + key)}: expected a non-empty list of names, got {value!r}")
        for i, name in enumerate(value):
            if name not in known:
                raise UnknownNameError(key.removesuffix("s"), name, known, where=f"{self.where(prefix + key)}[{i}]")
        return list(dict.fromkeys(value))

    def integer(self, table: Mapping[str, Any], key: str, least: int | None, prefix: str) -> int | None:
        """An integer (never a boolean) of at least ``least``; None if absent."""
        if key not in table:
            return None
        value = table[key]
        if type(value) is not int or (least is not None and value < least):
            at_least = f" >= {least}" if least is not None else ""
            raise ConfigError(f"{self.where(prefix + key)}: expected an integer{at_least}, got {value!r}")
        return value

    def seconds(self, table: Mapping[str, Any], prefix: str) -> float | None:
        """``time-limit``: a number of seconds, at least 0."""
        value = table.get("time-limit")
        if value is None:
            return None
        if type(value) not in (int, float) or value < 0:
            raise ConfigError(f"{self.where(prefix + 'time-limit')}: expected a number of seconds >= 0, got {value!r}")
        return float(value)
