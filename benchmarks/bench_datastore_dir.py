#!/usr/bin/env python3
"""Directory (GitOps) datastore figures: applying N resources as one staged batch vs one write per resource,
and listing with a label selector over M resources. Prints figures and the batching ratio.

    python benchmarks/bench_datastore_dir.py                 # quick: 500 / 1,000
    python benchmarks/bench_datastore_dir.py --count 5000 --list-count 10000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from calicotool.datastore.base import Change, Op
from calicotool.datastore.directory import DirectoryStore
from calicotool.model.resource import Resource


def policy(i: int) -> Resource:
    return Resource.new(
        "GlobalNetworkPolicy",
        f"bench-{i:06d}",
        {
            "order": i,
            "selector": f"app == 'svc-{i % 50}'",
            "types": ["Ingress"],
            "ingress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [8000 + i % 100]}}],
        },
        labels={"team": f"t{i % 10}", "app.kubernetes.io/managed-by": "calicotool"},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=500, help="resources to apply (issue figure: 5000)")
    ap.add_argument("--list-count", type=int, default=1000, help="resources to list over (issue figure: 10000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = DirectoryStore(Path(tmp) / "one")
        t0 = time.perf_counter()
        for i in range(args.count):
            one.create(policy(i))
        single = time.perf_counter() - t0

        batch_store = DirectoryStore(Path(tmp) / "batch")
        t0 = time.perf_counter()
        batch_store.apply_batch([Change(Op.CREATE, policy(i)) for i in range(args.count)])
        batched = time.perf_counter() - t0

        lst = DirectoryStore(Path(tmp) / "list")
        lst.apply_batch([Change(Op.CREATE, policy(i)) for i in range(args.list_count)])
        t0 = time.perf_counter()
        hits = lst.list("GlobalNetworkPolicy", label_selector="team in (t1,t2)")
        listing = time.perf_counter() - t0

    print(f"dir backend: apply {args.count} resources")
    print(f"  one write per resource : {single:8.2f} s  ({single / args.count * 1e3:.2f} ms/resource)")
    print(f"  one staged batch       : {batched:8.2f} s  ({batched / args.count * 1e3:.2f} ms/resource)")
    print(f"  batching ratio         : {single / batched:8.1f}x")
    print(
        f"dir backend: list -l 'team in (t1,t2)' over {args.list_count}: {listing:.2f} s, {len(hits)} matches "
        f"({listing / args.list_count * 1e6:.0f} us/resource scanned)"
    )


if __name__ == "__main__":
    main()
