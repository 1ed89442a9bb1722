"""Move a cluster off Calico's node-to-node mesh onto route reflectors, and back, checking at every step.

--from-mesh: (1) read BGPConfiguration; (2) reconcile the reflector layout while the mesh still carries
traffic; (3) check the store now matches the plan; (4) check on the model that, without the mesh, every node's
routes reach every other node; (5) wait until every planned session is Established; (6) only then set
nodeToNodeMeshEnabled: false. --to-mesh: (1) set nodeToNodeMeshEnabled: true (nodes without a cluster ID mesh
among themselves, and keep their reflector sessions); (2) one reflector at a time: drop its labels and cluster
ID so it joins the mesh, and wait until its CalicoNodeStatus shows the mesh Established; (3) remove calicotool's
BGPPeers, remaining labels and status objects. A failed check stops the migration before the next write (Findings, exit 1).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from calicotool.bgp.churn import planned_sessions
from calicotool.bgp.layout import NodeLayout, current_layout
from calicotool.bgp.mesh import plan_graph
from calicotool.bgp.propagation import check_propagation
from calicotool.bgp.reconcile import (
    LOCK_NAME,
    ReconcileConfig,
    apply_changes,
    read_and_plan,
    read_cluster,
    reconcile_once,
)
from calicotool.bgp.resources import PEER_PREFIX, with_node_layout
from calicotool.bgp.sessions import pair
from calicotool.bgp.state import BgpNode
from calicotool.bgp.status import STATUS_PREFIX, SessionCheck, SessionProgress, check_sessions, wait_established
from calicotool.datastore.base import Change, Op, Store
from calicotool.errors import Findings, NotFound
from calicotool.model.resource import Resource
from calicotool.wording import plural


@dataclass
class Step:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class MigrationReport:
    direction: str
    steps: list[Step] = field(default_factory=list)
    writes: int = 0
    dry_run: bool = False

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.steps.append(Step(name, ok, detail))
        if not ok and not self.dry_run:
            raise MigrationFailed(self, f"migrate {self.direction}: step '{name}' failed: {detail}")


class MigrationFailed(Findings):
    """A check failed: the migration stopped before its next write. `report` holds the steps so far."""

    def __init__(self, report: MigrationReport, message: str) -> None:
        super().__init__(message)
        self.report = report


def _wait(
    store: Store, cfg: ReconcileConfig, sessions: set[tuple[str, str]], addresses: dict[str, str],
    clock: Callable[[], float], sleep: Callable[[float], None], progress: SessionProgress | None,
) -> SessionCheck:
    """Wait for `sessions` (up to the timeout), or with --no-wait just look once."""
    if not cfg.wait:
        return check_sessions(store, sessions, addresses)
    return wait_established(store, sessions, addresses, cfg.timeout_seconds, cfg.poll_seconds, clock, sleep,
                            progress, settle=cfg.settle_seconds)


def _mesh_config(store: Store) -> Resource | None:
    try:
        return store.get("BGPConfiguration", "default")
    except NotFound:
        return None


def _set_mesh(store: Store, enabled: bool) -> Change:
    cfg = _mesh_config(store)
    if cfg is None:
        res = Resource.new("BGPConfiguration", "default", {"nodeToNodeMeshEnabled": enabled})
        return Change(Op.CREATE, res)
    out = cfg.copy()
    out.spec["nodeToNodeMeshEnabled"] = enabled
    return Change(Op.UPDATE, out)


def migrate_from_mesh(
    store: Store,
    cfg: ReconcileConfig,
    now: datetime | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: SessionProgress | None = None,
) -> MigrationReport:
    report = MigrationReport("--from-mesh", dry_run=cfg.dry_run)
    cfg = replace(cfg, max_changes=None)
    conf = _mesh_config(store)
    mesh_on = conf is None or conf.spec.get("nodeToNodeMeshEnabled", True)
    report.add("read BGPConfiguration", True, f"nodeToNodeMeshEnabled={mesh_on}")
    result = reconcile_once(store, cfg, now, clock, sleep, progress)
    report.writes += result.writes
    if cfg.dry_run:
        report.add("reconcile reflectors (dry run)", True, f"{plural(len(result.planned), 'change')} would be made")
    else:
        report.add("reconcile reflectors with the mesh still on", result.converged, result.stopped or
                   f"{plural(result.writes, 'write')}")
    snap, plan, left = read_and_plan(store, cfg, now)
    if not cfg.dry_run:
        report.add("store matches the plan", not len(left), f"{plural(len(left), 'change')} outstanding")
    prop = check_propagation(plan_graph(plan))
    report.add("routes propagate without the mesh (model)", prop.ok,
               f"{plural(prop.missing, '(origin, receiver) pair')} missing, e.g. {prop.examples[:3]}" if not prop.ok else
               f"{prop.nodes} nodes, all pairs reachable")
    if cfg.dry_run:
        report.add("set nodeToNodeMeshEnabled=false (dry run)", True)
        return report
    addresses = {n.name: n.address for n in snap.state.nodes if n.address}
    sessions = planned_sessions(plan)
    check = _wait(store, cfg, sessions, addresses, clock, sleep, progress)
    report.add("every planned session Established", check.ok or not cfg.wait,
               f"{check.established}/{len(sessions)} up" + (f", missing e.g. {check.missing[:3]}" if check.missing else "")
               + ("" if cfg.wait else " (--no-wait: not required)"))
    if mesh_on:
        with store.lock(LOCK_NAME, cfg.lock_ttl_seconds, cfg.lock_wait_seconds):
            store.apply_batch([_set_mesh(store, False)])
        report.writes += 1
    report.add("set nodeToNodeMeshEnabled=false", True, "done" if mesh_on else "already off")
    return report


def migrate_to_mesh(
    store: Store,
    cfg: ReconcileConfig,
    now: datetime | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: SessionProgress | None = None,
) -> MigrationReport:
    report = MigrationReport("--to-mesh", dry_run=cfg.dry_run)
    snap = read_cluster(store, cfg, now)
    conf = snap.bgp_configuration
    mesh_on = conf is None or conf.spec.get("nodeToNodeMeshEnabled", True)
    report.add("read BGPConfiguration", True, f"nodeToNodeMeshEnabled={mesh_on}")
    teardown = _teardown_changes(snap.state.nodes, snap.nodes, snap.peers, snap.statuses)
    if cfg.dry_run:
        report.add("set nodeToNodeMeshEnabled=true (dry run)", True)
        report.add("remove calicotool layout (dry run)", True, f"{plural(len(teardown), 'change')} would be made")
        return report
    with store.lock(LOCK_NAME, cfg.lock_ttl_seconds, cfg.lock_wait_seconds):
        if not mesh_on:
            store.apply_batch([_set_mesh(store, True)])
            report.writes += 1
        report.add("set nodeToNodeMeshEnabled=true", True, "done" if not mesh_on else "already on")
        # confd keeps a node with a cluster ID out of the mesh on both ends, so reflectors can only join it once
        # they lose their cluster ID: one at a time, each confirmed by its own CalicoNodeStatus showing the mesh
        # (sessions to every node without a cluster ID) Established before the next one goes.
        speakers = [n for n in snap.state.nodes if n.address]
        addresses = {n.name: n.address for n in speakers if n.address}
        reflectors = sorted(n.name for n in speakers if n.cluster_id and n.managed_reflector)
        for rr in reflectors:
            fresh = read_cluster(store, cfg, now)
            node = fresh.state.by_name()[rr]
            res = fresh.nodes.get(rr)
            if res is not None:
                store.apply_batch([Change(Op.UPDATE, with_node_layout(res, current_layout(node), NodeLayout({}, None)))])
                report.writes += 1
            mesh = {pair(rr, n.name) for n in fresh.state.nodes
                    if n.address and n.name != rr and not n.cluster_id}
            check = _wait(store, cfg, mesh, addresses, clock, sleep, progress)
            report.add(f"reflector {rr} left its group and joined the mesh", check.ok or not cfg.wait,
                       f"{check.established}/{len(mesh)} mesh sessions up"
                       + ("" if cfg.wait else " (--no-wait: not required)"))
        fresh = read_cluster(store, cfg, now)
        teardown = _teardown_changes(fresh.state.nodes, fresh.nodes, fresh.peers, fresh.statuses)
        done = apply_changes(store, teardown)
        report.writes += len(done)
        report.add("remove calicotool BGPPeers, labels, cluster IDs", True, f"{plural(len(done), 'write')}")
    return report


def _teardown_changes(
    nodes: Iterable[BgpNode], resources: dict[str, Resource], peers: list[Resource], statuses: list[Resource]
) -> list[Change]:
    """Deletes for calicotool's peers and status objects; updates stripping its labels and cluster IDs."""
    out = [Change(Op.DELETE, p) for p in peers if p.managed and p.name.startswith(PEER_PREFIX)]
    out += [Change(Op.DELETE, s) for s in statuses if s.managed and s.name.startswith(STATUS_PREFIX)]
    for node in nodes:
        res = resources.get(node.name)
        cur = current_layout(node)
        if res is not None and (cur.labels or cur.cluster_id):
            out.append(Change(Op.UPDATE, with_node_layout(res, cur, NodeLayout({}, None))))
    return out
