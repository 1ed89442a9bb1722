"""`explain` / `matrix` with `--datastore kubernetes` read the cluster's Pods, Namespaces and ServiceAccounts from a
real kube-apiserver (tests/fixtures/kubeapi.py) and answer as they do for the same objects in manifests."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import CliRunner
from tests.e2e.conftest import Calicotool
from tests.fixtures.kubeapi import KubeCluster

from .live_cluster import NAMESPACES, POLICIES, kubernetes_objects
from .test_live_endpoints import FLOWS


def _load_cluster(cluster: KubeCluster) -> None:
    """Namespaces with labels, service accounts, pods (with the status a kubelet would report), as an admin."""
    for ns, labels in NAMESPACES.items():
        cluster.ensure_namespace(ns)
        cluster.merge_patch(f"/api/v1/namespaces/{ns}", {"metadata": {"labels": labels}})
    for obj in kubernetes_objects():
        meta = obj["metadata"]
        if obj["kind"] == "ServiceAccount":
            cluster.request("POST", f"/api/v1/namespaces/{meta['namespace']}/serviceaccounts", obj, ok=(201, 409))
        elif obj["kind"] == "Pod":
            body = {k: v for k, v in obj.items() if k != "status"}
            base = f"/api/v1/namespaces/{meta['namespace']}/pods"
            cluster.request("POST", base, body)
            cluster.merge_patch(f"{base}/{meta['name']}/status", {"status": obj["status"]})


def test_kubernetes_datastore_reads_the_real_pods(kube_v3: KubeCluster, cli: CliRunner, tmp_path: Path) -> None:
    _load_cluster(kube_v3)
    tool = Calicotool("kubernetes", tmp_path, kube_v3.environ())
    (tmp_path / "policies.yaml").write_text(POLICIES)
    tool.ok("apply", "-f", str(tmp_path / "policies.yaml"))
    for src, dst, port, code, (side, key, value) in FLOWS:
        r = tool("policy", "explain", "--src", src, "--dst", dst, "--port", port, "-o", "json")
        assert r.exit_code == code, (src, dst, r.stdout + r.stderr)
        assert json.loads(r.stdout)[side][key] == value
    live = tool("policy", "matrix", "-o", "json")
    assert live.exit_code == 0, live.stderr
    got = json.loads(live.stdout)
    assert "pod:tools/node-exporter" not in got["endpoints"] and "pod:shop/api-7d9f" in got["endpoints"]
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "cluster.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List",
                                                           "items": kubernetes_objects()}))
    (snapshot / "policies.yaml").write_text(POLICIES)
    files = cli("policy", "matrix", "-m", str(snapshot), "-o", "json")
    assert files.exit_code == 0, files.stderr
    assert got["allowed"] == json.loads(files.stdout)["allowed"]  # the API server's pods = the snapshot's
