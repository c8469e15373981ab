"""The exception root of kspec and its kinds of bad input.

Every error a user can cause (an unknown scenario, an action that is not
enabled, a malformed file) is a :class:`KspecError`; the CLI turns it into one
line on stderr and exit code 2. Messages say what was given, what was expected
and, for names, the close matches (the habit of Hypothesis' validation
messages).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class KspecError(Exception):
    """Root of every error caused by bad input or usage."""


class UnknownNameError(KspecError):
    """A name (scenario, component, action, variant ...) that kspec does not know."""

    def __init__(self, what: str, name: str, known: Iterable[str], where: str = "") -> None:
        self.what = what
        self.name = name
        self.known = sorted(known)
        super().__init__(unknown_name_message(what, name, self.known, where))


class InvalidInputError(KspecError):
    """A value that has the wrong shape or type (the file and field are in the message)."""


class ActionNotEnabledError(KspecError):
    """An action that is not enabled in the state it is applied to."""


def close_matches(name: str, known: Iterable[str]) -> list[str]:
    """The known names closest to ``name`` (difflib ratio >= 0.5), best first."""
    return difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5)


def unknown_name_message(what: str, name: str, known: list[str], where: str = "") -> str:
    """One line: the unknown name, where it came from, and what it might have meant."""
    prefix = f"{where}: " if where else ""
    text = f"{prefix}unknown {what} {name!r}"
    matches = close_matches(name, known)
    if matches:
        return text + "; did you mean " + " or ".join(repr(m) for m in matches) + "?"
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return text + (f"; known: {shown}" if known else "")
