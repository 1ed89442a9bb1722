"""The figures `rr plan` prints, as one plain dict (json/yaml output and the table view both come from it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calicotool.bgp.churn import Churn
from calicotool.bgp.planner import RouteReflectorPlan
from calicotool.bgp.resources import ChangeSet
from calicotool.bgp.sessions import full_mesh_sessions
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


@dataclass(frozen=True)
class TableView:
    """A table to print: the CLI renders it, tests read it. Cells are plain strings or numbers."""

    title: str | None
    columns: list[str]
    rows: list[tuple[Any, ...]]


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def plan_tables(report: dict[str, Any]) -> list[TableView]:
    """The `rr plan` table view of a `plan_report`."""
    s = report["summary"]
    pct = f"{100 * s['sessionsRatio']:.2f}%"
    out = [TableView("Route-reflector plan", ["FIGURE", "VALUE"], [
        ("nodes (BGP speakers)", f"{s['nodes']} ({s['bgpSpeakers']})"),
        ("route reflectors / groups / k", f"{s['reflectors']} / {s['groups']} / {s['k']}"),
        ("sessions planned vs full mesh", f"{s['sessionsPlanned']} vs {s['sessionsFullMesh']} ({pct})"),
        ("max sessions per reflector", s["maxLoadPerReflector"]),
        ("node-to-node mesh enabled now", yes(s["fullMeshEnabledNow"])),
    ])]
    out.append(TableView("Zones", ["ZONE", "ELIGIBLE", "WANTED", "CHOSEN"],
                         [(z["zone"], z["eligible"], z["wanted"], z["chosen"]) for z in report["zones"]]))
    out.append(TableView("Groups (load per reflector)",
                         ["GROUP", "CLUSTER ID", "REFLECTORS", "ZONES", "CLIENTS", "SESSIONS/RR"],
                         [(g["group"], g["clusterID"], ", ".join(g["reflectors"]), ", ".join(g["zones"]), g["clients"],
                           g["sessionsPerReflector"]) for g in report["groups"]]))
    out.append(TableView(None, ["CHURN VS CURRENT", "VALUE"], churn_rows(report["churn"])))
    tol = report.get("tolerance")
    if tol:
        out.append(TableView(None, ["FAILURE TOLERANCE", "RESULT"], _tolerance_rows(tol)))
    return out


def churn_rows(c: dict[str, Any]) -> list[tuple[str, Any]]:
    """Sessions now and after, honest about the mesh: while it is on, its sessions are the current ones and
    only `rr migrate --from-mesh` removes them."""
    parts = [f"calicotool {c['sessions_before'] - c['mesh_sessions_before'] - c['unmanaged_sessions']}",
             f"hand-made {c['unmanaged_sessions']}"]
    if c["mesh_enabled"]:
        parts.insert(0, f"node-to-node mesh {c['mesh_sessions_before']}")
    rows: list[tuple[str, Any]] = [("BGP sessions now", f"{c['sessions_before']} ({', '.join(parts)})")]
    if c["mesh_enabled"]:
        rows += [
            ("after rr reconcile (mesh still on)", c["sessions_after_mesh_on"]),
            ("after rr migrate --from-mesh (mesh off)", c["sessions_after"]),
            ("node-to-node mesh sessions removed", _mesh_removed(c)),
        ]
    else:
        rows.append(("BGP sessions after the plan", c["sessions_after"]))
    rows += [
        ("calicotool sessions added / removed", f"{c['sessions_added']} / {c['sessions_removed']}"),
        ("nodes relabelled", c["nodes_relabelled"]),
        ("clients moved between groups", c["clients_moved"]),
        ("reflectors promoted / demoted", f"{c['promoted']} / {c['demoted']}"),
    ]
    return rows


def _mesh_removed(c: dict[str, Any]) -> str:
    """Reflectors leave the mesh as soon as reconcile gives them a cluster ID; migrate removes the rest."""
    left = c["sessions_after_mesh_on"] - c["sessions_after"]
    gone = c["mesh_sessions_before"]
    return f"{gone} ({gone - left} as reflectors leave it on reconcile, {left} on migrate --from-mesh)"


def _tolerance_rows(tol: dict[str, Any]) -> list[tuple[str, Any]]:
    example = tol["baseline_missing_example"]
    rows: list[tuple[str, Any]] = [("baseline: every node's routes reach every node",
                                    yes(tol["baseline_routes_ok"]) + (f" (e.g. {example})" if example else ""))]
    for key, label in (("lose_one_reflector", "lose any one reflector"), ("lose_one_zone", "lose any one zone")):
        t = tol[key]
        if not t["scenarios"]:
            rows.append((label, "n/a (single zone)" if key == "lose_one_zone" else "n/a"))
            continue
        checked = f" (routes checked {t['propagation_checked']}/{t['scenarios']})" if "propagation_checked" in t else ""
        rows.append((f"{label}: every client keeps a reflector", yes(t["clients_stranded_max"] == 0)))
        rows.append((f"{label}: all routes still reach all nodes", yes(t["routes_ok"]) + checked))
        if t["example"]:
            rows.append((f"{label}: worst case", t["example"]))
    return rows
