"""kspec check --junit: one JUnit test case per (scenario, variant, invariant), as JUnit consumers read it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import pytest
from junitparser import Failure, JUnitXml, Skipped

from checker import induction
from checker import trace as tracefmt
from checker.check import EXPLORE, ExploreCoverage, ExploreOptions, RunReport, check_one
from checker.cli import main
from checker.explore import Limits
from checker.junit import FAILURE_TYPE, NOT_PROVED_TYPE, to_xml
from spec.invariants import INVARIANTS, QUIESCENT
from spec.model import KubeModel
from spec.scenarios import get_scenario
from spec.variants import get_variant

# Jenkins' junit-10.xsd, the schema JUnit consumers share: per element, its
# attributes (required ones first, then optional ones), and its children in
# sequence order with their greatest number (None: unbounded).
SCHEMA: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, int | None], ...]]] = {
    "testsuites": ((), ("name", "time", "tests", "failures", "disabled", "errors"), (("testsuite", None),)),
    "testsuite": (
        ("name", "tests"),
        ("failures", "errors", "time", "disabled", "skipped", "timestamp", "hostname", "id", "package"),
        (("properties", 1), ("testcase", None), ("system-out", 1), ("system-err", 1)),
    ),
    "properties": ((), (), (("property", None),)),
    "property": (("name", "value"), (), ()),
    "testcase": (
        ("name",),
        ("assertions", "time", "classname", "status"),
        (("skipped", 1), ("error", None), ("failure", None), ("system-out", None), ("system-err", None)),
    ),
    "failure": ((), ("type", "message"), ()),
    "error": ((), ("type", "message"), ()),
    "skipped": ((), (), ()),
    "system-out": ((), (), ()),
    "system-err": ((), (), ()),
}


def assert_valid_junit(element: ET.Element, path: str = "") -> None:
    """``element`` and everything in it conform to junit-10.xsd."""
    where = f"{path}/{element.tag}"
    assert element.tag in SCHEMA, f"{where}: element not in junit-10.xsd"
    required, optional, children = SCHEMA[element.tag]
    assert set(required) <= set(element.attrib), f"{where}: missing {set(required) - set(element.attrib)}"
    assert set(element.attrib) <= {*required, *optional}, f"{where}: attributes outside the schema: {set(element.attrib) - {*required, *optional}}"
    order = [tag for tag, _ in children]
    tags = [child.tag for child in element]
    assert tags == sorted(tags, key=lambda t: order.index(t) if t in order else -1), f"{where}: children {tags} not in the order {order}"
    for tag, most in children:
        assert most is None or tags.count(tag) <= most, f"{where}: more than {most} {tag}"
    if element.tag == "properties":
        assert tags, f"{where}: a properties element has at least one property"
    for child in element:
        assert_valid_junit(child, where)


@pytest.mark.parametrize(
    "xml",
    [
        '<testsuites skipped="1"/>',
        '<testsuites><testsuite tests="1"/></testsuites>',
        '<testsuite name="s" tests="1"><testcase name="c"/><properties><property name="a" value="b"/></properties></testsuite>',
        '<testsuites><testsuite name="s" tests="1"><testcase name="c"><skipped message="m"/></testcase></testsuite></testsuites>',
        '<testsuites><testsuite name="s" tests="1"><testcase name="c"><failure/><skipped/></testcase></testsuite></testsuites>',
        '<testsuites><testsuite name="s" tests="1"><properties/></testsuite></testsuites>',
    ],
)
def test_the_schema_check_refuses_what_junit_10_does_not_allow(xml: str) -> None:
    with pytest.raises(AssertionError):
        assert_valid_junit(ET.fromstring(xml))


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, Path]:
    report = tmp_path / "kspec-junit.xml"
    code = main(["check", *args, "--out", str(tmp_path / "out"), "--junit", str(report)])
    return code, capsys.readouterr().out, report


def test_a_violation_is_a_failure_carrying_the_counterexample_as_replay_prints_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, report = _check(tmp_path, capsys, "--engine", "explore", "--variant", "apiserver-clusterip-lag")
    assert code == 1
    root = ET.parse(report).getroot()
    assert_valid_junit(root)
    saved = tmp_path / "out" / "services--apiserver-clusterip-lag--unique-cluster-ip.json"
    assert main(["replay", str(saved), "--no-tables"]) == 1
    replayed = capsys.readouterr().out
    (suite,) = JUnitXml.fromfile(str(report))
    assert (suite.name, suite.tests, suite.failures, suite.errors) == ("kspec.services.apiserver-clusterip-lag", len(INVARIANTS), 1, 0)
    cases = {case.name: case for case in suite}
    assert list(cases) == list(INVARIANTS)
    assert {case.classname for case in suite} == {"kspec.services.apiserver-clusterip-lag"}
    (failure,) = cases["unique-cluster-ip"].result
    assert isinstance(failure, Failure) and failure.type == FAILURE_TYPE
    assert failure.message == f"unique-cluster-ip: ClusterIP 10.96.0.10 is allocated to default/api and default/web (2 steps; saved {saved})"
    assert failure.text == f"{replayed.rstrip()}\n\nreplay it: kspec replay {saved}"
    assert "step 2: user UserCreate kind=Service name=default/api" in failure.text
    for name in set(INVARIANTS) - {"unique-cluster-ip"}:
        assert cases[name].is_passed
        out = cases[name].system_out
        assert "a bounded search, not a proof" in out and "only what came before it is covered" in out
        assert "18 distinct states" in out


def test_a_passing_run_has_a_case_per_invariant_with_what_was_covered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, report = _check(tmp_path, capsys, "--engine", "explore", "--scenario", "basic", "--depth", "1")
    assert code == 0
    assert_valid_junit(ET.parse(report).getroot())
    xml = JUnitXml.fromfile(str(report))
    (suite,) = xml
    quiescent = [name for name, inv in INVARIANTS.items() if inv.kind == QUIESCENT]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (len(INVARIANTS), 0, 0, len(quiescent))
    properties = {p.name: p.value for p in suite.properties()}  # type: ignore[no-untyped-call]  # junitparser is untyped
    assert (properties["engine"], properties["depth"], properties["complete"], properties["stopped"]) == ("explore", "1", "false", "depth")
    for case in suite:
        if case.name in quiescent:  # no state within depth 1 has settled
            (skipped,) = case.result
            assert isinstance(skipped, Skipped) and skipped.text.startswith("not reached: no quiescent state was reached in basic / default")
        else:
            assert case.is_passed
            assert case.system_out.startswith("holds in basic / default (explore): 7 distinct states, 6 transitions, depth 1")
            assert case.system_out.endswith("stopped at the depth bound); a bounded search, not a proof")
    assert not list((tmp_path / "out").glob("*.json"))


def test_the_report_is_the_same_for_the_same_run_apart_from_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    texts = []
    for run in ("a", "b"):
        _, _, report = _check(tmp_path / run, capsys, "--scenario", "services", "--max-examples", "3", "--seed", "7")
        texts.append(re.sub(r' time="[0-9.]+"', "", report.read_text()))
    assert texts[0] == texts[1]
    (suite,) = JUnitXml.fromfile(str(tmp_path / "a" / "kspec-junit.xml"))
    properties = {p.name: p.value for p in suite.properties()}  # type: ignore[no-untyped-call]  # junitparser is untyped
    assert properties["engine"] == "hypothesis" and properties["seed"] == "7" and "seconds" not in properties
    assert all(case.is_passed and "(hypothesis, seed 7)" in case.system_out for case in suite)


@pytest.fixture(scope="module")
def violated() -> RunReport:
    """A real explorer run that found a violation (not saved)."""
    scenario, variant = get_scenario("services"), get_variant("apiserver-clusterip-lag")
    report = check_one(scenario, variant, [], seed=0, max_examples=1, engine=EXPLORE, explore_options=ExploreOptions(limits=Limits(depth=2)))
    assert report.trace is not None and report.saved == ""
    return report


def test_markup_in_messages_is_escaped_and_characters_xml_forbids_are_dropped(violated: RunReport) -> None:
    hostile = 'pod <script>alert("x")</script> & co\x00\x1b\ufffe end'
    assert violated.trace is not None
    report = attrs.evolve(violated, trace=attrs.evolve(violated.trace, message=hostile))
    text = to_xml([report], seed=0)
    assert "<script>" not in text and "&lt;script&gt;" in text and "\x00" not in text and "\x1b" not in text
    root = ET.fromstring(text.encode())
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert 'pod <script>alert("x")</script> & co end' in failure.get("message", "")
    assert "VIOLATED unique-cluster-ip: pod <script>" in (failure.text or "")


def test_an_eventual_property_is_a_case_and_its_doomed_trace_a_failure(violated: RunReport) -> None:
    scenario, variant = get_scenario("services"), get_variant("default")
    options = ExploreOptions(limits=Limits(depth=2), eventually=True)
    report = check_one(scenario, variant, [], seed=0, max_examples=1, engine=EXPLORE, explore_options=options)
    text = to_xml([report], seed=0)
    assert_valid_junit(ET.fromstring(text))
    (suite,) = JUnitXml.fromstring(text)
    cases = {case.name: case for case in suite}
    assert [n for n in cases if n.startswith("eventually-")] == ["eventually-converges", "eventually-binds"]
    assert all(c.is_passed for c in cases.values()) and "beyond the bounds (undecided)" in cases["eventually-converges"].system_out
    # the same run, as if the explorer had found the state after these two steps doomed
    message = "eventually-converges: after these steps no quiescent state can be reached (1 such states)"
    assert violated.trace is not None
    doomed = tracefmt.record(KubeModel(scenario, variant), violated.trace.actions(), engine=EXPLORE, seed=None, message=message)
    (suite,) = JUnitXml.fromstring(to_xml([attrs.evolve(report, trace=doomed)], seed=0))
    cases = {case.name: case for case in suite}
    (failure,) = cases["eventually-converges"].result
    assert isinstance(failure, Failure) and failure.message == f"{message} (2 steps)"
    assert failure.text.endswith(f"violation reproduces at step 2: {message}")
    assert cases["eventually-binds"].is_passed and "first violation, eventually-converges" in cases["pod-bound-once"].system_out


def test_an_unwritable_report_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    code = main(["check", "--scenario", "services", "--max-examples", "1", "--out", str(tmp_path), "--junit", str(tmp_path / "file" / "j.xml")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("kspec: error: ") and "j.xml: cannot write" in err and err.count("\n") == 1


MODEL_FILE = """
from spec.component import ComponentType, Watch
from spec.invariants import Invariant
from spec.objects import SERVICE


