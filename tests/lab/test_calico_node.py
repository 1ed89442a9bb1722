"""The lab's stand-in for confd reads the same sessions out of a datastore's BGPPeers and Nodes as calicotool's
layout model implies (no kernel needed: this is the part of `LabCalicoNode` that decides what BIRD gets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calicotool.bgp.layout import made_state
from calicotool.bgp.resources import plan_changes
from calicotool.bgp.transitions import TRANSITIONS, build_transition
from calicotool.datastore.directory import DirectoryStore
from calicotool.errors import InputError
from calicotool.lab.calico_node import store_topology
from calicotool.lab.handover import apply_event, layout_topology, seed_before


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("name", TRANSITIONS)
def test_selectors_in_the_store_give_the_layout_sessions(name: str, k: int, tmp_path: Path) -> None:
    t = build_transition(name, k)
    store = DirectoryStore(tmp_path / "cluster")
    try:
        seed_before(store, t.before, t.plan.options)
        lab = layout_topology(t.before)
        assert store_topology(store, lab).nodes == lab.nodes
        assert apply_event(store, t.before, t.plan.state) == [t.event.split()[1]]
        nodes = {r.name: r for r in store.list("Node")}
        changes = plan_changes(t.plan, nodes, store.list("BGPPeer"), store.list("CalicoNodeStatus"))
        store.apply_batch(changes.make)  # the make phase as reconcile writes it
        made = store_topology(store, lab)
        assert made.nodes == layout_topology(made_state(t.plan)).nodes
    finally:
        store.close()


def test_seed_refuses_a_cluster_that_is_not_settled(tmp_path: Path) -> None:
    t = build_transition("demote-in-group", 2)
    store = DirectoryStore(tmp_path / "cluster")
    try:
        with pytest.raises(InputError, match="not a settled layout"):
            seed_before(store, t.plan.state, t.plan.options)  # the event already applied: re-planning moves nodes
    finally:
        store.close()
