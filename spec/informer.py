"""Watches and informer caches: how writes reach each component's view.

Follows client-go ``tools/cache`` (reflector.go, shared_informer.go) and the
API server's watch cache (apiserver pkg/storage/cacher):

- every write appends one event to the history; a watch delivers, in
  resourceVersion order, the events after its position that its selector
  selects, translated as ``cache_watcher.go convertToWatchEvent`` does
  (an object that stops matching arrives as DELETED, one that starts matching
  as ADDED);
- a relist replaces a cache with a list of the store, optionally served from
  a watch cache that lags the store (the list is the store as of an older
  revision), then the watch resumes after the list's revision; the informer
  diffs the old and new cache and calls its handlers with synthetic events,
  including deletions (``DeletedFinalStateUnknown``).

A cursor is kept canonical: ``None`` when the watch has nothing to deliver,
otherwise the revision just before its next event. The history keeps only the
events some watch still has to deliver, plus the last ``watch_cache_window``
revisions that a lagging relist may be served from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from spec.component import Context, Event, node_of
from spec.frozen import EMPTY, FrozenMap, replace
from spec.state import Channels, ComponentState, Objects, State, WatchEvent

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


def event_type(selects: Any, node: str, ev: WatchEvent) -> str | None:
    """The event a filtered watch sees for ``ev``, or None if it sees nothing."""
    if selects is None:
        old_in, new_in = ev.old is not None, ev.new is not None
    else:
        old_in = ev.old is not None and selects(node, ev.old)
        new_in = ev.new is not None and selects(node, ev.new)
    if new_in:
        return MODIFIED if old_in else ADDED
    return DELETED if old_in else None


def _selected(ctx: Context, instance: str, kind: str, ev: WatchEvent) -> bool:
    watch = ctx.watch_of(instance, kind)
    return event_type(watch.selects, node_of(instance), ev) is not None


def _next_cursor(ctx: Context, log: tuple[WatchEvent, ...], instance: str, kind: str, after: int) -> int | None:
    """The canonical cursor of a watch positioned at revision ``after``."""
    for ev in log:
        if ev.revision > after and ev.kind == kind and _selected(ctx, instance, kind, ev):
            return ev.revision - 1
    return None


def _set_cursor(channels: Channels, instance: str, kind: str, cursor: int | None) -> Channels:
    per_kind = channels.cursors.get(instance, EMPTY)
    if cursor is None:
        if kind not in per_kind:
            return channels
        per_kind = per_kind.remove(kind)
    else:
        per_kind = per_kind.set(kind, cursor)
    cursors = channels.cursors.set(instance, per_kind) if per_kind else channels.cursors.remove(instance)
    return replace(channels, cursors=cursors)


def _trim(ctx: Context, log: tuple[WatchEvent, ...], cursors: FrozenMap[str, FrozenMap[str, int]], revision: int) -> tuple[WatchEvent, ...]:
    """Drop the events no watch still has to deliver, outside the watch-cache window."""
    horizon = revision - ctx.scenario.bounds.watch_cache_window
    lowest: dict[str, int] = {}
    for per_kind in cursors.values():
        for kind, cursor in per_kind.items():
            if cursor < lowest.get(kind, revision):
                lowest[kind] = cursor
    kept = tuple(ev for ev in log if ev.revision > horizon or ev.revision > lowest.get(ev.kind, revision))
    return kept if len(kept) != len(log) else log


def record(ctx: Context, s: State, ev: WatchEvent) -> Channels:
    """Append the event of a write; watches that select it now have it pending.

    The watches of a machine that is down do not exist until it restarts (and relists).
    """
    channels = s.channels
    cursors = channels.cursors
    for instance, watch in ctx.watchers:
        if watch.kind != ev.kind or (ctx.type_of(instance).per_node and not s.machines[node_of(instance)].up):
            continue
        per_kind = cursors.get(instance, EMPTY)
        if watch.kind in per_kind:
            continue
        if event_type(watch.selects, node_of(instance), ev) is not None:
            cursors = cursors.set(instance, per_kind.set(watch.kind, ev.revision - 1))
    log = _trim(ctx, (*channels.log, ev), cursors, ev.revision)
    return Channels(log=log, cursors=cursors)


def pending(ctx: Context, s: State, instance: str, kind: str) -> WatchEvent | None:
    """The next event the watch of ``instance`` on ``kind`` will deliver, if any."""
    per_kind = s.channels.cursors.get(instance)
    if per_kind is None:
        return None
    cursor = per_kind.get(kind)
    if cursor is None:
        return None
    for ev in s.channels.log:
        if ev.revision > cursor and ev.kind == kind:
            return ev
    return None


def pending_kinds(s: State, instance: str) -> tuple[str, ...]:
    """The kinds whose watch has an undelivered event for ``instance``."""
    per_kind = s.channels.cursors.get(instance)
    return tuple(per_kind) if per_kind else ()


def _apply(cache: Objects, kind: str, etype: str, ev: WatchEvent) -> Objects:
    if etype == DELETED:
        return cache.drop(kind, ev.key)
    return cache.put(ev.new)


def deliver(ctx: Context, s: State, instance: str, kind: str) -> State:
    """Deliver the next event of one watch to the component's cache and handlers."""
    ev = pending(ctx, s, instance, kind)
    assert ev is not None, f"no pending {kind} event for {instance}"
    watch = ctx.watch_of(instance, kind)
    etype = event_type(watch.selects, node_of(instance), ev)
    assert etype is not None
    view = s.views[instance]
    if watch.loses is not None and watch.loses(ctx, ev):
        cache, memory = view.cache, view.memory
    else:
        old = view.cache.get(kind, ev.key)
        cache = _apply(view.cache, kind, etype, ev)
        event = Event(etype, kind, old, None if etype == DELETED else ev.new, instance, s.clock, cache)
        memory = _handle(ctx, view.memory, event)
    channels = _set_cursor(s.channels, instance, kind, _next_cursor(ctx, s.channels.log, instance, kind, ev.revision))
    channels = replace(channels, log=_trim(ctx, channels.log, channels.cursors, s.api.revision))
    views = s.views.set(instance, ComponentState(cache=cache, memory=memory))
    return replace(s, views=views, channels=channels)


