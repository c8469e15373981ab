"""What each step of a replayed trace did, as data the reviewer formats draw from.

The Mermaid, HTML, ITF and DOT renderings (``checker.render_mermaid`` ...)
all need the same facts about a step, derived from the states before and
after it rather than from the action's name, so that a user's own
controller is drawn as faithfully as a built-in one:

- the writes it made to the API server: objects created, updated, whose
  status changed, bound to a node (the ``pods/binding`` subresource),
  deleted gracefully (``metadata.deletionTimestamp`` set) or removed from
  the store (apiserver pkg/registry/core/pod/storage);
- for a watch delivery, the event it delivered (``spec.informer.pending``:
  ADDED, MODIFIED or DELETED as the watch's selector sees it, and whether
  a variant's informer lost it);
- what changed on the machines (node truth: sandboxes, containers,
  iptables rules, connections, power and reachability);
- for a fault, the component instance it hits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from spec import informer
from spec.component import Action, Context, node_of
from spec.objects import Pod
from spec.runtime import Machine, Sandbox
from spec.state import FIELD_OF_KIND, State

if TYPE_CHECKING:
    from checker.replay import ReplayResult
    from checker.trace import Trace

API_SERVER = "API server"
"""The participant every write goes to and every watch event comes from."""


@attrs.frozen
class Write:
    """One write a step made to the API server, seen as the difference between two stores."""

    verb: str
    """create, update, status, bind, delete (graceful: deletionTimestamp set) or remove (gone from the store)"""
    kind: str
    """the store's name for the kind, as ``kubectl get`` spells it (``pods``, ``replicasets`` ...)"""
    key: str
    """the object's key (``namespace/name``, or ``name`` for cluster-scoped kinds)"""
    detail: str = ""
    """the node a pod was bound to ("" otherwise)"""
    labels: str = ""
    """the object's labels (``key=value,...``) when it was created or they changed ("" otherwise)"""

    def __str__(self) -> str:
        return f"{self.verb} {self.kind} {self.key}" + (f" to {self.detail}" if self.detail else "")


def states(result: ReplayResult) -> list[State]:
    """The replay's initial state followed by the state after each step."""
    return [result.initial, *(step.state for step in result.steps)]


def outcome(trace: Trace, result: ReplayResult) -> tuple[int | None, str]:
    """Where a replay's verdict shows, and its word.

    An invariant's trace: the step at which it broke in this replay
    (``VIOLATED <invariant>``; None if it did not). An eventual property's
    trace: its last state, re-judged by a search from it (``VIOLATED``,
    ``UNDECIDED`` or ``NOT VIOLATED``). Any other trace: (None, "").
    """
    if trace.invariant:
        return result.violation_step, f"VIOLATED {trace.invariant}"
    if result.eventual:
        return len(result.steps), "VIOLATED" if result.reproduced else "UNDECIDED" if result.undecided else "NOT VIOLATED"
    return None, ""


def loop_start(trace: Trace, result: ReplayResult) -> int | None:
    """Where a lasso's loop starts (the state after that many steps), if the replay went round it; None otherwise."""
    if trace.loop_start is None or result.diverged or trace.loop_start >= len(result.steps):
        return None
    return trace.loop_start


def action_text(action: Action) -> str:
    """``Name key=value ...``: the action without its component."""
    params = " ".join(f"{k}={v}" for k, v in action.params)
    return f"{action.name} {params}" if params else action.name


def api_writes(before: State, after: State) -> list[Write]:
    """The writes between two states, kind by kind in the store's order, keys sorted."""
    if before.api is after.api:
        return []
    writes = []
    for field in FIELD_OF_KIND.values():
        old_objs, new_objs = getattr(before.api.objects, field), getattr(after.api.objects, field)
        if old_objs is new_objs or old_objs == new_objs:
            continue
        for key in sorted({*old_objs, *new_objs}):
            old, new = old_objs.get(key), new_objs.get(key)
            if old != new:
                writes.append(_write(field, key, old, new))
    return writes


def _write(field: str, key: str, old: Any, new: Any) -> Write:
    if old is None:
        return Write("create", field, key, labels=labels_text(new))
    if new is None:
        return Write("remove", field, key)
    if old.meta.deletion_timestamp is None and new.meta.deletion_timestamp is not None:
        return Write("delete", field, key)
    if isinstance(new, Pod) and not old.spec.node_name and new.spec.node_name:
        return Write("bind", field, key, new.spec.node_name)
    if hasattr(new, "status") and attrs.evolve(old, status=new.status, meta=new.meta) == new and _same_but_version(old.meta, new.meta):
        return Write("status", field, key)
    return Write("update", field, key, labels=labels_text(new) if old.meta.labels != new.meta.labels else "")


