"""The enrollment remembers how the host was enrolled (interface, namespace, mode, pool) on its Node, and status,
sync and unenroll act only where those facts still hold (real etcd, real namespaces)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest

from calicotool.cli.context import Environment
from calicotool.cli.main import main
from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.lab import netns as lab
from calicotool.overlay import records
from tests.fixtures.etcd import EtcdServer
from tests.overlay.overlay_lab import datastore_snapshot, kernel_snapshot, seed_pool

pytestmark = [pytest.mark.kernel, pytest.mark.etcd]


class Host:
    def __init__(self, url: str, store: EtcdStore, ns: str) -> None:
        self.url, self.store, self.ns = url, store, ns

    def cli(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--datastore", f"etcdv3:{self.url}", *args], env=Environment(stdout=out, stderr=err, environ={}))
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def host(etcd_clean: EtcdServer, make_netns: Callable[..., str]) -> Iterator[Host]:
    ns = make_netns("rec")
    lab.create_veth_pair(ns, "eth0", ns, "eth1")
    lab.add_address(ns, "eth0", "192.0.2.100/24")
    store = EtcdStore.from_spec(etcd_clean.client_url, {})
    seed_pool(store)
    h = Host(etcd_clean.client_url, store, ns)
    code, _, err = h.cli("host", "enroll", "h1", "--address", "192.0.2.100/24", "--interface", "eth0", "--netns", ns)
    assert code == 0, err
    yield h
    store.close()


def test_the_node_records_interface_namespace_mode_pool(host: Host) -> None:
    e = records.enrollment_from_node(host.store.get("Node", "h1"))
    assert (e.interface, e.netns, e.mode, e.pool) == ("eth0", host.ns, "vxlan", "default-ipv4-ippool")
    # later commands need no --netns: they act in the recorded namespace
    assert host.cli("host", "status", "h1")[0] == 0
    code, out, err = host.cli("host", "sync", "h1")
    assert code == 0 and "in sync, 0 netlink writes" in out, err


def test_another_namespace_is_refused(host: Host, make_netns: Callable[..., str]) -> None:
    other = make_netns("other")
    lab.create_veth_pair(other, "eth0", other, "eth1")
    lab.add_address(other, "eth0", "192.0.2.100/24")
    before = kernel_snapshot(other), datastore_snapshot(host.store)
    for cmd in (("status",), ("sync",), ("sync", "--dry-run"), ("unenroll",)):
        code, _, err = host.cli("host", *cmd, "h1", "--netns", other)
        assert code == 2 and f"enrolled in network namespace {host.ns!r}, not {other!r}" in err, (cmd, err)
    code, _, err = host.cli("host", "enroll", "h1", "--address", "192.0.2.100/24", "--netns", other)
    assert code == 2 and "unenroll it there first" in err
    assert (kernel_snapshot(other), datastore_snapshot(host.store)) == before


def test_address_gone_from_the_interface_refuses_sync_and_unenroll(host: Host) -> None:
    lab.run_in_netns(host.ns, ["ip", "addr", "del", "192.0.2.100/24", "dev", "eth0"])
    lab.add_address(host.ns, "eth1", "192.0.2.100/24")  # the address moved: enroll's underlay no longer holds
    before = kernel_snapshot(host.ns), datastore_snapshot(host.store)
    for cmd in (("status",), ("sync",), ("sync", "--dry-run"), ("unenroll",)):
        code, _, err = host.cli("host", *cmd, "h1")
        assert code == 4 and "enrolled with 192.0.2.100/24 on eth0" in err and "refusing to act" in err, (cmd, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert (kernel_snapshot(host.ns), datastore_snapshot(host.store)) == before
    # --force removes the datastore side only; the kernel is left as it is
    code, out, err = host.cli("host", "unenroll", "h1", "--force")
    assert code == 0 and "left alone" in out, err
    assert datastore_snapshot(host.store) == {k: v for k, v in before[1].items() if k.startswith("IPPool/")}
    assert kernel_snapshot(host.ns) == before[0]


def test_old_enrollment_without_namespace_is_checked_in_the_root_namespace(host: Host) -> None:
    """The reported bug: a dry-run sync without --netns planned vxlan.calico in the root namespace. Now it checks
    that the recorded address is on the recorded interface there, and refuses."""
    node = host.store.get("Node", "h1")
    node.metadata["annotations"].pop(records.A_NETNS)
    host.store.update(node)
    root_links = lab.link_names(None)
    code, out, err = host.cli("host", "sync", "h1", "--dry-run")
    assert code == 4 and "in the root network namespace" in err and "vxlan.calico" not in out, err
    assert lab.link_names(None) == root_links
    # with the namespace given, the old record still works
    assert host.cli("host", "sync", "h1", "--netns", host.ns)[0] == 0
