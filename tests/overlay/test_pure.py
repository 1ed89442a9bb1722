"""Tables for the pure core: VTEP MAC/MTU facts, pool selection, IPAM block transforms."""

from __future__ import annotations

import hashlib
import ipaddress

import pytest

from calicotool.errors import InputError
from calicotool.model.resource import Resource
from calicotool.overlay import ipam, vtep
from calicotool.overlay.config import overlay_config, select_pool


# -- vtep -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["node1", "k8s-worker-17.example.com", "h"])
def test_vtep_mac_is_felix_derivation(name: str) -> None:
    mac = vtep.vtep_mac(name)
    octets = bytes(int(x, 16) for x in mac.split(":"))
    assert octets[0] == ord("f") and octets[1:] == hashlib.sha1(name.encode()).digest()[:5]
    assert octets[0] & 0x02 and not octets[0] & 0x01  # locally administered unicast
    assert vtep.vtep_mac(name, ipv6=True) != mac


@pytest.mark.parametrize(("name", "mac"), [("node1", "66:f9:37:c3:7e:94"), ("host-a", "66:b7:a0:7e:28:cc")])
def test_vtep_mac_known_values(name: str, mac: str) -> None:
    # sha1("node1") starts f937c37e94: Felix's MAC is 'f' (0x66) followed by those five bytes.
    assert vtep.vtep_mac(name) == mac


@pytest.mark.parametrize(("underlay", "mode", "expected"), [(1500, "vxlan", 1450), (9000, "vxlan", 8950),
                                                            (1500, "ipip", 1480)])
def test_tunnel_mtu(underlay: int, mode: str, expected: int) -> None:
    assert vtep.tunnel_mtu(underlay, mode) == expected


@pytest.mark.parametrize("bad", ["66:00:00:00:00", "zz:00:00:00:00:00", ""])
def test_normalise_mac_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        vtep.normalise_mac(bad)


# -- config -----------------------------------------------------------------------------------------------------
def pool(name: str, cidr: str, **spec: object) -> Resource:
    return Resource.new("IPPool", name, {"cidr": cidr, **spec})


def test_overlay_config_defaults_and_felix_overrides() -> None:
    cfg = overlay_config([pool("p", "10.244.0.0/16", vxlanMode="Always")], [])
    assert (cfg.mode, cfg.block_size, cfg.vni, cfg.port, cfg.tunnel_mtu(1500)) == ("vxlan", 26, 4096, 4789, 1450)
    felix = Resource.new("FelixConfiguration", "default", {"vxlanVNI": 7, "vxlanPort": 8472, "vxlanMTU": 1400})
    cfg = overlay_config([pool("p", "10.244.0.0/16", vxlanMode="CrossSubnet", blockSize=28)], [felix])
    assert (cfg.block_size, cfg.vni, cfg.port, cfg.tunnel_mtu(1500), cfg.device) == (28, 7, 8472, 1400, "vxlan.calico")


@pytest.mark.parametrize(("pools", "mode", "expected"), [
    ([pool("a", "10.1.0.0/16", ipipMode="Always"), pool("b", "10.2.0.0/16", vxlanMode="Always")], None, ("a", "ipip")),
    ([pool("a", "10.1.0.0/16", ipipMode="Always"), pool("b", "10.2.0.0/16", vxlanMode="Always")], "vxlan", ("b", "vxlan")),
    ([pool("a", "10.1.0.0/16", vxlanMode="Always", disabled=True), pool("b", "10.2.0.0/16", vxlanMode="Always")],
     None, ("b", "vxlan")),
    ([pool("v6", "fd00::/48", vxlanMode="Always"), pool("b", "10.2.0.0/16", vxlanMode="Always")], None, ("b", "vxlan")),
])
def test_select_pool(pools: list[Resource], mode: str | None, expected: tuple[str, str]) -> None:
    chosen, m = select_pool(pools, mode)
    assert (chosen.name, m) == expected


