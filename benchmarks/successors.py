"""How fast the action catalogue expands states (successor generation).

Breadth-first from a scenario's initial state for a fixed time: every state
taken from the queue has all its successors computed (guards, effects,
stutter filtering) and the new ones are queued. Prints states expanded per
second, successors generated per second and the distinct states seen, plus
the random-walk rate (one successor drawn per step), for each scenario asked.

    python benchmarks/successors.py [--seconds 10] [--scenario basic ...]
"""

from __future__ import annotations

import argparse
import collections
import platform
import random
import time

from spec.model import KubeModel
from spec.scenarios import SCENARIOS, get_scenario
from spec.state import State


def expand(model: KubeModel, seconds: float) -> tuple[int, int, int, float]:
    """Breadth-first expansion for ``seconds``: (expanded, successors, distinct, elapsed)."""
    start = model.initial_states()[0]
    seen: set[State] = {start}
    queue = collections.deque([start])
    expanded = successors = 0
    began = time.perf_counter()
    while queue and time.perf_counter() - began < seconds:
        state = queue.popleft()
        expanded += 1
        for _, nxt in model.successors(state):
            successors += 1
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return expanded, successors, len(seen), time.perf_counter() - began


def walk_rate(model: KubeModel, steps: int) -> float:
    """Random-walk steps per second (restarting from the initial state when a walk dead-ends)."""
    rng = random.Random(0)
    state = start = model.initial_states()[0]
    began = time.perf_counter()
    for _ in range(steps):
        step = model.random_successor(state, rng)
        state = start if step is None else step[1]
    return steps / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="time spent expanding each scenario")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="scenario (repeatable; default: basic)")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, one process, {args.seconds:g} s per scenario")
    header = f"{'scenario':<14}{'expanded/s':>12}{'successors/s':>14}{'succ/state':>12}{'distinct':>10}{'walk steps/s':>14}"
    print(header)
    for name in args.scenario or ["basic"]:
        model = KubeModel(get_scenario(name))
        expanded, successors, distinct, elapsed = expand(model, args.seconds)
        rate = walk_rate(model, 2000)
        print(
            f"{name:<14}{expanded / elapsed:>12,.0f}{successors / elapsed:>14,.0f}{successors / max(expanded, 1):>12.1f}{distinct:>10,}{rate:>14,.0f}"
        )


if __name__ == "__main__":
    main()
