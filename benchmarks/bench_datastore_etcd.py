#!/usr/bin/env python3
"""etcdv3 datastore figures against a real etcd: applying N resources one request per resource vs in transactional
batches, and listing with a label selector over M resources. Prints per-resource cost and the batching ratio.

    python benchmarks/bench_datastore_etcd.py                       # quick: 300 / 1,000
    python benchmarks/bench_datastore_etcd.py --count 5000 --list-count 10000
    python benchmarks/bench_datastore_etcd.py --data-parent /var/tmp      # etcd data on disk (real fsync cost)

Starts Debian's /usr/bin/etcd on free loopback ports with a throwaway data dir (or uses --endpoint, whose /calico/
keyspace it wipes), with --max-txn-ops = --batch-size so a batch of that many changes is one transaction.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.datastore.base import Change, Op
from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.model.resource import Resource
from tests.fixtures.etcd import EtcdServer, start_etcd


def policy(i: int, prefix: str = "bench") -> Resource:
    return Resource.new(
        "GlobalNetworkPolicy",
        f"{prefix}-{i:06d}",
        {
            "order": i,
            "selector": f"app == 'svc-{i % 50}'",
            "types": ["Ingress"],
            "ingress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [8000 + i % 100]}}],
        },
        labels={"team": f"t{i % 10}", "app.kubernetes.io/managed-by": "calicotool"},
    )


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def run(store: EtcdStore, wipe: object, count: int, list_count: int, batch_size: int, repeat: int = 3) -> None:
    resources = [policy(i) for i in range(count)]

    wipe()  # type: ignore[operator]
    single = timed(lambda: [store.create(r) for r in resources])
    assert len(store.list("GlobalNetworkPolicy")) == count

    results: list[bool] = []
    runs: list[float] = []
    for _ in range(max(1, repeat)):  # batched runs are short: the median of a few is steadier on a busy machine
        wipe()  # type: ignore[operator]
        runs.append(timed(lambda: results.append(store.apply_batch([Change(Op.CREATE, r) for r in resources]).atomic)))
        assert len(store.list("GlobalNetworkPolicy")) == count
    batched = sorted(runs)[len(runs) // 2]
    transactions = -(-count // batch_size)

    print(f"etcd apply, one request per resource: {count} in {single:.3f}s = {single / count * 1e3:.3f} ms/resource")
    print(
        f"etcd apply, transactional batches:    {count} in {batched:.3f}s = {batched / count * 1e3:.3f} ms/resource "
        f"({transactions} transaction(s) of <= {batch_size}, atomic={results[0]}; median of {len(runs)}: "
        + ", ".join(f"{r:.3f}s" for r in runs)
        + ")"
    )
    print(f"etcd batching speed-up: {single / batched:.1f}x (target >= 10x)")

    wipe()  # type: ignore[operator]
    listed = [policy(i, "list") for i in range(list_count)]
    store.apply_batch([Change(Op.CREATE, r) for r in listed])
    found: list[int] = []
    elapsed = timed(lambda: found.append(len(store.list("GlobalNetworkPolicy", label_selector="team in (t3,t7)"))))
    expected = sum(1 for i in range(list_count) if i % 10 in (3, 7))
    assert found[0] == expected, (found, expected)
    print(
        f"etcd list -l 'team in (t3,t7)' over {list_count}: {found[0]} matched in {elapsed:.3f}s "
        f"({elapsed / list_count * 1e6:.1f} us/resource scanned, pages of {store.page_size})"
    )
    wipe()  # type: ignore[operator]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=300, help="resources to apply (issue figure: 5000)")
    ap.add_argument("--list-count", type=int, default=1000, help="resources to list over (issue figure: 10000)")
    ap.add_argument("--batch-size", type=int, default=1000, help="changes per etcd transaction (max_txn_ops)")
    ap.add_argument("--repeat", type=int, default=3, help="batched runs to take the median of")
    ap.add_argument("--data-parent", help="directory for etcd's data dir (default /dev/shm; e.g. /var/tmp for disk)")
    ap.add_argument("--endpoint", help="use this etcd (its /calico/ keyspace is wiped!) instead of starting one")
    args = ap.parse_args()

    server: EtcdServer | None = None
    if args.endpoint:
        url = args.endpoint
    else:
        server = start_etcd(max_txn_ops=args.batch_size, data_parent=args.data_parent)
        url = server.client_url
    store = EtcdStore.from_spec(f"{url}?max_txn_ops={args.batch_size}", {})
    try:
        wiper = server or EtcdServer(url, Path("/nonexistent"), None, Path("/nonexistent"))  # type: ignore[arg-type]
        run(store, wiper.wipe, args.count, args.list_count, args.batch_size, args.repeat)
    finally:
        store.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
