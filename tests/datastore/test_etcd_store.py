"""EtcdStore against a real etcd: Calico's key layout, CRUD guards, pagination, bad data, unreachable endpoints."""

from __future__ import annotations

import base64
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.datastore.factory import open_store
from calicotool.errors import AlreadyExists, Conflict, InputError, Invalid, NotFound, Unavailable
from calicotool.model.policy_names import naming_for
from calicotool.model.resource import Resource
from tests.datastore.backend_etcd import EtcdStoreFactory, etcd_store_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.etcd
R = "/calico/resources/v3/projectcalico.org/"


def raw_get(factory: EtcdStoreFactory, key: str) -> tuple[dict[str, object], str] | None:
    body = {"key": base64.b64encode(key.encode()).decode()}
    kvs = requests.post(f"{factory.server.client_url}/v3/kv/range", json=body, timeout=5).json().get("kvs")
    if not kvs:
        return None
    return json.loads(base64.b64decode(kvs[0].get("value", ""))), str(kvs[0]["mod_revision"])


def raw_put(factory: EtcdStoreFactory, key: str, value: bytes) -> None:
    body = {"key": base64.b64encode(key.encode()).decode(), "value": base64.b64encode(value).decode()}
    requests.post(f"{factory.server.client_url}/v3/kv/put", json=body, timeout=5).raise_for_status()


@pytest.fixture
def store(etcd_store_factory: EtcdStoreFactory) -> Iterator[EtcdStore]:  # noqa: F811
    yield etcd_store_factory()


def gnp(name: str, order: int = 10, labels: dict[str, str] | None = None) -> Resource:
    return Resource.new("GlobalNetworkPolicy", name, {"order": order, "selector": "all()"}, labels=labels)


