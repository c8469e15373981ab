"""Tests for spec.labels, organised like section 2 of shared/k8s-semantics.md.

2.1 key and value syntax, 2.2 string grammar (round trips, keywords,
whitespace, errors, NewRequirement rules, normalisation), 2.3 matching,
2.4 metav1.LabelSelector conversion, 2.5 equality-only sets, then value
semantics (equality, hashing, immutability) and Hypothesis properties.
"""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.labels import (
    EVERYTHING,
    NOTHING,
    Operator,
    Requirement,
    Selector,
    SelectorError,
    format_labels,
    is_valid_label_key,
    is_valid_label_value,
    label_key_errors,
    label_value_errors,
    parse_selector,
    selector_from_label_selector,
    selector_from_set,
)

NAME_RULE = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
PREFIX_RULE = "prefix part a lowercase RFC 1123 subdomain must consist of"
VALUE_RULE = "a valid label must be an empty string or consist of"


def canonical(text: str) -> str:
    return str(parse_selector(text))


# ---------------------------------------------------------------------------
# 2.1 Label key syntax
# ---------------------------------------------------------------------------

VALID_KEYS = [
    "a",
    "A",
    "1",
    "app",
    "MyName",
    "my.name",
    "123-abc",
    "a_b",
    "a-b.c_d",
    "UPPER_case.Name",
    "example.com/abc",
    "example.com/MyName",
    "k8s.io/app",
    "a-b.c-d/e",
    "0.1/x",
    "in",
    "notin",
    "a" * 63,
    "p/" + "a" * 63,
    "a" * 253 + "/" + "b" * 63,
    ("a" * 63 + ".") * 3 + "a" * 61 + "/" + "b" * 63,
]

INVALID_KEYS = [
    "",
    "/simple",
    "simple/",
    "/",
    "only/one/slash",
    "a/b/c",
    "Example.com/abc",
    "example_com/abc",
    "example.com./abc",
    ".example.com/abc",
    "-example.com/abc",
    "example..com/abc",
    "-a",
    "a-",
    "_a",
    "a_",
    ".a",
    "a.",
    "a b",
    "a=b",
    "a!",
    "a~b",
    "a||b",
    "é",
    "naïve",
    "a\\b",
    "a\n",
    "\na",
    "a" * 64,
    "p/" + "a" * 64,
    "a" * 254 + "/b",
]


@pytest.mark.parametrize("key", VALID_KEYS)
def test_valid_label_keys(key: str) -> None:
    assert is_valid_label_key(key)
    assert label_key_errors(key) == []


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_label_keys(key: str) -> None:
    assert not is_valid_label_key(key)
    assert label_key_errors(key)


def test_longest_key_is_253_plus_1_plus_63() -> None:
    prefix = ("a" * 63 + ".") * 3 + "a" * 61
    assert len(prefix) == 253
    assert is_valid_label_key(prefix + "/" + "b" * 63)
    assert not is_valid_label_key(prefix + "a/" + "b" * 63)
    assert not is_valid_label_key(prefix + "/" + "b" * 64)


def test_upper_case_allowed_in_name_but_not_in_prefix() -> None:
    assert is_valid_label_key("example.com/ABC")
    errs = label_key_errors("Example.com/abc")
    assert len(errs) == 1
    assert errs[0].startswith(PREFIX_RULE)
    assert "'example.com'" in errs[0]


def test_empty_prefix_message() -> None:
    assert label_key_errors("/simple") == ["prefix part must be non-empty"]


def test_empty_name_messages() -> None:
    errs = label_key_errors("")
    assert errs[0] == "name part must be non-empty"
    assert errs[1].startswith(NAME_RULE)
    assert label_key_errors("example.com/")[0] == "name part must be non-empty"


def test_two_slashes_give_one_message() -> None:
    errs = label_key_errors("only/one/slash")
    assert len(errs) == 1
    assert errs[0].startswith("a valid label key must consist of")
    assert "with an optional DNS subdomain prefix and '/'" in errs[0]


def test_name_too_long_message() -> None:
    errs = label_key_errors("a" * 64)
    assert errs == ["name part must be no more than 63 bytes"]


def test_name_length_counts_bytes() -> None:
    errs = label_key_errors("é" * 32)  # 32 characters, 64 bytes
    assert errs[0] == "name part must be no more than 63 bytes"
    assert errs[1].startswith(NAME_RULE)


def test_prefix_too_long_message() -> None:
    errs = label_key_errors("a" * 254 + "/b")
    assert errs == ["prefix part must be no more than 253 bytes"]


