"""Table tests for the pure helpers: port parsing, rule coverage, representative endpoints, output checks."""

from __future__ import annotations

import pytest

from calicotool.model.resource import Resource
from calicotool.policy.compile import CompileOptions
from calicotool.policy.coverage import covers
from calicotool.policy.endpoint import EndpointKind
from calicotool.policy.endpoints import labels_for, representative_endpoints
from calicotool.policy.generate import generate_resources
from calicotool.policy.loader import load_ruleset
from calicotool.policy.parse import parse_port
from calicotool.policy.spec import Group, GroupKind, Peer, Rule
from calicotool.policy.validate_rules import MAX_INLINE_NETS, resource_problems
from calicotool.selector import parse

from .conftest import SHOP


@pytest.mark.parametrize("value,expected,error", [
    (80, 80, None), ("80", 80, None), ("8000:8080", "8000:8080", None), ("8000-8080", "8000:8080", None),
    ("8000 - 8080", "8000:8080", None), ("53:53", 53, None), ("http", "http", None), ("metrics-2", "metrics-2", None),
    (0, None, "out of range"), (65536, None, "out of range"), ("9:1", None, "reversed"), ("1:70000", None, "out of range"),
    ("HTTP", None, "not a number"), ("a_b", None, "not a number"), ("-1", None, "not a number"),
    ("averyveryverylongname", None, "not a number"), (True, None, "not a number"), ("1:2:3", None, "not a number"),
])
def test_parse_port(value, expected, error) -> None:
    got, err = parse_port(value)
    assert got == expected
    assert (err is None) if error is None else (error in (err or ""))


GROUPS = {
    "web": Group("web", GroupKind.LABELS, selector="app == 'web'"),
    "corp": Group("corp", GroupKind.NETS, nets=("10.0.0.0/8",)),
    "lab": Group("lab", GroupKind.NETS, nets=("10.5.0.0/16", "192.168.0.0/16")),
}


def R(**kw) -> Rule:
    peers = kw.pop("peers", ())
    return Rule(action=kw.pop("action", "Allow"), peers=tuple(Peer(**p) for p in peers), **kw)


@pytest.mark.parametrize("outer,inner,expected", [
    (R(), R(protocol="TCP", ports=(80,)), True),
    (R(protocol="TCP"), R(protocol="TCP", ports=(80,)), True),
    (R(protocol="TCP"), R(protocol="UDP", ports=(80,)), False),
    (R(protocol="TCP"), R(), False),
    (R(protocol="TCP", ports=("1:1024",)), R(protocol="TCP", ports=(22, "80:443")), True),
    (R(protocol="TCP", ports=("1:1024",)), R(protocol="TCP", ports=(22, "1000:2000")), False),
    (R(protocol="TCP", ports=(80,)), R(protocol="TCP"), False),
    (R(protocol="TCP", ports=("http",)), R(protocol="TCP", ports=("http",)), True),
    (R(protocol="TCP", ports=("http",)), R(protocol="TCP", ports=(80,)), False),
    (R(protocol=6), R(protocol="TCP"), True),
    (R(peers=[{"group": "web"}]), R(peers=[{"group": "web"}], protocol="TCP"), True),
    (R(peers=[{"group": "web"}]), R(), False),
    (R(peers=[{"nets": ("10.0.0.0/8",)}]), R(peers=[{"nets": ("10.1.0.0/16",)}]), True),
    (R(peers=[{"group": "corp"}]), R(peers=[{"nets": ("10.1.0.0/16",)}]), True),
    (R(peers=[{"group": "corp"}]), R(peers=[{"group": "lab"}]), False),  # 192.168/16 is outside
    (R(peers=[{"nets": ("0.0.0.0/0",)}]), R(peers=[{"group": "web"}]), False),  # labels are not provably inside
    (R(peers=[{"group": "web"}, {"group": "corp"}]), R(peers=[{"group": "corp"}]), True),
    (R(except_nets=("10.1.0.0/16",), peers=[{"group": "corp"}]), R(peers=[{"nets": ("10.2.0.0/16",)}]), False),
    (R(protocol="ICMP", icmp_type=8), R(protocol="ICMP", icmp_type=8, icmp_code=0), True),
    (R(protocol="ICMP", icmp_type=8, icmp_code=0), R(protocol="ICMP", icmp_type=8), False),
    (R(ip_version=4), R(), False),
])
def test_rule_coverage(outer: Rule, inner: Rule, expected: bool) -> None:
    assert covers(outer, inner, GROUPS) is expected


@pytest.mark.parametrize("selector", [
    "app == 'web'", "app == 'web' && tier in {'a', 'b'}", "has(team) && !has(legacy)", "all()",
    "app in {'x'} && env != 'prod'", "(a == '1' || a == '2') && b == '3'",
])
def test_labels_for_satisfies_selector(selector: str) -> None:
    labels = labels_for(selector)
    assert labels is not None and parse(selector).matches(labels)


