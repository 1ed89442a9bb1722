"""BGP sessions as sets of node pairs: what calicotool's layout implies now, and what a plan implies.

Only the sessions calicotool manages are enumerated (client-to-reflector, reflector mesh); the node-to-node
full mesh is counted, never enumerated (50,000 nodes would be 1.25 billion pairs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from calicotool.bgp.planner import RouteReflectorPlan
from calicotool.bgp.state import BgpNode, ClusterState

Session = tuple[str, str]


def pair(a: str, b: str) -> Session:
    return (a, b) if a < b else (b, a)


def full_mesh_sessions(n: int) -> int:
    return n * (n - 1) // 2


def _layout_sessions(groups: dict[str, list[str]], clients: dict[str, list[str]], mesh: list[str]) -> set[Session]:
    out: set[Session] = set()
    for g, members in groups.items():
        for client in clients.get(g, ()):
            for rr in members:
                if rr != client:
                    out.add(pair(client, rr))
    mesh = sorted(set(mesh))
    for i, a in enumerate(mesh):
        for b in mesh[i + 1:]:
            out.add((a, b))
    return out


def current_sessions(state: ClusterState) -> set[Session]:
    """Sessions implied by the calicotool labels on the nodes right now (without the full mesh)."""
    return layout_sessions(state.nodes)


def layout_sessions(nodes: Iterable[BgpNode]) -> set[Session]:
    groups: dict[str, list[str]] = defaultdict(list)
    clients: dict[str, list[str]] = defaultdict(list)
    mesh = []
    for n in nodes:
        if n.address is None:
            continue
        for g in n.reflector_groups:
            groups[g].append(n.name)
        for g in n.client_groups:
            clients[g].append(n.name)
        if n.managed_reflector:
            mesh.append(n.name)
    return _layout_sessions(groups, clients, mesh)


def planned_sessions(plan: RouteReflectorPlan) -> set[Session]:
    groups = {g: list(grp.reflectors) for g, grp in plan.groups.items()}
    return _layout_sessions(groups, plan.clients_of(), plan.reflectors)


@dataclass(frozen=True)
class Churn:
    """What applying a plan changes, against the current calicotool layout."""

    sessions_before: int
    sessions_after: int
    sessions_added: int
    sessions_removed: int
    nodes_relabelled: int
    clients_moved: int
    promoted: int
    demoted: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def churn(plan: RouteReflectorPlan) -> Churn:
    from calicotool.bgp.layout import current_layout, target_layouts

    before = current_sessions(plan.state)
    after = planned_sessions(plan)
    targets = target_layouts(plan)
    nodes = plan.state.by_name()
    relabelled = sum(1 for name, t in targets.items() if current_layout(nodes[name]) != t)
    moved = sum(
        1 for name, g in plan.client_group.items() if nodes[name].client_groups and nodes[name].client_groups != (g,)
    )
    return Churn(
        sessions_before=len(before),
        sessions_after=len(after),
        sessions_added=len(after - before),
        sessions_removed=len(before - after),
        nodes_relabelled=relabelled,
        clients_moved=moved,
        promoted=len(plan.promoted),
        demoted=len(plan.demoted),
    )
