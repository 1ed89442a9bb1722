"""Route-reflector planner figures: plan time and peak memory, sessions vs full mesh, and churn over a seeded
sequence of join / leave / NotReady events against a round-robin baseline (how the 2020 Go operator assigns).

    python benchmarks/bench_rr.py            # small: 500 and 5,000 nodes, churn on 500 nodes (seconds)
    python benchmarks/bench_rr.py --full     # adds 50,000 nodes and churn on 5,000 nodes (run once)

Not a test: it prints figures. Same seed, same cluster, same event sequence.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.bgp.churn import planned_sessions
from calicotool.bgp.eligibility import EligibilityRules, is_eligible
from calicotool.bgp.layout import applied_state
from calicotool.bgp.mesh import plan_graph
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import plan_route_reflectors
from calicotool.bgp.sessions import Session, full_mesh_sessions, pair
from calicotool.bgp.state import ClusterState
from calicotool.bgp.synthetic import apply_event, generate_cluster, random_events
from calicotool.bgp.tolerance import tolerance

OPTS = PlanOptions()  # ratio 0.02, 1..10 per zone, k=2, 5m damping / demote-after


def bench_plan(nodes: int, zones: int, with_tolerance: bool) -> dict[str, object]:
    state = generate_cluster(nodes, zones, racks_per_zone=8, seed=1)
    tracemalloc.start()
    t0 = time.perf_counter()
    plan = plan_route_reflectors(state, OPTS)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    sessions = plan.sessions()
    mesh = full_mesh_sessions(nodes)
    row: dict[str, object] = {
        "nodes": nodes, "zones": zones, "plan_s": round(elapsed, 3), "peak_MiB": round(peak / 2**20, 1),
        "reflectors": len(plan.reflectors), "groups": len(plan.groups), "sessions": sessions,
        "full_mesh": mesh, "ratio": f"{sessions / mesh:.5f}", "max_load": max(plan.load().values()),
    }
    if with_tolerance:
        t0 = time.perf_counter()
        report = tolerance(plan_graph(plan), propagation_limit=20)
        row["tolerance_s"] = round(time.perf_counter() - t0, 2)
        row["tolerance_ok"] = report.ok
    return row


@dataclass
class RoundRobinOperator:
    """The baseline: RRs per zone by the same ratio, but demoted on any NotReady (no damping), promoted by name
    order, and clients (sorted) dealt round-robin over the sorted RR list, k each, recomputed on every change."""

    ratio: float = OPTS.ratio
    lo: int = OPTS.min_per_zone
    hi: int = OPTS.max_per_zone
    k: int = OPTS.k
    rrs: set[str] = field(default_factory=set)

    def sessions(self, state: ClusterState) -> set[Session]:
        rules = EligibilityRules(damping_seconds=0)
        ok = {n.name for n in state.nodes if is_eligible(n, state.now, rules)}
        self.rrs &= ok
        zones: dict[str, list[str]] = {}
        for n in sorted(state.nodes, key=lambda n: n.name):
            zones.setdefault(n.zone, []).append(n.name)
        for names in zones.values():
            eligible = [n for n in names if n in ok]
            want = max(self.lo, min(self.hi, math.ceil(len(eligible) * self.ratio))) if eligible else 0
            have = [n for n in eligible if n in self.rrs]
            for extra in have[want:]:
                self.rrs.discard(extra)
            for n in eligible:
                if len([x for x in eligible if x in self.rrs]) >= want:
                    break
                self.rrs.add(n)
        rrs = sorted(self.rrs)
        out: set[Session] = {pair(a, b) for i, a in enumerate(rrs) for b in rrs[i + 1:]}
        clients = sorted(n.name for n in state.nodes if n.name not in self.rrs)
        if rrs:
            for i, c in enumerate(clients):
                for j in range(min(self.k, len(rrs))):
                    out.add(pair(c, rrs[(i * self.k + j) % len(rrs)]))
        return out


def bench_churn(nodes: int, zones: int, events: int) -> dict[str, object]:
    state = generate_cluster(nodes, zones, racks_per_zone=8, seed=2, mesh_enabled=False)
    seq = random_events(state, events, seed=7, racks_per_zone=8)
    plan = plan_route_reflectors(state, OPTS)
    state = applied_state(plan)
    ours_prev = planned_sessions(plan)
    base = RoundRobinOperator()
    base_prev = base.sessions(state)
    ours, theirs = [], []
    t0 = time.perf_counter()
    for ev in seq:
        state = apply_event(state, ev, step=timedelta(minutes=1), racks_per_zone=8)
        plan = plan_route_reflectors(state, OPTS)
        now = planned_sessions(plan)
        ours.append(len(now ^ ours_prev))
        ours_prev = now
        state = replace(applied_state(plan), now=state.now)
        b = base.sessions(state)
        theirs.append(len(b ^ base_prev))
        base_prev = b
    elapsed = time.perf_counter() - t0
    kinds: dict[str, int] = {}
    for ev in seq:
        kinds[ev.kind] = kinds.get(ev.kind, 0) + 1

    def stats(xs: list[int]) -> str:
        xs2 = sorted(xs)
        return (f"mean {statistics.mean(xs):.1f}  p50 {xs2[len(xs2) // 2]}  p95 {xs2[int(len(xs2) * 0.95)]}  "
                f"max {xs2[-1]}  total {sum(xs)}")

    return {
        "nodes": nodes, "zones": zones, "events": dict(sorted(kinds.items())), "seconds": round(elapsed, 1),
        "calicotool": stats(ours), "round_robin": stats(theirs),
        "ratio_total": f"{sum(theirs) / max(1, sum(ours)):.1f}x fewer sessions moved",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="add 50,000 nodes and churn on 5,000 nodes")
    ap.add_argument("--tolerance", action="store_true", help="also time the failure-tolerance check")
    ap.add_argument("--events", type=int, default=200)
    args = ap.parse_args(argv)
    sizes = [500, 5000] + ([50000] if args.full else [])
    print("== plan: time, peak memory (tracemalloc), sessions vs full mesh ==")
    for n in sizes:
        for z in (3, 10):
            print("  ".join(f"{k}={v}" for k, v in bench_plan(n, z, args.tolerance).items()), flush=True)
    print(f"\n== churn over {args.events} seeded events (1 min apart; 5m damping / demote-after) ==")
    for n, z in [(500, 3)] + ([(5000, 3)] if args.full else []):
        row = bench_churn(n, z, args.events)
        for k, v in row.items():
            print(f"{k:>12}: {v}")
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
