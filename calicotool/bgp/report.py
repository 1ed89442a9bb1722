"""The figures `rr plan` prints, as one plain dict (json/yaml output and the table view both come from it)."""

from __future__ import annotations

from typing import Any

from calicotool.bgp.planner import RouteReflectorPlan
from calicotool.bgp.resources import ChangeSet
from calicotool.bgp.sessions import Churn, full_mesh_sessions
from calicotool.bgp.tolerance import ToleranceReport


def plan_report(
    plan: RouteReflectorPlan,
    churn: Churn,
    tolerance: ToleranceReport | None,
    changes: ChangeSet | None = None,
) -> dict[str, Any]:
    speakers = len(plan.client_group) + len(plan.reflectors)
    mesh = full_mesh_sessions(speakers)
    sessions = plan.sessions()
    load = plan.load()
    clients = plan.clients_of()
    out: dict[str, Any] = {
        "summary": {
            "nodes": len(plan.state.nodes),
            "bgpSpeakers": speakers,
            "reflectors": len(plan.reflectors),
            "groups": len(plan.groups),
            "k": plan.options.k,
            "sessionsPlanned": sessions,
            "sessionsFullMesh": mesh,
            "sessionsRatio": round(sessions / mesh, 6) if mesh else 0.0,
            "fullMeshEnabledNow": plan.state.mesh_enabled,
            "maxLoadPerReflector": max(load.values(), default=0),
            "clientCapPerGroup": plan.client_cap,
        },
        "zones": [
            {"zone": z.zone or "(none)", "eligible": z.eligible, "wanted": z.wanted, "chosen": z.chosen}
            for z in plan.zones
        ],
        "groups": [
            {
                "group": g.name,
                "clusterID": g.cluster_id,
                "reflectors": list(g.reflectors),
                "zones": list(g.zones),
                "clients": len(clients[g.name]),
                "sessionsPerReflector": load[g.reflectors[0]] if g.reflectors else 0,
            }
            for g in sorted(plan.groups.values(), key=lambda g: g.index)
        ],
        "churn": churn.as_dict(),
        "promoted": plan.promoted,
        "demoted": plan.demoted,
        "leftOut": plan.left_out,
        "warnings": plan.warnings,
    }
    if tolerance is not None:
        out["tolerance"] = tolerance.summary()
    if changes is not None:
        out["changes"] = {
            "make": [c.describe() for c in changes.make],
            "break": [c.describe() for c in changes.break_],
        }
    return out
