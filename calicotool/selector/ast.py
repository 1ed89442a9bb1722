"""Selector syntax tree: immutable, hashable values (equal trees mean equal selectors, same canonical form).

The shape mirrors Calico's parser output: `&&`/`||` chains are flat n-ary nodes, a run of leading `!` collapses
to one Not (or none), a parenthesised single expression leaves no trace, and set literals are sorted and
de-duplicated.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CompareOp(Enum):
    """Operators that compare one label's value with a string; the value is the spelling in canonical form."""

    EQ = "=="
    NE = "!="
    CONTAINS = "contains"
    STARTS_WITH = "starts with"
    ENDS_WITH = "ends with"


@dataclass(frozen=True, slots=True)
class All:
    """`all()` (and the empty selector): matches everything."""


@dataclass(frozen=True, slots=True)
class Global:
    """`global()`: matches only global (non-namespaced) things."""


@dataclass(frozen=True, slots=True)
class Has:
    key: str


@dataclass(frozen=True, slots=True)
class Compare:
    key: str
    op: CompareOp
    value: str


@dataclass(frozen=True, slots=True)
class InSet:
    """`key in {...}` or, negated, `key not in {...}`; `values` is sorted and de-duplicated."""

    key: str
    values: tuple[str, ...]
    negated: bool = False

    @staticmethod
    def of(key: str, values: list[str] | tuple[str, ...], negated: bool = False) -> InSet:
        return InSet(key, tuple(sorted(set(values))), negated)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]  # at least two


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]  # at least two


Node = All | Global | Has | Compare | InSet | Not | And | Or


def label_keys(node: Node) -> frozenset[str]:
    """Every label key the expression looks at."""
    keys: set[str] = set()
    stack: list[Node] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (Has, Compare, InSet)):
            keys.add(n.key)
        elif isinstance(n, Not):
            stack.append(n.operand)
        elif isinstance(n, (And, Or)):
            stack.extend(n.operands)
    return frozenset(keys)


def uses_global(node: Node) -> bool:
    """True if `global()` appears anywhere in the expression."""
    if isinstance(node, Global):
        return True
    if isinstance(node, Not):
        return uses_global(node.operand)
    if isinstance(node, (And, Or)):
        return any(uses_global(op) for op in node.operands)
    return False
