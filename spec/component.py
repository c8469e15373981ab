"""How a component is declared: its watches, its memory, its actions.

A Kubernetes component (and a user's own controller) is a
:class:`ComponentType`: what it watches, the in-memory state it starts with,
how its informer handlers update that memory, and its actions. Each action is
an :class:`ActionDef`: a name, parameter names, a guard that enumerates the
enabled parameter tuples of a state in a stable order, and an effect, a pure
function from state to state. The catalogue (``spec.catalogue``) is the union
of the actions of every component instance; engines see nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from spec.scenarios import Scenario, Timing
    from spec.state import State, WatchEvent
    from spec.variants import Variant

Param = str | int | bool
"""A JSON-serialisable action parameter value."""


@attrs.frozen(cache_hash=True)
class Action:
    """One step: which component instance does what, with which parameters."""

    component: str
    """the component instance, e.g. ``scheduler`` or ``kubelet/node-1``"""
    name: str
    """the action, e.g. ``SchedulerBind``"""
    params: tuple[tuple[str, Param], ...] = ()
    """parameter name/value pairs in the action's declared order"""

    def param(self, name: str) -> Param:
        """The value of one parameter."""
        for key, value in self.params:
            if key == name:
                return value
        raise KeyError(name)

    def __str__(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.component} {self.name}" + (f" {args}" if args else "")

    def to_json(self) -> dict[str, Any]:
        """The action as trace JSON: component, action and parameters."""
        return {"component": self.component, "action": self.name, "params": dict(self.params)}


Guard = Callable[["Context", "State", str], Iterable[tuple[Param, ...]]]
Effect = Callable[..., "State"]


@attrs.frozen
class ActionDef:
    """One action of a component type."""

    name: str
    """the action's name, unique in the catalogue"""
    params: tuple[str, ...]
    """parameter names, in order"""
    guard: Guard
    """(ctx, state, instance) -> the enabled parameter tuples, in a stable order"""
    effect: Effect
    """(ctx, state, instance, *params) -> the next state"""
    possible: Callable[[Any], bool] = attrs.field(default=lambda scenario: True)
    """scenario -> whether the scenario can ever enable it (an environment action whose budget is 0 cannot)"""


WatchFilter = Callable[[str, Any], bool]
"""(instance's node name, object) -> the object is selected by the watch."""


@attrs.frozen
class Watch:
    """One informer: a kind and, optionally, a field selector."""

    kind: str
    """the watched kind"""
    selects: WatchFilter | None = None
    """the watch's selector; None selects every object of the kind"""
    loses: Callable[[Context, WatchEvent], bool] | None = None
    """a variant's bug: events of this watch that never reach the informer (the cursor still moves on)"""


EventHandler = Callable[["Context", Any, "Event"], Any]
"""(ctx, memory, event) -> memory: an informer handler (AddFunc/UpdateFunc/DeleteFunc)."""


@attrs.frozen
class Event:
    """What an informer handler is called with."""

    type: str
    """ADDED, MODIFIED or DELETED"""
    kind: str
    """the object's kind"""
    old: Any
    """the cached object before the event (None for ADDED)"""
    new: Any
    """the object after the event (None for DELETED)"""
    instance: str
    """the component instance receiving it"""
    now: int
    """the clock"""
    cache: Any
    """the instance's cache with the event applied (its listers)"""
    tombstone: bool = False
    """a DELETED that a relist inferred (client-go's DeletedFinalStateUnknown), not a watch event"""

    @property
    def obj(self) -> Any:
        """The object the event is about (new, or old for a deletion)."""
        return self.new if self.new is not None else self.old


@attrs.frozen
class ComponentType:
    """A component: what it watches, what it keeps in memory, what it does."""

    kind: str
    """the component's name, e.g. ``scheduler`` or ``kubelet``"""
    actions: tuple[ActionDef, ...]
    """its actions, in catalogue order"""
    watches: tuple[Watch, ...] = ()
    """its informers"""
    per_node: bool = False
    """one instance per node (kubelet, kube-proxy) instead of one per cluster"""
    initial_memory: Callable[[], Any] = attrs.field(default=lambda: None)
    """the in-memory state of a freshly started instance"""
    on_event: EventHandler | None = None
    """informer event handler that updates the memory"""
    timers: Callable[[Context, State, str], Iterable[int]] | None = None
    """future ticks at which one of its actions becomes enabled"""
    urgent: Callable[[Context, State, str], bool] | None = None
    """True if time must not advance before this instance acts"""
    source: str = ""
    """the Kubernetes source paths it follows"""
    environment: bool = False
    """an actor of the environment (user, faults, clock), not a cluster component"""
    twin_flag: str = ""
    """a variant flag that runs a second instance beside the first, uncoordinated (no leader election)"""
    stale_relist_flag: str = ""
    """a variant flag under which a restarted instance lists from the watch cache as far behind as it may lag"""

    def instance_names(self, nodes: Iterable[str], flags: frozenset[str] = frozenset()) -> tuple[str, ...]:
        """The names of its instances in a cluster with these nodes, under these variant flags."""
        if self.per_node:
            return tuple(f"{self.kind}/{n}" for n in nodes)
        if self.twin_flag and self.twin_flag in flags:
            return (self.kind, f"{self.kind}-2")
        return (self.kind,)


def node_of(instance: str) -> str:
    """The node a per-node instance runs on (``kubelet/node-1`` -> ``node-1``)."""
    return instance.partition("/")[2]


@attrs.frozen(eq=False)
class Context:
    """What the actions need besides the state: scenario, variant, instances."""

    scenario: Scenario
    """the scenario (starting cluster, bounds, timing)"""
    variant: Variant
    """the behaviour variant"""
    components: tuple[tuple[str, ComponentType], ...]
    """every component instance in catalogue order, with its type"""
    watchers: tuple[tuple[str, Watch], ...]
    """every (instance, watch) pair, in catalogue order"""
    _types: dict[str, ComponentType] = attrs.field(init=False)
    _watches: dict[tuple[str, str], Watch] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_types", dict(self.components))
        object.__setattr__(self, "_watches", {(name, w.kind): w for name, w in self.watchers})

    @property
    def timing(self) -> Timing:
        """The scenario's timing constants (ticks)."""
        return self.scenario.timing

    def flag(self, name: str) -> bool:
        """True if the variant switches on the behaviour change ``name``."""
        return name in self.variant.changes

    def type_of(self, instance: str) -> ComponentType:
        """The component type of an instance."""
        return self._types[instance]

    def watch_of(self, instance: str, kind: str) -> Watch:
        """The watch of ``instance`` on ``kind``."""
        return self._watches[(instance, kind)]
