"""Migrating off the full mesh and back, with checks at each step (directory backend)."""

from __future__ import annotations

import pytest

from calicotool.bgp.migrate import migrate_from_mesh, migrate_to_mesh
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.reconcile import ReconcileConfig
from calicotool.bgp.state import ROLE_LABEL
from calicotool.bgp.synthetic import generate_cluster
from calicotool.datastore.directory import DirectoryStore
from calicotool.errors import Findings
from tests.bgp.conftest import CountingStore, FakeCalicoNode, seed
from tests.bgp.test_reconcile import FakeClock

STATE = generate_cluster(24, 3, 2, seed=5)
CFG = ReconcileConfig(options=PlanOptions(ratio=0.1), timeout_seconds=20, poll_seconds=1)


def _mesh(store: DirectoryStore) -> bool:
    return bool(store.get("BGPConfiguration", "default").spec.get("nodeToNodeMeshEnabled", True))


def test_from_mesh_then_back(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    agent = FakeCalicoNode(dir_store)
    clock = FakeClock(agent)
    report = migrate_from_mesh(dir_store, CFG, STATE.now, clock, clock.sleep)
    assert all(s.ok for s in report.steps) and not _mesh(dir_store)
    assert [s.name for s in report.steps][-1] == "set nodeToNodeMeshEnabled=false"
    counting = CountingStore(dir_store)
    again = migrate_from_mesh(counting, CFG, STATE.now, clock, clock.sleep)
    assert counting.writes == [] and again.steps[-1].detail == "already off"
    # back to the mesh: calico-node would now report mesh sessions; the fake reports all of them as up
    reflectors_before = sum(ROLE_LABEL in n.labels for n in dir_store.list("Node"))
    agent_mesh = _MeshAgent(dir_store)
    clock2 = FakeClock(agent_mesh)  # type: ignore[arg-type]
    back = migrate_to_mesh(dir_store, CFG, STATE.now, clock2, clock2.sleep)
    assert all(s.ok for s in back.steps) and _mesh(dir_store)
    assert sum("joined the mesh" in s.name for s in back.steps) == reflectors_before >= 2
    assert not [p for p in dir_store.list("BGPPeer") if p.managed]
    assert not any(ROLE_LABEL in n.labels or n.spec.get("bgp", {}).get("routeReflectorClusterID")
                   for n in dir_store.list("Node"))
    assert not dir_store.list("CalicoNodeStatus")


def test_from_mesh_stops_before_disabling_the_mesh_when_sessions_stay_down(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    agent = FakeCalicoNode(dir_store, up=False)
    clock = FakeClock(agent)
    with pytest.raises(Findings, match="not Established|Established"):
        migrate_from_mesh(dir_store, CFG, STATE.now, clock, clock.sleep)
    assert _mesh(dir_store)  # the mesh is still on: nothing was cut


def test_dry_run_writes_nothing(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    counting = CountingStore(dir_store)
    from dataclasses import replace

    report = migrate_from_mesh(counting, replace(CFG, dry_run=True), STATE.now)
    assert counting.writes == [] and report.dry_run and _mesh(dir_store)


class _MeshAgent(FakeCalicoNode):
    """Plays confd with the mesh on: a node with a cluster ID takes no part in the mesh (its mesh sessions are
    not reported), any other node reports every other node without a cluster ID as an Established mesh peer."""

    def step(self, _seconds: float = 0.0) -> None:
        nodes = self.store.list("Node")
        by_name = {n.name: n for n in nodes}

        def cid(n: object) -> object:
            return n.spec.get("bgp", {}).get("routeReflectorClusterID")  # type: ignore[attr-defined]

        for status in self.store.list("CalicoNodeStatus"):
            me = str(status.spec.get("node"))
            if cid(by_name[me]):
                continue
            peers = [{"peerIP": str(n.spec["bgp"]["ipv4Address"]).split("/")[0], "state": "Established",
                      "type": "NodeMesh"} for n in nodes if n.name != me and not cid(n)]
            updated = status.copy()
            updated.status = {"bgp": {"peersV4": peers}}
            self.store.update(updated)
