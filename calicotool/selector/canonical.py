"""Calico's canonical string form of a selector (what libcalico-go's Selector.String() prints).

Facts carried over: single spaces around operators; every `&&`/`||` chain is wrapped in parentheses, even at
top level (`(a == "x" && b == "y")`); `!` is written flush against its operand; a value is double-quoted
unless it contains a double quote, then single-quoted; set members are sorted, de-duplicated and joined with
", "; the empty selector prints as `all()`.
"""

from __future__ import annotations

from calicotool.selector.ast import All, And, Compare, Global, Has, InSet, Node, Not, Or


def quote(value: str) -> str:
    q = "'" if '"' in value else '"'
    return f"{q}{value}{q}"


def canonical(node: Node) -> str:
    out: list[str] = []
    _write(node, out)
    return "".join(out)


def _write(node: Node, out: list[str]) -> None:
    if isinstance(node, Compare):
        out.append(f"{node.key} {node.op.value} {quote(node.value)}")
    elif isinstance(node, InSet):
        op = "not in" if node.negated else "in"
        out.append(f"{node.key} {op} {{{', '.join(quote(v) for v in node.values)}}}")
    elif isinstance(node, Has):
        out.append(f"has({node.key})")
    elif isinstance(node, Not):
        out.append("!")
        _write(node.operand, out)
    elif isinstance(node, (And, Or)):
        joiner = " && " if isinstance(node, And) else " || "
        out.append("(")
        for i, operand in enumerate(node.operands):
            if i:
                out.append(joiner)
            _write(operand, out)
        out.append(")")
    elif isinstance(node, All):
        out.append("all()")
    elif isinstance(node, Global):
        out.append("global()")
    else:  # pragma: no cover - Node is a closed union
        raise TypeError(f"not a selector node: {node!r}")
