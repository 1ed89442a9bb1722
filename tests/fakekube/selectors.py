"""Label and field selectors as kube-apiserver evaluates them — written independently of calicotool's own parser
so the fake server does not share the client's bugs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Matcher = Callable[[Mapping[str, str]], bool]

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_KEY_RE = re.compile(rf"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_NAME}$")
_VAL_RE = re.compile(rf"^({_NAME})?$")


class SelectorError(ValueError):
    pass


def _terms(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _key(k: str) -> str:
    if not _KEY_RE.match(k) or len(k.split("/")[-1]) > 63:
        raise SelectorError(f"unable to parse requirement: invalid label key {k!r}")
    return k


def _val(v: str) -> str:
    if len(v) > 63 or not _VAL_RE.match(v):
        raise SelectorError(f"unable to parse requirement: invalid label value {v!r}")
    return v


def _term(term: str) -> Matcher:
    t = term.strip()
    m = re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", t)
    if m:
        key = _key(m.group(1))
        values = {_val(v.strip()) for v in m.group(3).split(",")}
        if m.group(2) == "in":
            return lambda labels: key in labels and labels[key] in values
        return lambda labels: key not in labels or labels[key] not in values
    m = re.fullmatch(r"([^=!\s]+)\s*(!=|==|=)\s*(\S*)", t)
    if m:
        key, op, value = _key(m.group(1)), m.group(2), _val(m.group(3))
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: key in labels and labels[key] == value
    m = re.fullmatch(r"(!?)\s*([^=!\s(),]+)", t)
    if m:
        key = _key(m.group(2))
        if m.group(1):
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f"unable to parse requirement: found {t!r}, expected a valid requirement")


def label_matcher(text: str | None) -> Matcher:
    if not text or not text.strip():
        return lambda labels: True
    matchers = [_term(t) for t in _terms(text)]
    return lambda labels: all(m(labels) for m in matchers)


def field_matcher(text: str | None) -> Callable[[dict[str, Any]], bool]:
    """Only what every resource supports: metadata.name and metadata.namespace with =, == and !=."""
    if not text or not text.strip():
        return lambda obj: True
    checks: list[Callable[[dict[str, Any]], bool]] = []
    for term in text.split(","):
        m = re.fullmatch(r"\s*(metadata\.name|metadata\.namespace)\s*(!=|==|=)\s*(\S*)\s*", term)
        if not m:
            raise SelectorError(f"field label not supported: {term.strip()}")
        field, op, value = m.group(1).split(".")[1], m.group(2), m.group(3)

        def check(obj: dict[str, Any], field: str = field, op: str = op, value: str = value) -> bool:
            actual = str((obj.get("metadata") or {}).get(field) or "")
            return actual != value if op == "!=" else actual == value

        checks.append(check)
    return lambda obj: all(c(obj) for c in checks)
