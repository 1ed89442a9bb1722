"""Pure tables for the etcd layout: keys, names, IPAM model conversion, endpoint parsing. No etcd needed."""

from __future__ import annotations

import json

import pytest

from calicotool.datastore import etcd_ipam, etcd_layout
from calicotool.datastore.etcdv3 import parse_endpoints
from calicotool.errors import InputError, Invalid
from calicotool.model.kinds import kind_info
from calicotool.model.resource import Resource

R = "/calico/resources/v3/projectcalico.org/"


@pytest.mark.parametrize(
    "kind, name, namespace, key",
    [
        ("GlobalNetworkPolicy", "default.allow-dns", None, R + "globalnetworkpolicies/default.allow-dns"),
        ("NetworkPolicy", "web", "prod", R + "networkpolicies/prod/default.web"),
        ("NetworkPolicy", "security.web", "prod", R + "networkpolicies/prod/security.web"),
        ("NetworkPolicy", "knp.default.web", "prod", R + "networkpolicies/prod/knp.default.web"),
        ("StagedGlobalNetworkPolicy", "p", None, R + "stagedglobalnetworkpolicies/default.p"),
        ("Node", "node-1", None, R + "nodes/node-1"),
        ("BGPPeer", "rr-1", "ignored", R + "bgppeers/rr-1"),
        ("IPPool", "default-ipv4-ippool", None, R + "ippools/default-ipv4-ippool"),
        ("NetworkSet", "ext", "ns1", R + "networksets/ns1/ext"),
    ],
)
def test_resource_keys(kind: str, name: str, namespace: str | None, key: str) -> None:
    """Keys as Calico 3.31 writes them (3.32 keeps default-tier names as given: see the 3.32 test below)."""
    assert etcd_layout.keys_for_name(kind_info(kind), name, namespace, etcd_layout.LEGACY_NAMING) == [key]


@pytest.mark.parametrize(
    "kind, name, namespace",
    [
        ("GlobalNetworkPolicy", "a/b", None),
        ("GlobalNetworkPolicy", "", None),
        ("Tier", "..", None),
        ("NetworkPolicy", "x", "a/b"),
    ],
)
def test_bad_key_segments_are_input_errors(kind: str, name: str, namespace: str | None) -> None:
    with pytest.raises(InputError):
        etcd_layout.keys_for_name(kind_info(kind), name, namespace)


def test_namespaced_kind_without_namespace_is_in_default() -> None:
    assert etcd_layout.keys_for_name(kind_info("NetworkPolicy"), "web", None) == [R + "networkpolicies/default/web"]
    doc = json.loads(etcd_layout.encode(Resource.new("NetworkPolicy", "web", {})))
    assert doc["metadata"]["namespace"] == "default"


def test_kubernetes_node_is_not_in_etcd() -> None:
    with pytest.raises(InputError, match="not stored in etcd"):
        etcd_layout.etcd_kind("KubernetesNode")
    with pytest.raises(InputError, match="not stored in etcd"):
        etcd_layout.key_for(Resource.new("Node", "n1", api_version="v1"))


@pytest.mark.parametrize(
    "cidr, name",
    [
        ("10.0.0.0/26", "10-0-0-0-26"),
        ("192.168.10.64/26", "192-168-10-64-26"),
        ("fd00:10:244::/122", "fd00-10-244---122"),
        ("fd00::40/122", "fd00--40-122"),
    ],
)
def test_cidr_names_both_ways(cidr: str, name: str) -> None:
    assert etcd_ipam.cidr_to_name(cidr) == name
    assert etcd_ipam.name_to_cidr(name) == cidr


@pytest.mark.parametrize("name", ["web", "10-0-0-26", "10-0-0-1-26", "x-y", "300-0-0-0-8"])
def test_non_cidr_names(name: str) -> None:
    assert etcd_ipam.name_to_cidr(name) is None


def block(cidr: str = "10.0.0.0/26", **extra: object) -> Resource:
    spec = {
        "cidr": cidr,
        "affinity": "host:node-1",
        "allocations": [0, None, 1] + [None] * 61,
        "unallocated": list(range(3, 64)) + [1],
        "attributes": [
            {"handle_id": "ipip-tunnel-addr-node-1", "secondary": {"node": "node-1", "type": "ipipTunnelAddress"}},
            {"handle_id": "k8s-pod-network.abc", "secondary": {"namespace": "ns", "pod": "p"}},
        ],
        "sequenceNumber": 7,
        "sequenceNumberForAllocation": {"0": 5, "2": 6},
        "strictAffinity": False,
        "deleted": False,
        **extra,
    }
    return Resource.new("IPAMBlock", etcd_ipam.cidr_to_name(cidr), spec, labels={"app.kubernetes.io/managed-by": "calicotool"})


