"""Plan -> Calico changes: O(groups) BGPPeers, only calicotool's keys on Nodes, never unmanaged peers."""

from __future__ import annotations

import pytest

from calicotool.bgp.layout import applied_state
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import plan_route_reflectors
from calicotool.bgp.resources import MESH_PEER, desired_peers, node_resource, plan_changes
from calicotool.bgp.synthetic import generate_cluster
from calicotool.datastore.base import Op
from calicotool.errors import Conflict
from calicotool.model.resource import MANAGED_BY_LABEL, Resource
from calicotool.selector import parse


def _setup(nodes: int = 300):  # type: ignore[no-untyped-def]
    state = generate_cluster(nodes, 3, 4, seed=2)
    plan = plan_route_reflectors(state, PlanOptions(ratio=0.05))
    return state, plan, {n.name: node_resource(n) for n in state.nodes}


@pytest.mark.parametrize("nodes", [12, 300, 2000])
def test_one_bgppeer_per_group_plus_the_reflector_mesh(nodes: int) -> None:
    _, plan, res = _setup(nodes)
    changes = plan_changes(plan, res, [])
    peers = [c.resource for c in changes.make if c.resource.kind == "BGPPeer"]
    assert len(peers) == len(plan.groups) + 1
    assert all(p.managed for p in peers)
    assert not changes.break_


def test_selectors_of_the_generated_peers_select_exactly_the_planned_sessions() -> None:
    state, plan, res = _setup(120)
    changes = plan_changes(plan, res, [])
    labels = {c.resource.name: c.resource.labels for c in changes.make if c.resource.kind == "Node"}
    pairs = set()
    for peer in (c.resource for c in changes.make if c.resource.kind == "BGPPeer"):
        local, remote = parse(peer.spec["nodeSelector"]), parse(peer.spec["peerSelector"])
        for a, la in labels.items():
            for b, lb in labels.items():
                if a != b and local.matches(la) and remote.matches(lb):
                    pairs.add(tuple(sorted((a, b))))
    from calicotool.bgp.churn import planned_sessions

    assert pairs == planned_sessions(plan)


def test_reflectors_get_cluster_id_and_other_labels_survive() -> None:
    _, plan, res = _setup(60)
    changes = {c.resource.name: c.resource for c in plan_changes(plan, res, []).make if c.resource.kind == "Node"}
    for rr in plan.reflectors:
        assert changes[rr].spec["bgp"]["routeReflectorClusterID"] == plan.groups[plan.reflector_group[rr]].cluster_id
        assert changes[rr].labels["topology.kubernetes.io/zone"]  # untouched label kept
    client = next(iter(plan.client_group))
    assert "routeReflectorClusterID" not in changes[client].spec["bgp"]


def test_unmanaged_peers_are_never_touched_and_name_clash_is_refused() -> None:
    _, plan, res = _setup(60)
    tor = Resource.new("BGPPeer", "tor-a", {"peerIP": "192.0.2.1", "asNumber": 65000})
    stale = Resource.new("BGPPeer", "calicotool-rr-g99", {"nodeSelector": "x"}, labels={MANAGED_BY_LABEL: "calicotool"})
    changes = plan_changes(plan, res, [tor, stale])
    assert [c.resource.name for c in changes.break_ if c.op == Op.DELETE] == ["calicotool-rr-g99"]
    assert all(c.resource.name != "tor-a" for c in changes.all)
    handmade = Resource.new("BGPPeer", MESH_PEER, {"nodeSelector": "all()"})
    with pytest.raises(Conflict, match="not managed by calicotool"):
        plan_changes(plan, res, [handmade])


def test_applied_plan_needs_no_changes() -> None:
    _, plan, _ = _setup(300)
    state = applied_state(plan)
    again = plan_route_reflectors(state, PlanOptions(ratio=0.05))
    res = {n.name: node_resource(n) for n in state.nodes}
    first = plan_changes(plan, {n.name: node_resource(n) for n in plan.state.nodes}, [])
    peers = [c.resource for c in first.make if c.resource.kind == "BGPPeer"]
    statuses = [c.resource for c in first.make if c.resource.kind == "CalicoNodeStatus"]
    assert len(plan_changes(again, res, peers, statuses)) == 0


def test_moving_client_is_in_both_groups_between_make_and_break() -> None:
    from dataclasses import replace

    _, plan, _ = _setup(300)
    settled = applied_state(plan)
    keep = set(plan.reflectors) | set(sorted(plan.client_group)[:60])
    smaller = replace(settled, nodes=tuple(n for n in settled.nodes if n.name in keep))  # scale down: fewer groups
    after = plan_route_reflectors(smaller, PlanOptions(ratio=0.05))
    assert len(after.groups) < len(plan.groups)
    res = {n.name: node_resource(n) for n in smaller.nodes}
    changes = plan_changes(after, res, desired_peers(plan))
    moved = [n for n, g in after.client_group.items() if smaller.by_name()[n].client_groups not in ((), (g,))]
    assert moved, "scenario should move at least one client"
    make = {c.resource.name: c.resource for c in changes.make if c.resource.kind == "Node"}
    brk = {c.resource.name: c.resource for c in changes.break_ if c.resource.kind == "Node"}
    for name in moved:
        assert len([k for k, v in make[name].labels.items() if v == "client"]) == 2
        assert [k for k, v in brk[name].labels.items() if v == "client"] == [f"rr.calicotool.io/{after.client_group[name]}"]
    dropped = {c.resource.name for c in changes.break_ if c.op == Op.DELETE and c.resource.kind == "BGPPeer"}
    assert dropped == {f"calicotool-rr-{g}" for g in set(plan.groups) - set(after.groups)}
