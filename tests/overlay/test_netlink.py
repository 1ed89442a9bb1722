"""The netlink adapter against a real namespace: applies a plan, reads it back identically, writes nothing on a
second pass, and never touches objects it does not own."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from calicotool.errors import HostError, InputError
from calicotool.lab import netns as lab
from calicotool.overlay.config import OverlayConfig
from calicotool.overlay.desired import FORWARDING_SYSCTL, BlockInfo, ClusterView, LocalNode, NodeInfo, desired_state
from calicotool.overlay.kstate import HostState, diff
from calicotool.overlay.netlink import NetlinkAdapter

pytestmark = pytest.mark.kernel
CFG = OverlayConfig("p", ipaddress.IPv4Network("10.244.0.0/16"), 26, "vxlan")


def _view(remotes: int) -> ClusterView:
    view = ClusterView()
    for i in range(1, remotes + 1):
        view.nodes[f"n{i}"] = NodeInfo(f"n{i}", f"192.0.2.{i}", f"10.244.{i}.0", f"66:00:00:00:00:{i:02x}", None)
        view.blocks.append(BlockInfo(f"10.244.{i}.0/26", f"n{i}"))
    view.blocks.append(BlockInfo("10.244.99.0/26", "h"))
    return view


@pytest.fixture
def ns(make_netns: Callable[..., str]) -> str:
    name = make_netns("nl")
    lab.create_veth_pair(name, "eth0", name, "eth1")
    lab.add_address(name, "eth0", "192.0.2.100/24")
    lab.add_route(name, "198.51.100.0/24", gateway="192.0.2.254")  # someone else's route
    with lab.netlink(name) as ipr:  # someone else's vxlan device and neighbour
        ipr.link("add", ifname="vxlan.other", kind="vxlan", vxlan_id=5, vxlan_port=4790, vxlan_learning=0)
    lab.add_neighbour(name, "eth0", "192.0.2.254", "02:00:00:00:00:fe")
    return name


LOCAL = LocalNode("h", "eth0", "192.0.2.100", 1500, "10.244.99.0", extra_ips=("10.244.99.1",))


def test_apply_read_back_and_zero_writes_on_resync(ns: str) -> None:
    want = desired_state(LOCAL, _view(3), CFG)
    with NetlinkAdapter(ns) as nl:
        ops = diff(nl.read_state(want.sysctls), want)
        assert nl.apply(ops) == len(ops) + 1  # a new link is added, then set up
        got = nl.read_state(want.sysctls)
        assert got == want
        assert diff(got, want) == [] and nl.apply(diff(got, want)) == 0
        assert got.counts() == {"links": 1, "addresses": 2, "routes": 4, "neighbours": 3, "fdb": 3}
    assert lab.get_sysctl(ns, "net.ipv4.ip_forward") == "1"
    routes = {r.dst: r for r in lab.routes(ns)}
    assert routes["10.244.2.0/26"].gateway == "10.244.2.0" and routes["10.244.2.0/26"].ifname == "vxlan.calico"
    assert routes["10.244.99.0/26"].type == "blackhole"


def test_shrinking_and_teardown_leave_foreign_objects(ns: str) -> None:
    before_links = lab.link_names(ns)
    with NetlinkAdapter(ns) as nl:
        want = desired_state(LOCAL, _view(3), CFG)
        nl.apply(diff(nl.read_state(want.sysctls), want))
        smaller = desired_state(LOCAL, _view(1), CFG)
        ops = diff(nl.read_state(smaller.sysctls), smaller)
        assert sorted(o.action for o in ops) == ["del"] * 6  # 2 routes, 2 fdb, 2 neighbours
        nl.apply(ops)
        assert nl.read_state(smaller.sysctls) == smaller
        nl.apply(diff(nl.read_state([FORWARDING_SYSCTL]), HostState(sysctls={FORWARDING_SYSCTL: "0"})))
        assert nl.read_state([FORWARDING_SYSCTL]) == HostState(sysctls={FORWARDING_SYSCTL: "0"})
    assert lab.link_names(ns) == before_links  # vxlan.other untouched
    assert "198.51.100.0/24" in {r.dst for r in lab.routes(ns)}


def test_adapter_errors_are_located(ns: str) -> None:
    with pytest.raises(InputError, match="no network namespace"):
        NetlinkAdapter("ct-does-not-exist")
    with NetlinkAdapter(ns) as nl:
        with pytest.raises(InputError, match="unknown interface 'eth9'"):
            nl.underlay("eth9")
        bad = desired_state(LocalNode("h", "eth7", "192.0.2.100", 1500, "10.244.99.0"), _view(0), CFG)
        with pytest.raises(HostError, match="no interface 'eth7'"):
            nl.apply(diff(HostState(), bad))


def test_ipip_kernel_path(ns: str) -> None:
    with lab.netlink(ns) as ipr:
        if not ipr.link_lookup(ifname="tunl0"):
            try:
                ipr.link("add", ifname="ipipprobe", kind="ipip")
            except Exception:  # EOPNOTSUPP / unknown kind: no ipip module
                pytest.skip("this kernel has no ipip module: the IPIP path is covered by request tables in "
                            "test_desired.py")
    cfg = OverlayConfig("p", ipaddress.IPv4Network("10.244.0.0/16"), 26, "ipip")
    want = desired_state(LOCAL, _view(2), cfg)
    with NetlinkAdapter(ns) as nl:
        nl.apply(diff(nl.read_state(want.sysctls, devices=["tunl0"]), want))
        assert diff(nl.read_state(want.sysctls, devices=["tunl0"]), want) == []