@pytest.mark.parametrize(
    "resource, key, model_subset",
    [
        (
            block(),
            "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26",
            {"cidr": "10.0.0.0/26", "affinity": "host:node-1", "sequenceNumber": 7},
        ),
        (block("fd00:10:244::/122"), "/calico/ipam/v2/assignment/ipv6/block/fd00:10:244::-122", {"cidr": "fd00:10:244::/122"}),
        (
            Resource.new("IPAMHandle", "k8s-pod-network.abc", {"handleID": "k8s-pod-network.abc", "block": {"10.0.0.0/26": 1}}),
            "/calico/ipam/v2/handle/k8s-pod-network.abc",
            {"block": {"10.0.0.0/26": 1}},
        ),
        (
            Resource.new(
                "BlockAffinity",
                "node-1-10-0-0-0-26",
                {"cidr": "10.0.0.0/26", "node": "node-1", "state": "confirmed", "deleted": False},
            ),
            "/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.0-26",
            {"state": "confirmed", "deleted": False},
        ),
        (
            Resource.new(
                "BlockAffinity",
                "vm-a-10-1-0-0-28",
                {"cidr": "10.1.0.0/28", "node": "vm-a", "state": "pending", "deleted": False, "type": "virtual"},
            ),
            "/calico/ipam/v2/virtual/vm-a/ipv4/block/10.1.0.0-28",
            {"state": "pending"},
        ),
        (
            Resource.new(
                "IPAMConfiguration", "default", {"strictAffinity": True, "autoAllocateBlocks": True, "maxBlocksPerHost": 4}
            ),
            "/calico/ipam/v2/config",
            {"strict_affinity": True, "auto_allocate_blocks": True, "maxBlocksPerHost": 4},
        ),
    ],
    ids=["block", "block-v6", "handle", "affinity", "affinity-virtual", "config"],
)
def test_ipam_model_round_trip(resource: Resource, key: str, model_subset: dict[str, object]) -> None:
    assert etcd_layout.key_for(resource) == key
    model = json.loads(etcd_layout.encode(resource))
    assert model_subset.items() <= model.items()
    assert "apiVersion" not in model and "spec" not in model  # libcalico-go's model form, not a v3 object
    back = etcd_layout.decode(key, etcd_layout.encode(resource), "42")
    assert back.resource_version == "42"
    assert back.same_content(resource), (back.content(), resource.content())
    candidates = etcd_ipam.keys_for_name(resource.kind, resource.name)
    assert key in candidates or candidates == []  # [] = IPv6 affinity names: found by scanning


def test_block_written_by_calico_reads_as_crd_spec() -> None:
    """Go marshals nil slices and pointers as null; the v3 form wants lists and no nulls."""
    go_json = {
        "cidr": "10.0.0.64/26",
        "affinity": None,
        "allocations": [None] * 64,
        "unallocated": list(range(64)),
        "attributes": None,
        "sequenceNumber": 0,
        "sequenceNumberForAllocation": None,
        "deleted": False,
    }
    res = etcd_layout.decode("/calico/ipam/v2/assignment/ipv4/block/10.0.0.64-26", json.dumps(go_json).encode(), "9")
    assert res.name == "10-0-0-64-26" and res.kind == "IPAMBlock" and res.api_version == "projectcalico.org/v3"
    assert res.spec["attributes"] == [] and "affinity" not in res.spec and res.spec["strictAffinity"] is False
    assert "sequenceNumberForAllocation" not in res.spec


def test_empty_affinity_value_reads_as_in_older_calico() -> None:
    res = etcd_layout.decode("/calico/ipam/v2/host/n-1/ipv4/block/10.0.0.0-26", b"", "3")
    assert res.name == "n-1-10-0-0-0-26"
    assert res.spec == {"cidr": "10.0.0.0/26", "node": "n-1", "state": "", "deleted": False}


@pytest.mark.parametrize(
    "resource, message",
    [
        (Resource.new("IPAMBlock", "wrong", {"cidr": "10.0.0.0/26"}), "keys it as '10-0-0-0-26'"),
        (Resource.new("IPAMBlock", "x", {}), "spec.cidr is required"),
        (Resource.new("IPAMHandle", "h1", {"handleID": "h2", "block": {}}), "keys it as 'h2'"),
        (Resource.new("BlockAffinity", "n1", {"cidr": "10.0.0.0/26", "node": "n1"}), "'n1-10-0-0-0-26'"),
        (Resource.new("IPAMConfiguration", "other", {}), "'default'"),
        (Resource.new("IPAMBlock", "x", {"cidr": "10.0.0.0/99"}), "invalid CIDR"),
    ],
)
def test_ipam_names_must_match_spec(resource: Resource, message: str) -> None:
    with pytest.raises(InputError, match=message):
        etcd_layout.key_for(resource)


