"""netns primitives against the real kernel, plus the cleanup registry's contract."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from calicotool.errors import HostError
from calicotool.lab import netns as nx
from calicotool.lab.netns import CleanupRegistry
from calicotool.lab.probes import tcp_probe


def test_registry_runs_lifo_and_survives_failures() -> None:
    order: list[int] = []
    reg = CleanupRegistry()
    reg.push(order.append, 1)
    reg.push(lambda: (_ for _ in ()).throw(RuntimeError("boom")), what="failing step")
    reg.push(order.append, 3)
    errors = reg.close()
    assert order == [3, 1]
    assert errors == ["failing step: boom"]
    assert reg.close() == []  # each step runs once


def test_registry_context_manager_raises_host_error_on_cleanup_failure() -> None:
    with pytest.raises(HostError, match="cleanup failed"):
        with CleanupRegistry() as reg:
            reg.push(lambda: 1 / 0, what="divide")


def test_unique_names_and_prefix_rule() -> None:
    a, b = nx.unique_netns_name("x"), nx.unique_netns_name("x")
    assert a != b and a.startswith("ct-x-")
    with pytest.raises(HostError, match="ct-"):
        nx.create_netns("not-ours")


def test_sysctl_key_must_be_net() -> None:
    with pytest.raises(HostError):
        nx.get_sysctl(None, "kernel.hostname")
    with pytest.raises(HostError):
        nx.get_sysctl(None, "net/../kernel/hostname")


@pytest.mark.kernel
def test_cleanup_removes_namespaces_even_when_the_body_fails() -> None:
    from tests.fixtures.netns import kernel_available

    if kernel_available():
        pytest.skip(kernel_available() or "")
    created: list[str] = []
    with pytest.raises(ZeroDivisionError):
        with CleanupRegistry() as reg:
            a = nx.create_netns(stem="t", registry=reg)
            b = nx.create_netns(stem="t", registry=reg)
            nx.create_veth_pair(a, "va", b, "vb", registry=reg)
            created += [a, b]
            assert nx.netns_exists(a)
            1 / 0  # noqa: B018
    assert created and not any(nx.netns_exists(n) for n in created)


@pytest.mark.kernel
def test_veth_addresses_and_ping(make_netns: Callable[..., str], netns_registry: CleanupRegistry) -> None:
    a, b = make_netns("a"), make_netns("b")
    nx.create_veth_pair(a, "eth0", b, "eth0", registry=netns_registry)
    nx.add_address(a, "eth0", "192.168.77.1/24")
    nx.add_address(b, "eth0", "192.168.77.2/24")
    assert nx.link_names(b) == ["eth0", "lo"]
    result = tcp_probe(a, "192.168.77.1", b, "192.168.77.2")
    assert result.ok, result.detail
    assert not tcp_probe(a, None, b, "192.168.78.2", timeout=0.5).ok  # unrouted: must fail
    dsts = {r.dst for r in nx.routes(a)}
    assert "192.168.77.0/24" in dsts


@pytest.mark.kernel
def test_bridge_fabric_routes_and_permanent_neighbours(make_netns: Callable[..., str]) -> None:
    fabric, n1, n2 = make_netns("fab"), make_netns("n1"), make_netns("n2")
    nx.create_bridge(fabric, "br0")
    for i, node in enumerate((n1, n2), start=1):
        nx.create_veth_pair(fabric, f"p{i}", node, "eth0")
        nx.enslave(fabric, f"p{i}", "br0")
        nx.add_address(node, "eth0", f"10.99.0.{i}/24")
        nx.add_address(node, "lo", f"10.100.{i}.1/32")
    mac2 = nx.link_mac(n2, "eth0")
    nx.add_neighbour(n1, "eth0", "10.99.0.2", mac2)
    nx.add_route(n1, "10.100.2.1/32", gateway="10.99.0.2")
    nx.add_route(n2, "10.100.1.1/32", gateway="10.99.0.1")
    nx.add_route(n1, "10.200.0.0/26", kind="blackhole")
    table = {r.dst: r for r in nx.routes(n1)}
    assert table["10.100.2.1/32"].gateway == "10.99.0.2"
    assert table["10.200.0.0/26"].type == "blackhole"
    # loopback-to-loopback across the bridge proves both the routes and the bridge work
    result = tcp_probe(n1, "10.100.1.1", n2, "10.100.2.1")
    assert result.ok, result.detail
    pinned = {e.ip: e for e in nx.neighbours(n1)}["10.99.0.2"]
    assert pinned.permanent and pinned.lladdr == mac2 and pinned.ifname == "eth0"


@pytest.mark.kernel
def test_sysctl_is_per_namespace(make_netns: Callable[..., str]) -> None:
    ns = make_netns("sys")
    host_before = nx.get_sysctl(None, "net.ipv4.ip_forward")
    nx.set_sysctl(ns, "net.ipv4.ip_forward", 1)
    assert nx.get_sysctl(ns, "net.ipv4.ip_forward") == "1"
    assert nx.get_sysctl(None, "net.ipv4.ip_forward") == host_before
    nx.set_sysctl(ns, "net/ipv4/conf/all/rp_filter", "0")
    assert nx.get_sysctl(ns, "net.ipv4.conf.all.rp_filter") == "0"


@pytest.mark.kernel
def test_move_and_rename(make_netns: Callable[..., str]) -> None:
    a, b, c = make_netns("a"), make_netns("b"), make_netns("c")
    nx.create_veth_pair(a, "x0", b, "x1")
    nx.move_link("x1", b, c, new_name="moved")
    assert "moved" in nx.link_names(c) and "x1" not in nx.link_names(b)
    nx.rename_link(a, "x0", "renamed")
    nx.set_link_up(a, "renamed")
    assert "renamed" in nx.link_names(a)
    assert nx.delete_link(a, "renamed") is True
    assert nx.delete_link(a, "renamed") is False
    assert "moved" not in nx.link_names(c)  # the peer died with its twin


@pytest.mark.kernel
def test_missing_namespace_is_a_host_error_and_is_not_created(netns_registry: CleanupRegistry) -> None:
    ghost = nx.unique_netns_name("ghost")
    with pytest.raises(HostError, match="does not exist"):
        nx.link_names(ghost)
    assert not nx.netns_exists(ghost)
    assert nx.delete_netns(ghost) is False


@pytest.mark.kernel
def test_popen_in_netns_sees_only_the_namespace(make_netns: Callable[..., str], netns_registry: CleanupRegistry) -> None:
    ns = make_netns("p")
    proc = nx.popen_in_netns(ns, ["sleep", "30"], stdout=subprocess.DEVNULL)
    netns_registry.add_process(proc)
    out = nx.run_in_netns(ns, ["cat", "/proc/net/dev"]).stdout
    assert "lo:" in out and "eth0" not in out
    assert proc.poll() is None


@pytest.mark.kernel
def test_underlay_pins_peer_neighbours(netns_registry: CleanupRegistry) -> None:
    from calicotool.lab.topology import full_mesh
    from calicotool.lab.underlay import build_underlay

    topo = full_mesh(3)
    layout = build_underlay("u" + nx.unique_netns_name()[-6:], topo, netns_registry, static_neighbours=True)
    netns_registry.netns_created.extend(layout.netns_names())
    table = nx.neighbours(layout.node_ns["node1"])
    assert sorted(e.ip for e in table if e.permanent) == ["192.168.128.2", "192.168.128.3"]
    mac3 = nx.link_mac(layout.node_ns["node3"], "eth0")
    assert {e.ip: e.lladdr for e in table}["192.168.128.3"] == mac3
    result = tcp_probe(layout.node_ns["node1"], "192.168.128.1", layout.node_ns["node3"], "192.168.128.3")
    assert result.ok, result.detail
