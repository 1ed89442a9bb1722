"""Named layout transitions for make-before-break checks: a small cluster, applied as planned, then one event
(cordon or uncordon a node) and the plan that follows. Pure and deterministic; used by the handover tests, the
lab test on real BIRD and `benchmarks/bench_rr_transitions.py`.

Transitions (each for any k >= 2):
- demote-in-group: a reflector is cordoned and becomes a client of its own group; a node of its zone replaces it.
- promote-into-group: a node is uncordoned and joins, as one more reflector, the group it is a client of.
- split: one more reflector makes 2k, so the group of 2k-1 splits in two (a reflector moves, new cluster ID).
- merge: a reflector of 2k is cordoned; the two groups merge (a reflector moves, new cluster ID).
- zone-loses-only-reflector: a zone's only reflector is cordoned and nothing there may replace it; a node of
  another zone does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from calicotool.bgp.eligibility import EligibilityRules
from calicotool.bgp.layout import NodeLayout, applied_state, current_layout, target_layouts, with_layout
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import RouteReflectorPlan, plan_route_reflectors
from calicotool.bgp.state import DEFAULT_RACK_LABEL, DEFAULT_ZONE_LABEL, BgpNode, ClusterState
from calicotool.errors import InputError, Location

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TRANSITIONS = ("demote-in-group", "promote-into-group", "split", "merge", "zone-loses-only-reflector")


@dataclass(frozen=True)
class Transition:
    """`before` is the cluster as the previous plan left it; `plan` is what the event leads to (its `state` is
    `before` with the event applied)."""

    name: str
    k: int
    before: ClusterState
    plan: RouteReflectorPlan
    event: str


@dataclass(frozen=True)
class _Shape:
    zones: tuple[tuple[int, int], ...]  # per zone: nodes, of which the last `cordoned` are cordoned
    per_zone: int  # reflectors per zone (min = max)
    action: str  # "cordon-reflector" | "uncordon"
    zone: int  # index of the zone the event happens in


def _shape(name: str, k: int) -> _Shape:
    if name == "demote-in-group":
        return _Shape(tuple((3, 0) for _ in range(k)), 1, "cordon-reflector", 0)
    if name == "promote-into-group":
        return _Shape(tuple((2, 0) for _ in range(k)) + ((2, 2),), 1, "uncordon", k)
    if name == "split":  # 2k-1 reflectors over two zones; a node waits to be uncordoned
        return _Shape(((k + 2, 2), (k + 2, 3)), k, "uncordon", 1)
    if name == "merge":
        return _Shape(((k + 2, 2), (k + 2, 2)), k, "cordon-reflector", 1)
    if name == "zone-loses-only-reflector":
        return _Shape(((3, 2),) + tuple((2, 0) for _ in range(k - 1)), 1, "cordon-reflector", 0)
    raise InputError(f"unknown transition {name!r} (one of {', '.join(TRANSITIONS)})", Location(field="transition"))


def options_for(k: int, per_zone: int) -> PlanOptions:
    """Exactly `per_zone` reflectors in each zone that has that many eligible nodes; no damping (fresh lab)."""
    rules = EligibilityRules(damping_seconds=0, demote_after_seconds=0)
    return PlanOptions(ratio=1.0, min_per_zone=per_zone, max_per_zone=per_zone, k=k, hysteresis=0.0, rules=rules)


def _cluster(shape: _Shape) -> ClusterState:
    nodes = []
    for z, (count, cordoned) in enumerate(shape.zones):
        for i in range(count):
            nodes.append(BgpNode(
                name=f"z{z + 1}-n{i + 1}", zone=f"z{z + 1}", rack=f"z{z + 1}r{i + 1}",
                labels={DEFAULT_ZONE_LABEL: f"z{z + 1}", DEFAULT_RACK_LABEL: f"z{z + 1}r{i + 1}"},
                ipv4=f"10.77.{z}.{i + 1}/16",
                ready_since=NOW - timedelta(days=1), unschedulable=i >= count - cordoned,
            ))
    return ClusterState(nodes=tuple(nodes), now=NOW, mesh_enabled=False)


def build_transition(name: str, k: int) -> Transition:
    """The cluster before, and the plan after the event, for transition `name` with groups of `k`."""
    if k < 2:
        raise InputError(f"transitions need k >= 2, got {k}", Location(field="k"))
    shape = _shape(name, k)
    opts = options_for(k, shape.per_zone)
    before = applied_state(plan_route_reflectors(_cluster(shape), opts))
    zone = f"z{shape.zone + 1}"
    in_zone = [n for n in before.nodes if n.zone == zone]
    if shape.action == "cordon-reflector":
        target = next(n for n in in_zone if n.managed_reflector)
    else:
        target = next(n for n in in_zone if n.unschedulable)
    event = f"{'cordon' if shape.action == 'cordon-reflector' else 'uncordon'} {target.name}"
    nodes = tuple(replace(n, unschedulable=not n.unschedulable) if n.name == target.name else n for n in before.nodes)
    plan = plan_route_reflectors(replace(before, nodes=nodes), opts)
    return Transition(name, k, before, plan, event)


def replaced_in_place_state(plan: RouteReflectorPlan) -> ClusterState:
    """The make phase as it was before issue 12 (`labels.update(target)`, every cluster ID at once): a demoted
    reflector that stays in its group turns client there at once. Kept only as the negative control of the
    handover tests and benchmark."""
    targets = target_layouts(plan)
    nodes = []
    for n in plan.state.nodes:
        if n.name in targets:
            cur, tgt = current_layout(n), targets[n.name]
            n = with_layout(n, NodeLayout({**cur.labels, **tgt.labels}, tgt.cluster_id or cur.cluster_id))
        nodes.append(n)
    return replace(plan.state, nodes=tuple(nodes))
