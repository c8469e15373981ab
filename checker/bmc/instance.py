"""A scenario and variant as the Z3 encoding sees them: cells, encoded actions and invariants, and what is left out."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
from checker.bmc.core import Cell, CellValue, Encoded, Instance, Relisted
from checker.bmc.layout import Layout, Watcher, build_layout, ip_code
from spec import informer
from spec import kubelet as kl
from spec import scheduler as sch
from spec.catalogue import WATCH_DELIVER, action_defs
from spec.component import ComponentType, Context, node_of
from spec.controllers import garbagecollector as gc
from spec.controllers import nodelifecycle as nlc
from spec.controllers import replicaset as rc
from spec.model import KubeModel
from spec.objects import POD, REPLICASET, Obj, Service
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


MEMORY = {rc.NAME: "rc/", gc.NAME: "gc/", sch.NAME: "sch/{instance}/", kl.NAME: "kl/{node}/", nlc.NAME: "nlc/"}
"""the prefix of each component's memory cells, by its kind (the others' memory has no cells)"""


def _restarts(
    model: KubeModel, layout: Layout, cells: Sequence[Cell], abstract: Callable[[State], dict[str, CellValue]], beats: bool
) -> list[Encoded]:
    """ComponentRestart of each component: its memory cells (``MEMORY``; a component whose encoding is not built has none) take a fresh
    process's values, its cursors none; a kubelet that lists from a lagging cache (``kubelet-stale-relist``), the cursors after the oldest
    revision the cache can serve.

    Not the node lifecycle controller where the heartbeats are encoded
    (``beats``: a list refills its memory with the clock's time, not a
    constant), nor a stale list where :func:`_stale_encodable` is false.
    """
    ctx, initial = model.ctx, model.initial_states()[0]
    if not ctx.scenario.bounds.budgets.get("component-restart", 0):
        return []
    out = []
    for instance, ctype in ctx.components:
        stale = _lists_stale(ctx, ctype)
        node = node_of(instance) if ctype.per_node else ""
        if not ctype.watches or (stale and not _stale_encodable(layout, initial, instance, beats)) or (beats and ctype.kind == nlc.NAME):
            continue
        if node and not initial.machines[node].up:
            continue
        fresh = abstract(informer.fresh_view(ctx, initial, instance))
        prefix = MEMORY.get(ctype.kind, "").format(instance=instance, node=node)
        memory = {c.name: fresh[c.name] for c in cells if prefix and c.name.startswith(prefix)}
        out.append(environment.component_restart(instance, node, memory, stale))
    return out


def _lists_stale(ctx: Context, ctype: ComponentType) -> bool:
    """The component's restart lists from a lagging watch cache in this variant (``ComponentType.stale_relist_flag``)."""
    return bool(ctype.stale_relist_flag) and ctx.flag(ctype.stale_relist_flag)


def _stale_lists(model: KubeModel) -> bool:
    """Some component's restart lists from a lagging watch cache in this variant and scenario."""
    ctx = model.ctx
    restarts = ctx.scenario.bounds.budgets.get("component-restart", 0) > 0
    return restarts and any(_lists_stale(ctx, ctype) for _, ctype in ctx.components)


def _stale_encodable(layout: Layout, initial: State, instance: str, beats: bool) -> bool:
    """A stale list of ``instance`` reads the store as of revisions the encoding has: the instance is a kubelet, the store's pod cells before
    the initial revision are known (``Layout.store_history``), and its other watches' kinds are constants there (no heartbeats, and no
    event of them in the initial history)."""
    kinds = {w.kind for w in layout.watchers if w.instance == instance} - {POD}
    if not instance.startswith(f"{kl.NAME}/") or beats or layout.store_history is None:
        return False
    return not any(kind in kinds for _, kind in layout.initial_log)


