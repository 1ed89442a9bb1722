"""Route reflectors on a real etcd and on the fake kube-apiserver: seed a topology, reconcile to convergence, a
second run writes nothing, the managed BGPPeers are O(groups), a hand-made BGPPeer is left alone throughout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SMALL_TOPOLOGY, Calicotool

TOR_PEER = """\
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor-router-zone-a
spec:
  nodeSelector: topology.kubernetes.io/zone == 'zone-a'
  peerIP: 10.255.0.1
  asNumber: 64600
"""


@pytest.fixture(params=[pytest.param("etcd", marks=pytest.mark.etcd), "kube"])
def tool(request: pytest.FixtureRequest) -> Calicotool:
    fixture: Calicotool = request.getfixturevalue(f"{request.param}_tool")
    return fixture


def items(listing: dict[str, Any]) -> list[dict[str, Any]]:
    return list(listing["items"]) if listing["kind"] == "List" else [listing]  # one object prints bare


def test_rr_seed_reconcile_converges_idempotently(tool: Calicotool, tmp_path: Path) -> None:
    seeded = tool.ok("rr", "seed", "--topology", str(SMALL_TOPOLOGY))
    assert "seeded" in seeded.stderr + seeded.stdout
    nodes = items(tool.ok("get", "nodes", "-o", "json").json())  # Calico Nodes (on Kubernetes: views of the Nodes)
    assert len(nodes) == 12
    reseed = tool("rr", "seed", "--topology", str(SMALL_TOPOLOGY))  # only into an empty datastore
    assert reseed.exit_code == 2 and "exist" in reseed.stderr
    (tmp_path / "tor.yaml").write_text(TOR_PEER)
    tool.ok("apply", "-f", str(tmp_path / "tor.yaml"))
    tor_before = tool.ok("get", "bgppeers", "tor-router-zone-a", "-o", "json").json()

    first = tool.ok("rr", "reconcile", "--once", "--no-wait", "-o", "json").json()
    assert first["converged"] and first["writes"] == len(first["applied"]) > 0
    assert first["writesByKind"]["create BGPPeer"] >= 1
    second = tool.ok("rr", "reconcile", "--once", "--no-wait", "-o", "json").json()
    assert (second["writes"], second["converged"], second["applied"]) == (0, True, [])

    # the plan read back from the datastore has nothing left to do
    plan = tool.ok("rr", "plan", "-o", "json").json()
    assert plan["changes"] == {"make": [], "break": []}
    groups = {g["group"]: g for g in plan["groups"]}
    assert groups and plan["summary"]["reflectors"] == len(first["reflectors"]) >= 3  # at least one per zone
    zones = {z for g in groups.values() for z in g["zones"]}
    assert zones == {"zone-a", "zone-b", "zone-c"}

    # O(groups) BGPPeers: one per group, plus the reflectors' own mesh; never one per node
    managed = items(tool.ok("get", "bgppeers", "-l", "app.kubernetes.io/managed-by=calicotool", "-o", "json").json())
    names = {p["metadata"]["name"] for p in managed}
    assert names == {f"calicotool-rr-{g}" for g in groups} | {"calicotool-rr-mesh"}
    assert len(names) <= len(groups) + 1 < len(nodes)

    # the Calico Nodes carry the plan: cluster IDs on reflectors, group roles on everyone
    by_name = {n["metadata"]["name"]: n for n in items(tool.ok("get", "nodes", "-o", "json").json())}
    for group, info in groups.items():
        for reflector in info["reflectors"]:
            node = by_name[reflector]
            assert node["spec"]["bgp"]["routeReflectorClusterID"] == info["clusterID"]
            assert node["metadata"]["labels"][f"rr.calicotool.io/{group}"] == "reflector"
    clients = [n for n in by_name.values() if "client" in n["metadata"].get("labels", {}).values()]
    assert len(clients) == sum(g["clients"] for g in groups.values()) == len(nodes) - plan["summary"]["reflectors"]

    # the hand-made router peering was never touched
    assert tool.ok("get", "bgppeers", "tor-router-zone-a", "-o", "json").json() == tor_before
    assert tor_before["spec"]["peerIP"] == "10.255.0.1"
