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


def mesh_members(nodes: Iterable[BgpNode]) -> list[str]:
    """Nodes that take part in Calico's node-to-node mesh when it is on: BGP speakers without a cluster ID
    (confd leaves a route reflector out of the mesh on both ends)."""
    return sorted(n.name for n in nodes if n.address is not None and not n.cluster_id)


def external_sessions(state: ClusterState, speakers: Iterable[str] | None = None) -> set[Session]:
    """Sessions of BGPPeers calicotool does not own: node-to-node pairs (selectors or a node name) among
    `speakers` (default: every node with a BGP address), and node-to-router pairs `(node, "peer:<ip>")`."""
    if not state.external_peers:
        return set()
    from calicotool.selector import parse

    names = sorted(speakers) if speakers is not None else [n.name for n in state.nodes if n.address is not None]
    labels = {n.name: n.labels for n in state.nodes}
    out: set[Session] = set()
    for peer in state.external_peers:
        if peer.node:
            local = [peer.node] if peer.node in names else []
        elif peer.node_selector:
            sel = parse(peer.node_selector)
            local = [n for n in names if sel.matches(labels.get(n, {}))]
        else:
            local = list(names)  # a global peer: every node
        if peer.peer_selector:
            sel = parse(peer.peer_selector)
            remote = [n for n in names if sel.matches(labels.get(n, {}))]
            out.update(pair(a, b) for a in local for b in remote if a != b)
        elif peer.peer_ip:
            out.update((a, f"peer:{peer.peer_ip}") for a in local)
    return out


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
    from calicotool.bgp.layout import current_layout, target_layouts

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
