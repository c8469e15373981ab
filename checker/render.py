"""The cluster as ``kubectl get`` would show it, plus what really runs on each machine.

Tables are built as data (:class:`Table`) and formatted separately, so the
same rows can feed text, HTML or JSON. Columns follow kubectl's printers
(k8s pkg/printers/internalversion/printers.go): a pod's STATUS is its phase,
overridden by status.reason, by a container's waiting or terminated reason,
and by ``Terminating`` once it has a deletionTimestamp. Ages are shown in
seconds of the scenario's timing (one tick = ``tick_seconds``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from spec.component import Context
from spec.objects import Node, Pod, ReplicaSet, Service
from spec.state import State

if TYPE_CHECKING:
    from checker.replay import ReplayResult
    from checker.trace import Trace


@attrs.frozen
class Table:
    """A titled table of strings."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def duration(seconds: int) -> str:
    """kubectl's short human duration (``45s``, ``3m20s``, ``2h``)."""
    if seconds < 120:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 10:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    return f"{minutes // 60}h"


def cpu(millis: int) -> str:
    """A cpu quantity: ``500m`` or whole cores."""
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def memory(n: int) -> str:
    """A memory quantity in the largest binary unit that divides it."""
    for unit, size in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if n and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def pod_status(pod: Pod) -> str:
    """printPod's STATUS column."""
    reason = pod.status.reason or pod.status.phase
    running = False
    for cs in reversed(pod.status.container_statuses):
        if cs.state in ("waiting", "terminated") and cs.reason:
            reason = cs.reason
        elif cs.state == "terminated":
            reason = f"ExitCode:{cs.exit_code}"
        elif cs.state == "running" and cs.ready:
            running = True
    if reason == "Completed" and running:
        reason = "Running"
    if pod.meta.deletion_timestamp is not None:
        reason = "Terminating"
    return reason


def _age(ctx: Context, s: State, created: int) -> str:
    return duration((s.clock - created) * ctx.timing.tick_seconds)


def pods_table(ctx: Context, s: State) -> Table:
    """kubectl get pods -A -o wide."""
    rows = []
    for pod in s.api.objects.pods.values():
        statuses = pod.status.container_statuses
        ready = sum(1 for cs in statuses if cs.ready)
        restarts = sum(cs.restart_count for cs in statuses)
        rows.append(
            (
                pod.meta.namespace,
                pod.meta.name,
                f"{ready}/{len(pod.spec.containers)}",
                pod_status(pod),
                str(restarts),
                _age(ctx, s, pod.meta.creation_timestamp),
                pod.status.pod_ip or "<none>",
                pod.spec.node_name or "<none>",
            )
        )
    return Table("pods", ("NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"), tuple(rows))


def node_status(node: Node) -> str:
    """printNode's STATUS: Ready / NotReady (Unknown shows as NotReady), plus SchedulingDisabled."""
    status = "Ready" if node.status.ready == "True" else "NotReady"
    return status + (",SchedulingDisabled" if node.spec.unschedulable else "")


def nodes_table(ctx: Context, s: State) -> Table:
    """kubectl get nodes, with allocatable, taints and the machine's real state."""
    rows = []
    for name, node in s.api.objects.nodes.items():
        alloc = node.status.allocatable
        taints = ",".join(f"{t.key.rpartition('/')[2]}:{t.effect}" for t in node.spec.taints) or "<none>"
        machine = s.machines.get(name)
        truth = "<none>" if machine is None else "down" if not machine.up else "partitioned" if machine.partitioned else "up"
        rows.append((name, node_status(node), cpu(alloc.cpu), memory(alloc.memory), str(alloc.pods), taints, truth))
    return Table("nodes", ("NAME", "STATUS", "CPU", "MEMORY", "PODS", "TAINTS", "MACHINE"), tuple(rows))


def replicasets_table(ctx: Context, s: State) -> Table:
    """kubectl get replicasets -A."""
    rows = []
    for rs in s.api.objects.replicasets.values():
        assert isinstance(rs, ReplicaSet)
        name = rs.meta.name + (" (deleting)" if rs.meta.deletion_timestamp is not None else "")
        st = rs.status
        rows.append(
            (rs.meta.namespace, name, str(rs.spec.replicas), str(st.replicas), str(st.ready_replicas), _age(ctx, s, rs.meta.creation_timestamp))
        )
    return Table("replicasets", ("NAMESPACE", "NAME", "DESIRED", "CURRENT", "READY", "AGE"), tuple(rows))


def _ports(svc: Service) -> str:
    return ",".join(f"{p.port}:{p.node_port}/{p.protocol}" if p.node_port else f"{p.port}/{p.protocol}" for p in svc.spec.ports)


