"""Every interleaving for every number: what a cover (``kspec check --engine explore --symbolic``) costs.

For each case, a scenario and variant with some numbers left open: the cells
the numbers' ranges split into, how many break an invariant, the states the
cells' explorations visited in all (the second exploration that confirms
each cell not counted) and the wall time of the whole cover. Printed as the
README's table.

    python benchmarks/cover.py [--only SCENARIO ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.explore import Limits  # noqa: E402
from checker.numbers import cover  # noqa: E402
from spec.scenarios import SCENARIOS  # noqa: E402
from spec.variants import VARIANTS  # noqa: E402

CASES = (
    ("services", "apiserver-clusterip-lag", ("requests", "timeouts"), 3),
    ("capacity", "default", ("requests",), 4),
    ("capacity", "default", ("requests", "capacity"), 4),
    ("outage", "nodelifecycle-no-disruption-mode", ("timeouts",), 10),
    ("outage", "default", ("timeouts",), 10),
)


def row(scenario: str, variant: str, kinds: tuple[str, ...], depth: int) -> str:
    """One case's figures, as a Markdown table row."""
    c = cover(SCENARIOS[scenario], VARIANTS[variant], [], kinds, Limits(depth=depth))
    broken = sum(1 for cell in c.cells if cell.result.found is not None)
    states = sum(cell.result.states for cell in c.cells)
    covered = "yes" if c.covered else "no: time limit" if c.stopped == "time limit" else "no: Z3 gave up"
    figures = f"{len(c.parameters)} | {depth} | {len(c.cells)} | {broken} | {states:,} | {covered} | {c.seconds:.1f}"
    return f"| `{scenario}` | `{variant}` | {','.join(kinds)} | {figures} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="only these scenarios")
    args = parser.parse_args()
    print("| scenario | variant | numbers | count | depth | cells | broken | states | covered | seconds |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|---:|")
    for case in CASES:
        if args.only is None or case[0] in args.only:
            print(row(*case), flush=True)


if __name__ == "__main__":
    main()
