"""Validation tables: Calico's CRD schema (closed objects, CEL rules) plus calicotool's own checks."""

from __future__ import annotations

from typing import Any

import pytest

from calicotool.model.resource import Resource
from calicotool.model.validate import validate_resource


def gnp(spec: dict[str, Any], name: str = "p", **meta: Any) -> Resource:
    return Resource.from_dict(
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "GlobalNetworkPolicy",
            "metadata": {"name": name, **meta},
            "spec": {"selector": "all()", **spec},
        }
    )


def rule(**kw: Any) -> dict[str, Any]:
    return {"action": "Allow", **kw}


VALID: list[tuple[str, Resource]] = [
    ("plain", gnp({})),
    ("tcp ports", gnp({"ingress": [rule(protocol="TCP", destination={"ports": [80, "8000:8080", "http"]})]})),
    ("udp dns", gnp({"egress": [rule(protocol="UDP", destination={"ports": [53]})]})),
    ("sctp", gnp({"ingress": [rule(protocol="SCTP", destination={"ports": [9]})]})),
    ("numeric protocol", gnp({"ingress": [rule(protocol=6, destination={"ports": [22]})]})),
    ("icmp type code", gnp({"ingress": [rule(protocol="ICMP", icmp={"type": 8, "code": 0})]})),
    ("nets v4", gnp({"ingress": [rule(source={"nets": ["10.0.0.0/8", "192.168.1.1/32"]})]})),
    ("nets v6", gnp({"ingress": [rule(ipVersion=6, source={"nets": ["fd00::/8"]})]})),
    ("tier", Resource.new("Tier", "security", {"order": 100, "defaultAction": "Pass"})),
    ("default tier", Resource.new("Tier", "default", {"defaultAction": "Deny"})),
    ("netset", Resource.new("NetworkSet", "ext", {"nets": ["198.51.100.0/24"]}, namespace="prod")),
    ("hep", Resource.new("HostEndpoint", "h1-eth0", {"node": "h1", "interfaceName": "eth0", "expectedIPs": ["10.1.1.1"]})),
    ("bgppeer", Resource.new("BGPPeer", "rr", {"nodeSelector": "all()", "peerSelector": "has(rr)"})),
    ("ippool", Resource.new("IPPool", "pool", {"cidr": "10.244.0.0/16", "blockSize": 26, "vxlanMode": "Always"})),
    ("node", Resource.new("Node", "n1", {"bgp": {"ipv4Address": "10.0.0.1/24", "routeReflectorClusterID": "244.0.0.1"}})),
    ("labels", gnp({}, labels={"app.kubernetes.io/managed-by": "calicotool", "tier": "db"})),
]


@pytest.mark.parametrize("label, res", VALID, ids=[v[0] for v in VALID])
def test_valid_resources_pass(label: str, res: Resource) -> None:
    assert validate_resource(res) == []


