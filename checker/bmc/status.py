"""A pod's status as Z3 cells, and what the kubelet's status manager writes (pkg/kubelet/status, generateAPIPodStatus; spec/kubelet.py).

A status is one value per *field*: the PodScheduled condition and FitError
(cells every pod slot has, written by the binding and the scheduler), the
phase, the Ready condition and its transition tick, the pod IP, the reason
and message of an admission rejection, and for each container its state,
reason, exit code, restart count, readiness and whether it terminated
before. Strings are codes: the phase, states and reasons index the tuples
below; a pod IP is ``layout.pod_ip_code``; a rejection's message indexes the
slot's ``layout.rejections``. The store holds one such status per *status
slot* (``layout.status_slots``); every other slot's status is the constant
of its object, apart from the two scheduler fields. The kubelet's encoding
(``checker.bmc.kubelet``) generates the statuses its status manager writes.
"""

from __future__ import annotations

import z3

from checker.bmc.core import NONE, Terms
from checker.bmc.layout import Layout
from spec.objects import FAILED, PENDING, RUNNING, SUCCEEDED, TERMINAL_PHASES, UNKNOWN, ContainerStatus, PodStatus

PHASES = (PENDING, RUNNING, SUCCEEDED, FAILED, UNKNOWN)
STATES = ("waiting", "running", "terminated")
CONTAINER_REASONS = ("", "ContainerCreating", "ErrImageNeverPull", "ErrImagePull", "ContainerStatusUnknown", "CrashLoopBackOff", "Completed", "Error")
POD_REASONS = ("", "OutOfpods", "OutOfcpu", "OutOfmemory", "NodeAffinity", "TaintToleration")
SCHEDULER_FIELDS = ("scheduled", "unschedulable")
"""the fields every pod slot has as cells (apiserver.cells)"""
BOOLEAN = frozenset({"scheduled", "ready", "statuses"})
CONTAINER_FIELDS = ("state", "reason", "exit", "restarts", "ready", "before")
CONTAINER_BOOLEAN = frozenset({"ready", "before"})


def fields(layout: Layout, key: str) -> list[tuple[str, bool]]:
    """The status fields of a pod slot, each with whether it is a boolean."""
    out = [(name, name in BOOLEAN) for name in (*SCHEDULER_FIELDS, "phase", "ready", "transition", "ip", "reason", "message", "statuses")]
    for c in layout.pod_objects[key].spec.containers:
        out += [(f"cs/{c.name}/{name}", name in CONTAINER_BOOLEAN) for name in CONTAINER_FIELDS]
    return out


def store_fields(layout: Layout, key: str) -> list[tuple[str, bool]]:
    """The status fields a status slot adds to the store's cells (the scheduler's two are there for every slot)."""
    return [(name, boolean) for name, boolean in fields(layout, key) if name not in SCHEDULER_FIELDS]


def _container(c: ContainerStatus | None) -> dict[str, int | bool | None]:
    if c is None:
        return {"state": 0, "reason": 0, "exit": NONE, "restarts": 0, "ready": False, "before": False}
    return {
        "state": STATES.index(c.state),
        "reason": CONTAINER_REASONS.index(c.reason) if c.reason in CONTAINER_REASONS else None,
        "exit": NONE if c.exit_code is None else c.exit_code,
        "restarts": c.restart_count,
        "ready": c.ready,
        "before": c.terminated_before,
    }


def values(layout: Layout, key: str, status: PodStatus) -> dict[str, int | bool] | None:
    """A pod slot's status as its fields' values; None where the encoding has no code for it."""
    message = 0
    if status.message:
        pair = (status.reason, status.message)
        rejections = layout.rejections.get(key, ())
        message = rejections.index(pair) + 1 if pair in rejections else NONE
    out: dict[str, int | bool | None] = {
        "scheduled": status.scheduled,
        "unschedulable": unschedulable_code(layout, key, status.unschedulable),
        "phase": PHASES.index(status.phase),
        "ready": status.ready,
        "transition": NONE if status.ready_transition is None else status.ready_transition,
        "ip": layout.pod_ip_code(status.pod_ip),
        "reason": POD_REASONS.index(status.reason) if status.reason in POD_REASONS else None,
        "message": None if message == NONE else message,
        "statuses": bool(status.container_statuses),
    }
    containers = layout.pod_objects[key].spec.containers
    given = {cs.name: cs for cs in status.container_statuses}
    if status.container_statuses and [cs.name for cs in status.container_statuses] != [c.name for c in containers]:
        return None
    for c in containers:
        out |= {f"cs/{c.name}/{name}": value for name, value in _container(given.get(c.name)).items()}
    if any(value is None for value in out.values()):
        return None
    return {name: value for name, value in out.items() if value is not None}


def unschedulable_code(layout: Layout, key: str, message: str) -> int:
    """A pod's recorded FitError as its cell holds it: 0 for none, its code, or NONE for a message the scheduler cannot write here."""
    return layout.fit_errors.get(key, {}).get(message, NONE) if message else 0


def constant(layout: Layout, key: str, field: str) -> z3.ExprRef:
    """A status field of a slot whose status does not change: its object's."""
    value = values(layout, key, layout.pod_objects[key].status)
    assert value is not None, f"{key}: a status the encoding has no code for"
    return z3.BoolVal(value[field]) if isinstance(value[field], bool) else z3.IntVal(value[field])


def terminal_phase(phase: z3.ArithRef) -> z3.BoolRef:
    """A phase code is Succeeded or Failed."""
    return z3.Or([phase == PHASES.index(p) for p in sorted(TERMINAL_PHASES)])


def fresh(layout: Layout, key: str) -> dict[str, int | bool]:
    """The status a pod is created with (apiserver.create: an empty status)."""
    out = values(layout, key, PodStatus())
    assert out is not None
    return out


def differs(a: Terms, b: Terms) -> z3.BoolRef:
    """Two statuses of one slot differ in some field."""
    return z3.Or([a[name] != b[name] for name in sorted(a)])
