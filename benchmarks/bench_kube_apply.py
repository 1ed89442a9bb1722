#!/usr/bin/env python3
"""Applying N Calico policies to a real kube-apiserver: one request per policy in sequence (the old path) vs the
batched path (`KubeStore.apply_batch`: local checks, a server-side dry run of every change, then concurrent writes
per kind). Prints seconds, policies/s and the ratio, per Calico install mode.

    python benchmarks/bench_kube_apply.py                    # 2,000 policies, v1 CRDs
    python benchmarks/bench_kube_apply.py --count 500 --modes v1 v3 v3-admission --workers 8

Starts the shared kube-apiserver v1.36 (tests/fixtures/kubeapi.py: KUBEBUILDER_ASSETS or ../shared/kube) with its
own Debian etcd on free loopback ports.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.datastore.base import Change, Op
from calicotool.datastore.kubernetes import KubeStore
from calicotool.model.resource import Resource
from tests.fixtures.kubeapi import KubeCluster, kube_binaries_reason, start_kube


def policy(i: int, prefix: str) -> Resource:
    return Resource.new(
        "GlobalNetworkPolicy",
        f"{prefix}-{i:05d}",
        {
            "order": float(i % 1000),
            "selector": f"app == 'svc-{i % 97}'",
            "types": ["Ingress"],
            "ingress": [{"action": "Allow", "protocol": "TCP", "source": {"selector": f"role == 'client-{i % 13}'"},
                         "destination": {"ports": [8000 + i % 100]}}],
        },
        labels={"app.kubernetes.io/managed-by": "calicotool", "bench": prefix},
    )


def run_mode(cluster: KubeCluster, count: int, workers: int) -> tuple[float, float]:
    store = KubeStore.from_spec(None, cluster.environ())
    _ = store.naming  # read ClusterInformation once, outside the timings
    store.storage_for(policy(0, "x").info)  # discovery, likewise
    start = time.perf_counter()
    for i in range(count):
        store.create(policy(i, "seq"))
    sequential = time.perf_counter() - start
    store.batch_workers = workers
    start = time.perf_counter()
    store.apply_batch([Change(Op.CREATE, policy(i, "batch")) for i in range(count)])
    batched = time.perf_counter() - start
    got = len(store.list("GlobalNetworkPolicy", label_selector="bench=batch"))
    assert got == count, f"batched path wrote {got} of {count}"
    store.close()
    return sequential, batched


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--modes", nargs="+", default=["v1"], choices=["v1", "v3", "v3-admission"])
    args = parser.parse_args()
    reason = kube_binaries_reason()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    print(f"{args.count} GlobalNetworkPolicies, batched path with {args.workers} concurrent writers")
    print(f"{'mode':<14}{'sequential s':>14}{'per s':>9}{'batched s':>12}{'per s':>9}{'ratio':>8}")
    for mode in args.modes:
        cluster = start_kube(mode)
        try:
            seq, batch = run_mode(cluster, args.count, args.workers)
        finally:
            cluster.stop()
        print(f"{mode:<14}{seq:>14.2f}{args.count / seq:>9.0f}{batch:>12.2f}{args.count / batch:>9.0f}{seq / batch:>7.2f}x")
    print("(batched includes a server-side dry run of every policy before the first write)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
