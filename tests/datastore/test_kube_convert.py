"""Pure conversions of the Kubernetes backend: v1 storage form, tiered policy names, Calico Node <-> Kubernetes Node."""

from __future__ import annotations

import json

import pytest

from calicotool.datastore.kube_convert import (
    METADATA_ANNOTATION,
    NODE_ENDPOINT,
    backend_name,
    from_v1,
    to_v1,
    v1_endpoint,
    v3_endpoint,
)
from calicotool.datastore.kube_node import calico_node_from_kube, merge_calico_node_into_kube
from calicotool.model.kinds import CALICO_CRD_V1, CALICO_V3, kind_info
from calicotool.model.policy_names import naming_for
from calicotool.model.resource import Resource


@pytest.mark.parametrize(
    ("name", "stored_331", "stored_332"),
    [
        ("allow-dns", "default.allow-dns", "allow-dns"),
        ("default.allow-dns", "default.allow-dns", "allow-dns"),  # 3.32: the same policy as `allow-dns`
        ("security.block", "security.block", "security.block"),
        ("knp.default.np1", "knp.default.np1", "knp.default.np1"),
        ("ossg.default.sg1", "ossg.default.sg1", "ossg.default.sg1"),
    ],
)
def test_backend_policy_name_by_version(name: str, stored_331: str, stored_332: str) -> None:
    assert backend_name("GlobalNetworkPolicy", name, CALICO_CRD_V1, naming_for("v3.31.2")) == stored_331
    assert backend_name("GlobalNetworkPolicy", name, CALICO_CRD_V1, naming_for("v3.32.1")) == stored_332
    assert backend_name("GlobalNetworkPolicy", name, CALICO_V3, naming_for("v3.31.2")) == name  # v3 stores as given
    assert backend_name("Tier", name, CALICO_CRD_V1, naming_for("v3.31.2")) == name


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("NetworkPolicy", "/apis/crd.projectcalico.org/v1/namespaces/ns1/networkpolicies/x"),
        ("IPAMConfiguration", "/apis/crd.projectcalico.org/v1/ipamconfigs/x"),
        ("BGPPeer", "/apis/crd.projectcalico.org/v1/bgppeers/x"),
    ],
)
def test_v1_endpoints(kind: str, path: str) -> None:
    assert v1_endpoint(kind_info(kind)).path("ns1", "x") == path


def test_endpoint_paths() -> None:
    assert v3_endpoint(kind_info("NetworkPolicy")).path(None) == "/apis/projectcalico.org/v3/networkpolicies"
    assert NODE_ENDPOINT.path(None, "node-1") == "/api/v1/nodes/node-1"
    assert v1_endpoint(kind_info("IPAMConfiguration")).kind == "IPAMConfig"


def test_policy_to_v1_storage_form_and_back() -> None:
    res = Resource.new(
        "NetworkPolicy", "allow-web", {"selector": "app == 'web'", "order": 100.0}, namespace="prod",
        labels={"team": "a", "projectcalico.org/tier": "default"}, annotations={"note": "x"},
    ).with_resource_version("42")
    info = kind_info("NetworkPolicy")
    assert to_v1(res, v1_endpoint(info), naming_for("v3.32.1"))["metadata"]["name"] == "allow-web"
    obj = to_v1(res, v1_endpoint(info), naming_for("v3.31.0"))
    assert obj["apiVersion"] == "crd.projectcalico.org/v1" and obj["kind"] == "NetworkPolicy"
    meta = obj["metadata"]
    assert meta["name"] == "default.allow-web" and meta["namespace"] == "prod" and meta["resourceVersion"] == "42"
    assert meta["labels"] == {"projectcalico.org/tier": "default"}  # only labels Calico owns stay on the CR
    stash = json.loads(meta["annotations"][METADATA_ANNOTATION])
    assert stash == {"name": "allow-web", "labels": res.labels, "annotations": {"note": "x"}}
    assert "note" not in meta["annotations"]
    back = from_v1(obj, info)
    assert back.same_content(res) and back.resource_version == "42"


