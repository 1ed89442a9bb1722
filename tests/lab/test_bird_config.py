"""Rendered BIRD configs: confd's rules, and stock BIRD 1.6 accepts every one (`bird -p`)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from calicotool.errors import HostError
from calicotool.lab.bird_config import (
    BirdOptions,
    BirdPaths,
    expected_protocols,
    protocol_id,
    render_node_config,
    write_node_config,
)
from calicotool.lab.bird_process import check_config
from calicotool.lab.from_plan import hand_built_rr_topology
from calicotool.lab.topology import LabTopology, full_mesh
from calicotool.lab.topology_io import topology_from_dict

needs_bird = pytest.mark.skipif(
    shutil.which("bird") is None and not Path("/usr/sbin/bird").exists(), reason="needs Debian's bird"
)


def _main(topo: LabTopology, name: str, tmp: Path) -> str:
    node = topo.by_name()[name]
    paths = BirdPaths(tmp, name)
    return render_node_config(node, topo, paths, BirdOptions())[paths.config]


def _blocks(text: str) -> dict[str, str]:
    return dict(re.findall(r"protocol bgp (\S+) from bgp_template \{(.*?)\n\}", text, re.S))


def test_protocol_id() -> None:
    assert protocol_id("10.0.0.2") == "10_0_0_2"


def test_reflector_sessions_follow_confd(tmp_path: Path) -> None:
    topo = hand_built_rr_topology(8, reflectors=4, k=2)
    rr = next(n for n in topo.nodes if n.is_reflector)
    sessions = _blocks(_main(topo, rr.name, tmp_path))
    assert set(sessions) == set(expected_protocols(rr))
    by_ip = topo.by_ip()
    for peer in rr.peers:
        body = sessions[f"Node_{protocol_id(peer.ip)}"]
        other = by_ip[peer.ip]
        if other.rr_cluster_id == rr.rr_cluster_id:
            assert "rr client" not in body
        else:
            assert "rr client;" in body and f"rr cluster id {rr.rr_cluster_id};" in body
        assert f"source address {rr.router_ip};" in body
    client = next(n for n in topo.nodes if not n.is_reflector)
    assert all("rr client" not in b for b in _blocks(_main(topo, client.name, tmp_path)).values())


def test_mesh_is_one_sided_passive_and_reflectors_skip_it(tmp_path: Path) -> None:
    topo = full_mesh(11)  # addresses .1 .. .11: string order differs from numeric order
    passive = {}
    for node in topo.nodes:
        for proto, body in _blocks(_main(topo, node.name, tmp_path)).items():
            assert proto.startswith("Mesh_")
            passive[(node.router_ip, proto)] = "passive on" in body
    for a in topo.nodes:
        for b in topo.nodes:
            if a is not b:
                pa = passive[(a.router_ip, f"Mesh_{protocol_id(b.router_ip)}")]
                pb = passive[(b.router_ip, f"Mesh_{protocol_id(a.router_ip)}")]
                assert pa != pb  # exactly one end waits
    rr = topology_from_dict(
        {
            "kind": "LabTopology",
            "mesh": True,
            "nodes": [
                {"name": "rr", "rrClusterID": "244.0.0.1", "peers": [{"node": "a", "mesh": True}]},
                {"name": "a"},
                {"name": "b"},
            ],
        }
    )
    text = _main(rr, "rr", tmp_path)
    assert "Mesh_" not in text and "route reflector with cluster ID 244.0.0.1" in text


def test_blocks_are_static_blackholes_and_aggregated(tmp_path: Path) -> None:
    topo = full_mesh(2)
    node = topo.nodes[0]
    paths = BirdPaths(tmp_path, node.name)
    files = render_node_config(node, topo, paths, BirdOptions())
    assert "route 10.244.0.0/26 blackhole;" in files[paths.aggr]
    assert "if ( net = 10.244.0.0/26 ) then { accept; }" in files[paths.aggr]
    assert "if ( net ~ 10.244.0.0/16 ) then" in files[paths.ipam]
    assert f'include "{paths.aggr}";' in files[paths.config]


def test_timers_come_from_options(tmp_path: Path) -> None:
    topo = full_mesh(2)
    paths = BirdPaths(tmp_path, "x")
    text = render_node_config(topo.nodes[0], topo, paths, BirdOptions(hold_time=30, graceful_restart=False))[paths.config]
    assert "hold time 30;" in text and "graceful restart" not in text.split("template bgp")[1]


@needs_bird
@pytest.mark.bird
@pytest.mark.parametrize("kind", ["mesh", "rr"])
def test_bird_parses_every_rendered_config(tmp_path: Path, kind: str) -> None:
    topo = full_mesh(4) if kind == "mesh" else hand_built_rr_topology(9, reflectors=4, k=2)
    for node in topo.nodes:
        check_config(write_node_config(node, topo, BirdPaths(tmp_path, node.name), BirdOptions(debug=True)))


@needs_bird
@pytest.mark.bird
def test_bird_rejects_a_broken_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cfg"
    bad.write_text("protocol bgp {\n  neighbor nonsense;\n")
    with pytest.raises(HostError, match="bird rejected"):
        check_config(bad)


@pytest.mark.parametrize(
    "opts",
    [BirdOptions(hold_time=2), BirdOptions(keepalive=9), BirdOptions(error_wait_min=6), BirdOptions(scan_time=0)],
)
def test_nonsense_timers_are_input_errors(opts: BirdOptions) -> None:
    from calicotool.errors import InputError

    with pytest.raises(InputError):
        opts.validate()
    BirdOptions().validate()
