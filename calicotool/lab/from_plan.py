"""Bridge from the route-reflector planner (``calicotool.bgp``) to lab topologies, and back to its graph model.

Any BGP session graph in the planner's shape (`calicotool.bgp.mesh`: node attributes ``cluster_id``, ``asn``,
``role``; edges with ``kind``) becomes a `LabTopology`: nodes get lab underlay addresses (in sorted-name order)
and one IPAM block each; ``full-mesh`` edges become Calico ``Mesh_*`` sessions, the others ``Node_*`` sessions
(what BGPPeers render to); ``rr client`` follows confd's rule. External peers (ToRs) have no lab node and are
left out, with a note, as are reflectors calicotool does not manage when the graph gives them no session.
`hand_built_rr_topology` needs no planner; `graph_from_topology` goes the other way so the planner's
propagation check can be compared with what BIRD really does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

from calicotool.errors import InputError, Location
from calicotool.lab.topology import (
    DEFAULT_ASN,
    DEFAULT_POOL,
    DEFAULT_UNDERLAY,
    LabNode,
    LabPeer,
    LabTopology,
    block_for,
    calico_rr_client,
    underlay_address,
    validate_topology,
)
from calicotool.wording import plural

if TYPE_CHECKING:
    from calicotool.bgp.planner import RouteReflectorPlan
    from calicotool.bgp.state import ClusterState


def topology_from_graph(
    g: nx.Graph, *, pool: str = DEFAULT_POOL, underlay: str = DEFAULT_UNDERLAY, description: str = ""
) -> LabTopology:
    external = sorted(n for n in g.nodes if g.nodes[n].get("role") == "external")
    # A reflector calicotool does not manage has only hand-made peerings, which a plan does not describe.
    unmanaged = sorted(
        n for n in g.nodes if g.nodes[n].get("role") == "reflector" and not g.nodes[n].get("group") and not g.adj[n]
    )
    names = sorted(n for n in g.nodes if n not in external and n not in unmanaged)
    ip = {name: underlay_address(underlay, i) for i, name in enumerate(names)}
    attrs = {name: g.nodes[name] for name in names}

    def asn(name: str) -> int:
        return int(attrs[name].get("asn") or DEFAULT_ASN)

    def cid(name: str) -> str | None:
        return attrs[name].get("cluster_id") or None

    nodes = []
    for i, name in enumerate(names):
        peers = []
        for other in sorted(g.adj[name]):
            if other not in ip:
                continue
            mesh = g.edges[name, other].get("kind") == "full-mesh"
            if mesh and (cid(name) or cid(other)):
                continue  # confd: reflectors take no part in the node-to-node mesh
            rr = calico_rr_client(asn(name), cid(name), asn(other), cid(other))
            peers.append(LabPeer(ip[other], asn(other), rr, mesh, other))
        nodes.append(LabNode(name, ip[name], asn(name), (block_for(pool, i),), cid(name), tuple(peers)))
    notes = tuple(
        f"left out {plural(len(left), what)}{why}: {', '.join(left[:5])}"
        for left, what, why in ((external, "external peer", ""),
                                (unmanaged, "unmanaged reflector", " without planned sessions"))
        if left
    )
    topo = LabTopology(tuple(nodes), pool, underlay, description or str(g.graph.get("name", "")), notes)
    validate_topology(topo)
    return topo


def topology_from_plan(plan: RouteReflectorPlan, **kwargs: Any) -> LabTopology:
    """The sessions a route-reflector plan creates, as a lab (reflector mesh + clients to their group)."""
    from calicotool.bgp.mesh import plan_graph

    kwargs.setdefault("description", f"route-reflector plan: {plural(len(plan.reflectors), 'reflector')}, "
                                     f"{plural(len(plan.groups), 'group')}")
    return topology_from_graph(plan_graph(plan), **kwargs)


def plan_cluster(state: ClusterState, **options: Any) -> RouteReflectorPlan:
    """Run the planner with `PlanOptions(**options)`; lab clusters are fresh, so damping is off by default."""
    from calicotool.bgp.eligibility import EligibilityRules
    from calicotool.bgp.options import PlanOptions
    from calicotool.bgp.planner import plan_route_reflectors

    options.setdefault("rules", EligibilityRules(damping_seconds=0))
    return plan_route_reflectors(state, PlanOptions(**options))


def synthetic_cluster(count: int, zones: int = 3) -> ClusterState:
    from calicotool.bgp.synthetic import generate_cluster

    return generate_cluster(count, zones=min(zones, count))


def full_mesh_from_state(state: ClusterState, **kwargs: Any) -> LabTopology:
    """Calico's default for a cluster: every BGP speaker in the node-to-node mesh."""
    from calicotool.bgp.mesh import full_mesh_graph

    return topology_from_graph(full_mesh_graph(state), **kwargs)


def hand_built_rr_topology(
    count: int,
    *,
    reflectors: int = 4,
    k: int = 2,
    asn: int = DEFAULT_ASN,
    pool: str = DEFAULT_POOL,
    underlay: str = DEFAULT_UNDERLAY,
) -> LabTopology:
    """Planner-free: reflectors in groups of ``k`` sharing a cluster ID (244.0.0.<group>), clients dealt to
    groups round-robin, reflectors fully meshed. Same session shape as the planner produces."""
    if reflectors < k or count <= reflectors or k < 1:
        raise InputError(
            f"need k <= reflectors < nodes, got k={k}, reflectors={reflectors}, nodes={count}", Location(field="--nodes")
        )
    g = nx.Graph(name=f"hand-built: {reflectors} reflectors in groups of {k}, {count} nodes")
    names = [f"node{i + 1:02d}" for i in range(count)]
    step = count / reflectors
    rr_names = [names[int(i * step)] for i in range(reflectors)]
    groups = [rr_names[i :: reflectors // k] for i in range(reflectors // k)]
    for gi, members in enumerate(groups, start=1):
        for rr in members:
            g.add_node(rr, role="reflector", cluster_id=f"244.0.0.{gi}", asn=asn)
    clients = [n for n in names if n not in rr_names]
    for ci, client in enumerate(clients):
        g.add_node(client, role="client", cluster_id=None, asn=asn)
        for rr in groups[ci % len(groups)]:
            g.add_edge(client, rr, kind="client")
    for i, a in enumerate(rr_names):
        for b in rr_names[i + 1 :]:
            g.add_edge(a, b, kind="rr-mesh")
    return topology_from_graph(g, pool=pool, underlay=underlay)


def graph_from_topology(topo: LabTopology) -> nx.Graph:
    """The lab's sessions as a planner-style graph (for `calicotool.bgp.propagation.check_propagation`)."""
    g = nx.Graph(name=topo.description or "lab")
    for n in topo.nodes:
        role = "reflector" if n.is_reflector else "client"
        g.add_node(n.name, role=role, cluster_id=n.rr_cluster_id, asn=n.asn, address=n.router_ip, zone="", rack="", group="")
    by_ip = topo.by_ip()
    configured = {
        (n.name, by_ip[p.ip].name): p.mesh
        for n in topo.nodes
        for p in n.peers
        if p.ip in by_ip and not (p.mesh and n.is_reflector)
    }
    for (a, b), mesh in configured.items():
        if (b, a) in configured:  # BIRD only brings a session up when both ends configure it
            g.add_edge(a, b, kind="full-mesh" if mesh else "client")
    return g
