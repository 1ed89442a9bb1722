"""Route reflectors on a real kube-apiserver, as the least-privileged ServiceAccount that deploy/ ships: the deploy
manifests pass a server-side dry run and apply, `rr reconcile --once` converges with no request denied, and a
repeat run writes nothing to Calico's resources or the Nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import Calicotool
from tests.fixtures.kubeapi import KubeCluster
from tests.kube.conftest import REPO, real_tool

SA_USER = "system:serviceaccount:calicotool:calicotool-rr"
WRITES = {"create", "update", "patch", "delete", "deletecollection"}


def test_rr_reconcile_as_the_deploy_service_account(kube_cluster_any: KubeCluster, tmp_path: Path) -> None:
    cluster = kube_cluster_any
    # A server-side dry run persists nothing, so it cannot create the namespace the other objects go into (true of
    # any kustomization): as in a real rollout, the namespace exists first.
    cluster.kubectl("apply", "-f", str(REPO / "deploy" / "namespace.yaml"))
    dry = cluster.kubectl("apply", "--dry-run=server", "-k", str(REPO / "deploy"), check=False)
    assert dry.returncode == 0, dry.stderr
    cluster.kubectl("apply", "-k", str(REPO / "deploy"))
    admin = real_tool(cluster, tmp_path)
    admin.ok("rr", "seed", "--topology", str(REPO / "topologies" / "small-3zone.yaml"))
    assert cluster.settle_nodes() == 12  # every seeded Node got admission's not-ready taint; Ready ones lose it
    sa = Calicotool("kubernetes", tmp_path, {
        "KUBECONFIG": str(cluster.token_kubeconfig("calicotool", "calicotool-rr", tmp_path / "sa-kubeconfig")),
        "HOME": str(tmp_path), "CALICOTOOL_LOCK_NAMESPACE": "calicotool"})
    sa.ok("rr", "reconcile", "--once", "--no-wait", "-o", "json")

    def is_reflector(node: dict[str, Any]) -> bool:
        labels = node["metadata"].get("labels", {})
        return any(v == "reflector" for k, v in labels.items() if k.startswith("rr.calicotool.io/"))

    reflectors = [n for n in cluster.get("/api/v1/nodes")["items"] if is_reflector(n)]
    assert len(reflectors) >= 3  # a reflector per zone at least
    peers = cluster.calico_objects("bgppeers")
    assert peers and all(p["metadata"]["name"] for p in peers)
    before = cluster.snapshot()
    sa.ok("rr", "reconcile", "--once", "--no-wait")
    after = cluster.snapshot()
    assert {k: v["metadata"]["resourceVersion"] for k, v in after.items()} == {
        k: v["metadata"]["resourceVersion"] for k, v in before.items()}
    events = cluster.audit_events(SA_USER)
    assert events, "the audit log saw the ServiceAccount's requests"
    denied = [(e["verb"], e["requestURI"]) for e in events if e.get("responseStatus", {}).get("code") == 403]
    assert denied == []
