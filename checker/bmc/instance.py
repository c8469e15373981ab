"""A scenario and variant as the Z3 encoding sees them: cells, encoded actions and invariants, and what is left out."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from checker.bmc import (
    apiserver,
    endpoints,
    environment,
    garbagecollector,
    invariants,
    kubelet,
    kubeproxy,
    nodelifecycle,
    replicaset,
    scheduler,
    tainteviction,
)
from checker.bmc.core import CellValue, Encoded, Instance
from checker.bmc.layout import Layout, build_layout, ip_code
from spec.catalogue import WATCH_DELIVER, action_defs
from spec.model import KubeModel
from spec.objects import Obj, Service
from spec.state import State


def _services_encodable(layout: Layout, initial: State) -> bool:
    """Every Service slot's object is one the encoding covers: a ClusterIP of the allocator's form (or none), no finalizers."""
    objs: list[Service] = [*initial.api.objects.services.values(), *layout.ctx.scenario.user.services]
    return all(ip_code(s.spec.cluster_ip) is not None and not s.meta.finalizers for s in objs)


def _service_actions(layout: Layout, services: bool) -> list[Encoded]:
    """The user's Service creates and deletes, where every Service slot is one the encoding covers."""
    scenario = layout.ctx.scenario
    out: list[Encoded] = []
    if not services:
        return out
    if scenario.bounds.budgets.get("create", 0) > 0:
        out += [environment.create_service(svc) for svc in scenario.user.services if svc.spec.type != "NodePort"]
    if scenario.bounds.budgets.get("delete-service", 0) > 0:
        out += [environment.delete_service(key) for key in layout.services]
    return out


def _replicaset_actions(layout: Layout) -> list[Encoded]:
    """The ReplicaSet controller's actions and the user's scaling, where the controller's encoding covers the scenario."""
    controller = replicaset.actions(layout)
    if not controller or layout.ctx.scenario.bounds.budgets.get("scale", 0) == 0:
        return controller
    scale = [environment.scale_replicaset(key, n) for key in layout.replicasets for n in layout.ctx.scenario.user.scale]
    return scale + controller


def _not_encoded(model: KubeModel, encoded: list[Encoded], impossible: Sequence[str] = ()) -> tuple[str, ...]:
    """The catalogue's actions the scenario can take that the encoding leaves out (UserCreate by object, WatchDeliver by watch, others by kind).

    ``impossible``: action names no instance can take in this scenario and bound (``kubelet.impossible``), and ``WatchDeliver kind=K``
    where no watch of kind K has an event to deliver.
    """
    ctx = model.ctx
    done = {str(e.action) for e in encoded}
    done_kinds = {(e.action.component, e.action.name) for e in encoded}
    out: list[str] = []
    for instance, ctype in ctx.components:
        for adef in action_defs(ctype):
            if not adef.possible(ctx.scenario) or adef.name in impossible:
                continue
            if adef.name == "UserCreate":
                user = ctx.scenario.user
                creatable: list[Obj] = [*user.replicasets, *user.services, *user.pods]
                for obj in creatable:
                    label = f"{instance} UserCreate kind={obj.kind} name={obj.meta.key}"
                    if label not in done:
                        out.append(label)
            elif adef.name == WATCH_DELIVER:
                labels = [f"{instance} {WATCH_DELIVER} kind={w.kind}" for w in ctype.watches if f"{WATCH_DELIVER} kind={w.kind}" not in impossible]
                out += [label for label in labels if label not in done]
            elif (instance, adef.name) not in done_kinds:
                out.append(f"{instance} {adef.name}")
    return tuple(out)


def build(model: KubeModel, depth: int = 0) -> Instance:
    """The encoding of ``model``'s scenario and variant, for runs of up to ``depth`` steps."""
    initial = model.initial_states()[0]
    layout = build_layout(model.ctx, initial, depth)
    services = _services_encodable(layout, initial)
    controller = _replicaset_actions(layout)
    kubelets = kubelet.actions(layout, initial)
    kubelets += environment.faults(layout, initial) if kubelets else []
    beats = bool(kubelets) and layout.heartbeats
    lifecycle = [*nodelifecycle.actions(layout), *tainteviction.actions(layout)] if beats or layout.quiet else []
    lifecycle += [environment.tick()] if beats else []
    schedulers = scheduler.actions(layout, initial)
    collector = garbagecollector.actions(layout, initial)
    users = [environment.create_pod(key) for key in layout.user_pods] if kubelets and layout.budgets.get("create", 0) > 0 else []
    users += (
        [attrs.evolve(environment.delete_pod(key), born=layout.born(key)) for key in layout.pods] if layout.budgets.get("delete-pod", 0) > 0 else []
    )
    addresses = services and endpoints.encodable(layout)
    proxies = addresses and kubeproxy.encodable(layout)
    published = [*(endpoints.actions(layout) if addresses else []), *(kubeproxy.actions(layout) if proxies else [])]
    serviceless = endpoints.serviceless(layout, initial)
    published += endpoints.serviceless_actions() if serviceless else []
    actions = [*_service_actions(layout, services), *users, *controller, *collector, *schedulers, *lifecycle, *kubelets, *published]
    cells = [*apiserver.cells(layout), *environment.cells(layout), *replicaset.cells(layout)]
    cells += [*endpoints.cells(layout), *(kubeproxy.cells(layout) if proxies else [])] if addresses else []
    cells += scheduler.cells(layout) if schedulers else []
    cells += garbagecollector.cells(layout) if collector else []
    cells += kubelet.cells(layout) if kubelets else []
    cells += nodelifecycle.cells(layout) if beats else []

    impossible = [*kubelet.impossible(layout), *garbagecollector.impossible(layout, initial)]
    impossible += [*nodelifecycle.impossible(layout), *tainteviction.impossible(layout)]
    impossible += endpoints.SERVICELESS_IMPOSSIBLE if serviceless else ()

    def abstract(s: State) -> dict[str, CellValue]:
        out = apiserver.abstract(layout, s) | environment.abstract(layout, s) | replicaset.abstract(layout, s)
        out |= scheduler.abstract(layout, s) if schedulers else {}
        out |= garbagecollector.abstract(layout, s) if collector else {}
        out |= nodelifecycle.abstract(layout, s) if beats else {}
        out |= endpoints.abstract(layout, s) if addresses else {}
        out |= kubeproxy.abstract(layout, s) if proxies else {}
        return out | kubelet.abstract(layout, s) if kubelets else out

    return Instance(
        model=model,
        initial=initial,
        cells=tuple(cells),
        actions=tuple(actions),
        invariants=invariants.encoded(services, bool(controller), bool(kubelets), bool(schedulers), beats or layout.quiet, (addresses, proxies)),
        abstract=abstract,
        not_encoded=_not_encoded(model, actions, impossible) + tuple(kubelet.left_out(layout, initial) if kubelets else ()),
        data=layout,
    )
