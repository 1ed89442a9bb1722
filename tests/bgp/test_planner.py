"""Planner tables: counts per zone, spread, groups, load bounds, determinism, bad input."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from calicotool.bgp.options import PlanOptions, cluster_id_for
from calicotool.bgp.planner import plan_route_reflectors
from calicotool.bgp.synthetic import generate_cluster
from calicotool.errors import InputError
from tests.bgp.conftest import cluster, node


@pytest.mark.parametrize(
    ("nodes", "zones", "opts", "per_zone"),
    [
        (12, 3, PlanOptions(), 1),  # ceil(4 * 0.02) = 1
        (300, 3, PlanOptions(ratio=0.02), 2),  # ceil(100 * 0.02) = 2
        (300, 3, PlanOptions(ratio=0.1), 10),  # 10, at max
        (300, 3, PlanOptions(ratio=0.5, max_per_zone=4), 4),  # clamped to max
        (30, 3, PlanOptions(ratio=0.01, min_per_zone=3), 3),  # raised to min
        (3000, 10, PlanOptions(), 6),  # ceil(300 * 0.02)
    ],
)
def test_reflectors_per_zone_ratio_mode(nodes: int, zones: int, opts: PlanOptions, per_zone: int) -> None:
    plan = plan_route_reflectors(generate_cluster(nodes, zones, 4, seed=3), opts)
    by_zone = Counter(plan.state.by_name()[rr].zone for rr in plan.reflectors)
    assert set(by_zone.values()) == {per_zone}
    assert len(by_zone) == zones


@pytest.mark.parametrize(("budget", "nodes"), [(200, 600), (120, 600), (1000, 3000)])
def test_budget_mode_keeps_every_reflector_within_budget(budget: int, nodes: int) -> None:
    plan = plan_route_reflectors(generate_cluster(nodes, 3, 4, seed=1), PlanOptions(budget=budget, max_per_zone=50))
    assert max(plan.load().values()) <= budget
    assert not any("budget cannot be met" in w for w in plan.warnings)


def test_budget_mode_warns_when_max_prevents_it() -> None:
    plan = plan_route_reflectors(generate_cluster(600, 3, 4, seed=1), PlanOptions(budget=50, max_per_zone=2))
    assert any("budget cannot be met" in w for w in plan.warnings)


@pytest.mark.parametrize(("nodes", "zones", "k"), [(60, 3, 2), (500, 3, 2), (500, 3, 3), (1000, 10, 2), (90, 2, 2)])
def test_groups_span_zones_and_every_client_has_k_reflectors(nodes: int, zones: int, k: int) -> None:
    opts = PlanOptions(ratio=0.05, k=k)
    plan = plan_route_reflectors(generate_cluster(nodes, zones, 4, seed=5), opts)
    for g in plan.groups.values():
        assert len(g.reflectors) >= k
        assert len(g.zones) >= 2, g
    assert set(plan.client_group) | set(plan.reflectors) == {n.name for n in plan.state.nodes}
    assert not set(plan.client_group) & set(plan.reflectors)


def test_reflectors_spread_over_racks_within_a_zone() -> None:
    nodes = [node(f"n{r}{i}", "a", f"r{r}") for r in range(4) for i in range(10)]
    plan = plan_route_reflectors(cluster(nodes), PlanOptions(ratio=0.1))  # 4 reflectors in zone a
    racks = Counter(plan.state.by_name()[rr].rack for rr in plan.reflectors)
    assert racks == Counter({"r0": 1, "r1": 1, "r2": 1, "r3": 1})


@pytest.mark.parametrize("imbalance", [0.0, 0.1, 0.25])
def test_load_is_bounded(imbalance: float) -> None:
    plan = plan_route_reflectors(generate_cluster(1000, 3, 4, seed=2), PlanOptions(max_imbalance=imbalance))
    sizes = [len(c) for c in plan.clients_of().values()]
    mean = sum(sizes) / len(sizes)
    assert max(sizes) <= max(1, -(-mean * (1 + imbalance) // 1))


def test_plan_is_deterministic() -> None:
    state = generate_cluster(400, 3, 4, seed=9)
    a = plan_route_reflectors(state, PlanOptions())
    b = plan_route_reflectors(replace(state, nodes=tuple(reversed(state.nodes))), PlanOptions())
    assert a.groups == b.groups and a.client_group == b.client_group


def test_cluster_ids_are_unique_and_derived_from_group_index() -> None:
    plan = plan_route_reflectors(generate_cluster(2000, 3, 4, seed=1), PlanOptions(ratio=0.05))
    ids = [g.cluster_id for g in plan.groups.values()]
    assert len(ids) == len(set(ids))
    assert all(g.cluster_id == cluster_id_for(g.index) for g in plan.groups.values())


def test_new_group_skips_cluster_id_of_unmanaged_reflector() -> None:
    nodes = [node(f"n{i}", "abc"[i % 3]) for i in range(12)]
    nodes.append(node("hand-rr", "a", cluster_id=cluster_id_for(1)))
    plan = plan_route_reflectors(cluster(nodes), PlanOptions())
    assert "hand-rr" in plan.left_out and "hand-rr" not in plan.reflectors
    assert all(g.cluster_id != cluster_id_for(1) for g in plan.groups.values())


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (PlanOptions(ratio=0.0), "ratio must be in (0, 1]"),
        (PlanOptions(ratio=1.5), "ratio must be in (0, 1]"),
        (PlanOptions(min_per_zone=5, max_per_zone=2), "min (5) is larger than max (2)"),
        (PlanOptions(k=0), "k must be >= 1"),
        (PlanOptions(budget=1), "budget"),
        (PlanOptions(k=20), "k=20 reflectors per client, but only 12 nodes"),
    ],
)
def test_bad_options_are_input_errors(opts: PlanOptions, message: str) -> None:
    with pytest.raises(InputError, match=None) as exc:
        plan_route_reflectors(generate_cluster(12, 3, 2), opts)
    assert message in str(exc.value)


def test_no_addresses_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no node has a BGP IPv4 address"):
        plan_route_reflectors(cluster([node("a", ip=None), node("b", ip=None)]), PlanOptions())


def test_nodes_without_address_are_left_out_with_a_warning() -> None:
    nodes = [node(f"n{i}", "ab"[i % 2]) for i in range(6)] + [node("bare", ip=None)]
    plan = plan_route_reflectors(cluster(nodes), PlanOptions())
    assert plan.left_out["bare"] == "no BGP IPv4 address"
    assert any("without a BGP IPv4 address" in w for w in plan.warnings)


def test_all_reflectors_in_one_zone_is_warned() -> None:
    nodes = [node(f"a{i}", "a") for i in range(4)] + [node(f"b{i}", "b", ready=False) for i in range(4)]
    plan = plan_route_reflectors(cluster(nodes), PlanOptions())
    assert any("all calicotool route reflectors sit in zone a" in w for w in plan.warnings)


def test_k_raised_when_zone_formula_gives_fewer_reflectors() -> None:
    plan = plan_route_reflectors(cluster([node(f"n{i}", "a") for i in range(10)]), PlanOptions())
    assert len(plan.reflectors) == 2  # formula says 1; k=2 needs 2
    assert any("raised the reflector count" in w for w in plan.warnings)
