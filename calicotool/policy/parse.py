"""A merged rule-set document -> the RuleSet model, collecting every semantic problem with its location.

The JSON Schema (ruleset.schema.json) has already rejected unknown fields and wrong types; this layer checks
what a schema cannot: references, duplicates, port ranges, protocol/port combinations, CIDRs, selectors.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Any

from calicotool.errors import InputError
from calicotool.policy.located import FieldPath, LocDict, LocList, error_at, locate
from calicotool.policy.spec import (
    ANY_NAMESPACE,
    DEFAULT_DENY_ORDER,
    DEFAULT_TIER,
    ICMP_PROTOCOLS,
    PORTED_PROTOCOLS,
    Group,
    GroupKind,
    HostSpec,
    Peer,
    Policy,
    Rule,
    RuleSet,
    Tier,
)

PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PROTOCOL_NAMES = {p.lower(): p for p in (*PORTED_PROTOCOLS, *ICMP_PROTOCOLS, "UDPLite")}
KUBE_DNS = Group(name="kube-dns", kind=GroupKind.LABELS, selector="k8s-app == 'kube-dns'", namespace="kube-system",
                 description="cluster DNS (built in; define a group named kube-dns to override)")


class Problems:
    """Collects located errors instead of stopping at the first."""

    def __init__(self, root: LocDict) -> None:
        self.root = root
        self.errors: list[InputError] = []

    def add(self, path: FieldPath, message: str) -> None:
        self.errors.append(error_at(self.root, path, message))


def parse_net(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None


def parse_port(value: Any) -> tuple[int | str | None, str | None]:
    """A rule-set port -> (Calico port value, error). Accepts 80, "80", "8000:8080", "8000-8080", "http"."""
    if isinstance(value, bool):
        return None, f"port {value!r} is not a number, range or name"
    if isinstance(value, int):
        return (value, None) if 1 <= value <= 65535 else (None, f"port {value} out of range 1-65535")
    text = str(value).strip()
    if text.isdigit():
        return parse_port(int(text))
    match = re.fullmatch(r"(\d+)\s*[:-]\s*(\d+)", text)
    if match:
        lo, hi = int(match.group(1)), int(match.group(2))
        if not (1 <= lo <= 65535 and 1 <= hi <= 65535):
            return None, f"port range {text!r} out of range 1-65535"
        if lo > hi:
            return None, f"port range {text!r} is reversed (start {lo} > end {hi})"
        return (lo if lo == hi else f"{lo}:{hi}"), None
    if len(text) <= 15 and PORT_NAME.match(text) and not text.isdigit() and re.search("[a-z]", text):
        return text, None
    return None, f"port {text!r} is not a number, a range MIN:MAX or a named port"


def _selector_error(problems: Problems, path: FieldPath, text: str) -> None:
    try:
        from calicotool.selector import SelectorError, parse
    except ImportError:  # pragma: no cover - selector engine ships with calicotool
        return
    try:
        parse(text)
    except SelectorError as exc:
        loc = locate(problems.root, path)
        err = InputError(f"invalid selector {text!r}: {exc.message}", loc)
        err.column = exc.column  # type: ignore[attr-defined]
        problems.errors.append(err)


def _group(problems: Problems, name: str, raw: LocDict, path: FieldPath, default_ns: str) -> Group | None:
    kinds = [k for k in ("selector", "nets", "hosts") if k in raw]
    if len(kinds) != 1:
        problems.add(path, f"group {name!r} needs exactly one of selector, nets or hosts (has {kinds or 'none'})")
        return None
    deny = raw.get("defaultDeny", False)
    default_deny = ("ingress", "egress") if deny is True else tuple(deny) if isinstance(deny, list) else ()
    common: dict[str, Any] = {"name": name, "labels": dict(raw.get("labels") or {}), "default_deny": default_deny,
                              "description": str(raw.get("description", "")), "location": locate(problems.root, path)}
    if "selector" in raw:
        _selector_error(problems, (*path, "selector"), str(raw["selector"]))
        ns_sel = str(raw.get("namespaceSelector", ""))
        if ns_sel:
            _selector_error(problems, (*path, "namespaceSelector"), ns_sel)
            if "namespace" in raw:
                problems.add((*path, "namespaceSelector"), "use either namespace or namespaceSelector, not both")
        ns = str(raw.get("namespace", "" if ns_sel else default_ns))
        if ns and ns != ANY_NAMESPACE and not DNS1123.match(ns):
            problems.add((*path, "namespace"), f"namespace {ns!r} is not a valid DNS-1123 label (or '*')")
        if raw.get("labels"):
            problems.add((*path, "labels"), "labels only apply to nets and hosts groups (they label generated objects)")
        return Group(kind=GroupKind.LABELS, selector=str(raw["selector"]), namespace=ns, namespace_selector=ns_sel,
                     **common)
    for field in ("namespace", "namespaceSelector"):
        if field in raw and ("hosts" in raw or field == "namespaceSelector"):
            problems.add((*path, field), f"{field} does not apply to a {kinds[0]} group")
    if "nets" in raw:
        nets = _nets(problems, raw["nets"], (*path, "nets"), allow_mixed=True)
        return Group(kind=GroupKind.NETS, nets=tuple(nets), namespace=str(raw.get("namespace", "")), **common)
    hosts = []
    for i, host in enumerate(raw["hosts"]):
        hpath = (*path, "hosts", i)
        iface = str(host.get("interface", ""))
        ips = _nets(problems, host.get("expectedIPs") or [], (*hpath, "expectedIPs"), allow_mixed=True, bare=True)
        if not iface and not ips:
            problems.add(hpath, "a host needs an interface or expectedIPs (Calico requires one of them)")
        node = str(host["node"])
        if not DNS1123.match(node):
            problems.add((*hpath, "node"), f"node {node!r} is not a valid DNS-1123 name")
        suffix = f"-{iface.lower()}" if iface and iface != "*" and DNS1123.match(iface.lower()) else ""
        hosts.append(HostSpec(name=str(host.get("name") or f"{name}-{node}{suffix}"), node=node, interface=iface,
                              expected_ips=tuple(ips)))
    return Group(kind=GroupKind.HOSTS, hosts=tuple(hosts), **common)


def _nets(problems: Problems, values: Any, path: FieldPath, allow_mixed: bool = False, bare: bool = False) -> list[str]:
    out: list[str] = []
    versions: set[int] = set()
    for i, value in enumerate(values):
        net = parse_net(value)
        text = str(value)
        if net is None:
            problems.add((*path, i), f"invalid CIDR {value!r}")
            continue
        if bare and "/" in text:
            problems.add((*path, i), f"expected an IP address, got the CIDR {value!r}")
            continue
        versions.add(net.version)
        out.append(str(net.network_address) if bare else str(net))
    if len(versions) > 1 and not allow_mixed:
        problems.add(path, "rule mixes IPv4 and IPv6 nets; split it into one rule per IP version")
    return out


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _peers(problems: Problems, raw: Any, path: FieldPath, groups: dict[str, Group]) -> tuple[Peer, ...]:
    items = [raw] if isinstance(raw, str) else list(raw)
    peers: list[Peer] = []
    literal: list[str] = []
    lit_path: list[FieldPath] = []
    for i, item in enumerate(items):
        ipath = path if isinstance(raw, str) else (*path, i)
        text = str(item).strip()
        if text == "any":
            if len(items) > 1:
                problems.add(ipath, "'any' cannot be combined with other peers")
            return ()
        if "/" in text or parse_net(text) is not None:
            net = parse_net(text)
            if net is None:
                problems.add(ipath, f"invalid CIDR {text!r}")
            else:
                literal.append(str(net))
                lit_path.append(ipath)
            continue
        if text not in groups:
            problems.add(ipath, f"unknown group {text!r}{_suggest(text, sorted(groups))}")
            continue
        peers.append(Peer(group=text))
    if literal:
        if len({ipaddress.ip_network(n).version for n in literal}) > 1:
            problems.add(path, "rule mixes IPv4 and IPv6 nets; split it into one rule per IP version")
        peers.append(Peer(nets=tuple(literal)))
    return tuple(peers)


def _rule(problems: Problems, raw: LocDict, path: FieldPath, direction: str, groups: dict[str, Group]) -> list[Rule]:
    loc = locate(problems.root, path)
    peer_field, wrong_field = ("from", "to") if direction == "ingress" else ("to", "from")
    helper = str(raw.get("helper", ""))
    if wrong_field in raw and not helper:
        problems.add((*path, wrong_field), f"{direction} rules name their peer with '{peer_field}'; the policy's group "
                                           f"is the {'destination' if direction == 'ingress' else 'source'}")
    if helper == "dns":
        if direction != "egress":
            problems.add((*path, "helper"), "the dns helper only applies to egress rules")
            return []
        for field in ("protocol", "ports", "icmp"):
            if field in raw:
                problems.add((*path, field), f"the dns helper sets {field} itself")
        if "to" in raw:
            target = _peers(problems, raw["to"], (*path, "to"), groups)
        else:
            groups.setdefault("kube-dns", KUBE_DNS)
            target = (Peer(group="kube-dns"),)
        desc = str(raw.get("description", "DNS to kube-dns"))
        action = str(raw.get("action", "Allow"))
        return [Rule(action=action, peers=target, protocol=proto, ports=(53,), description=desc, helper="dns",
                     location=loc) for proto in ("UDP", "TCP")]
    peers = _peers(problems, raw[peer_field], (*path, peer_field), groups) if peer_field in raw else ()
    protocol: str | int | None = raw.get("protocol")
    if isinstance(protocol, str):
        protocol = PROTOCOL_NAMES.get(protocol.lower(), protocol)
    ports: list[int | str] = []
    for i, value in enumerate(raw.get("ports") or []):
        port, err = parse_port(value)
        if err:
            problems.add((*path, "ports", i), err)
        elif port is not None:
            ports.append(port)
    if "ports" in raw and protocol not in PORTED_PROTOCOLS and protocol not in (6, 17, 132):
        problems.add((*path, "ports"), f"ports need protocol TCP, UDP or SCTP (protocol is {protocol or 'unset'})")
    icmp = raw.get("icmp")
    if icmp is not None:
        if protocol not in ICMP_PROTOCOLS and protocol not in (1, 58):
            problems.add((*path, "icmp"), f"icmp needs protocol ICMP or ICMPv6 (protocol is {protocol or 'unset'})")
        if "code" in icmp and "type" not in icmp:
            problems.add((*path, "icmp", "code"), "ICMP code given without an ICMP type")
    except_nets = _nets(problems, raw.get("except") or [], (*path, "except"))
    if except_nets and not peers:
        problems.add((*path, "except"), f"except needs a '{peer_field}' to carve out of")
    ip_version = raw.get("ipVersion")
    versions = {ipaddress.ip_network(n).version for p in peers for n in p.nets} | {
        ipaddress.ip_network(n).version for n in except_nets}
    peers_mixed = any(len({ipaddress.ip_network(n).version for n in p.nets}) > 1 for p in peers)
    if len(versions) > 1 and not peers_mixed:
        problems.add(path, "rule mixes IPv4 and IPv6 nets; split it into one rule per IP version")
    if ip_version and versions and versions != {ip_version}:
        problems.add((*path, "ipVersion"), f"ipVersion {ip_version} does not match the rule's nets")
    family = versions | ({ip_version} if ip_version else set())
    if protocol == "ICMPv6" and 4 in family or protocol == "ICMP" and 6 in family:
        problems.add((*path, "protocol"), f"protocol {protocol} does not match the rule's IP version")
    return [Rule(action=str(raw.get("action", "Allow")), peers=peers, except_nets=tuple(except_nets),
                 protocol=protocol, ports=tuple(ports), icmp_type=(icmp or {}).get("type"),
                 icmp_code=(icmp or {}).get("code"), ip_version=ip_version, description=str(raw.get("description", "")),
                 location=loc)]


def _policy(problems: Problems, raw: LocDict, path: FieldPath, rs: RuleSet) -> Policy | None:
    name = str(raw["name"])
    if "appliesTo" not in raw:
        problems.add(path, f"policy {name!r} needs appliesTo (the group it protects)")
        return None
    target = str(raw["appliesTo"])
    group = rs.groups.get(target)
    if group is None:
        problems.add((*path, "appliesTo"), f"unknown group {target!r}{_suggest(target, sorted(rs.groups))}")
    elif group.kind == GroupKind.NETS:
        problems.add((*path, "appliesTo"), f"group {target!r} is a CIDR list; policies apply to workloads or hosts")
    tier = str(raw.get("tier", DEFAULT_TIER))
    if tier != DEFAULT_TIER and tier not in rs.tiers:
        problems.add((*path, "tier"), f"unknown tier {tier!r}{_suggest(tier, sorted(rs.tiers))}")
    policy = Policy(name=name, applies_to=target, tier=tier, order=raw.get("order"), types=tuple(raw.get("types") or ()),
                    pre_dnat=bool(raw.get("preDNAT", False)), apply_on_forward=bool(raw.get("applyOnForward", False)),
                    description=str(raw.get("description", "")), location=locate(problems.root, path))
    for direction in ("ingress", "egress"):
        rules = raw.get(direction) or LocList()
        for i, rule in enumerate(rules):
            getattr(policy, direction).extend(_rule(problems, rule, (*path, direction, i), direction, rs.groups))
    if policy.pre_dnat:
        if group is not None and group.kind != GroupKind.HOSTS:
            problems.add((*path, "preDNAT"), "preDNAT policies apply to host groups only")
        if policy.egress or "Egress" in policy.types:
            problems.add((*path, "preDNAT"), "preDNAT policies cannot have egress rules")
    if (policy.pre_dnat or policy.apply_on_forward) and group is not None and group.kind != GroupKind.HOSTS:
        problems.add((*path, "applyOnForward"), "applyOnForward applies to host groups only")
    return policy


def build_ruleset(doc: LocDict, env: str | None = None) -> tuple[RuleSet, list[InputError]]:
    """Build the model from a schema-valid merged document; return it with every problem found."""
    problems = Problems(doc)
    rs = RuleSet(name=str(doc.get("name", "ruleset")), namespace=str(doc.get("namespace", "default")), env=env,
                 default_deny_tier=str(doc.get("defaultDenyTier", "")),
                 default_deny_order=float(doc.get("defaultDenyOrder", DEFAULT_DENY_ORDER)))
    for i, raw in enumerate(doc.get("tiers") or []):
        name = str(raw["name"])
        if name in rs.tiers or name == DEFAULT_TIER and "order" in raw:
            problems.add(("tiers", i, "name"), f"duplicate tier {name!r}" if name in rs.tiers else
                         "the default tier is built in; it cannot be declared with an order")
            continue
        rs.tiers[name] = Tier(name=name, order=raw.get("order"), default_action=str(raw.get("defaultAction", "")),
                              description=str(raw.get("description", "")), location=locate(doc, ("tiers", i)))
        if name != DEFAULT_TIER and raw.get("order") is None:
            problems.add(("tiers", i), f"tier {name!r} needs an order (lower orders are evaluated first)")
    if rs.default_deny_tier and rs.default_deny_tier != DEFAULT_TIER and rs.default_deny_tier not in rs.tiers:
        problems.add(("defaultDenyTier",), f"unknown tier {rs.default_deny_tier!r}")
    groups = doc.get("groups") or LocDict()
    for name, raw in groups.items():
        group = _group(problems, name, raw, ("groups", name), rs.namespace)
        if group is not None:
            rs.groups[name] = group
    seen: dict[str, int] = {}
    for i, raw in enumerate(doc.get("policies") or []):
        name = str(raw["name"])
        if name in seen:
            first = locate(doc, ("policies", seen[name]))
            problems.add(("policies", i, "name"), f"duplicate policy {name!r} (first defined at {first.file}:{first.line})")
            continue
        seen[name] = i
        policy = _policy(problems, raw, ("policies", i), rs)
        if policy is not None:
            rs.policies.append(policy)
    return rs, problems.errors
