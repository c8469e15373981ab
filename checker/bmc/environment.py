"""The user's requests, as Z3 (spec/environment.py): kubectl create and delete of Services, each counted against a budget.

A request spends its budget whether or not the API server accepts it, as in
the executable spec: a create the allocator refuses changes only the count.
"""

from __future__ import annotations

import z3

from checker.bmc import apiserver
from checker.bmc.core import Cell, Encoded, Terms, Unrolling
from checker.bmc.layout import Layout, layout_of
from spec.apiserver import CLUSTERIP_LAG
from spec.component import Action
from spec.objects import POD, SERVICE, Service
from spec.state import State

USER = "user"
BUDGETS = ("create", "delete-service", "scale", "container-exit")
"""the budgets the encoded requests spend"""


def budget(name: str) -> str:
    """The cell counting the operations of budget ``name``."""
    return f"budget/{name}"


def cells(layout: Layout) -> list[Cell]:
    """A count per budget the encoded requests spend."""
    return [Cell(budget(name)) for name in BUDGETS]


def abstract(layout: Layout, s: State) -> dict[str, int | bool]:
    """The counts of a state."""
    return {budget(name): s.used(name) for name in BUDGETS}


def _left(u: Unrolling, t: int, name: str) -> z3.BoolRef:
    layout = layout_of(u)
    return u[t][budget(name)] < layout.budgets.get(name, 0)


def _spend(u: Unrolling, t: int, name: str) -> Terms:
    return {budget(name): u[t][budget(name)] + 1}


def create_service(svc: Service) -> Encoded:
    """UserCreate of one of the scenario's Services: enabled while the budget lasts and the Service does not exist."""
    key = svc.meta.key

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "create"), z3.Not(u[t][f"service/{key}/exists"]))

    def effect(u: Unrolling, t: int) -> Terms:
        layout = layout_of(u)
        stored, changes = apiserver.create_service(u, t, svc, layout.ctx.flag(CLUSTERIP_LAG))
        spent = _spend(u, t, "create")
        return spent | {name: z3.If(stored, term, apiserver.unchanged(u, t, name)) for name, term in changes.items()}

    return Encoded(Action(USER, "UserCreate", (("kind", SERVICE), ("name", key))), guard, effect)


def delete_service(key: str) -> Encoded:
    """UserDeleteService: enabled while the budget lasts and the Service exists."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "delete-service"), u[t][f"service/{key}/exists"])

    def effect(u: Unrolling, t: int) -> Terms:
        return _spend(u, t, "delete-service") | apiserver.delete_service(u, t, key)

    return Encoded(Action(USER, "UserDeleteService", (("service", key),)), guard, effect)


def scale_replicaset(key: str, replicas: int) -> Encoded:
    """UserScaleReplicaSet to one of the scenario's replica counts: enabled while the budget lasts and the count differs."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "scale"), u[t][f"rs/{key}/replicas"] != replicas)

    def effect(u: Unrolling, t: int) -> Terms:
        return _spend(u, t, "scale") | apiserver.scale_replicaset(u, t, key, replicas)

    return Encoded(Action(USER, "UserScaleReplicaSet", (("rs", key), ("replicas", replicas))), guard, effect)


def create_pod(key: str) -> Encoded:
    """UserCreate of one of the scenario's pods: enabled while the budget lasts and the pod does not exist."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return z3.And(_left(u, t, "create"), z3.Not(u[t][f"pod/{key}/exists"]))

    def effect(u: Unrolling, t: int) -> Terms:
        return _spend(u, t, "create") | apiserver.create_user_pod(u, t, key)

    return Encoded(Action(USER, "UserCreate", (("kind", POD), ("name", key))), guard, effect)
