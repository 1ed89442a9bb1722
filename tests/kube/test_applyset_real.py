"""`apply --applyset` on a real kube-apiserver, in each Calico install mode: the members carry kubectl's ApplySet
label, the parent Secret records their group-kinds and namespaces as the ApplySet spec says (kubectl itself
derives the same ID), prune removes a kind the manifests dropped altogether, and a set another tool manages is
refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from calicotool.model.applyset import ApplySetRef
from tests.fixtures.kubeapi import KubeCluster
from tests.kube.conftest import real_tool
from tests.kube.test_policy_real import generate

PARENT = "/api/v1/namespaces/default/secrets/shop-policy"


def members(cluster: KubeCluster, set_id: str) -> set[str]:
    """`kind/name` of every Calico object kubectl lists with the set's part-of label, in all namespaces."""
    group = cluster.calico_group.split("/")[0]
    plurals = "tiers,globalnetworksets,networkpolicies,globalnetworkpolicies,hostendpoints"
    kinds = ",".join(f"{p}.{group}" for p in plurals.split(","))
    out = cluster.kubectl("get", kinds, "-A", "-l", f"applyset.kubernetes.io/part-of={set_id}", "-o", "json").stdout
    return {f"{i['kind']}/{i['metadata']['name']}" for i in json.loads(out)["items"]}


def test_applyset_members_parent_and_prune_of_a_dropped_kind(kube_cluster_any: KubeCluster, shop: Path,
                                                              tmp_path: Path) -> None:
    cluster = kube_cluster_any
    cluster.ensure_namespace("shop")
    tool = real_tool(cluster, tmp_path)
    out = tmp_path / "out"
    docs = generate(tool, shop, out)
    set_id = ApplySetRef("Secret", "shop-policy", "default").id
    group = cluster.calico_group.split("/")[0]

    first = tool.ok("apply", "-f", str(out), "--applyset", "shop-policy", "--prune", "-o", "json").json()
    assert first["summary"]["create"] == len(docs)
    parent = cluster.get(PARENT)["metadata"]
    assert parent["labels"]["applyset.kubernetes.io/id"] == set_id
    assert parent["annotations"]["applyset.kubernetes.io/tooling"].startswith("calicotool/v")
    kinds = {f"{d['kind']}.{group}" for d in docs}
    assert parent["annotations"]["applyset.kubernetes.io/contains-group-kinds"] == ",".join(sorted(kinds))
    spaces = {d["metadata"]["namespace"] for d in docs if d["metadata"].get("namespace")}
    assert parent["annotations"]["applyset.kubernetes.io/additional-namespaces"] == ",".join(sorted(spaces))
    assert len(members(cluster, set_id)) == len(docs)  # kubectl sees every member

    assert tool("diff", "-f", str(out), "--applyset", "shop-policy", "--prune").exit_code == 0
    before = cluster.snapshot()
    again = tool.ok("apply", "-f", str(out), "--applyset", "shop-policy", "--prune", "-o", "json").json()
    assert again["summary"]["unchanged"] == len(docs) and again["summary"]["create"] == 0
    assert cluster.snapshot() == before and cluster.get(PARENT)["metadata"] == parent  # a repeat writes nothing

    # The GlobalNetworkSets leave the manifests altogether: a plain prune (scope = the kinds applied) keeps them,
    # the set's prune removes them because the parent recorded their kind.
    dropped = sorted(out.glob("*-globalnetworkset-*.yaml"))
    assert dropped
    for path in dropped:
        path.unlink()
    plain = tool.ok("apply", "-f", str(out), "--prune", "--dry-run", "-o", "json").json()
    assert plain["summary"]["delete"] == 0
    run = tool.ok("apply", "-f", str(out), "--applyset", "shop-policy", "--prune", "-o", "json").json()
    assert sorted((c["op"], c["kind"]) for c in run["changes"]) == [("delete", "GlobalNetworkSet")] * len(dropped)
    assert not cluster.calico_objects("globalnetworksets")
    recorded = cluster.get(PARENT)["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"]
    assert f"GlobalNetworkSet.{group}" not in recorded.split(",") and f"Tier.{group}" in recorded.split(",")
    assert len(members(cluster, set_id)) == len(docs) - len(dropped)


def test_kubectl_derives_the_same_id_and_its_set_is_refused(kube_v1: KubeCluster, tmp_path: Path) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": "default"},
          "data": {"a": "b"}}
    (tmp_path / "cm.yaml").write_text(yaml.safe_dump(cm))
    kubectl = kube_v1.kubectl("apply", "-n", "default", "--prune", "--applyset=secret/kset", "-f",
                              str(tmp_path / "cm.yaml"), check=False, env={"KUBECTL_APPLYSET": "true"})
    assert kubectl.returncode == 0, kubectl.stderr
    labels = kube_v1.get("/api/v1/namespaces/default/secrets/kset")["metadata"]["labels"]
    assert labels["applyset.kubernetes.io/id"] == ApplySetRef("Secret", "kset", "default").id

    gns = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet", "metadata": {"name": "office"},
           "spec": {"nets": ["198.51.100.0/24"]}}
    (tmp_path / "gns.yaml").write_text(yaml.safe_dump(gns))
    before = kube_v1.snapshot()
    run = real_tool(kube_v1, tmp_path)("apply", "-f", str(tmp_path / "gns.yaml"), "--applyset", "kset")
    assert run.exit_code == 2
    assert "managed by 'kubectl'" in run.stderr and "Traceback" not in run.stderr
    assert kube_v1.snapshot() == before


def test_a_refusal_on_either_side_writes_neither(kube_v1: KubeCluster, tmp_path: Path) -> None:
    """A member the server refuses in its dry run: no parent is written. A parent the server refuses (its
    namespace does not exist): no member is written."""
    tool = real_tool(kube_v1, tmp_path)
    docs = [{"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet", "metadata": {"name": "office"},
             "spec": {"nets": ["198.51.100.0/24"]}},
            {"apiVersion": "projectcalico.org/v3", "kind": "NetworkSet",
             "metadata": {"name": "orphan", "namespace": "no-such-namespace"}, "spec": {"nets": ["192.0.2.0/24"]}}]
    (tmp_path / "batch.yaml").write_text(yaml.safe_dump_all(docs))
    run = tool("apply", "-f", str(tmp_path / "batch.yaml"), "--applyset", "s")
    assert run.exit_code == 3 and "nothing was written" in run.stderr, run.stderr
    assert kube_v1.status("GET", "/api/v1/namespaces/default/secrets/s") == 404

    (tmp_path / "batch.yaml").write_text(yaml.safe_dump(docs[0]))
    run = tool("apply", "-f", str(tmp_path / "batch.yaml"), "--applyset", "s", "--applyset-namespace", "no-such-ns")
    assert run.exit_code == 2 and "namespace 'no-such-ns' does not exist" in run.stderr, run.stderr
    assert not kube_v1.calico_objects("globalnetworksets")
