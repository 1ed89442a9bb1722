"""IPAM kinds in libcalico-go's model form, and the lease-backed lock, against a real etcd."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
import requests

from calicotool.datastore.base import Change, Op
from calicotool.errors import Conflict, NotFound
from calicotool.model.resource import Resource
from tests.datastore.backend_etcd import EtcdStoreFactory, etcd_store_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.etcd


def raw(factory: EtcdStoreFactory, key: str, value: bytes | None = None) -> bytes | None:
    url, b64key = factory.server.client_url, base64.b64encode(key.encode()).decode()
    if value is not None:
        body = {"key": b64key, "value": base64.b64encode(value).decode()}
        requests.post(f"{url}/v3/kv/put", json=body, timeout=5).raise_for_status()
        return value
    kvs = requests.post(f"{url}/v3/kv/range", json={"key": b64key}, timeout=5).json().get("kvs")
    return base64.b64decode(kvs[0].get("value", "")) if kvs else None


def ipam_objects() -> list[Resource]:
    block = Resource.new(
        "IPAMBlock",
        "10-244-1-0-26",
        {
            "cidr": "10.244.1.0/26",
            "affinity": "host:node-1",
            "allocations": [0] + [None] * 63,
            "unallocated": list(range(1, 64)),
            "attributes": [
                {"handle_id": "vxlan-tunnel-addr-node-1", "secondary": {"node": "node-1", "type": "vxlanTunnelAddress"}}
            ],
            "sequenceNumber": 1,
            "strictAffinity": False,
        },
    )
    handle = Resource.new(
        "IPAMHandle", "vxlan-tunnel-addr-node-1", {"handleID": "vxlan-tunnel-addr-node-1", "block": {"10.244.1.0/26": 1}}
    )
    affinity = Resource.new(
        "BlockAffinity",
        "node-1-10-244-1-0-26",
        {"cidr": "10.244.1.0/26", "node": "node-1", "state": "confirmed", "deleted": False},
    )
    v6_affinity = Resource.new(
        "BlockAffinity",
        "node-1-fd00-244---122",
        {"cidr": "fd00:244::/122", "node": "node-1", "state": "pending", "deleted": False},
    )
    return [block, handle, affinity, v6_affinity]


def test_ipam_round_trip_in_calico_model_form(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    objects = ipam_objects()
    result = store.apply_batch([Change(Op.CREATE, o) for o in objects])
    assert result.atomic

    block_model = json.loads(raw(etcd_store_factory, "/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26") or b"{}")
    assert block_model["cidr"] == "10.244.1.0/26" and block_model["affinity"] == "host:node-1"
    assert block_model["allocations"][:2] == [0, None] and block_model["attributes"][0]["handle_id"].startswith("vxlan")
    handle_model = json.loads(raw(etcd_store_factory, "/calico/ipam/v2/handle/vxlan-tunnel-addr-node-1") or b"{}")
    assert handle_model["block"] == {"10.244.1.0/26": 1}
    affinity_model = json.loads(raw(etcd_store_factory, "/calico/ipam/v2/host/node-1/ipv4/block/10.244.1.0-26") or b"{}")
    assert affinity_model["state"] == "confirmed"
    assert raw(etcd_store_factory, "/calico/ipam/v2/host/node-1/ipv6/block/fd00:244::-122") is not None

    for original in objects:
        got = store.get(original.kind, original.name)
        assert got.same_content(original), (got.content(), original.content())
        assert got.resource_version == result.results[0].resource_version
    assert [a.name for a in store.list("BlockAffinity")] == ["node-1-10-244-1-0-26", "node-1-fd00-244---122"]

    block = store.get("IPAMBlock", "10-244-1-0-26")
    block.spec["allocations"][1] = 0
    block.spec["unallocated"] = list(range(2, 64))
    block.spec["sequenceNumber"] = 2
    store.update(block)
    assert (
        json.loads(raw(etcd_store_factory, "/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26") or b"{}")["sequenceNumber"] == 2
    )
    with pytest.raises(Conflict):
        store.update(block)  # stale resourceVersion

    store.delete("BlockAffinity", "node-1-fd00-244---122")  # IPv6 affinity name: found by scanning
    store.delete("BlockAffinity", "node-1-10-244-1-0-26")
    assert store.list("BlockAffinity") == []
    with pytest.raises(NotFound):
        store.get("BlockAffinity", "node-1-10-244-1-0-26")


def test_reads_ipam_written_by_calico(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    go_block = {
        "cidr": "10.0.0.64/26",
        "affinity": "host:n2",
        "allocations": [None] * 64,
        "unallocated": list(range(64)),
        "attributes": None,
        "sequenceNumber": 0,
        "sequenceNumberForAllocation": None,
        "deleted": False,
    }
    raw(etcd_store_factory, "/calico/ipam/v2/assignment/ipv4/block/10.0.0.64-26", json.dumps(go_block).encode())
    raw(etcd_store_factory, "/calico/ipam/v2/config", b'{"strict_affinity":true,"auto_allocate_blocks":true}')
    block = store.get("IPAMBlock", "10-0-0-64-26")
    assert block.spec["affinity"] == "host:n2" and block.spec["attributes"] == []
    config = store.get("IPAMConfiguration", "default")
    assert config.spec == {"strictAffinity": True, "autoAllocateBlocks": True}


def test_labels_survive_on_ipam_kinds(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    handle = Resource.new(
        "IPAMHandle", "h1", {"handleID": "h1", "block": {}}, labels={"app.kubernetes.io/managed-by": "calicotool"}
    )
    store.create(handle)
    assert [h.name for h in store.list("IPAMHandle", label_selector="app.kubernetes.io/managed-by=calicotool")] == ["h1"]


def test_lock_excludes_and_releases(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    a, b = etcd_store_factory(), etcd_store_factory()
    key = "/calico/calicotool/locks/rr-plan"
    with a.lock("rr-plan", ttl_seconds=10):
        holder = raw(etcd_store_factory, key)
        assert holder is not None and str(__import__("os").getpid()).encode() in holder
        started = time.monotonic()
        with pytest.raises(Conflict, match="lock 'rr-plan' is held by"):
            with b.lock("rr-plan", ttl_seconds=10, wait_seconds=0.3):
                pytest.fail("second holder got the lock")
        assert time.monotonic() - started >= 0.3
    assert raw(etcd_store_factory, key) is None  # released: the lease was revoked and the key went with it


def test_lock_waiter_gets_it_when_released(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    a, b = etcd_store_factory(), etcd_store_factory()
    order: list[str] = []
    entered = threading.Event()

    def first() -> None:
        with a.lock("enroll", ttl_seconds=10):
            entered.set()
            time.sleep(0.4)
            order.append("a-done")

    thread = threading.Thread(target=first)
    thread.start()
    entered.wait(5)
    with b.lock("enroll", ttl_seconds=10, wait_seconds=5):
        order.append("b-in")
    thread.join()
    assert order == ["a-done", "b-in"]


def test_lock_is_released_when_the_block_raises(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    a, b = etcd_store_factory(), etcd_store_factory()
    with pytest.raises(RuntimeError):
        with a.lock("boom", ttl_seconds=10):
            raise RuntimeError("body failed")
    with b.lock("boom", ttl_seconds=10):
        pass


def test_lock_outlives_its_ttl_while_held(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    """A background keep-alive refreshes the lease: holding past the TTL does not let a second holder in."""
    a, b = etcd_store_factory(), etcd_store_factory()
    with a.lock("long", ttl_seconds=1):
        time.sleep(2.6)  # etcd's minimum lease TTL here is 2s
        with pytest.raises(Conflict):
            with b.lock("long", ttl_seconds=1):
                pass
