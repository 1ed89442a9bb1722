"""Checks Calico's CRD schemas do not make: names, labels, selectors, CIDRs, ports and rule field combinations.

Felix ignores (fails open on) objects it cannot parse, so these catch what the API server would have let
through. Pure: each check yields (field path, message)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from calicotool.model.kinds import KindInfo

Problem = tuple[tuple[str | int, ...], str]

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
PORTED_PROTOCOLS = {"TCP", "UDP", "SCTP", "UDPLITE", "6", "17", "132", "136"}
ICMP_PROTOCOLS = {"ICMP", "ICMPV6", "1", "58"}
SELECTOR_FIELDS = {
    "selector",
    "namespaceSelector",
    "serviceAccountSelector",
    "nodeSelector",
    "peerSelector",
    "localWorkloadSelector",
}
# Kinds whose names Calico lets carry upper case (IPAM handles, block names derived from CIDRs, etc.)
LOOSE_NAMES = {"IPAMHandle", "IPAMBlock", "BlockAffinity", "KubernetesNode"}


def check_name(info: KindInfo, meta: dict[str, Any]) -> Iterator[Problem]:
    name = meta.get("name")
    if name is not None and name != "" and not isinstance(name, str):
        hint = " (YAML reads unquoted on/off/yes/no/true/false as booleans: quote the name)" \
            if isinstance(name, bool) else " (quote it)"
        yield ("metadata", "name"), f"metadata.name must be a string, got {type(name).__name__} {name!r}{hint}"
        return
    if not name:
        yield ("metadata", "name"), "metadata.name is required"
        return
    if len(name) > 253:
        yield ("metadata", "name"), f"name is {len(name)} characters; at most 253"
    if info.name not in LOOSE_NAMES and not DNS1123_SUBDOMAIN.match(name):
        yield (
            ("metadata", "name"),
            (
                f"name {name!r} is not a valid DNS-1123 subdomain "
                "(lower-case letters, digits, '-' and '.', starting and ending alphanumeric)"
            ),
        )
    ns = meta.get("namespace")
    if ns and not info.namespaced:
        yield ("metadata", "namespace"), f"{info.kind} is cluster-scoped; remove metadata.namespace"
    if ns and not DNS1123_SUBDOMAIN.match(str(ns)):
        yield ("metadata", "namespace"), f"namespace {ns!r} is not a valid DNS-1123 label"


def check_labels(meta: dict[str, Any]) -> Iterator[Problem]:
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        yield ("metadata", "labels"), "labels must be a mapping of strings"
        return
    for key, value in labels.items():
        prefix, _, name = str(key).rpartition("/")
        if (
            (prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)))
            or len(name) > 63
            or not LABEL_NAME.match(name)
        ):
            yield ("metadata", "labels", str(key)), f"invalid label key {key!r}"
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            yield ("metadata", "labels", str(key)), f"invalid label value {value!r} for key {key!r}"


def check_selectors(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[Problem]:
    """Every selector-valued field anywhere in the spec must parse with Calico's selector grammar."""
    try:
        from calicotool.selector import SelectorError, parse
    except ImportError:  # selector engine not installed: nothing to check with
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SELECTOR_FIELDS and isinstance(value, str):
                try:
                    parse(value)
                except SelectorError as exc:
                    yield path + (key,), f"invalid selector {value!r}: {exc.message}"
            else:
                yield from check_selectors(value, path + (key,))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from check_selectors(item, path + (i,))