INVALID: list[tuple[str, Resource, str, str]] = [
    ("unknown spec field", gnp({"bogus": 1}), "spec.bogus", "unknown field 'bogus'"),
    ("unknown rule field", gnp({"ingress": [rule(sorce={})]}), "spec.ingress[0].sorce", "unknown field"),
    ("bad action", gnp({"ingress": [{"action": "Accept"}]}), "spec.ingress[0].action", "Accept"),
    ("order type", gnp({"order": "first"}), "spec.order", "not of type"),
    (
        "port out of range",
        gnp({"ingress": [rule(protocol="TCP", destination={"ports": [70000]})]}),
        "spec.ingress[0].destination.ports[0]",
        "out of range",
    ),
    (
        "reversed range",
        gnp({"ingress": [rule(protocol="TCP", destination={"ports": ["90:80"]})]}),
        "spec.ingress[0].destination.ports[0]",
        "reversed",
    ),
    (
        "ports without protocol",
        gnp({"ingress": [rule(destination={"ports": [80]})]}),
        "spec.ingress[0].destination.ports",
        "needs protocol",
    ),
    (
        "ports with icmp",
        gnp({"ingress": [rule(protocol="ICMP", destination={"ports": [80]})]}),
        "spec.ingress[0].destination.ports",
        "needs protocol",
    ),
    (
        "bad port name",
        gnp({"ingress": [rule(protocol="TCP", destination={"ports": ["Not_A_Name"]})]}),
        "spec.ingress[0].destination.ports[0]",
        "port name",
    ),
    ("bad cidr", gnp({"ingress": [rule(source={"nets": ["10.0.0.300/8"]})]}), "spec.ingress[0].source.nets[0]", "invalid CIDR"),
    (
        "mixed families",
        gnp({"ingress": [rule(source={"nets": ["10.0.0.0/8"]}, destination={"nets": ["fd00::/8"]})]}),
        "spec.ingress[0]",
        "mixes IPv4 and IPv6",
    ),
    (
        "ipVersion mismatch",
        gnp({"ingress": [rule(ipVersion=6, source={"nets": ["10.0.0.0/8"]})]}),
        "spec.ingress[0].ipVersion",
        "does not match",
    ),
    ("icmp code without type (CEL)", gnp({"ingress": [rule(protocol="ICMP", icmp={"code": 1})]}), "spec.ingress[0].icmp", "ICMP"),
    (
        "icmp without icmp protocol",
        gnp({"ingress": [rule(protocol="TCP", icmp={"type": 8})]}),
        "spec.ingress[0].icmp",
        "needs protocol ICMP",
    ),
    ("preDNAT egress (CEL)", gnp({"preDNAT": True, "applyOnForward": True, "egress": [rule()]}), "spec", "preDNAT"),
    ("bad name", gnp({}, name="Web_Policy"), "metadata.name", "DNS-1123"),
    (
        "missing name",
        Resource.from_dict({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {}, "spec": {}}),
        "metadata.name",
        "required",
    ),
    ("namespace on cluster kind", gnp({}, namespace="prod"), "metadata.namespace", "cluster-scoped"),
    ("bad label value", gnp({}, labels={"a": "has space"}), "metadata.labels.a", "invalid label value"),
    ("bad label key", gnp({}, labels={"-a": "x"}), "metadata.labels.-a", "invalid label key"),
    ("default tier must deny (CEL)", Resource.new("Tier", "default", {"defaultAction": "Pass"}), "", "Deny"),
    ("hep without interface or IPs (CEL)", Resource.new("HostEndpoint", "h", {"node": "h1"}), "spec", "interfaceName"),
    ("bgppeer node and nodeSelector (CEL)", Resource.new("BGPPeer", "x", {"node": "a", "nodeSelector": "all()"}), "spec", ""),
    ("ippool bad cidr", Resource.new("IPPool", "p", {"cidr": "10.0.0.0/33"}), "spec.cidr", "invalid CIDR"),
    ("ippool block size", Resource.new("IPPool", "p", {"cidr": "10.0.0.0/16", "blockSize": 12}), "spec.blockSize", "blockSize"),
    ("node bad address", Resource.new("Node", "n", {"bgp": {"ipv4Address": "10.0.0.999/24"}}), "spec.bgp.ipv4Address", "invalid"),
    ("node bad mac", Resource.new("Node", "n", {"vxlanTunnelMACAddr": "zz:00"}), "spec.vxlanTunnelMACAddr", "MAC"),
    ("netset bad net", Resource.new("NetworkSet", "n", {"nets": ["nope"]}, namespace="x"), "spec.nets[0]", "invalid CIDR"),
    (
        "hep bad expected ip",
        Resource.new("HostEndpoint", "h", {"node": "h", "expectedIPs": ["1.2.3"]}),
        "spec.expectedIPs[0]",
        "invalid IP",
    ),
]


@pytest.mark.parametrize("label, res, field, fragment", INVALID, ids=[v[0] for v in INVALID])
def test_invalid_resources_are_located(label: str, res: Resource, field: str, fragment: str) -> None:
    errors = validate_resource(res)
    assert errors, f"{label}: expected a validation error"
    matching = [e for e in errors if (e.location.field or "") == field] if field else errors
    assert matching, f"{label}: no error at {field!r}: {[str(e) for e in errors]}"
    assert any(fragment in e.message for e in matching), [str(e) for e in matching]


def test_invalid_selector_is_rejected_with_its_text() -> None:
    errors = validate_resource(gnp({"selector": "app == 'web"}))
    assert any(e.location.field == "spec.selector" and "invalid selector" in e.message for e in errors)


def test_nested_rule_selector_checked() -> None:
    errors = validate_resource(gnp({"ingress": [rule(source={"selector": "has(a"})]}))
    assert any(e.location.field == "spec.ingress[0].source.selector" for e in errors)