def test_name_rule_message_mentions_regex_and_examples() -> None:
    (err,) = label_key_errors("-a")
    assert err == (
        NAME_RULE + " (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    )


def test_non_string_key_is_reported_not_raised() -> None:
    assert not is_valid_label_key(5)  # type: ignore[arg-type]
    assert label_key_errors(None) == ["must be a string, got NoneType"]


# ---------------------------------------------------------------------------
# 2.1 Label value syntax
# ---------------------------------------------------------------------------

VALID_VALUES = [
    "",
    "a",
    "A",
    "1",
    "0",
    "MyValue",
    "my_value",
    "12345",
    "a.b_c-d",
    "in",
    "notin",
    "a" * 63,
    "a" + "-_." * 20 + "z",
]

INVALID_VALUES = [
    "a" * 64,
    "-a",
    "a-",
    "_a",
    "a_",
    ".a",
    "a.",
    "-",
    "_",
    ".",
    "é",
    "aé",
    "a\\b",
    "\\",
    "a b",
    " a",
    "a\n",
    "a\t",
    "a/b",
    "a:b",
    "a=b",
    "a,b",
    "(a)",
    "-1",
    "+1",
    "1.5e3.",
]


@pytest.mark.parametrize("value", VALID_VALUES)
def test_valid_label_values(value: str) -> None:
    assert is_valid_label_value(value)
    assert label_value_errors(value) == []


@pytest.mark.parametrize("value", INVALID_VALUES)
def test_invalid_label_values(value: str) -> None:
    assert not is_valid_label_value(value)
    assert label_value_errors(value)


def test_value_messages() -> None:
    assert label_value_errors("a" * 64) == ["must be no more than 63 bytes"]
    (err,) = label_value_errors("-a")
    assert err.startswith(VALUE_RULE)
    assert "'MyValue',  or 'my_value',  or '12345'" in err
    assert err.endswith("regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def test_value_too_long_and_bad_characters_give_both_messages() -> None:
    errs = label_value_errors("-" * 64)
    assert errs[0] == "must be no more than 63 bytes"
    assert errs[1].startswith(VALUE_RULE)


# ---------------------------------------------------------------------------
# 2.2 String grammar: round trips and normalisation
# ---------------------------------------------------------------------------

ROUND_TRIPS = [
    ("", ""),
    ("   ", ""),
    ("x=a,a=x", "a=x,x=a"),
    ("x", "x"),
    ("!x", "!x"),
    ("x=a", "x=a"),
    ("x==a", "x==a"),
    ("x!=a", "x!=a"),
    ("x=", "x="),
    ("x==", "x=="),
    ("x!=", "x!="),
    ("x= ,y", "x=,y"),
    ("x>1", "x>1"),
    ("x<1", "x<1"),
    ("x>01", "x>01"),
    ("x>9223372036854775807", "x>9223372036854775807"),
    ("x in (a)", "x in (a)"),
    ("x in (b,a)", "x in (a,b)"),
    ("x in (a,b,a)", "x in (a,b)"),
    ("x notin (b,a,b)", "x notin (a,b)"),
    ("x in ()", "x in ()"),
    ("x notin ()", "x notin ()"),
    ("x in (,a)", "x in (,a)"),
    ("x in (a,)", "x in (,a)"),
    ("x in (,)", "x in ()"),
    ("x in (a,,b)", "x in (,a,b)"),
    ("x in (a,,,b)", "x in (,a,b)"),
    ("x in (a,,,)", "x in (,a)"),
    ("x in (, a)", "x in (,a)"),
    ("notin=in", "notin=in"),
    ("in=notin", "in=notin"),
    ("a in (x,in)", "a in (in,x)"),
    ("a notin (notin,in)", "a notin (in,notin)"),
    ("in in (in)", "in in (in)"),
    ("notin notin (notin)", "notin notin (notin)"),
    ("in", "in"),
    ("!in", "!in"),
    ("!notin", "!notin"),
    ("x=in", "x=in"),
    ("x in(a)", "x in (a)"),
    ("xin(a)", None),
    ("  x  in  ( a , b )  ", "x in (a,b)"),
    ("\tx\t=\ta\r\n,\ny", "x=a,y"),
    ("x= a", "x=a"),
    ("x =a", "x=a"),
    ("example.com/app=web,Tier!=be", "Tier!=be,example.com/app=web"),
    ("b,a,!c,d=e", "a,b,!c,d=e"),
    ("x=a,x=b", "x=a,x=b"),
    ("a=b,a", "a=b,a"),
    ("a,a=b", "a,a=b"),
    ("a,!a", "a,!a"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
]


@pytest.mark.parametrize(("text", "expected"), ROUND_TRIPS)
def test_parse_string_form(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(SelectorError):
            parse_selector(text)
        return
    selector = parse_selector(text)
    assert str(selector) == expected
    assert parse_selector(expected) == selector


def test_requirements_sorted_by_key_values_sorted() -> None:
    selector = parse_selector("z in (c,a,b),a notin (y,x),m")
    assert [r.key for r in selector.requirements] == ["a", "m", "z"]
    assert selector.requirements[0] == Requirement("a", Operator.NOT_IN, ("x", "y"))
    assert selector.requirements[2].values == ("a", "b", "c")


def test_equal_keys_keep_written_order() -> None:
    # Stable sort by key: what Go's insertion sort does for small selectors.
    selector = parse_selector("c,a=b,!c,a")
    assert [str(r) for r in selector.requirements] == ["a=b", "a", "c", "!c"]
    selector = parse_selector("a,c,a=b")
    assert [str(r) for r in selector.requirements] == ["a", "a=b", "c"]
    assert parse_selector("a,a=b") != parse_selector("a=b,a")


def test_written_operator_is_preserved() -> None:
    ops = [r.operator for r in parse_selector("a=1,b==1,c!=1").requirements]
    assert ops == [Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS]
    assert parse_selector("a=1") != parse_selector("a==1")


def test_parsed_requirement_operators() -> None:
    expected = {
        "x in (a)": Operator.IN,
        "x notin (a)": Operator.NOT_IN,
        "x=a": Operator.EQUALS,
        "x==a": Operator.DOUBLE_EQUALS,
        "x!=a": Operator.NOT_EQUALS,
        "x": Operator.EXISTS,
        "!x": Operator.DOES_NOT_EXIST,
        "x>1": Operator.GREATER_THAN,
        "x<1": Operator.LESS_THAN,
    }
    for text, op in sorted(expected.items()):
        (requirement,) = parse_selector(text).requirements
        assert requirement.operator is op
        assert requirement.key == "x"


def test_operator_values_are_the_go_strings() -> None:
    assert [op.value for op in Operator] == ["in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"]
    assert isinstance(Operator.IN, str)
    assert Operator("in") is Operator.IN
    assert f"{Operator.NOT_IN}" == "notin"


def test_special_characters_and_identifier_characters() -> None:
    # ~ and || are identifier characters: they reach key validation.
    for text in ("a~b", "a||b", "x=a~b"):
        with pytest.raises(SelectorError, match="Invalid value"):
            parse_selector(text)


def test_other_whitespace_is_part_of_identifiers() -> None:
    for text in ("a\vb", "a\fb", "a\u00a0b"):
        with pytest.raises(SelectorError, match="key: Invalid value"):
            parse_selector(text)


def test_nul_ends_the_input_like_go() -> None:
    assert parse_selector("\0x=y") == EVERYTHING
    assert parse_selector("a\0") == parse_selector("a")
    assert parse_selector(" a=b \0 ,garbage(") == parse_selector("a=b")
    with pytest.raises(SelectorError):
        parse_selector("a\0b")


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(SelectorError, match="must be a string"):
        parse_selector(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# 2.2 String grammar: every listed parse error
# ---------------------------------------------------------------------------

PARSE_ERRORS = [
    ("x,,y", "found ',', expected: identifier after ','"),
    (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
    ("x,", "found '', expected: identifier after ','"),
    ("a in (xyz),", "found '', expected: identifier after ','"),
    ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
    ("x==a==b", "found '==', expected: ',' or 'end of string'"),
    ("x=a=b", "found '=', expected: ',' or 'end of string'"),
    ("x=a b", "found 'b', expected: ',' or 'end of string'"),
    ("a in (xyz abc)", "found 'abc', expected: ',' or ')'"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("!a in (b)", "found 'in', expected: ',' or 'end of string'"),
    ("!", "found '', expected: identifier"),
    ("!!a", "found '!', expected: identifier"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    ("=a", "found '=', expected: !, identifier, or 'end of string'"),
    ("(a)", "found '(', expected: !, identifier, or 'end of string'"),
    (")", "found ')', expected: !, identifier, or 'end of string'"),
    ("a b", "found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a (b)", "found '(', expected: in, notin, =, ==, !=, gt, lt"),
    ("a !b", "found '!', expected: in, notin, =, ==, !=, gt, lt"),
    ("a >= 1", "found '=', expected: identifier"),
    ("a in", "found '' expected: '('"),
    ("a in b", "found 'b' expected: '('"),
    ("a notin x,y", "found 'x' expected: '('"),
    ("a in (", "found '', expected: ',', ')' or identifier"),
    ("a in (=)", "found '=', expected: ',', ')' or identifier"),
    ("a in (b", "found '', expected: ',' or ')'"),
    ("a in (b=", "found '=', expected: ',' or ')'"),
    ("a in (b,", "found '', expected: ',', or identifier"),
    ("a in (,,)", "found ')', expected: ',', or identifier"),
    ("a in (b,,)", "found ')', expected: ',', or identifier"),
    ("a in ((b))", "found '(', expected: ',', ')' or identifier"),
    ("a=(b)", "found '(', expected: identifier"),
    ("a=!", "found '!', expected: identifier"),
]


@pytest.mark.parametrize(("text", "message"), PARSE_ERRORS)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_selector(text)
    assert message in str(info.value)
    assert re.search(r"\(at position \d+\)$", str(info.value))


def test_parse_error_position_points_at_offending_token() -> None:
    with pytest.raises(SelectorError, match=r"found 'b'.*\(at position 10\)"):
        parse_selector("a in (xyz)b notin ()")


def test_requirement_errors_are_wrapped() -> None:
    with pytest.raises(SelectorError) as info:
        parse_selector("a in (xyz abc)")
    assert str(info.value).startswith("unable to parse requirement: ")
    with pytest.raises(SelectorError) as info:
        parse_selector("x,,y")
    assert not str(info.value).startswith("unable to parse requirement")


KEY_ERRORS_IN_PARSE = [
    "Example.com/abc",
    "/simple",
    "only/one/slash",
    "-a",
    "a" * 64,
    "é",
    "a\\b",
    "!-a",
    "x,-a=b",
]


@pytest.mark.parametrize("text", KEY_ERRORS_IN_PARSE)
def test_keys_validated_while_parsing(text: str) -> None:
    with pytest.raises(SelectorError, match="key: Invalid value"):
        parse_selector(text)


VALUE_ERRORS_IN_PARSE = [
    "x=-a",
    "x==a-",
    "x!=_a",
    "x in (a,-b)",
    "x notin (é)",
    "x=a\\b",
    "x=" + "a" * 64,
    "x>-1",
    "x<+1",
]


@pytest.mark.parametrize("text", VALUE_ERRORS_IN_PARSE)
def test_values_validated_while_parsing(text: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_selector(text)
    assert "unable to parse requirement: values[0][x]: Invalid value" in str(info.value)


def test_value_error_names_the_value_and_rule() -> None:
    with pytest.raises(SelectorError) as info:
        parse_selector("x=-a")
    message = str(info.value)
    assert 'Invalid value: "-a": ' + VALUE_RULE in message


@pytest.mark.parametrize(
    "text",
    [
        "x>a",
        "x<1.5",
        "x>",
        "x<",
        "x>1e3",
        "x>0x10",
        "x>9223372036854775808",
        "x<99999999999999999999999",
        "x>1_000",
    ],
)
def test_gt_lt_need_an_int64(text: str) -> None:
    with pytest.raises(SelectorError, match="the value must be an integer"):
        parse_selector(text)


def test_gt_lt_accept_any_int64_that_is_a_label_value() -> None:
    assert str(parse_selector("x>0")) == "x>0"
    assert parse_selector("x<007").requirements[0].values == ("007",)
    assert str(parse_selector("x>9223372036854775807")) == ("x>9223372036854775807")


# ---------------------------------------------------------------------------
# 2.2 NewRequirement rules (Requirement constructor)
# ---------------------------------------------------------------------------


def test_new_requirement_in_notin_need_values() -> None:
    for op in (Operator.IN, Operator.NOT_IN):
        with pytest.raises(SelectorError, match="values set can't be empty"):
            Requirement("x", op, [])
        assert Requirement("x", op, [""]).values == ("",)


def test_new_requirement_exact_match_needs_one_value() -> None:
    for op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS):
        for values in ([], ["a", "b"]):
            with pytest.raises(SelectorError, match="one single value"):
                Requirement("x", op, values)
        assert Requirement("x", op, ["a"]).values == ("a",)


def test_new_requirement_exists_takes_no_values() -> None:
    for op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        with pytest.raises(SelectorError, match="values set must be empty"):
            Requirement("x", op, ["a"])
        assert Requirement("x", op).values == ()


def test_new_requirement_gt_lt_need_one_integer() -> None:
    for op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        with pytest.raises(SelectorError, match="exactly one value"):
            Requirement("x", op, [])
        with pytest.raises(SelectorError, match="exactly one value"):
            Requirement("x", op, ["1", "2"])
        with pytest.raises(SelectorError, match="must be an integer"):
            Requirement("x", op, ["a"])
        assert Requirement("x", op, ["12"]).values == ("12",)


def test_new_requirement_operator_strings() -> None:
    assert Requirement("x", "in", ["a"]).operator is Operator.IN
    assert Requirement("x", "!").operator is Operator.DOES_NOT_EXIST
    for bad in ("In", "Exists", "~", "", "=~"):
        with pytest.raises(SelectorError, match="Unsupported value") as info:
            Requirement("x", bad, ["a"])
        assert 'supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"' in str(info.value)


def test_new_requirement_aggregates_errors() -> None:
    with pytest.raises(SelectorError) as info:
        Requirement("-k", Operator.IN, ["ok", "-v"])
    err = info.value
    assert len(err.errors) == 2
    assert str(err).startswith('[key: Invalid value: "-k": ')
    assert 'values[1][-k]: Invalid value: "-v"' in str(err)


def test_new_requirement_field_path() -> None:
    with pytest.raises(SelectorError, match=r"^spec\.x\.key: Invalid"):
        Requirement("-k", Operator.EXISTS, field_path="spec.x")


def test_new_requirement_sorts_and_dedupes_values() -> None:
    assert Requirement("x", Operator.IN, ["b", "a", "b"]).values == ("a", "b")
    assert str(Requirement("x", Operator.IN, ["b", "", "a"])) == "x in (,a,b)"


def test_new_requirement_rejects_a_bare_string_of_values() -> None:
    with pytest.raises(TypeError):
        Requirement("x", Operator.IN, "ab")


def test_requirement_string_forms() -> None:
    forms = {
        ("x", Operator.EQUALS, ("v",)): "x=v",
        ("x", Operator.DOUBLE_EQUALS, ("v",)): "x==v",
        ("x", Operator.NOT_EQUALS, ("v",)): "x!=v",
        ("x", Operator.IN, ("b", "a")): "x in (a,b)",
        ("x", Operator.NOT_IN, ("b", "a")): "x notin (a,b)",
        ("x", Operator.EXISTS, ()): "x",
        ("x", Operator.DOES_NOT_EXIST, ()): "!x",
        ("x", Operator.GREATER_THAN, ("5",)): "x>5",
        ("x", Operator.LESS_THAN, ("5",)): "x<5",
        ("x", Operator.NOT_IN, ("",)): "x notin ()",
    }
    for (key, op, values), text in forms.items():
        assert str(Requirement(key, op, values)) == text


# ---------------------------------------------------------------------------
# 2.3 Matching
# ---------------------------------------------------------------------------

# (selector, labels, expected): every row of the table, key present/absent.
MATCH_TABLE: list[tuple[str, dict[str, str], bool]] = [
    ("k=v", {"k": "v"}, True),
    ("k=v", {"k": "w"}, False),
    ("k=v", {}, False),
    ("k=v", {"other": "v"}, False),
    ("k==v", {"k": "v"}, True),
    ("k==v", {"k": "w"}, False),
    ("k==v", {}, False),
    ("k=", {"k": ""}, True),
    ("k=", {}, False),
    ("k in (a,b)", {"k": "a"}, True),
    ("k in (a,b)", {"k": "c"}, False),
    ("k in (a,b)", {}, False),
    ("k in ()", {"k": ""}, True),
    ("k in ()", {"k": "a"}, False),
    ("k!=v", {"k": "w"}, True),
    ("k!=v", {"k": "v"}, False),
    ("k!=v", {}, True),
    ("k notin (a,b)", {"k": "c"}, True),
    ("k notin (a,b)", {"k": "a"}, False),
    ("k notin (a,b)", {}, True),
    ("k notin ()", {"k": ""}, False),
    ("k notin ()", {}, True),
    ("k", {"k": ""}, True),
    ("k", {"k": "v"}, True),
    ("k", {}, False),
    ("!k", {"k": "v"}, False),
    ("!k", {}, True),
    ("!k", {"other": "v"}, True),
    ("k>5", {"k": "6"}, True),
    ("k>5", {"k": "5"}, False),
    ("k>5", {"k": "4"}, False),
    ("k>5", {}, False),
    ("k<5", {"k": "4"}, True),
    ("k<5", {"k": "5"}, False),
    ("k<5", {"k": "6"}, False),
    ("k<5", {}, False),
    ("k<0", {"k": "-3"}, True),
    ("k>0", {"k": "+3"}, True),
    ("k>5", {"k": "0010"}, True),
    ("k<9223372036854775807", {"k": "-9223372036854775808"}, True),
]


@pytest.mark.parametrize(("text", "labels", "expected"), MATCH_TABLE)
def test_matching_table(text: str, labels: dict[str, str], expected: bool) -> None:
    selector = parse_selector(text)
    assert selector.matches(labels) is expected
    (requirement,) = selector.requirements
    assert requirement.matches(labels) is expected


NON_INTEGERS = [
    "abc",
    "1.5",
    "1e3",
    " 5",
    "5 ",
    "0x10",
    "1_000",
    "",
    "+",
    "-",
    "9223372036854775808",
    "-9223372036854775809",
    "٣",
    "²",
    "5\n",
]


@pytest.mark.parametrize("value", NON_INTEGERS)
def test_gt_lt_false_for_non_integer_label_values(value: str) -> None:
    for text in ("k<0", "k>0", "k<9223372036854775807", "k>5"):
        assert not parse_selector(text).matches({"k": value})
    # The key is present, so != and notin still see the value.
    assert parse_selector("k!=5").matches({"k": value})


def test_selector_is_and_of_requirements() -> None:
    selector = parse_selector("a=1,b in (x,y),!c,d notin (z)")
    assert selector.matches({"a": "1", "b": "x"})
    assert selector.matches({"a": "1", "b": "y", "d": "w", "e": "q"})
    assert not selector.matches({"a": "1"})
    assert not selector.matches({"a": "1", "b": "x", "c": ""})
    assert not selector.matches({"a": "1", "b": "x", "d": "z"})
    assert not selector.matches({"a": "2", "b": "x"})


LABEL_SAMPLES: list[dict[str, str]] = [
    {},
    {"a": ""},
    {"a": "b"},
    {"a": "c"},
    {"a": "b", "c": "d"},
    {"n": "1"},
    {"n": "4"},
    {"n": "9"},
    {"a": "x", "n": "4"},
]


@pytest.mark.parametrize(
    "text",
    [
        "a,!a",
        "a=b,a!=b",
        "a in (x),a notin (x)",
        "a=b,a=c",
        "n>5,n<3",
        "!a,a=b",
        "n>3,!n",
        "a in (x),!a",
    ],
)
def test_contradictory_selectors_are_valid_and_match_nothing(text: str) -> None:
    selector = parse_selector(text)
    assert not selector.is_nothing()
    assert not selector.empty()
    assert str(selector) != ""
    for labels in LABEL_SAMPLES:
        assert not selector.matches(labels)


def test_empty_selector_matches_everything() -> None:
    for selector in (parse_selector(""), parse_selector("  "), EVERYTHING, Selector()):
        assert selector.empty()
        assert selector == EVERYTHING
        assert str(selector) == ""
        for labels in LABEL_SAMPLES:
            assert selector.matches(labels)


def test_nothing_matches_nothing() -> None:
    assert NOTHING.is_nothing()
    assert not NOTHING.empty()
    assert NOTHING != EVERYTHING
    assert str(NOTHING) == ""  # as Go's labels.Nothing().String()
    assert repr(NOTHING) == "NOTHING"
    assert NOTHING.requirements == ()
    for labels in LABEL_SAMPLES:
        assert not NOTHING.matches(labels)
    assert NOTHING.add(Requirement("a", Operator.EXISTS)) is NOTHING


def test_matches_accepts_any_mapping() -> None:
    class Labels(Mapping[str, str]):
        def __init__(self, data: dict[str, str]) -> None:
            self._data = data

        def __getitem__(self, key: str) -> str:
            return self._data[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self._data)

        def __len__(self) -> int:
            return len(self._data)

    assert parse_selector("a=b,!c").matches(Labels({"a": "b"}))
    assert not parse_selector("a=b,!c").matches(Labels({"a": "b", "c": "d"}))


def test_add_and_requires_exact_match() -> None:
    selector = parse_selector("b=2").add(Requirement("a", "in", ["1"]))
    assert str(selector) == "a in (1),b=2"
    assert selector.requires_exact_match("a") == "1"
    assert selector.requires_exact_match("b") == "2"
    assert selector.requires_exact_match("c") is None
    assert parse_selector("a in (1,2)").requires_exact_match("a") is None
    assert parse_selector("a!=1").requires_exact_match("a") is None


def test_format_labels() -> None:
    assert format_labels({}) == ""
    assert format_labels({"b": "2", "a": "1", "c": ""}) == "a=1,b=2,c="


# ---------------------------------------------------------------------------
# 2.4 metav1.LabelSelector
# ---------------------------------------------------------------------------


def test_nil_label_selector_matches_nothing() -> None:
    selector = selector_from_label_selector(None)
    assert selector is NOTHING
    assert not selector.matches({})
    assert not selector.matches({"a": "b"})


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"matchLabels": {}},
        {"matchExpressions": []},
        {"matchLabels": {}, "matchExpressions": []},
        {"matchLabels": None, "matchExpressions": None},
    ],
)
def test_empty_label_selector_matches_everything(obj: Any) -> None:
    selector = selector_from_label_selector(obj)
    assert selector == EVERYTHING
    assert selector.empty()
    assert selector.matches({})
    assert selector.matches({"a": "b"})


def test_label_selector_is_and_of_labels_and_expressions() -> None:
    selector = selector_from_label_selector(
        {
            "matchLabels": {"tier": "web", "app": "x"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["a"]},
                {"key": "canary", "operator": "Exists", "values": []},
            ],
        }
    )
    assert str(selector) == ("app=x,canary,env in (dev,prod),!legacy,tier=web,zone notin (a)")
    assert selector == parse_selector("tier=web,app=x,env in (prod,dev),!legacy,zone notin (a),canary")
    good = {"app": "x", "tier": "web", "env": "dev", "canary": ""}
    assert selector.matches(good)
    assert not selector.matches({**good, "legacy": "1"})
    assert not selector.matches({**good, "zone": "a"})
    assert not selector.matches({k: v for k, v in good.items() if k != "canary"})


def test_label_selector_match_labels_use_single_equals() -> None:
    (requirement,) = selector_from_label_selector({"matchLabels": {"a": "b"}}).requirements
    assert requirement.operator is Operator.EQUALS


@pytest.mark.parametrize(
    "operator",
    [
        "Gt",
        "Lt",
        "in",
        "notin",
        "exists",
        "=",
        "==",
        "!=",
        "!",
        "Foo",
        "",
    ],
)
def test_label_selector_invalid_operators(operator: str) -> None:
    obj = {
        "matchExpressions": [
            {"key": "k", "operator": "Exists"},
            {"key": "k", "operator": operator, "values": ["1"]},
        ]
    }
    with pytest.raises(SelectorError) as info:
        selector_from_label_selector(obj)
    assert str(info.value) == (f'matchExpressions[1].operator: "{operator}" is not a valid label selector operator')


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ({"key": "k", "operator": "Exists", "values": ["a"]}, "values set must be empty for exists and does not exist"),
        ({"key": "k", "operator": "DoesNotExist", "values": [""]}, "values set must be empty for exists and does not exist"),
        ({"key": "k", "operator": "In", "values": []}, "for 'in', 'notin' operators, values set can't be empty"),
        ({"key": "k", "operator": "NotIn"}, "for 'in', 'notin' operators, values set can't be empty"),
        ({"key": "k", "operator": "In", "values": None}, "for 'in', 'notin' operators, values set can't be empty"),
        ({"key": "Example.com/k", "operator": "Exists"}, 'matchExpressions[0].key: Invalid value: "Example.com/k": prefix part'),
        ({"operator": "Exists"}, 'matchExpressions[0].key: Invalid value: "": name part must be non-empty'),
        ({"key": "k", "operator": "In", "values": ["ok", "-bad"]}, 'matchExpressions[0].values[1][k]: Invalid value: "-bad"'),
        ({"key": "k"}, '"" is not a valid label selector operator'),
    ],
)
def test_label_selector_invalid_expressions(expr: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorError) as info:
        selector_from_label_selector({"matchExpressions": [expr]})
    assert message in str(info.value)


def test_label_selector_expression_values_are_sorted_and_deduped() -> None:
    selector = selector_from_label_selector({"matchExpressions": [{"key": "k", "operator": "In", "values": ["b", "a", "b"]}]})
    assert str(selector) == "k in (a,b)"


def test_label_selector_invalid_match_labels() -> None:
    with pytest.raises(
        SelectorError,
        match=r"^matchLabels: Invalid value: "
        r"\"Bad_\": name part must",
    ):
        selector_from_label_selector({"matchLabels": {"Bad_": "x"}})
    with pytest.raises(
        SelectorError,
        match=r"^matchLabels\[k\]: Invalid "
        r"value: \"-x\": a valid label",
    ):
        selector_from_label_selector({"matchLabels": {"k": "-x"}})


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "label selector must be an object or null, got list"),
        ("a=b", "label selector must be an object or null, got str"),
        (5, "label selector must be an object or null, got int"),
        ({"matchLabels": []}, "matchLabels: must be an object, got list"),
        ({"matchLabels": "a=b"}, "matchLabels: must be an object, got str"),
        ({"matchLabels": {"a": 1}}, "matchLabels[a]: must be a string, got int"),
        ({"matchLabels": {"a": None}}, "matchLabels[a]: must be a string, got NoneType"),
        ({"matchLabels": {1: "a"}}, "matchLabels: keys must be strings, got 1"),
        ({"matchExpressions": {}}, "matchExpressions: must be a list, got dict"),
        ({"matchExpressions": [[]]}, "matchExpressions[0]: must be an object, got list"),
        ({"matchExpressions": [None]}, "matchExpressions[0]: must be an object, got NoneType"),
        ({"matchExpressions": [{"key": 1, "operator": "Exists"}]}, "matchExpressions[0].key: must be a string, got int"),
        ({"matchExpressions": [{"key": "k", "operator": ["In"]}]}, "matchExpressions[0].operator: must be a string, got list"),
        ({"matchExpressions": [{"key": "k", "operator": "In", "values": "a"}]}, "matchExpressions[0].values: must be a list, got str"),
        ({"matchExpressions": [{"key": "k", "operator": "In", "values": [1]}]}, "matchExpressions[0].values[0]: must be a string, got int"),
        (
            {"matchExpressions": [{"key": "k", "operator": "In", "values": ["a", None]}]},
            "matchExpressions[0].values[1]: must be a string, got NoneType",
        ),
        ({"matchLabel": {}}, 'unknown field "matchLabel"'),
        ({"matchExpressions": [{"key": "k", "operator": "Exists", "value": []}]}, 'matchExpressions[0]: unknown field "value"'),
    ],
)
def test_label_selector_wrong_types(obj: Any, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        selector_from_label_selector(obj)
    assert str(info.value) == message


# ---------------------------------------------------------------------------
# 2.5 Equality-only selectors (Service spec.selector, Pod nodeSelector)
# ---------------------------------------------------------------------------


def test_selector_from_set() -> None:
    selector = selector_from_set({"b": "2", "a": "1"})
    assert str(selector) == "a=1,b=2"
    assert selector == parse_selector("b=2,a=1")
    assert selector.matches({"a": "1", "b": "2", "c": "3"})
    assert not selector.matches({"a": "1"})
    assert not selector.matches({"a": "1", "b": "3"})
    assert all(r.operator is Operator.EQUALS for r in selector.requirements)


def test_selector_from_empty_set_is_everything() -> None:
    assert selector_from_set({}) == EVERYTHING
    assert selector_from_set({}).matches({"x": "y"})


def test_selector_from_set_empty_value() -> None:
    selector = selector_from_set({"a": ""})
    assert selector.matches({"a": ""})
    assert not selector.matches({})


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"Bad_": "x"}, 'key: Invalid value: "Bad_": name part must'),
        ({"a": "-x"}, 'values[0][a]: Invalid value: "-x": a valid label'),
        ({"a": 1}, "labels[a]: must be a string, got int"),
        ({2: "a"}, "labels: keys must be strings, got 2"),
    ],
)
def test_selector_from_set_validates(labels: Any, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        selector_from_set(labels)
    assert message in str(info.value)


def test_selector_from_set_rejects_non_mappings() -> None:
    with pytest.raises(SelectorError, match="must be a mapping"):
        selector_from_set([("a", "b")])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Value semantics
# ---------------------------------------------------------------------------


def test_equality_and_hash_by_value() -> None:
    a = parse_selector("x=1,y in (b,a),!z")
    b = parse_selector("!z , y in (a,b,a), x=1")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, EVERYTHING, NOTHING}) == 3
    assert a != parse_selector("x=1")
    text: object = "x=1,y in (a,b),!z"
    assert a != text