def test_labels_for_unsatisfiable_is_none() -> None:
    assert labels_for("app == 'a' && app == 'b'") is None


def test_representative_endpoints_one_per_group() -> None:
    rs = load_ruleset([SHOP], "prod")
    eps = {e.name: e for e in representative_endpoints(rs)}
    assert len(eps) == len(rs.groups)
    api = eps["api-0"]
    assert api.kind == EndpointKind.POD and api.namespace == "shop" and parse("app == 'api'").matches(api.labels)
    assert api.namespace_labels["projectcalico.org/name"] == "shop"
    assert eps["ingress-controller-0"].namespace == "ingress-nginx"
    office = eps["office"]
    assert office.kind == EndpointKind.NETWORKSET and office.ips == ("203.0.113.1",)
    host = eps["backup-host-backup-01-eth0"]
    assert host.kind == EndpointKind.HOST and host.ips == ("10.20.0.15",) and host.node == "backup-01"
    pod_ips = [e.ips[0] for e in eps.values() if e.kind == EndpointKind.POD]
    assert len(set(pod_ips)) == len(pod_ips)


def test_representative_endpoints_drive_the_evaluator() -> None:
    from calicotool.evaluate.evaluator import Flow, PolicySet, Verdict

    rs = load_ruleset([SHOP], "prod")
    eps = {e.name: e for e in representative_endpoints(rs)}
    ps = PolicySet(generate_resources([SHOP], env="prod"))

    def allowed(src: str, dst: str, port: int, proto: int = 6) -> bool:
        return ps.evaluate(Flow(eps[src], eps[dst], protocol=proto, port=port)).verdict == Verdict.ALLOW

    assert allowed("frontend-0", "api-0", 8443)
    assert allowed("api-0", "db-0", 5432)
    assert not allowed("frontend-0", "db-0", 5432)
    assert not allowed("api-0", "db-0", 22)
    assert allowed("backup-host-backup-01-eth0", "db-0", 5432)
    assert allowed("office", "backup-host-backup-01-eth0", 22)
    assert not allowed("blocked", "frontend-0", 8080)
    assert allowed("ingress-controller-0", "frontend-0", 8080)
    assert allowed("api-0", "payment-gateway", 443)
    assert not allowed("frontend-0", "payment-gateway", 443)


def _policy(spec: dict, kind: str = "NetworkPolicy", name: str = "p") -> Resource:
    return Resource.new(kind, name, spec, namespace="ns" if "Global" not in kind else None)


@pytest.mark.parametrize("res,version,fragment", [
    (_policy({"tier": "app", "selector": "all()", "types": ["Ingress"]}), "3.31", "named 'app.<name>'"),
    (_policy({"selector": "all()", "types": ["Egress"], "ingress": [{"action": "Allow"}]}), "3.32",
     "types lacks Ingress"),
    (_policy({"selector": "all()", "types": ["Ingress"], "ingress": [
        {"action": "Allow", "source": {"nets": [f"10.{i // 256}.{i % 256}.0/24" for i in range(MAX_INLINE_NETS + 1)]}}]}),
     "3.32", "inline nets"),
    (_policy({"selector": "all()", "types": ["Ingress"], "ingress": [
        {"action": "Allow", "destination": {"ports": [80]}}]}), "3.32", "ports need protocol"),
    (_policy({"selector": "all()", "types": ["Ingress"], "ingress": [
        {"action": "Allow", "protocol": "TCP", "icmp": {"type": 8}}]}), "3.32", "icmp needs protocol"),
    (_policy({"selector": "all()", "types": ["Ingress"], "ingress": [
        {"action": "Allow", "protocol": "ICMP", "icmp": {"type": 255}}]}), "3.32", "ICMP type must be"),
    (_policy({"selector": "all()", "types": ["Ingress"], "preDNAT": True}), "3.32", "only GlobalNetworkPolicy"),
    (Resource.new("HostEndpoint", "h", {"node": "n"}), "3.32", "interfaceName or expectedIPs"),
    (Resource.new("GlobalNetworkSet", "s", {"nets": []}), "3.32", "at least one CIDR"),
    (Resource.new("GlobalNetworkSet", "s", {"nets": ["10.0.0.0/8"] * 120000}), "3.32", "API server limit"),
])
def test_output_checks(res: Resource, version: str, fragment: str) -> None:
    problems = list(resource_problems(res, CompileOptions(calico_version=version)))
    assert any(fragment in p for p in problems), problems


def test_output_checks_pass_valid_policy() -> None:
    res = _policy({"tier": "app", "selector": "all()", "types": ["Ingress"],
                   "ingress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [443]}}]}, name="app.p")
    assert list(resource_problems(res, CompileOptions(calico_version="3.31"))) == []
