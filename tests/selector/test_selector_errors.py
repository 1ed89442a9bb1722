"""Invalid selectors: SelectorError (an InputError) naming the 1-based column and the reason."""

from __future__ import annotations

import pytest

from calicotool.errors import InputError
from calicotool.selector import SelectorError, parse, validate

# (selector, column, reason fragment)
ERRORS = [
    # Calico's own bad-selector list
    ("b == b", 6, "expected a quoted string"),
    ("b contains b", 12, "expected a quoted string"),
    ("b starts with b", 15, "expected a quoted string"),
    ("b ends with b", 13, "expected a quoted string"),
    ("'b1' == b", 1, "unexpected string"),
    ("b", 2, "expected an operator after label 'b'"),
    ("a b", 3, "expected an operator after label 'a'"),
    ("!", 2, "unexpected end of selector"),
    ('foo == "bar" &', 14, "expected '&&'"),
    ('foo == "bar" |', 14, "expected '||'"),
    ("foo != ||", 8, "expected a quoted string"),
    ('foo in {"", ||', 13, "expected a quoted string or '}'"),
    ('foo in ""', 8, "expected '{'"),
    ('"FOO', 1, "unterminated string"),
    ("\"FOO'", 1, "unterminated string"),
    ("'FOO", 1, "unterminated string"),
    ("(", 2, "unexpected end of selector"),
    ('(a == "foo"', 12, "expected ')'"),
    (")", 1, "unexpected ')'"),
    ("()", 2, "unexpected ')'"),
    ("%", 1, "unexpected character '%'"),
    ('a == "b" && %', 13, "unexpected character '%'"),
    ('a == "b" || %', 13, "unexpected character '%'"),
    ("a ", 3, "expected an operator after label 'a'"),
    ("has(foo) &&", 12, "unexpected end of selector"),
    # whitespace rules: only space and tab
    ("a == 'b'\n", 9, "unexpected character '\\n'"),
    ("a\n== 'b'", 2, "expected an operator after label 'a'"),
    ("a ==\r'b'", 5, "unexpected character '\\r'"),
    ("has (a)", 5, "expected an operator after label 'has'"),
    ("all ()", 5, "expected an operator after label 'all'"),
    ("global ()", 8, "expected an operator after label 'global'"),
    # key characters
    ("é == 'x'", 1, "unexpected character 'é'"),
    ("a:b == 'x'", 2, "expected an operator after label 'a'"),
    ("a*b == 'x'", 2, "expected an operator after label 'a'"),
    # calls
    ("has()", 5, "expected a label name in has()"),
    ("has( )", 6, "expected a label name in has()"),
    ("has(a", 6, "expected ')'"),
    ("has(a b)", 7, "expected ')'"),
    ("has('a')", 5, "expected a label name in has()"),
    ("all(x)", 5, "expected ')'"),
    ("global(", 8, "expected ')'"),
    # operators
    ("a = 'b'", 3, "expected '=='"),
    ("a === 'b'", 5, "expected '=='"),
    ("a & b", 3, "expected '&&'"),
    ("a starts 'x'", 10, "expected 'with' after 'starts'"),
    ("a ends wit 'x'", 8, "expected 'with' after 'ends'"),
    ("a not 'x'", 7, "expected 'in' after 'not'"),
    ("a containsx'y'", 11, "expected a quoted string after 'contains'"),
    ("a ! = 'b'", 5, "expected '=='"),  # the whole text is tokenized first, as in Calico
    ("a == 'b' && has(c) b", 20, "unexpected label 'b'"),
    ("a == 'b' c == 'd'", 10, "unexpected label 'c'"),
    ("== 'b'", 1, "unexpected '=='"),
    ("!= 'b'", 1, "unexpected '!='"),
    ("a == 'b' && || c == 'd'", 13, "unexpected '||'"),
    ("a == 'b' &&& c == 'd'", 12, "expected '&&'"),
    # sets
    ("a in {,}", 7, "expected a quoted string or '}'"),
    ("a in {'x',,}", 11, "expected a quoted string or '}'"),
    ("a in {'x' 'y'}", 11, "expected ',' or '}'"),
    ("a in {'x'", 10, "expected ',' or '}'"),
    ("a in 'x'", 6, "expected '{' after 'in'"),
    ("a not in 'x'", 10, "expected '{' after 'not in'"),
    ("a in {x}", 7, "expected a quoted string or '}'"),
    # parentheses
    ("(a == 'b'))", 11, "unbalanced ')'"),
    ("((a == 'b')", 12, "expected ')'"),
    ("(a == 'b' && (c == 'd')", 24, "expected ')'"),
    ("a == 'b' (c == 'd')", 10, "unexpected '('"),
    # strings
    ("a == 'b\"", 6, "unterminated string"),
    ("a in {'x', \"y}", 12, "unterminated string"),
]


@pytest.mark.parametrize(("text", "column", "reason"), ERRORS)
def test_invalid_selector(text: str, column: int, reason: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, InputError)
    assert err.column == column
    assert reason in err.reason
    assert str(err) == f"invalid selector at column {column}: {err.reason}"
    assert err.text == text
    with pytest.raises(SelectorError):
        validate(text)


def test_error_message_matches_documented_shape() -> None:
    with pytest.raises(SelectorError, match=r"^invalid selector at column 7: expected '\)'$"):
        parse("(a==''")


def test_validate_accepts_valid() -> None:
    validate("has(a) && b in {'c'}")  # does not raise


def test_non_string_is_an_input_error() -> None:
    with pytest.raises(SelectorError):
        parse(42)  # type: ignore[arg-type]
