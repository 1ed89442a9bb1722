"""Apply a route-reflector plan safely: lock, make, wait for Established, break; bounded writes per run.

One run under `store.lock("rr-reconcile")`:
1. read the cluster, plan, compute changes (make/break);
2. make: create peers / status objects, add labels and cluster IDs, remove nothing (at most `max_changes`
   writes; a demoted reflector keeps reflecting for its group, see `layout.make_layout`);
3. wait until CalicoNodeStatus shows every new session Established, and every planned session of a node about
   to lose one or whose cluster ID changed (or the timeout: then stop, nothing is removed, the next run
   resumes);
4. break: re-read (fresh resourceVersions) and remove what the plan no longer wants (old labels, demoted cluster
   IDs, obsolete BGPPeers), within what is left of `max_changes`.
A run against a cluster that already matches its plan writes nothing. The invariant the two phases keep (no
client below min(before, after) reflector sessions) is `handover`; a plan that would break it is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from calicotool.bgp.churn import planned_sessions
from calicotool.bgp.inputs import Snapshot, read_snapshot
from calicotool.bgp.layout import plan_handover, restarted_reflectors
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import RouteReflectorPlan, plan_route_reflectors
from calicotool.bgp.resources import ChangeSet, plan_changes
from calicotool.bgp.sessions import Session, current_sessions
from calicotool.bgp.state import DEFAULT_RACK_LABEL, DEFAULT_ZONE_LABEL
from calicotool.bgp.status import SessionCheck, SessionProgress, wait_established
from calicotool.datastore.base import Change, Store
from calicotool.wording import plural

LOCK_NAME = "rr-reconcile"


@dataclass(frozen=True)
class ReconcileConfig:
    options: PlanOptions = field(default_factory=PlanOptions)
    max_changes: int | None = None  # writes per run (None: unlimited)
    dry_run: bool = False
    wait: bool = True  # wait for new sessions to be Established before breaking old ones
    timeout_seconds: float = 120.0
    poll_seconds: float = 5.0
    settle_seconds: float = 0.0  # new sessions must stay Established this long before the break phase
    lock_ttl_seconds: float = 600.0
    lock_wait_seconds: float = 0.0
    zone_label: str = DEFAULT_ZONE_LABEL
    rack_label: str = DEFAULT_RACK_LABEL
    zone_label_explicit: bool = False


@dataclass
class ReconcileResult:
    plan: RouteReflectorPlan
    planned: ChangeSet  # what the plan asked for at the start of the run
    applied: list[str] = field(default_factory=list)  # `op Kind/name`, in the order written
    applied_phases: list[str] = field(default_factory=list)  # "make" or "break", one per applied entry
    pending: int = 0  # changes left for a later run (max-changes, or break skipped)
    sessions: SessionCheck | None = None
    stopped: str | None = None  # why the run stopped early
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.applied)

    @property
    def converged(self) -> bool:
        return not self.dry_run and self.pending == 0 and self.stopped is None

    @property
    def stuck(self) -> bool:
        """New sessions did not come up in time: a problem to look at, unlike a run that stopped at
        --max-changes or because the cluster changed (the next run simply continues)."""
        return self.sessions is not None and not self.sessions.ok


def read_cluster(store: Store, cfg: ReconcileConfig, now: datetime | None = None) -> Snapshot:
    """Read the cluster with the zone/rack labels `cfg` names."""
    return read_snapshot(store, now, cfg.zone_label, cfg.rack_label, cfg.zone_label_explicit)


def read_and_plan(
    store: Store, cfg: ReconcileConfig, now: datetime | None = None
) -> tuple[Snapshot, RouteReflectorPlan, ChangeSet]:
    """Read the cluster, plan it with `cfg.options`, and compute the changes that would bring the store there."""
    snap = read_cluster(store, cfg, now)
    plan = plan_route_reflectors(snap.state, cfg.options)
    return snap, plan, plan_changes(plan, snap.nodes, snap.peers, snap.statuses)


def reconcile_once(
    store: Store,
    cfg: ReconcileConfig,
    now: datetime | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: SessionProgress | None = None,
) -> ReconcileResult:
    """One reconcile run (see module docstring). Raises Conflict if another run holds the lock. `progress`
    hears about every poll while waiting for sessions."""
    cfg.options.validate()
    with store.lock(LOCK_NAME, cfg.lock_ttl_seconds, cfg.lock_wait_seconds):
        snap, plan, changes = read_and_plan(store, cfg, now)
        result = ReconcileResult(plan, changes, dry_run=cfg.dry_run, warnings=snap.warnings + plan.warnings)
        result.warnings.extend(
            f"make-before-break does not hold: {v}" for v in plan_handover(plan).violations()[:5]
        )
        if snap.state.mesh_enabled:
            result.warnings.append(
                "the node-to-node mesh is still on (reconcile never changes it): once the reflectors are up, "
                "`calicotool rr migrate --from-mesh` checks them and turns it off"
            )
        if cfg.dry_run or not len(changes):
            result.pending = len(changes) if cfg.dry_run else 0
            return result
        budget = cfg.max_changes if cfg.max_changes is not None else len(changes)
        make = changes.make[:budget]
        _apply(store, make, result, "make")
        if len(make) < len(changes.make):
            result.pending = len(changes) - len(make)
            result.stopped = f"max-changes {budget} reached during the make phase"
            return result
        needed = sessions_to_confirm(planned_sessions(plan), current_sessions(snap.state), restarted_reflectors(plan))
        if needed and cfg.wait:
            addresses = {n.name: n.address for n in snap.state.nodes if n.address}
            result.sessions = wait_established(
                store, needed, addresses, cfg.timeout_seconds, cfg.poll_seconds, clock, sleep, progress,
                settle=cfg.settle_seconds,
            )
            if not result.sessions.ok:
                result.pending = len(changes.break_)
                result.stopped = (
                    f"{plural(len(result.sessions.missing), 'new session')} not Established after "
                    f"{cfg.timeout_seconds:g}s; old sessions kept"
                )
                return result
        fresh = read_cluster(store, cfg, now)
        again = plan_changes(plan, fresh.nodes, fresh.peers, fresh.statuses, state=fresh.state)
        if again.make:
            result.pending = len(again)
            result.stopped = "the cluster changed during the run; break phase left for the next run"
            return result
        left = budget - len(make)
        brk = again.break_[: max(0, left)]
        _apply(store, brk, result, "break")
        result.pending = len(again.break_) - len(brk)
        if result.pending:
            result.stopped = f"max-changes {budget} reached during the break phase"
        return result


def sessions_to_confirm(
    planned: set[Session], current: set[Session], restarted: set[str] | frozenset[str] = frozenset()
) -> set[Session]:
    """What must be Established before the break phase: every new session, and every planned session of a
    node that is about to lose one (so nobody is left with only sessions that are not up) or whose sessions
    the make phase restarts (`restarted`: a new cluster ID)."""
    new = planned - current
    losing = {n for s in current - planned for n in s} | set(restarted)
    return new | {s for s in planned if s[0] in losing or s[1] in losing}


BATCH = 100  # etcd limits a transaction to 128 operations by default


def apply_changes(store: Store, changes: list[Change]) -> list[str]:
    """Apply in order, in batches of at most BATCH; returns what was applied (`op kind/name`)."""
    done: list[str] = []
    for i in range(0, len(changes), BATCH):
        chunk = changes[i : i + BATCH]
        store.apply_batch(chunk)
        done.extend(c.describe() for c in chunk)
    return done


def _apply(store: Store, changes: list[Change], result: ReconcileResult, phase: str) -> None:
    done = apply_changes(store, changes)
    result.applied.extend(done)
    result.applied_phases.extend([phase] * len(done))
