"""Kubernetes label selectors, behaving as kubernetes/apimachinery does.

Rules followed (see section 2 of shared/k8s-semantics.md):

* ``pkg/labels/selector.go``: the ``labels.Parse`` lexer and parser,
  ``NewRequirement`` validation, ``Requirement.Matches``, ``String()`` and the
  ``ByKey`` ordering of requirements.
* ``pkg/labels/labels.go``: ``labels.Set.String()`` (:func:`format_labels`).
* ``pkg/apis/meta/v1/helpers.go``: ``LabelSelectorAsSelector``
  (:func:`selector_from_label_selector`).
* ``pkg/api/validate/content/kube.go``, ``dns.go`` and ``errors.go`` (aliased
  by ``pkg/util/validation``): ``IsQualifiedName``/``IsLabelKey`` and
  ``IsValidLabelValue``/``IsLabelValue`` with their messages.

Known, deliberate differences from Go (all documented where they apply):

* ``matchExpressions`` values are deduplicated (Go keeps duplicates in the
  requirement and prints them twice); matching is unaffected.
* :func:`selector_from_label_selector` rejects unknown fields and wrongly
  typed JSON instead of silently dropping them as Go's decoder would.
* Parse error messages end with `` (at position N)``, the character offset
  in the input of the offending token; the text before it is apimachinery's
  message.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import NamedTuple

import attrs

__all__ = [
    "EVERYTHING",
    "NOTHING",
    "Operator",
    "Requirement",
    "Selector",
    "SelectorError",
    "format_labels",
    "is_valid_label_key",
    "is_valid_label_value",
    "label_key_errors",
    "label_value_errors",
    "parse_selector",
    "selector_from_label_selector",
    "selector_from_set",
    "set_matches",
]


class SelectorError(ValueError):
    """An invalid selector, label key or label value.

    ``errors`` holds the individual messages; ``str(err)`` aggregates them the
    way apimachinery's ``utilerrors.Aggregate`` does (one message as is,
    several as ``[m1, m2]``).
    """

    def __init__(self, errors: str | Sequence[str]) -> None:
        msgs = (errors,) if isinstance(errors, str) else tuple(errors)
        self.errors: tuple[str, ...] = msgs
        text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
        super().__init__(text)


class Operator(enum.StrEnum):
    """``selection.Operator``: the values are the Go string constants."""

    IN = "in"
    NOT_IN = "notin"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    GREATER_THAN = "gt"
    LESS_THAN = "lt"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


# Order of selector.go's validRequirementOperators (binary, then unary).
_OPERATOR_ORDER = (
    "in",
    "notin",
    "=",
    "==",
    "!=",
    "gt",
    "lt",
    "exists",
    "!",
)
_BINARY_OPERATORS = ", ".join(_OPERATOR_ORDER[:7])

# --------------------------------------------------------------------------
# Key and value syntax (pkg/api/validate/content)
# --------------------------------------------------------------------------

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_NAME_MAX = 63
_VALUE_FMT = "(" + _NAME_FMT + ")?"
_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric "
    "characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_VALUE_MAX = 63
_DNS_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _DNS_LABEL_FMT + "(\\." + _DNS_LABEL_FMT + ")*"
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric "
    "character"
)
_SUBDOMAIN_MAX = 253
_EMPTY_MSG = "must be non-empty"

# Go's "^...$" anchors the whole text; Python's "$" would also accept a
# trailing newline, so these are always used with fullmatch().
_NAME_RE = re.compile(_NAME_FMT)
_VALUE_RE = re.compile(_VALUE_FMT)
_SUBDOMAIN_RE = re.compile(_SUBDOMAIN_FMT)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """content.RegexError, including its odd ``', or`` punctuation."""
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len_error(limit: int) -> str:
    return f"must be no more than {limit} bytes"


