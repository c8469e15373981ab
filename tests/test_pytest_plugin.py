"""pytest --kspec runs the checks of [tool.kspec] as test items; the kspec_model fixture; without --kspec, nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

# pytester's in-process runs drop the modules they import, and numpy cannot be loaded twice in a process:
# what the plugin and the engines import lazily (the explorer's numpy, Hypothesis' numpy.random) is imported here, once.
import numpy.random  # noqa: F401
import pytest

import checker.cli
import checker.modelcheck
import checker.vector  # noqa: F401
from checker.config import cli_default, load_project
from checker.explore import Limits
from spec.scenarios import SCENARIOS

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

CHECKS = """
[tool.kspec]
out = "found"
max-examples = 3

[[tool.kspec.check]]
variants = ["apiserver-clusterip-lag"]
engines = ["explore"]
depth = 3

[[tool.kspec.check]]
variants = ["kubelet-ip-by-running"]
max-examples = 50

[[tool.kspec.check]]
scenarios = ["services"]
engines = ["hypothesis", "explore"]
depth = 2
"""


def _project(pytester: pytest.Pytester, toml: str) -> None:
    pytester.makefile(".toml", pyproject=textwrap.dedent(toml))


def _literal(pattern: str) -> str:
    """``pattern`` with its square brackets matched literally by fnmatch (``*`` stays a wildcard)."""
    return re.sub(r"[\[\]]", lambda m: f"[{m.group()}]", pattern)


def test_each_scenario_variant_and_engine_is_an_item_that_fails_with_the_counterexample(pytester: pytest.Pytester) -> None:
    _project(pytester, CHECKS)
    result = pytester.runpytest_inprocess("--kspec", "--junitxml=report.xml")
    result.assert_outcomes(passed=2, failed=2)
    assert 'property name="kspec" value="services / default (explore): 11 distinct states' in (pytester.path / "report.xml").read_text()
    saved = pytester.path / "found" / "services--apiserver-clusterip-lag--unique-cluster-ip.json"
    assert saved.is_file() and (pytester.path / "found" / "batch--kubelet-ip-by-running--unique-pod-ip.json").is_file()
    result.stdout.fnmatch_lines(
        [
            "collected 4 items",
            "*_ kspec services/apiserver-clusterip-lag/explore _*",
            f"unique-cluster-ip: ClusterIP 10.96.0.10 is allocated to default/api and default/web (2 steps; saved {saved})",
            "step 2: user UserCreate kind=Service name=default/api",
            "  VIOLATED unique-cluster-ip: *",
            "violation reproduces at step 2: *",
            f"replay it: kspec replay {saved}",
            "*_ kspec batch/kubelet-ip-by-running/hypothesis _*",
            "unique-pod-ip: *",
            "*- kspec coverage -*",
            "pyproject.toml::batch/kubelet-ip-by-running/hypothesis: failed: *; 14 of 15 invariants hold, unique-pod-ip violated (a bounded *)",
            "pyproject.toml::services/apiserver-clusterip-lag/explore: failed: *",
            "pyproject.toml::services/default/explore: passed: services / default (explore): * depth 2, *; 15 of 15 invariants hold (a bounded *)",
            "pyproject.toml::services/default/hypothesis: passed: services / default (hypothesis, seed 0): 3 examples, *; 15 of 15 invariants hold *",
        ]
    )


def test_k_selects_among_the_checks(pytester: pytest.Pytester) -> None:
    _project(pytester, CHECKS)
    result = pytester.runpytest_inprocess("--kspec", "-k", "services and default", "--collect-only", "-q")
    selected = ["pyproject.toml::services/default/hypothesis", "pyproject.toml::services/default/explore"]
    result.stdout.fnmatch_lines([*selected, "2/4 tests collected (2 deselected)*"])


def test_the_same_run_twice_gets_a_numbered_id(pytester: pytest.Pytester) -> None:
    table = '[tool.kspec]\nscenarios = ["services"]\nengines = ["explore"]\n[[tool.kspec.check]]\ndepth = 1\n[[tool.kspec.check]]\ndepth = 2\n'
    _project(pytester, table)
    result = pytester.runpytest_inprocess("--kspec", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["pyproject.toml::services/default/explore", "pyproject.toml::services/default/explore#2"])


def test_the_default_table_is_one_check(pytester: pytest.Pytester) -> None:
    table = '[tool.kspec]\nscenarios = ["services"]\nvariants = ["default", "apiserver-clusterip-lag"]\nengines = ["explore"]\ndepth = 2\n'
    _project(pytester, table)
    result = pytester.runpytest_inprocess("--kspec", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["pyproject.toml::services/default/explore", "pyproject.toml::services/apiserver-clusterip-lag/explore"])


def test_a_small_cluster_can_be_named(pytester: pytest.Pytester) -> None:
    """A project can hold a bug to the cluster where its shortest run is within reach (spec.scenarios.CLUSTERS)."""
    _project(pytester, '[tool.kspec]\nscenarios = ["placement"]\nvariants = ["two-schedulers"]\nengines = ["z3"]\ndepth = 9\n')
    result = pytester.runpytest_inprocess("--kspec", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["pyproject.toml::placement/two-schedulers/z3"])


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("max-example = 5", "[tool.kspec]: unknown key 'max-example'; did you mean 'max-examples' or 'max-states'?"),
        ('variants = ["kubelet-stale-relis"]', "[tool.kspec].variants[0]: unknown variant 'kubelet-stale-relis'; did you mean 'kubelet-stale-rel*"),
        ('scenarios = ["servics"]', "[tool.kspec].scenarios[0]: unknown scenario 'servics'; did you mean 'services'*"),
        ('engines = ["z4"]', "[tool.kspec].engines[0]: unknown engine 'z4'; did you mean 'z3'?*"),
        ("depth = 3", '[tool.kspec].depth: bounds the explorer and Z3 only, and no check here uses it; add "explore" or "z3" to engines'),
        ("max-states = 3", '[tool.kspec].max-states: bounds the explorer only, and no check here uses it; add "explore" to engines'),
        ("seed = true", "[tool.kspec].seed: expected an integer, got True"),
        (
            'depth = 2\n[[tool.kspec.check]]\nvariants = ["default"]',
            "[tool.kspec].depth: bounds the explorer and Z3 only, and no check here uses *",
        ),
        ('[[tool.kspec.check]]\nengines = ["explore"]\ndepht = 2', "[tool.kspec].check[0]: unknown key 'depht'; did you mean 'depth'?"),
        (
            '[[tool.kspec.check]]\nengines = ["explore"]\ntime-limit = -1',
            "[tool.kspec].check[0].time-limit: expected a number of seconds >= 0, got -1",
        ),
        ('manifests = ["k8s"]', "[tool.kspec].manifests: 'k8s' does not exist (paths are relative to pyproject.toml's folder)"),
        ('manifests = "k8s"', "[tool.kspec].manifests: expected a non-empty list of file or folder paths, got 'k8s'"),
        ('model = ["a.py"]', "[tool.kspec].model: expected a file path, got ['a.py']"),
        ('manifests = ["."]\nscenarios = ["basic"]', "[tool.kspec].manifests: cannot be combined with scenarios: the manifests are the scenario"),
    ],
)
def test_a_bad_table_is_one_usage_error_line_naming_file_and_key(pytester: pytest.Pytester, toml: str, message: str) -> None:
    _project(pytester, f"[tool.kspec]\n{toml}\n")
    result = pytester.runpytest_inprocess("--kspec")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.strip()]
    assert len(errors) == 1
    result.stderr.fnmatch_lines([_literal(f"ERROR: kspec: {pytester.path / 'pyproject.toml'}: {message}")])


def test_check_tables_take_the_top_level_keys_as_defaults(tmp_path: Path) -> None:
    toml = """
    [tool.kspec]
    out = "ce"
    seed = 3
    depth = 4

    [[tool.kspec.check]]
    variants = ["kubelet-stale-relist"]

    [[tool.kspec.check]]
    engines = ["explore"]
    invariants = ["pod-bound-once"]
    max-states = 1000
    """
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(toml))
    project = load_project(tmp_path / "pyproject.toml")
    assert project.out == tmp_path / "ce"
    # a variant runs on its witness scenario; the default variant on every scenario
    assert [c.name for c in project.checks] == ["stateful/kubelet-stale-relist/hypothesis", *(f"{s}/default/explore" for s in SCENARIOS)]
    first, *rest = project.checks
    assert (first.seed, first.max_examples, first.invariants) == (3, cli_default("max_examples"), ())
    assert all(c.limits == Limits(depth=4, states=1000) and c.invariants == ("pod-bound-once",) and c.seed == 3 for c in rest)


def test_the_readmes_table_is_a_valid_one(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    (toml,) = [block for block in re.findall(r"```toml\n(.*?)```", readme, flags=re.S) if "[tool.kspec]" in block]
    (tmp_path / "pyproject.toml").write_text(toml)
    names = [c.name for c in load_project(tmp_path / "pyproject.toml").checks]
    assert names == ["services/default/hypothesis", "services/default/explore", "services/apiserver-clusterip-lag/explore"]


def test_without_a_kspec_table_kspec_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _project(pytester, "[tool.other]\nx = 1\n")
    result = pytester.runpytest_inprocess("--kspec")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([_literal("ERROR: kspec: *pyproject.toml: no [tool.kspec] table*")])


def test_without_the_option_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    _project(pytester, CHECKS)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_inprocess("--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_plain.py::test_plain", "1 test collected in *"])
    assert "kspec" not in result.stdout.str()
    assert not (pytester.path / "found").exists()


def test_loading_the_plugin_imports_neither_the_spec_nor_an_engine() -> None:
    code = "import sys, checker.pytest_plugin; print(sorted(m.split('.')[0] for m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("spec", "hypothesis", "networkx", "z3", "numpy", "click"):
        assert f"'{heavy}'" not in loaded


FIXTURE_TESTS = """
from spec.component import ActionDef, ComponentType, Watch
from spec.objects import POD


