"""kspec's pytest plugin: ``pytest --kspec`` runs the checks of ``[tool.kspec]``; the ``kspec_model`` fixture.

Installed with kspec (entry point ``pytest11``), so it is loaded in every
pytest run of every project that installs kspec: without ``--kspec`` it adds
the option and the fixture and does nothing else, and importing it imports
neither the spec nor an engine.

``pytest --kspec`` reads ``[tool.kspec]`` from the project's pyproject.toml
(``checker.config``) and adds one test item per (scenario, variant, engine)
after the collected tests, with node ids such as
``pyproject.toml::basic/default/hypothesis`` (``#2``, ``#3`` ... when two
checks name the same run), so ``-k`` selects among them.
An item is one engine run over its invariants, as ``kspec check`` makes it:
it fails when an invariant is violated, showing the violation, the
counterexample step by step and the file it was saved to; it passes
otherwise, and what it covered (examples or states and depth; a bounded
search, not a proof, unless an explorer search was complete) is listed under
"kspec coverage" at the end of the run and
recorded as the item's ``kspec`` user property (in ``--junitxml``). A bad
``[tool.kspec]`` is one usage-error line naming the file and the key.

The ``kspec_model`` fixture is for tests that build their own model, for
example with a controller of their own beside the built-in components::

    def test_my_controller_keeps_one_pod_per_node(kspec_model):
        model = kspec_model("basic", extra_components=[MY_CONTROLLER])
        kspec_model.assert_holds(model, engine="explore", depth=4)

``kspec_model(scenario="basic", variant="default", extra_components=(),
symmetry=False)`` returns a ``spec.model.KubeModel``; ``kspec_model.check(model,
invariants=(), engine="hypothesis", seed=None, max_examples=None, depth=None,
max_states=None, time_limit=None)`` runs one engine over it
(``checker.modelcheck.ModelCheck``: ``.violated``, ``.report``, ``.text``),
saving a counterexample under the test's ``tmp_path``; ``assert_holds`` (same
arguments) fails the test with the counterexample when one is found.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from checker.check import RunReport
    from checker.config import CheckConfig, ProjectConfig
    from checker.modelcheck import ModelCheck
    from checker.usermodel import ModelFile
    from spec.component import ComponentType
    from spec.model import KubeModel

USER_PROPERTY = "kspec"
"""the user property a kspec item records its coverage under"""
_PROJECT = pytest.StashKey["ProjectConfig"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--kspec``."""
    group = parser.getgroup("kspec", "kspec model checks")
    group.addoption("--kspec", action="store_true", default=False, help="also run the model checks configured in pyproject.toml [tool.kspec]")


def pytest_configure(config: pytest.Config) -> None:
    """With ``--kspec``: read ``[tool.kspec]``; a bad one is a usage error of one line."""
    if not config.getoption("kspec"):
        return
    from checker.config import load_project
    from spec.errors import KspecError

    try:
        config.stash[_PROJECT] = load_project(_pyproject(config))
    except KspecError as e:
        raise pytest.UsageError(f"kspec: {e}") from None