@pytest.mark.parametrize(
    "key, value",
    [
        (R + "globalnetworkpolicies/x", b"{not json"),
        (R + "globalnetworkpolicies/x", b"[1, 2]"),
        (R + "globalnetworkpolicies/x", b'{"metadata": "oops"}'),
        (R + "unknownthings/x", b"{}"),
        ("/calico/ipam/v2/assignment/ipv4/block/not-a-cidr", b"{}"),
        ("/calico/ipam/v2/handle/h", b"\xff\xfe"),
    ],
)
def test_malformed_values_are_invalid_naming_the_key(key: str, value: bytes) -> None:
    with pytest.raises(Invalid, match=key.replace(".", r"\.")):
        etcd_layout.decode(key, value, "1")


def test_v3_value_drops_resource_version_and_keeps_order() -> None:
    res = Resource.new("GlobalNetworkPolicy", "p", {"ingress": [{"action": "Deny"}, {"action": "Allow"}]})
    res.metadata["resourceVersion"] = "77"
    doc = json.loads(etcd_layout.encode(res))
    assert doc["apiVersion"] == "projectcalico.org/v3" and doc["kind"] == "GlobalNetworkPolicy"
    assert "resourceVersion" not in doc["metadata"]
    assert [r["action"] for r in doc["spec"]["ingress"]] == ["Deny", "Allow"]


@pytest.mark.parametrize(
    "rest, urls, options",
    [
        ("http://127.0.0.1:2379", ["http://127.0.0.1:2379"], {}),
        ("http://a:1,https://b:2", ["http://a:1", "https://b:2"], {}),
        ("127.0.0.1:4001", ["http://127.0.0.1:4001"], {}),
        ("https://etcd.example", ["https://etcd.example:2379"], {}),
        ("http://[::1]:2379?max_txn_ops=500", ["http://[::1]:2379"], {"max_txn_ops": "500"}),
    ],
)
def test_parse_endpoints(rest: str, urls: list[str], options: dict[str, str]) -> None:
    assert parse_endpoints(rest) == (urls, options)


@pytest.mark.parametrize("rest", ["", ",", "ftp://h:1", "http://h:notaport", "http://h:1/path", "http://:1"])
def test_bad_endpoints(rest: str) -> None:
    with pytest.raises(InputError, match="bad etcd endpoint"):
        parse_endpoints(rest)


@pytest.mark.parametrize(
    "name, stored, read_back",
    [
        ("allow-dns", "default.allow-dns", "allow-dns"),
        ("default.allow-dns", "default.allow-dns", "allow-dns"),
        ("security.allow-dns", "security.allow-dns", "security.allow-dns"),
        ("knp.default.web", "knp.default.web", "knp.default.web"),
        ("ossg.default.sg-1", "ossg.default.sg-1", "ossg.default.sg-1"),
    ],
)
def test_tiered_policy_names_as_calico_331_stores_them(name: str, stored: str, read_back: str) -> None:
    legacy = etcd_layout.LEGACY_NAMING
    assert etcd_layout.backend_policy_name(name, legacy) == stored
    assert etcd_layout.client_policy_name(stored) == read_back
    tier = name.split(".")[0] if name.startswith("security.") else None
    res = Resource.new("GlobalNetworkPolicy", name, {"tier": tier} if tier else {})
    key = etcd_layout.key_for(res, legacy)
    assert key == R + "globalnetworkpolicies/" + stored
    value = etcd_layout.encode(res, legacy)
    assert json.loads(value)["metadata"]["name"] == stored
    assert etcd_layout.decode(key, value, "1").name == read_back


def test_calico_332_stores_default_tier_names_as_given_and_reads_both() -> None:
    res = Resource.new("GlobalNetworkPolicy", "allow-dns", {})
    assert etcd_layout.key_for(res) == R + "globalnetworkpolicies/allow-dns"
    assert json.loads(etcd_layout.encode(res))["metadata"]["name"] == "allow-dns"
    info = etcd_layout.etcd_kind("GlobalNetworkPolicy")
    assert etcd_layout.keys_for_name(info, "allow-dns", None) == [R + "globalnetworkpolicies/allow-dns"]
    assert etcd_layout.legacy_key(info, "allow-dns", None) == R + "globalnetworkpolicies/default.allow-dns"
    assert etcd_layout.legacy_key(info, "app.allow-dns", None) is None


@pytest.mark.parametrize("name, tier", [("allow-dns", "security"), ("security.x", "security")])
def test_tiered_policy_names_are_stored_as_given(name: str, tier: str) -> None:
    """Calico 3.32 accepts policy names without the `<tier>.` prefix; older names keep working."""
    res = Resource.new("GlobalNetworkPolicy", name, {"tier": tier})
    key = etcd_layout.key_for(res)
    assert key.startswith(R + "globalnetworkpolicies/")
    assert etcd_layout.decode(key, etcd_layout.encode(res), "1").name == name
