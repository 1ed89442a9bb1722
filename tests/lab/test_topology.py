"""Lab topologies: builders, confd's rr-client rule, validation and the file format (pure, no kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calicotool.errors import InputError, ValidationFailed
from calicotool.lab.from_plan import graph_from_topology, hand_built_rr_topology
from calicotool.lab.topology import (
    LabNode,
    LabPeer,
    LabTopology,
    block_for,
    calico_rr_client,
    full_mesh,
    underlay_address,
    validate_topology,
)
from calicotool.lab.topology_io import load_topology_file, topology_from_dict, topology_to_dict


@pytest.mark.parametrize(
    ("node_asn", "node_cid", "peer_asn", "peer_cid", "expected"),
    [
        (64512, "244.0.0.1", 64512, None, True),  # reflector -> plain node: its client
        (64512, "244.0.0.1", 64512, "244.0.0.2", True),  # reflectors of different clusters: clients of each other
        (64512, "244.0.0.1", 64512, "244.0.0.1", False),  # same cluster: plain iBGP
        (64512, None, 64512, "244.0.0.1", False),  # a client never has rr clients
        (64512, "244.0.0.1", 65000, None, False),  # eBGP is never rr client
    ],
)
def test_calico_rr_client_rule(node_asn: int, node_cid: str | None, peer_asn: int, peer_cid: str | None, expected: bool) -> None:
    assert calico_rr_client(node_asn, node_cid, peer_asn, peer_cid) is expected


@pytest.mark.parametrize(
    ("pool", "index", "expected"),
    [("10.244.0.0/16", 0, "10.244.0.0/26"), ("10.244.0.0/16", 5, "10.244.1.64/26"), ("10.244.0.0/24", 3, "10.244.0.192/26")],
)
def test_block_for(pool: str, index: int, expected: str) -> None:
    assert block_for(pool, index) == expected


def test_address_exhaustion_is_input_error() -> None:
    with pytest.raises(InputError, match="no room"):
        block_for("10.244.0.0/24", 4)
    with pytest.raises(InputError, match="no room"):
        underlay_address("192.168.0.0/30", 2)
    assert underlay_address("192.168.0.0/30", 1) == "192.168.0.2"


def test_full_mesh_shape() -> None:
    topo = full_mesh(6)
    assert len(topo.sessions()) == 15
    assert len({b for n in topo.nodes for b in n.blocks}) == 6
    assert all(p.mesh and not p.rr_client for n in topo.nodes for p in n.peers)
    with pytest.raises(InputError):
        full_mesh(1)


def _node(name: str, ip: str, peers: tuple[LabPeer, ...] = (), cid: str | None = None, blocks: tuple[str, ...] = ()) -> LabNode:
    return LabNode(name, ip, 64512, blocks, cid, peers)


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ((_node("a", "192.168.128.1"), _node("a", "192.168.128.2")), "duplicate node name"),
        ((_node("a", "10.0.0.1"), _node("b", "192.168.128.2")), "not a host address of the underlay"),
        ((_node("a", "192.168.128.1"), _node("b", "192.168.128.1")), "also used by a"),
        ((_node("a", "192.168.128.1", blocks=("10.9.0.0/26",)), _node("b", "192.168.128.2")), "outside the pool"),
        (
            (_node("a", "192.168.128.1", blocks=("10.244.0.0/26",)), _node("b", "192.168.128.2", blocks=("10.244.0.0/25",))),
            "overlaps",
        ),
        (
            (
                _node("a", "192.168.128.1", (LabPeer("192.168.128.2", rr_client=True),)),
                _node("b", "192.168.128.2", (LabPeer("192.168.128.1"),)),
            ),
            "no route-reflector cluster ID",
        ),
        ((_node("a", "192.168.128.1", (LabPeer("192.168.128.2"),)), _node("b", "192.168.128.2")), "no session back"),
        ((_node("a", "192.168.128.1", (LabPeer("192.168.128.9"),)), _node("b", "192.168.128.2")), "no lab node"),
        ((_node("a", "192.168.128.1", cid="not-an-ip"), _node("b", "192.168.128.2")), "dotted-quad"),
        ((_node("Bad_Name", "192.168.128.1"), _node("b", "192.168.128.2")), "DNS-1123"),
        ((_node("a", "192.168.128.1"),), "at least 2 nodes"),
    ],
)
def test_validation_finds_each_problem(nodes: tuple[LabNode, ...], message: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_topology(LabTopology(nodes), source="lab.yaml")
    details = info.value.details()
    assert any(message in d for d in details), details
    assert all(d.startswith("lab.yaml") for d in details)


def test_validation_reports_all_problems_at_once() -> None:
    nodes = (_node("a", "10.0.0.1"), _node("a", "192.168.128.2", blocks=("10.9.0.0/26",)))
    with pytest.raises(ValidationFailed) as info:
        validate_topology(LabTopology(nodes))
    assert len(info.value.errors) >= 3


def test_file_defaults_mesh_and_symmetry() -> None:
    topo = topology_from_dict({"kind": "LabTopology", "nodes": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})
    assert len(topo.sessions()) == 3 and all(p.mesh for n in topo.nodes for p in n.peers)
    assert [n.router_ip for n in topo.nodes] == ["192.168.128.1", "192.168.128.2", "192.168.128.3"]
    rr = topology_from_dict(
        {
            "kind": "LabTopology",
            "nodes": [
                {"name": "rr", "rrClusterID": "244.0.0.1", "peers": [{"node": "a"}, {"node": "b"}]},
                {"name": "a"},
                {"name": "b"},
            ],
        }
    )
    by = rr.by_name()
    assert [p.rr_client for p in by["rr"].peers] == [True, True]
    assert [p.node for p in by["a"].peers] == ["rr"]  # the other end was added, not meshed
    assert len(rr.sessions()) == 2


def test_file_round_trip(tmp_path: Path) -> None:
    topo = hand_built_rr_topology(9, reflectors=4, k=2)
    import yaml

    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(topology_to_dict(topo)))
    again = load_topology_file(path)
    assert again.nodes == topo.nodes and again.pool == topo.pool


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"kind": "Other"}, "kind"),
        ({"kind": "LabTopology", "nodes": []}, "nodes"),
        ({"kind": "LabTopology", "nodes": [{"name": "a", "asn": "x"}, {"name": "b"}]}, "nodes[0].asn"),
        ({"kind": "LabTopology", "nodes": [{"name": "a", "peers": [{"node": "zz"}]}, {"name": "b"}]}, "nodes[0].peers[0]"),
        ({"kind": "LabTopology", "nodes": [{"name": "a", "blocks": "10.244.0.0/26"}, {"name": "b"}]}, "nodes[0].blocks"),
    ],
)
def test_file_errors_are_located(doc: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        topology_from_dict(doc, source="lab.yaml")
    assert info.value.location is not None and info.value.location.field == field
    assert str(info.value).startswith("lab.yaml")


def test_bad_yaml_has_a_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("kind: LabTopology\nnodes: [\n  - {name: a\n")
    with pytest.raises(InputError) as info:
        load_topology_file(path)
    assert info.value.location is not None and info.value.location.line is not None


def test_hand_built_rr_shape() -> None:
    topo = hand_built_rr_topology(12, reflectors=4, k=2)
    rrs = [n for n in topo.nodes if n.is_reflector]
    assert len(rrs) == 4 and len({n.rr_cluster_id for n in rrs}) == 2
    clients = [n for n in topo.nodes if not n.is_reflector]
    assert all(len(n.peers) == 2 and not any(p.rr_client for p in n.peers) for n in clients)
    g = graph_from_topology(topo)
    assert g.number_of_edges() == len(topo.sessions()) == 8 * 2 + 6
    with pytest.raises(InputError):
        hand_built_rr_topology(4, reflectors=4)
