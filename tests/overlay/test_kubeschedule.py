"""Which DaemonSets target the placeholder Node (pure tables), including the calico-node DaemonSet exactly as
Calico v3.32's manifest ships it (../shared/calico/v3): it tolerates every taint but selects kubernetes.io/os."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from calicotool.datastore.kube_convert import to_kube_node
from calicotool.overlay import kubehost, kubeschedule, records

_ROOT = Path(__file__).resolve().parents[2]
# ../shared next to the checkout (/work/main) or next to the worktrees' folder (/work/wt/<name>)
MANIFEST = next((p / "shared" / "calico" / "v3" / "calico-v3-crds.yaml" for p in (_ROOT.parent, _ROOT.parent.parent)
                 if (p / "shared" / "calico" / "v3" / "calico-v3-crds.yaml").exists()),
                _ROOT.parent / "shared" / "calico" / "v3" / "calico-v3-crds.yaml")
HOST = records.Enrollment("legacy", "192.0.2.10/24", "eth0", "vxlan", "p", "10.0.0.1", "10.0.0.0", "66:00:00:00:00:01")
NODE = to_kube_node(kubehost.placeholder_node(HOST))
WORKER = {"metadata": {"name": "w1", "labels": {"kubernetes.io/os": "linux"}}, "spec": {}}
EXCLUDE = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
    {"matchExpressions": [{"key": records.HOST_LABEL, "operator": "DoesNotExist"}]}]}}}


def ds(**pod_spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "x", "namespace": "ns"}, "spec": {"template": {"spec": pod_spec}}}


@pytest.mark.parametrize(("daemonset", "on_host", "on_worker"), [
    (ds(), False, True),  # no tolerations: the calicotool taints keep it off
    (ds(tolerations=[{"operator": "Exists"}]), True, True),  # tolerates everything, selects everything
    (ds(tolerations=[{"operator": "Exists"}], affinity=EXCLUDE), False, True),  # the documented exclusion
    (ds(tolerations=[{"operator": "Exists"}], nodeSelector={"kubernetes.io/os": "linux"}), False, True),
    (ds(tolerations=[{"key": kubehost.TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}]), False, True),
    (ds(tolerations=[{"key": kubehost.TAINT_KEY, "operator": "Exists"}]), True, True),
    (ds(tolerations=[{"key": kubehost.TAINT_KEY, "operator": "Equal", "value": "true"}]), True, True),
    (ds(tolerations=[{"operator": "Exists"}], affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["legacy"]}]}]}}}), True, False),
], ids=["plain", "tolerate-all", "tolerate-all+exclude", "os-selector", "only-noschedule", "our-key",
        "our-key-equal", "by-name"])
def test_daemonset_targets(daemonset: dict[str, Any], on_host: bool, on_worker: bool) -> None:
    assert kubeschedule.daemonset_targets(daemonset, NODE) is on_host
    assert kubeschedule.daemonset_targets(daemonset, WORKER) is on_worker


@pytest.mark.skipif(not MANIFEST.exists(), reason=f"Calico's manifest is not at {MANIFEST}")
def test_calicos_own_calico_node_daemonset() -> None:
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d and d.get("kind") == "DaemonSet"]
    calico_node = next(d for d in docs if d["metadata"]["name"] == "calico-node")
    tolerations = calico_node["spec"]["template"]["spec"]["tolerations"]
    assert all(kubeschedule.tolerates(tolerations, t) for t in NODE["spec"]["taints"])  # taints alone do not help
    assert not kubeschedule.daemonset_targets(calico_node, NODE)
    assert kubeschedule.daemonset_targets(calico_node, WORKER)
