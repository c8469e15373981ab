"""Every interleaving for every number in a range: the explorer with the scenario's numbers left to Z3.

A design review asks whether a design holds for *any* requests, capacities or
timeouts in a range, not only for the scenario's own, and where it breaks,
for which. The explorer already covers every interleaving within its bounds;
this covers the numbers too, without a second encoding of the model
(``checker.concolic`` has the mechanism: ints that carry a Z3 term and record
every branch the spec takes on them).

The search covers the range *cell* by cell. A cell is explored once, with
one assignment of the numbers (its *witness*; the first is the scenario's
own), while every comparison the spec, the invariants and the explorer make
on the numbers is recorded. The cell is the set of assignments that satisfy
every recorded branch: each of them makes the same comparisons come out the
same way, so the whole exploration (its states, up to the numbers in them,
its transitions and its verdict) is the same for every assignment in the
cell. Z3 is then asked for an assignment in the range outside every cell so
far, which becomes the next witness; when there is none, every assignment in
the range has been covered. States are told apart by their numbers' terms,
not their values (``SymInt.fingerprint_text``), so two states merge only if
they are equal for every assignment.

Each cell is checked again with plain ints at a second assignment inside it
(where there is one): its exploration must reach the same verdict at the same
depth, or the spec used a number where no branch was recorded (a kspec bug,
reported as :class:`concolic.RegionError`). A violation is recorded as an
ordinary trace of the witness's numbers (its ``numbers`` field) and replayed
before it is reported.

What it is not: the interleavings are enumerated, as the explorer does, so
the depth it reaches is the explorer's; the numbers are symbolic, the steps
are not. And as for every explorer run, a cover that stopped at a depth
bound says nothing of deeper runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import z3

from checker import trace as tracefmt
from checker.check import KubeProperties
from checker.concolic import (
    QUERY_RLIMIT,
    Bound,
    Parameter,
    RegionError,
    concrete_scenario,
    extent,
    final_violation,
    fresh_context,
    recording,
    shown_conditions,
    symbolic_scenario,
)
from checker.explore import ExploreResult, Limits, explore
from checker.replay import replay
from checker.usermodel import ModelFile, build_model, build_monitor, invariant_catalogue
from spec.scenarios import Scenario
from spec.variants import Variant

SOLVER_RLIMIT = 40_000_000
"""how much work Z3 may do to find numbers outside every cell so far (its resource limit: the same answer on every machine;
about 10 s on the benchmark machine)"""

Numbers = dict[str, int]


@attrs.frozen
class Cell:
    """Assignments of the numbers that all explore the same way: the conditions, their extent, and the verdict."""

    witness: tuple[tuple[str, int], ...]
    """the numbers it was explored with, by name"""
    conditions: tuple[str, ...]
    """the branches recorded, simplified, without those the ranges imply"""
    branches: int
    """distinct branches recorded"""
    bounds: tuple[Bound, ...]
    """each number's extent in the cell"""
    result: ExploreResult
    """the exploration"""
    confirmed: tuple[tuple[str, int], ...] | None
    """a second assignment in the cell explored with plain ints to the same verdict; None if the cell has one assignment or stopped at a bound"""
    trace: tracefmt.Trace | None = None
    """the counterexample, with the witness's numbers"""
    saved: str = ""
    """where it was written ("" if nowhere)"""
    condition: z3.BoolRef | None = attrs.field(default=None, eq=False, repr=False)
    """the conjunction of the branches recorded: exactly the assignments of the cell"""

    def holds_for(self, values: dict[str, int]) -> bool:
        """Whether the assignment ``values`` (every number, by name) lies in the cell."""
        assert self.condition is not None
        ctx = self.condition.ctx
        given = [(z3.Int(name, ctx), z3.IntVal(value, ctx)) for name, value in sorted(values.items())]
        return bool(z3.is_true(z3.simplify(z3.substitute(self.condition, *given))))

    @property
    def verdict(self) -> str:
        """``<invariant> broken at depth N`` or ``no violation``."""
        found = self.result.found
        return f"{found.violation.invariant} broken at depth {len(found.actions)}" if found else "no violation"