def _net(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def check_port(value: Any) -> str | None:
    """None if `value` is a valid Calico port: number, 'a:b' range, or a named port. Numbers are 1-65535, as
    Calico's validator (libcalico-go validatePort) and calicotool's rule sets require: port 0 is refused."""
    if isinstance(value, bool):
        return f"port {value!r} is not a number, range or name"
    if isinstance(value, int):
        return None if 1 <= value <= 65535 else f"port {value} out of range 1-65535"
    text = str(value)
    if ":" in text:
        lo, _, hi = text.partition(":")
        if not (lo.isdigit() and hi.isdigit()):
            return f"port range {text!r} must be two numbers 'MIN:MAX'"
        if not (1 <= int(lo) <= 65535 and 1 <= int(hi) <= 65535):
            return f"port range {text!r} out of range 1-65535"
        if int(lo) > int(hi):
            return f"port range {text!r} is reversed"
        return None
    if text.isdigit():
        return None if 1 <= int(text) <= 65535 else f"port {text} out of range 1-65535"
    if len(text) > 15 or not PORT_NAME.match(text):
        return f"port {text!r} is not a number, range or valid port name"
    return None


def check_rule(rule: dict[str, Any], path: tuple[str | int, ...]) -> Iterator[Problem]:
    protocol = str(rule.get("protocol", "")).upper()
    not_protocol = str(rule.get("notProtocol", "")).upper()
    versions: set[int] = set()
    for side in ("source", "destination"):
        ent = rule.get(side) or {}
        if not isinstance(ent, dict):
            continue
        for field in ("ports", "notPorts"):
            ports = ent.get(field) or []
            for i, port in enumerate(ports if isinstance(ports, list) else []):
                msg = check_port(port)
                if msg:
                    yield path + (side, field, i), msg
            if ports and protocol not in PORTED_PROTOCOLS:
                yield (
                    path + (side, field),
                    (f"{side}.{field} needs protocol TCP, UDP or SCTP (got {rule.get('protocol', 'none')!r})"),
                )
        for field in ("nets", "notNets"):
            nets = ent.get(field) or []
            for i, net in enumerate(nets if isinstance(nets, list) else []):
                parsed = _net(net)
                if parsed is None:
                    yield path + (side, field, i), f"invalid CIDR {net!r}"
                else:
                    versions.add(parsed.version)
    if len(versions) > 1:
        yield path, "rule mixes IPv4 and IPv6 nets; split it into one rule per IP version"
    ip_version = rule.get("ipVersion")
    if ip_version and versions and versions != {ip_version}:
        yield path + ("ipVersion",), f"ipVersion {ip_version} does not match the rule's nets"
    for field in ("icmp", "notICMP"):
        if rule.get(field) and protocol not in ICMP_PROTOCOLS:
            yield path + (field,), f"{field} needs protocol ICMP or ICMPv6"
    if not_protocol and protocol and not_protocol == protocol:
        yield path, f"protocol and notProtocol are both {protocol}: the rule can never match"


def check_spec(info: KindInfo, spec: dict[str, Any]) -> Iterator[Problem]:
    for direction in ("ingress", "egress"):
        rules = spec.get(direction) or []
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, dict):
                yield from check_rule(rule, ("spec", direction, i))
    for field in ("nets", "expectedIPs", "allowedEgressDomains"):
        if field == "allowedEgressDomains":
            continue
        for i, value in enumerate(spec.get(field) or []):
            if _net(value) is None:
                yield ("spec", field, i), f"invalid {'IP' if field == 'expectedIPs' else 'CIDR'} {value!r}"
    if info.name == "IPPool" and "cidr" in spec:
        net = _net(spec["cidr"])
        if net is None:
            yield ("spec", "cidr"), f"invalid CIDR {spec['cidr']!r}"
        elif "blockSize" in spec:
            bs = spec["blockSize"]
            lo, hi = (20, 32) if net.version == 4 else (116, 128)
            if not isinstance(bs, int) or not lo <= bs <= hi or bs < net.prefixlen:
                yield ("spec", "blockSize"), f"blockSize {bs} must be {lo}-{hi} and not larger than the pool"
    if info.name == "BGPPeer" and spec.get("peerIP"):
        host = str(spec["peerIP"])
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host.strip("[]").split("]:")[0]
        if _net(host) is None:
            yield ("spec", "peerIP"), f"invalid peer IP {spec['peerIP']!r}"
    if info.name == "Node":
        bgp = spec.get("bgp") or {}
        for field in ("ipv4Address", "ipv6Address"):
            if bgp.get(field) and _net(bgp[field]) is None:
                yield ("spec", "bgp", field), f"invalid address {bgp[field]!r} (want ADDRESS/PREFIX)"
        mac = spec.get("vxlanTunnelMACAddr")
        if mac and not re.match(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$", str(mac).lower()):
            yield ("spec", "vxlanTunnelMACAddr"), f"invalid MAC address {mac!r}"