def _pyproject(config: pytest.Config) -> Path:
    """The project's pyproject.toml: pytest's config file if it is one, else the one in the rootdir."""
    if config.inipath is not None and config.inipath.name == "pyproject.toml":
        return config.inipath
    return config.rootpath / "pyproject.toml"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--kspec``: the checks after the collected tests (first among these hooks, so ``-k`` and ``-m`` apply to them)."""
    project = config.stash.get(_PROJECT, None)
    if project is None:
        return
    file = KspecFile.from_parent(session, path=project.path, project=project)
    checks = list(file.collect())
    session.ihook.pytest_collectreport(report=pytest.CollectReport(file.nodeid, "passed", None, list(checks)))  # counted as collected
    items.extend(checks)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """With ``--kspec``: what each check covered."""
    if config.stash.get(_PROJECT, None) is None:
        return
    lines = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for key, value in getattr(report, "user_properties", ()):
                if key == USER_PROPERTY and report.when == "call":
                    lines.append(f"{report.nodeid}: {outcome}: {value}")
    if lines:
        terminalreporter.write_sep("-", "kspec coverage")
        for line in sorted(lines):
            terminalreporter.write_line(line)


class KspecFile(pytest.File):
    """The project's pyproject.toml as the collector of its ``[tool.kspec]`` checks."""

    def __init__(self, *, project: ProjectConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project

    def collect(self) -> Iterator[KspecItem]:
        seen: dict[str, int] = {}
        for check in self.project.checks:
            seen[check.name] = seen.get(check.name, 0) + 1
            name = check.name if seen[check.name] == 1 else f"{check.name}#{seen[check.name]}"
            yield KspecItem.from_parent(self, name=name, check=check, out=self.project.out)


class KspecViolation(Exception):
    """A kspec item's invariant was violated; the text is the counterexample."""


class KspecItem(pytest.Item):
    """One engine run over one scenario and variant, as ``kspec check`` makes it."""

    def __init__(self, *, check: CheckConfig, out: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.out = out

    def runtest(self) -> None:
        from checker.junit import counterexample_text, covered, extent, violation_line

        report, user = _run(self.check, self.out)
        self.user_properties.append((USER_PROPERTY, _summary(report, self.check.seed)))
        if report.violated:
            raise KspecViolation(f"{violation_line(report)}\n\n{counterexample_text(report, user=user)}")
        self.add_report_section("call", "kspec", f"{covered(report, self.check.seed)}; {extent(report)}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, KspecViolation):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"kspec {self.check.name}"


def _run(check: CheckConfig, out: Path) -> tuple[RunReport, ModelFile | None]:
    """``check``'s engine run as ``kspec check`` makes it, and the model file it loaded (if any)."""
    from checker import usermodel
    from checker.check import ExploreOptions, check_one
    from spec.manifests import scenario_from_manifests
    from spec.variants import get_variant

    user = usermodel.load(check.model) if check.model else None
    scenario = scenario_from_manifests(check.manifests).scenario if check.manifests else usermodel.get_scenario(check.scenario, user)
    report = check_one(
        scenario,
        get_variant(check.variant),
        check.invariants,
        seed=check.seed,
        max_examples=check.max_examples,
        out=out,
        engine=check.engine,
        explore_options=ExploreOptions(limits=check.limits),
        user=user,
    )
    return report, user


def _summary(report: RunReport, seed: int) -> str:
    """One line: what the run covered and how many invariants held."""
    from checker.check import HOLDS, NOT_REACHED
    from checker.junit import covered, extent, violated_name

    held = sum(1 for _, v in report.verdicts if v == HOLDS)
    unreached = sum(1 for _, v in report.verdicts if v == NOT_REACHED)
    verdict = f"{held} of {len(report.verdicts)} invariants hold" + (f", {unreached} not reached" if unreached else "")
    if report.violated:
        verdict += f", {violated_name(report)} violated"
    return f"{covered(report, seed)}; {verdict} ({extent(report)})"


class KspecModels:
    """The ``kspec_model`` fixture: build a model with a test's own components, and check it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        """where counterexamples are saved (under the test's tmp_path)"""

    def __call__(
        self, scenario: str = "basic", variant: str = "default", extra_components: Sequence[ComponentType] = (), symmetry: bool = False
    ) -> KubeModel:
        """A built-in scenario and variant, with ``extra_components`` beside the built-in components."""
        from checker.modelcheck import build_model

        return build_model(scenario, variant, extra_components, symmetry)

    def check(
        self,
        model: KubeModel,
        invariants: Sequence[str] = (),
        *,
        engine: str = "hypothesis",
        seed: int | None = None,
        max_examples: int | None = None,
        depth: int | None = None,
        max_states: int | None = None,
        time_limit: float | None = None,
    ) -> ModelCheck:
        """One engine run over ``model`` (``kspec check``'s defaults unless told); explore bounds need ``engine="explore"``."""
        from checker.explore import Limits
        from checker.modelcheck import check_model
        from spec.errors import InvalidInputError

        limits = Limits(depth, max_states, time_limit)
        if engine != "explore" and limits != Limits():
            raise InvalidInputError("kspec_model.check: depth, max_states and time_limit bound the explorer only; pass engine='explore'")
        return check_model(model, invariants, engine=engine, seed=seed, max_examples=max_examples, limits=limits, out=self.out)

    def assert_holds(self, model: KubeModel, invariants: Sequence[str] = (), **budget: Any) -> ModelCheck:
        """``check``, failing the test with the counterexample if an invariant is violated."""
        result = self.check(model, invariants, **budget)
        if result.violated:
            pytest.fail(result.text, pytrace=False)
        return result


@pytest.fixture
def kspec_model(tmp_path: Path) -> KspecModels:
    """Build a kspec model with your own components and check it (see ``checker.pytest_plugin``)."""
    return KspecModels(tmp_path / "kspec-out")
