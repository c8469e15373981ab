"""Each bug variant's shortest counterexample, by breadth-first search and by Z3, where both can reach it.

    python benchmarks/shortest.py [--explorer-seconds 60] [--z3-seconds 600] [--variant NAME ...] [--no-explorer | --no-z3]

For each variant, on the cluster ``spec.variants.SHORTEST`` names (a
built-in scenario, or a small cluster of ``spec.scenarios.CLUSTERS``), for
the invariant it names there:

- *explorer*: breadth-first search within EXPLORER_SECONDS: the depth of
  its first violation (the shortest there is) and its seconds, or the
  depth it covered completely;
- *z3*: ``kspec check --engine z3`` with the bound at the listed length,
  within Z3_SECONDS: the length of the run it reports (replayed through
  the executable spec before it is reported) and its seconds, and whether
  every shorter run was refuted or the time bound came first (``not shown
  the shortest``).

A row fails (and the script exits 1) where an engine's length differs from
the listed one: the two exhaustive engines disagree, or the table is stale.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.bmc import engine as bmc  # noqa: E402
from checker.explore import Limits  # noqa: E402
from checker.numbers import explore_scenario  # noqa: E402
from spec.invariants import Monitor  # noqa: E402
from spec.model import KubeModel  # noqa: E402
from spec.scenarios import get_scenario  # noqa: E402
from spec.variants import SHORTEST, VARIANTS, ShortestRun  # noqa: E402


def breadth_first(name: str, row: ShortestRun, seconds: float) -> tuple[str, bool]:
    """The explorer's depth and seconds (or what it covered), and whether its length is the listed one (True where it ran out of time
    short of it)."""
    r = explore_scenario(get_scenario(row.scenario), VARIANTS[name], [row.invariant], Limits(seconds=seconds, depth=row.steps))
    if r.found is not None:
        return f"{len(r.found.actions):>5} {r.seconds:>9.2f}", len(r.found.actions) == row.steps
    covered = r.depth if r.complete else r.depth - 1
    return f"{'(' + str(covered) + ')':>5} {'>' + format(r.seconds, '.0f'):>9}", covered < row.steps


def z3(name: str, row: ShortestRun, seconds: float) -> tuple[str, bool]:
    """Z3's length, seconds and whether it showed every shorter run refuted; and whether its length is the listed one."""
    model = KubeModel(get_scenario(row.scenario), VARIANTS[name])
    found, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, [row.invariant]), row.steps, seconds)
    if found is None:
        return f"{'-':>5} {coverage.seconds:>9.2f}  nothing found (refuted to {coverage.depth}, {coverage.stopped})", False
    shortest = "every shorter refuted" if coverage.stopped == "violation" else f"not shown the shortest (refuted to {coverage.depth})"
    return f"{len(found[0]):>5} {coverage.seconds:>9.2f}  {shortest}", len(found[0]) == row.steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--explorer-seconds", type=float, default=60.0, help="time bound of each breadth-first search")
    parser.add_argument("--z3-seconds", type=float, default=600.0, help="time bound of each Z3 search")
    parser.add_argument("--variant", action="append", default=None, help="only these variants (repeatable)")
    parser.add_argument("--no-explorer", action="store_true", help="only Z3")
    parser.add_argument("--no-z3", action="store_true", help="only the explorer")
    args = parser.parse_args()
    names = args.variant or sorted(SHORTEST, key=lambda n: (SHORTEST[n].steps, n))
    unknown = [n for n in names if n not in SHORTEST]
    if unknown:
        print(f"benchmarks/shortest.py: --variant: no shortest run listed for {', '.join(unknown)} (spec.variants.SHORTEST)", file=sys.stderr)
        return 2
    print(f"{'variant':<34} {'cluster':<11} {'invariant':<28} {'steps':>5} | {'expl':>5} {'s':>9} | {'z3':>5} {'s':>9}")
    started, failed = time.monotonic(), []
    for name in names:
        row = SHORTEST[name]
        line = f"{name:<34} {row.scenario:<11} {row.invariant:<28} {row.steps:>5}"
        explored, agrees = ("", True) if args.no_explorer else breadth_first(name, row, args.explorer_seconds)
        solved, matches = ("-", True) if args.no_z3 else z3(name, row, args.z3_seconds)
        if not (agrees and matches):
            failed.append(name)
        print(f"{line} | {explored or '-':>15} | {solved}", flush=True)
    print(f"\n{len(names)} variants in {time.monotonic() - started:.0f} s; {len(failed)} where an engine's length is not the listed one", end="")
    print(f": {', '.join(failed)}" if failed else "")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
