"""Topology files: samples load, errors are located, the generator is seeded, documents round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from calicotool.bgp.synthetic import generate_cluster
from calicotool.bgp.topology import load_topology, parse_topology, topology_document
from calicotool.cli.output import to_yaml
from calicotool.errors import InputError, ValidationFailed

SAMPLES = Path(__file__).resolve().parents[2] / "topologies"


@pytest.mark.parametrize(("name", "nodes"), [("small-3zone.yaml", 12), ("medium-60-3zone-racks.yaml", 60),
                                             ("problems.yaml", 12)])
def test_samples_load(name: str, nodes: int) -> None:
    state = load_topology(SAMPLES / name)
    assert len(state.nodes) == nodes
    assert state.now.year == 2026


def test_problem_sample_reads_current_layout() -> None:
    nodes = load_topology(SAMPLES / "problems.yaml").by_name()
    assert nodes["rr-old"].managed_reflector and nodes["rr-old"].reflector_groups == ("g1",)
    assert nodes["tor-rr"].unmanaged_reflector
    assert nodes["a-3"].client_groups == ("g1",)
    assert nodes["node-noaddr"].address is None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("nodes:\n  - name: a\n    bgp: {ipv4Address: 10.0.0.300}\n", 3, "not an IPv4 address"),
        ("nodes:\n  - name: a\n  - name: a\n", 3, "duplicate node name 'a'"),
        ("nodes:\n  - name: a\n    colour: red\n", 3, "unknown node key 'colour'"),
        ("nodes:\n  - name: a\n    ready: yes please\n", 3, "must be true or false"),
        ("nodes:\n  - name: a\n    readySince: yesterday\n", 3, "RFC 3339"),
        ("nodes: []\n", 1, "non-empty list"),
        ("nodes:\n  - name: a\n    bgp: {routeReflectorClusterID: x}\n", 3, "cluster ID must be an IPv4"),
        ("asNumber: -1\nnodes:\n  - name: a\n", 1, "AS number"),
        ("nodes:\n  - {name: a, bgp: {ipv4Address: 10.0.0.1/24}}\n  - {name: b, bgp: {ipv4Address: 10.0.0.1/24}}\n",
         3, "already used by a"),
    ],
)
def test_errors_are_located(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_topology(text, "t.yaml")
    err = exc.value
    errors = err.errors if isinstance(err, ValidationFailed) else [err]
    assert any(message in e.message and e.location and e.location.line == line for e in errors), [str(e) for e in errors]
    assert "t.yaml:" in str(errors[0])


def test_bad_yaml_is_located() -> None:
    with pytest.raises(InputError, match=r"t.yaml:3: not valid YAML: .*at line 2"):
        parse_topology("nodes:\n  - name: [a\n", "t.yaml")


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_topology("nodes:\n  - name: a\n    x: 1\n  - name: b\n    y: 2\n", "t.yaml")
    assert len(exc.value.errors) == 2


def test_generator_is_seeded_and_round_trips() -> None:
    a, b = generate_cluster(200, 5, 3, seed=42), generate_cluster(200, 5, 3, seed=42)
    assert a == b
    assert generate_cluster(200, 5, 3, seed=43) != a
    back = parse_topology(to_yaml(topology_document(a)))
    assert back.nodes == a.nodes and back.now == a.now


def test_zone_and_rack_fall_back_to_labels() -> None:
    text = "nodes:\n  - name: a\n    labels: {topology.kubernetes.io/zone: z1, topology.calicotool.io/rack: r7}\n"
    n = parse_topology(text).nodes[0]
    assert (n.zone, n.rack) == ("z1", "r7")


def test_bgp_peers_are_read_and_validated() -> None:
    state = load_topology(SAMPLES / "problems.yaml")
    assert {p.name for p in state.external_peers} == {"to-handmade-rr", "tor-zone-b"}
    with pytest.raises(ValidationFailed) as exc:
        parse_topology("nodes:\n  - name: a\nbgpPeers:\n  - {name: x, peerSelector: 'a ==='}\n  - {name: y}\n", "t.yaml")
    messages = [str(e) for e in exc.value.errors]
    assert any("t.yaml:4" in m and "bad selector" in m for m in messages)
    assert any("t.yaml:5" in m and "needs peerSelector or peerIP" in m for m in messages)
