"""kspec prove's figures: per invariant and scenario, the abstraction's size, Z3's k-induction and the explorer beside it.

For each invariant ``kspec prove`` has an abstraction for, on each scenario
given (default variant): the number of commands, the abstract states
reachable from the scenario's initial objects (the explorer's complete
search, and its time), the k-induction verdict with the lemmas and its
time, and, for an abstraction with lemmas, the invariant alone within
``--max-k`` (how far k-induction gets without them).

    python benchmarks/prove.py [--scenarios basic batch stateful] [--max-k 6]
"""

from __future__ import annotations

import argparse

from checker import induction, symbolic
from checker.explore import explore
from spec.model import KubeModel
from spec.scenarios import get_scenario
from spec.variants import DEFAULT


def row(invariant: str, scenario: str, max_k: int) -> str:
    """One invariant's figures on one scenario."""
    abstraction = induction.abstraction_for(KubeModel(get_scenario(scenario), DEFAULT), invariant)
    reach = explore(abstraction.model, abstraction.claims)
    proof = symbolic.prove(abstraction.model, abstraction.claims, 10)
    alone = symbolic.prove(abstraction.model, abstraction.properties, max_k) if abstraction.lemmas else None
    cells = [
        f"{invariant:<18} {scenario:<9}",
        f"{len(abstraction.model.commands):>8} {len(abstraction.lemmas):>6}",
        f"{reach.states:>7,} {reach.seconds:>8.3f}",
        f"{proof.verdict + ' k=' + str(proof.k):>12} {proof.seconds:>6.2f}",
        f"{alone.verdict + ' k=' + str(alone.k):>12} {alone.seconds:>7.2f}" if alone else f"{'-':>12} {'-':>7}",
    ]
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=["basic", "batch", "stateful"], help="built-in scenarios")
    parser.add_argument("--max-k", type=int, default=6, help="the deepest induction to try without the lemmas")
    args = parser.parse_args()
    head = f"{'invariant':<18} {'scenario':<9} {'commands':>8} {'lemmas':>6} {'states':>7} {'explore':>8}"
    print(f"{head} {'k-induction':>12} {'z3 s':>6} {'no lemmas':>12} {'z3 s':>7}")
    for scenario in args.scenarios:
        for invariant in sorted(induction.ABSTRACTIONS):
            print(row(invariant, scenario, args.max_k), flush=True)


if __name__ == "__main__":
    main()
