"""The model interface, and the Kubernetes model that implements it.

Any model an engine checks offers four things (the shape of Stateright's
``Model`` and of a TLA+ spec's Init/Next):

- ``initial_states()``: the states a run starts from;
- ``actions(state)``: the enabled actions, in a stable order;
- ``next_state(state, action)``: the state an enabled action leads to;
- ``successors(state)``: every enabled action with its next state.

:class:`KubeModel` is the Kubernetes control plane: a scenario, a variant and
the component types (the built-in ones, plus any a user adds to check their
own controller beside them). States are ``spec.state.State`` values; actions
are ``spec.component.Action`` values, JSON-serialisable.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from spec import apiserver, catalogue, informer
from spec.component import Action, ComponentType, Context
from spec.controllers.endpoints import ENDPOINTS_CONTROLLER
from spec.controllers.garbagecollector import GARBAGE_COLLECTOR
from spec.controllers.nodelifecycle import NODE_LIFECYCLE_CONTROLLER
from spec.controllers.replicaset import REPLICASET_CONTROLLER
from spec.controllers.tainteviction import TAINT_EVICTION_CONTROLLER
from spec.environment import CLOCK, ENVIRONMENT
from spec.errors import InvalidInputError
from spec.frozen import FrozenMap, replace
from spec.kubelet import KUBELET
from spec.kubeproxy import KUBE_PROXY
from spec.objects import (
    NODE_LEASE_NAMESPACE,
    Namespace,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
)
from spec.runtime import Machine
from spec.scenarios import Scenario
from spec.scheduler import SCHEDULER
from spec.state import Api, Channels, State
from spec.symmetry import NodeSymmetry
from spec.variants import DEFAULT, Variant

S = TypeVar("S")
A = TypeVar("A")

CONTROL_PLANE: tuple[ComponentType, ...] = (
    SCHEDULER,
    REPLICASET_CONTROLLER,
    ENDPOINTS_CONTROLLER,
    NODE_LIFECYCLE_CONTROLLER,
    TAINT_EVICTION_CONTROLLER,
    GARBAGE_COLLECTOR,
)
NODE_COMPONENTS: tuple[ComponentType, ...] = (KUBELET, KUBE_PROXY)
SETTLE_LIMIT = 10_000


class Model(Protocol[S, A]):
    """What an engine needs of a model."""

    def initial_states(self) -> Sequence[S]:
        """The states a run starts from."""
        ...

    def actions(self, state: S) -> list[A]:
        """The enabled actions of ``state``, in a stable order."""
        ...

    def next_state(self, state: S, action: A) -> S:
        """The state ``action`` leads to (it must be enabled)."""
        ...

    def successors(self, state: S) -> list[tuple[A, S]]:
        """Every enabled action of ``state`` with its next state."""
        ...


class KubeModel:
    """The Kubernetes control plane for one scenario and variant."""

    def __init__(self, scenario: Scenario, variant: Variant = DEFAULT, extra: Sequence[ComponentType] = (), symmetry: bool = False) -> None:
        self.scenario = scenario
        self.variant = variant
        self.ctx = build_context(scenario, variant, extra)
        self._kinds = dict(self.ctx.components)
        self._initial: State | None = None
        self.symmetry: NodeSymmetry | None = None
        if symmetry:
            self.symmetry = NodeSymmetry(scenario, self.initial_states()[0])
            self.fingerprint = self.symmetry.fingerprint
            """with ``symmetry``: the canonical fingerprint, equal for states that differ by renaming interchangeable nodes"""

    def initial_states(self) -> list[State]:
        """The scenario's starting cluster (settled first if the scenario asks)."""
        if self._initial is None:
            self._initial = initial_state(self.ctx)
        return [self._initial]

    def actions(self, state: State) -> list[Action]:
        """The enabled actions, in catalogue order."""
        return catalogue.enabled(self.ctx, state)

    def next_state(self, state: State, action: Action) -> State:
        """Apply one action (ActionNotEnabledError if it is not enabled)."""
        return catalogue.apply(self.ctx, state, action)

    def successors(self, state: State) -> list[tuple[Action, State]]:
        """Every enabled action with its next state."""
        return catalogue.successors(self.ctx, state)

    def random_successor(self, state: State, rng: random.Random) -> tuple[Action, State] | None:
        """One successor drawn uniformly (None if no action is enabled); cheaper than ``successors``."""
        return catalogue.random_successor(self.ctx, state, rng)

    def is_quiescent(self, state: State) -> bool:
        """No component has work left and no timer is armed."""
        return catalogue.is_quiescent(self.ctx, state)

    def quiescent_given(self, state: State, successors: Sequence[tuple[Action, State]]) -> bool:
        """``is_quiescent`` for a state whose successors are already known."""
        return catalogue.quiescent_given(self.ctx, state, successors)

    def fair(self, action: Action) -> bool:
        """Whether ``action`` is weakly fair: every cluster component and the clock are, users and faults are not.

        Kubernetes' controllers are level-triggered loops that keep working
        while they have work (a workqueue is drained, a kubelet's sync loop
        runs every second), and time passes; a user or a fault may act, or not.
        Used by the explorer to tell a livelock (``checker.fairness``) from a
        run that merely stops taking a step it could take.
        """
        kind = self._kinds[action.component]
        return not kind.environment or kind is CLOCK

    def action_component(self, action: Action) -> str:
        """The component instance that takes ``action``."""
        return action.component

    def action_label(self, action: Action) -> str:
        """``<component kind> <action name>``: the unit of action coverage."""
        return catalogue.action_label(self.ctx, action)

    def action_labels(self) -> list[str]:
        """Every action kind of this model's components that its scenario can enable, sorted."""
        return catalogue.action_labels(self.ctx)