def _relisted(kind: str, watcher: Watcher) -> Relisted | None:
    """The handlers of a relist of ``watcher`` for a component of ``kind``, where they touch its memory's cells."""
    if watcher.kind == POD:
        handlers = {rc.NAME: replicaset.relisted_pods, sch.NAME: scheduler.relisted_pods(watcher.instance)}
        return kubelet.relisted_pods(watcher.node) if kind == kl.NAME else handlers.get(kind)
    return garbagecollector.relisted_replicasets if (kind, watcher.kind) == (gc.NAME, REPLICASET) else None


def _resets(model: KubeModel, layout: Layout, encoded: Sequence[Encoded], impossible: Sequence[str], beats: bool) -> list[Encoded]:
    """WatchReset of each watch whose deliveries are encoded (or impossible), where the initial state has no event pending (so every
    revision a cache is as of is one the run wrote: ``apiserver.value_at`` is exact there).

    Not the node lifecycle controller's where the heartbeats are encoded
    (its handlers refill its memory with the clock's time).
    """
    ctx, initial = model.ctx, model.initial_states()[0]
    if not ctx.scenario.bounds.budgets.get("watch-reset", 0) or initial.channels.cursors:
        return []
    delivered = {str(e.action) for e in encoded}
    out = []
    for w in layout.watchers:
        kind = ctx.type_of(w.instance).kind
        if f"{w.instance} {WATCH_DELIVER} kind={w.kind}" not in delivered and f"{WATCH_DELIVER} kind={w.kind}" not in impossible:
            continue
        if not (beats and kind == nlc.NAME):
            out.append(environment.watch_reset(w.instance, w.kind, w.node, _relisted(kind, w)))
    return out


def _not_encoded(model: KubeModel, encoded: list[Encoded], impossible: Sequence[str] = ()) -> tuple[str, ...]:
    """The catalogue's actions the scenario can take that the encoding leaves out (UserCreate by object, WatchDeliver by watch, others by kind).

    ``impossible``: action names no instance can take in this scenario and bound (``kubelet.impossible``), or ``<instance> <name>`` for
    one instance, and ``WatchDeliver kind=K`` where no watch of kind K has an event to deliver.
    """
    ctx = model.ctx
    done = {str(e.action) for e in encoded}
    done_kinds = {(e.action.component, e.action.name) for e in encoded}
    out: list[str] = []
    for instance, ctype in ctx.components:
        for adef in action_defs(ctype):
            if not adef.possible(ctx.scenario) or adef.name in impossible or f"{instance} {adef.name}" in impossible:
                continue
            if adef.name == "UserCreate":
                user = ctx.scenario.user
                creatable: list[Obj] = [*user.replicasets, *user.services, *user.pods]
                for obj in creatable:
                    label = f"{instance} UserCreate kind={obj.kind} name={obj.meta.key}"
                    if label not in done:
                        out.append(label)
            elif adef.name == "ComponentRestart":
                labels = [f"{instance} ComponentRestart component={name}" for name, restarted in ctx.components if restarted.watches]
                out += [label for label in labels if label not in done]
            elif adef.name == "WatchReset":
                out += [label for name, w in ctx.watchers if (label := f"{instance} WatchReset component={name} kind={w.kind}") not in done]
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
    if _stale_lists(model):
        layout = attrs.evolve(layout, store_history=apiserver.store_history(layout, initial))
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

    impossible = [*kubelet.impossible(layout), *garbagecollector.impossible(layout, initial), *replicaset.impossible(layout)]
    impossible += scheduler.impossible(layout) if schedulers else []
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

    actions += _restarts(model, layout, cells, abstract, beats) + _resets(model, layout, actions, impossible, beats)

    return Instance(
        model=model,
        initial=initial,
        cells=tuple(cells),
        actions=tuple(actions),
        invariants=invariants.encoded(
            services, bool(controller), bool(kubelets), bool(schedulers), beats or layout.quiet, (addresses, proxies), serviceless=serviceless
        ),
        abstract=abstract,
        not_encoded=_not_encoded(model, actions, impossible) + tuple(kubelet.left_out(layout, initial) if kubelets else ()),
        data=layout,
    )