def _byte_len(text: str) -> int:
    """Length in bytes, as Go's ``len`` on a string counts."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _type_name(obj: object) -> str:
    return type(obj).__name__


def _subdomain_errors(prefix: str) -> list[str]:
    errs: list[str] = []
    if _byte_len(prefix) > _SUBDOMAIN_MAX:
        errs.append(_max_len_error(_SUBDOMAIN_MAX))
    if not _SUBDOMAIN_RE.fullmatch(prefix):
        errs.append(_regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com"))
    return errs


def _name_errors(name: str) -> list[str]:
    errs: list[str] = []
    if not name:
        errs.append("name part " + _EMPTY_MSG)
    elif _byte_len(name) > _NAME_MAX:
        errs.append("name part " + _max_len_error(_NAME_MAX))
    if not _NAME_RE.fullmatch(name):
        errs.append("name part " + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def label_key_errors(key: object) -> list[str]:
    """Messages of ``IsLabelKey`` (``IsQualifiedName``); empty if valid."""
    if not isinstance(key, str):
        return [f"must be a string, got {_type_name(key)}"]
    parts = key.split("/")
    if len(parts) > 2:
        return [
            "a valid label key "
            + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    errs: list[str] = []
    if len(parts) == 2:
        if not parts[0]:
            errs.append("prefix part " + _EMPTY_MSG)
        else:
            errs.extend("prefix part " + m for m in _subdomain_errors(parts[0]))
    return errs + _name_errors(parts[-1])


def label_value_errors(value: object) -> list[str]:
    """Messages of ``IsValidLabelValue`` (``IsLabelValue``); empty if valid."""
    if not isinstance(value, str):
        return [f"must be a string, got {_type_name(value)}"]
    errs: list[str] = []
    if _byte_len(value) > _VALUE_MAX:
        errs.append(_max_len_error(_VALUE_MAX))
    if not _VALUE_RE.fullmatch(value):
        errs.append(_regex_error(_VALUE_MSG, _VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_valid_label_key(key: str) -> bool:
    """True if ``key`` is a valid label key (optional DNS prefix + name)."""
    return not label_key_errors(key)


def is_valid_label_value(value: str) -> bool:
    """True if ``value`` is a valid label value (the empty string is)."""
    return not label_value_errors(value)


# --------------------------------------------------------------------------
# Error rendering (field.Error style)
# --------------------------------------------------------------------------

_GO_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _escape_char(ch: str) -> str:
    if ch in _GO_ESCAPES:
        return _GO_ESCAPES[ch]
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _quote(text: str) -> str:
    """Approximately Go's ``%q`` (strconv.Quote)."""
    return '"' + "".join(_escape_char(ch) for ch in text) + '"'


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _invalid(path: str, value: str, errs: Sequence[str]) -> str:
    """field.Invalid(path, value, strings.Join(errs, "; ")).Error()."""
    body = f"Invalid value: {_quote(value)}: " + "; ".join(errs)
    return f"{path}: {body}" if path else body


def _show_values(values: Sequence[str]) -> str:
    """Go's ``%#v`` of a ``[]string``."""
    return "[]string{" + ", ".join(_quote(str(v)) for v in values) + "}"


