"""Sets of (protocol, destination port): what one endpoint may open on another, for every port at once.

Per protocol, a sorted tuple of disjoint, non-adjacent inclusive port ranges. Protocols without ports (ICMP, GRE...)
hold the single range (0, 0) when allowed. Pure values: parse, render, intersect, test membership.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from calicotool.errors import InputError
from calicotool.evaluate.rules import PORT_PROTOCOLS, protocol_name, protocol_number

Ranges = tuple[tuple[int, int], ...]
MAX_PORT = 65535
ALL_PORTS: Ranges = ((0, MAX_PORT),)
DEFAULT_PROTOCOLS = (6, 17)  # TCP, UDP


def merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sorted, disjoint, adjacent ranges joined."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def intersect(a: Ranges, b: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def contains(ranges: Ranges, port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)


def format_ranges(ranges: Ranges) -> str:
    if ranges == ALL_PORTS:
        return "all"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


@dataclass(frozen=True)
class PortSet:
    """Allowed destination ports per protocol number (protocols with no ranges are left out)."""

    by_protocol: tuple[tuple[int, Ranges], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[int, Ranges]) -> PortSet:
        return cls(tuple((p, r) for p, r in sorted(mapping.items()) if r))

    def ranges(self, protocol: int) -> Ranges:
        for p, r in self.by_protocol:
            if p == protocol:
                return r
        return ()

    def allows(self, protocol: int, port: int | None) -> bool:
        ranges = self.ranges(protocol)
        if protocol not in PORT_PROTOCOLS or port is None:
            return bool(ranges)
        return contains(ranges, port)

    def __bool__(self) -> bool:
        return bool(self.by_protocol)

    def __str__(self) -> str:
        parts = []
        for proto, ranges in self.by_protocol:
            name = protocol_name(proto)
            parts.append(name if proto not in PORT_PROTOCOLS else f"{name}:{format_ranges(ranges)}")
        return " ".join(parts) or "-"

    def to_dict(self) -> dict[str, str]:
        return {protocol_name(p): (format_ranges(r) if p in PORT_PROTOCOLS else "all") for p, r in self.by_protocol}


def parse_protocols(values: Iterable[str], option: str = "--protocol") -> tuple[int, ...]:
    out: list[int] = []
    for value in values:
        for part in filter(None, (x.strip() for x in value.split(","))):
            try:
                num = protocol_number(part)
            except InputError as exc:
                raise InputError(f"{option} {part!r}: {exc.message}") from None
            if num not in out:
                out.append(num)
    return tuple(out) or DEFAULT_PROTOCOLS
