"""The policy workflow on a real kube-apiserver, in each Calico install mode (v1 CRDs, native v3 CRDs, v3 with
Calico's admission policies): generate with defaults -> apply -> diff exits 0 -> re-apply changes nothing -> get
returns every object; naming follows the cluster's Calico version; a bad manifest anywhere in the batch leaves the
server untouched; prune deletes only what the rule set no longer produces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Calicotool
from tests.fixtures.kubeapi import KubeCluster
from tests.kube.conftest import real_tool


def generate(tool: Calicotool, shop: Path, out: Path, *extra: str) -> list[dict[str, Any]]:
    tool.ok("policy", "generate", str(shop), "--env", "prod", "-o", str(out), *extra)
    docs: list[dict[str, Any]] = []
    for path in sorted(out.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def get_args(doc: dict[str, Any]) -> list[str]:
    meta = doc["metadata"]
    return ["get", doc["kind"], meta["name"], "-o", "json"] + (["-n", meta["namespace"]] if meta.get("namespace") else [])


def test_generate_apply_diff_reapply_get(kube_cluster_any: KubeCluster, shop: Path, tmp_path: Path) -> None:
    cluster = kube_cluster_any
    cluster.ensure_namespace("shop")
    tool = real_tool(cluster, tmp_path)
    out = tmp_path / "out"
    docs = generate(tool, shop, out)  # defaults: Calico 3.32 naming, no --calico-version
    first = tool.ok("apply", "-f", str(out), "-o", "json").json()
    assert first["summary"]["create"] == len(docs) and first["summary"]["update"] == 0
    diff = tool("diff", "-f", str(out))
    assert diff.exit_code == 0, diff.stdout + diff.stderr
    before = cluster.snapshot()
    again = tool.ok("apply", "-f", str(out), "-o", "json").json()
    assert again["summary"] == {"create": 0, "update": 0, "delete": 0, "unchanged": len(docs)}
    assert cluster.snapshot() == before  # nothing was sent: every resourceVersion is unchanged
    for doc in docs:
        got = tool.ok(*get_args(doc)).json()
        assert got["metadata"]["name"] == doc["metadata"]["name"]
        assert got["spec"].get("selector", "") == doc["spec"].get("selector", "")
        assert got["spec"].get("ingress", []) == doc["spec"].get("ingress", [])  # rule order kept
    tiers = {d["metadata"]["name"] for d in docs if d["kind"] == "Tier"}
    gnps = [d for d in docs if d["kind"] == "GlobalNetworkPolicy" and d["spec"].get("tier") in tiers]
    assert gnps, "the shop rule set has tiered policies"
    if cluster.mode == "v3-admission":  # Calico's admission policy labelled them, and that is not drift
        live = cluster.calico_objects("globalnetworkpolicies")
        assert all(o["metadata"]["labels"].get("projectcalico.org/tier") for o in live)
    assert tool("policy", "diff", str(shop), "--env", "prod").exit_code == 0


def test_policy_apply_targets_the_clusters_calico_version(kube_cluster_any: KubeCluster, shop: Path,
                                                          tmp_path: Path) -> None:
    cluster = kube_cluster_any
    cluster.ensure_namespace("shop")
    cluster.set_calico_version("v3.31.4")
    tool = real_tool(cluster, tmp_path)
    before = cluster.snapshot()
    contradiction = tool("policy", "apply", str(shop), "--env", "prod", "--calico-version", "3.32")
    assert contradiction.exit_code == 2 and "contradicts the datastore" in contradiction.stderr
    plain = tmp_path / "plain"
    generate(tool, shop, plain)  # 3.32 names: refused by a 3.31 cluster, before any write
    refused = tool("apply", "-f", str(plain))
    assert refused.exit_code == 2 and "Calico 3.31 needs its name to start with" in refused.stderr
    assert "nothing was written" in refused.stderr
    assert cluster.snapshot() == before
    tool.ok("policy", "apply", str(shop), "--env", "prod")  # no --calico-version: the cluster's 3.31
    names = {o["metadata"]["name"] for o in cluster.calico_objects("networkpolicies", "shop")}
    v3_names = names if cluster.mode != "v1" else {
        yaml.safe_load(o["metadata"]["annotations"]["projectcalico.org/metadata"])["name"]
        for o in cluster.calico_objects("networkpolicies", "shop")}
    assert v3_names and all("." in n for n in v3_names)  # <tier>.<name>
    assert tool("policy", "diff", str(shop), "--env", "prod").exit_code == 0


@pytest.mark.parametrize("bad", ["selector", "tier-name", "hostendpoint-cel"])
def test_bad_last_manifest_leaves_the_server_untouched(kube_cluster_any: KubeCluster, shop: Path, tmp_path: Path,
                                                       bad: str) -> None:
    cluster = kube_cluster_any
    cluster.ensure_namespace("shop")
    tool = real_tool(cluster, tmp_path)
    out = tmp_path / "out"
    generate(tool, shop, out)
    if bad == "tier-name":
        cluster.set_calico_version("v3.31.0")
        extra = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "zz-last"},
                 "spec": {"tier": "app", "selector": "all()", "types": ["Ingress"]}}
        generate(tool, shop, out, "--calico-version", "3.31")  # the rest is right for 3.31
    elif bad == "selector":
        extra = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "zz-last"},
                 "spec": {"selector": "app == 'web' &&", "types": ["Ingress"]}}
    else:  # Calico's CRD rule: a HostEndpoint needs interfaceName or expectedIPs
        extra = {"apiVersion": "projectcalico.org/v3", "kind": "HostEndpoint", "metadata": {"name": "zz-last"},
                 "spec": {"node": "n1"}}
    (out / "zz-last.yaml").write_text(yaml.safe_dump(extra))
    before = cluster.snapshot()
    run = tool("apply", "-f", str(out))
    assert run.exit_code == 2, run.stderr
    assert "zz-last" in run.stderr and "Traceback" not in run.stderr
    assert cluster.snapshot() == before


def test_server_rejection_in_dry_run_writes_nothing(kube_v1: KubeCluster, tmp_path: Path) -> None:
    """A rejection only the server knows (here: a namespace that does not exist) comes from the dry run, before
    any object of the batch is written."""
    tool = real_tool(kube_v1, tmp_path)
    docs = [{"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet", "metadata": {"name": f"set-{i}"},
             "spec": {"nets": [f"198.51.100.{i}/32"]}} for i in range(5)]
    docs.append({"apiVersion": "projectcalico.org/v3", "kind": "NetworkSet",
                 "metadata": {"name": "orphan", "namespace": "no-such-namespace"}, "spec": {"nets": ["192.0.2.0/24"]}})
    (tmp_path / "batch.yaml").write_text(yaml.safe_dump_all(docs))
    before = kube_v1.snapshot()
    run = tool("apply", "-f", str(tmp_path / "batch.yaml"))
    assert run.exit_code == 3, run.stderr
    assert "dry run" in run.stderr and "nothing was written" in run.stderr and "no-such-namespace" in run.stderr
    assert kube_v1.snapshot() == before


def test_prune_deletes_only_what_the_rule_set_dropped(kube_cluster_any: KubeCluster, shop: Path, tmp_path: Path) -> None:
    cluster = kube_cluster_any
    cluster.ensure_namespace("shop")
    tool = real_tool(cluster, tmp_path)
    ruleset = shop / "ruleset.yaml"
    original = ruleset.read_text()
    doc = yaml.safe_load(original)
    doc["groups"]["partner-net"] = {"description": "A partner's addresses (dropped later).", "nets": ["192.0.2.64/26"]}
    ruleset.write_text(yaml.safe_dump(doc, sort_keys=False))
    tool.ok("policy", "apply", str(shop), "--env", "prod")
    # A managed object with no owner label (written by hand or by an older tool) and another rule set's object.
    strays = [
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
         "metadata": {"name": "unowned", "labels": {"app.kubernetes.io/managed-by": "calicotool"}},
         "spec": {"nets": ["192.0.2.0/26"]}},
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
         "metadata": {"name": "billing-set", "labels": {"app.kubernetes.io/managed-by": "calicotool",
                                                        "calicotool.io/ruleset": "billing"}},
         "spec": {"nets": ["192.0.2.128/25"]}},
    ]
    (tmp_path / "strays.yaml").write_text(yaml.safe_dump_all(strays))
    tool.ok("apply", "-f", str(tmp_path / "strays.yaml"))
    before = cluster.snapshot()
    ruleset.write_text(original)  # the partner group is gone
    run = tool("policy", "apply", str(shop), "--env", "prod", "--prune", "-o", "json")
    assert run.exit_code == 0, run.stderr
    changes = run.json()["changes"]
    assert [(c["op"], c["kind"]) for c in changes] == [("delete", "GlobalNetworkSet")]
    assert "partner-net" in changes[0]["name"]
    after = cluster.snapshot()
    assert set(before) - set(after) == {k for k in before if "partner-net" in k}
    assert {k: v["metadata"]["resourceVersion"] for k, v in after.items()} == {
        k: v["metadata"]["resourceVersion"] for k, v in before.items() if k in after}