def labels_text(obj: Any) -> str:
    """An object's labels as ``kubectl get --show-labels`` prints them: ``key=value,...``."""
    return ",".join(f"{k}={v}" for k, v in obj.meta.labels.items())


def _same_but_version(old: Any, new: Any) -> bool:
    """Two ObjectMetas that differ at most in resourceVersion (a status write changes nothing else)."""
    return bool(attrs.evolve(old, resource_version=new.resource_version) == new)


def delivered(ctx: Context, before: State, action: Action) -> str:
    """The watch event a WatchDeliver step delivered: ``MODIFIED Pod default/web-1`` (``(lost)`` if its informer dropped it)."""
    kind = str(action.param("kind"))
    ev = informer.pending(ctx, before, action.component, kind)
    if ev is None:
        return kind
    watch = ctx.watch_of(action.component, kind)
    etype = informer.event_type(watch.selects, node_of(action.component), ev)
    lost = " (lost)" if watch.loses is not None and watch.loses(ctx, ev) else ""
    return f"{etype or 'event'} {kind} {ev.key}{lost}"


def runtime_changes(before: State, after: State) -> list[tuple[str, str]]:
    """(node, what changed on its machine), machines in name order."""
    if before.machines is after.machines:
        return []
    changes = []
    for name in sorted({*before.machines, *after.machines}):
        old, new = before.machines.get(name), after.machines.get(name)
        if old == new or old is None or new is None:
            continue
        changes += [(name, line) for line in _machine_changes(old, new)]
    return changes


def _machine_changes(old: Machine, new: Machine) -> list[str]:
    lines = []
    if old.up != new.up:
        lines.append("machine up" if new.up else "machine down")
    if old.partitioned != new.partitioned:
        lines.append("partitioned from the control plane" if new.partitioned else "reachable again")
    for uid in sorted({*old.sandboxes, *new.sandboxes}):
        lines += _sandbox_changes(old.sandboxes.get(uid), new.sandboxes.get(uid))
    if old.proxy_rules != new.proxy_rules:
        rules = sum(1 for r in new.proxy_rules.values() if r.backends)
        lines.append(f"iptables: {rules}/{len(new.proxy_rules)} services with backends")
    for conn in new.connections[len(old.connections) :]:
        lines.append(f"connection to {conn.service} via {conn.backend or 'REJECT'}")
    if old.images != new.images:
        lines.append("pulled " + " ".join(sorted(set(new.images) - set(old.images))))
    return lines


def _sandbox_changes(old: Sandbox | None, new: Sandbox | None) -> list[str]:
    if old == new:
        return []
    if old is None:
        assert new is not None
        running = " ".join(name for name, c in new.containers.items() if c.running)
        return [f"sandbox {new.pod} uid {new.uid} at {new.ip or 'no ip'}" + (f" runs {running}" if running else "")]
    if new is None:
        return [f"sandbox {old.pod} uid {old.uid} removed"]
    lines = []
    for name in sorted({*old.containers, *new.containers}):
        a, b = old.containers.get(name), new.containers.get(name)
        if a == b or b is None:
            continue
        if a is None or (b.running and not a.running) or b.restarts != a.restarts:
            lines.append(f"container {new.pod}/{name} started")
        elif a.running and not b.running:
            lines.append(f"container {new.pod}/{name} exited ({b.exit_code})")
        elif a.healthy != b.healthy:
            lines.append(f"container {new.pod}/{name} {'healthy' if b.healthy else 'stops answering probes'}")
        else:
            lines.append(f"container {new.pod}/{name} changed")
    if old.stopping != new.stopping:
        lines.append(f"killing {new.pod}")
    return lines


def fault_target(ctx: Context, before: State, action: Action) -> str | None:
    """The component instance a fault hits: the kubelet of a node, a restarted component, the kubelet running a pod."""
    params = dict(action.params)
    instances = {name for name, _ in ctx.components}
    if "component" in params:
        return str(params["component"])
    if "node" in params:
        target = f"kubelet/{params['node']}"
        return target if target in instances else None
    if "pod" in params:
        for node, machine in before.machines.items():
            if any(sb.pod == params["pod"] for sb in machine.sandboxes.values()) and f"kubelet/{node}" in instances:
                return f"kubelet/{node}"
    return None
