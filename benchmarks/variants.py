"""Time to the first violation, per variant: median over seeds, and the shrunk trace length.

    python benchmarks/variants.py [--seeds 5] [--max-examples 300] [--corpus DIR]

For each variant, on its witness scenario, with the Hypothesis engine,
looking for the first invariant it lists as broken (``kspec variants``): how
many seeds found a violation of it, the median wall time and the median number of
steps (over all examples) until the first violation was met (over the seeds
that found one), the median wall time of the whole run (search, shrinking and
replay), and the length of the shrunk trace (shortest over the seeds). ``--corpus DIR`` also writes the
shortest trace of each variant to DIR with its readable ``.txt`` rendering
and the expected verdicts (``expected.json``), which is how counterexamples/
is made.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from checker import trace as tracefmt
from checker.check import check_one
from checker.render import format_replay
from checker.replay import replay
from spec.scenarios import get_scenario
from spec.variants import DEFAULT, VARIANTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-examples", type=int, default=300)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--variant", action="append", default=None)
    args = parser.parse_args()
    names = args.variant or [n for n in VARIANTS if n != DEFAULT.name]
    print(f"{'variant':<34} {'scenario':<10} {'found':>5} {'s to first':>10} {'steps to first':>14} {'run s':>7} {'shrunk':>7}")
    expected = {}
    for name in names:
        variant = VARIANTS[name]
        reports = [
            check_one(get_scenario(variant.witness), variant, variant.breaks[:1], seed=seed, max_examples=args.max_examples)
            for seed in range(args.seeds)
        ]
        found = [r for r in reports if r.trace is not None]
        run_seconds = statistics.median(r.coverage.seconds for r in reports)
        first = [r.seconds_to_first for r in found if r.seconds_to_first is not None]
        seconds = f"{statistics.median(first):.2f}" if first else "-"
        steps = statistics.median(r.steps_to_first for r in found if r.steps_to_first is not None) if found else None
        best = min(found, key=lambda r: (len(r.trace.steps), r.coverage.examples)) if found else None  # type: ignore[union-attr]
        shrunk = len(best.trace.steps) if best and best.trace else None
        shown_steps, shown_shrunk = steps if steps is not None else "-", shrunk if shrunk is not None else "-"
        print(f"{name:<34} {variant.witness:<10} {len(found):>3}/{args.seeds} {seconds:>10} {shown_steps:>14} {run_seconds:>7.2f} {shown_shrunk:>7}")
        if args.corpus is not None and best is not None and best.trace is not None:
            path = args.corpus / f"{name}.json"
            tracefmt.write(best.trace, path)
            result = replay(best.trace, path.name)
            tracefmt.write_text(format_replay(best.trace, result, path.name, tables=False) + "\n", args.corpus / f"{name}.txt")
            expected[path.name] = {"exit": 1, "invariant": best.trace.invariant, "step": best.trace.violation_step}
    if args.corpus is not None:
        tracefmt.write_json(expected, args.corpus / "expected.json")


if __name__ == "__main__":
    main()