def _never(ctx, s, me):
    return ()


def _unused(ctx, s, me, pod):
    return s


WATCHER = ComponentType(kind="pod-watcher", watches=(Watch(POD),), actions=(ActionDef("PodWatcherNoop", ("pod",), _never, _unused),))


def test_own_component_checked_beside_the_built_in_ones(kspec_model):
    model = kspec_model("services", extra_components=[WATCHER])
    assert "pod-watcher" in dict(model.ctx.components)
    result = kspec_model.assert_holds(model, engine="explore", depth=2)
    assert "pod-watcher WatchDeliver" in [c.label for c in result.report.coverage.result.coverage]
    assert not result.violated and result.text.endswith("(a bounded search, not a proof)")


def test_a_bug_fails_with_the_counterexample(kspec_model):
    model = kspec_model("batch", "kubelet-ip-by-running")
    kspec_model.assert_holds(model, invariants=["unique-pod-ip"], max_examples=50)


def test_check_returns_the_verdicts(kspec_model, tmp_path):
    result = kspec_model.check(kspec_model("services", "apiserver-clusterip-lag"), engine="explore", depth=3)
    assert result.violated and dict(result.report.verdicts)["unique-cluster-ip"] == "violated"
    assert result.report.saved == str(tmp_path / "kspec-out" / "services--apiserver-clusterip-lag--unique-cluster-ip.json")
