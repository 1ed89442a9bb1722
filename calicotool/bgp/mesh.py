"""networkx models of the BGP mesh: the current layout, the full mesh, and a plan.

Graph nodes are node names with attributes `zone`, `rack`, `role` ("reflector" | "client" | "mesh" |
"external"), `cluster_id` (None for non-reflectors), `asn`, `address`, `group`. Edges are BGP sessions with a
`kind` ("client", "rr-mesh", "full-mesh", "external"). `propagation.check_propagation` applies Calico's
reflection rules to any such graph.
"""

from __future__ import annotations

import ipaddress
import itertools

import networkx as nx

from calicotool.bgp.planner import RouteReflectorPlan
from calicotool.bgp.sessions import external_sessions, layout_sessions, mesh_members
from calicotool.bgp.state import BgpNode, ClusterState
from calicotool.errors import InputError

FULL_MESH_GRAPH_LIMIT = 3000  # a complete graph on more nodes is millions of edges: count it, don't build it


def _add_node(g: nx.Graph, node: BgpNode, state: ClusterState, role: str, cluster_id: str | None, group: str) -> None:
    g.add_node(
        node.name,
        zone=node.zone,
        rack=node.rack,
        role=role,
        cluster_id=cluster_id,
        asn=state.node_as(node),
        address=node.address,
        group=group,
    )


def plan_graph(plan: RouteReflectorPlan) -> nx.Graph:
    """The sessions a plan creates: each client to every reflector of its group, reflectors in a full mesh."""
    g = nx.Graph(name="plan")
    nodes = plan.state.by_name()
    for grp in plan.groups.values():
        for rr in grp.reflectors:
            _add_node(g, nodes[rr], plan.state, "reflector", grp.cluster_id, grp.name)
    for client, gname in plan.client_group.items():
        _add_node(g, nodes[client], plan.state, "client", None, gname)
    for client, gname in plan.client_group.items():
        for rr in plan.groups[gname].reflectors:
            g.add_edge(client, rr, kind="client")
    g.add_edges_from(itertools.combinations(plan.reflectors, 2), kind="rr-mesh")
    for name in plan.unmanaged_reflectors():
        node = nodes[name]
        _add_node(g, node, plan.state, "reflector", node.cluster_id, "")
    _add_external(g, plan.state)
    return g


def current_graph(state: ClusterState, limit: int = FULL_MESH_GRAPH_LIMIT) -> nx.Graph:
    """The sessions the cluster has now: calicotool's layout, external peers, and the node-to-node mesh when
    enabled (among nodes without a cluster ID, as confd configures it)."""
    g = nx.Graph(name="current")
    speakers = [n for n in state.nodes if n.address is not None]
    for n in speakers:
        role = "reflector" if n.cluster_id else ("client" if n.client_groups else "mesh")
        group = (n.reflector_groups or n.client_groups or ("",))[0]
        _add_node(g, n, state, role, n.cluster_id or None, group)
    for a, b in layout_sessions(speakers):
        kind = "rr-mesh" if g.nodes[a]["role"] == g.nodes[b]["role"] == "reflector" else "client"
        g.add_edge(a, b, kind=kind)
    if state.mesh_enabled:
        members = mesh_members(speakers)  # confd keeps route reflectors out of the mesh, on both ends
        if len(members) > limit:
            raise InputError(f"the full mesh of {len(members)} nodes is too large to model as a graph (limit {limit})")
        for a, b in itertools.combinations(members, 2):
            if not g.has_edge(a, b):
                g.add_edge(a, b, kind="full-mesh")
    _add_external(g, state)
    return g


def full_mesh_graph(state: ClusterState, limit: int = FULL_MESH_GRAPH_LIMIT) -> nx.Graph:
    """Calico's default node-to-node mesh: every pair of BGP speakers."""
    speakers = [n for n in state.nodes if n.address is not None]
    if len(speakers) > limit:
        raise InputError(f"the full mesh of {len(speakers)} nodes is too large to build (limit {limit})")
    g = nx.Graph(name="full-mesh")
    for n in speakers:
        _add_node(g, n, state, "mesh", None, "")
    g.add_edges_from(itertools.combinations(sorted(n.name for n in speakers), 2), kind="full-mesh")
    return g


def _add_external(g: nx.Graph, state: ClusterState) -> None:
    """Unmanaged BGPPeers: node-to-node peers (by selector or node name) and peers at an IP (ToR routers)."""
    if not state.external_peers:
        return
    names = [n for n in g.nodes if g.nodes[n]["role"] != "external"]
    as_of = {f"peer:{p.peer_ip}": p.as_number for p in state.external_peers if p.peer_ip}
    for a, b in sorted(external_sessions(state, names)):
        if b.startswith("peer:") and b not in g:
            g.add_node(b, zone="", rack="", role="external", cluster_id=None,
                       asn=as_of.get(b) or state.as_number, address=b[len("peer:"):], group="")
        g.add_edge(a, b, kind="external")


def address_key(g: nx.Graph, name: str) -> int:
    """Numeric address (for BGP's lowest-neighbour-address tie break); unknown addresses sort last."""
    addr = g.nodes[name].get("address")
    try:
        return int(ipaddress.IPv4Address(addr)) if addr else 2**32
    except ValueError:
        return 2**32