@attrs.frozen
class Cover:
    """The cells explored for one scenario and variant, and whether they cover every assignment in the ranges."""

    scenario: str
    variant: str
    invariants: tuple[str, ...]
    """the invariants checked, by name"""
    kinds: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    cells: tuple[Cell, ...]
    covered: bool
    """every assignment in the ranges lies in some cell"""
    remaining: tuple[tuple[str, int], ...] | None
    """when not covered: an assignment in no cell, if Z3 found one"""
    stopped: str
    """why the cover stopped before covering ("" if it covered): the time limit, or Z3 gave up"""
    seconds: float

    @property
    def violated(self) -> bool:
        """Some cell breaks an invariant."""
        return any(c.result.found is not None for c in self.cells)

    def cell_for(self, values: dict[str, int]) -> Cell | None:
        """The cell holding the assignment ``values`` (every number, by name); None if no cell explored so far does."""
        return next((c for c in self.cells if c.holds_for(values)), None)


def cover(
    scenario: Scenario,
    variant: Variant,
    invariants: Sequence[str],
    kinds: Sequence[str],
    limits: Limits,
    out: Path | None = None,
    progress: Callable[[Cell], None] | None = None,
    replayable: bool = True,
    user: ModelFile | None = None,
) -> Cover:
    """Explore ``scenario`` within ``limits`` for every assignment of its ``kinds`` numbers, cell by cell (``limits.seconds``: for the whole cover).

    ``replayable``: ``kspec replay`` can rebuild the scenario (a built-in one, one from manifests or the model file's), so each
    counterexample is also replayed as it reads it. ``user``: the model file whose components run and whose invariants may be named.
    """
    started = time.monotonic()
    fresh_context()
    params = symbolic_scenario(scenario, kinds)[1]
    ranges = [z3.And(z3.Int(p.name) >= p.low, z3.Int(p.name) <= p.high) for p in params]
    outside = z3.Solver()
    outside.set("rlimit", SOLVER_RLIMIT)
    outside.add(*ranges)
    job = _Job(scenario, variant, invariants, kinds, params, ranges, out, replayable, user)
    witness: Numbers | None = {p.name: p.value for p in params}
    cells: list[Cell] = []
    stopped = ""
    while witness is not None:
        left = None if limits.seconds is None else limits.seconds - (time.monotonic() - started)
        if left is not None and left <= 0:
            stopped = "time limit"
            break
        cell, literals = _explore_cell(job, witness, attrs.evolve(limits, seconds=left), len(cells) + 1)
        cells.append(cell)
        if progress is not None:
            progress(cell)
        outside.add(z3.Not(z3.And(*literals)))
        witness, stopped = _next_witness(outside, params)
    covered = not stopped
    remaining = tuple(sorted(witness.items())) if stopped == "time limit" and witness is not None else None
    checked = tuple(invariants) or tuple(invariant_catalogue(user))
    return Cover(scenario.name, variant.name, checked, tuple(kinds), params, tuple(cells), covered, remaining, stopped, time.monotonic() - started)


def _next_witness(outside: z3.Solver, params: Sequence[Parameter]) -> tuple[Numbers | None, str]:
    """An assignment in the ranges and in no cell so far (None when there is none), or why Z3 could not tell."""
    verdict = outside.check()
    if verdict == z3.sat:
        return _assignment(outside.model(), params), ""
    if verdict == z3.unsat:
        return None, ""
    return None, "Z3 could not tell within its resource limit whether numbers outside these cells remain (the conditions are non-linear)"


def _assignment(model: z3.ModelRef, params: Sequence[Parameter]) -> Numbers:
    return {p.name: model.eval(z3.Int(p.name), model_completion=True).as_long() for p in params}