def services_table(ctx: Context, s: State) -> Table:
    """kubectl get services -A, with the ready endpoints (kubectl get endpoints)."""
    rows = []
    for key, svc in s.api.objects.services.items():
        eps = s.api.objects.endpoints.get(key)
        shown = "<none>"
        if eps is not None and eps.addresses:
            shown = ",".join(f"{a.ip}:{p.port}" for a in eps.addresses for p in eps.ports)
        rows.append((svc.meta.namespace, svc.meta.name, svc.spec.type, svc.spec.cluster_ip, _ports(svc), shown))
    return Table("services", ("NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "ENDPOINTS"), tuple(rows))


def machines_table(ctx: Context, s: State) -> Table:
    """Node truth: the sandboxes each machine really runs, and its Service rules."""
    rows = []
    for name, m in s.machines.items():
        sandboxes = []
        for sb in m.sandboxes.values():
            running = sum(1 for c in sb.containers.values() if c.running)
            sandboxes.append(f"{sb.pod.rpartition('/')[2]}({running}/{len(sb.containers)} {sb.ip or 'no-ip'})")
        rules = sum(1 for r in m.proxy_rules.values() if r.backends)
        rows.append(
            (name, "up" if m.up else "down", "no" if m.partitioned else "yes", " ".join(sandboxes) or "<none>", f"{rules}/{len(m.proxy_rules)}")
        )
    return Table("machines (node truth)", ("NODE", "POWER", "REACHABLE", "SANDBOXES", "SVC-RULES"), tuple(rows))


def cluster_tables(ctx: Context, s: State) -> list[Table]:
    """Every table of the cluster, in the order they are printed."""
    return [
        pods_table(ctx, s),
        nodes_table(ctx, s),
        replicasets_table(ctx, s),
        services_table(ctx, s),
        machines_table(ctx, s),
    ]


def format_table(table: Table) -> str:
    """kubectl's column layout: left-aligned, three spaces between columns."""
    if not table.rows:
        return f"No resources found ({table.title})."
    widths = [max(len(r[i]) for r in (table.headers, *table.rows)) for i in range(len(table.headers))]
    lines = ["   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (table.headers, *table.rows)]
    return "\n".join(lines)


def format_tables(tables: Iterable[Table]) -> str:
    """Tables one after another, each under its title."""
    return "\n\n".join(f"# {t.title}\n{format_table(t)}" for t in tables)


def table_changes(before: Table, after: Table, key_columns: int = 2) -> list[str]:
    """What changed between two versions of a table, one line per row added, removed or changed (ages aside)."""

    def index(t: Table) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {row[:key_columns]: row for row in t.rows}

    old, new = index(before), index(after)
    lines = []
    for key in sorted(set(old) | set(new)):
        name = "/".join(k for k in key if k)
        if key not in old:
            lines.append(f"+ {before.title} {name}")
        elif key not in new:
            lines.append(f"- {before.title} {name}")
        else:
            diffs = [f"{h} {a} -> {b}" for h, a, b in zip(after.headers, old[key], new[key], strict=True) if a != b and h != "AGE"]
            if diffs:
                lines.append(f"~ {before.title} {name}: " + ", ".join(diffs))
    return lines


def cluster_changes(ctx: Context, before: State, after: State) -> list[str]:
    """The visible difference between two states, table by table (clock and revision aside)."""
    keys = {"nodes": 1, "machines (node truth)": 1}
    lines = []
    for t1, t2 in zip(cluster_tables(ctx, before), cluster_tables(ctx, after), strict=True):
        lines += table_changes(t1, t2, keys.get(t1.title, 2))
    return lines


def format_replay(trace: Trace, result: ReplayResult, source: str, tables: bool = True) -> str:
    """A replayed trace: each step with what changed, the tables after it (optional) and the verdict."""
    ctx = result.model.ctx
    lines = [f"trace {source}: scenario {trace.scenario}, variant {result.model.variant.name}, {len(trace.steps)} steps"]
    if trace.invariant:
        lines.append(f"recorded: {trace.invariant} violated at step {trace.violation_step}: {trace.message}")
    lines += ["", "step 0: initial state", "", format_tables(cluster_tables(ctx, result.initial))]
    before = result.initial
    for step in result.steps:
        lines += ["", f"step {step.number}: {step.action}"]
        changes = cluster_changes(ctx, before, step.state) or ["(no visible change: caches, memory or watch channels only)"]
        lines += [f"  {line}" for line in changes]
        lines += [f"  VIOLATED {v.invariant}: {v.message}" for v in step.violations]
        if tables:
            lines += ["", format_tables(cluster_tables(ctx, step.state))]
        before = step.state
    if not tables and result.steps:
        lines += ["", f"cluster after step {result.steps[-1].number}:", "", format_tables(cluster_tables(ctx, before))]
    lines += ["", result.summary]
    return "\n".join(lines)
