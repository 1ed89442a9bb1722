"""Parse -> canonical form, as Calico's Selector.String() prints it (expected strings written by hand)."""

from __future__ import annotations

import pytest

from calicotool.selector import parse

CANONICAL = [
    # empty selector and all()
    ("", "all()"),
    (" ", "all()"),
    ("\t \t", "all()"),
    ("all()", "all()"),
    (" all() ", "all()"),
    ("all( )", "all()"),
    (" (all() )", "all()"),
    ("((all()))", "all()"),
    ("global()", "global()"),
    ("global(\t)", "global()"),
    # comparisons and quoting
    ("a == 'b'", 'a == "b"'),
    ('a=="b"', 'a == "b"'),
    ("a\t==\t'b'", 'a == "b"'),
    ("a != 'b'", 'a != "b"'),
    ("a!='\"'", "a != '\"'"),
    ('a == "\'"', 'a == "\'"'),
    ("a == '\"'", "a == '\"'"),
    ("a == ''", 'a == ""'),
    ("a == 'with space'", 'a == "with space"'),
    ("a == '&& || ! ( )'", 'a == "&& || ! ( )"'),
    ("a == 'é'", 'a == "é"'),
    ("a contains 'x'", 'a contains "x"'),
    ("a contains '\"'", "a contains '\"'"),
    ("a starts with 'x'", 'a starts with "x"'),
    ("a startswith '\"'", "a starts with '\"'"),
    ("a starts \t with 'x'", 'a starts with "x"'),
    ("a ends with 'x'", 'a ends with "x"'),
    ('a endswith "\'"', 'a ends with "\'"'),
    # label key characters
    ("projectcalico.org/name == 'x'", 'projectcalico.org/name == "x"'),
    ("app.kubernetes.io/part-of == 'y'", 'app.kubernetes.io/part-of == "y"'),
    ("A_b-C.d/9 == 'z'", 'A_b-C.d/9 == "z"'),
    ("9 == '9'", '9 == "9"'),
    ("-x == 'y'", '-x == "y"'),
    ("has == 'x'", 'has == "x"'),
    ("all == 'x'", 'all == "x"'),
    ("in == 'x'", 'in == "x"'),
    ("contains contains 'x'", 'contains contains "x"'),
    # has()
    ("has(a)", "has(a)"),
    ("has( a )", "has(a)"),
    ("has(\ta\t)", "has(a)"),
    ("has(projectcalico.org/orchestrator)", "has(projectcalico.org/orchestrator)"),
    ("!has(a)", "!has(a)"),
    ("! has(a)", "!has(a)"),
    ("!!has(a)", "has(a)"),
    ("!!!has(a)", "!has(a)"),
    ("!! ! has(a)", "!has(a)"),
    ("!(has(a))", "!has(a)"),
    # sets: sorted, de-duplicated, ", "-joined, quote chosen per value
    ('a in {"d"}', 'a in {"d"}'),
    ('a in {"d", "a", "b"}', 'a in {"a", "b", "d"}'),
    ('a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}'),
    ("a in {'b','a'}", 'a in {"a", "b"}'),
    ('a in {"a",}', 'a in {"a"}'),
    ("a in {}", "a in {}"),
    ("a in{ }", "a in {}"),
    ("a not in {}", "a not in {}"),
    ("a notin {'x'}", 'a not in {"x"}'),
    ("a not \t in {'x'}", 'a not in {"x"}'),
    ('a in {"\'", \'"\', "c"}', 'a in {\'"\', "\'", "c"}'),
    ("a in {'B', 'a', '1'}", 'a in {"1", "B", "a"}'),
    # boolean structure: every && / || chain parenthesised, ! flush
    ("a == 'b' && c == 'd'", '(a == "b" && c == "d")'),
    ("a == 'b' || c == 'd'", '(a == "b" || c == "d")'),
    ("a == 'b'&&c == 'd'&&has(e)", '(a == "b" && c == "d" && has(e))'),
    ("a == 'b' || c == 'd' && e == 'f'", '(a == "b" || (c == "d" && e == "f"))'),
    ("a == 'b' && c == 'd' || e == 'f'", '((a == "b" && c == "d") || e == "f")'),
    ("(a == 'b' || c == 'd') && e == 'f'", '((a == "b" || c == "d") && e == "f")'),
    ("(a == 'b' && c == 'd') && e == 'f'", '((a == "b" && c == "d") && e == "f")'),
    ("!(k == 'v')", '!k == "v"'),
    ("!k == 'v' && x == 'y'", '(!k == "v" && x == "y")'),
    ("! (has( b)||! has(a ))", "!(has(b) || !has(a))"),
    ('! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")'),
    (
        "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
        '!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})',
    ),
    ("global() && has(a)", "(global() && has(a))"),
    ("!global()", "!global()"),
    ("(((a == 'b')))", 'a == "b"'),
]


@pytest.mark.parametrize(("text", "expected"), CANONICAL)
def test_canonical(text: str, expected: str) -> None:
    sel = parse(text)
    assert sel.canonical == expected
    assert str(sel) == expected
    again = parse(expected)
    assert again == sel  # canonical form re-parses to an equal selector
    assert again.canonical == expected


def test_equal_selectors_hash_alike_and_differ_from_others() -> None:
    assert parse("a=='b'") == parse('  a == "b" ')
    assert hash(parse("a=='b'")) == hash(parse('(a == "b")'))
    assert parse("a == 'b'") != parse("a != 'b'")
    assert parse("a in {'x'}") != parse("a not in {'x'}")
    assert parse("a == 'b' && c == 'd'") != parse("c == 'd' && a == 'b'")  # Calico keeps operand order


def test_parse_is_cached() -> None:
    assert parse("cache_me == 'x'") is parse("cache_me == 'x'")


def test_selector_pickles_by_canonical_text() -> None:
    import pickle

    sel = parse("a == 'b' || global()")
    copy = pickle.loads(pickle.dumps(sel))
    assert copy == sel
    assert copy.matches({}, is_global=True) and not copy.matches({}, is_global=False)
