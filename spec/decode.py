"""Reading fields of a Kubernetes object (its JSON data) the way the API server decodes them.

:class:`Fields` is one JSON object at a field path (``spec.template.spec``).
Its accessors check each field's type as Go's JSON decoder would (a string
where an int32 is due, a list where a map is due, an integer out of the
int32 range), treat ``null`` as absent (the field's zero value, then its
default), and refuse fields the type does not have, as the API server's
strict field validation does (``kubectl --validate=strict``, the default
since v1.27). Every problem is a :class:`DecodeError` whose message starts
with the field path, in the shape of the API server's field errors
(apimachinery ``pkg/util/validation/field/errors.go``):
``spec.replicas: Invalid value: "3": expected an integer, got a string``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import attrs

from spec import quantity
from spec.errors import InvalidInputError, close_matches

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
_KINDS: dict[type, str] = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "object"}


class DecodeError(InvalidInputError):
    """A field that does not decode or validate; the message starts with its field path."""


def kind_of(value: object) -> str:
    """The JSON kind of a value, for messages."""
    return _KINDS.get(type(value), type(value).__name__)


def show(value: object, limit: int = 40) -> str:
    """A value as the API server shows it in a field error: strings quoted, other values as JSON, shortened."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def child(path: str, key: str) -> str:
    """``path.key`` (field.Path.Child)."""
    return f"{path}.{key}" if path else key


def wrong_type(path: str, value: object, expected: str) -> DecodeError:
    """The error for a value of the wrong JSON kind."""
    return DecodeError(f"{path}: Invalid value: {show(value)}: expected {expected}, got {article(kind_of(value))}")


def article(noun: str) -> str:
    """``a string``, ``an integer``."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def required(path: str, detail: str = "") -> DecodeError:
    """field.Required."""
    return DecodeError(f"{path}: Required value" + (f": {detail}" if detail else ""))


def unsupported(path: str, value: str, supported: Sequence[str]) -> DecodeError:
    """field.NotSupported."""
    return DecodeError(f"{path}: Unsupported value: {show(value)}: supported values: " + ", ".join(f'"{v}"' for v in supported))


def invalid(path: str, value: object, why: str) -> DecodeError:
    """field.Invalid."""
    return DecodeError(f"{path}: Invalid value: {show(value)}: {why}")


@attrs.frozen
class Fields:
    """One JSON object of a manifest, at a field path."""

    data: Mapping[str, Any]
    """the object's fields"""
    path: str
    """its field path ("" at the top)"""

    @classmethod
    def of(cls, value: object, path: str) -> Fields:
        """``value`` as an object at ``path`` (an error if it is not one)."""
        if not isinstance(value, Mapping):
            raise wrong_type(path, value, "an object")
        return cls(value, path)

    def at(self, key: str) -> str:
        """The path of field ``key``."""
        return child(self.path, key)

    def known(self, names: Sequence[str]) -> None:
        """Refuse a field the type does not have (strict decoding), suggesting close matches."""
        for key in self.data:
            if key not in names:
                matches = close_matches(key, names)
                hint = f"; did you mean {matches[0]!r}?" if matches else ""
                raise DecodeError(f"{self.at(key)}: unknown field {show(key)}{hint}")

    def get(self, key: str) -> Any:
        """The raw value of ``key`` (None if absent or null)."""
        return self.data.get(key)

    def has(self, key: str) -> bool:
        """The field is present and not null."""
        return self.data.get(key) is not None

    def mapping(self, key: str) -> Fields:
        """A nested object (an empty one if absent)."""
        value = self.get(key)
        return Fields({}, self.at(key)) if value is None else Fields.of(value, self.at(key))

    def items(self, key: str) -> list[tuple[str, Any]]:
        """A list field as (path, item) pairs (empty if absent)."""
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise wrong_type(self.at(key), value, "a list")
        return [(f"{self.at(key)}[{i}]", item) for i, item in enumerate(value)]

    def objects(self, key: str) -> list[Fields]:
        """A list of objects."""
        return [Fields.of(item, path) for path, item in self.items(key)]

    def string(self, key: str, default: str = "") -> str:
        """A string field; ``default`` when absent, null or empty (defaults.go defaults an empty string too)."""
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise wrong_type(self.at(key), value, "a string")
        return value or default

    def required_string(self, key: str) -> str:
        """A string field that must be present and non-empty."""
        value = self.string(key)
        if not value:
            raise required(self.at(key))
        return value

    def integer(self, key: str, default: int, bounds: tuple[int, int] = INT32) -> int:
        """An integer field (int32 unless ``bounds`` says otherwise); a float or a numeric string is refused."""
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong_type(self.at(key), value, "an integer")
        if not bounds[0] <= value <= bounds[1]:
            bits = 32 if bounds == INT32 else 64
            raise invalid(self.at(key), value, f"out of range for a {bits}-bit integer")
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        """A boolean field."""
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise wrong_type(self.at(key), value, "a boolean")
        return value

    def string_map(self, key: str) -> dict[str, str]:
        """A map of strings (labels, annotations, a selector)."""
        fields = self.mapping(key)
        result = {}
        for name, value in fields.data.items():
            if not isinstance(value, str):
                hint = " (quote it in YAML)" if isinstance(value, (bool, int, float)) else ""
                raise wrong_type(f"{fields.path}[{name}]", value, "a string" + hint)
            result[name] = value
        return result

    def strings(self, key: str) -> list[str]:
        """A list of strings."""
        result = []
        for path, value in self.items(key):
            if not isinstance(value, str):
                raise wrong_type(path, value, "a string")
            result.append(value)
        return result

    def quantities(self, key: str) -> dict[str, tuple[object, Fraction]]:
        """A resource list: resource name to (the value as written, its exact quantity)."""
        fields = self.mapping(key)
        result = {}
        for name, raw in fields.data.items():
            path = f"{fields.path}[{name}]"
            try:
                amount = quantity.from_json(raw)
            except quantity.QuantityError as e:
                raise invalid(path, raw, str(e)) from None
            if amount < 0:
                raise invalid(path, raw, "must be greater than or equal to 0")
            result[name] = (raw, amount)
        return result
