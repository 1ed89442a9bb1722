#!/usr/bin/env python3
"""Host-enrollment figures on the Kubernetes datastore, against a real kube-apiserver (Calico v1 CRDs) and a real
namespace:

1. enroll time against N cluster nodes (each a Node with Calico's annotations and an affine IPAM block), median of
   rounds (enroll, unenroll, again), with the API requests one enroll sends by verb;
2. `host sync` with nothing changed: API requests by verb (target: 0 writes) and netlink writes (0);
3. `host enroll` again with nothing changed: data writes (0) besides the per-host Lease lock.

    python benchmarks/bench_host_kube.py                         # quick: 50 nodes, 1 round
    python benchmarks/bench_host_kube.py --nodes 50 500 --rounds 3  # the figures in docs/host-enrollment.md
"""

from __future__ import annotations

import argparse
import collections
import ipaddress
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.datastore.kubernetes import KubeStore
from calicotool.lab import netns as lab
from calicotool.overlay import enroll as enrollment
from calicotool.overlay import hostops
from tests.fixtures.kubeapi import KubeCluster, start_kube

CRD = "/apis/crd.projectcalico.org/v1"
POOL = ipaddress.IPv4Network("10.128.0.0/9")
HOST_ADDRESS = "172.31.255.1/12"


def cluster_nodes(cluster: KubeCluster, count: int) -> None:
    """N nodes as calico-node leaves them: Node + annotations, block with the tunnel address, affinity, handle."""
    blocks = POOL.subnets(new_prefix=26)
    for i in range(count):
        name, cidr = f"node-{i:04d}", next(blocks)
        block = str(cidr).replace(".", "-").replace("/", "-")
        tunnel, underlay = str(cidr[0]), ipaddress.IPv4Address("172.16.0.0") + 1 + i
        spec = {"cidr": str(cidr), "affinity": f"host:{name}", "strictAffinity": False, "deleted": False,
                "allocations": [0] + [None] * 63, "unallocated": list(range(1, 64)), "sequenceNumber": 1,
                "attributes": [{"handle_id": f"vxlan-tunnel-addr-{name}",
                                "secondary": {"node": name, "type": "vxlanTunnelAddress"}}]}
        cluster.request("POST", f"{CRD}/ipamblocks", {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPAMBlock",
                                                       "metadata": {"name": block}, "spec": spec})
        cluster.request("POST", f"{CRD}/blockaffinities", {
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BlockAffinity", "metadata": {"name": f"{name}-{block}"},
            "spec": {"node": name, "cidr": str(cidr), "state": "confirmed", "deleted": "false", "type": "host"}})
        cluster.request("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": name, "labels": {"kubernetes.io/os": "linux"},
            "annotations": {"projectcalico.org/IPv4Address": f"{underlay}/12",
                            "projectcalico.org/IPv4VXLANTunnelAddr": tunnel,
                            "projectcalico.org/VXLANTunnelMACAddr": f"66:00:00:00:{i >> 8:02x}:{i & 0xFF:02x}"}}})


def counting(store: KubeStore) -> collections.Counter[str]:
    """Count every API request the store sends, by verb (and Lease requests apart)."""
    counts: collections.Counter[str] = collections.Counter()
    send: Callable[..., Any] = store.api.request

    def request(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        counts[f"{method}{' lease' if '/leases' in path else ''}"] += 1
        return send(method, path, *args, **kwargs)

    store.api.request = request  # type: ignore[method-assign]
    return counts


def writes(counts: collections.Counter[str]) -> int:
    return sum(n for verb, n in counts.items() if verb.split()[0] != "GET" and "lease" not in verb)


def bench(cluster: KubeCluster, count: int, rounds: int) -> None:
    cluster.wipe()
    cluster.request("POST", f"{CRD}/ippools", {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
                                                "metadata": {"name": "default-ipv4-ippool"},
                                                "spec": {"cidr": str(POOL), "blockSize": 26, "vxlanMode": "Always",
                                                         "ipipMode": "Never", "nodeSelector": "all()"}})
    cluster_nodes(cluster, count)
    with lab.CleanupRegistry() as registry:
        ns = lab.create_netns(stem="kbench", registry=registry)
        lab.create_veth_pair(ns, "eth0", ns, "eth1")
        lab.add_address(ns, "eth0", HOST_ADDRESS)
        store = KubeStore.from_spec(None, cluster.environ())
        counts = counting(store)
        req = enrollment.EnrollRequest("bench-host", HOST_ADDRESS, netns=ns)
        times, result = [], None
        for r in range(rounds):
            counts.clear()
            start = time.perf_counter()
            result = enrollment.enroll(store, req)
            times.append(time.perf_counter() - start)
            enroll_counts = dict(counts)
            if r + 1 < rounds:
                hostops.unenroll(store, "bench-host")
        assert result is not None
        print(f"enroll vs {count:4d} cluster nodes: {statistics.median(times) * 1000:8.1f} ms median of {rounds} "
              f"({result.netlink_writes} netlink writes; API requests {dict(sorted(enroll_counts.items()))})")
        counts.clear()
        start = time.perf_counter()
        sync = hostops.sync(store, "bench-host")
        elapsed = time.perf_counter() - start
        print(f"sync, no change, {count:4d} cluster nodes: {writes(counts)} API writes, {sync.netlink_writes} netlink "
              f"writes, {sum(counts.values())} API requests {dict(sorted(counts.items()))} ({elapsed * 1000:.1f} ms)")
        counts.clear()
        again = enrollment.enroll(store, req)
        print(f"re-enroll, no change, {count:4d} cluster nodes: {writes(counts)} API writes besides the lock "
              f"({'nothing to do' if not again.changed else 'CHANGED'}; lock: "
              f"{sum(n for v, n in counts.items() if 'lease' in v)} Lease requests)")
        hostops.unenroll(store, "bench-host")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[50])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    cluster = start_kube("v1")
    try:
        for count in args.nodes:
            bench(cluster, count, args.rounds)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
