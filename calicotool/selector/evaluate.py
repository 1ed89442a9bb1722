"""Turn a syntax tree into a Python closure that decides a match, with Calico's semantics.

Semantics carried over from libcalico-go: `==`, `contains`, `starts with`, `ends with` and `in` need the label
present; `!=` and `not in` match when the label is absent; `!` negates exactly; `all()` matches everything.
`global()` matches only global (non-namespaced) things: the caller says which through `is_global`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from calicotool.selector.ast import All, And, Compare, CompareOp, Global, Has, InSet, Node, Not, Or

Matcher = Callable[[Mapping[str, str], bool], bool]


def compile_node(node: Node) -> Matcher:
    """Return a function (labels, is_global) -> bool equivalent to `node`."""
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, InSet):
        return _in_set(node)
    if isinstance(node, Has):
        key = node.key
        return lambda labels, g: key in labels
    if isinstance(node, Not):
        inner = compile_node(node.operand)
        return lambda labels, g: not inner(labels, g)
    if isinstance(node, And):
        return _and([compile_node(op) for op in node.operands])
    if isinstance(node, Or):
        return _or([compile_node(op) for op in node.operands])
    if isinstance(node, All):
        return lambda labels, g: True
    if isinstance(node, Global):
        return lambda labels, g: g
    raise TypeError(f"not a selector node: {node!r}")  # pragma: no cover


def _compare(node: Compare) -> Matcher:
    key, want = node.key, node.value
    op = node.op
    if op is CompareOp.EQ:
        return lambda labels, g: labels.get(key) == want
    if op is CompareOp.NE:
        return lambda labels, g: labels.get(key) != want
    if op is CompareOp.CONTAINS:

        def contains(labels: Mapping[str, str], g: bool) -> bool:
            v = labels.get(key)
            return v is not None and want in v

        return contains
    if op is CompareOp.STARTS_WITH:

        def starts_with(labels: Mapping[str, str], g: bool) -> bool:
            v = labels.get(key)
            return v is not None and v.startswith(want)

        return starts_with

    def ends_with(labels: Mapping[str, str], g: bool) -> bool:
        v = labels.get(key)
        return v is not None and v.endswith(want)

    return ends_with


def _in_set(node: InSet) -> Matcher:
    key, values = node.key, frozenset(node.values)
    if node.negated:

        def not_in(labels: Mapping[str, str], g: bool) -> bool:
            v = labels.get(key)
            return v is None or v not in values

        return not_in

    def in_(labels: Mapping[str, str], g: bool) -> bool:
        v = labels.get(key)
        return v is not None and v in values

    return in_


def _and(parts: list[Matcher]) -> Matcher:
    if len(parts) == 2:
        a, b = parts
        return lambda labels, g: a(labels, g) and b(labels, g)

    def all_of(labels: Mapping[str, str], g: bool) -> bool:
        for part in parts:
            if not part(labels, g):
                return False
        return True

    return all_of


def _or(parts: list[Matcher]) -> Matcher:
    if len(parts) == 2:
        a, b = parts
        return lambda labels, g: a(labels, g) or b(labels, g)

    def any_of(labels: Mapping[str, str], g: bool) -> bool:
        for part in parts:
            if part(labels, g):
                return True
        return False

    return any_of