# --------------------------------------------------------------------------
# Requirement
# --------------------------------------------------------------------------

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64): optional sign, ASCII digits, no ``_``."""
    if len(text) < 19 and text.isdigit() and text.isascii():
        return int(text)  # fast path: small non-negative number
    if not text.isascii():
        return None
    sign = text[:1]
    digits = text[1:] if sign in ("+", "-") else text
    if not digits.isdigit():
        return None
    if len(digits) > 19:  # also keeps int() clear of its digit limit
        digits = digits.lstrip("0") or "0"
        if len(digits) > 19:
            return None
    number = -int(digits) if sign == "-" else int(digits)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def _invalid_values(vpath: str, values: Sequence[str], detail: str) -> str:
    return f"{vpath}: Invalid value: {_show_values(values)}: {detail}"


def _operator_errors(op: Operator, values: Sequence[str], vpath: str) -> list[str]:
    count = len(values)
    if op in (Operator.IN, Operator.NOT_IN) and count == 0:
        detail = "for 'in', 'notin' operators, values set can't be empty"
        return [_invalid_values(vpath, values, detail)]
    if op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS) and count != 1:
        detail = "exact-match compatibility requires one single value"
        return [_invalid_values(vpath, values, detail)]
    if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and count != 0:
        detail = "values set must be empty for exists and does not exist"
        return [_invalid_values(vpath, values, detail)]
    if op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        return _numeric_errors(values, vpath)
    return []


def _numeric_errors(values: Sequence[str], vpath: str) -> list[str]:
    errs: list[str] = []
    if len(values) != 1:
        detail = "for 'Gt', 'Lt' operators, exactly one value is required"
        errs.append(_invalid_values(vpath, values, detail))
    for i, value in enumerate(values):
        if _parse_int64(value) is None:
            detail = "for 'Gt', 'Lt' operators, the value must be an integer"
            errs.append(_invalid(f"{vpath}[{i}]", value, [detail]))
    return errs


def _coerce_operator(operator: Operator | str) -> Operator | None:
    if isinstance(operator, Operator):
        return operator
    if isinstance(operator, str) and operator in _OPERATOR_ORDER:
        return Operator(operator)
    return None


def _requirement_errors(
    key: str,
    op: Operator | None,
    raw_op: object,
    values: Sequence[str],
    path: str,
) -> list[str]:
    """Every error NewRequirement would aggregate, in its order."""
    errs: list[str] = []
    key_errs = label_key_errors(key)
    if key_errs:
        errs.append(_invalid(_child(path, "key"), str(key), key_errs))
    vpath = _child(path, "values")
    if op is None:
        supported = ", ".join(_quote(o) for o in _OPERATOR_ORDER)
        errs.append(f"{_child(path, 'operator')}: Unsupported value: {_quote(str(raw_op))}: supported values: {supported}")
    else:
        errs.extend(_operator_errors(op, values, vpath))
    for i, value in enumerate(values):
        value_errs = label_value_errors(value)
        if value_errs:
            errs.append(_invalid(f"{vpath}[{i}][{key}]", str(value), value_errs))
    return errs


# Precomputed match kinds.  Kinds below _KIND_NOT_IN fail when the key is
# absent; _KIND_NOT_IN and above succeed (see the table in the notes).
_KIND_IN = 0  # in, =, ==
_KIND_EXISTS = 1
_KIND_GT = 2
_KIND_LT = 3
_KIND_NOT_IN = 4  # notin, !=
_KIND_DOES_NOT_EXIST = 5

_KINDS = {
    Operator.IN: _KIND_IN,
    Operator.EQUALS: _KIND_IN,
    Operator.DOUBLE_EQUALS: _KIND_IN,
    Operator.NOT_IN: _KIND_NOT_IN,
    Operator.NOT_EQUALS: _KIND_NOT_IN,
    Operator.EXISTS: _KIND_EXISTS,
    Operator.DOES_NOT_EXIST: _KIND_DOES_NOT_EXIST,
    Operator.GREATER_THAN: _KIND_GT,
    Operator.LESS_THAN: _KIND_LT,
}

# What matching needs of one requirement: key, kind, value set, Gt/Lt bound.
_Plan = tuple[str, int, frozenset[str], int]


def _compare(kind: int, bound: int, value: str) -> bool:
    """Gt/Lt against a label value; false if it is not an int64.

    Also false for _KIND_DOES_NOT_EXIST, whose key is present here.
    """
    if kind == _KIND_DOES_NOT_EXIST:
        return False
    number = _parse_int64(value)
    if number is None:
        return False
    return number > bound if kind == _KIND_GT else number < bound


def _all_match(plans: tuple[_Plan, ...], labels: Mapping[str, str]) -> bool:
    """The AND of ``Requirement.Matches`` over ``plans`` (hot path)."""
    get = labels.get
    for key, kind, values, bound in plans:
        value = get(key)
        if value is None:
            if kind < _KIND_NOT_IN:
                return False
        elif kind == _KIND_IN:
            if value not in values:
                return False
        elif kind == _KIND_NOT_IN:
            if value in values:
                return False
        elif kind >= _KIND_GT and not _compare(kind, bound, value):
            return False  # gt/lt that fails, or does-not-exist
    return True


_SYMBOLS = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}


@attrs.frozen(init=False, repr=False)
class Requirement:
    """One ``key operator values`` term of a selector (``labels.Requirement``).

    Construction validates exactly as ``labels.NewRequirement`` does and
    raises :class:`SelectorError` otherwise.  ``values`` is stored sorted and
    deduplicated.  ``field_path`` prefixes the field names in error messages
    (Go's ``field.WithPath``).
    """

    key: str
    operator: Operator
    values: tuple[str, ...]
    _plan: _Plan = attrs.field(eq=False)

    def __init__(
        self,
        key: str,
        operator: Operator | str,
        values: Iterable[str] = (),
        *,
        field_path: str = "",
    ) -> None:
        if isinstance(values, str):
            raise TypeError("values must be an iterable of strings, not a str")
        vals = list(values)
        op = _coerce_operator(operator)
        errs = _requirement_errors(key, op, operator, vals, field_path)
        if errs or op is None:
            raise SelectorError(errs)
        kind = _KINDS[op]
        bound = _parse_int64(vals[0]) if kind in (_KIND_GT, _KIND_LT) else 0
        plan = (key, kind, frozenset(vals), bound or 0)
        self.__attrs_init__(key, op, tuple(sorted(set(vals))), plan)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """``Requirement.Matches``: see the matching table in the notes."""
        return _all_match((self._plan,), labels)

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.EXISTS:
            return self.key
        if op is Operator.DOES_NOT_EXIST:
            return "!" + self.key
        joined = ",".join(self.values)
        if op in (Operator.IN, Operator.NOT_IN):
            return f"{self.key} {op.value} ({joined})"
        return self.key + _SYMBOLS.get(op, op.value) + joined

    def __repr__(self) -> str:
        return f"Requirement({self.key!r}, {self.operator.value!r}, {self.values!r})"


# --------------------------------------------------------------------------
# Selector
# --------------------------------------------------------------------------


def _sort_by_key(reqs: Iterable[Requirement]) -> tuple[Requirement, ...]:
    # apimachinery uses sort.Sort(ByKey), which is not stable in general but
    # is an (stable) insertion sort for fewer than 13 elements.  We use
    # Python's stable sort by key, so requirements that share a key keep the
    # order in which they were written: identical to Go for every selector of
    # realistic size, and deterministic for all.
    return tuple(sorted(reqs, key=attrgetter("key")))


@attrs.frozen(init=False, repr=False)
class Selector:
    """An immutable label selector: the AND of ``requirements``.

    ``requirements`` is sorted by key (stable).  Equality and hashing are by
    value, so selectors parsed from texts that differ only in the order of
    requirements with different keys are equal.  For requirements sharing a
    key the written order is kept, as apimachinery does, and is significant.

    The special :data:`NOTHING` selector (``labels.Nothing()``) matches no
    labels at all; like Go's, its ``str()`` is ``""``, the same as
    :data:`EVERYTHING`, so test ``is_nothing()`` rather than the string.
    """

    requirements: tuple[Requirement, ...]
    _nothing: bool
    _plans: tuple[_Plan, ...] = attrs.field(eq=False)

    def __init__(self, requirements: Iterable[Requirement] = ()) -> None:
        reqs = _sort_by_key(requirements)
        plans = tuple(requirement._plan for requirement in reqs)
        self.__attrs_init__(reqs, False, plans)

    @classmethod
    def _make_nothing(cls) -> Selector:
        selector = cls.__new__(cls)
        selector.__attrs_init__((), True, ())
        return selector

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True if every requirement matches ``labels``."""
        return not self._nothing and _all_match(self._plans, labels)

    def empty(self) -> bool:
        """True if the selector does not restrict anything (matches all)."""
        return not self._nothing and not self.requirements

    def is_nothing(self) -> bool:
        """True only for :data:`NOTHING` (``labels.MatchesNothing``)."""
        return self._nothing

    def add(self, *requirements: Requirement) -> Selector:
        """``Selector.Add``: a new selector with more requirements."""
        if self._nothing:
            return self
        return Selector(self.requirements + requirements)

    def requires_exact_match(self, key: str) -> str | None:
        """``RequiresExactMatch``: the single value ``key`` must have, if any."""
        for requirement in self.requirements:
            if requirement.key != key:
                continue
            exact = requirement.operator in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN)
            if exact and len(requirement.values) == 1:
                return requirement.values[0]
            return None
        return None

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)

    def __repr__(self) -> str:
        if self._nothing:
            return "NOTHING"
        return f"parse_selector({str(self)!r})"


