"""Make-before-break per layout transition (issue 12): the fewest reflector sessions any client keeps during
each phase, in the model and Established on real BIRD 1.6.

    python benchmarks/bench_rr_transitions.py                  # model only: every transition, k=2 and k=3 (instant)
    python benchmarks/bench_rr_transitions.py --lab            # + `reconcile_once` on BIRD, ~20-40 s a row (root + bird)
    python benchmarks/bench_rr_transitions.py --lab --legacy   # + the make phase as it was before issue 12

Per row: the transition and its event, clients on both sides of the change, the floor (min over clients of
min(sessions before, sessions after): k), and per phase the minimum sessions per client. `model`: sessions the
layouts keep untouched through the phase (`calicotool.bgp.handover`). `lab`: the lowest number of Established
sessions sampled on BIRD, after every write and at every CalicoNodeStatus poll of a real `reconcile_once`
(directory datastore; `calicotool.lab.calico_node` plays confd and calico-node), then until the lab converged.
The `replace-in-place` rows drive the old make phase's layouts straight into BIRD (reload, poll until converged,
then the break layout). Target: never below the floor.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.bgp.handover import Handover, handover
from calicotool.bgp.layout import applied_state, made_state
from calicotool.bgp.transitions import NOW, TRANSITIONS, Transition, build_transition, replaced_in_place_state
from calicotool.datastore.directory import DirectoryStore
from calicotool.lab.bird_config import BirdOptions
from calicotool.lab.handover import apply_event, drive_handover, layout_topology, reconcile_on_lab, seed_before
from calicotool.lab.runner import LabState, lab_down, lab_up, wait_converged

OPTS = BirdOptions(graceful_restart_time=3)


def _up(t: Transition, root: Path, name: str) -> LabState:
    state = lab_up(layout_topology(t.before), name, root=root, options=OPTS, static_neighbours=False)
    wait_converged(state, timeout=120, interval=0.2)
    return state


def lab_reconcile(t: Transition, h: Handover, floor: int, root: Path) -> tuple[str, int]:
    name = "r" + secrets.token_hex(3)
    store = DirectoryStore(root / f"{name}-datastore")
    try:
        seed_before(store, t.before, t.plan.options)
        apply_event(store, t.before, t.plan.state)
        run = reconcile_on_lab(_up(t, root, name), store, t.plan.options, h.clients, floor, NOW, timeout=120)
    finally:
        store.close()
        lab_down(name, root)
    cells = []
    for phase in ("before", "make", "break"):
        low = run.min_up(phase)
        cells.append(f"{phase} {'-' if low is None else low} ({run.polls(phase)})")
    lows = [x for x in (run.min_up("make"), run.min_up("break")) if x is not None]
    return "lab (samples): " + "  ".join(cells) + f"  writes {run.result.writes}", min(lows, default=floor)


def lab_legacy(t: Transition, h: Handover, floor: int, root: Path) -> tuple[str, int]:
    name = "r" + secrets.token_hex(3)
    try:
        run = drive_handover(_up(t, root, name), replaced_in_place_state(t.plan), applied_state(t.plan),
                             h.clients, floor, timeout=120)
    finally:
        lab_down(name, root)
    cells = "  ".join(f"{p.phase} {p.min_up} ({p.samples})" for p in run.phases)
    return f"lab (samples): before {run.before}  {cells}", run.min_up


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lab", action="store_true", help="also measure Established sessions on BIRD")
    ap.add_argument("--legacy", action="store_true", help="also run the make phase as it was before issue 12")
    ap.add_argument("-k", type=int, nargs="+", default=[2, 3])
    args = ap.parse_args()
    worst: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-rr-transitions-") as tmp:
        for k in args.k:
            for name in TRANSITIONS:
                t = build_transition(name, k)
                variants = [("make-only-adds", made_state(t.plan), lab_reconcile)]
                if args.legacy:
                    variants.append(("replace-in-place", replaced_in_place_state(t.plan), lab_legacy))
                for label, made, on_lab in variants:
                    h = handover(t.plan.state.nodes, made.nodes, applied_state(t.plan).nodes)
                    floor = min(h.floor(c) for c in h.clients)
                    kept = h.min_kept()
                    line = (f"k={k} {name:<26} {label:<16} {t.event:<15} clients {len(h.clients)}  floor {floor}  "
                            f"model: make {kept['make']} break {kept['break']}")
                    low = min(kept.values())
                    if args.lab:
                        text, lab_low = on_lab(t, h, floor, Path(tmp))
                        line += "  " + text
                        low = min(low, lab_low)
                    worst[label] = min(worst.get(label, low - floor), low - floor)
                    print(line, flush=True)
    for label, margin in worst.items():
        print(f"{label}: lowest count minus floor over all rows = {margin} ({'ok' if margin >= 0 else 'BELOW k'})")


if __name__ == "__main__":
    main()
