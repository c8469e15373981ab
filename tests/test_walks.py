"""Long random walks: every enabled action applies, in every scenario, for 10,000 steps.

The built-in scenarios' budgets are small (that is what keeps searches
finite), so a walk soon runs out of things to do. Here each scenario is
widened: every budget is large, the clock limit high, the watch cache keeps a
window, and the user may recreate, scale and relabel. The walk then keeps
going for 10,000 steps through crashes, partitions, restarts and lagging
relists, and must never raise. The default run covers a few seeds per
scenario; ``-m slow`` covers many.
"""

from __future__ import annotations

import attrs
import pytest

from checker.simulate import random_walk
from spec.frozen import FrozenMap
from spec.model import KubeModel
from spec.objects import ReplicaSet, Service
from spec.scenarios import BUDGETS, SCENARIOS, Scenario

STEPS = 10_000


def widened(scenario: Scenario) -> Scenario:
    """The scenario with large budgets, so that a walk does not dead-end."""
    bounds = attrs.evolve(scenario.bounds, budgets=FrozenMap(dict.fromkeys(BUDGETS, 10_000)), clock_limit=10_000, watch_cache_window=6)
    user = attrs.evolve(
        scenario.user,
        replicasets=tuple(o for o in scenario.objects if isinstance(o, ReplicaSet)) + scenario.user.replicasets,
        services=tuple(o for o in scenario.objects if isinstance(o, Service)) + scenario.user.services,
        scale=scenario.user.scale or (0, 1, 3),
        relabel=("app=web", "app=debug,tier=x"),
    )
    return attrs.evolve(scenario, bounds=bounds, user=user)


def walk_ok(name: str, seed: int) -> None:
    model = KubeModel(widened(SCENARIOS[name]))
    walk = random_walk(model, STEPS, seed)
    assert not walk.stopped_early, f"{name} seed {seed} dead-ended after {len(walk.steps)} steps"
    names = {a.name for a, _ in walk.steps}
    assert {"Tick", "NodeCrash", "NodePartition", "ComponentRestart", "WatchDeliver"} <= names


@pytest.mark.parametrize("seed", [1])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_ten_thousand_step_walks_never_raise(name: str, seed: int) -> None:
    """Every enabled action applies (guards and effects agree) through faults and lag."""
    walk_ok(name, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 40))
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_ten_thousand_step_walks_never_raise_many_seeds(name: str, seed: int) -> None:
    """The same, over many more seeds."""
    walk_ok(name, seed)