def test_v1_read_without_metadata_annotation_uses_cr_name_and_labels() -> None:
    obj = {"apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy",
           "metadata": {"name": "default.legacy", "labels": {"a": "b"}, "resourceVersion": "7"}, "spec": {}}
    res = from_v1(obj, kind_info("GlobalNetworkPolicy"))
    assert res.name == "default.legacy" and res.labels == {"a": "b"} and res.api_version == "projectcalico.org/v3"


def test_non_policy_names_are_not_stashed_and_block_affinity_deleted_is_a_string() -> None:
    res = Resource.new("BlockAffinity", "node1-10-0-0-0-26", {"cidr": "10.0.0.0/26", "node": "node1",
                                                               "state": "confirmed", "deleted": False})
    info = kind_info("BlockAffinity")
    obj = to_v1(res, v1_endpoint(info), naming_for(None))
    assert obj["spec"]["deleted"] == "false"
    assert "name" not in json.loads(obj["metadata"]["annotations"][METADATA_ANNOTATION])
    assert from_v1(obj, info).spec["deleted"] is False


def _kube_node(**ann: str) -> dict:
    return {
        "metadata": {"name": "node-1", "resourceVersion": "9", "labels": {"kubernetes.io/hostname": "node-1"},
                     "annotations": dict(ann)},
        "spec": {"podCIDRs": ["10.244.1.0/24"]},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.10"},
                                 {"type": "Hostname", "address": "node-1"}]},
    }


def test_calico_node_from_kubernetes_node() -> None:
    node = _kube_node(**{
        "projectcalico.org/IPv4Address": "192.0.2.10/24",
        "projectcalico.org/IPv4VXLANTunnelAddr": "10.244.1.0",
        "projectcalico.org/RouteReflectorClusterID": "244.0.0.1",
        "projectcalico.org/ASNumber": "64512",
        "projectcalico.org/labels": json.dumps({"route-reflector": "true"}),
        "projectcalico.org/IPv6Address": "not-an-address",  # ignored, as Calico does
    })
    res = calico_node_from_kube(node)
    assert res.kind == "Node" and res.api_version == "projectcalico.org/v3" and res.resource_version == "9"
    assert res.spec["bgp"] == {"ipv4Address": "192.0.2.10/24", "routeReflectorClusterID": "244.0.0.1",
                               "asNumber": 64512}
    assert res.spec["ipv4VXLANTunnelAddr"] == "10.244.1.0"
    assert res.labels == {"route-reflector": "true", "kubernetes.io/hostname": "node-1"}
    assert res.spec["addresses"] == [{"address": "192.0.2.10/24", "type": "CalicoNodeIP"},
                                     {"address": "192.0.2.10", "type": "InternalIP"}]
    assert res.spec["orchRefs"] == [{"nodeName": "node-1", "orchestrator": "k8s"}]
    assert res.status == {"podCIDRs": ["10.244.1.0/24"]}


def test_writing_a_calico_node_back_keeps_kubernetes_labels_out_of_calico_labels() -> None:
    node = _kube_node(**{"projectcalico.org/IPv4Address": "192.0.2.10/24"})
    res = calico_node_from_kube(node)
    res.metadata["labels"]["rr-group"] = "a"
    res.spec["bgp"]["routeReflectorClusterID"] = "244.0.0.7"
    res.spec["ipv4VXLANTunnelAddr"] = "10.244.1.1"
    del res.spec["bgp"]["ipv4Address"]
    out = merge_calico_node_into_kube(res, node)
    ann = out["metadata"]["annotations"]
    assert json.loads(ann["projectcalico.org/labels"]) == {"rr-group": "a"}
    assert ann["projectcalico.org/RouteReflectorClusterID"] == "244.0.0.7"
    assert ann["projectcalico.org/IPv4VXLANTunnelAddr"] == "10.244.1.1"
    assert "projectcalico.org/IPv4Address" not in ann
    assert "projectcalico.org/annotations" not in ann  # the kube-labels bookkeeping is not stored
    assert out["metadata"]["labels"] == {"kubernetes.io/hostname": "node-1"}
    again = calico_node_from_kube(out)
    assert again.labels == {"rr-group": "a", "kubernetes.io/hostname": "node-1"}