"""


def test_the_kspec_model_fixture_builds_and_checks_a_tests_own_model(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own=FIXTURE_TESTS)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_a_bug_fails_with_the_counterexample _*",
            "scenario batch, variant kubelet-ip-by-running (hypothesis): * examples, *",
            "  violated     unique-pod-ip: * steps; saved *kspec-out/batch--kubelet-ip-by-running--unique-pod-ip.json)",
            "trace *batch--kubelet-ip-by-running--unique-pod-ip.json: scenario batch, variant kubelet-ip-by-running, * steps",
            "violation reproduces at step *: *",
        ]
    )
    assert "replay it: kspec replay" not in result.stdout.str()


def test_the_fixture_refuses_explorer_bounds_for_hypothesis(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="def test_bad(kspec_model):\n    kspec_model.check(kspec_model('services'), depth=2)\n")
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*InvalidInputError: kspec_model.check: depth, max_states and time_limit bound the explorer only; pass engine=*"])


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "kspec"]
    assert plugin.value == "checker.pytest_plugin"
    assert Path(plugin.load().__file__).name == "pytest_plugin.py"


def test_a_check_runs_your_manifests_and_your_model_file(pytester: pytest.Pytester) -> None:
    """``manifests`` and ``model`` (relative to pyproject.toml) are ``kspec check --manifests`` and ``--model``."""
    shutil.copytree(ROOT / "tests" / "data" / "manifests" / "guestbook", pytester.path / "k8s")
    shutil.copy(ROOT / "examples" / "one_pod_per_node.py", pytester.path / "agent.py")
    _project(
        pytester,
        """
        [tool.kspec]
        max-examples = 20

        [[tool.kspec.check]]
        manifests = ["k8s/redis-leader-deployment.yaml", "k8s/redis-leader-service.yaml"]
        variants = ["rs-no-expectations"]

        [[tool.kspec.check]]
        model = "agent.py"
        invariants = ["one-agent-per-node"]
        """,
    )
    result = pytester.runpytest_inprocess("--kspec")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*rs-no-overshoot: created default/redis-leader-*", "*one-agent-per-node: node node-* has 2 active agent pods*"])
    traces = sorted(p.name for p in (pytester.path / "kspec-out").iterdir())
    assert traces == [
        "one-pod-per-node--default--one-agent-per-node.json",
        "redis-leader-deployment+redis-leader-service--rs-no-expectations--rs-no-overshoot.json",
    ]
