"""JUnit XML for CI: one test case per (scenario, variant, invariant) of ``kspec check`` (and of ``kspec prove``).

The report follows Jenkins' ``junit-10.xsd`` (the JUnit/Ant format that
GitHub test reporters, GitLab and Azure Pipelines parse: no attribute or
element outside it)::

    <testsuites name="kspec check" tests=.. failures=.. errors="0" time=..>
      <testsuite name="kspec.<scenario>.<variant>" tests=.. failures=.. errors="0" skipped=.. time=..>
        <properties><property name="engine" value="explore"/> ...</properties>
        <testcase classname="kspec.<scenario>.<variant>" name="<invariant>">
          <failure message="<invariant>: <message> (N steps; saved <file>)" type="InvariantViolated">
            the counterexample, step by step, as ``kspec replay FILE --no-tables`` prints it
          </failure>
        </testcase>
        <testcase ...><system-out>holds in <what was covered>; a bounded search, not a proof</system-out></testcase>
        <testcase ...><skipped>not reached: ...</skipped></testcase>
      </testsuite>
    </testsuites>

*holds* is a passing case whose ``system-out`` says what was covered: a
bounded search is never called a proof (only an explorer search that was
complete says it checked every reachable state of the scenario's finite
instance). *violated* is a failure carrying the
readable counterexample; *not reached* (a quiescent invariant when no
quiescent state was reached) is skipped. Eventual properties the explorer
judged (``--eventually``) are cases too, named ``eventually-<property>``.
``kspec check --engine explore --symbolic --junit`` writes the same
structure, a suite per cover and a case per invariant (``covers_to_xml``).
Apart from the ``time`` attributes the file is the same for the same runs:
there is no timestamp or host name. Text is escaped by ElementTree, and
characters XML 1.0 forbids are dropped.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from checker import eventual, induction, numbers
from checker import trace as tracefmt
from checker.check import HYPOTHESIS, NOT_ENCODED, NOT_REACHED, VIOLATED, ExploreCoverage, RunReport
from checker.explore import EventualVerdict
from checker.hypothesis_engine import Coverage
from checker.render import format_replay
from checker.replay import ReplayResult, ReplayStep, model_for
from spec.invariants import Violation

if TYPE_CHECKING:
    from checker.usermodel import ModelFile
    from spec.model import KubeModel

ModelOf = Callable[[tracefmt.Trace, str], "KubeModel"]
"""the model a counterexample ran on, from its trace and the file it was saved to"""

FAILURE_TYPE = "InvariantViolated"
"""the ``type`` of every ``<failure>`` that carries a counterexample"""
NOT_PROVED_TYPE = "NotProved"
"""the ``type`` of a ``kspec prove`` case that was neither proved nor refuted"""
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (control characters, lone surrogates, U+FFFE, U+FFFF)."""
    return _FORBIDDEN.sub("", text)


def readable_trace(model: KubeModel, trace: tracefmt.Trace, source: str) -> str:
    """The counterexample step by step, as ``kspec replay SOURCE --no-tables`` prints it, re-executed on ``model``.

    Each step shows what changed in the cluster; the violation is shown where
    the trace recorded it, with its recorded message: every engine's
    counterexample is confirmed by replay before it is reported
    (``checker.check``), so it is not judged again here. An eventual
    property's last state, in particular, is not searched again (``kspec
    replay`` does that).
    """
    initial = state = model.initial_states()[0]
    steps = []
    for i, step in enumerate(trace.steps, start=1):
        state = model.next_state(state, step.action)
        violated = trace.invariant is not None and i == trace.violation_step
        steps.append(ReplayStep(i, step.action, state, (Violation(trace.invariant or "", trace.message),) if violated else ()))
    at = len(steps) if trace.invariant is None else trace.violation_step
    result = ReplayResult(model, initial, tuple(steps), at, trace.message, "", True, eventual=trace.invariant is None)
    return format_replay(trace, result, source, tables=False)


def to_xml(reports: Sequence[RunReport], *, seed: int, model_of: ModelOf = model_for) -> str:
    """The JUnit XML document for ``kspec check``'s runs.

    ``seed``: the Hypothesis seed they used; ``model_of(trace, source)``: the
    model a counterexample ran on (``checker.replay.model_for`` for built-in
    scenarios and variants).
    """
    return _document([_Suite(report, seed, model_of).element() for report in reports], sum(r.coverage.seconds for r in reports))


