"""Frames, cells and the unrolled run that the component encodings read and write.

A *cell* is one named Z3 integer or boolean of a state; a *frame* holds the
value of every cell in one state of a run. The component encodings describe
an action instance by its guard (a Z3 condition on the run up to frame t)
and its effect (the cells it changes, as terms over the run up to frame t);
:class:`Unrolling` turns them into the constraint that frame t+1 follows
frame t by the action chosen at step t.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs
import z3

from spec.catalogue import WATCH_DELIVER
from spec.component import Action
from spec.frozen import EMPTY
from spec.model import KubeModel
from spec.state import State

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
CellValue = int | bool
Terms = dict[str, z3.ExprRef]
"""cell name to its Z3 term in one frame"""

NONE = -1
"""an absent number: a watch without a cursor, a Service without a ClusterIP"""


class EncodingError(AssertionError):
    """Z3 and the executable spec disagree: a decoded run does not re-execute, or does not break what Z3 says it breaks."""


@attrs.frozen
class Cell:
    """One number or flag of the state: its name, whether it is a boolean, and whether it records history only.

    A *history* cell is not part of the state (the abstraction of a state
    does not give it): it says what the step that reached the frame did,
    such as the kind of object it wrote, so that later frames can read the
    watch history off the unrolling.
    """

    name: str
    boolean: bool = False
    history: bool = False

    def declare(self, frame: int) -> z3.ExprRef:
        """The cell's variable in frame ``frame``."""
        name = f"{self.name}@{frame}"
        return z3.Bool(name) if self.boolean else z3.Int(name)

    def literal(self, value: CellValue) -> z3.ExprRef:
        """A constant of the cell's sort."""
        return z3.BoolVal(bool(value)) if self.boolean else z3.IntVal(int(value))


Guard = Callable[["Unrolling", int], z3.BoolRef]
Effect = Callable[["Unrolling", int], Terms]
Relisted = Callable[["Unrolling", int, z3.ArithRef, z3.ArithRef], Terms]
"""a component's handlers of a relist, from its cache as of one revision to the store as of another (informer._diff_handlers)"""


@attrs.frozen
class Encoded:
    """One action instance of the catalogue as Z3 reads it: enabled where ``guard`` holds, changing the cells ``effect`` gives."""

    action: Action
    guard: Guard
    effect: Effect
    born: int = 0
    """the first frame in which the guard can hold (a pod slot's actions wait for the earliest step that can create it): before, not built"""
    unread: bool = False
    """a delivery whose changes (its watch's cursor, and memory only its component's impossible actions read) nothing reads but the
    quiescence condition, that watch's own WatchReset (which a lower cursor only enables more) and the component's restart (which resets
    them): the endpoints controller's pod deliveries where no Service exists, the node lifecycle and taint eviction controllers' where no
    Node is written, the garbage collector's where it can collect nothing, the ReplicaSet controller's where no ReplicaSet exists, the
    scheduler's Node deliveries where no pod is ever queued. A search that judges no quiescent invariant leaves it out,
    since a delivery breaks no invariant and a run without it takes the same other steps to the same objects."""
    free: str = ""
    """the name of a number parameter Z3 chooses at each step (``Unrolling.arg``), appended to ``action``'s parameters when decoded (such
    as WatchReset's revision); "" for none"""

    def decoded(self, arg: int) -> Action:
        """The catalogue action this instance takes with its free parameter at ``arg``."""
        return attrs.evolve(self.action, params=(*self.action.params, (self.free, arg))) if self.free else self.action


@attrs.frozen
class EncodedInvariant:
    """An invariant as Z3 reads it: ``bad(u, t)`` holds when frame t breaks it (a transition invariant: when the step into frame t does)."""

    name: str
    bad: Callable[[Unrolling, int], z3.BoolRef]