def _handle(ctx: Context, memory: Any, event: Event) -> Any:
    handler = ctx.type_of(event.instance).on_event
    if handler is None:
        return memory
    return handler(ctx, memory, event)


def store_at(s: State, kind: str, revision: int) -> FrozenMap[str, Any]:
    """The objects of ``kind`` as of ``revision``: the store with later writes undone."""
    objs = s.api.objects.of(kind)
    for ev in reversed(s.channels.log):
        if ev.revision <= revision:
            break
        if ev.kind == kind:
            objs = objs.remove(ev.key) if ev.old is None else objs.set(ev.key, ev.old)
    return objs


def oldest_listable(ctx: Context, s: State) -> int:
    """The oldest revision a lagging watch cache can still serve a list at."""
    window_start = s.api.revision - ctx.scenario.bounds.watch_cache_window
    first_kept = s.channels.log[0].revision - 1 if s.channels.log else s.api.revision
    return max(window_start, first_kept, 0)


def relist(ctx: Context, s: State, instance: str, kinds: Iterable[str] | None = None, at: int | None = None) -> State:
    """Relist ``kinds`` (all watched kinds by default) at revision ``at`` (the store's if None).

    The new cache is what the list returns, filtered by the watch's selector;
    the handlers see the differences as synthetic events; the watch resumes
    after the list's revision.
    """
    revision = s.api.revision if at is None else at
    node = node_of(instance)
    ctype = ctx.type_of(instance)
    watches = [w for w in ctype.watches if kinds is None or w.kind in set(kinds)]
    view = s.views[instance]
    cache, memory, channels = view.cache, view.memory, s.channels
    for watch in watches:
        listed = store_at(s, watch.kind, revision) if at is not None else s.api.objects.of(watch.kind)
        if watch.selects is not None:
            listed = FrozenMap((k, o) for k, o in listed.items() if watch.selects(node, o))
        before = cache.of(watch.kind)
        cache = cache.replace_kind(watch.kind, listed)
        memory = _diff_handlers(ctx, instance, memory, watch.kind, before, cache, s.clock)
        channels = _set_cursor(channels, instance, watch.kind, _next_cursor(ctx, channels.log, instance, watch.kind, revision))
    channels = replace(channels, log=_trim(ctx, channels.log, channels.cursors, s.api.revision))
    views = s.views.set(instance, ComponentState(cache=cache, memory=memory))
    return replace(s, views=views, channels=channels)


def _diff_handlers(ctx: Context, instance: str, memory: Any, kind: str, before: FrozenMap[str, Any], cache: Objects, now: int) -> Any:
    """Call the handlers with the synthetic events a relist produces (sorted by key)."""
    after = cache.of(kind)
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        etype = ADDED if old is None else DELETED if new is None else MODIFIED
        memory = _handle(ctx, memory, Event(etype, kind, old, new, instance, now, cache, tombstone=new is None))
    return memory


def fresh_view(ctx: Context, s: State, instance: str, at: int | None = None) -> State:
    """Start ``instance`` with empty memory and a list of everything it watches (consistent, or at revision ``at``)."""
    ctype = ctx.type_of(instance)
    views = s.views.set(instance, ComponentState(memory=ctype.initial_memory()))
    channels = s.channels
    for watch in ctype.watches:
        channels = _set_cursor(channels, instance, watch.kind, None)
    return relist(ctx, replace(s, views=views, channels=channels), instance, at=at)
