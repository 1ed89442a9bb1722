"""Evaluation against labels with Calico's semantics (absent labels, negation, global())."""

from __future__ import annotations

import pytest

from calicotool.selector import parse

WEB = {"app": "web", "tier": "frontend", "env": "prod"}
DB = {"app": "db", "tier": "backend", "env": "prod", "pci": "true"}
NONE: dict[str, str] = {}

# (selector, labels, is_global, expected)
MATCH = [
    # empty / all()
    ("", NONE, False, True),
    ("", WEB, False, True),
    ("all()", NONE, False, True),
    ("all()", DB, True, True),
    ("!all()", WEB, False, False),
    # global(): only global (non-namespaced) things
    ("global()", NONE, True, True),
    ("global()", NONE, False, False),
    ("global()", WEB, False, False),
    ("!global()", WEB, False, True),
    ("!global()", WEB, True, False),
    ("global() && app == 'web'", WEB, True, True),
    ("global() && app == 'web'", WEB, False, False),
    ("global() || app == 'web'", WEB, False, True),
    # ==
    ("app == 'web'", WEB, False, True),
    ("app == 'web'", DB, False, False),
    ("app == 'web'", NONE, False, False),
    ("app == 'Web'", WEB, False, False),
    ("app == ''", {"app": ""}, False, True),
    ("app == ''", NONE, False, False),
    ("a == '\"'", {"a": '"'}, False, True),
    ('a == "\'"', {"a": "'"}, False, True),
    # != matches when absent
    ("app != 'web'", WEB, False, False),
    ("app != 'web'", DB, False, True),
    ("app != 'web'", NONE, False, True),
    ("app != ''", NONE, False, True),
    ("app != ''", {"app": ""}, False, False),
    ("!app != 'web'", NONE, False, False),
    ("!app != 'web'", WEB, False, True),
    # contains / starts with / ends with need the label
    ("app contains 'e'", WEB, False, True),
    ("app contains 'x'", WEB, False, False),
    ("app contains ''", WEB, False, True),
    ("app contains ''", NONE, False, False),
    ("tier starts with 'front'", WEB, False, True),
    ("tier starts with 'end'", WEB, False, False),
    ("tier starts with ''", NONE, False, False),
    ("tier ends with 'end'", WEB, False, True),
    ("tier ends with 'front'", WEB, False, False),
    ("tier ends with 'end'", NONE, False, False),
    ("!app contains 'x'", NONE, False, True),
    ("!tier starts with 'front'", WEB, False, False),
    # in / not in
    ("app in {'web', 'db'}", WEB, False, True),
    ("app in {'web', 'db'}", DB, False, True),
    ("app in {'api'}", WEB, False, False),
    ("app in {'web'}", NONE, False, False),
    ("app in {}", WEB, False, False),
    ("app in {}", NONE, False, False),
    ("app not in {'web', 'db'}", WEB, False, False),
    ("app not in {'api'}", WEB, False, True),
    ("app not in {'web'}", NONE, False, True),
    ("app not in {}", WEB, False, True),
    ("app not in {}", NONE, False, True),
    ("!app in {'web'}", NONE, False, True),
    ("!app in {'web'}", WEB, False, False),
    ("!app not in {'web'}", NONE, False, False),
    ('a in {"\'", \'"\', "c"}', {"a": '"'}, False, True),
    ('a in {"\'", \'"\', "c"}', {"a": "'"}, False, True),
    ('a not in {"\'", \'"\', "c"}', {"a": "e"}, False, True),
    # has / !has
    ("has(pci)", DB, False, True),
    ("has(pci)", WEB, False, False),
    ("has(app)", {"app": ""}, False, True),
    ("!has(pci)", WEB, False, True),
    ("!has(pci)", DB, False, False),
    ("!!has(pci)", DB, False, True),
    ("!!!has(pci)", DB, False, False),
    ("has(projectcalico.org/name)", {"projectcalico.org/name": "default"}, False, True),
    # && / || / ! / parentheses
    ("app == 'web' && env == 'prod'", WEB, False, True),
    ("app == 'web' && env == 'dev'", WEB, False, False),
    ("app == 'web' || app == 'db'", DB, False, True),
    ("app == 'api' || app == 'cache'", DB, False, False),
    ("has(a) && !has(b)", {"a": "1"}, False, True),
    ("has(a) && !has(b)", {"a": "1", "b": "2"}, False, False),
    ("!(!has(a) || has(b))", {"a": "1"}, False, True),
    ("!(has(b) || !has(a))", {"a": "1", "b": "2"}, False, False),
    ("!app == 'web' && env == 'prod'", DB, False, True),
    ("!app == 'web' && env == 'prod'", WEB, False, False),
    ("!(app == 'web' && env == 'prod')", WEB, False, False),
    ("!(app == 'web' && env == 'prod')", DB, False, True),
    ("a == 'a1' && b != 'b1'", {"a": "a1", "b": "b1"}, False, False),
    ("a != 'a1' || b != 'b1'", {"a": "a1", "b": "b1"}, False, False),
    ("a != 'a1' || b != 'b1'", {"a": "a1"}, False, True),
    ("! a == 'a1' || ! b == 'b1'", {"a": "a1", "b": "b1"}, False, False),
    # precedence: && binds tighter than ||
    ("app == 'x' && env == 'prod' || has(pci)", DB, False, True),
    ("app == 'x' && (env == 'prod' || has(pci))", DB, False, False),
    ("has(pci) || app == 'web' && env == 'dev'", WEB, False, False),
    ("(has(pci) || app == 'web') && env == 'prod'", WEB, False, True),
    ("app in {'web','db'} && tier not in {'backend'} && !has(pci)", WEB, False, True),
    ("app in {'web','db'} && tier not in {'backend'} && !has(pci)", DB, False, False),
    ("a == 'b' || c == 'd' || e == 'f' || g == 'h'", {"g": "h"}, False, True),
    ("a == 'b' || c == 'd' || e == 'f' || g == 'h'", {"g": "x"}, False, False),
    ("a == 'b' && c == 'd' && e == 'f'", {"a": "b", "c": "d", "e": "f"}, False, True),
    ("a == 'b' && c == 'd' && e == 'f'", {"a": "b", "c": "d"}, False, False),
]


@pytest.mark.parametrize(("text", "labels", "is_global", "expected"), MATCH)
def test_matches(text: str, labels: dict[str, str], is_global: bool, expected: bool) -> None:
    sel = parse(text)
    assert sel.matches(labels, is_global=is_global) is expected
    # and the canonical form means the same thing
    assert parse(sel.canonical).matches(labels, is_global=is_global) is expected


def test_matches_accepts_any_mapping() -> None:
    from types import MappingProxyType

    assert parse("app == 'web'").matches(MappingProxyType({"app": "web"}))


def test_is_global_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        parse("global()").matches({}, True)  # type: ignore[misc]