class Unrolling:
    """A run of the instance as Z3 frames: frame 0 is the initial state, frame t+1 follows frame t by the action ``choice[t]``."""

    def __init__(
        self, cells: Sequence[Cell], initial: Mapping[str, CellValue], actions: Sequence[Encoded], context: object, order: Mapping[int, int] = EMPTY
    ) -> None:
        self.cells = {c.name: c for c in cells}
        self.actions = tuple(actions)
        self.context = context
        """what the encodings need besides the frames (the instance)"""
        self.order = dict(order)
        """a rank for each of some actions (by index) any two of which of different ranks are independent: two of them in adjacent steps
        come in rank order (``Instance.unrolling``)"""
        self.frames: list[Terms] = [{name: cell.literal(initial.get(name, 0)) for name, cell in self.cells.items()}]
        self.choices: list[z3.ArithRef] = []
        self.fixed: dict[int, int] = {}
        """the free parameter of steps whose value is known (the differential test's)"""
        self._memo: dict[tuple[object, ...], object] = {}

    def memo(self, key: tuple[object, ...], build: Callable[[], T], *terms: z3.ExprRef) -> T:
        """``build()``, once per ``key`` (which names a frame) and ``terms``: what a guard and an effect, or several actions, read alike.

        The terms are told apart by their Z3 ids, and kept alive so that no id is reused.
        """
        full = (*key, *(term.get_id() for term in terms))
        if full not in self._memo:
            self._memo[full] = (build(), terms)
        return self._memo[full][0]  # type: ignore[index, no-any-return]

    def arg(self, t: int) -> z3.ArithRef:
        """The number the action of step t chooses for its free parameter (0 where it has none)."""
        return z3.IntVal(self.fixed[t]) if t in self.fixed else z3.Int(f"arg@{t}")

    def __getitem__(self, frame: int) -> Terms:
        return self.frames[frame]

    @property
    def depth(self) -> int:
        """Steps unrolled so far."""
        return len(self.choices)

    def step(self) -> list[z3.BoolRef]:
        """Unroll one more step; the constraints that tie the new frame to the one before."""
        t = self.depth
        choice = z3.Int(f"action@{t}")
        self.choices.append(choice)
        cur = self.frames[t]
        chosen = [choice == i for i in range(len(self.actions))]
        enabled = [z3.And(chosen[i], enc.guard(self, t)) for i, enc in enumerate(self.actions) if enc.born <= t]
        values: dict[str, z3.ExprRef] = {name: cell.literal(0) if cell.history else cur[name] for name, cell in self.cells.items()}
        for i in reversed(range(len(self.actions))):
            if self.actions[i].born > t:
                continue
            effect = self.actions[i].effect(self, t)
            unknown = set(effect) - set(self.cells)
            assert not unknown, f"{self.actions[i].action} writes cells that are not declared: {sorted(unknown)}"
            for name in sorted(effect):
                if not effect[name].eq(values[name]):
                    values[name] = z3.If(chosen[i], effect[name], values[name])
        # a cell no action of the step can change keeps its term (a constant stays one): no new variable, no equation
        kept = {name for name, value in values.items() if value.eq(cur[name]) or z3.is_int_value(value) or z3.is_true(value) or z3.is_false(value)}
        nxt = {name: values[name] if name in kept else cell.declare(t + 1) for name, cell in self.cells.items()}
        self.frames.append(nxt)
        state_cells = [name for name in sorted(self.cells) if not self.cells[name].history and not nxt[name].eq(cur[name])]
        changes = z3.Or([nxt[name] != cur[name] for name in state_cells] or [z3.BoolVal(False)])  # a step that changes nothing is a stutter
        ties = [nxt[name] == values[name] for name in sorted(self.cells) if name not in kept]
        free = [chosen[i] for i, enc in enumerate(self.actions) if enc.free and enc.born <= t]
        pinned = z3.Or(*free, self.arg(t) == 0) if free else self.arg(t) == 0  # a step without a free parameter leaves it 0: one model per run
        return [z3.Or(enabled) if enabled else z3.BoolVal(False), changes, pinned, *ties, *self._in_order(t)]

    def _in_order(self, t: int) -> list[z3.BoolRef]:
        """Where ``order`` ranks the actions of steps t-1 and t, the earlier one's rank is not above the later one's."""
        if not self.order or t == 0:
            return []

        before, now = self._rank(t - 1), self._rank(t)
        return [z3.Or(before < 0, now < 0, before <= now)]

    def _rank(self, t: int) -> z3.ArithRef:
        """The rank of step t's action (-1 where ``order`` ranks it not), built once per step."""

        def build() -> z3.ArithRef:
            term: z3.ArithRef = z3.IntVal(-1)
            for index, r in sorted(self.order.items()):
                term = z3.If(self.choices[t] == index, r, term)
            return term

        return self.memo(("rank", t), build)

    def known(self, choice: int, values: Mapping[str, CellValue], arg: int = 0) -> None:
        """Append a step whose choice (and free parameter) and next frame are known constants (how the differential test follows a run of the
        executable spec)."""
        self.fixed[self.depth] = arg
        self.choices.append(z3.IntVal(choice))
        self.frames.append({name: cell.literal(values.get(name, 0)) for name, cell in self.cells.items()})

    def successor(self, index: int, arg: int = 0) -> dict[str, CellValue] | None:
        """With every frame so far constant: the next frame action ``index`` leads to (with its free parameter at ``arg``), or None if it is
        not enabled (or would change nothing)."""
        t = self.depth
        enc = self.actions[index]
        self.fixed[t] = arg
        try:
            if enc.born > t or not z3.is_true(z3.simplify(enc.guard(self, t))):
                return None
            values = {name: _constant(self.frames[t][name]) if not cell.history else 0 for name, cell in self.cells.items()}
            values |= {name: _constant(term) for name, term in enc.effect(self, t).items()}
        finally:
            del self.fixed[t]
        changed = any(values[name] != _constant(self.frames[t][name]) for name, cell in self.cells.items() if not cell.history)
        return values if changed else None


