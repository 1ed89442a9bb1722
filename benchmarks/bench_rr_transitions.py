"""Make-before-break per layout transition (issue 12): the fewest reflector sessions any client keeps during
each phase, in the model and Established on real BIRD 1.6.

    python benchmarks/bench_rr_transitions.py              # model only: every transition, k=2 and k=3 (instant)
    python benchmarks/bench_rr_transitions.py --lab        # also on BIRD, ~20 s per row (needs root + bird)
    python benchmarks/bench_rr_transitions.py --lab --legacy   # adds the old replace-in-place make phase

Per row: the transition and its event, clients on both sides of the change, the floor (min over clients of
min(sessions before, sessions after): k), and per phase the minimum sessions per client: `model` counts
sessions the layouts keep untouched through the phase (`calicotool.bgp.handover`), `lab` the lowest number of
Established sessions polled from the reload until the lab converged. Target: never below the floor.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.bgp.handover import handover
from calicotool.bgp.layout import applied_state, made_state
from calicotool.bgp.state import ClusterState
from calicotool.bgp.transitions import TRANSITIONS, Transition, build_transition, replaced_in_place_state
from calicotool.lab.bird_config import BirdOptions
from calicotool.lab.handover import HandoverRun, drive_handover, layout_topology
from calicotool.lab.runner import lab_down, lab_up, wait_converged


def lab_run(t: Transition, made: ClusterState, clients: list[str], floor: int, root: Path) -> HandoverRun:
    name = "r" + secrets.token_hex(3)
    try:
        state = lab_up(layout_topology(t.plan.state), name, root=root,
                       options=BirdOptions(graceful_restart_time=3), static_neighbours=False)
        wait_converged(state, timeout=120, interval=0.2)
        run = drive_handover(state, made, applied_state(t.plan), clients, floor, timeout=120)
    finally:
        lab_down(name, root)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lab", action="store_true", help="also measure Established sessions on BIRD")
    ap.add_argument("--legacy", action="store_true", help="also run the make phase as it was before issue 12")
    ap.add_argument("-k", type=int, nargs="+", default=[2, 3])
    args = ap.parse_args()
    worst = {}
    with tempfile.TemporaryDirectory(prefix="bench-rr-transitions-") as tmp:
        for k in args.k:
            for name in TRANSITIONS:
                t = build_transition(name, k)
                variants = [("make-only-adds", made_state(t.plan))]
                if args.legacy:
                    variants.append(("replace-in-place", replaced_in_place_state(t.plan)))
                for label, made in variants:
                    h = handover(t.plan.state.nodes, made.nodes, applied_state(t.plan).nodes)
                    floor = min(h.floor(c) for c in h.clients)
                    kept = h.min_kept()
                    line = (f"k={k} {name:<26} {label:<16} {t.event:<16} clients {len(h.clients):>2}  floor {floor}  "
                            f"model: make {kept['make']} break {kept['break']}")
                    low = min(kept.values())
                    if args.lab:
                        run = lab_run(t, made, h.clients, floor, Path(tmp))
                        line += f"  lab: before {run.before}  " + "  ".join(
                            f"{p.phase} {p.min_up} ({p.samples} polls, {p.seconds:.1f}s)" for p in run.phases
                        )
                        low = min(low, run.min_up)
                    worst[label] = min(worst.get(label, low), low - floor)
                    print(line, flush=True)
    for label, margin in worst.items():
        print(f"{label}: lowest count minus floor over all rows = {margin} ({'ok' if margin >= 0 else 'BELOW k'})")


if __name__ == "__main__":
    main()
