"""Behaviour variants: named changes of one component, usually a real bug.

A variant is data: a name, the behaviour flags it switches on (components
consult them through ``Context.flag``), and the facts a reader needs: what it
changes, which component, the upstream reference. The default variant
switches nothing on: it is today's Kubernetes.
"""

from __future__ import annotations

import attrs

from spec.errors import UnknownNameError


@attrs.frozen
class Variant:
    """A named change of component behaviour."""

    name: str
    """the variant's name"""
    summary: str
    """what it changes, in one line"""
    changes: frozenset[str] = frozenset()
    """behaviour flags it switches on"""
    component: str = ""
    """the component it changes"""
    reference: str = ""
    """the upstream issue or source it reproduces"""


DEFAULT = Variant(name="default", summary="today's Kubernetes: no behaviour changed")

VARIANTS: dict[str, Variant] = {v.name: v for v in (DEFAULT,)}


def get_variant(name: str) -> Variant:
    """The variant called ``name`` (exit-2 error with close matches otherwise)."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise UnknownNameError("variant", name, VARIANTS) from None