@pytest.mark.parametrize(("pools", "mode", "message"), [
    ([], None, "no enabled IPv4 IPPool"),
    ([pool("a", "10.1.0.0/16")], None, "no IPPool enables the overlay"),
    ([pool("a", "10.1.0.0/16", ipipMode="Always")], "vxlan", "vxlanMode Always"),
    ([pool("a", "10.1.0.0/16", vxlanMode="Always")], "gre", "--mode must be"),
    ([pool("a", "10.1.0.0/16", vxlanMode="Always", blockSize=8)], None, "blockSize 8"),
])
def test_pool_errors(pools: list[Resource], mode: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        overlay_config(pools, [], mode)


# -- ipam -------------------------------------------------------------------------------------------------------
NET = ipaddress.IPv4Network("10.244.1.0/29")


def test_names_follow_calico() -> None:
    assert ipam.block_name(NET) == "10-244-1-0-29"
    assert ipam.affinity_name("node-a", NET) == "node-a-10-244-1-0-29"
    assert ipam.tunnel_handle("h1", "vxlan") == "vxlan-tunnel-addr-h1"
    assert ipam.tunnel_handle("h1", "ipip") == "ipip-tunnel-addr-h1"


def test_assign_release_roundtrip() -> None:
    block = ipam.new_block(NET, "h1")
    assert block["affinity"] == "host:h1" and len(block["allocations"]) == 8 and block["unallocated"] == list(range(8))
    s1, a1 = ipam.assign(block, "t", {"node": "h1", "type": ipam.TYPE_VXLAN})  # type: ignore[misc]
    s2, a2 = ipam.assign(s1, "h", {"node": "h1"})  # type: ignore[misc]
    s3, a3 = ipam.assign(s2, "h", {"node": "h1"})  # type: ignore[misc]
    assert [str(a1), str(a2), str(a3)] == ["10.244.1.0", "10.244.1.1", "10.244.1.2"]
    assert s3["allocations"][:4] == [0, 1, 1, None] and len(s3["attributes"]) == 2  # same attrs share an entry
    assert ipam.addresses_for_handle(s3, "h") == [a2, a3]
    assert ipam.allocation_owner(s3, a1) == {"handle_id": "t", "secondary": {"node": "h1", "type": ipam.TYPE_VXLAN}}
    r, n = ipam.release(s3, "t")
    assert n == 1 and r["allocations"][:3] == [None, 0, 0]
    assert r["attributes"] == [{"handle_id": "h", "secondary": {"node": "h1"}}]
    assert 0 in r["unallocated"] and not ipam.is_empty(r)
    r2, n2 = ipam.release(r, "h")
    assert n2 == 2 and ipam.is_empty(r2) and sorted(r2["unallocated"]) == list(range(8)) and r2["attributes"] == []
    assert block["unallocated"] == list(range(8))  # inputs untouched


def test_assign_full_block_returns_none() -> None:
    spec = ipam.new_block(ipaddress.IPv4Network("10.0.0.0/31"), "h")
    for _ in range(2):
        spec = ipam.assign(spec, "x", {})[0]  # type: ignore[index]
    assert ipam.assign(spec, "x", {}) is None and ipam.free_count(spec) == 0


def test_free_blocks_skips_taken() -> None:
    pool_net = ipaddress.IPv4Network("10.0.0.0/24")
    free = list(ipam.free_blocks(pool_net, 26, ["10.0.0.0/26", "10.0.0.128/26"]))
    assert [str(b) for b in free] == ["10.0.0.64/26", "10.0.0.192/26"]


def test_handle_add_counts_per_block() -> None:
    h = ipam.handle_add(None, "x", "10.0.0.0/26")
    h = ipam.handle_add(h, "x", "10.0.0.0/26")
    assert h == {"handleID": "x", "block": {"10.0.0.0/26": 2}, "deleted": False}