def per_frame(fn: F) -> F:
    """Memoise ``fn(u, t, *names)`` on the unrolling: a read of frame t that several guards and effects share is built once."""

    @functools.wraps(fn)
    def once(u: Unrolling, t: int, *names: str) -> Any:
        return u.memo((fn.__qualname__, t, *names), lambda: fn(u, t, *names))

    return cast(F, once)


def _constant(term: z3.ExprRef) -> CellValue:
    value = z3.simplify(term)
    if z3.is_true(value) or z3.is_false(value):
        return bool(z3.is_true(value))
    assert isinstance(value, z3.IntNumRef), f"not a constant: {value}"
    return int(value.as_long())


@attrs.frozen
class Instance:
    """A scenario and variant as the encoding sees them: the cells, the encoded actions and invariants, and what is left out."""

    model: KubeModel
    initial: State
    cells: tuple[Cell, ...]
    actions: tuple[Encoded, ...]
    invariants: tuple[EncodedInvariant, ...]
    abstract: Callable[[State], dict[str, CellValue]]
    """a state's cell values (the abstraction the differential test compares frames with)"""
    not_encoded: tuple[str, ...]
    """the catalogue's actions (``component Action [params]``) this scenario can take that the encoding leaves out, in catalogue order"""
    data: object
    """the component encodings' own constants (slots, codes, the initial history)"""

    def unrolling(self, reduced: bool = False) -> Unrolling:
        """Frame 0 of a run from the scenario's initial state.

        ``reduced``: two watch deliveries of different components in adjacent
        steps come in the catalogue's order of their components. Such a pair
        is independent: each reads the history and its own component's
        cursor and memory and writes only those, so either order is enabled
        and ends in the same frame. Any run can be sorted so by swapping such
        pairs, to a run of the same length that ends in the same frame, with
        the same writes in the same order; a state invariant, a transition
        invariant (which reads the store's writes) and the quiescence of the
        last frame are judged alike in both. The search then tries one
        order of a burst of deliveries instead of every one.
        """
        order: dict[int, int] = {}
        if reduced:
            ranks = {name: i for i, (name, _) in enumerate(self.model.ctx.components)}
            order = {i: ranks[e.action.component] for i, e in enumerate(self.actions) if e.action.name == WATCH_DELIVER}
        return Unrolling(self.cells, self.abstract(self.initial), self.actions, self.data, order)
