"""Compiled Calico rules: does one rule match one flow? Mirrors libcalico-go's rule conversion for Felix.

An EntityRule's selector, serviceAccounts and namespaceSelector become one positive match; in a namespaced policy
any selector field (even only notSelector) also restricts the peer to the policy's namespace; notSelector is not
namespace-scoped. An address criterion (nets or notNets) never matches a peer whose address is unknown.
A selector matches a peer when the peer itself matches or when any NetworkSet (or HostEndpoint)
owning the peer's address matches -- Felix compiles selectors into IP sets, so membership is by address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calicotool.errors import InputError
from calicotool.evaluate.entities import NS_LABEL, SA_LABEL, Entity, IPAddr, IPNet, parse_net
from calicotool.evaluate.model import NamedPort
from calicotool.selector import Selector, SelectorError, parse

PROTOCOLS: dict[str, int] = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "sctp": 132, "udplite": 136}
_NAMES = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP", 136: "UDPLite"}
PORT_PROTOCOLS = frozenset({6, 17, 132, 136})
ICMP_PROTOCOLS = frozenset({1, 58})
ACTIONS = {"allow": "Allow", "deny": "Deny", "pass": "Pass", "log": "Log"}


def protocol_number(value: object, where: str = "") -> int:
    """Calico protocol: a name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, any case) or a number 1-255."""
    if isinstance(value, bool):
        raise InputError(f"{where}invalid protocol {value!r}")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        num = int(value)
        if 1 <= num <= 255:
            return num
        raise InputError(f"{where}protocol number {num} out of range 1-255")
    if isinstance(value, str) and value.strip().lower() in PROTOCOLS:
        return PROTOCOLS[value.strip().lower()]
    raise InputError(f"{where}unknown protocol {value!r} (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255)")


def protocol_name(num: int) -> str:
    return _NAMES.get(num, str(num))


def parse_selector(text: object, where: str) -> Selector:
    try:
        return parse(str(text))
    except SelectorError as exc:
        raise InputError(f"{where}: {exc}") from None


def rewrite_all(sel: Selector, key: str) -> Selector:
    """Calico rewrites `all()` to `has(key)` in namespace/service-account selectors (text replacement)."""
    if "all()" not in sel.canonical:
        return sel
    return parse(sel.canonical.replace("all()", f"has({key})"))


@dataclass(frozen=True)
class PortMatch:
    ranges: tuple[tuple[int, int], ...]
    names: frozenset[str]

    def matches(self, port: int | None, protocol: int, named: Sequence[NamedPort]) -> bool:
        if port is None:
            return False
        for lo, hi in self.ranges:
            if lo <= port <= hi:
                return True
        return any(np.name in self.names and np.port == port and np.protocol == protocol for np in named)


def parse_ports(values: object, where: str) -> PortMatch:
    if not isinstance(values, list):
        raise InputError(f"{where}: ports must be a list")
    ranges: list[tuple[int, int]] = []
    names: set[str] = set()
    for value in values:
        text = str(value).strip()
        if isinstance(value, int) and not isinstance(value, bool):
            lo = hi = value
        elif ":" in text:
            a, _, b = text.partition(":")
            if not (a.isdigit() and b.isdigit()):
                raise InputError(f"{where}: invalid port range {value!r}")
            lo, hi = int(a), int(b)
        elif text.isdigit():
            lo = hi = int(text)
        elif text:
            names.add(text)
            continue
        else:
            raise InputError(f"{where}: empty port")
        if not (0 <= lo <= 65535 and 0 <= hi <= 65535) or lo > hi:
            raise InputError(f"{where}: port or range {value!r} out of 0-65535 or reversed")
        ranges.append((lo, hi))
    return PortMatch(tuple(ranges), frozenset(names))


EntityPredicate = Callable[[Entity], bool]


def _positive_selector(er: Mapping[str, Any], policy_ns: str, where: str) -> EntityPredicate | None:
    sel_text, not_text, ns_text = er.get("selector") or "", er.get("notSelector") or "", er.get("namespaceSelector") or ""
    sa = er.get("serviceAccounts") or {}
    sa_names = frozenset(str(n) for n in (sa.get("names") or []))
    sa_text = sa.get("selector") or ""
    if not (sel_text or not_text or ns_text or sa_names or sa_text):
        return None
    parts: list[EntityPredicate] = []
    if ns_text:
        ns_sel = rewrite_all(parse_selector(ns_text, f"{where}.namespaceSelector"), NS_LABEL)
        parts.append(lambda e: ns_sel.matches(e.ns_labels, is_global=not e.namespace))
    elif policy_ns:
        parts.append(lambda e: e.labels.get(NS_LABEL) == policy_ns)
    if sa_text:
        sa_sel = parse_selector(sa_text, f"{where}.serviceAccounts.selector")
        parts.append(lambda e: sa_sel.matches(e.sa_labels, is_global=not e.namespace))
    if sa_names:
        parts.append(lambda e: e.labels.get(SA_LABEL) in sa_names)
    if sel_text:
        sel = parse_selector(sel_text, f"{where}.selector")
        parts.append(lambda e: sel.matches(e.labels, is_global=not e.namespace))
    if not parts:  # only a notSelector in a global policy: no positive condition at all
        return None
    if len(parts) == 1:
        return parts[0]
    return lambda e: all(p(e) for p in parts)


@dataclass(frozen=True)
class EntityMatch:
    """source: or destination: of a rule."""

    nets: tuple[IPNet, ...] | None
    not_nets: tuple[IPNet, ...] | None
    positive: EntityPredicate | None
    not_selector: Selector | None
    ports: PortMatch | None
    not_ports: PortMatch | None
    unsupported: str = ""
    # labels every peer the positive part can match must hold (one of the values): lets whole-cluster evaluation
    # test only candidate endpoints; None when no such label is known
    hint: tuple[str, frozenset[str]] | None = None
    keys: frozenset[str] = frozenset()  # every label key its selectors read (in any label space)

    def matches(self, ip: IPAddr | None, peers: Sequence[Entity], port: int | None, protocol: int,
                named: Sequence[NamedPort]) -> bool:
        if not self.matches_peer(ip, peers):
            return False
        if self.ports is not None:
            if protocol not in PORT_PROTOCOLS or not self.ports.matches(port, protocol, named):
                return False
        if self.not_ports is not None and protocol in PORT_PROTOCOLS:
            if self.not_ports.matches(port, protocol, named):
                return False
        return True

    def matches_peer(self, ip: IPAddr | None, peers: Sequence[Entity]) -> bool:
        """Everything but the ports: addresses, selectors (on the peer and the owners of its address)."""
        if self.unsupported:
            return False
        if self.nets is not None:
            if ip is None or not any(ip.version == n.version and ip in n for n in self.nets):
                return False
        if self.not_nets is not None:
            if ip is None or any(ip.version == n.version and ip in n for n in self.not_nets):
                return False
        if self.positive is not None and not any(self.positive(p) for p in peers):
            return False
        if self.not_selector is not None:
            ns = self.not_selector
            if any(ns.matches(p.labels, is_global=not p.namespace) for p in peers):
                return False
        return True


def compile_entity(er: object, policy_ns: str, where: str) -> EntityMatch | None:
    if er in (None, {}):
        return None
    if not isinstance(er, dict):
        raise InputError(f"{where}: must be a mapping")
    nets = tuple(parse_net(n, f"{where}.nets: ") for n in er["nets"]) if er.get("nets") else None
    not_nets = tuple(parse_net(n, f"{where}.notNets: ") for n in er["notNets"]) if er.get("notNets") else None
    not_sel = parse_selector(er["notSelector"], f"{where}.notSelector") if er.get("notSelector") else None
    ports = parse_ports(er["ports"], f"{where}.ports") if er.get("ports") else None
    not_ports = parse_ports(er["notPorts"], f"{where}.notPorts") if er.get("notPorts") else None
    unsupported = "services (Kubernetes Service endpoints are not modelled)" if er.get("services") else ""
    return EntityMatch(nets, not_nets, _positive_selector(er, policy_ns, where), not_sel, ports, not_ports,
                       unsupported, _hint(er, policy_ns), _keys(er, where))


def _keys(er: Mapping[str, Any], where: str) -> frozenset[str]:
    texts = [er.get("selector"), er.get("notSelector"), er.get("namespaceSelector"),
             (er.get("serviceAccounts") or {}).get("selector")]
    out: set[str] = set()
    for text in filter(None, texts):
        out |= parse_selector(text, where).label_keys()
    return frozenset(out)


def _hint(er: Mapping[str, Any], policy_ns: str) -> tuple[str, frozenset[str]] | None:
    """One label (and its allowed values) that any peer matching the positive part must carry."""
    keys: dict[str, frozenset[str]] = {}
    if er.get("selector"):
        keys.update(parse(str(er["selector"])).required_equalities() or {})
    scoped = er.get("selector") or er.get("notSelector") or er.get("serviceAccounts")
    if policy_ns and not er.get("namespaceSelector") and scoped:  # the namespace scoping of _positive_selector
        keys.setdefault(NS_LABEL, frozenset({policy_ns}))
    if not keys:
        return None
    key = min(keys, key=lambda k: (len(keys[k]), k == NS_LABEL, k))
    return key, keys[key]
