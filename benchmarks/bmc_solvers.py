"""How ``kspec check --engine z3`` asks Z3: one incremental solver, a fresh solver per depth, or the default (incremental, then fresh).

    python benchmarks/bmc_solvers.py [--seconds 300]

For each case (a scenario, variant and invariant, and a depth bound), the
seconds ``checker.bmc.engine.search`` takes to reach the violation or to
refute every run to the bound, with each way of asking; ``>S (d)`` when the
time bound ran out after refuting depth d. The default switches to fresh
solvers once a depth costs more than ``FRESH_AFTER`` resource units.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checker.bmc import engine as bmc
from spec.invariants import Monitor
from spec.model import KubeModel
from spec.scenarios import get_scenario
from spec.variants import VARIANTS

CASES = (
    ("batch", "kubelet-ip-by-running", "unique-pod-ip", 12),
    ("scale", "rs-no-expectations", "rs-no-overshoot", 12),
    ("basic", "apiserver-rebind", "pod-bound-once", 12),
    ("basic", "default", "", 11),
    ("capacity", "scheduler-no-assume", "scheduler-fit", 11),
)
"""(scenario, variant, invariant or "" for every invariant, depth bound)"""

WAYS = (("incremental", None), ("fresh", 0), ("default", bmc.FRESH_AFTER))


def one(scenario: str, variant: str, invariant: str, depth: int, fresh_after: int | None, seconds: float) -> str:
    """The seconds to the verdict, and the depth of the violation or of the bound."""
    model = KubeModel(get_scenario(scenario), VARIANTS[variant])
    _, coverage = bmc.search(model, Monitor(model.ctx, model.is_quiescent, [invariant] if invariant else []), depth, seconds, fresh_after)
    if coverage.stopped == "time":
        return f"{'>' + format(seconds, '.0f'):>7} ({coverage.depth:>2})"
    return f"{coverage.seconds:>7.2f} ({coverage.depth:>2})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="time bound of each search")
    args = parser.parse_args()
    print(f"{'scenario':<9} {'variant':<22} {'invariant':<16} {'bound':>5} | " + " | ".join(f"{name:>12}" for name, _ in WAYS))
    for scenario, variant, invariant, depth in CASES:
        cells = [one(scenario, variant, invariant, depth, fresh_after, args.seconds) for _, fresh_after in WAYS]
        print(f"{scenario:<9} {variant:<22} {invariant or 'every':<16} {depth:>5} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