def test_selectors_are_immutable() -> None:
    selector = parse_selector("a=b")
    with pytest.raises(AttributeError):
        selector.requirements = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        selector.requirements[0].key = "c"  # type: ignore[misc]
    assert isinstance(selector.requirements, tuple)


def test_pickle_and_copy_round_trip() -> None:
    for selector in (parse_selector("a=b,n>3,!c"), EVERYTHING, NOTHING):
        for clone in (pickle.loads(pickle.dumps(selector)), copy.deepcopy(selector), copy.copy(selector)):
            assert clone == selector
            assert clone.is_nothing() == selector.is_nothing()
            assert clone.matches({"a": "b", "n": "4"}) == selector.matches({"a": "b", "n": "4"})


def test_repr() -> None:
    assert repr(parse_selector("b,a=1")) == "parse_selector('a=1,b')"
    assert repr(EVERYTHING) == "parse_selector('')"
    assert repr(Requirement("a", "in", ["x"])) == ("Requirement('a', 'in', ('x',))")


# ---------------------------------------------------------------------------
# Hypothesis properties
# ---------------------------------------------------------------------------

NAME_RE = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,5}[A-Za-z0-9])?"
PREFIX_RE = r"[a-z0-9]([-a-z0-9]{0,3}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,3}[a-z0-9])?){0,2}"

