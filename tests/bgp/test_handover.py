"""Make-before-break as a pure invariant: the make phase only adds, and no client that stays a client keeps fewer
reflector sessions through either phase than min(before, after) — for every named transition, k=2 and k=3, and
along random churn sequences."""

from __future__ import annotations

import pytest

from calicotool.bgp.churn import planned_sessions
from calicotool.bgp.handover import check_handover, client_sessions
from calicotool.bgp.layout import (
    NodeLayout,
    applied_state,
    made_state,
    make_layout,
    plan_handover,
    restarted_reflectors,
)
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import plan_route_reflectors
from calicotool.bgp.reconcile import sessions_to_confirm
from calicotool.bgp.resources import node_resource, plan_changes
from calicotool.bgp.sessions import current_sessions
from calicotool.bgp.state import ROLE_LABEL, BgpNode
from calicotool.bgp.synthetic import apply_event, generate_cluster, random_events
from calicotool.bgp.transitions import TRANSITIONS, build_transition, replaced_in_place_state

G1, G2 = "rr.calicotool.io/g1", "rr.calicotool.io/g2"
C1, C2 = "244.0.0.1", "244.0.0.2"
RR1 = {G1: "reflector", ROLE_LABEL: "reflector"}
RR2 = {G2: "reflector", ROLE_LABEL: "reflector"}


@pytest.mark.parametrize(
    ("current", "target", "keep", "made"),
    [
        # demoted, stays in its group: keeps reflecting (label, role, cluster ID) until the break phase
        (NodeLayout(RR1, C1), NodeLayout({G1: "client"}, None), False, NodeLayout(RR1, C1)),
        # demoted into another group: a client there too, still a reflector of its own group
        (NodeLayout(RR1, C1), NodeLayout({G2: "client"}, None), False, NodeLayout({**RR1, G2: "client"}, C1)),
        # promoted in its own group: flips now (the group needs it before anyone leaves)
        (NodeLayout({G1: "client"}, None), NodeLayout(RR1, C1), False, NodeLayout(RR1, C1)),
        # a client moving group sits in both
        (NodeLayout({G1: "client"}, None), NodeLayout({G2: "client"}, None), False,
         NodeLayout({G1: "client", G2: "client"}, None)),
        # a reflector released from a group that goes on: new cluster ID at once
        (NodeLayout(RR1, C1), NodeLayout(RR2, C2), False, NodeLayout({**RR1, **RR2}, C2)),
        # ... from a dissolved group: cluster ID held back until the break phase
        (NodeLayout(RR1, C1), NodeLayout(RR2, C2), True, NodeLayout({**RR1, **RR2}, C1)),
        # nothing to do
        (NodeLayout(RR1, C1), NodeLayout(RR1, C1), False, NodeLayout(RR1, C1)),
        (NodeLayout({}, None), NodeLayout({G1: "client"}, None), True, NodeLayout({G1: "client"}, None)),
    ],
)
def test_make_layout_only_adds(current: NodeLayout, target: NodeLayout, keep: bool, made: NodeLayout) -> None:
    assert make_layout(current, target, keep) == made
    assert set(current.labels) <= set(made.labels)
    assert make_layout(made, target, keep) == made  # idempotent: a second make writes nothing


def _n(name: str, labels: dict[str, str], cid: str | None = None, i: int = 1) -> BgpNode:
    return BgpNode(name, labels=labels, ipv4=f"10.0.0.{i}/24", cluster_id=cid)


def _layout(spec: dict[str, tuple[dict[str, str], str | None]]) -> list[BgpNode]:
    return [_n(name, labels, cid, i) for i, (name, (labels, cid)) in enumerate(sorted(spec.items()), 1)]


CLIENT1 = ({G1: "client"}, None)
BEFORE = {"a": (RR1, C1), "b": (RR1, C1), "z": CLIENT1, "c": CLIENT1}
AFTER = {"a": ({G1: "client"}, None), "b": (RR1, C1), "z": (RR1, C1), "c": CLIENT1}


@pytest.mark.parametrize(
    ("made", "violations"),
    [
        # the defect of issue 12: `a` turned client in the make phase -> c rides on b alone while z comes up
        ({**BEFORE, "a": ({G1: "client", ROLE_LABEL: "reflector"}, C1), "z": (RR1, C1)}, ["c:make:1<2"]),
        # make only adds: a keeps reflecting until the break phase
        ({**BEFORE, "z": (RR1, C1)}, []),
        # b's cluster ID changed in the make phase (and back in the break phase): its session with c restarts twice
        ({**BEFORE, "b": (RR1, C2), "z": (RR1, C1)}, ["c:make:1<2", "c:break:1<2"]),
        # nothing made: the break phase would bring z up while a goes
        (BEFORE, ["c:break:1<2"]),
    ],
)
def test_check_handover_table(made: dict[str, tuple[dict[str, str], str | None]], violations: list[str]) -> None:
    found = check_handover(_layout(BEFORE), _layout(made), _layout(AFTER))
    assert [f"{v.client}:{v.phase}:{v.kept}<{v.floor}" for v in found] == violations