def build_context(scenario: Scenario, variant: Variant, extra: Sequence[ComponentType] = ()) -> Context:
    """Instances in catalogue order: control plane (and ``extra``), per-node components, environment."""
    nodes = [n.name for n in scenario.nodes]
    components: list[tuple[str, ComponentType]] = []
    for ctype in (*CONTROL_PLANE, *extra):
        components += [(name, ctype) for name in ctype.instance_names(nodes, variant.changes)]
    for n in nodes:
        components += [(f"{ctype.kind}/{n}", ctype) for ctype in NODE_COMPONENTS]
    components += [(ctype.kind, ctype) for ctype in ENVIRONMENT]
    watchers = tuple((name, w) for name, ctype in components for w in ctype.watches)
    return Context(scenario=scenario, variant=variant, components=tuple(components), watchers=watchers)


def _create_all(ctx: Context, s: State, objects: Sequence[Any]) -> State:
    for obj in objects:
        result = apiserver.create(ctx, s, obj)
        if result.error is not None:
            raise InvalidInputError(f"scenario {ctx.scenario.name}: {obj.kind} {obj.meta.key or obj.meta.name}: {result.error.message}")
        s = result.state
    return s


def _node_object(index: int, cfg: Any) -> Node:
    status = NodeStatus(capacity=cfg.capacity, allocatable=cfg.capacity)
    spec = NodeSpec(pod_cidr=f"10.244.{index}.0/24", taints=cfg.taints)
    return Node(meta=ObjectMeta(name=cfg.name, labels=cfg.labels), spec=spec, status=status)


def initial_state(ctx: Context) -> State:
    """Create the scenario's namespaces, nodes and objects; start every component; settle if asked."""
    scenario = ctx.scenario
    machines = FrozenMap(
        (cfg.name, Machine(name=cfg.name, pod_cidr_prefix=f"10.244.{i}", images=tuple(sorted(cfg.images))))
        for i, cfg in enumerate(scenario.nodes, start=1)
    )
    s = State(api=Api(), machines=machines, views=FrozenMap(), channels=Channels())
    namespaces = sorted({*scenario.namespaces, NODE_LEASE_NAMESPACE})
    s = _create_all(ctx, s, [Namespace(meta=ObjectMeta(name=ns)) for ns in namespaces])
    s = _create_all(ctx, s, [_node_object(i, cfg) for i, cfg in enumerate(scenario.nodes, start=1)])
    s = _create_all(ctx, s, scenario.objects)
    for name, ctype in ctx.components:
        if not ctype.environment:
            s = informer.fresh_view(ctx, s, name)
    s = replace(s, channels=Channels(cursors=s.channels.cursors))
    return settle(ctx, s) if scenario.settle else s


def settle(ctx: Context, s: State) -> State:
    """Run the components (no user, no faults, no clock) until quiescent, first enabled action first."""
    for _ in range(SETTLE_LIMIT):
        steps = catalogue.successors(ctx, s, include_environment=False)
        if not steps:
            return s
        s = steps[0][1]
    raise InvalidInputError(f"scenario {ctx.scenario.name}: the cluster did not settle within {SETTLE_LIMIT} steps")
