"""Pure builders: Node/HostEndpoint records round-trip, DNS artefacts, the dry-run store, and the CLI paths that
need no kernel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from calicotool.datastore.directory import DirectoryStore
from calicotool.errors import AlreadyExists, InputError
from calicotool.model.resource import Resource
from calicotool.overlay import dns, records
from calicotool.overlay.enroll import check_name, parse_address, parse_labels
from calicotool.overlay.txnstore import TxnStore
from tests.conftest import CliRunner

E = records.Enrollment("legacy-db", "192.0.2.100/24", "eth0", "vxlan", "default", "10.244.3.0", "10.244.3.1",
                       "66:00:00:00:00:01", (("env", "prod"), ("role", "db")), (("net/ipv4/ip_forward", "0"),))


def test_node_record_roundtrip_and_shape() -> None:
    node = records.node_resource(E)
    assert node.spec == {"bgp": {"ipv4Address": "192.0.2.100/24"}, "ipv4VXLANTunnelAddr": "10.244.3.0",
                         "vxlanTunnelMACAddr": "66:00:00:00:00:01"}
    assert node.managed and records.is_enrolled_host(node) and node.labels["role"] == "db"
    assert records.enrollment_from_node(node) == E
    ipip = records.Enrollment(**{**E.__dict__, "mode": "ipip", "mac": None})
    assert records.node_resource(ipip).spec == {"bgp": {"ipv4Address": "192.0.2.100/24", "ipv4IPIPTunnelAddr": "10.244.3.0"}}
    assert records.enrollment_from_node(records.node_resource(ipip)) == ipip


def test_host_endpoint_record() -> None:
    hep = records.host_endpoint_resource(E)
    assert hep.spec == {"node": "legacy-db", "interfaceName": "eth0",
                        "expectedIPs": ["10.244.3.0", "10.244.3.1", "192.0.2.100"]}
    assert hep.labels["env"] == "prod" and hep.managed


def test_dns_artefacts() -> None:
    block = dns.coredns_hosts_block([E], zone="hosts.example")
    assert "    10.244.3.1 legacy-db.hosts.example\n" in block and "fallthrough" in block
    svc, eps = dns.kubernetes_manifests(E)
    assert svc["spec"] == {"clusterIP": "None", "ports": []} and "selector" not in svc["spec"]
    assert eps["metadata"]["labels"]["kubernetes.io/service-name"] == "legacy-db"
    assert eps["endpoints"][0]["addresses"] == ["10.244.3.1"] and eps["addressType"] == "IPv4"
    assert "DNS=10.96.0.10 10.96.0.11\nDomains=~cluster.local" in dns.resolver_snippet(["10.96.0.10", "10.96.0.11"])
    assert "nameserver 10.96.0.10\nsearch svc.cluster.local cluster.local" in dns.resolver_snippet(
        ["10.96.0.10"], style="resolv.conf")


@pytest.mark.parametrize(("fn", "arg", "message"), [
    (check_name, "Legacy_DB", "DNS-1123"),
    (parse_address, "192.0.2.1", "UNDERLAY_IP/PREFIX"),
    (parse_address, "fd00::1/64", "IPv4"),
    (parse_labels, ["a=b", "c"], "bad label"),
])
def test_input_validation(fn: Callable[[Any], object], arg: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        fn(arg)


def test_parse_labels_repeat_and_comma() -> None:
    assert parse_labels(["a=1,b=2", "c=3"]) == (("a", "1"), ("b", "2"), ("c", "3"))


def test_dry_run_store_buffers_writes(tmp_path: Path) -> None:
    inner = DirectoryStore(tmp_path / "c")
    inner.create(Resource.new("IPPool", "p", {"cidr": "10.0.0.0/16"}))
    txn = TxnStore(inner, dry_run=True)
    made = txn.create(Resource.new("Node", "n", {}))
    with pytest.raises(AlreadyExists):
        txn.create(Resource.new("Node", "n", {}))
    txn.update(made.copy())
    txn.delete("IPPool", "p")
    assert [n.name for n in txn.list("Node")] == ["n"] and txn.list("IPPool") == []
    assert [w.describe() for w in txn.journal] == ["create Node/n", "update Node/n", "delete IPPool/p"]
    assert inner.list("Node") == [] and [p.name for p in inner.list("IPPool")] == ["p"]


def test_cli_without_kernel(cli: CliRunner) -> None:
    result = cli("host", "list", "-o", "json")
    assert result.exit_code == 0 and result.stdout.strip() == "[]"
    result = cli("host", "status", "nope")
    assert result.exit_code == 2 and "host nope is not enrolled" in result.stderr
    result = cli("host", "dns", "--format", "resolver")
    assert result.exit_code == 2 and "--cluster-dns" in result.stderr
    result = cli("host", "dns", "--format", "resolver", "--cluster-dns", "10.96.0.10")
    assert result.exit_code == 0 and "DNS=10.96.0.10" in result.stdout
    result = cli("host", "enroll", "h", "--address", "nonsense", "--dry-run")
    assert result.exit_code == 2 and "bad --address" in result.stderr
