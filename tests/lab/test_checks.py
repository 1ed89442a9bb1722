"""birdc parsing and the convergence rules, on canned input (pure)."""

from __future__ import annotations

import pytest

from calicotool.errors import HostError
from calicotool.lab.bird_process import ProtocolState, parse_protocols, parse_route_count
from calicotool.lab.checks import check_routes, check_sessions
from calicotool.lab.netns import RouteEntry
from calicotool.lab.topology import full_mesh

SHOW_PROTOCOLS = """BIRD 1.6.8 ready.
name     proto    table    state  since       info
static1  Static   master   up     1795446398
kernel1  Kernel   master   up     1795446398
Mesh_192_168_128_2 BGP      master   up     1795446399  Established
Mesh_192_168_128_3 BGP      master   start  1795446400  Active        Socket: Connection refused
Mesh_192_168_128_4 BGP      master   start  1795446400  Connect
"""


def test_parse_protocols() -> None:
    rows = {r.name: r for r in parse_protocols(SHOW_PROTOCOLS)}
    assert len(rows) == 5
    assert rows["Mesh_192_168_128_2"].established
    assert rows["Mesh_192_168_128_3"].info == "Active        Socket: Connection refused"
    assert not rows["Mesh_192_168_128_3"].established
    assert rows["static1"].info == "" and not rows["static1"].established


@pytest.mark.parametrize(
    ("text", "n"), [("BIRD 1.6.8 ready.\n3 of 12 routes for 12 networks\n", 3), ("0 of 0 routes for 0 networks", 0)]
)
def test_parse_route_count(text: str, n: int) -> None:
    assert parse_route_count(text) == n


def test_parse_route_count_rejects_garbage() -> None:
    with pytest.raises(HostError):
        parse_route_count("BIRD 1.6.8 ready.\nsyntax error\n")


def _up(name: str) -> ProtocolState:
    return ProtocolState(name, "BGP", "master", "up", "0", "Established")


def test_sessions_ignore_stopped_peers() -> None:
    topo = full_mesh(3)
    n1 = topo.nodes[0]
    protos = {"Mesh_192_168_128_2": _up("Mesh_192_168_128_2")}
    alive = {"node1", "node2", "node3"}
    res = check_sessions(n1, topo, protos, alive)
    assert res["down_sessions"] == ("Mesh_192_168_128_3",) and res["sessions_up"] == 1
    assert check_sessions(n1, topo, protos, alive - {"node3"})["down_sessions"] == ()


def test_routes_missing_wrong_next_hop_and_own_blackhole() -> None:
    topo = full_mesh(3)
    n1 = topo.nodes[0]
    alive = {"node1", "node2", "node3"}
    good = [
        RouteEntry("10.244.0.0/26", None, None, "bird", "blackhole"),
        RouteEntry("10.244.0.64/26", "192.168.128.2", "eth0", "bird", "unicast"),
        RouteEntry("10.244.0.128/26", "192.168.128.3", "eth0", "bird", "unicast"),
    ]
    res = check_routes(n1, topo, good, alive)
    assert res["blocks_learned"] == 2 and not res["missing_blocks"] and not res["own_blocks_missing"]
    wrong = [good[0], good[1], RouteEntry("10.244.0.128/26", "192.168.128.2", "eth0", "bird", "unicast")]
    assert check_routes(n1, topo, wrong, alive)["wrong_next_hop"]
    static = [good[0], good[1], RouteEntry("10.244.0.128/26", "192.168.128.3", "eth0", "static", "unicast")]
    assert check_routes(n1, topo, static, alive)["missing_blocks"] == ("10.244.0.128/26",)  # not from BIRD
    assert check_routes(n1, topo, good[1:], alive)["own_blocks_missing"] == ("10.244.0.0/26",)
    assert check_routes(n1, topo, good[:2], alive - {"node3"})["blocks_expected"] == 1


def test_blocks_of_stopped_nodes_still_routed_are_stale() -> None:
    topo = full_mesh(3)
    n1 = topo.nodes[0]
    table = [
        RouteEntry("10.244.0.0/26", None, None, "bird", "blackhole"),
        RouteEntry("10.244.0.64/26", "192.168.128.2", "eth0", "bird", "unicast"),
        RouteEntry("10.244.0.128/26", "192.168.128.3", "eth0", "bird", "unicast"),
    ]
    res = check_routes(n1, topo, table, {"node1", "node2"})
    assert res["stale_blocks"] == ("10.244.0.128/26",)
    assert check_routes(n1, topo, table[:2], {"node1", "node2"})["stale_blocks"] == ()
