"""What a plan changes in BGP sessions: the sessions it implies, and churn against the cluster as it is now."""

from __future__ import annotations

from dataclasses import dataclass

from calicotool.bgp.layout import current_layout, target_layouts
from calicotool.bgp.planner import RouteReflectorPlan
from calicotool.bgp.sessions import (
    Session,
    current_sessions,
    external_sessions,
    full_mesh_sessions,
    group_sessions,
    mesh_members,
)


def planned_sessions(plan: RouteReflectorPlan) -> set[Session]:
    groups = {g: list(grp.reflectors) for g, grp in plan.groups.items()}
    return group_sessions(groups, plan.clients_of(), plan.reflectors)


@dataclass(frozen=True)
class Churn:
    """What applying a plan changes, against the cluster as it is now.

    `sessions_added`/`sessions_removed` count the BGPPeer sessions calicotool manages (what `rr reconcile`
    changes). `sessions_before` is everything up now: the node-to-node mesh when it is on, calicotool's
    sessions and hand-made ones (ToR, other BGPPeers). `sessions_after` is the state once the plan is applied
    and the mesh is off (`rr migrate --from-mesh` turns it off); `sessions_after_mesh_on` the state after
    `rr reconcile` alone while the mesh is still on (None when it is off already)."""

    sessions_before: int
    sessions_after: int
    sessions_added: int
    sessions_removed: int
    nodes_relabelled: int
    clients_moved: int
    promoted: int
    demoted: int
    mesh_enabled: bool = False
    mesh_sessions_before: int = 0
    unmanaged_sessions: int = 0
    sessions_after_mesh_on: int | None = None

    def as_dict(self) -> dict[str, int | bool | None]:
        return dict(self.__dict__)


def churn(plan: RouteReflectorPlan) -> Churn:
    state = plan.state
    before = current_sessions(state)
    after = planned_sessions(plan)
    targets = target_layouts(plan)
    nodes = state.by_name()
    relabelled = sum(1 for name, t in targets.items() if current_layout(nodes[name]) != t)
    moved = sum(
        1 for name, g in plan.client_group.items() if nodes[name].client_groups and nodes[name].client_groups != (g,)
    )
    external = external_sessions(state)
    mesh_now = 0
    after_mesh_on: int | None = None
    if state.mesh_enabled:
        mesh_now = _mesh_count(mesh_members(state.nodes), external)
        mesh_after = _mesh_count(sorted(plan.client_group), external)  # reflectors leave the mesh
        after_mesh_on = len(after | external) + mesh_after
    return Churn(
        sessions_before=len(before | external) + mesh_now,
        sessions_after=len(after | external),
        sessions_added=len(after - before),
        sessions_removed=len(before - after),
        nodes_relabelled=relabelled,
        clients_moved=moved,
        promoted=len(plan.promoted),
        demoted=len(plan.demoted),
        mesh_enabled=state.mesh_enabled,
        mesh_sessions_before=mesh_now,
        unmanaged_sessions=len(external),
        sessions_after_mesh_on=after_mesh_on,
    )


def _mesh_count(members: list[str], external: set[Session]) -> int:
    """Mesh sessions among `members`, not counting pairs a hand-made BGPPeer already connects."""
    inside = set(members)
    overlap = sum(1 for a, b in external if a in inside and b in inside)
    return full_mesh_sessions(len(members)) - overlap
