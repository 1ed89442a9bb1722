"""Split a Calico selector into tokens, following libcalico-go's tokenizer rules.

Facts carried over from Calico: only space and tab are whitespace (a newline is an error); label keys are runs
of ``[A-Za-z0-9_./-]``; strings use either quote and have no escapes (so a value holds at most one quote
style); the word operators (``contains``, ``starts with``, ``ends with``, ``in``, ``not in``) are only
recognised straight after a label, may have any blanks between their words (``startswith`` is accepted) and
need no word boundary after them; ``has(``, ``all(`` and ``global(`` must have no blank before ``(``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from calicotool.selector.errors import SelectorError

WHITESPACE = " \t"
LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")


class Kind(Enum):
    LABEL = "label"
    STRING = "string"
    LBRACE = "'{'"
    RBRACE = "'}'"
    COMMA = "','"
    EQ = "'=='"
    NE = "'!='"
    IN = "'in'"
    NOT_IN = "'not in'"
    CONTAINS = "'contains'"
    STARTS_WITH = "'starts with'"
    ENDS_WITH = "'ends with'"
    NOT = "'!'"
    ALL = "'all()'"
    GLOBAL = "'global()'"
    HAS = "'has()'"
    LPAREN = "'('"
    RPAREN = "')'"
    AND = "'&&'"
    OR = "'||'"
    EOF = "end of selector"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: str  # label name, string contents, or has() label; "" otherwise
    pos: int  # 0-based offset of the token's first character

    def describe(self) -> str:
        if self.kind is Kind.LABEL:
            return f"label '{self.value}'"
        if self.kind is Kind.STRING:
            return "string"
        return self.kind.value


_SINGLE = {"(": Kind.LPAREN, ")": Kind.RPAREN, "{": Kind.LBRACE, "}": Kind.RBRACE, ",": Kind.COMMA}
_DOUBLE = {"=": (Kind.EQ, "'=='"), "&": (Kind.AND, "'&&'"), "|": (Kind.OR, "'||'")}
# Word operators allowed right after a label: (first word, second word or None, kind). Order matters.
_WORD_OPS = (
    ("contains", None, Kind.CONTAINS),
    ("starts", "with", Kind.STARTS_WITH),
    ("ends", "with", Kind.ENDS_WITH),
    ("not", "in", Kind.NOT_IN),
    ("in", None, Kind.IN),
)
_CALLS = (("has(", Kind.HAS), ("all(", Kind.ALL), ("global(", Kind.GLOBAL))


def _skip_blanks(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in WHITESPACE:
        i += 1
    return i


def _label_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in LABEL_CHARS:
        i += 1
    return i


def tokenize(text: str) -> list[Token]:
    """Return the tokens of `text`, always ending with an EOF token; raise SelectorError at the bad column."""
    tokens: list[Token] = []
    n = len(text)
    i = 0
    while True:
        i = _skip_blanks(text, i)
        if i >= n:
            tokens.append(Token(Kind.EOF, "", n))
            return tokens
        ch = text[i]
        if ch in _SINGLE:
            tokens.append(Token(_SINGLE[ch], "", i))
            i += 1
        elif ch == '"' or ch == "'":
            end = text.find(ch, i + 1)
            if end < 0:
                raise SelectorError(text, i + 1, "unterminated string")
            tokens.append(Token(Kind.STRING, text[i + 1 : end], i))
            i = end + 1
        elif ch in _DOUBLE:
            kind, spelled = _DOUBLE[ch]
            if text.startswith(ch * 2, i):
                tokens.append(Token(kind, "", i))
                i += 2
            else:
                raise SelectorError(text, i + 1, f"expected {spelled}")
        elif ch == "!":
            if text.startswith("!=", i):
                tokens.append(Token(Kind.NE, "", i))
                i += 2
            else:
                tokens.append(Token(Kind.NOT, "", i))
                i += 1
        elif tokens and tokens[-1].kind is Kind.LABEL:
            i = _word_operator(text, i, tokens)
        else:
            i = _call_or_label(text, i, tokens)


def _word_operator(text: str, i: int, tokens: list[Token]) -> int:
    for first, second, kind in _WORD_OPS:
        if not text.startswith(first, i):
            continue
        j = i + len(first)
        if second is not None:
            j = _skip_blanks(text, j)
            if not text.startswith(second, j):
                raise SelectorError(text, j + 1, f"expected '{second}' after '{first}'")
            j += len(second)
        tokens.append(Token(kind, "", i))
        return j
    raise SelectorError(text, i + 1, f"expected an operator after label '{tokens[-1].value}'")


def _call_or_label(text: str, i: int, tokens: list[Token]) -> int:
    for prefix, kind in _CALLS:
        if not text.startswith(prefix, i):
            continue
        j = _skip_blanks(text, i + len(prefix))
        value = ""
        if kind is Kind.HAS:
            end = _label_end(text, j)
            if end == j:
                raise SelectorError(text, j + 1, "expected a label name in has()")
            value = text[j:end]
            j = _skip_blanks(text, end)
        if not text.startswith(")", j):
            raise SelectorError(text, j + 1, "expected ')'")
        tokens.append(Token(kind, value, i))
        return j + 1
    end = _label_end(text, i)
    if end == i:
        raise SelectorError(text, i + 1, f"unexpected character {text[i]!r}")
    tokens.append(Token(Kind.LABEL, text[i:end], i))
    return end
