"""Route-reflector autoscaling: BGP mesh model, planner, plan -> Calico changes, reconcile and migration.

Pure core: state, topology/synthetic (inputs), eligibility, selection, assign, planner, layout, sessions, mesh,
propagation, tolerance, resources, report, runlog, render_graph (to_dot). I/O edges: inputs (read a Store),
reconcile, sidecar (the --interval loop), migrate, status (CalicoNodeStatus), seed.seed_store, progress (stderr),
render_graph.write_graph (calicotool.drawing: Graphviz or the built-in SVG layout). See docs/route-reflectors.md.

Public surface (everything else is internal and may move)::

    load_topology(path, now=None) -> ClusterState             # topology file (located errors)
    read_snapshot(store, now=None, zone_label=..., rack_label=..., zone_label_explicit=False) -> Snapshot
    plan_route_reflectors(state, options) -> RouteReflectorPlan   # pure
    plan_changes(plan, nodes, peers, statuses=()) -> ChangeSet    # pure: plan -> make/break changes
    reconcile_once(store, ReconcileConfig(...)) -> ReconcileResult
    migrate_from_mesh(store, cfg) / migrate_to_mesh(store, cfg) -> MigrationReport
    ClusterState, BgpNode, PlanOptions, ReconcileConfig

Names resolve lazily: importing this package loads none of the modules above (networkx stays unloaded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calicotool.exports import lazy_exports

if TYPE_CHECKING:
    from calicotool.bgp.inputs import read_snapshot
    from calicotool.bgp.migrate import migrate_from_mesh, migrate_to_mesh
    from calicotool.bgp.options import PlanOptions
    from calicotool.bgp.planner import RouteReflectorPlan, plan_route_reflectors
    from calicotool.bgp.reconcile import ReconcileConfig, reconcile_once
    from calicotool.bgp.resources import plan_changes
    from calicotool.bgp.state import BgpNode, ClusterState
    from calicotool.bgp.topology import load_topology

_EXPORTS = {
    "read_snapshot": "inputs", "migrate_from_mesh": "migrate", "migrate_to_mesh": "migrate", "PlanOptions": "options",
    "RouteReflectorPlan": "planner", "plan_route_reflectors": "planner", "ReconcileConfig": "reconcile",
    "reconcile_once": "reconcile", "plan_changes": "resources", "BgpNode": "state", "ClusterState": "state",
    "load_topology": "topology",
}
__all__ = [
    "BgpNode",
    "ClusterState",
    "PlanOptions",
    "ReconcileConfig",
    "RouteReflectorPlan",
    "load_topology",
    "migrate_from_mesh",
    "migrate_to_mesh",
    "plan_changes",
    "plan_route_reflectors",
    "read_snapshot",
    "reconcile_once",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
