"""Calico selector engine: parse, canonical form, evaluation against labels. Pure: no I/O.

>>> sel = parse("app == 'web' && tier not in {'db'}")
>>> sel.canonical
'(app == "web" && tier not in {"db"})'
>>> sel.matches({"app": "web"})
True
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from calicotool.selector.ast import Node, label_keys, uses_global
from calicotool.selector.canonical import canonical as _canonical
from calicotool.selector.errors import SelectorError
from calicotool.selector.evaluate import Matcher, compile_node
from calicotool.selector.parser import parse_tree
from calicotool.selector.restrictions import LabelRestriction, restrictions

__all__ = ["LabelRestriction", "Selector", "SelectorError", "parse", "validate"]


class Selector:
    """A parsed selector. Immutable; equal when the syntax trees are equal (same canonical form)."""

    __slots__ = ("_keys", "_match", "_restrictions", "canonical", "root")

    def __init__(self, root: Node) -> None:
        self.root = root
        self.canonical: str = _canonical(root)
        self._match: Matcher = compile_node(root)
        self._keys: frozenset[str] | None = None
        self._restrictions: dict[str, LabelRestriction] | None = None

    def matches(self, labels: Mapping[str, str], *, is_global: bool = False) -> bool:
        """Does a thing with these labels match? `is_global` says it is not namespaced (for `global()`)."""
        return self._match(labels, is_global)

    def label_keys(self) -> frozenset[str]:
        """Every label key the selector refers to."""
        if self._keys is None:
            self._keys = label_keys(self.root)
        return self._keys

    @property
    def uses_global(self) -> bool:
        return uses_global(self.root)

    @property
    def is_all(self) -> bool:
        """True for the empty selector and `all()` (not for every always-true expression)."""
        return self.canonical == "all()"

    def label_restrictions(self) -> dict[str, LabelRestriction]:
        """Necessary conditions per label key (present / absent / one of values) that every match satisfies."""
        if self._restrictions is None:
            self._restrictions = restrictions(self.root)
        return dict(self._restrictions)

    def required_equalities(self) -> dict[str, frozenset[str]] | None:
        """Labels that must hold one of the given values for any match; None when no such label is derivable.

        An empty frozenset means the selector can never match. Use it to index selectors by label value.
        """
        found = {k: r.one_of for k, r in self.label_restrictions().items() if r.one_of is not None}
        return found or None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selector) and self.root == other.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __str__(self) -> str:
        return self.canonical

    def __repr__(self) -> str:
        return f"Selector({self.canonical!r})"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (parse, (self.canonical,))  # the compiled matcher is a closure: rebuild it from the text


@lru_cache(maxsize=8192)
def parse(text: str) -> Selector:
    """Parse a Calico selector; raise SelectorError (an InputError, exit 2) naming the 1-based column."""
    if not isinstance(text, str):
        raise SelectorError(str(text), 1, f"selector must be a string, not {type(text).__name__}")
    return Selector(parse_tree(text))


def validate(text: str) -> None:
    """Raise SelectorError if `text` is not a valid Calico selector."""
    parse(text)
