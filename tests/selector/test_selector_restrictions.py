"""label_keys(), label_restrictions() and required_equalities(): what indexing by selector relies on."""

from __future__ import annotations

import pytest

from calicotool.selector import LabelRestriction, parse

F = frozenset

# (selector, required_equalities)
REQUIRED: list[tuple[str, dict[str, frozenset[str]] | None]] = [
    ("", None),
    ("all()", None),
    ("global()", None),
    ("app == 'web'", {"app": F({"web"})}),
    ("app != 'web'", None),
    ("has(app)", None),
    ("app contains 'w'", None),
    ("app in {'web', 'db'}", {"app": F({"web", "db"})}),
    ("app in {}", {"app": F()}),
    ("app not in {'web'}", None),
    ("!app != 'web'", {"app": F({"web"})}),
    ("!app not in {'a', 'b'}", {"app": F({"a", "b"})}),
    ("!app == 'web'", None),
    ("app == 'web' && tier == 'fe'", {"app": F({"web"}), "tier": F({"fe"})}),
    ("app == 'web' && app == 'db'", {"app": F()}),
    ("app in {'web','db'} && app in {'db','api'}", {"app": F({"db"})}),
    ("app == 'web' && has(tier)", {"app": F({"web"})}),
    ("app == 'web' || app == 'db'", {"app": F({"web", "db"})}),
    ("app == 'web' || app in {'db', 'api'}", {"app": F({"web", "db", "api"})}),
    ("app == 'web' || has(app)", None),
    ("app == 'web' || tier == 'fe'", None),
    ("(app == 'web' && tier == 'fe') || (app == 'db' && env == 'p')", {"app": F({"web", "db"})}),
    ("app == 'web' && !has(app)", {"app": F()}),
    ("!(app == 'web' || app == 'db')", None),
    ("(app == 'web' || app == 'db') && env == 'prod'", {"app": F({"web", "db"}), "env": F({"prod"})}),
]


@pytest.mark.parametrize(("text", "expected"), REQUIRED)
def test_required_equalities(text: str, expected: dict[str, frozenset[str]] | None) -> None:
    assert parse(text).required_equalities() == expected


def test_restrictions_presence_and_absence() -> None:
    r = parse("has(a) && !has(b) && c != 'x'").label_restrictions()
    assert r == {"a": LabelRestriction(must_be_present=True), "b": LabelRestriction(must_be_absent=True)}
    assert parse("!has(a) || !has(a)").label_restrictions() == {"a": LabelRestriction(must_be_absent=True)}
    assert parse("has(a) || !has(a)").label_restrictions() == {}


def test_label_restrictions_returns_a_copy() -> None:
    sel = parse("has(copy_me)")
    sel.label_restrictions().clear()
    assert "copy_me" in sel.label_restrictions()


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("", set()),
        ("global()", set()),
        ("has(a) && b == 'x' || !(c in {'y'}) && d starts with 'z'", {"a", "b", "c", "d"}),
        (
            "projectcalico.org/name not in {} || e ends with '' || f contains 'q' || g != 'h'",
            {"projectcalico.org/name", "e", "f", "g"},
        ),
    ],
)
def test_label_keys(text: str, keys: set[str]) -> None:
    assert parse(text).label_keys() == keys


def test_uses_global_and_is_all() -> None:
    assert parse("has(a) && !global()").uses_global
    assert not parse("has(a)").uses_global
    assert parse("").is_all and parse("(all())").is_all
    assert not parse("!all()").is_all
