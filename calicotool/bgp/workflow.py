"""One call per CLI command: load the inputs, plan, and gather every figure (`PlanResult`).

`PlanSource` hides where the cluster came from (topology file or datastore): both yield a ClusterState plus
Calico Node/BGPPeer resources that changes are computed against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from calicotool.bgp.churn import churn
from calicotool.bgp.inputs import read_snapshot
from calicotool.bgp.mesh import plan_graph
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import RouteReflectorPlan, plan_route_reflectors
from calicotool.bgp.report import plan_report
from calicotool.bgp.resources import ChangeSet, node_resource, peer_resource, plan_changes
from calicotool.bgp.state import ClusterState
from calicotool.bgp.tolerance import ToleranceReport, tolerance
from calicotool.bgp.topology import load_topology
from calicotool.datastore.base import Op, Store
from calicotool.model.resource import Resource


@dataclass
class PlanSource:
    state: ClusterState
    nodes: dict[str, Resource]
    peers: list[Resource]
    statuses: list[Resource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PlanResult:
    plan: RouteReflectorPlan
    changes: ChangeSet
    tolerance: ToleranceReport | None
    report: dict[str, Any]


def from_topology(path: Path, now: datetime | None = None) -> PlanSource:
    state = load_topology(path, now)
    return PlanSource(state, {n.name: node_resource(n) for n in state.nodes}, [peer_resource(p) for p in
                                                                              state.external_peers])


def from_store(
    store: Store, now: datetime | None, zone_label: str, rack_label: str, zone_label_explicit: bool = False
) -> PlanSource:
    snap = read_snapshot(store, now, zone_label, rack_label, zone_label_explicit)
    return PlanSource(snap.state, snap.nodes, snap.peers, snap.statuses, snap.warnings)


def plan(source: PlanSource, opts: PlanOptions, with_tolerance: bool = True, propagation_limit: int = 40) -> PlanResult:
    p = plan_route_reflectors(source.state, opts)
    changes = plan_changes(p, source.nodes, source.peers, source.statuses)
    tol = tolerance(plan_graph(p), propagation_limit) if with_tolerance else None
    return PlanResult(p, changes, tol, plan_report(p, churn(p), tol, changes))


def draw(result: PlanResult, path: Path) -> Path:
    from calicotool.bgp.render_graph import write_graph

    s = result.report["summary"]
    title = (f"route-reflector plan: {s['bgpSpeakers']} nodes, {s['reflectors']} reflectors in {s['groups']} "
             f"groups, {s['sessionsPlanned']} sessions (full mesh {s['sessionsFullMesh']})")
    return write_graph(plan_graph(result.plan), path, title)


def changes_yaml(changes: ChangeSet) -> str:
    """The exact Calico changes as a YAML stream, in apply order; each document says its phase and operation."""
    from calicotool.cli.output import to_yaml

    parts = []
    for phase, items in (("make", changes.make), ("break", changes.break_)):
        for change in items:
            doc: dict[str, Any]
            if change.op == Op.DELETE:
                r = change.resource
                doc = {"apiVersion": r.api_version, "kind": r.kind, "metadata": {"name": r.name}}
            else:
                doc = change.resource.content()
            parts.append(f"---\n# {phase}: {change.op.value} {change.key}\n" + to_yaml(doc))
    return "".join(parts) if parts else "# no changes\n"