def _document(suites: Sequence[ET.Element], seconds: float, name: str = "kspec check") -> str:
    """``<testsuites>`` around ``suites``, with their totals, as an XML document."""
    root = ET.Element("testsuites", name=name)
    root.extend(suites)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(name: str, properties: Mapping[str, object], cases: Sequence[ET.Element], seconds: float) -> ET.Element:
    """One ``<testsuite>``: its properties, its cases and their counts.

    Properties are strings, ints and booleans; times are left out (they are the ``time`` attributes).
    """
    suite = ET.Element("testsuite", name=name)
    element = ET.SubElement(suite, "properties")
    for key in sorted(properties):
        value = properties[key]
        if isinstance(value, (str, int)) and key not in ("seconds", "states_per_second"):
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            ET.SubElement(element, "property", name=clean(key), value=clean(shown))
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("time", f"{seconds:.3f}")
    return suite


def write_junit(reports: Sequence[RunReport], path: str | os.PathLike[str], *, seed: int, model_of: ModelOf = model_for) -> None:
    """Write the JUnit XML report atomically (``to_xml``)."""
    tracefmt.write_text(to_xml(reports, seed=seed, model_of=model_of), path)


def covered(report: RunReport, seed: int) -> str:
    """What a run covered, without its wall time (so that equal runs give equal text)."""
    engine = f"hypothesis, seed {seed}" if isinstance(report.coverage, Coverage) else report.coverage.as_json()["engine"]
    line = report.coverage.describe().replace(f", {report.coverage.seconds:.1f} s", "")
    return f"{report.scenario} / {report.variant} ({engine}): {line}"


def extent(report: RunReport) -> str:
    """Whether a run's "holds" is a proof: only an explorer search that reached every state of the scenario's finite instance."""
    if isinstance(report.coverage, ExploreCoverage) and report.coverage.result.complete:
        return "every reachable state of the scenario's finite instance was checked"
    return "a bounded search, not a proof"


def violation_line(report: RunReport) -> str:
    """One line: what was violated, the counterexample's length and where it was saved."""
    trace = report.trace
    assert trace is not None
    where = f"; saved {report.saved}" if report.saved else ""
    message = trace.message if trace.invariant is None else f"{trace.invariant}: {trace.message}"
    return f"{message} ({len(trace.steps)} steps{where})"


def counterexample_text(report: RunReport, model: KubeModel | None = None, replayable: bool = True, user: ModelFile | None = None) -> str:
    """The run's counterexample step by step (``readable_trace``), and how to replay it.

    ``model``: the model the run checked [default: the one its trace
    records: ``checker.replay.model_for``, with the model file ``user`` if it
    was found with one]; ``replayable``: whether ``kspec replay`` can read
    the saved trace (not when it needs a test's own components).
    """
    trace = report.trace
    assert trace is not None
    source = source_name(report)
    text = readable_trace(model or model_for(trace, source, user=user), trace, source)
    if report.saved and replayable:
        text += "\n\n" + replay_hint(trace, report.saved)
    return text


def replay_hint(trace: tracefmt.Trace, saved: str) -> str:
    """How to replay the trace saved at ``saved`` (with its model file, if it was found with one)."""
    with_model = f" --model {trace.model_file.path}" if trace.model_file is not None else ""
    return f"replay it: kspec replay {saved}{with_model}"


def source_name(report: RunReport) -> str:
    """The file the run's counterexample was saved to, or the name it is given when it was not saved."""
    return report.saved or f"{report.scenario}--{report.variant}--{violated_name(report)}.json"


def violated_name(report: RunReport) -> str:
    """The violated invariant, or the eventual property (``eventually-<name>``)."""
    assert report.trace is not None
    return report.trace.invariant or report.trace.message.split(":", 1)[0]


def covers_to_xml(covers: Sequence[numbers.Cover], *, model_of: ModelOf = model_for) -> str:
    """The JUnit XML document for ``kspec check --engine explore --symbolic``: a suite per cover, a case per invariant.

    A case fails when some cell of numbers breaks its invariant: the message
    names the cells, the text lists where each is broken and shows the first
    one's counterexample as ``kspec replay`` prints it. A passing case says
    whether the cells cover every number in the ranges (a cover stopped by
    its time limit passes, as the command's exit code does, and says what it
    left out). ``model_of`` as for :func:`to_xml`.
    """
    return _document([_cover_suite(c, model_of) for c in covers], sum(c.seconds for c in covers))


