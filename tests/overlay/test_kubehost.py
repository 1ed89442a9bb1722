"""The placeholder Kubernetes Node: what Felix reads from it, what keeps workloads off it, and that rewriting it
replaces only calicotool's part (pure tables)."""

from __future__ import annotations

import pytest

from calicotool.datastore.kube_convert import to_kube_node
from calicotool.datastore.kube_node import calico_node_from_kube
from calicotool.model.resource import Resource
from calicotool.overlay import kubehost, records

VXLAN = records.Enrollment("legacy-db", "192.0.2.10/24", "eth0", "vxlan", "pool-a", "10.244.3.1", "10.244.3.0",
                           "66:aa:bb:cc:dd:ee", (("role", "db"),), (("net/ipv4/ip_forward", "0"),), True, "")
IPIP = records.Enrollment("legacy-db", "192.0.2.10/24", "eth0", "ipip", "pool-a", "10.244.3.1", "10.244.3.0",
                          None, (), (), False, "hostns")


@pytest.mark.parametrize("e", [VXLAN, IPIP], ids=["vxlan", "ipip"])
def test_round_trip(e: records.Enrollment) -> None:
    node = kubehost.placeholder_node(e)
    assert node.info.name == "KubernetesNode" and kubehost.is_placeholder(node)
    assert kubehost.enrollment_from_placeholder(node) == e


@pytest.mark.parametrize(("e", "expected"), [
    (VXLAN, {"bgp": {"ipv4Address": "192.0.2.10/24"}, "ipv4VXLANTunnelAddr": "10.244.3.1",
             "vxlanTunnelMACAddr": "66:aa:bb:cc:dd:ee"}),
    (IPIP, {"bgp": {"ipv4Address": "192.0.2.10/24", "ipv4IPIPTunnelAddr": "10.244.3.1"}}),
], ids=["vxlan", "ipip"])
def test_calico_reads_the_peer_from_the_annotations(e: records.Enrollment, expected: dict[str, object]) -> None:
    """Through the Kubernetes datastore's Node conversion (as Felix gets it), the placeholder is a VTEP."""
    spec = calico_node_from_kube(to_kube_node(kubehost.placeholder_node(e))).spec
    assert {k: v for k, v in spec.items() if k not in ("orchRefs", "addresses")} == expected


def test_nothing_schedules_and_nothing_targets_it() -> None:
    node = kubehost.placeholder_node(VXLAN)
    assert {(t["key"], t["effect"]) for t in node.spec["taints"]} == {
        (kubehost.TAINT_KEY, "NoSchedule"), (kubehost.TAINT_KEY, "NoExecute")}
    assert node.spec["unschedulable"] is True
    # calico-node and kube-proxy select kubernetes.io/os=linux: the placeholder must never carry it
    assert kubehost.OS_LABEL not in node.labels
    assert node.labels[kubehost.EXCLUDE_LB_LABEL] == "true" and node.labels["role"] == "db"


def test_merge_keeps_what_others_wrote_and_replaces_ours() -> None:
    current = kubehost.placeholder_node(VXLAN)
    current.spec["taints"].append({"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"})
    current.metadata["annotations"]["node.alpha.kubernetes.io/ttl"] = "0"
    current.metadata["annotations"][records.A_POOL] = "stale"
    current.status = {"conditions": [{"type": "Ready", "status": "Unknown"}]}
    wanted = kubehost.placeholder_node(VXLAN)
    merged = kubehost.merge(current, wanted)
    assert merged.annotations["node.alpha.kubernetes.io/ttl"] == "0" and merged.annotations[records.A_POOL] == "pool-a"
    assert kubehost.foreign_taints(merged) == ["node.kubernetes.io/unreachable:NoExecute"]
    assert merged.status == current.status
    # merging what is already there changes nothing (a re-enroll writes nothing), whatever the taints' order:
    # the API server's TaintNodesByCondition admission appends node.kubernetes.io/not-ready to a new Node
    assert kubehost.merge(merged, wanted).same_content(merged)
    server_order = kubehost.placeholder_node(VXLAN)
    server_order.spec["taints"].append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    assert kubehost.merge(server_order, wanted).same_content(server_order)


def test_guards_and_kubelet_nodes() -> None:
    kubelet = Resource.new("Node", "worker-1", {}, labels={"kubernetes.io/os": "linux"}, api_version="v1")
    assert not kubehost.is_placeholder(kubelet)
    with pytest.raises(KeyError):
        kubehost.enrollment_from_placeholder(kubelet)
    edited = kubehost.placeholder_node(VXLAN)
    edited.spec["taints"] = edited.spec["taints"][:1]
    edited.metadata["labels"][kubehost.OS_LABEL] = "linux"
    assert kubehost.missing_guards(edited) == [
        f"Node legacy-db lost its taint {kubehost.TAINT_KEY}:NoExecute",
        "Node legacy-db has label kubernetes.io/os: calico-node and kube-proxy will target it"]
    assert kubehost.missing_guards(kubehost.placeholder_node(VXLAN)) == []
