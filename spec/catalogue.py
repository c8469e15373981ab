"""The action catalogue: every enabled action of a state, in one stable order.

Order: component instances in the order the context lists them (control
plane, then each node's kubelet and kube-proxy by node name, then the user,
faults and the clock); within an instance, its watch deliveries (by watch
order) and then its actions in declared order; within an action, the
parameter tuples in the order its guard yields them, which iterates only
sorted containers. Nothing depends on set or dict iteration order or on
``PYTHONHASHSEED``, so every process sees the same list.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from spec import informer
from spec.component import Action, ActionDef, ComponentType, Context, Param, node_of
from spec.environment import armed_timers
from spec.errors import ActionNotEnabledError, UnknownNameError
from spec.state import State

WATCH_DELIVER = "WatchDeliver"


def connected(ctx: Context, s: State, instance: str, ctype: ComponentType) -> bool:
    """The instance's watches can deliver (node components need their machine reachable)."""
    return not ctype.per_node or s.machines[node_of(instance)].reachable


def _deliver_guard(ctx: Context, s: State, me: str) -> Iterator[tuple[Param, ...]]:
    """Each of the instance's watches with an undelivered event, while the instance is connected."""
    ctype = ctx.type_of(me)
    if not connected(ctx, s, me, ctype):
        return
    pending = informer.pending_kinds(s, me)
    for watch in ctype.watches:
        if watch.kind in pending:
            yield (watch.kind,)


def _deliver(ctx: Context, s: State, me: str, kind: str) -> State:
    """WatchDeliver: the next event of one watch reaches the instance's informer."""
    return informer.deliver(ctx, s, me, kind)


DELIVER = ActionDef(WATCH_DELIVER, ("kind",), _deliver_guard, _deliver)


def action_defs(ctype: ComponentType) -> tuple[ActionDef, ...]:
    """The actions of a component type, its watch delivery first."""
    return ((DELIVER,) if ctype.watches else ()) + ctype.actions


def _running(s: State, instance: str, ctype: ComponentType) -> bool:
    return not ctype.per_node or s.machines[node_of(instance)].up


Step = tuple[Action, ActionDef, str, tuple[Param, ...]]
"""An enabled action with what is needed to apply it: definition, instance, parameters."""


def enabled_steps(ctx: Context, s: State, include_environment: bool = True) -> Iterator[Step]:
    """Every enabled action of ``s`` in catalogue order."""
    for instance, ctype in ctx.components:
        if ctype.environment and not include_environment:
            continue
        if not _running(s, instance, ctype):
            continue
        for adef in action_defs(ctype):
            for params in adef.guard(ctx, s, instance):
                yield Action(instance, adef.name, tuple(zip(adef.params, params, strict=True))), adef, instance, params


def successors(ctx: Context, s: State, include_environment: bool = True) -> list[tuple[Action, State]]:
    """Every enabled action with the state it leads to.

    A step whose effect leaves the state unchanged (a retry from a stale view
    that meets a Conflict, say) is a stutter: it is not an enabled action.
    """
    out = []
    for action, adef, instance, params in enabled_steps(ctx, s, include_environment):
        nxt = adef.effect(ctx, s, instance, *params)
        if changed(s, nxt):
            out.append((action, nxt))
    return out


def changed(before: State, after: State) -> bool:
    """``after`` differs from ``before`` (hashes are cached, so most checks stop there)."""
    return after is not before and (hash(after) != hash(before) or after != before)


def random_successor(ctx: Context, s: State, rng: random.Random) -> tuple[Action, State] | None:
    """A successor chosen uniformly among the non-stuttering ones, computing as few effects as possible.

    Draws guard-enabled steps without replacement until one changes the
    state; by symmetry the result is uniform over the real successors.
    """
    steps = list(enabled_steps(ctx, s))
    while steps:
        action, adef, instance, params = steps.pop(rng.randrange(len(steps)))
        nxt = adef.effect(ctx, s, instance, *params)
        if changed(s, nxt):
            return action, nxt
    return None


def enabled(ctx: Context, s: State) -> list[Action]:
    """The enabled actions of ``s``, in catalogue order."""
    return [action for action, _ in successors(ctx, s)]


def definition(ctx: Context, component: str, name: str) -> tuple[ComponentType, ActionDef]:
    """The component type of an instance and its action called ``name`` (UnknownNameError otherwise)."""
    instances = [inst for inst, _ in ctx.components]
    if component not in instances:
        raise UnknownNameError("component", component, instances)
    ctype = ctx.type_of(component)
    defs = {d.name: d for d in action_defs(ctype)}
    if name not in defs:
        raise UnknownNameError(f"action of {component}", name, defs)
    return ctype, defs[name]


def lookup(ctx: Context, action: Action) -> tuple[ComponentType, ActionDef]:
    """The component type and definition of ``action``, whose parameters must be the declared ones."""
    ctype, adef = definition(ctx, action.component, action.name)
    names = tuple(k for k, _ in action.params)
    if names != adef.params:
        raise ActionNotEnabledError(f"{action.name} takes parameters {list(adef.params)}, got {list(names)}")
    return ctype, adef


def apply(ctx: Context, s: State, action: Action) -> State:
    """The state after ``action``; ActionNotEnabledError if its guard does not allow it in ``s``."""
    ctype, adef = lookup(ctx, action)
    params = tuple(v for _, v in action.params)
    if not _running(s, action.component, ctype) or params not in set(adef.guard(ctx, s, action.component)):
        raise ActionNotEnabledError(f"action not enabled at this state: {action}")
    nxt = adef.effect(ctx, s, action.component, *params)
    if not changed(s, nxt):
        raise ActionNotEnabledError(f"action has no effect at this state (a stutter): {action}")
    return nxt


def is_quiescent(ctx: Context, s: State) -> bool:
    """No component has work left: no undelivered event, no enabled component action, no armed timer."""
    for _, adef, instance, params in enabled_steps(ctx, s, include_environment=False):
        if changed(s, adef.effect(ctx, s, instance, *params)):
            return False
    return not armed_timers(ctx, s)


def quiescent_given(ctx: Context, s: State, successors: Sequence[tuple[Action, State]]) -> bool:
    """``is_quiescent`` for a state whose successors are already known: none of them a component's, no armed timer."""
    return all(ctx.type_of(action.component).environment for action, _ in successors) and not armed_timers(ctx, s)


def action_label(ctx: Context, action: Action) -> str:
    """The kind of an action for coverage and swarm testing: ``<component kind> <action name>``."""
    return f"{ctx.type_of(action.component).kind} {action.name}"


def action_labels(ctx: Context, possible_only: bool = True) -> list[str]:
    """Every action kind the context's components define (by default, only those its scenario can enable), sorted."""
    defs = [(ctype, adef) for _, ctype in ctx.components for adef in action_defs(ctype)]
    return sorted({f"{ctype.kind} {adef.name}" for ctype, adef in defs if not possible_only or adef.possible(ctx.scenario)})
