"""Churn counted against what is really up: the node-to-node mesh while it is on (without reflectors, as confd
does it) plus hand-made peers; and hand-made reflectors left alone, consistently in load, graph and BGPPeers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from calicotool.bgp.churn import churn
from calicotool.bgp.layout import applied_state
from calicotool.bgp.mesh import current_graph, plan_graph
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import plan_route_reflectors
from calicotool.bgp.propagation import check_propagation
from calicotool.bgp.resources import desired_peers
from calicotool.bgp.sessions import full_mesh_sessions
from calicotool.bgp.state import ExternalPeering
from calicotool.bgp.synthetic import generate_cluster
from calicotool.bgp.topology import load_topology
from calicotool.selector import parse
from tests.conftest import CliRunner

SAMPLES = Path(__file__).resolve().parents[2] / "topologies"


def test_mesh_on_counts_the_mesh_as_the_current_sessions() -> None:
    state = generate_cluster(60, 3, 4, seed=2)  # mesh on, no reflectors yet
    plan = plan_route_reflectors(state, PlanOptions())
    c = churn(plan)
    assert c.mesh_enabled and c.sessions_before == c.mesh_sessions_before == full_mesh_sessions(60)
    assert c.sessions_after == plan.sessions()  # once migrate --from-mesh turned the mesh off
    clients = len(plan.client_group)
    assert c.sessions_after_mesh_on == plan.sessions() + full_mesh_sessions(clients)  # reflectors leave the mesh
    assert (c.sessions_added, c.sessions_removed) == (plan.sessions(), 0)


def test_mesh_off_and_applied_counts_only_real_sessions() -> None:
    plan = plan_route_reflectors(generate_cluster(60, 3, 4, seed=2, mesh_enabled=False), PlanOptions())
    c = churn(plan_route_reflectors(applied_state(plan), PlanOptions()))
    assert not c.mesh_enabled and c.mesh_sessions_before == 0 and c.sessions_after_mesh_on is None
    assert c.sessions_before == c.sessions_after == plan.sessions()


def test_current_graph_keeps_reflectors_out_of_the_mesh() -> None:
    plan = plan_route_reflectors(generate_cluster(12, 3, 2, seed=1), PlanOptions())
    g = current_graph(applied_state(plan, mesh_enabled=True))
    mesh = [(a, b) for a, b, k in g.edges(data="kind") if k == "full-mesh"]
    assert len(mesh) == full_mesh_sessions(len(plan.client_group))
    assert not any(set(e) & set(plan.reflectors) for e in mesh)


def test_plan_cli_shows_mesh_churn_honestly(cli: CliRunner) -> None:
    medium = str(SAMPLES / "medium-60-3zone-racks.yaml")
    data = json.loads(cli("rr", "plan", "-t", medium, "-o", "json", "--no-tolerance").stdout)
    c, s = data["churn"], data["summary"]
    assert c["sessions_before"] == 1770 and c["mesh_sessions_before"] == 1770
    assert c["sessions_after"] == s["sessionsPlanned"]
    table = cli("rr", "plan", "-t", medium, "--no-tolerance").stdout
    assert "node-to-node mesh 1770" in table and "after rr migrate --from-mesh (mesh off)" in table
    assert "0 -> 174" not in table


def test_hand_made_reflector_is_left_alone_everywhere() -> None:
    state = load_topology(SAMPLES / "problems.yaml")
    plan = plan_route_reflectors(state, PlanOptions())
    assert plan.unmanaged_reflectors() == ["tor-rr"]
    managed_mesh = len(plan.reflectors) - 1
    load = plan.load()
    for rr, g in plan.reflector_group.items():
        assert load[rr] == len(plan.clients_of()[g]) + managed_mesh  # tor-rr not counted
    g = plan_graph(plan)
    assert set(g.adj["tor-rr"]) == {"b-1", "b-2"}  # only its own hand-made BGPPeer's sessions
    assert all(g.edges["tor-rr", n]["kind"] == "external" for n in g.adj["tor-rr"])
    labels = state.by_name()["tor-rr"].labels
    for peer in desired_peers(plan):  # calicotool's BGPPeers never select it
        assert not parse(peer.spec["nodeSelector"]).matches(labels)
        assert not parse(peer.spec["peerSelector"]).matches(labels)
    assert any("hand-made route reflector tor-rr" in w and "b-1, b-2" in w for w in plan.warnings)
    assert not check_propagation(g).ok  # and the model says what BIRD does: it is cut off


def test_hand_made_reflector_peered_by_its_owner_is_fine() -> None:
    state = load_topology(SAMPLES / "problems.yaml")
    own = ExternalPeering("tor-rr-to-calicotool", node_selector="rr-handmade == 'true'",
                          peer_selector="rr.calicotool.io/role == 'reflector'")
    plan = plan_route_reflectors(applied_state(plan_route_reflectors(state, PlanOptions())), PlanOptions())
    plan = plan_route_reflectors(replace(plan.state, external_peers=(*state.external_peers, own)), PlanOptions())
    assert not any("hand-made route reflector" in w for w in plan.warnings)
    g = plan_graph(plan)
    assert set(plan.reflectors) <= set(g.adj["tor-rr"])
    result = check_propagation(g)
    assert result.ok, result.examples
