"""Kubernetes label-selector syntax (`-l` as kubectl takes it), parsed and evaluated without I/O.

Backends that cannot filter server-side (directory, etcd) filter with this; the Kubernetes backend passes the
same string to the API server, so both agree on `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from calicotool.errors import InputError, Location

_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" match when the label is absent, as in Kubernetes.
        return not present or labels[self.key] not in self.values


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]
    text: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


def _split_top(text: str) -> list[tuple[int, str]]:
    parts: list[tuple[int, str]] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append((start, text[start:i]))
            start = i + 1
    parts.append((start, text[start:]))
    return parts


_SET = re.compile(r"^\s*(\S+?)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ = re.compile(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^=!\s(),]+)\s*$")


def _check(key: str, values: list[str], col: int, text: str) -> None:
    if not _KEY.match(key):
        raise InputError(f"invalid label key {key!r} in selector {text!r}", Location(column=col + 1))
    for v in values:
        if len(v) > 63 or not _VALUE.match(v):
            raise InputError(f"invalid label value {v!r} in selector {text!r}", Location(column=col + 1))


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse kubectl's `-l` syntax. Raises InputError with the column of the offending term."""
    if text is None or not text.strip():
        return LabelSelector((), "")
    reqs: list[Requirement] = []
    for col, term in _split_top(text):
        if not term.strip():
            raise InputError(f"empty term in label selector {text!r}", Location(column=col + 1))
        if m := _SET.match(term):
            key, op, raw = m.group(1), m.group(2), m.group(3)
            values = [v.strip() for v in raw.split(",")]
            if any(v == "" for v in values) and raw.strip() != "":
                raise InputError(f"empty value in set of label selector {text!r}", Location(column=col + 1))
            values = [v for v in values if v]
            _check(key, values, col, text)
            reqs.append(Requirement(key, op, frozenset(values)))
        elif m := _EQ.match(term):
            key, op, value = m.group(1), m.group(2), m.group(3)
            _check(key, [value], col, text)
            reqs.append(Requirement(key, "!=" if op == "!=" else "=", frozenset([value])))
        elif m := _EXISTS.match(term):
            neg, key = m.group(1), m.group(2)
            _check(key, [], col, text)
            reqs.append(Requirement(key, "!exists" if neg else "exists"))
        else:
            raise InputError(f"cannot parse label selector term {term.strip()!r}", Location(column=col + 1))
    return LabelSelector(tuple(reqs), text)