names = st.from_regex(NAME_RE, fullmatch=True)
keys = st.one_of(
    st.sampled_from(["a", "b", "in", "notin", "example.com/a", "N"]),
    names,
    st.tuples(st.from_regex(PREFIX_RE, fullmatch=True), names).map("/".join),
)
values = st.one_of(st.sampled_from(["", "in", "notin", "1", "42", "007", "x"]), names)
integers = st.one_of(st.integers(0, 100), st.integers(0, 2**63 - 1))


@st.composite
def requirements(draw: st.DrawFn, key_strategy: st.SearchStrategy[str] = keys) -> Requirement:
    key = draw(key_strategy)
    op = draw(st.sampled_from(list(Operator)))
    if op in (Operator.IN, Operator.NOT_IN):
        vals = draw(st.lists(values, min_size=1, max_size=3))
    elif op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        vals = []
    elif op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        vals = [draw(st.one_of(integers.map(str), st.sampled_from(["007"])))]
    else:
        vals = [draw(values)]
    return Requirement(key, op, vals)


selectors = st.lists(requirements(), max_size=5).map(Selector)
label_sets = st.dictionaries(
    st.sampled_from(["a", "b", "in", "notin", "example.com/a", "N"]),
    st.one_of(values, integers.map(str), st.sampled_from(["-5", "+5", "1.5", " 1", "abc"])),
    max_size=6,
)

