"""The BIRD lab: how long a lab takes to build and converge, and to recover from a crashed route reflector.

python benchmarks/bench_lab.py                  # small: 12 nodes, planner RRs, ~20 s (needs root + bird)
python benchmarks/bench_lab.py --nodes 60 --mesh-too

Prints: build time, time to full convergence (every node has every block), BIRD memory per node, sessions vs the
full mesh, and after SIGKILL of one reflector: time until no node holds routes learned from it and every
survivor has every surviving block again.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path

from calicotool.lab import bird_process as bp
from calicotool.lab.bird_config import BirdOptions
from calicotool.lab.from_plan import plan_cluster, synthetic_cluster, topology_from_plan
from calicotool.lab.runner import LabState, lab_down, lab_up, stop_node, wait_converged, wait_routes_withdrawn
from calicotool.lab.topology import LabTopology, full_mesh


def rss_kib(state: LabState) -> list[int]:
    out = []
    for node in state.topology.nodes:
        pid = bp.read_pid(state.paths(node.name))
        if pid is None:
            continue
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out.append(int(line.split()[1]))
    return out


def run(label: str, topo: LabTopology, root: Path, crash: str | None, opts: BirdOptions) -> None:
    name = "b" + secrets.token_hex(3)
    n = len(topo.nodes)
    try:
        t0 = time.perf_counter()
        state = lab_up(topo, name, root=root, options=opts)
        t1 = time.perf_counter()
        wait_converged(state, timeout=300, interval=0.2)
        t2 = time.perf_counter()
        rss = rss_kib(state)
        print(
            f"{label}: {n} nodes, {len(topo.sessions())} sessions (full mesh {n * (n - 1) // 2}), "
            f"{len(topo.reflectors)} reflectors"
        )
        print(
            f"  build {t1 - t0:.2f}s, converge {t2 - t1:.2f}s, bird RSS mean {sum(rss) / len(rss) / 1024:.1f} MiB, "
            f"total {sum(rss) / 1024:.0f} MiB"
        )
        if crash:
            t3 = time.perf_counter()
            stop_node(state, crash, crash=True)
            wait_routes_withdrawn(state, crash, timeout=300)
            t4 = time.perf_counter()
            wait_converged(state, timeout=120, interval=0.2)
            t5 = time.perf_counter()
            print(
                f"  crash {crash}: stale routes gone after {t4 - t3:.2f}s "
                f"(graceful restart time {opts.graceful_restart_time}s), survivors converged {t5 - t3:.2f}s"
            )
    finally:
        lab_down(name, root)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=12)
    ap.add_argument("--zones", type=int, default=3)
    ap.add_argument("--min-per-zone", type=int, default=2)
    ap.add_argument("--gr-time", type=int, default=3)
    ap.add_argument("--mesh-too", action="store_true", help="also run the full mesh of the same size")
    args = ap.parse_args()
    opts = BirdOptions(graceful_restart_time=args.gr_time)
    plan = plan_cluster(synthetic_cluster(args.nodes, args.zones), min_per_zone=args.min_per_zone)
    with tempfile.TemporaryDirectory() as tmp:
        run("planner RRs", topology_from_plan(plan), Path(tmp), plan.reflectors[0], opts)
        if args.mesh_too:
            run("full mesh", full_mesh(args.nodes), Path(tmp), None, opts)


if __name__ == "__main__":
    main()