def write_cover_junit(covers: Sequence[numbers.Cover], path: str | os.PathLike[str], *, model_of: ModelOf = model_for) -> None:
    """Write ``covers_to_xml`` atomically."""
    tracefmt.write_text(covers_to_xml(covers, model_of=model_of), path)


def _cover_suite(c: numbers.Cover, model_of: ModelOf) -> ET.Element:
    name = clean(f"kspec.{c.scenario}.{c.variant}")
    properties: dict[str, object] = {"scenario": c.scenario, "variant": c.variant, "engine": "explore", "symbolic": ",".join(c.kinds)}
    properties |= {"numbers": len(c.parameters), "cells": len(c.cells), "covered": c.covered, "stopped": c.stopped}
    return _suite(name, properties, [_cover_case(c, invariant, name, model_of) for invariant in c.invariants], c.seconds)


def _cover_case(c: numbers.Cover, invariant: str, classname: str, model_of: ModelOf) -> ET.Element:
    """One invariant of a cover: a failure listing the cells that break it, or what the cells covered."""
    case = ET.Element("testcase", classname=classname, name=clean(invariant))
    cells = list(enumerate(c.cells, start=1))
    broken = [(i, cell) for i, cell in cells if cell.result.found is not None and cell.result.found.violation.invariant == invariant]
    if not broken:
        others = [str(i) for i, cell in cells if cell.result.found is not None]
        text = f"holds in every cell; {numbers.coverage_line(c, seconds=False)}"
        if others:
            text += f"; cells {', '.join(others)} stopped at another invariant's violation, so there only what came before it is covered"
        ET.SubElement(case, "system-out").text = clean(text)
        return case
    first, cell = broken[0]
    trace = cell.trace
    assert trace is not None
    source = cell.saved or f"{c.scenario}--{c.variant}--{invariant}--numbers-{first}.json"
    where = f"; saved {cell.saved}" if cell.saved else ""
    message = f"{invariant}: broken in {len(broken)} of {len(c.cells)} cells of numbers; cell {first}: {trace.message}"
    message += f" ({len(trace.steps)} steps{where})"
    lines = [f"cell {i}: {numbers.broken_where(b)}" + (f"; counterexample {b.saved}" if b.saved else "") for i, b in broken]
    lines += ["", f"cell {first}, explored with {numbers.format_numbers(cell.witness)}:", readable_trace(model_of(trace, source), trace, source)]
    if cell.saved:
        lines += ["", replay_hint(trace, cell.saved)]
    failure = ET.SubElement(case, "failure", message=clean(message), type=FAILURE_TYPE)
    failure.text = clean("\n".join(lines))
    return case


def outcomes_to_xml(outcomes: Sequence[induction.Outcome], *, model_of: ModelOf = model_for) -> str:
    """The JUnit XML document for ``kspec prove``: a suite per scenario and variant, a case per invariant.

    *proved* passes, its ``system-out`` the outcome as ``kspec prove`` prints
    it (the induction depth, the abstraction, the premise, the lemmas).
    *refuted* is a failure (``InvariantViolated``) carrying the model's
    counterexample as ``kspec replay`` prints it; *unknown* is a failure of
    type ``NotProved`` carrying the abstract path or the counterexample to
    induction, as the exit code 3 fails the step. ``model_of`` as for
    :func:`to_xml`.
    """
    runs: dict[tuple[str, str], list[induction.Outcome]] = {}
    for o in outcomes:
        runs.setdefault((o.scenario, o.variant), []).append(o)
    suites = [_prove_suite(scenario, variant, mine, model_of) for (scenario, variant), mine in runs.items()]
    return _document(suites, sum(o.seconds for o in outcomes), name="kspec prove")


def write_prove_junit(outcomes: Sequence[induction.Outcome], path: str | os.PathLike[str], *, model_of: ModelOf = model_for) -> None:
    """Write ``outcomes_to_xml`` atomically."""
    tracefmt.write_text(outcomes_to_xml(outcomes, model_of=model_of), path)


