"""Parsing of flow inputs and located errors for bad resources."""

from __future__ import annotations

import pytest

from calicotool.errors import InputError
from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.inventory import Inventory
from calicotool.evaluate.specs import PortSpec, parse_endpoint_spec, parse_port_spec
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import EndpointKind


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("443/TCP", PortSpec(6, 443)),
        ("443", PortSpec(6, 443)),
        ("53/udp", PortSpec(17, 53)),
        ("3868/SCTP", PortSpec(132, 3868)),
        ("ICMP", PortSpec(1)),
        ("ICMP:8", PortSpec(1, None, 8)),
        ("ICMP:3/4", PortSpec(1, None, 3, 4)),
        ("ICMPv6:128", PortSpec(58, None, 128)),
        ("/47", PortSpec(47)),
    ],
)
def test_port_specs(text: str, want: PortSpec) -> None:
    assert parse_port_spec(text) == want


@pytest.mark.parametrize("text", ["443/ICMP", "65536/TCP", "x/TCP", "TCP:8", "ICMP:x", "/0", "/256", ""])
def test_bad_port_specs(text: str) -> None:
    with pytest.raises(InputError, match="--port"):
        parse_port_spec(text)


def test_pod_spec_with_labels_and_ip() -> None:
    ep = parse_endpoint_spec("pod:prod/web-1:app=web,tier=fe@10.0.0.5", Inventory())
    assert (ep.kind, ep.namespace, ep.name, ep.ips) == (EndpointKind.POD, "prod", "web-1", ("10.0.0.5",))
    assert ep.labels == {"app": "web", "tier": "fe"}


def test_network_set_spec_uses_a_member_address() -> None:
    ps = PolicySet([Resource.new("NetworkSet", "partners", {"nets": ["198.51.100.0/24"]}, namespace="prod",
                                 labels={"role": "partner"})])
    ep = parse_endpoint_spec("networkset:prod/partners", ps.inventory)
    assert ep.kind is EndpointKind.NETWORKSET and ep.ips == ("198.51.100.1",) and ep.labels == {"role": "partner"}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"selector": "app = 'x'"}, "spec.selector"),
        ({"ingress": [{"action": "Accept"}]}, "spec.ingress[0].action"),
        ({"ingress": [{"action": "Allow", "source": {"nets": ["10.0.0.0/33"]}}]}, "spec.ingress[0].source.nets"),
        ({"egress": [{"action": "Allow", "destination": {"ports": ["90:80"]}}]}, "spec.egress[0].destination.ports"),
        ({"ingress": [{"action": "Allow", "protocol": "GREX"}]}, "spec.ingress[0].protocol"),
        ({"ingress": [{"action": "Allow", "source": {"notSelector": "has("}}]}, "spec.ingress[0].source.notSelector"),
        ({"types": ["Sideways"]}, "spec.types"),
    ],
)
def test_bad_policy_is_located(spec: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        PolicySet([Resource.new("GlobalNetworkPolicy", "bad", spec)])
    assert "GlobalNetworkPolicy bad" in str(info.value) and field in str(info.value)


def test_duplicate_policy_and_bad_tier_action() -> None:
    dup = Resource.new("NetworkPolicy", "p", {}, namespace="a")
    with pytest.raises(InputError, match="duplicate NetworkPolicy a/p"):
        PolicySet([dup, dup.copy()])
    with pytest.raises(InputError, match="defaultAction"):
        PolicySet([Resource.new("Tier", "t", {"defaultAction": "Allow"})])


def test_unknown_kinds_and_tiers_are_warnings() -> None:
    ps = PolicySet([
        Resource.new("NetworkPolicy", "np", {}, namespace="x", api_version="networking.k8s.io/v1"),
        Resource.new("GlobalNetworkPolicy", "ghost.p", {"tier": "ghost"}),
    ])
    assert any("ghost" in w for w in ps.warnings)
    assert any("networking.k8s.io/v1 NetworkPolicy np: not evaluated" in w for w in ps.warnings)
    assert [p.name for p in ps.policies] == ["ghost.p"]
