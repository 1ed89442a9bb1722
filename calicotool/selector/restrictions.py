"""What a selector demands of individual labels, for indexing (after libcalico-go's LabelRestrictions).

A restriction is a necessary condition, never a sufficient one: any label set the selector matches satisfies
every restriction, so an index keyed on them may return extra candidates but never misses a match.
"""

from __future__ import annotations

from dataclasses import dataclass

from calicotool.selector.ast import And, Compare, CompareOp, Has, InSet, Node, Not, Or


@dataclass(frozen=True)
class LabelRestriction:
    must_be_present: bool = False
    must_be_absent: bool = False
    # The label must hold one of these values; None = no known limit; empty = the selector can never match.
    one_of: frozenset[str] | None = None


Restrictions = dict[str, LabelRestriction]


def restrictions(node: Node) -> Restrictions:
    if isinstance(node, Compare):
        if node.op is CompareOp.EQ:
            return {node.key: LabelRestriction(must_be_present=True, one_of=frozenset({node.value}))}
        if node.op is CompareOp.NE:
            return {}
        return {node.key: LabelRestriction(must_be_present=True)}
    if isinstance(node, InSet):
        if node.negated:
            return {}
        return {node.key: LabelRestriction(must_be_present=True, one_of=frozenset(node.values))}
    if isinstance(node, Has):
        return {node.key: LabelRestriction(must_be_present=True)}
    if isinstance(node, Not):
        return _negated(node.operand)
    if isinstance(node, And):
        return _conjunction([restrictions(op) for op in node.operands])
    if isinstance(node, Or):
        return _disjunction([restrictions(op) for op in node.operands])
    return {}  # all(), global()


def _negated(operand: Node) -> Restrictions:
    # Only a few negations say something definite: !has(k) forbids k; !(k != v) and !(k not in S) are == / in.
    if isinstance(operand, Has):
        return {operand.key: LabelRestriction(must_be_absent=True)}
    if isinstance(operand, Compare) and operand.op is CompareOp.NE:
        return {operand.key: LabelRestriction(must_be_present=True, one_of=frozenset({operand.value}))}
    if isinstance(operand, InSet) and operand.negated:
        return {operand.key: LabelRestriction(must_be_present=True, one_of=frozenset(operand.values))}
    return {}


def _conjunction(parts: list[Restrictions]) -> Restrictions:
    out: Restrictions = {}
    for part in parts:
        for key, r in part.items():
            base = out.get(key, LabelRestriction())
            one_of = base.one_of
            if one_of is None:
                one_of = r.one_of
            elif r.one_of is not None:
                one_of = one_of & r.one_of
            out[key] = LabelRestriction(
                must_be_present=base.must_be_present or r.must_be_present,
                must_be_absent=base.must_be_absent or r.must_be_absent,
                one_of=one_of,
            )
    for key, r in out.items():
        if r.must_be_present and r.must_be_absent:  # contradiction: nothing matches
            out[key] = LabelRestriction(must_be_present=True, must_be_absent=True, one_of=frozenset())
    return out


def _disjunction(parts: list[Restrictions]) -> Restrictions:
    out = dict(parts[0])
    for part in parts[1:]:
        for key in list(out):
            r, other = out[key], part.get(key, LabelRestriction())
            present = r.must_be_present and other.must_be_present
            absent = r.must_be_absent and other.must_be_absent
            one_of: frozenset[str] | None = None
            if present and r.one_of is not None and other.one_of is not None:
                one_of = r.one_of | other.one_of
            if present or absent:
                out[key] = LabelRestriction(must_be_present=present, must_be_absent=absent, one_of=one_of)
            else:
                del out[key]
    return out
