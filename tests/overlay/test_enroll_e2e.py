"""End to end: three cluster nodes with pods in namespaces, programmed from a real etcd, and an external host
enrolled through the CLI. Traffic both ways, MTU, re-enroll, sync on join/leave, clean unenroll."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from calicotool.cli.context import Environment
from calicotool.cli.main import main
from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.lab import netns as lab
from calicotool.lab.probes import tcp_probe
from tests.fixtures.etcd import EtcdServer
from tests.overlay.overlay_lab import OverlayLab, datastore_snapshot, kernel_snapshot, ping, seed_pool

pytestmark = [pytest.mark.kernel, pytest.mark.etcd, pytest.mark.slow]


def cli(url: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--datastore", f"etcdv3:{url}", *args], env=Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cluster(etcd_clean: EtcdServer, netns_registry: lab.CleanupRegistry) -> Iterator[OverlayLab]:
    store = EtcdStore.from_spec(etcd_clean.client_url, {})
    seed_pool(store)
    overlay = OverlayLab(store, netns_registry)
    for i in range(1, 4):
        overlay.add_node(f"node{i}")
    overlay.program_all()
    yield overlay
    store.close()


def _both_ways(overlay: OverlayLab, host_ns: str, host_ip: str) -> list[str]:
    failures = []
    for member in overlay.members.values():
        for pod in member.pods:
            if not ping(host_ns, pod.ip, src=host_ip):
                failures.append(f"ping host->{pod.name}")
            if not ping(pod.ns, host_ip):
                failures.append(f"ping {pod.name}->host")
            for src_ns, src, dst_ns, dst in ((host_ns, host_ip, pod.ns, pod.ip), (pod.ns, pod.ip, host_ns, host_ip)):
                probe = tcp_probe(src_ns, src, dst_ns, dst)
                if not probe.ok:
                    failures.append(f"tcp {src}->{dst}: {probe.detail}")
    return failures


def test_enroll_traffic_sync_unenroll(cluster: OverlayLab, etcd_clean: EtcdServer) -> None:
    url, store = etcd_clean.client_url, cluster.store
    host_ns, underlay_ip = cluster.host_netns()
    kernel_before, store_before = kernel_snapshot(host_ns), datastore_snapshot(store)
    # pods on the nodes already reach each other across the overlay (the nodes were programmed from etcd)
    pods = [p for m in cluster.members.values() for p in m.pods]
    assert ping(pods[0].ns, pods[1].ip) and ping(pods[2].ns, pods[0].ip)

    code, out, err = cli(url, "host", "enroll", "legacy-db", "--address", f"{underlay_ip}/24", "--interface", "eth0",
                         "--labels", "role=db,env=prod", "--netns", host_ns, "-o", "json")
    assert code == 0, err
    result = json.loads(out)
    host_ip, tunnel_ip = result["host_ip"], result["tunnel_ip"]
    assert result["changed"] and result["netlink_writes"] > 0
    node = store.get("Node", "legacy-db")
    assert node.spec["bgp"]["ipv4Address"] == f"{underlay_ip}/24" and node.spec["ipv4VXLANTunnelAddr"] == tunnel_ip
    assert store.get("HostEndpoint", "legacy-db").labels["role"] == "db"
    cluster.program_all()  # Felix on the nodes learns the new VTEP and block

    assert _both_ways(cluster, host_ns, host_ip) == []
    pod = pods[0]
    assert ping(host_ns, pod.ip, size=1450 - 28, dont_fragment=True, src=host_ip)
    assert not ping(host_ns, pod.ip, size=1450 - 27, dont_fragment=True, src=host_ip)

    # re-enroll: nothing to do, same addresses
    code, out, err = cli(url, "host", "enroll", "legacy-db", "--address", f"{underlay_ip}/24", "--interface", "eth0",
                         "--labels", "role=db,env=prod", "--netns", host_ns)
    assert code == 0, err
    assert "nothing to do" in out and host_ip in out
    assert cli(url, "host", "status", "legacy-db", "--netns", host_ns)[0] == 0

    # a node joins: the host drifts until sync, then reaches the new pod; a second sync writes nothing
    joined = cluster.add_node("node4")
    cluster.program_all()
    code, out, _ = cli(url, "host", "status", "legacy-db", "--netns", host_ns)
    assert code == 1 and "10.244." in out
    code, out, err = cli(url, "host", "sync", "legacy-db", "--netns", host_ns, "-o", "json")
    assert code == 0, err
    assert json.loads(out)["netlink_writes"] == 3  # neighbour, FDB entry, route
    assert tcp_probe(host_ns, host_ip, joined.pods[0].ns, joined.pods[0].ip).ok
    code, out, _ = cli(url, "host", "sync", "legacy-db", "--netns", host_ns, "-o", "json")
    assert code == 0 and json.loads(out)["netlink_writes"] == 0

    # the node leaves: sync removes exactly its state
    cluster.remove_node("node4")
    cluster.program_all()
    code, out, _ = cli(url, "host", "sync", "legacy-db", "--netns", host_ns, "-o", "json")
    assert code == 0 and json.loads(out)["netlink_writes"] == 3
    assert _both_ways(cluster, host_ns, host_ip) == []

    code, out, _ = cli(url, "host", "list", "-o", "json")
    assert [h["name"] for h in json.loads(out)] == ["legacy-db"]

    code, out, err = cli(url, "host", "unenroll", "legacy-db", "--netns", host_ns)
    assert code == 0, err
    assert kernel_snapshot(host_ns) == kernel_before
    assert datastore_snapshot(store) == store_before
