"""A seeded random walk through the action catalogue.

Each step picks uniformly among the enabled actions (stutters excluded) with
``random.Random`` seeded by the user, so the same seed, scenario and variant give the same
walk in every process (the catalogue's order does not depend on
``PYTHONHASHSEED``). The walk stops early when no action is enabled.
"""

from __future__ import annotations

import random

import attrs

from spec.component import Action
from spec.model import KubeModel
from spec.state import State


@attrs.frozen
class Walk:
    """A walk: where it started, each step taken and the state after it."""

    initial: State
    steps: tuple[tuple[Action, State], ...]
    stopped_early: bool
    """no action was enabled before the requested number of steps"""

    @property
    def final(self) -> State:
        """The state after the last step."""
        return self.steps[-1][1] if self.steps else self.initial


def random_walk(model: KubeModel, steps: int, seed: int) -> Walk:
    """Take up to ``steps`` uniformly chosen enabled actions."""
    rng = random.Random(seed)
    state = initial = model.initial_states()[0]
    taken: list[tuple[Action, State]] = []
    for _ in range(steps):
        step = model.random_successor(state, rng)
        if step is None:
            return Walk(initial, tuple(taken), stopped_early=True)
        taken.append(step)
        state = step[1]
    return Walk(initial, tuple(taken), stopped_early=False)