EVERYTHING: Selector = Selector()
"""``labels.Everything()``: matches every label set; ``str()`` is ``""``."""

NOTHING: Selector = Selector._make_nothing()
"""``labels.Nothing()``: matches no label set; ``str()`` is ``""`` as in Go."""


# --------------------------------------------------------------------------
# Lexer (selector.go Lexer)
# --------------------------------------------------------------------------

_T_EOS = 0
_T_IDENT = 1
_T_IN = 2
_T_NOT_IN = 3
_T_OPEN = 4
_T_CLOSE = 5
_T_COMMA = 6
_T_NOT = 7
_T_EQ = 8
_T_DOUBLE_EQ = 9
_T_NOT_EQ = 10
_T_GT = 11
_T_LT = 12

_WHITESPACE = frozenset(" \t\r\n")
_SPECIAL = frozenset("=!(),><")
# Go's lexer reads a NUL byte as "end of input" (see _tokenize).
_STOP = _WHITESPACE | _SPECIAL | {"\0"}
_ONE_CHAR = {
    "=": _T_EQ,
    "!": _T_NOT,
    "(": _T_OPEN,
    ")": _T_CLOSE,
    ",": _T_COMMA,
    ">": _T_GT,
    "<": _T_LT,
}
_TWO_CHAR = {"!=": _T_NOT_EQ, "==": _T_DOUBLE_EQ}
_KEYWORDS = {"in": _T_IN, "notin": _T_NOT_IN}
_OPERATOR_TOKENS = {
    _T_IN: Operator.IN,
    _T_NOT_IN: Operator.NOT_IN,
    _T_EQ: Operator.EQUALS,
    _T_DOUBLE_EQ: Operator.DOUBLE_EQUALS,
    _T_NOT_EQ: Operator.NOT_EQUALS,
    _T_GT: Operator.GREATER_THAN,
    _T_LT: Operator.LESS_THAN,
}


