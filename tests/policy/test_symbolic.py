"""The all-port class matrix agrees with the pairwise evaluator: random policy sets with tiers (Deny and Pass
defaults), Pass/Log/Deny rules, staged, untracked and pre-DNAT host policies, failsafes, ports, ranges, notPorts,
named ports, nets/notNets, notSelector, namespace and service-account selectors, ipVersion, protocols. Every
pair is checked at one port per atom (probe_ports) plus random ports, so every port is covered."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from calicotool.evaluate.classes import build_classes
from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.matrix import port_matrix, reachability
from calicotool.evaluate.model import Flow
from calicotool.evaluate.portset import PortSet, format_ranges, intersect, merge
from calicotool.evaluate.specs import flow_for, parse_port_spec
from calicotool.evaluate.symbolic import probe_ports
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint, EndpointKind, NamedPort

APPS = ["web", "api", "db", "cache"]
NSS = ["prod", "dev"]
PROTOS = (6, 17, 132, 1)


def _selector(rng: random.Random) -> str:
    return rng.choice([f"app == '{rng.choice(APPS)}'", f"app in {{'{rng.choice(APPS)}', '{rng.choice(APPS)}'}}",
                       "has(app)", "all()", f"role == '{rng.choice(['node', 'edge'])}'", "!has(team)",
                       f"team == 't{rng.randrange(2)}' || app == '{rng.choice(APPS)}'"])


def _entity(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.4:
        out["selector"] = _selector(rng)
    elif roll < 0.5:
        out["notSelector"] = _selector(rng)
    elif roll < 0.6:
        out["nets"] = [rng.choice(["10.1.0.0/24", "10.1.0.0/16", "192.0.2.0/24", "0.0.0.0/0"])]
    elif roll < 0.65:
        out["notNets"] = ["10.1.0.0/25"]
    elif roll < 0.72:
        out["namespaceSelector"] = rng.choice(["env == 'production'", "all()", "!has(env)"])
    elif roll < 0.78:
        out["serviceAccounts"] = rng.choice([{"names": ["sa-a"]}, {"selector": "priv == 'yes'"}])
    return out


def _ports(rng: random.Random) -> list[Any]:
    return rng.sample([80, 443, "8000:8100", "http", "metrics", 53, "1000:2000", 5432], rng.randint(1, 3))


def _rule(rng: random.Random) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": rng.choice(["Allow", "Allow", "Allow", "Deny", "Pass", "Log"])}
    if rng.random() < 0.7:
        rule["protocol"] = rng.choice(["TCP", "UDP", "TCP", "SCTP", "ICMP"])
    elif rng.random() < 0.2:
        rule["notProtocol"] = "UDP"
    if rng.random() < 0.1:
        rule["ipVersion"] = rng.choice([4, 6])
    src, dst = _entity(rng), _entity(rng)
    if rule.get("protocol") in ("TCP", "UDP", "SCTP") and rng.random() < 0.6:
        dst["ports" if rng.random() < 0.8 else "notPorts"] = _ports(rng)
    if rule.get("protocol") == "TCP" and rng.random() < 0.05:
        src["ports"] = [1234]
    if src:
        rule["source"] = src
    if dst:
        rule["destination"] = dst
    return rule


def random_set(rng: random.Random, n: int) -> list[Resource]:
    res = [Resource.new("Tier", "sec", {"order": 10}),
           Resource.new("Tier", "open", {"order": 20, "defaultAction": "Pass"}),
           Resource.new("FelixConfiguration", "default", {
               "failsafeInboundHostPorts": [{"protocol": "TCP", "port": 22}, {"protocol": "TCP", "port": 80,
                                                                             "net": "10.1.0.0/24"}]})]
    for i in range(n):
        spec: dict[str, Any] = {"selector": _selector(rng), "order": rng.randrange(1, 5),
                                "ingress": [_rule(rng) for _ in range(rng.randint(0, 3))],
                                "egress": [_rule(rng) for _ in range(rng.randint(0, 2))]}
        if rng.random() < 0.3:
            spec["tier"] = rng.choice(["sec", "open"])
        kind = rng.choice(["GlobalNetworkPolicy", "NetworkPolicy", "GlobalNetworkPolicy", "StagedGlobalNetworkPolicy"])
        ns = rng.choice(NSS) if kind == "NetworkPolicy" else None
        if kind == "GlobalNetworkPolicy" and rng.random() < 0.2:
            spec["namespaceSelector"] = "env == 'production'"
        if kind == "GlobalNetworkPolicy" and rng.random() < 0.15:  # host-only stages
            spec["selector"] = "role == 'node'"
            if rng.random() < 0.5:
                spec.update({"doNotTrack": True, "applyOnForward": True})
            else:
                spec.update({"preDNAT": True, "applyOnForward": True, "types": ["Ingress"], "egress": []})
        name = f"{spec['tier']}.p{i}" if spec.get("tier") else f"p{i}"
        res.append(Resource.new(kind, name, spec, namespace=ns))
    res.append(Resource.new("GlobalNetworkSet", "edge", {"nets": ["192.0.2.0/24"]}, labels={"role": "edge"}))
    return res


def random_endpoints(rng: random.Random, n: int) -> list[Endpoint]:
    out = []
    for i in range(n):
        ns = rng.choice(NSS)
        labels = {"app": rng.choice(APPS)} if rng.random() < 0.9 else {}
        if rng.random() < 0.4:
            labels["team"] = f"t{rng.randrange(2)}"
        ports = tuple(rng.sample([NamedPort("http", 8080), NamedPort("http", 80), NamedPort("metrics", 9100),
                                  NamedPort("metrics", 9100, 17)], rng.randint(0, 2)))
        sa = rng.choice(["", "sa-a", "sa-b"])
        ip = rng.choice([f"10.1.0.{i + 1}", f"10.1.{i + 1}.9", f"10.2.0.{i + 1}", f"fd00::{i + 1}"])
        out.append(Endpoint(EndpointKind.POD, f"pod{i}", ips=(ip,), namespace=ns, labels=labels, ports=ports,
                            namespace_labels={"env": "production"} if ns == "prod" else {},
                            service_account=sa, service_account_labels={"priv": "yes"} if sa == "sa-a" else {}))
    out.append(Endpoint(EndpointKind.HOST, "node1", ips=("10.1.0.200",), labels={"role": "node"}))
    out.append(Endpoint(EndpointKind.HOST, "node2", ips=("10.9.0.1",), labels={"role": "node"},
                        profiles=("projectcalico-default-allow",)))
    out.append(Endpoint(EndpointKind.NETWORKSET, "edge", ips=("192.0.2.1",), labels={"role": "edge"}))
    out.append(Endpoint(EndpointKind.IP, "198.51.100.7", ips=("198.51.100.7",)))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_all_port_matrix_equals_pairwise_evaluation(seed: int) -> None:
    rng = random.Random(seed)
    ps = PolicySet(random_set(rng, 14))
    eps = random_endpoints(rng, 10)
    matrix = port_matrix(ps, eps, PROTOS)
    checked = disagreements = 0
    for i, src in enumerate(eps):
        for j, dst in enumerate(eps):
            ports = matrix.ports(i, j)
            for proto in PROTOS:
                probes = set(probe_ports(ps, src, dst, proto)) | {rng.randrange(65536) for _ in range(3)}
                for port in sorted(probes) if proto != 1 else [None]:
                    flow = Flow(src, dst, proto, port)
                    checked += 1
                    if ps.evaluate(flow).allowed != ports.allows(proto, port):
                        disagreements += 1
    assert checked > 500 and disagreements == 0


def test_classes_merge_what_no_selector_tells_apart() -> None:
    ps = PolicySet([Resource.new("GlobalNetworkPolicy", "p", {
        "selector": "app == 'db'", "ingress": [{"action": "Allow", "source": {"selector": "app == 'web'"}}]})])
    eps = [Endpoint(EndpointKind.POD, f"web-{i}", ips=(f"10.0.0.{i + 1}",), namespace="prod",
                    labels={"app": "web", "pod-template-hash": f"h{i}"}) for i in range(5)]
    eps.append(Endpoint(EndpointKind.POD, "db-0", ips=("10.0.1.1",), namespace="prod", labels={"app": "db"}))
    eps.append(Endpoint(EndpointKind.POD, "web-dev", ips=("10.0.2.1",), namespace="dev", labels={"app": "web"}))
    classes, class_of = build_classes(ps, eps)
    assert class_of[:5] == [0] * 5  # the hash label is read by no selector
    assert len(classes) == 3  # web in prod, db, web in dev (another namespace: a NetworkPolicy could tell)


@pytest.mark.parametrize(("ranges", "merged", "text"), [
    ([(80, 80), (81, 90), (100, 100)], ((80, 90), (100, 100)), "80-90,100"),
    ([(0, 65535)], ((0, 65535),), "all"),
    ([(5, 5), (1, 3)], ((1, 3), (5, 5)), "1-3,5"),
])
def test_port_ranges_merge_and_render(ranges: list[tuple[int, int]], merged: tuple[tuple[int, int], ...],
                                      text: str) -> None:
    assert merge(ranges) == merged and format_ranges(merged) == text


def test_port_set_intersection_and_membership() -> None:
    assert intersect(((0, 100), (200, 300)), ((50, 250),)) == ((50, 100), (200, 250))
    ps = PortSet.of({6: ((80, 80), (8000, 8100)), 17: (), 1: ((0, 0),)})
    assert str(ps) == "ICMP TCP:80,8000-8100"
    assert ps.allows(6, 8050) and not ps.allows(6, 81) and not ps.allows(17, 53) and ps.allows(1, None)


@pytest.mark.parametrize("seed", range(3))
def test_per_port_grids_per_class_pair_equal_pairwise_evaluation(seed: int) -> None:
    rng = random.Random(100 + seed)
    ps = PolicySet(random_set(rng, 14))
    eps = random_endpoints(rng, 10)
    eps += [replace(ep, name=f"{ep.name}-replica") for ep in eps[:4]]  # same class as their originals
    specs = [parse_port_spec(s) for s in ("80/TCP", "8080/TCP", "53/UDP", "ICMP:8", "ICMP", "/47")]
    matrix = reachability(ps, eps, specs)
    assert matrix.class_count < len(eps)
    for spec, grid in matrix.grids:
        for i, src in enumerate(eps):
            for j, dst in enumerate(eps):
                assert grid[i][j] == ps.evaluate(flow_for(src, dst, spec)).allowed, (spec, src.title, dst.title)
