"""Finite-state models written as guarded commands over bit fields, which the explorer can search vectorised.

A state is one integer below 2**64 made of named bit fields; a command is
enabled where the state matches one of its guard patterns (``state & mask ==
value``) and assigns constants to some fields (``(state & ~clear) | set``).
This is the class of models a Promela ``d_step`` with constant assignments or
a TLA+ action over finite variables expresses, and TwoPhase is one
(``tests/calibration/twophase.py``). Invariants are given as the patterns of
their bad states (a disjunction of ``state & mask == value``).

:class:`GuardedModel` implements the ordinary model interface (so every
engine and the generic explorer check it state by state), and its
description lets ``checker.vector`` search it a whole breadth-first level at
a time with numpy. Both read the same commands, so they cannot drift apart;
``tests/test_vector.py`` checks that they agree.

As in TLC, a command whose assignment changes nothing is a stutter, not a
transition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from spec.invariants import Violation

Pattern = tuple[int, int]
"""``(mask, value)``: matches a state ``s`` with ``s & mask == value``"""


@attrs.frozen
class Command:
    """One action instance: enabled where a guard pattern matches, assigning constants."""

    action: tuple[str, int]
    """(label, parameter): the action as traces show it; the parameter is -1 when there is none"""
    component: str
    """who takes it (for counterexamples with the fewest component switches)"""
    guards: tuple[Pattern, ...]
    """enabled where any of these matches"""
    clear: int
    """the bits of the assigned fields"""
    set: int
    """their new values, in place"""


@attrs.frozen
class Patterns:
    """Invariants given by the patterns of their bad states: the explorer's properties for a guarded model."""

    bad: tuple[tuple[str, str, tuple[Pattern, ...]], ...]
    """(name, message, patterns of the states that break it)"""
    edge_checks = False

    @property
    def names(self) -> tuple[str, ...]:
        """The invariants' names."""
        return tuple(name for name, _, _ in self.bad)

    def check_state(self, state: int, successors: Sequence[tuple[Any, Any]] = ()) -> list[Violation]:
        """Every invariant ``state`` breaks."""
        out = []
        for name, message, patterns in self.bad:
            for mask, value in patterns:
                if state & mask == value:
                    out.append(Violation(name, message))
                    break
        return out

    def check_edge(self, before: Any, action: Any, after: Any) -> list[Violation]:
        """No transition invariants."""
        return []


class Layout:
    """Named bit fields packed from bit 0 upward, in the order given."""

    def __init__(self, fields: Sequence[tuple[str, int]]) -> None:
        self.shift: dict[str, int] = {}
        self.width: dict[str, int] = {}
        offset = 0
        for name, width in fields:
            if name in self.shift:
                raise ValueError(f"field {name!r} declared twice")
            self.shift[name], self.width[name] = offset, width
            offset += width
        if offset > 64:
            raise ValueError(f"{offset} bits do not fit a 64-bit state")
        self.bits = offset

    def mask(self, *names: str) -> int:
        """The bits of the named fields."""
        return sum(((1 << self.width[n]) - 1) << self.shift[n] for n in set(names))

    def pattern(self, values: Mapping[str, int]) -> Pattern:
        """The pattern of states whose named fields hold these values."""
        return self.mask(*values), self.encode(values)

    def encode(self, values: Mapping[str, int]) -> int:
        """The bits of these field values (others 0)."""
        out = 0
        for name, value in values.items():
            if not 0 <= value < 1 << self.width[name]:
                raise ValueError(f"field {name!r}: {value} does not fit {self.width[name]} bits")
            out |= value << self.shift[name]
        return out

    def decode(self, s: int) -> dict[str, int]:
        """The state ``s`` as its field values (``encode``'s inverse)."""
        return {name: self.get(s, name) for name in self.shift}

    def get(self, s: int, name: str) -> int:
        """The value of field ``name`` in ``s``."""
        return (s >> self.shift[name]) & ((1 << self.width[name]) - 1)

    def command(self, action: tuple[str, int], component: str, guards: Sequence[Mapping[str, int]], assign: Mapping[str, int]) -> Command:
        """A command enabled where any of ``guards`` holds, assigning ``assign``."""
        return Command(action, component, tuple(self.pattern(g) for g in guards), self.mask(*assign), self.encode(assign))


class GuardedModel:
    """The model interface over a guarded-command description; ``fingerprint`` is the state itself."""

    symmetry = None

    def __init__(self, layout: Layout, initial: Sequence[Mapping[str, int]], commands: Sequence[Command]) -> None:
        self.layout = layout
        self.initial = tuple(layout.encode(values) for values in initial)
        self.commands = tuple(commands)
        self._by_action = {c.action: c for c in self.commands}
        self._compiled = tuple((c.action, c.guards, ~c.clear, c.set) for c in self.commands)
        """the commands as plain tuples: the state-by-state search's inner loop"""

    def initial_states(self) -> list[int]:
        """The initial states, in the order given."""
        return list(self.initial)

    def successors(self, s: int) -> list[tuple[tuple[str, int], int]]:
        """Every command that is enabled and changes the state, with the state it leads to."""
        out = []
        for action, guards, keep, assign in self._compiled:
            for mask, value in guards:
                if s & mask == value:
                    if (t := (s & keep) | assign) != s:
                        out.append((action, t))
                    break
        return out

    def actions(self, s: int) -> list[tuple[str, int]]:
        """The enabled actions."""
        return [a for a, _ in self.successors(s)]

    def next_state(self, s: int, action: tuple[str, int]) -> int:
        """The state ``action`` leads to."""
        for a, t in self.successors(s):
            if a == action:
                return t
        raise ValueError(f"not enabled: {action}")

    def fingerprint(self, s: int) -> int:
        """The state itself: a perfect, stable encoding."""
        return s

    def action_component(self, action: tuple[str, int]) -> str:
        """Who takes ``action``."""
        return self._by_action[action].component

    def action_label(self, action: tuple[str, int]) -> str:
        """The action's name, without its parameter."""
        return action[0]

    def action_labels(self) -> list[str]:
        """Every action name, sorted."""
        return sorted({c.action[0] for c in self.commands})