def test_client_sessions_carry_the_reflector_cluster_id_and_skip_reflectors() -> None:
    sessions = client_sessions(_layout({**BEFORE, "m": ({G1: "client", ROLE_LABEL: "reflector"}, C2)}))
    assert sessions == {"z": {("a", C1), ("b", C1)}, "c": {("a", C1), ("b", C1)}}


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("name", TRANSITIONS)
def test_every_transition_keeps_k_sessions_per_client(name: str, k: int) -> None:
    t = build_transition(name, k)
    h = plan_handover(t.plan)
    assert h.clients, "a transition without clients on both sides proves nothing"
    assert h.violations() == []
    assert min(h.floor(c) for c in h.clients) >= k
    assert min(h.min_kept().values()) >= k
    legacy = check_handover(t.plan.state.nodes, replaced_in_place_state(t.plan).nodes, applied_state(t.plan).nodes)
    assert bool(legacy) == (name in ("demote-in-group", "merge", "zone-loses-only-reflector"))


@pytest.mark.parametrize("k", [2, 3])
def test_transitions_are_the_shape_they_claim(k: int) -> None:
    demote = build_transition("demote-in-group", k).plan
    (gone,) = demote.demoted
    assert demote.client_group[gone] in [g for n in demote.state.nodes if n.name == gone for g in n.reflector_groups]
    promote = build_transition("promote-into-group", k).plan
    (new,) = promote.promoted
    node = promote.state.by_name()[new]
    assert promote.reflector_group[new] in node.client_groups and len(promote.groups) == 1
    split, merge = build_transition("split", k), build_transition("merge", k)
    assert (len({g for n in split.before.nodes for g in n.reflector_groups}), len(split.plan.groups)) == (1, 2)
    assert (len({g for n in merge.before.nodes for g in n.reflector_groups}), len(merge.plan.groups)) == (2, 1)
    assert restarted_reflectors(split.plan) and not restarted_reflectors(merge.plan)  # merge: held until break
    zone = build_transition("zone-loses-only-reflector", k).plan
    (gone,) = zone.demoted
    lost = zone.state.by_name()[gone].zone
    assert all(zone.state.by_name()[rr].zone != lost for rr in zone.reflectors)


def test_demoted_reflector_keeps_its_group_label_until_the_break_phase() -> None:
    plan = build_transition("demote-in-group", 2).plan
    (gone,) = plan.demoted
    group = plan.client_group[gone]
    changes = plan_changes(plan, {n.name: node_resource(n) for n in plan.state.nodes}, [])
    made = [c.resource for c in changes.make if c.resource.name == gone]
    assert made == []  # nothing to add for it: it already reflects for that group
    (brk,) = [c.resource for c in changes.break_ if c.resource.name == gone]
    assert brk.labels[f"rr.calicotool.io/{group}"] == "client" and ROLE_LABEL not in brk.labels
    assert "routeReflectorClusterID" not in brk.spec["bgp"]
    assert made_state(plan).by_name()[gone].cluster_id == plan.state.by_name()[gone].cluster_id


@pytest.mark.parametrize(("k", "seed"), [(2, 1), (3, 2)])
def test_random_churn_never_breaks_the_invariant(k: int, seed: int) -> None:
    opts = PlanOptions(ratio=0.05, k=k)
    state = applied_state(plan_route_reflectors(generate_cluster(150, 3, 4, seed=seed), opts))
    checked = 0
    for event in random_events(state, 40, seed=seed):
        state = apply_event(state, event)
        plan = plan_route_reflectors(state, opts)
        assert plan_handover(plan).violations() == [], event
        checked += len(plan_handover(plan).clients)
        state = applied_state(plan)
    assert checked > 0


def test_reconcile_confirms_the_sessions_a_new_cluster_id_restarts() -> None:
    split = build_transition("split", 2).plan
    (moved,) = restarted_reflectors(split)
    planned = planned_sessions(split)
    assert {s for s in planned if moved in s} <= sessions_to_confirm(planned, current_sessions(split.state))
    same = {("a", "x"), ("b", "x"), ("a", "y")}  # nothing new, nobody loses a session
    assert sessions_to_confirm(same, same) == set()
    assert sessions_to_confirm(same, same, {"x"}) == {("a", "x"), ("b", "x")}  # but x restarts them
