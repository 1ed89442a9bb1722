"""Does one rule match every packet another rule matches? The core of lint's shadowed/redundant check.

Conservative: `covers(a, b)` returns True only when it can prove that every packet `b` matches, `a` matches
too (so a finding is never a false alarm; some real shadowing may go unreported). Pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from calicotool.policy.spec import Group, GroupKind, Peer, Rule

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
PortSpan = tuple[int, int] | str  # numeric range, or a named port


def port_spans(ports: Iterable[int | str]) -> list[PortSpan]:
    out: list[PortSpan] = []
    for port in ports:
        if isinstance(port, int):
            out.append((port, port))
        elif ":" in str(port):
            lo, hi = str(port).split(":")
            out.append((int(lo), int(hi)))
        else:
            out.append(str(port))
    return out


def span_within(inner: PortSpan, outer: Iterable[PortSpan]) -> bool:
    for span in outer:
        if isinstance(inner, str) or isinstance(span, str):
            if inner == span:
                return True
        elif span[0] <= inner[0] and inner[1] <= span[1]:
            return True
    return False


def ports_intersect(ports: Iterable[int | str], lo: int, hi: int) -> list[PortSpan]:
    """The numeric spans of `ports` that overlap [lo, hi]."""
    return [s for s in port_spans(ports) if not isinstance(s, str) and s[0] <= hi and lo <= s[1]]


def _nets_of(peer: Peer, groups: dict[str, Group]) -> list[Net] | None:
    """The CIDRs a peer stands for, or None when it is a label/host group (not an address list)."""
    if peer.nets:
        return [ipaddress.ip_network(n) for n in peer.nets]
    group = groups.get(peer.group)
    if group is not None and group.kind == GroupKind.NETS:
        return [ipaddress.ip_network(n) for n in group.nets]
    return None


def _peer_covers(outer: Peer, inner: Peer, groups: dict[str, Group]) -> bool:
    if outer.is_any:
        return True
    if inner.is_any:
        return False
    if outer.group and outer.group == inner.group:
        return True
    outer_nets, inner_nets = _nets_of(outer, groups), _nets_of(inner, groups)
    if outer_nets is None or inner_nets is None:
        return False
    return all(any(n.version == o.version and n.subnet_of(o) for o in outer_nets) for n in inner_nets)  # type: ignore[arg-type]


def peers_cover(outer: Rule, inner: Rule, groups: dict[str, Group]) -> bool:
    if outer.except_nets and outer.except_nets != inner.except_nets:
        return False
    if not outer.peers:
        return True
    if not inner.peers:
        return False
    return all(any(_peer_covers(o, i, groups) for o in outer.peers) for i in inner.peers)


def _norm_protocol(value: str | int | None) -> str | None:
    numbers = {6: "TCP", 17: "UDP", 132: "SCTP", 1: "ICMP", 58: "ICMPV6"}
    if value is None:
        return None
    return numbers.get(value, str(value)) if isinstance(value, int) else value.upper()


def covers(outer: Rule, inner: Rule, groups: dict[str, Group]) -> bool:
    """True if every packet `inner` matches is also matched by `outer` (same direction, same policy group)."""
    p_out, p_in = _norm_protocol(outer.protocol), _norm_protocol(inner.protocol)
    if p_out is not None and p_out != p_in:
        return False
    if outer.ip_version is not None and outer.ip_version != inner.ip_version:
        return False
    if outer.ports:
        if not inner.ports:
            return False
        spans = port_spans(outer.ports)
        if not all(span_within(s, spans) for s in port_spans(inner.ports)):
            return False
    if outer.icmp_type is not None:
        if inner.icmp_type != outer.icmp_type:
            return False
        if outer.icmp_code is not None and inner.icmp_code != outer.icmp_code:
            return False
    return peers_cover(outer, inner, groups)


def is_unconditional(rule: Rule) -> bool:
    """A rule that matches every packet (a catch-all: default deny, final Pass)."""
    return not (rule.peers or rule.protocol is not None or rule.ports or rule.icmp_type is not None
                or rule.ip_version or rule.except_nets)


def is_anywhere(peer_rule: Rule, groups: dict[str, Group]) -> bool:
    """The rule's peer is the whole internet: no peer, or a /0 CIDR (literal or in a nets group)."""
    if not peer_rule.peers:
        return True
    for peer in peer_rule.peers:
        nets = _nets_of(peer, groups)
        if nets and any(n.prefixlen == 0 for n in nets):
            return True
    return False
