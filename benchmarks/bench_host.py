#!/usr/bin/env python3
"""Host-enrollment figures against a real etcd and real namespaces:

1. enroll time against N remote nodes (each with a VTEP and a block), and how many routes + neighbours + FDB
   entries it wrote;
2. `host sync` with nothing changed: netlink writes (must be 0);
3. iperf3 TCP throughput host -> pod over the VXLAN overlay, as a ratio of host -> node over the bare underlay.

    python benchmarks/bench_host.py                                       # quick (seconds): 10 and 50 nodes
    python benchmarks/bench_host.py --nodes 50 500 --rounds 3 --seconds 2  # the figures in docs/host-enrollment.md
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.datastore.base import Change, Op
from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.lab import netns as lab
from calicotool.model.resource import Resource
from calicotool.overlay import enroll as enrollment
from calicotool.overlay import hostops, ipam
from calicotool.overlay.vtep import vtep_mac
from tests.fixtures.etcd import start_etcd
from tests.overlay.overlay_lab import OverlayLab, seed_pool

POOL = ipaddress.IPv4Network("10.128.0.0/9")


def remote_nodes(count: int) -> list[Change]:
    """N cluster nodes as the datastore holds them: Node + affine block with the tunnel address allocated."""
    changes = []
    blocks = POOL.subnets(new_prefix=26)
    for i in range(count):
        name, cidr = f"remote-{i:04d}", next(blocks)
        spec, tunnel = ipam.assign(ipam.new_block(cidr, name), ipam.tunnel_handle(name, "vxlan"),  # type: ignore[misc]
                                   {"node": name, "type": ipam.TYPE_VXLAN})
        underlay = ipaddress.IPv4Address("172.16.0.0") + 1 + i
        changes += [
            Change(Op.CREATE, Resource.new("IPAMBlock", ipam.block_name(cidr), spec)),
            Change(Op.CREATE, Resource.new("Node", name, {"bgp": {"ipv4Address": f"{underlay}/12"},
                                                          "ipv4VXLANTunnelAddr": str(tunnel),
                                                          "vxlanTunnelMACAddr": vtep_mac(name)})),
        ]
    return changes


def bench_enroll(url: str, count: int, registry: lab.CleanupRegistry) -> None:
    store = EtcdStore.from_spec(url, {})
    seed_pool(store, cidr=str(POOL))
    store.apply_batch(remote_nodes(count))
    ns = lab.create_netns(stem="bench", registry=registry)
    lab.create_veth_pair(ns, "eth0", ns, "eth1")
    lab.add_address(ns, "eth0", "172.31.255.1/12")
    req = enrollment.EnrollRequest("bench-host", "172.31.255.1/12", netns=ns)
    start = time.perf_counter()
    result = enrollment.enroll(store, req)
    elapsed = time.perf_counter() - start
    kinds = {k: sum(1 for op in result.kernel_ops if f" {k} " in f" {op} ") for k in ("route", "neighbour", "fdb")}
    sync_start = time.perf_counter()
    sync = hostops.sync(store, "bench-host", ns)
    sync_elapsed = time.perf_counter() - sync_start
    print(f"enroll vs {count:4d} remote nodes: {elapsed * 1000:8.1f} ms  ({kinds['route']} routes, "
          f"{kinds['neighbour']} neighbours, {kinds['fdb']} FDB entries; {result.netlink_writes} netlink writes, "
          f"{len(result.datastore_writes)} datastore writes)")
    print(f"sync, no change, {count:4d} remote nodes: {sync.netlink_writes} netlink writes "
          f"({sync_elapsed * 1000:.1f} ms to read and compare)")
    hostops.unenroll(store, "bench-host", ns)
    lab.delete_netns(ns)
    store.close()


def iperf(client_ns: str, server_ns: str, server_ip: str, src: str, seconds: float) -> float:
    server = lab.popen_in_netns(server_ns, ["iperf3", "-s", "-1", "-B", server_ip, "-p", "5599"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        out = lab.run_in_netns(client_ns, ["iperf3", "-c", server_ip, "-B", src, "-p", "5599", "-t", str(seconds),
                                           "-J"], timeout=seconds + 20).stdout
        return float(json.loads(out)["end"]["sum_received"]["bits_per_second"])
    finally:
        lab.stop_process(server)


def bench_throughput(url: str, registry: lab.CleanupRegistry, seconds: float, rounds: int) -> None:
    store = EtcdStore.from_spec(url, {})
    seed_pool(store)
    overlay = OverlayLab(store, registry)
    node = overlay.add_node("node1")
    host_ns, host_underlay = overlay.host_netns()
    result = enrollment.enroll(store, enrollment.EnrollRequest("iperf-host", f"{host_underlay}/24", netns=host_ns))
    overlay.program_all()
    pod = node.pods[0]
    overs, bares = [], []
    for _ in range(rounds):  # alternate, so CPU contention from other work hits both paths alike
        overs.append(iperf(host_ns, pod.ns, pod.ip, result.host_ip, seconds))
        bares.append(iperf(host_ns, node.ns, node.underlay_ip, host_underlay, seconds))
    over, bare = statistics.median(overs), statistics.median(bares)
    print(f"iperf3 TCP host->pod over VXLAN: {over / 1e9:.2f} Gbit/s; host->node on the bare underlay: "
          f"{bare / 1e9:.2f} Gbit/s; ratio {over / bare:.2f} (median of {rounds} alternating {seconds:g}s runs)")
    hostops.unenroll(store, "iperf-host", host_ns)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--seconds", type=float, default=1.0, help="iperf3 duration")
    parser.add_argument("--rounds", type=int, default=1, help="alternating iperf3 rounds per path")
    parser.add_argument("--no-iperf", action="store_true")
    args = parser.parse_args()
    server = start_etcd()
    try:
        for count in args.nodes:
            server.wipe()
            with lab.CleanupRegistry() as registry:
                bench_enroll(server.client_url, count, registry)
        if not args.no_iperf and shutil.which("iperf3"):
            server.wipe()
            with lab.CleanupRegistry() as registry:
                bench_throughput(server.client_url, registry, args.seconds, args.rounds)
    finally:
        server.stop()
        server.log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
