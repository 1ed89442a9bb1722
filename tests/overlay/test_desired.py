"""Tables for datastore -> desired kernel state, the kernel diff, and netlink request normalisation (IPIP too:
this kernel has no ipip module, so its requests are checked here rather than executed)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from calicotool.model.resource import Resource
from calicotool.overlay import ipam
from calicotool.overlay import nlrequests as rq
from calicotool.overlay.config import OverlayConfig
from calicotool.overlay.desired import FORWARDING_SYSCTL, LocalNode, cluster_view, desired_state
from calicotool.overlay.kstate import ROUTE_PROTOCOL, Address, Fdb, HostState, Link, Neighbour, Route, diff

VXLAN = OverlayConfig("pool", ipaddress.IPv4Network("10.244.0.0/16"), 26, "vxlan")
IPIP = OverlayConfig("pool", ipaddress.IPv4Network("10.244.0.0/16"), 26, "ipip")
DEV = "vxlan.calico"


def node(name: str, ip: str, tunnel: str | None, mac: str | None = None, ipip: str | None = None) -> Resource:
    spec: dict[str, object] = {"bgp": {"ipv4Address": f"{ip}/24", **({"ipv4IPIPTunnelAddr": ipip} if ipip else {})}}
    if tunnel:
        spec["ipv4VXLANTunnelAddr"] = tunnel
    if mac:
        spec["vxlanTunnelMACAddr"] = mac
    return Resource.new("Node", name, spec)


def block(cidr: str, host: str, borrowed: dict[int, str] | None = None) -> Resource:
    spec = ipam.new_block(ipaddress.IPv4Network(cidr), host)
    for ordinal, owner in (borrowed or {}).items():
        spec["attributes"].append({"handle_id": f"pod-{ordinal}", "secondary": {"node": owner}})
        spec["allocations"][ordinal] = len(spec["attributes"]) - 1
        spec["unallocated"].remove(ordinal)
    return Resource.new("IPAMBlock", ipam.block_name(cidr), spec)


HOST = LocalNode("h", "eth0", "192.0.2.10", 1500, "10.244.9.0", "66:00:00:00:00:99", extra_ips=("10.244.9.1",))
NODES = [node("h", "192.0.2.10", "10.244.9.0"), node("n1", "192.0.2.1", "10.244.1.0", "66:00:00:00:00:01"),
         node("n2", "192.0.2.2", "10.244.2.0"), node("bare", "192.0.2.3", None)]
BLOCKS = [block("10.244.1.0/26", "n1"), block("10.244.1.64/26", "n1"), block("10.244.2.0/26", "n2", {5: "n1"}),
          block("10.244.9.0/26", "h"), block("10.244.3.0/26", "bare")]


def test_vxlan_desired_state() -> None:
    state = desired_state(HOST, cluster_view(NODES, BLOCKS), VXLAN)
    assert state.links == {DEV: Link(DEV, "vxlan", 1450, "66:00:00:00:00:99", 4096, 4789, "192.0.2.10", "eth0")}
    assert state.addresses == {Address(DEV, "10.244.9.0"), Address(DEV, "10.244.9.1")}
    from calicotool.overlay.vtep import vtep_mac
    assert set(state.neighbours.values()) == {Neighbour(DEV, "10.244.1.0", "66:00:00:00:00:01"),
                                              Neighbour(DEV, "10.244.2.0", vtep_mac("n2"))}
    assert set(state.fdb.values()) == {Fdb(DEV, "66:00:00:00:00:01", "192.0.2.1"), Fdb(DEV, vtep_mac("n2"), "192.0.2.2")}
    src = "10.244.9.1"
    assert state.routes == {
        "10.244.1.0/26": Route("10.244.1.0/26", gateway="10.244.1.0", dev=DEV, onlink=True, prefsrc=src),
        "10.244.1.64/26": Route("10.244.1.64/26", gateway="10.244.1.0", dev=DEV, onlink=True, prefsrc=src),
        "10.244.2.0/26": Route("10.244.2.0/26", gateway="10.244.2.0", dev=DEV, onlink=True, prefsrc=src),
        "10.244.2.5/32": Route("10.244.2.5/32", gateway="10.244.1.0", dev=DEV, onlink=True, prefsrc=src),  # borrowed
        "10.244.9.0/26": Route("10.244.9.0/26", type="blackhole"),
    }  # node "bare" has no VTEP: no route for its block
    assert state.sysctls == {FORWARDING_SYSCTL: "1"}


def test_remote_tunnel_outside_own_blocks_gets_direct_route() -> None:
    nodes = [node("n1", "192.0.2.1", "10.244.7.7")]
    state = desired_state(HOST, cluster_view(nodes, [block("10.244.1.0/26", "n1")]), VXLAN)
    assert state.routes["10.244.7.7/32"] == Route("10.244.7.7/32", dev=DEV, prefsrc="10.244.9.1")


def test_ipip_desired_state() -> None:
    nodes = [node("n1", "192.0.2.1", None, ipip="10.244.1.0"), node("h", "192.0.2.10", None)]
    state = desired_state(HOST, cluster_view(nodes, BLOCKS[:1] + BLOCKS[3:4]), IPIP)
    assert state.links == {"tunl0": Link("tunl0", "ipip", 1480)}
    assert not state.neighbours and not state.fdb
    assert state.routes["10.244.1.0/26"] == Route("10.244.1.0/26", gateway="192.0.2.1", dev="tunl0", onlink=True,
                                                  prefsrc="10.244.9.1")


def test_deleted_blocks_are_ignored() -> None:
    b = block("10.244.1.0/26", "n1")
    b.spec["deleted"] = True
    assert "10.244.1.0/26" not in desired_state(HOST, cluster_view(NODES, [b]), VXLAN).routes


# -- diff -------------------------------------------------------------------------------------------------------
def _state(*objs: object) -> HostState:
    s = HostState()
    for o in objs:
        s.add(o)  # type: ignore[arg-type]
    return s


LINK = Link(DEV, "vxlan", 1450, "66:00:00:00:00:99", 4096, 4789, "192.0.2.10", "eth0")
R1 = Route("10.244.1.0/26", gateway="10.244.1.0", dev=DEV, onlink=True)


def test_diff_no_change_is_empty() -> None:
    s = desired_state(HOST, cluster_view(NODES, BLOCKS), VXLAN)
    s.sysctls = {FORWARDING_SYSCTL: "1"}
    assert diff(s, desired_state(HOST, cluster_view(NODES, BLOCKS), VXLAN)) == []


def test_diff_orders_removals_before_additions() -> None:
    cur = _state(LINK, Address(DEV, "10.244.9.0"), R1, Neighbour(DEV, "10.244.1.0", "66:00:00:00:00:01"))
    want = _state(LINK, Address(DEV, "10.244.9.0"), Route("10.244.2.0/26", gateway="10.244.2.0", dev=DEV, onlink=True),
                  Neighbour(DEV, "10.244.2.0", "66:00:00:00:00:02"))
    assert [o.describe().split(" ")[0:2] for o in diff(cur, want)] == [
        ["del", "route"], ["del", "neighbour"], ["add", "neighbour"], ["add", "route"]]


def test_diff_replaces_changed_route_and_sets_mtu() -> None:
    cur = _state(LINK, R1)
    moved = Route("10.244.1.0/26", gateway="10.244.5.0", dev=DEV, onlink=True)
    want = _state(Link(DEV, "vxlan", 1400, LINK.mac, 4096, 4789, "192.0.2.10", "eth0"), moved)
    assert [(o.action, o.obj) for o in diff(cur, want)] == [("set", want.links[DEV]), ("replace", moved)]


def test_diff_recreates_link_when_vni_changes() -> None:
    cur = _state(LINK, Address(DEV, "10.244.9.0"), R1)
    new_link = Link(DEV, "vxlan", 1450, LINK.mac, 4097, 4789, "192.0.2.10", "eth0")
    want = _state(new_link, Address(DEV, "10.244.9.0"), R1)
    ops = [(o.action, o.obj) for o in diff(cur, want)]
    assert ops == [("del", LINK), ("add", new_link), ("add", Address(DEV, "10.244.9.0")), ("add", R1)]


def test_diff_to_empty_deletes_link_only_once() -> None:
    cur = _state(LINK, Address(DEV, "10.244.9.0"), R1, Route("10.244.9.0/26", type="blackhole"))
    ops = [(o.action, o.obj) for o in diff(cur, HostState())]
    assert ops == [("del", Route("10.244.9.0/26", type="blackhole")), ("del", LINK)]


# -- netlink request normalisation ------------------------------------------------------------------------------
INDEX = {"eth0": 2, DEV: 7, "tunl0": 9}.__getitem__


@pytest.mark.parametrize(("obj", "expected"), [
    (LINK, {"ifname": DEV, "kind": "vxlan", "mtu": 1450, "vxlan_id": 4096, "vxlan_port": 4789, "vxlan_learning": 0,
            "vxlan_link": 2, "vxlan_local": "192.0.2.10", "address": "66:00:00:00:00:99"}),
    (Link("tunl0", "ipip", 1480), {"ifname": "tunl0", "kind": "ipip", "mtu": 1480}),
])
def test_link_add_request(obj: Link, expected: dict[str, object]) -> None:
    assert rq.link_add(obj, INDEX) == expected


def test_link_set_request_ipip_has_no_mac() -> None:
    assert rq.link_set(Link("tunl0", "ipip", 1480), 9) == {"index": 9, "mtu": 1480, "state": "up"}


@pytest.mark.parametrize(("route", "expected"), [
    (Route("10.244.1.0/26", gateway="192.0.2.1", dev="tunl0", onlink=True, prefsrc="10.244.9.1"),
     {"dst": "10.244.1.0/26", "proto": ROUTE_PROTOCOL, "table": 254, "family": socket.AF_INET, "type": "unicast",
      "oif": 9, "gateway": "192.0.2.1", "flags": rq.RTNH_F_ONLINK, "prefsrc": "10.244.9.1"}),
    (Route("10.244.9.0/26", type="blackhole"),
     {"dst": "10.244.9.0/26", "proto": ROUTE_PROTOCOL, "table": 254, "family": socket.AF_INET, "type": "blackhole"}),
    (Route("10.244.7.7/32", dev=DEV),
     {"dst": "10.244.7.7/32", "proto": ROUTE_PROTOCOL, "table": 254, "family": socket.AF_INET, "type": "unicast",
      "oif": 7, "scope": 253}),
])
def test_route_request(route: Route, expected: dict[str, object]) -> None:
    assert rq.route_request(route, INDEX) == expected


def test_neigh_and_fdb_requests_are_permanent() -> None:
    assert rq.neigh_request(Neighbour(DEV, "10.244.1.0", "66:00:00:00:00:01"), INDEX) == {
        "dst": "10.244.1.0", "lladdr": "66:00:00:00:00:01", "ifindex": 7, "state": rq.NUD_PERMANENT,
        "family": socket.AF_INET}
    assert rq.fdb_request(Fdb(DEV, "66:00:00:00:00:01", "192.0.2.1"), INDEX) == {
        "ifindex": 7, "lladdr": "66:00:00:00:00:01", "dst": "192.0.2.1", "state": rq.NUD_PERMANENT,
        "flags": rq.NTF_SELF}


def test_ipip_enrollment_requests_end_to_end() -> None:
    """The full IPIP plan, as the requests the adapter would send (kernel test skipped: no ipip module)."""
    nodes = [node("n1", "192.0.2.1", None, ipip="10.244.1.0")]
    ops = diff(HostState(), desired_state(HOST, cluster_view(nodes, BLOCKS[:1] + BLOCKS[3:4]), IPIP))
    assert [o.describe() for o in ops] == [
        "add link tunl0 type ipip mtu 1480",
        "add address 10.244.9.0/32 dev tunl0",
        "add address 10.244.9.1/32 dev tunl0",
        f"add route 10.244.1.0/26 via 192.0.2.1 dev tunl0 onlink src 10.244.9.1 proto {ROUTE_PROTOCOL}",
        f"add route blackhole 10.244.9.0/26 proto {ROUTE_PROTOCOL}",
        "set sysctl net.ipv4.ip_forward=1",
    ]