GO_INT = re.compile(r"[+-]?[0-9]+")


def reference_match(requirement: Requirement, labels: dict[str, str]) -> bool:
    """The matching table of section 2.3, written out plainly."""
    op = requirement.operator
    if requirement.key not in labels:
        return op in (Operator.NOT_IN, Operator.NOT_EQUALS, Operator.DOES_NOT_EXIST)
    value = labels[requirement.key]
    if op in (Operator.IN, Operator.EQUALS, Operator.DOUBLE_EQUALS):
        return value in requirement.values
    if op in (Operator.NOT_IN, Operator.NOT_EQUALS):
        return value not in requirement.values
    if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        return op is Operator.EXISTS
    if not GO_INT.fullmatch(value) or not -(2**63) <= int(value) < 2**63:
        return False
    bound = int(requirement.values[0])
    return int(value) > bound if op is Operator.GREATER_THAN else (int(value) < bound)


@settings(max_examples=200, deadline=None)
@given(selectors, st.lists(label_sets, max_size=4))
def test_property_string_round_trip_and_matching(selector: Selector, samples: list[dict[str, str]]) -> None:
    reparsed = parse_selector(str(selector))
    assert reparsed == selector
    assert hash(reparsed) == hash(selector)
    assert str(reparsed) == str(selector)
    for labels in samples:
        expected = all(reference_match(r, labels) for r in selector.requirements)
        assert selector.matches(labels) is expected
        assert reparsed.matches(labels) is expected


