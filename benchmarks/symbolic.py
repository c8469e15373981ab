"""Z3 beside the explorer on TwoPhase, a guarded-command model both read from the same commands.

For each number of resource managers: the explorer's complete search (a
level at a time) and its time; bounded model checking of the ``eager_commit``
bug (the depth of the counterexample and the time to it, beside the
explorer's); k-induction of TCConsistent with the lemmas that make it
inductive (``TwoPhase.inductive``), and of TCConsistent alone within
``--max-k``.

    python benchmarks/symbolic.py [--sizes 3 5 8] [--max-k 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from calibration.twophase import TwoPhase  # noqa: E402

from checker.explore import explore  # noqa: E402
from checker.symbolic import bmc, prove  # noqa: E402


def row(n: int, max_k: int) -> str:
    """One size's figures."""
    model, buggy = TwoPhase(n), TwoPhase(n, eager_commit=True)
    complete = explore(model, model.invariants)
    found = explore(buggy, buggy.invariants)
    depth = len(found.found.actions) if found.found else "-"
    symbolic = bmc(buggy, buggy.invariants, 30)
    z3_depth = len(symbolic.found.actions) if symbolic.found else "-"
    lemmas = prove(model, model.inductive, max_k)
    alone = prove(model, model.invariants, max_k)
    cells = [
        f"{n:>3}",
        f"{complete.states:>10,}",
        f"{complete.seconds:>8.2f}",
        f"{depth!s:>6} {found.seconds:>8.2f}",
        f"{z3_depth!s:>6} {symbolic.seconds:>8.2f}",
        f"{lemmas.verdict + ' k=' + str(lemmas.k):>12} {lemmas.seconds:>6.2f}",
        f"{alone.verdict + ' k=' + str(alone.k):>12} {alone.seconds:>6.2f}",
    ]
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 5, 8], help="numbers of resource managers")
    parser.add_argument("--max-k", type=int, default=4, help="the deepest induction to try")
    args = parser.parse_args()
    head = f"{'RMs':>3} {'states':>10} {'explore':>8} {'bug at':>6} {'explore':>8} {'bmc at':>6} {'z3 s':>8}"
    print(f"{head} {'with lemmas':>12} {'z3 s':>6} {'alone':>12} {'z3 s':>6}")
    for n in args.sizes:
        print(row(n, args.max_k))


if __name__ == "__main__":
    main()