def explore_scenario(scenario: Scenario, variant: Variant, invariants: Sequence[str], limits: Limits, user: ModelFile | None = None) -> ExploreResult:
    """A breadth-first exploration of ``scenario`` under ``variant`` for ``invariants``, whatever ints its numbers are (SymInts or plain).

    ``user``: the model file whose components run and whose invariants may be named.
    """
    model = build_model(scenario, variant, user)
    return explore(model, KubeProperties(model, build_monitor(model, invariants, user)), limits=limits)


def explore_numbers(
    scenario: Scenario,
    variant: Variant,
    invariants: Sequence[str],
    kinds: Sequence[str],
    values: Numbers,
    limits: Limits,
    user: ModelFile | None = None,
) -> ExploreResult:
    """A plain exploration (ints, no Z3) of ``scenario`` with its ``kinds`` numbers set to ``values``."""
    return explore_scenario(concrete_scenario(scenario, kinds, values), variant, invariants, limits, user)


@attrs.frozen
class _Job:
    """What every cell of one cover shares."""

    scenario: Scenario
    variant: Variant
    invariants: Sequence[str]
    kinds: Sequence[str]
    params: Sequence[Parameter]
    ranges: Sequence[z3.BoolRef] = attrs.field(eq=False)
    out: Path | None
    replayable: bool
    user: ModelFile | None


def _explore_cell(job: _Job, witness: Numbers, limits: Limits, index: int) -> tuple[Cell, list[z3.BoolRef]]:
    """Explore with ``witness``'s numbers as SymInts; the cell they span, confirmed, its counterexample saved."""
    symbolic = symbolic_scenario(job.scenario, job.kinds, witness)[0]
    with recording() as path:
        result = explore_scenario(symbolic, job.variant, job.invariants, limits, job.user)
    literals = list({c.get_id(): c for c in path}.values())
    bounds = _bounds(literals, job.ranges, job.params)
    confirmed = _confirm(job, literals, witness, limits, result)
    shown = _essential(literals, job.ranges, bounds)
    cell = Cell(tuple(sorted(witness.items())), shown, len(literals), bounds, result, confirmed, condition=z3.And(*literals))
    if result.found is not None:
        cell = _record(job, cell, index)
    return cell, literals


def _bounds(literals: Sequence[z3.BoolRef], ranges: Sequence[z3.BoolRef], params: Sequence[Parameter]) -> tuple[Bound, ...]:
    """Each number's least and greatest value in the cell (None where Z3 gave up within ``QUERY_RLIMIT``)."""
    return tuple(extent(literals, params, ranges, p)[0] for p in params)


def _essential(literals: Sequence[z3.BoolRef], ranges: Sequence[z3.BoolRef], bounds: Sequence[Bound]) -> tuple[str, ...]:
    """The cell's conditions to show: none if the numbers' extents describe it exactly, else those the others do not imply."""
    known = [b for b in bounds if b.least is not None and b.greatest is not None]
    box = [z3.And(z3.Int(b.parameter.name) >= b.least, z3.Int(b.parameter.name) <= b.greatest) for b in known]
    solver = z3.Solver()
    solver.set("rlimit", QUERY_RLIMIT)
    if len(box) == len(bounds) and solver.check(*box, z3.Not(z3.And(*literals))) == z3.unsat:
        return ()
    kept = [z3.simplify(c) for c in literals]
    kept = list({c.get_id(): c for c in kept}.values())
    for c in list(kept):
        rest = [d for d in kept if d is not c]
        if solver.check(*ranges, *rest, z3.Not(c)) == z3.unsat:
            kept = rest
    return shown_conditions(kept, ranges)


def _confirm(
    job: _Job, literals: Sequence[z3.BoolRef], witness: Numbers, limits: Limits, result: ExploreResult
) -> tuple[tuple[str, int], ...] | None:
    """Explore with plain ints at another assignment of the cell; RegionError unless the verdict and its depth are the same.

    Only a search that stopped at a violation, the depth or completion is repeatable; one that stopped
    at the state or time bound is not confirmed.
    """
    if result.stopped not in ("", "violation", "depth"):
        return None
    other = z3.Solver()
    other.set("rlimit", QUERY_RLIMIT)
    other.add(*literals, *job.ranges, z3.Or([z3.Int(p.name) != witness[p.name] for p in job.params]))
    if other.check() != z3.sat:
        return None
    numbers = _assignment(other.model(), job.params)
    plain = explore_numbers(job.scenario, job.variant, job.invariants, job.kinds, numbers, attrs.evolve(limits, seconds=None), job.user)
    if _outcome(plain) != _outcome(result):
        raise RegionError(
            f"the numbers {numbers} satisfy the branches recorded with {witness}, but a plain exploration with them finds"
            f" {_describe(plain)} where the symbolic one found {_describe(result)}"
        )
    return tuple(sorted(numbers.items()))


