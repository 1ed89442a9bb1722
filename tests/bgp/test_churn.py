"""Minimal churn: re-planning an unchanged cluster moves nothing; each event moves only what it forces."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from calicotool.bgp.churn import churn, planned_sessions
from calicotool.bgp.layout import applied_state
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import RouteReflectorPlan, plan_route_reflectors
from calicotool.bgp.sessions import current_sessions
from calicotool.bgp.state import ClusterState
from calicotool.bgp.synthetic import generate_cluster, make_node

OPTS = PlanOptions(ratio=0.05)


def settled(nodes: int = 300, zones: int = 3) -> tuple[ClusterState, RouteReflectorPlan]:
    first = plan_route_reflectors(generate_cluster(nodes, zones, 4, seed=4), OPTS)
    state = applied_state(first)
    return state, plan_route_reflectors(state, OPTS)


def _with(state: ClusterState, name: str, **kw: Any) -> ClusterState:
    return replace(state, nodes=tuple(replace(n, **kw) if n.name == name else n for n in state.nodes))


@pytest.mark.parametrize(("nodes", "zones"), [(12, 3), (60, 3), (300, 3), (1000, 10), (50, 1)])
def test_replanning_an_applied_plan_changes_nothing(nodes: int, zones: int) -> None:
    first = plan_route_reflectors(generate_cluster(nodes, zones, 4, seed=1), OPTS)
    again = plan_route_reflectors(applied_state(first), OPTS)
    c = churn(again)
    assert (c.sessions_added, c.sessions_removed, c.nodes_relabelled, c.clients_moved) == (0, 0, 0, 0)
    assert again.groups == first.groups and again.client_group == first.client_group


def test_notready_blip_on_a_reflector_changes_nothing() -> None:
    state, plan = settled()
    rr = plan.reflectors[0]
    blip = _with(state, rr, ready=False, ready_since=state.now - timedelta(seconds=30))
    c = churn(plan_route_reflectors(blip, OPTS))
    assert c.sessions_added == c.sessions_removed == c.nodes_relabelled == 0


def test_reflector_down_for_long_replaces_only_that_reflector() -> None:
    state, plan = settled()
    rr = plan.reflectors[0]
    group = plan.reflector_group[rr]
    clients = len(plan.clients_of()[group])
    down = _with(state, rr, ready=False, ready_since=state.now - timedelta(hours=1))
    after = plan_route_reflectors(down, OPTS)
    c = churn(after)
    assert after.demoted == {rr: ["NotReady"]}
    assert len(after.promoted) == 1
    assert c.clients_moved == 0  # clients stay in their group; only the reflector changes
    (promoted,) = after.promoted
    before, now = current_sessions(down), planned_sessions(after)
    touched = {rr, promoted}
    assert all(set(s) & touched for s in before - now)  # only sessions of the two nodes that swapped roles
    assert all(set(s) & touched for s in now - before)
    assert c.sessions_removed >= clients  # the old reflector's client sessions really went
    assert after.groups[group].cluster_id == plan.groups[group].cluster_id


def test_client_join_adds_only_its_sessions() -> None:
    state, plan = settled()
    new = make_node(9999, "zone-a", "zone-a-r1", state.now, ready_for=timedelta(0))  # damping: not a candidate
    c = churn(plan_route_reflectors(replace(state, nodes=(*state.nodes, new)), OPTS))
    assert c.sessions_removed == 0 and c.clients_moved == 0
    assert c.sessions_added == 2 and c.nodes_relabelled == 1


def test_eligible_join_that_crosses_the_ratio_promotes_one_reflector_without_moving_clients() -> None:
    state, plan = settled()
    new = make_node(9999, "zone-a", "zone-a-r1", state.now)  # Ready for a day: zone-a now wants 6 reflectors
    after = plan_route_reflectors(replace(state, nodes=(*state.nodes, new)), OPTS)
    c = churn(after)
    assert len(after.reflectors) == len(plan.reflectors) + 1
    assert c.clients_moved == 0 and c.demoted == 0


def test_client_leave_changes_nothing_else() -> None:
    """The leaving node's sessions vanish with it; the plan moves nobody else."""
    state, plan = settled()
    gone = next(iter(sorted(plan.client_group)))
    left = replace(state, nodes=tuple(n for n in state.nodes if n.name != gone))
    c = churn(plan_route_reflectors(left, OPTS))
    assert (c.sessions_added, c.sessions_removed, c.clients_moved, c.nodes_relabelled) == (0, 0, 0, 0)


def test_scale_up_moves_only_the_clients_a_new_group_needs() -> None:
    state, plan = settled(300, 3)
    more = list(state.nodes) + [make_node(5000 + i, f"zone-{'abc'[i % 3]}", "zone-a-r1", state.now - timedelta(days=1))
                                for i in range(120)]
    after = plan_route_reflectors(replace(state, nodes=tuple(more)), OPTS)
    c = churn(after)
    assert len(after.groups) > len(plan.groups)
    cap_excess = sum(max(0, len(v) - after.client_cap) for v in plan.clients_of().values())
    assert c.clients_moved <= cap_excess + 1
    assert c.clients_moved < len(plan.client_group) // 4


def test_demoted_reflector_ends_up_a_client_and_cluster_ids_stay_stable() -> None:
    state, plan = settled(300, 3)
    rr = plan.reflectors[-1]
    after = plan_route_reflectors(_with(state, rr, unschedulable=True), OPTS)
    assert rr in after.client_group
    assert {g: grp.cluster_id for g, grp in after.groups.items()} == {g: grp.cluster_id for g, grp in plan.groups.items()}
    assert planned_sessions(after) != planned_sessions(plan)


def test_hysteresis_keeps_a_reflector_when_the_zone_wobbles_around_a_threshold() -> None:
    # zone-a: 100 eligible -> ceil(100 * 0.05) = 5; one node NotReady -> 99 -> ceil(4.95) = 5 still; use 0.04:
    opts = PlanOptions(ratio=0.04)
    first = plan_route_reflectors(generate_cluster(303, 3, 4, seed=4), opts)  # 101 per zone -> 5 each
    state = applied_state(first)
    victim = next(n for n in sorted(first.client_group) if state.by_name()[n].zone == "zone-a")
    wobble = _with(state, victim, unschedulable=True)  # 100 eligible -> ceil(4.0) = 4 wanted
    assert churn(plan_route_reflectors(wobble, opts)).demoted == 0
    strict = plan_route_reflectors(wobble, replace(opts, hysteresis=0.0))
    assert churn(strict).demoted == 1
