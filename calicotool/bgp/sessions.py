"""BGP sessions as sets of node pairs: what calicotool's labels imply, and BGPPeers it does not own.

Only the sessions calicotool manages are enumerated (client-to-reflector, reflector mesh); the node-to-node
full mesh is counted, never enumerated (50,000 nodes would be 1.25 billion pairs). Depends on `state` only, so
the planner can use it; what a plan implies and changes is in `churn`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from calicotool.bgp.state import BgpNode, ClusterState

Session = tuple[str, str]


def pair(a: str, b: str) -> Session:
    return (a, b) if a < b else (b, a)


def full_mesh_sessions(n: int) -> int:
    return n * (n - 1) // 2


def group_sessions(groups: dict[str, list[str]], clients: dict[str, list[str]], mesh: list[str]) -> set[Session]:
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
    return group_sessions(groups, clients, mesh)


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
