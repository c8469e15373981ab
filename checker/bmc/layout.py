"""The finite instance's constants: object slots, kind codes, watches, budgets and the initial watch history."""

from __future__ import annotations

import attrs

from checker.bmc.core import NONE
from spec import informer
from spec.component import Context, node_of
from spec.objects import SERVICE, Service
from spec.state import State

CLUSTER_IP_PREFIX = "10.96.0."


@attrs.frozen
class Watcher:
    """One watch of one component instance."""

    instance: str
    kind: str
    node: str
    """the node of a per-node instance, else ''"""


@attrs.frozen
class Layout:
    """What the component encodings read besides the frames."""

    ctx: Context
    kinds: dict[str, int]
    """kind name to its code (1, 2, ...; 0 is no write)"""
    services: tuple[str, ...]
    """the keys of every Service that can exist: the initial ones and those the user may create"""
    watchers: tuple[Watcher, ...]
    initial_log: tuple[tuple[int, str], ...]
    """(revision, kind) of each event of the initial state's watch history"""
    revision: int
    """the initial state's store revision"""
    service_history: dict[int, dict[str, tuple[bool, int]]]
    """for each revision a lagging list may read before the initial one: each Service slot's (exists, ClusterIP)"""
    up: dict[str, bool]
    """whether each machine is up (constant: crashes are not encoded)"""
    budgets: dict[str, int]
    """the scenario's budgets"""
    namespaces: frozenset[str]
    """the namespaces that exist (constant: none is created or deleted)"""

    @property
    def window(self) -> int:
        """The watch cache's window in revisions."""
        return self.ctx.scenario.bounds.watch_cache_window

    def watching(self, kind: str) -> tuple[Watcher, ...]:
        """The watches of ``kind``."""
        return tuple(w for w in self.watchers if w.kind == kind)


def ip_code(ip: str) -> int | None:
    """A ClusterIP as a number: ``10.96.0.n`` is n, "" is NONE; any other address has no code (None)."""
    if not ip:
        return NONE
    if ip.startswith(CLUSTER_IP_PREFIX) and ip[len(CLUSTER_IP_PREFIX) :].isdigit():
        return int(ip[len(CLUSTER_IP_PREFIX) :])
    return None


def service_fields(svc: Service | None) -> tuple[bool, int]:
    """(exists, ClusterIP code) of a Service slot."""
    if svc is None:
        return False, NONE
    code = ip_code(svc.spec.cluster_ip)
    assert code is not None, f"ClusterIP {svc.spec.cluster_ip!r} has no code"
    return True, code


def build_layout(ctx: Context, initial: State) -> Layout:
    """The constants of the scenario's finite instance."""
    kinds = sorted({w.kind for _, w in ctx.watchers} | {SERVICE})
    services = sorted(set(initial.api.objects.services) | {s.meta.key for s in ctx.scenario.user.services})
    watchers = tuple(Watcher(inst, w.kind, node_of(inst) if ctx.type_of(inst).per_node else "") for inst, w in ctx.watchers)
    oldest = informer.oldest_listable(ctx, initial)
    history = {
        r: {key: service_fields(informer.store_at(initial, SERVICE, r).get(key)) for key in services} for r in range(oldest, initial.api.revision)
    }
    return Layout(
        ctx=ctx,
        kinds={k: i + 1 for i, k in enumerate(kinds)},
        services=tuple(services),
        watchers=watchers,
        initial_log=tuple((ev.revision, ev.kind) for ev in initial.channels.log),
        revision=initial.api.revision,
        service_history=history,
        up={name: m.up for name, m in sorted(initial.machines.items())},
        budgets=dict(sorted(ctx.scenario.bounds.budgets.items())),
        namespaces=frozenset(initial.api.objects.namespaces),
    )