def _one_service(ctx, s):
    services = sorted(f"{k}" for k in s.api.objects.services)
    return f"{len(services)} services: {', '.join(services)}" if len(services) > 1 else None


COMPONENTS = [ComponentType(kind="service-watcher", watches=(Watch(SERVICE),), actions=())]
INVARIANTS = [Invariant("at-most-one-service", "state", "at most one Service", "none: a test's own promise", _one_service)]
"""


def test_a_model_files_counterexample_is_rendered_on_its_model_and_replayed_with_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "mine.py"
    model.write_text(MODEL_FILE)
    args = ("--engine", "explore", "--scenario", "services", "--depth", "2", "--invariant", "at-most-one-service", "--model", str(model))
    code, _, report = _check(tmp_path, capsys, *args)
    assert code == 1
    (suite,) = JUnitXml.fromfile(str(report))
    (case,) = suite
    (failure,) = case.result
    saved = tmp_path / "out" / "services--default--at-most-one-service.json"
    assert case.name == "at-most-one-service" and failure.message.startswith("at-most-one-service: 2 services: default/api, default/web")
    hint = f"replay it: kspec replay {saved} --model {model}"
    assert failure.text.endswith(hint)
    assert main(["replay", str(saved), "--model", str(model), "--no-tables"]) == 1
    assert failure.text == f"{capsys.readouterr().out.rstrip()}\n\n{hint}"


def test_only_a_complete_search_is_reported_as_covering_every_state() -> None:
    options = ExploreOptions(limits=Limits(depth=1))
    report = check_one(get_scenario("services"), get_variant("default"), [], seed=0, max_examples=1, engine=EXPLORE, explore_options=options)
    assert isinstance(report.coverage, ExploreCoverage) and not report.coverage.result.complete
    bounded = JUnitXml.fromstring(to_xml([report], seed=0))
    complete = attrs.evolve(report, coverage=attrs.evolve(report.coverage, result=attrs.evolve(report.coverage.result, complete=True, stopped="")))
    exhaustive = JUnitXml.fromstring(to_xml([complete], seed=0))
    every = "every reachable state of the scenario's finite instance was checked"
    for (suite,), ending in ((bounded, "a bounded search, not a proof"), (exhaustive, every)):
        passed = [case for case in suite if case.is_passed]
        assert len(passed) >= len(INVARIANTS) - 4 and all(case.system_out.endswith(f"; {ending}") for case in passed)


def test_prove_writes_a_case_per_invariant_passing_proved_failing_refuted_and_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``kspec prove --junit``: a proof passes with what it rests on; a refutation carries its counterexample; unknown fails as exit 3 does."""
    refuted = tmp_path / "refuted.xml"
    args = ["prove", "--scenario", "services", "--variant", "apiserver-clusterip-lag", "--out", str(tmp_path / "out"), "--walks", "2"]
    assert main([*args, "--junit", str(refuted)]) == 1
    unknown = tmp_path / "unknown.xml"
    args = ["prove", "--scenario", "capacity", "--variant", "two-schedulers", "--invariant", "phase-monotone", "--time-limit", "0"]
    assert main([*args, "--max-examples", "5", "--walks", "0", "--out", str(tmp_path / "out"), "--junit", str(unknown)]) == 3
    capsys.readouterr()
    for path in (refuted, unknown):
        assert_valid_junit(ET.parse(path).getroot())
    (suite,) = JUnitXml.fromfile(str(refuted))
    assert (suite.name, suite.tests, suite.failures) == ("kspec.prove.services.apiserver-clusterip-lag", 6, 1)
    cases = {case.name: case for case in suite}
    assert list(cases) == list(induction.ABSTRACTIONS)
    (failure,) = cases["unique-cluster-ip"].result
    assert isinstance(failure, Failure) and failure.type == FAILURE_TYPE
    assert failure.message.startswith("unique-cluster-ip: ClusterIP 10.96.0.10 is allocated to default/api and default/web (2 steps; saved ")
    assert "replay it: kspec replay " in failure.text and "UserCreate" in failure.text
    assert "proved for every depth (k = 1)" in cases["pod-runs-once"].system_out and not cases["pod-runs-once"].result
    ((case,),) = [list(suite) for suite in JUnitXml.fromfile(str(unknown))]
    (failure,) = case.result
    assert isinstance(failure, Failure) and failure.type == NOT_PROVED_TYPE
    assert failure.message == "phase-monotone: neither proved nor refuted on capacity, variant two-schedulers"
    assert "a run the model itself did not take" in failure.text and "searched: 5 examples" in failure.text