def _outcome(result: ExploreResult) -> tuple[bool, int]:
    return (result.found is not None, len(result.found.actions) if result.found else result.depth)


def _describe(result: ExploreResult) -> str:
    return f"a violation at depth {len(result.found.actions)}" if result.found else f"no violation to depth {result.depth}"


def _record(job: _Job, cell: Cell, index: int) -> Cell:
    """The cell's counterexample as a trace of the witness's numbers, re-executed with plain ints, and saved.

    ``replayable``: also replayed as ``kspec replay`` reads it (a built-in or manifest scenario).
    """
    found = cell.result.found
    assert found is not None
    model = build_model(concrete_scenario(job.scenario, job.kinds, dict(cell.witness)), job.variant, job.user)
    recorded = tracefmt.record(
        model,
        found.actions,
        engine="explore",
        seed=None,
        invariant=found.violation.invariant,
        violation_step=len(found.actions),
        message=found.violation.message,
        numbers=tracefmt.Numbers(tuple(job.kinds), cell.witness),
        model_file=job.user.ref if job.user is not None else None,
    )
    trace = tracefmt.parse(tracefmt.dumps(recorded), "<numbers>")  # what the file holds: plain ints
    if final_violation(model, trace.actions(), found.violation.invariant, job.user) is None:
        raise RegionError(f"the counterexample of cell {index} does not break {found.violation.invariant} with plain ints")
    if job.replayable:
        confirmed = replay(trace, "<numbers>", user=job.user)
        if not confirmed.reproduced:
            raise RegionError(f"the counterexample of cell {index} does not replay as kspec replay reads it: {confirmed.summary}")
    saved = ""
    if job.out is not None:
        path = job.out / f"{job.scenario.name}--{job.variant.name}--{found.violation.invariant}--numbers-{index}.json"
        tracefmt.write(trace, path)
        saved = str(path)
    return attrs.evolve(cell, trace=trace, saved=saved)


def to_json(covers: Sequence[Cover]) -> dict[str, object]:
    """The machine-readable summary ``kspec check --engine explore --symbolic --json`` writes."""
    return {
        "format": "kspec-cover",
        "version": 1,
        "violated": any(c.violated for c in covers),
        "runs": [
            {
                "scenario": c.scenario,
                "variant": c.variant,
                "kinds": list(c.kinds),
                "numbers": [{"name": p.name, "value": p.value, "low": p.low, "high": p.high} for p in c.parameters],
                "covered": c.covered,
                "stopped": c.stopped,
                "not_explored": dict(c.remaining) if c.remaining else None,
                "seconds": round(c.seconds, 3),
                "cells": [_cell_json(cell) for cell in c.cells],
            }
            for c in covers
        ],
    }


def _cell_json(cell: Cell) -> dict[str, object]:
    r, found = cell.result, cell.result.found
    return {
        "violated": found.violation.invariant if found else None,
        "depth": len(found.actions) if found else r.depth,
        "message": found.violation.message if found else None,
        "states": r.states,
        "complete": r.complete,
        "stopped": r.stopped,
        "explored_with": dict(cell.witness),
        "confirmed_with": dict(cell.confirmed) if cell.confirmed else None,
        "conditions": list(cell.conditions),
        "extent": {b.parameter.name: [b.least, b.greatest] for b in cell.bounds},
        "counterexample": cell.saved or None,
    }


