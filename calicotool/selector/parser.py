"""Recursive-descent parser for Calico selectors, with Calico's precedence and tree shape.

Grammar (lowest precedence first)::

    selector  := <empty> | or
    or        := and ("||" and)*
    and       := operation ("&&" operation)*
    operation := "!"* ( has(k) | all() | global() | "(" or ")"
                      | k ("==" | "!=" | contains | starts with | ends with) STRING
                      | k ("in" | "not in") "{" [STRING ("," STRING)* [","]] "}" )

A leading `!` binds to one operation only: `!a == "x" && b == "y"` is `(!(a == "x")) && b == "y"`.
"""

from __future__ import annotations

from calicotool.selector.ast import All, And, Compare, CompareOp, Global, Has, InSet, Node, Not, Or
from calicotool.selector.errors import SelectorError
from calicotool.selector.tokenizer import Kind, Token, tokenize

# Parentheses nest the recursive descent (and every later tree walk); refuse absurd depths with a located error
# rather than a RecursionError. Real selectors nest a handful of levels.
MAX_NESTING = 100

_COMPARE_OPS = {
    Kind.EQ: CompareOp.EQ,
    Kind.NE: CompareOp.NE,
    Kind.CONTAINS: CompareOp.CONTAINS,
    Kind.STARTS_WITH: CompareOp.STARTS_WITH,
    Kind.ENDS_WITH: CompareOp.ENDS_WITH,
}


def parse_tree(text: str) -> Node:
    """Parse `text` into a syntax tree; the empty (or all-blank) selector is All()."""
    return _Parser(text, tokenize(text)).parse()


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind is not Kind.EOF:
            self.i += 1
        return tok

    def fail(self, tok: Token, reason: str) -> SelectorError:
        return SelectorError(self.text, tok.pos + 1, reason)

    def parse(self) -> Node:
        if self.peek().kind is Kind.EOF:
            return All()
        node = self.or_expression()
        tok = self.peek()
        if tok.kind is not Kind.EOF:
            if tok.kind is Kind.RPAREN:
                raise self.fail(tok, "unbalanced ')'")
            raise self.fail(tok, f"unexpected {tok.describe()}, expected '&&', '||' or end of selector")
        return node

    def or_expression(self) -> Node:
        operands = [self.and_expression()]
        while self.peek().kind is Kind.OR:
            self.take()
            operands.append(self.and_expression())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expression(self) -> Node:
        operands = [self.operation()]
        while self.peek().kind is Kind.AND:
            self.take()
            operands.append(self.operation())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def operation(self) -> Node:
        negated = False
        while self.peek().kind is Kind.NOT:
            self.take()
            negated = not negated
        node = self.positive_operation()
        return Not(node) if negated else node

    def positive_operation(self) -> Node:
        tok = self.take()
        kind = tok.kind
        if kind is Kind.HAS:
            return Has(tok.value)
        if kind is Kind.ALL:
            return All()
        if kind is Kind.GLOBAL:
            return Global()
        if kind is Kind.LPAREN:
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.fail(tok, f"parentheses nested more than {MAX_NESTING} deep")
            node = self.or_expression()
            self.depth -= 1
            close = self.peek()
            if close.kind is not Kind.RPAREN:
                raise self.fail(close, "expected ')'")
            self.take()
            return node
        if kind is Kind.LABEL:
            return self.label_operation(tok)
        if kind is Kind.EOF:
            raise self.fail(tok, "unexpected end of selector, expected an expression")
        raise self.fail(tok, f"unexpected {tok.describe()}, expected a label, has(), all(), global(), '!' or '('")

    def label_operation(self, label: Token) -> Node:
        op = self.take()
        if op.kind in _COMPARE_OPS:
            value = self.take()
            if value.kind is not Kind.STRING:
                raise self.fail(value, f"expected a quoted string after {op.kind.value}")
            return Compare(label.value, _COMPARE_OPS[op.kind], value.value)
        if op.kind is Kind.IN or op.kind is Kind.NOT_IN:
            return InSet.of(label.value, self.set_literal(op), negated=op.kind is Kind.NOT_IN)
        raise self.fail(op, f"expected an operator after label '{label.value}'")

    def set_literal(self, op: Token) -> list[str]:
        brace = self.take()
        if brace.kind is not Kind.LBRACE:
            raise self.fail(brace, f"expected '{{' after {op.kind.value}")
        values: list[str] = []
        after_value = False
        # Calico accepts a trailing comma ({"a",}) but not a leading or doubled one.
        while self.peek().kind is Kind.STRING:
            values.append(self.take().value)
            after_value = self.peek().kind is not Kind.COMMA
            if after_value:
                break
            self.take()
        close = self.peek()
        if close.kind is not Kind.RBRACE:
            raise self.fail(close, "expected ',' or '}'" if after_value else "expected a quoted string or '}'")
        self.take()
        return values
