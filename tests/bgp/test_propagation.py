"""Route propagation under RFC 4456 reflection, and failure tolerance, on small hand-made graphs and plans."""

from __future__ import annotations

import networkx as nx
import pytest

from calicotool.bgp.mesh import full_mesh_graph, plan_graph
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import plan_route_reflectors
from calicotool.bgp.propagation import check_propagation
from calicotool.bgp.synthetic import generate_cluster
from calicotool.bgp.tolerance import tolerance


def graph(nodes: dict[str, str | None], edges: list[str], asn: dict[str, int] | None = None) -> nx.Graph:
    """nodes: name -> cluster ID (None for a plain speaker); edges: "a-b"."""
    g = nx.Graph()
    for i, (n, cid) in enumerate(sorted(nodes.items())):
        g.add_node(n, cluster_id=cid, asn=(asn or {}).get(n, 64512), address=f"10.0.0.{i + 1}", zone="z",
                   role="reflector" if cid else "client", group="")
    for e in edges:
        a, b = e.split("-")
        g.add_edge(a, b)
    return g


@pytest.mark.parametrize(
    ("nodes", "edges", "missing"),
    [
        # plain iBGP chain: b does not re-advertise a's route to c (and vice versa)
        ({"a": None, "b": None, "c": None}, ["a-b", "b-c"], 2),
        # full mesh: everyone learns everyone
        ({"a": None, "b": None, "c": None}, ["a-b", "b-c", "a-c"], 0),
        # one reflector: clients learn each other through it
        ({"r": "1.1.1.1", "a": None, "b": None}, ["r-a", "r-b"], 0),
        # two RRs sharing a cluster ID, each client on one RR: the other RR drops the reflected route (own ID in
        # CLUSTER_LIST): neither b nor r2 learns a's route, neither a nor r1 learns b's
        ({"r1": "1.1.1.1", "r2": "1.1.1.1", "a": None, "b": None}, ["r1-a", "r2-b", "r1-r2"], 4),
        # the same with distinct cluster IDs: r2 is r1's client and vice versa, routes pass
        ({"r1": "1.1.1.1", "r2": "2.2.2.2", "a": None, "b": None}, ["r1-a", "r2-b", "r1-r2"], 0),
        # shared cluster ID, every client on both RRs: fine (the usual redundant pair)
        ({"r1": "1.1.1.1", "r2": "1.1.1.1", "a": None, "b": None}, ["r1-a", "r1-b", "r2-a", "r2-b", "r1-r2"], 0),
        # two groups whose reflectors do not peer: a partition
        ({"r1": "1.1.1.1", "r2": "2.2.2.2", "a": None, "b": None}, ["r1-a", "r2-b"], 8),
        # reflector chain over three cluster IDs: multi-hop reflection works
        ({"r1": "1.1.1.1", "r2": "2.2.2.2", "r3": "3.3.3.3", "a": None, "b": None},
         ["r1-a", "r1-r2", "r2-r3", "r3-b"], 0),
    ],
)
def test_propagation_rules(nodes: dict[str, str | None], edges: list[str], missing: int) -> None:
    result = check_propagation(graph(nodes, edges))
    assert result.missing == missing, result
    assert result.ok is (missing == 0)


def test_failed_nodes_are_neither_origins_nor_receivers() -> None:
    g = graph({"r1": "1.1.1.1", "r2": "2.2.2.2", "a": None, "b": None}, ["r1-a", "r1-b", "r2-a", "r2-b", "r1-r2"])
    assert check_propagation(g, {"r1"}).ok
    assert not check_propagation(graph({"r": "1.1.1.1", "a": None, "b": None}, ["r-a", "r-b"]), set()).missing


@pytest.mark.parametrize(("asn_c", "ok"), [(64513, True), (64512, False)])
def test_ebgp_learned_routes_pass_unless_the_as_path_loops(asn_c: int, ok: bool) -> None:
    # a and c peer only with a ToR over eBGP; with c in a's AS, c drops a's route (its AS is in the path)
    g = graph({"a": None, "c": None, "tor": None}, ["a-tor", "c-tor"], asn={"tor": 65000, "c": asn_c})
    assert check_propagation(g).ok is ok


@pytest.mark.parametrize(("nodes", "zones", "k"), [(12, 3, 2), (60, 3, 2), (200, 3, 3), (300, 10, 2), (40, 1, 2)])
def test_plans_propagate_and_survive_one_reflector_and_one_zone(nodes: int, zones: int, k: int) -> None:
    plan = plan_route_reflectors(generate_cluster(nodes, zones, 4, seed=8), PlanOptions(ratio=0.05, k=k))
    report = tolerance(plan_graph(plan))
    assert report.baseline.ok
    assert all(s.ok for s in report.reflector_losses)
    assert all(s.ok for s in report.zone_losses)
    assert len(report.zone_losses) == (zones if zones > 1 else 0)


def test_k1_strands_clients_when_their_reflector_dies() -> None:
    plan = plan_route_reflectors(generate_cluster(30, 3, 2, seed=1), PlanOptions(k=1))
    report = tolerance(plan_graph(plan))
    assert report.baseline.ok
    assert any(s.clients_without_reflector > 0 for s in report.reflector_losses)
    assert not report.ok


def test_all_reflectors_in_one_zone_fail_the_zone_scenario() -> None:
    from dataclasses import replace

    state = generate_cluster(30, 3, 2, seed=1)
    state = replace(state, nodes=tuple(n if n.zone == "zone-a" else replace(n, unschedulable=True) for n in state.nodes))
    report = tolerance(plan_graph(plan_route_reflectors(state, PlanOptions())))
    zone_a = next(s for s in report.zone_losses if s.name == "zone-a")
    assert zone_a.clients_without_reflector == 20 and not zone_a.ok


def test_full_mesh_graph_propagates_and_has_n_choose_2_edges() -> None:
    g = full_mesh_graph(generate_cluster(20, 2, 2))
    assert g.number_of_edges() == 190
    assert check_propagation(g).ok
