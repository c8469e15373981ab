"""The engines side by side, per variant: time to the violation, its depth, and the deepest bound each search completes on basic.

    python benchmarks/engines.py [--seconds 60] [--z3-depth 16] [--variant NAME ...] [--no-basic] [--z3-only]

Per variant, on its witness scenario, looking for the first invariant it
lists as broken:

- *hypothesis*: ``kspec check``'s default budget (300 examples) and seed 0:
  seconds to the first violation and the shrunk trace's length;
- *explore*: breadth-first within SECONDS: seconds to the violation and its
  depth (the shortest there is), or the depth it covered completely;
- *symbolic*: the same search with every number of the scenario (requests,
  capacities, timeouts, grace periods, tolerations) a SymInt at its own
  value, recording every branch on them, as the first cell of ``kspec check
  --engine explore --symbolic`` does: what leaving the numbers open costs;
- *z3*: ``kspec check --engine z3`` within SECONDS and Z3_DEPTH steps:
  seconds to the violation and its depth (the shortest among runs of the
  encoded actions), or the depth it refuted completely; ``n/e`` when the
  invariant, or an action of every counterexample, is not encoded yet (the
  engine then finds nothing: its runs leave those actions out).

Then, on ``basic`` with the default variant and every invariant, the deepest
depth each breadth-first search covers completely within SECONDS, and the
depth Z3 refutes (over the runs of the actions it encodes; the output
counts them). Hypothesis never completes a bound
(it samples interleavings), so it has no figure on basic.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.bmc import engine as bmc  # noqa: E402
from checker.check import check_one  # noqa: E402
from checker.concolic import KINDS, fresh_context, recording, symbolic_scenario  # noqa: E402
from checker.explore import ExploreResult, Limits  # noqa: E402
from checker.numbers import explore_scenario  # noqa: E402
from spec.invariants import Monitor  # noqa: E402
from spec.model import KubeModel  # noqa: E402
from spec.scenarios import Scenario, get_scenario  # noqa: E402
from spec.variants import DEFAULT, VARIANTS, Variant  # noqa: E402


def hypothesis(variant: Variant) -> str:
    """Seconds to the first violation and the shrunk length, or that the default budget missed it."""
    report = check_one(get_scenario(variant.witness), variant, variant.breaks[:1], seed=0, max_examples=300)
    if report.trace is None or report.seconds_to_first is None:
        return f"{'missed':>8} {'-':>6}"
    return f"{report.seconds_to_first:>8.2f} {len(report.trace.steps):>6}"


def breadth_first(scenario: Scenario, variant: Variant, invariants: list[str], seconds: float, symbolic: bool) -> ExploreResult:
    """The explorer within ``seconds``; with every number a SymInt when ``symbolic``."""
    if not symbolic:
        return explore_scenario(scenario, variant, invariants, Limits(seconds=seconds))
    fresh_context()
    with recording():
        return explore_scenario(symbolic_scenario(scenario, KINDS)[0], variant, invariants, Limits(seconds=seconds))


def shown(r: ExploreResult) -> str:
    """Seconds and depth of the violation, or the depth covered completely when time ran out."""
    if r.found is not None:
        return f"{r.seconds:>8.2f} {len(r.found.actions):>6}"
    covered = r.depth if r.complete else r.depth - 1
    return f"{'>' + format(r.seconds, '.0f'):>8} {'(' + str(covered) + ')':>6}"


def z3_search(scenario: Scenario, variant: Variant, invariants: list[str], seconds: float, depth: int) -> str:
    """Seconds and depth of Z3's violation, the depth it refuted, or n/e when the invariant has no encoding."""
    model = KubeModel(scenario, variant)
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, invariants), depth, seconds)
    if found is not None:
        return f"{coverage.seconds:>8.2f} {len(found[0]):>6}"
    if not coverage.judged:
        return f"{'n/e':>8} {'-':>6}"
    bound = ">" + format(coverage.seconds, ".0f") if coverage.stopped == "time" else "n/e"
    return f"{bound:>8} {'(' + str(coverage.depth) + ')':>6}"


def variant_rows(names: list[str], seconds: float, z3_depth: int, z3_only: bool) -> None:
    check_one(get_scenario("services"), DEFAULT, [], seed=0, max_examples=1)  # warm up: the first run in a process pays for imports
    header = f"{'variant':<34} {'scenario':<10}"
    if not z3_only:
        header += f" | {'hyp s':>8} {'steps':>6} | {'expl s':>8} {'depth':>6} | {'sym s':>8} {'depth':>6}"
    print(f"{header} | {'z3 s':>8} {'depth':>6}")
    for name in names:
        variant = VARIANTS[name]
        scenario, wanted = get_scenario(variant.witness), list(variant.breaks[:1])
        row = f"{name:<34} {variant.witness:<10}"
        if not z3_only:
            plain = breadth_first(scenario, variant, wanted, seconds, symbolic=False)
            symbolic = breadth_first(scenario, variant, wanted, seconds, symbolic=True)
            row += f" | {hypothesis(variant)} | {shown(plain)} | {shown(symbolic)}"
        print(f"{row} | {z3_search(scenario, variant, wanted, seconds, z3_depth)}", flush=True)


def basic_rows(seconds: float, z3_depth: int, z3_only: bool) -> None:
    print(f"\nbasic, default variant, every invariant, {seconds:.0f} s each: the deepest depth covered completely")
    for label, symbolic in () if z3_only else (("explore", False), ("symbolic", True)):
        started = time.monotonic()
        r = breadth_first(get_scenario("basic"), DEFAULT, [], seconds, symbolic)
        covered = r.depth if r.complete else r.depth - 1
        print(f"{label:<10} depth {covered} ({r.states:,} states, {time.monotonic() - started:.1f} s)", flush=True)
    model = KubeModel(get_scenario("basic"), DEFAULT)
    _, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, []), z3_depth, seconds)
    encoded = f"{len(coverage.encoded)} encoded action instances, {len(coverage.judged)} encoded invariants"
    print(f"{'z3':<10} depth {coverage.depth} ({coverage.stopped}; {encoded}, {coverage.seconds:.1f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound of each breadth-first search")
    parser.add_argument("--variant", action="append", default=None, help="only these variants (repeatable)")
    parser.add_argument("--z3-depth", type=int, default=16, help="the deepest bound Z3 unrolls")
    parser.add_argument("--no-basic", action="store_true", help="skip the depths on basic")
    parser.add_argument("--z3-only", action="store_true", help="only the z3 column (and on basic, only Z3's depth)")
    args = parser.parse_args()
    variant_rows(args.variant or [n for n in VARIANTS if n != DEFAULT.name], args.seconds, args.z3_depth, args.z3_only)
    if not args.no_basic:
        basic_rows(args.seconds, args.z3_depth, args.z3_only)


if __name__ == "__main__":
    main()