@settings(max_examples=100, deadline=None)
@given(st.lists(requirements(), max_size=6, unique_by=lambda r: r.key), st.randoms(use_true_random=False))
def test_property_canonical_string_is_order_independent(reqs: list[Requirement], rnd: Any) -> None:
    texts = [str(r) for r in reqs]
    shuffled = list(texts)
    rnd.shuffle(shuffled)
    first = parse_selector(",".join(texts))
    second = parse_selector(" , ".join(shuffled))
    assert first == second
    by_key = sorted(reqs, key=lambda r: r.key)
    assert str(first) == str(second) == ",".join(str(r) for r in by_key)


SELECTOR_ALPHABET = st.sampled_from([*list("ab=!(),<> \t\n1-_.~/"), "in", "notin", " in ", "\x00", "é", "A"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.lists(SELECTOR_ALPHABET).map("".join)))
def test_property_parse_raises_only_selector_error(text: str) -> None:
    try:
        selector = parse_selector(text)
    except SelectorError as err:
        assert str(err)
        return
    assert parse_selector(str(selector)) == selector


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=4), children, max_size=3)),
    max_leaves=8,
)
operators = st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "in", ""])
expressions = st.fixed_dictionaries(
    {},
    optional={
        "key": st.one_of(keys, json_values),
        "operator": st.one_of(operators, json_values),
        "values": st.one_of(st.lists(st.one_of(values, json_values), max_size=3), json_values),
    },
)
label_selectors = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "matchLabels": st.one_of(st.dictionaries(st.one_of(keys, st.text(max_size=3)), st.one_of(values, json_values), max_size=3), json_values),
            "matchExpressions": st.one_of(st.lists(expressions, max_size=3), json_values),
        },
    ),
)


@settings(max_examples=300, deadline=None)
@given(label_selectors)
def test_property_label_selector_raises_only_selector_error(obj: Any) -> None:
    try:
        selector = selector_from_label_selector(obj)
    except SelectorError as err:
        assert str(err)
        return
    assert (obj is None) == selector.is_nothing()
    if not selector.is_nothing():
        assert parse_selector(str(selector)) == selector


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(keys, values, max_size=5))
def test_property_set_selector_equals_parsed_string(labels: dict[str, str]) -> None:
    selector = selector_from_set(labels)
    assert selector == parse_selector(format_labels(labels))
    assert selector.matches(labels)
    assert selector_from_label_selector({"matchLabels": labels}) == selector
    for key in sorted(labels):
        assert not selector.matches({k: v for k, v in labels.items() if k != key})


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**63 - 1), st.integers(-(2**64), 2**64))
def test_property_gt_lt_compare_as_int64(bound: int, value: int) -> None:
    labels = {"n": str(value)}
    in_range = -(2**63) <= value < 2**63
    assert parse_selector(f"n>{bound}").matches(labels) is (in_range and value > bound)
    assert parse_selector(f"n<{bound}").matches(labels) is (in_range and value < bound)