def format_cell(cell: Cell, index: int) -> str:
    """One cell as ``kspec check --engine explore --symbolic`` prints it: verdict, conditions, the numbers' extents, how it was checked."""
    r = cell.result
    extent = "complete" if r.complete else f"stopped at the {r.stopped} bound" if r.stopped != "violation" else "stopped at the violation"
    narrowed = [b for b in cell.bounds if (b.least, b.greatest) != (b.parameter.low, b.parameter.high)]
    width = max((len(b.parameter.name) for b in narrowed), default=0)
    lines = [
        f"  cell {index}: {cell.verdict} ({r.states:,} states, depth {r.depth}, {extent}; {cell.branches} branches on the numbers)",
        *(["    where:   " + "\n             ".join(cell.conditions)] if cell.conditions else []),
        *(f"    extent:  {b.parameter.name.ljust(width)}  {b.describe()}" for b in narrowed),
        *(["             (every other number: its whole range)"] if narrowed and len(narrowed) < len(cell.bounds) else []),
        "    explored with " + format_numbers(cell.witness),
        "    confirmed with " + (format_numbers(cell.confirmed) if cell.confirmed else _UNCONFIRMED),
    ]
    if cell.saved:
        lines.append(f"    counterexample: {cell.saved}")
    return "\n".join(lines)


def broken_where(cell: Cell) -> str:
    """The cell's narrowed numbers on one line (``name=v`` or ``name a..b``), whether more conditions apply, and its verdict."""
    parts = [
        f"{b.parameter.name}={b.least}" if b.least == b.greatest else f"{b.parameter.name} {b.describe()}"
        for b in cell.bounds
        if (b.least, b.greatest) != (b.parameter.low, b.parameter.high)
    ]
    text = ", ".join(parts) or "any numbers"
    return text + (f" (and {len(cell.conditions)} more conditions)" if cell.conditions else "") + f": {cell.verdict}"


def coverage_line(c: Cover, seconds: bool = True) -> str:
    """Whether the cells cover every assignment in the ranges, how many are broken, and how far each was searched (and the time it took)."""
    broken = sum(1 for cell in c.cells if cell.result.found is not None)
    took = f"{c.seconds:.1f} s" if seconds else ""
    if not c.covered:
        return f"not covered: {c.stopped} after {len(c.cells)} cells, {broken} of them broken" + (f" ({took})" if took else "")
    if any(cell.result.stopped not in ("", "violation") for cell in c.cells):
        reach = "each cell's states within the bounds"
    elif broken < len(c.cells):
        reach = "every reachable state of each cell without a violation"
    else:
        reach = "each cell searched to its first violation"
    cells = f"{len(c.cells)} cells, {broken} of them broken"
    return f"covered: every assignment in the ranges lies in one of these {cells} ({reach}" + (f"; {took})" if took else ")")


_UNCONFIRMED = "nothing else (the cell has one assignment, or the search stopped at a bound)"


def format_numbers(values: Sequence[tuple[str, int]]) -> str:
    """``name=value, ...``; "no numbers" when the scenario has none of the kinds asked for."""
    return ", ".join(f"{name}={value}" for name, value in values) or "no numbers (the scenario has none of these kinds)"


def format_cover(c: Cover) -> str:
    """The whole cover: what was left open, each cell, and what was covered."""
    left = f"{', '.join(c.kinds)} left to Z3: {len(c.parameters)} numbers, each from 1 to 4 times its value"
    head = f"scenario {c.scenario}, variant {c.variant} (explore, {left})"
    lines = [head, *(format_cell(cell, i) for i, cell in enumerate(c.cells, start=1))]
    broken = [i for i, cell in enumerate(c.cells, start=1) if cell.result.found is not None]
    if broken:
        lines.append("  broken where (each cell's narrowed numbers; every other number: its whole range):")
        lines += [f"    cell {i}: {broken_where(c.cells[i - 1])}" for i in broken]
    lines.append("  " + coverage_line(c))
    if c.remaining:
        lines.append("  for example not yet explored: " + format_numbers(c.remaining))
    return "\n".join(lines)