class _Token(NamedTuple):
    kind: int
    literal: str
    position: int


def _skip_whitespace(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _scan_symbol(text: str, pos: int) -> tuple[_Token, int]:
    pair = text[pos : pos + 2]
    if pair in _TWO_CHAR:
        return _Token(_TWO_CHAR[pair], pair, pos), pos + 2
    return _Token(_ONE_CHAR[text[pos]], text[pos], pos), pos + 1


def _scan_identifier(text: str, pos: int) -> tuple[_Token, int]:
    end = pos
    while end < len(text) and text[end] not in _STOP:
        end += 1
    literal = text[pos:end]
    return _Token(_KEYWORDS.get(literal, _T_IDENT), literal, pos), end


def _tokenize(text: str) -> list[_Token]:
    """All tokens up to and including the end token.

    As in Go, a NUL character where a token would start ends the input, and
    a NUL directly after an identifier or operator is consumed with it.
    """
    tokens: list[_Token] = []
    pos = 0
    while True:
        pos = _skip_whitespace(text, pos)
        if pos >= len(text) or text[pos] == "\0":
            tokens.append(_Token(_T_EOS, "", pos))
            return tokens
        scan = _scan_symbol if text[pos] in _SPECIAL else _scan_identifier
        token, pos = scan(text, pos)
        tokens.append(token)
        if pos < len(text) and text[pos] == "\0":
            pos += 1


# --------------------------------------------------------------------------
# Parser (selector.go Parser)
# --------------------------------------------------------------------------


class _ParseError(Exception):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _Parser:
    """Recursive descent over the token list, mirroring selector.go."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self) -> _Token:
        """Lookahead in value context: ``in``/``notin`` are identifiers."""
        return self._as_value(self.tokens[self.index])

    def take(self) -> _Token:
        """Consume in value context."""
        return self._as_value(self.take_raw())

    def take_raw(self) -> _Token:
        """Consume in operator context (keywords stay keywords)."""
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    @staticmethod
    def _as_value(token: _Token) -> _Token:
        if token.kind in (_T_IN, _T_NOT_IN):
            return token._replace(kind=_T_IDENT)
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token = self.peek()
            if token.kind == _T_EOS:
                return requirements
            if token.kind not in (_T_IDENT, _T_NOT):
                raise _found(token, "!, identifier, or 'end of string'")
            requirements.append(self.requirement())
            if self.after_requirement():
                return requirements

    def after_requirement(self) -> bool:
        """Consume ``,`` (False) or the end (True) after a requirement."""
        token = self.take()
        if token.kind == _T_EOS:
            return True
        if token.kind != _T_COMMA:
            raise _found(token, "',' or 'end of string'")
        following = self.peek()
        if following.kind not in (_T_IDENT, _T_NOT):
            raise _found(following, "identifier after ','")
        return False

    def requirement(self) -> Requirement:
        start = self.peek().position
        try:
            key, op, values = self.requirement_parts()
            return _parsed_requirement(key, op, values, start)
        except _ParseError as err:
            raise _ParseError("unable to parse requirement: " + err.message, err.position) from None

    def requirement_parts(self) -> tuple[str, Operator, list[str]]:
        key, inferred = self.key_and_inferred_operator()
        if inferred is not None:
            return key, inferred, []
        op = self.operator()
        if op in (Operator.IN, Operator.NOT_IN):
            return key, op, self.set_values()
        return key, op, self.exact_value()

    def key_and_inferred_operator(self) -> tuple[str, Operator | None]:
        token = self.take()
        negated = token.kind == _T_NOT
        if negated:
            token = self.take()
        if token.kind != _T_IDENT:
            raise _found(token, "identifier")
        key_errs = label_key_errors(token.literal)
        if key_errs:
            raise _ParseError(_invalid("key", token.literal, key_errs), token.position)
        if negated:
            return token.literal, Operator.DOES_NOT_EXIST
        if self.peek().kind in (_T_EOS, _T_COMMA):
            return token.literal, Operator.EXISTS
        return token.literal, None

    def operator(self) -> Operator:
        token = self.take_raw()
        op = _OPERATOR_TOKENS.get(token.kind)
        if op is None:
            raise _found(token, _BINARY_OPERATORS)
        return op

    def set_values(self) -> list[str]:
        token = self.take()
        if token.kind != _T_OPEN:
            raise _ParseError(f"found '{token.literal}' expected: '('", token.position)
        following = self.peek()
        if following.kind == _T_CLOSE:  # "()" is the set {""}
            self.take()
            return [""]
        if following.kind not in (_T_IDENT, _T_COMMA):
            raise _found(following, "',', ')' or identifier")
        values = self.identifiers()
        closing = self.take()
        if closing.kind != _T_CLOSE:  # unreachable, kept as in Go
            raise _found(closing, "')'")
        return values

    def identifiers(self) -> list[str]:
        """A comma separated list of possibly empty values, up to ``)``."""
        values: list[str] = []
        while True:
            token = self.take()
            if token.kind == _T_IDENT:
                values.append(token.literal)
                following = self.peek()
                if following.kind == _T_CLOSE:
                    return values
                if following.kind != _T_COMMA:
                    raise _found(following, "',' or ')'")
            elif token.kind == _T_COMMA:
                if self.empty_entries(values):
                    return values
            else:
                raise _found(token, "',', or identifier")

    def empty_entries(self, values: list[str]) -> bool:
        """After a comma: record empty entries; True at the closing ``)``."""
        if not values:
            values.append("")  # "(,"
        following = self.peek()
        if following.kind == _T_CLOSE:
            values.append("")  # ",)"
            return True
        if following.kind == _T_COMMA:
            self.take()
            values.append("")  # ",,"
        return False

    def exact_value(self) -> list[str]:
        if self.peek().kind in (_T_EOS, _T_COMMA):
            return [""]
        token = self.take()
        if token.kind != _T_IDENT:
            raise _found(token, "identifier")
        return [token.literal]


def _found(token: _Token, expected: str) -> _ParseError:
    return _ParseError(f"found '{token.literal}', expected: {expected}", token.position)


def _parsed_requirement(
    key: str,
    op: Operator,
    values: list[str],
    position: int,
) -> Requirement:
    try:
        return Requirement(key, op, sorted(set(values)))
    except SelectorError as err:
        raise _ParseError(str(err), position) from None


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Selector:
    try:
        return Selector(_Parser(text).parse())
    except _ParseError as err:
        raise SelectorError(f"{err.message} (at position {err.position})") from None


def parse_selector(text: str) -> Selector:
    """``labels.Parse``: the string form of a selector.

    Raises :class:`SelectorError` for invalid syntax, keys or values.
    """
    if not isinstance(text, str):
        raise SelectorError(f"selector must be a string, got {_type_name(text)}")
    return _parse_cached(text)


# --------------------------------------------------------------------------
# Sets and metav1.LabelSelector
# --------------------------------------------------------------------------


def format_labels(labels: Mapping[str, str]) -> str:
    """``labels.Set.String()``: ``k=v`` pairs sorted by key, joined by ``,``."""
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def _check_string_keys(keys: Iterable[object], path: str) -> None:
    bad = sorted(repr(key) for key in keys if not isinstance(key, str))
    if bad:
        raise SelectorError(f"{path}: keys must be strings, got {bad[0]}")


def _string_value(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise SelectorError(f"{path}: must be a string, got {_type_name(value)}")
    return value


def selector_from_set(labels: Mapping[str, str]) -> Selector:
    """``ValidatedSelectorFromSet``: equality-only AND of ``labels``.

    This is what a Service ``spec.selector`` or a Pod ``nodeSelector`` means.
    An empty mapping gives :data:`EVERYTHING`; whether a *missing* selector
    means something else is for the caller to decide.
    """
    if not isinstance(labels, Mapping):
        raise SelectorError(f"label set must be a mapping, got {_type_name(labels)}")
    _check_string_keys(labels, "labels")
    return Selector(Requirement(key, Operator.EQUALS, [_string_value(labels[key], f"labels[{key}]")]) for key in sorted(labels))


def _check_fields(obj: Mapping[object, object], allowed: tuple[str, ...], path: str) -> None:
    _check_string_keys(obj, path or "selector")
    unknown = sorted(str(key) for key in obj if key not in allowed)
    if unknown:
        where = f"{path}: " if path else ""
        raise SelectorError(f"{where}unknown field {_quote(unknown[0])}")


def _get_mapping(obj: Mapping[object, object], name: str) -> Mapping[object, object] | None:
    value = obj.get(name)
    if value is None or isinstance(value, Mapping):
        return value
    raise SelectorError(f"{name}: must be an object, got {_type_name(value)}")


def _get_list(obj: Mapping[object, object], name: str, path: str) -> Sequence[object]:
    """A JSON array field; a missing or null one is empty."""
    value = obj.get(name)
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return value
    raise SelectorError(f"{path}: must be a list, got {_type_name(value)}")


def _get_string(obj: Mapping[object, object], name: str, path: str) -> str:
    """A JSON string field; a missing or null one is ``""`` as in Go."""
    value = obj.get(name)
    return "" if value is None else _string_value(value, path)


def _match_labels(raw: Mapping[object, object] | None) -> list[Requirement]:
    if raw is None:
        return []
    _check_string_keys(raw, "matchLabels")
    requirements: list[Requirement] = []
    for key in sorted(str(k) for k in raw):
        value = _string_value(raw[key], f"matchLabels[{key}]")
        _check_label(key, value)
        requirements.append(Requirement(key, Operator.EQUALS, [value]))
    return requirements


def _check_label(key: str, value: str) -> None:
    """ValidateLabels-style messages for one ``matchLabels`` entry."""
    errs: list[str] = []
    key_errs = label_key_errors(key)
    if key_errs:
        errs.append(_invalid("matchLabels", key, key_errs))
    value_errs = label_value_errors(value)
    if value_errs:
        errs.append(_invalid(f"matchLabels[{key}]", value, value_errs))
    if errs:
        raise SelectorError(errs)


_METAV1_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}
_EXPRESSION_FIELDS = ("key", "operator", "values")


def _expression(expr: object, path: str) -> Requirement:
    if not isinstance(expr, Mapping):
        raise SelectorError(f"{path}: must be an object, got {_type_name(expr)}")
    _check_fields(expr, _EXPRESSION_FIELDS, path)
    key = _get_string(expr, "key", f"{path}.key")
    operator = _get_string(expr, "operator", f"{path}.operator")
    raw_values = _get_list(expr, "values", f"{path}.values")
    values = [_string_value(v, f"{path}.values[{i}]") for i, v in enumerate(raw_values)]
    op = _METAV1_OPERATORS.get(operator)
    if op is None:
        raise SelectorError(f"{path}.operator: {_quote(operator)} is not a valid label selector operator")
    return Requirement(key, op, values, field_path=path)


def _match_expressions(raw: Sequence[object]) -> list[Requirement]:
    return [_expression(expr, f"matchExpressions[{i}]") for i, expr in enumerate(raw)]


def selector_from_label_selector(obj: object) -> Selector:
    """``metav1.LabelSelectorAsSelector`` for the JSON form of the selector.

    ``None`` gives :data:`NOTHING`; a selector with no ``matchLabels`` and no
    ``matchExpressions`` gives :data:`EVERYTHING`.  Only the operators
    ``In``, ``NotIn``, ``Exists`` and ``DoesNotExist`` are accepted.  Every
    invalid input, whatever its shape, raises :class:`SelectorError` naming
    the offending field.
    """
    if obj is None:
        return NOTHING
    if not isinstance(obj, Mapping):
        raise SelectorError(f"label selector must be an object or null, got {_type_name(obj)}")
    _check_fields(obj, ("matchLabels", "matchExpressions"), "")
    labels = _get_mapping(obj, "matchLabels")
    expressions = _get_list(obj, "matchExpressions", "matchExpressions")
    requirements = _match_labels(labels) + _match_expressions(expressions)
    if not requirements:
        return EVERYTHING
    return Selector(requirements)


def set_matches(required: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """``labels.SelectorFromSet(required).Matches(labels)`` for already-validated maps.

    The equality-only selector of a Service ``spec.selector`` or a Pod
    ``nodeSelector``: every key present with the same value. This is the hot
    path of the model, so it skips the validation :func:`selector_from_set` does.
    """
    return all(labels.get(key) == value for key, value in required.items())