def _prove_suite(scenario: str, variant: str, outcomes: Sequence[induction.Outcome], model_of: ModelOf) -> ET.Element:
    name = clean(f"kspec.prove.{scenario}.{variant}")
    properties: dict[str, object] = {"scenario": scenario, "variant": variant, "engine": "z3 k-induction"}
    properties["proved"] = sum(1 for o in outcomes if o.verdict == induction.PROVED)
    return _suite(name, properties, [_prove_case(o, name, model_of) for o in outcomes], sum(o.seconds for o in outcomes))


def _prove_case(o: induction.Outcome, classname: str, model_of: ModelOf) -> ET.Element:
    """One invariant's outcome: passing when proved, else a failure saying why."""
    case = ET.Element("testcase", classname=classname, name=clean(o.abstraction.invariant))
    text = induction.format_outcome(o)
    if o.verdict == induction.PROVED:
        ET.SubElement(case, "system-out").text = clean(text)
    elif o.verdict == induction.REFUTED:
        found = o.searches[-1]
        assert found.trace is not None
        failure = ET.SubElement(case, "failure", message=clean(violation_line(found)), type=FAILURE_TYPE)
        failure.text = clean(f"{text}\n\n{counterexample_text(found, model_of(found.trace, source_name(found)))}")
    else:
        message = f"{o.abstraction.invariant}: neither proved nor refuted on {o.scenario}, variant {o.variant}"
        ET.SubElement(case, "failure", message=clean(message), type=NOT_PROVED_TYPE).text = clean(text)
    return case


@attrs.frozen
class _Suite:
    """One run as a ``<testsuite>``: its properties and one case per invariant (and per eventual property judged)."""

    report: RunReport
    seed: int
    model_of: ModelOf

    def element(self) -> ET.Element:
        report = self.report
        cases = [self.case(name, verdict) for name, verdict in report.verdicts]
        if isinstance(report.coverage, ExploreCoverage):
            cases += [self.eventual_case(v) for v in report.coverage.result.eventual]
        return _suite(self.classname, self.properties(), cases, report.coverage.seconds)

    @property
    def classname(self) -> str:
        return clean(f"kspec.{self.report.scenario}.{self.report.variant}")

    def properties(self) -> dict[str, object]:
        """The run's scenario, variant, engine and statistics."""
        stats = {"scenario": self.report.scenario, "variant": self.report.variant, **self.report.coverage.as_json()}
        if stats["engine"] == HYPOTHESIS:
            stats["seed"] = self.seed
        return stats

    def case(self, name: str, verdict: str) -> ET.Element:
        """One invariant: a failure with the counterexample, skipped when not reached, else what was covered."""
        case = ET.Element("testcase", classname=self.classname, name=clean(name))
        if verdict == VIOLATED:
            self.failure(case)
        elif verdict == NOT_REACHED:
            ET.SubElement(case, "skipped").text = clean(f"not reached: no quiescent state was reached in {covered(self.report, self.seed)}")
        elif verdict == NOT_ENCODED:
            ET.SubElement(case, "skipped").text = clean(f"not encoded: Z3 has no encoding of this invariant yet; {covered(self.report, self.seed)}")
        else:
            ET.SubElement(case, "system-out").text = clean(f"holds in {self.passed()}")
        return case

    def eventual_case(self, verdict: EventualVerdict) -> ET.Element:
        """One eventual property the explorer judged on the reachable graph."""
        case = ET.Element("testcase", classname=self.classname, name=f"{eventual.PREFIX}{verdict.name}")
        trace = self.report.trace
        if trace is not None and trace.invariant is None and eventual.property_of(trace.message) == verdict.name:
            self.failure(case)
        else:
            counts = f"{verdict.doomed:,} doomed states, {verdict.undecided:,} beyond the bounds (undecided)"
            ET.SubElement(case, "system-out").text = clean(f"holds ({counts}) in {self.passed()}")
        return case

    def passed(self) -> str:
        """What a passing case covered, and that it is not a proof."""
        text = f"{covered(self.report, self.seed)}; {extent(self.report)}"
        if self.report.trace is not None:
            text += f" (the run stopped at its first violation, {violated_name(self.report)}: only what came before it is covered)"
        return text

    def failure(self, case: ET.Element) -> None:
        """The counterexample: a one-line message, and the readable trace as the failure's text."""
        trace = self.report.trace
        assert trace is not None
        failure = ET.SubElement(case, "failure", message=clean(violation_line(self.report)), type=FAILURE_TYPE)
        failure.text = clean(counterexample_text(self.report, self.model_of(trace, source_name(self.report))))
