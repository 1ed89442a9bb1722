"""IpamClient through the Store protocol on both the directory and the etcd backends: Calico's block model,
idempotent handles, release, and concurrent assignment on one block without duplicates."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from calicotool.datastore.base import Store
from calicotool.datastore.directory import DirectoryStore
from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.overlay import ipam
from calicotool.overlay.config import overlay_config
from calicotool.overlay.ipamstore import IpamClient, PoolExhausted
from tests.overlay.overlay_lab import seed_pool

StoreFactory = Callable[[], Store]


@pytest.fixture(params=["dir", "etcd"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    if request.param == "dir":
        yield lambda: DirectoryStore(tmp_path / "cluster")
    else:
        server = request.getfixturevalue("etcd_clean")
        yield lambda: EtcdStore.from_spec(server.client_url, {})


def test_claim_assign_release(factory: StoreFactory) -> None:
    store = factory()
    seed_pool(store, cidr="10.50.0.0/24", block_size=28)
    cfg = overlay_config(store.list("IPPool"), [], "vxlan")
    client = IpamClient(store)
    a = client.assign("vxlan-tunnel-addr-h", "h", {"node": "h", "type": ipam.TYPE_VXLAN}, cfg)
    b = client.assign("calicotool-host-h", "h", {"node": "h"}, cfg)
    assert (str(a), str(b)) == ("10.50.0.0", "10.50.0.1")
    assert client.assign("calicotool-host-h", "h", {"node": "h"}, cfg) == b  # idempotent by handle
    aff = store.get("BlockAffinity", "h-10-50-0-0-28")
    assert (aff.spec["state"], aff.spec["node"], aff.spec["cidr"]) == ("confirmed", "h", "10.50.0.0/28")
    block = store.get("IPAMBlock", "10-50-0-0-28")
    assert block.spec["affinity"] == "host:h" and block.spec["allocations"][:3] == [0, 1, None]
    assert store.get("IPAMHandle", "calicotool-host-h").spec["block"] == {"10.50.0.0/28": 1}
    assert client.release("vxlan-tunnel-addr-h") == 1 and client.release("calicotool-host-h") == 1
    assert client.release_empty_blocks("h") == ["10.50.0.0/28"]
    assert store.list("IPAMBlock") == [] and store.list("BlockAffinity") == [] and store.list("IPAMHandle") == []
    store.close()


def test_full_block_claims_next_and_exhaustion(factory: StoreFactory) -> None:
    store = factory()
    seed_pool(store, cidr="10.50.0.0/29", block_size=30)  # two blocks of four
    cfg = overlay_config(store.list("IPPool"), [], "vxlan")
    client = IpamClient(store)
    got = [str(client.assign(f"x{i}", "h", {"node": "h"}, cfg)) for i in range(8)]
    assert got == [str(ip) for ip in ipaddress.ip_network("10.50.0.0/29")]
    with pytest.raises(PoolExhausted, match="exhausted"):
        client.assign("x9", "h", {"node": "h"}, cfg)
    store.close()


@pytest.mark.etcd
def test_concurrent_assign_on_one_block(etcd_clean: object) -> None:
    url = etcd_clean.client_url  # type: ignore[attr-defined]
    seeder = EtcdStore.from_spec(url, {})
    seed_pool(seeder, cidr="10.60.0.0/24", block_size=26)
    cfg = overlay_config(seeder.list("IPPool"), [], "vxlan")
    IpamClient(seeder).claim_block("n", cfg)
    got: list[str] = []
    barrier = threading.Barrier(8)

    def worker(k: int) -> None:
        store = EtcdStore.from_spec(url, {})
        barrier.wait()
        for j in range(4):
            got.append(str(IpamClient(store).assign(f"pod-{k}-{j}", "n", {"node": "n"}, cfg)))
        store.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(got) == 32 and len(set(got)) == 32
    block = seeder.get("IPAMBlock", "10-60-0-0-26")
    assert sum(a is not None for a in block.spec["allocations"]) == 32 and len(block.spec["unallocated"]) == 32
    assert len(seeder.list("IPAMBlock")) == 1  # nobody claimed a second block
    seeder.close()