def test_create_writes_calico_layout(store: EtcdStore, etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    created = store.create(Resource.new("NetworkPolicy", "web", {"selector": "app == 'web'"}, namespace="prod"))
    stored = raw_get(etcd_store_factory, R + "networkpolicies/prod/web")  # Calico 3.32 keeps the name as given
    assert stored is not None
    doc, mod_revision = stored
    assert created.resource_version == mod_revision
    assert doc["apiVersion"] == "projectcalico.org/v3" and doc["kind"] == "NetworkPolicy"
    meta = doc["metadata"]
    assert isinstance(meta, dict) and meta["name"] == "web" and meta["namespace"] == "prod"
    assert created.name == "web" and store.get("NetworkPolicy", "web", "prod").name == "web"
    assert "resourceVersion" not in meta and meta["uid"] == created.metadata["uid"]
    assert meta["creationTimestamp"].endswith("Z")


def test_update_keeps_uid_and_creation_timestamp(store: EtcdStore) -> None:
    created = store.create(gnp("keep"))
    edited = gnp("keep", order=20)  # no uid/creationTimestamp, no resourceVersion: unguarded update
    updated = store.update(edited)
    assert updated.metadata["uid"] == created.metadata["uid"]
    assert updated.metadata["creationTimestamp"] == created.metadata["creationTimestamp"]
    assert int(updated.resource_version or 0) > int(created.resource_version or 0)
    assert store.get("GlobalNetworkPolicy", "keep").spec["order"] == 20


def test_reads_objects_calico_wrote(store: EtcdStore, etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    pool = {
        "kind": "IPPool",
        "apiVersion": "projectcalico.org/v3",
        "metadata": {"name": "default-ipv4-ippool", "uid": "f571", "creationTimestamp": "2024-01-02T03:04:05Z"},
        "spec": {"cidr": "192.168.0.0/16", "ipipMode": "Always", "natOutgoing": True, "blockSize": 26},
    }
    raw_put(etcd_store_factory, R + "ippools/default-ipv4-ippool", json.dumps(pool).encode())
    got = store.get("IPPool", "default-ipv4-ippool")
    assert got.spec == pool["spec"] and got.metadata["uid"] == "f571" and got.resource_version
    assert [r.name for r in store.list("IPPool")] == ["default-ipv4-ippool"]


def test_calico_node_and_kubernetes_node(store: EtcdStore, etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    node = Resource.new("Node", "host-a", {"bgp": {"ipv4Address": "192.0.2.10/24"}}, labels={"rr": "true"})
    store.create(node)
    assert raw_get(etcd_store_factory, R + "nodes/host-a") is not None
    assert [n.name for n in store.list("Node", label_selector="rr=true")] == ["host-a"]
    with pytest.raises(InputError, match="Kubernetes Node kind is not stored in etcd"):
        store.list("KubernetesNode")
    with pytest.raises(InputError, match="not stored in etcd"):
        store.create(Resource.new("Node", "host-a", {}, api_version="v1"))


def test_guards(store: EtcdStore) -> None:
    first = store.create(gnp("g"))
    with pytest.raises(AlreadyExists, match="GlobalNetworkPolicy/g already exists"):
        store.create(gnp("g"))
    second = store.update(first.copy())
    with pytest.raises(Conflict, match=f"resourceVersion {first.resource_version} expected"):
        store.update(first)
    with pytest.raises(Conflict):
        store.delete("GlobalNetworkPolicy", "g", resource_version=first.resource_version)
    store.delete("GlobalNetworkPolicy", "g", resource_version=second.resource_version)
    with pytest.raises(NotFound, match="GlobalNetworkPolicy g not found"):
        store.get("GlobalNetworkPolicy", "g")
    with pytest.raises(NotFound):
        store.delete("GlobalNetworkPolicy", "g", resource_version=second.resource_version)
    with pytest.raises(NotFound):
        store.update(second)
    third = store.create(gnp("g"))
    with pytest.raises(Conflict, match="not an etcd revision"):  # e.g. a directory store's content hash
        store.delete("GlobalNetworkPolicy", "g", resource_version="3f9a0c1e")
    with pytest.raises(Conflict):
        store.update(third.with_resource_version("3f9a0c1e"))


def test_pagination_and_selector_over_many_keys(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    store.page_size = 7
    batch_store = etcd_store_factory()
    from calicotool.datastore.base import Change, Op

    changes = [Change(Op.CREATE, gnp(f"p{i:03d}", labels={"tier": "even" if i % 2 == 0 else "odd"})) for i in range(60)]
    assert batch_store.apply_batch(changes).atomic
    names = [r.name for r in store.list("GlobalNetworkPolicy")]
    assert names == [f"p{i:03d}" for i in range(60)]
    odd = store.list("GlobalNetworkPolicy", label_selector="tier=odd")
    assert [r.name for r in odd] == [f"p{i:03d}" for i in range(1, 60, 2)]
    assert len({r.resource_version for r in odd}) == 1  # one transaction wrote them all


def test_malformed_json_in_etcd_is_invalid(store: EtcdStore, etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    key = R + "globalnetworkpolicies/default.broken"
    raw_put(etcd_store_factory, key, b'{"apiVersion": "projectcalico.org/v3", "kind": ')
    with pytest.raises(Invalid, match=f"etcd key {key} does not hold valid JSON"):
        store.get("GlobalNetworkPolicy", "broken")
    with pytest.raises(Invalid, match=key):
        store.list("GlobalNetworkPolicy")


def test_check_reports_versions(store: EtcdStore, etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    info = store.check()
    assert info.backend == "etcdv3" and info.api_group == "projectcalico.org/v3"
    assert info.calico_version is None and info.details["calico_data"] is False
    assert str(info.details["etcd_version"]).startswith("3.")
    cluster = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "ClusterInformation",
        "metadata": {"name": "default"},
        "spec": {"calicoVersion": "v3.28.1", "clusterType": "typha,bgp", "datastoreReady": True},
    }
    raw_put(etcd_store_factory, R + "clusterinformations/default", json.dumps(cluster).encode())
    info = store.check()
    assert info.calico_version == "v3.28.1" and info.details["calico_data"] is True


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_etcd_is_unavailable_fast() -> None:
    port = _dead_port()
    store = EtcdStore.from_spec(f"http://127.0.0.1:{port}", {})
    started = time.monotonic()
    with pytest.raises(Unavailable, match=f"cannot reach etcd at http://127.0.0.1:{port}: connection refused"):
        store.list("GlobalNetworkPolicy")
    with pytest.raises(Unavailable):
        store.check()
    assert time.monotonic() - started < 3


def test_silent_endpoint_times_out() -> None:
    with socket.socket() as listener:  # accepts TCP connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        store = EtcdStore.from_spec(f"http://127.0.0.1:{port}?timeout=0.5", {})
        started = time.monotonic()
        with pytest.raises(Unavailable, match="cannot reach etcd at .*timed out"):
            store.get("Tier", "default")
        assert time.monotonic() - started < 3


def test_fails_over_to_next_endpoint(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    spec = f"etcdv3:http://127.0.0.1:{_dead_port()},{etcd_store_factory.server.client_url}"
    store = open_store(spec, environ={})
    try:
        store.create(gnp("via-second"))
        assert store.get("GlobalNetworkPolicy", "via-second").name == "via-second"
    finally:
        store.close()


def test_missing_tls_file_is_input_error() -> None:
    with pytest.raises(InputError, match="ETCD_CA_CERT_FILE"):
        EtcdStore.from_spec("https://127.0.0.1:2379", {"ETCD_CA_CERT_FILE": "/nonexistent/ca.pem"})


class _HangingGateway(http.server.BaseHTTPRequestHandler):
    """Answers etcd's /version, then never answers a POST in time: a member that stalls mid-write."""

    def do_GET(self) -> None:
        body = b'{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        time.sleep(1.5)

    def log_message(self, *args: object) -> None:
        pass


def test_stalled_write_is_not_retried_on_another_member(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HangingGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        spec = f"http://127.0.0.1:{server.server_address[1]},{etcd_store_factory.server.client_url}?timeout=0.5"
        store = EtcdStore.from_spec(spec, {})
        store._naming = naming_for(None)  # no ClusterInformation read first: it would move the client to the healthy member
        with pytest.raises(Unavailable, match="did not answer a write .*may or may not have been applied"):
            store.create(gnp("maybe"))
        with pytest.raises(NotFound):  # the healthy member was not asked to repeat the write
            etcd_store_factory().get("GlobalNetworkPolicy", "maybe")
    finally:
        server.shutdown()
        server.server_close()


def test_reads_policies_calico_wrote_with_tier_prefix(store: EtcdStore, etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    for name in ("default.allow-dns", "security.block-ssh"):
        doc = {
            "apiVersion": "projectcalico.org/v3",
            "kind": "GlobalNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"tier": name.split(".")[0], "selector": "all()", "order": 1},
        }
        raw_put(etcd_store_factory, R + "globalnetworkpolicies/" + name, json.dumps(doc).encode())
    assert sorted(p.name for p in store.list("GlobalNetworkPolicy")) == ["allow-dns", "security.block-ssh"]
    assert store.get("GlobalNetworkPolicy", "allow-dns").spec["order"] == 1
    assert store.get("GlobalNetworkPolicy", "default.allow-dns").name == "allow-dns"
    store.delete("GlobalNetworkPolicy", "allow-dns")
    assert raw_get(etcd_store_factory, R + "globalnetworkpolicies/default.allow-dns") is None
