"""Helpers for route-reflector tests: node builders, a write-counting Store wrapper, a fake calico-node that
reports sessions as Established, and seeded directory stores."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from calicotool.bgp.seed import seed_changes
from calicotool.bgp.state import BgpNode, ClusterState
from calicotool.datastore.base import BatchResult, Change, Store, StoreInfo
from calicotool.datastore.directory import DirectoryStore
from calicotool.model.resource import Resource
from tests.fixtures.etcd import etcd_clean, etcd_server  # noqa: F401

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=1)


def node(name: str, zone: str = "a", rack: str = "", ip: str | None = "auto", **kw: Any) -> BgpNode:
    """A healthy node, Ready for a day, with an address derived from its name unless given."""
    if ip == "auto":
        ip = f"10.9.{abs(hash(name)) % 250}.{(abs(hash(name)) // 250) % 250 + 1}/16"
    kw.setdefault("ready_since", LONG_AGO)
    return BgpNode(name=name, zone=zone, rack=rack or f"{zone}1", ipv4=ip, **kw)


def cluster(nodes: Iterable[BgpNode], **kw: Any) -> ClusterState:
    """Nodes get unique addresses 10.8.x.y in list order (stable across runs)."""
    out = []
    for i, n in enumerate(nodes):
        if n.ipv4 is not None and n.ipv4.startswith("10.9."):
            n = replace(n, ipv4=f"10.8.{i // 250}.{i % 250 + 1}/16")
        out.append(n)
    kw.setdefault("now", NOW)
    return ClusterState(nodes=tuple(out), **kw)


class CountingStore:
    """Wraps a Store and counts every write (create/update/delete and each change of a batch)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.writes: list[str] = []

    def check(self) -> StoreInfo:
        return self.inner.check()

    def get(self, kind: str, name: str, namespace: str | None = None) -> Resource:
        return self.inner.get(kind, name, namespace)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Resource]:
        return self.inner.list(kind, namespace, label_selector)

    def create(self, resource: Resource) -> Resource:
        self.writes.append(f"create {resource.key}")
        return self.inner.create(resource)

    def update(self, resource: Resource) -> Resource:
        self.writes.append(f"update {resource.key}")
        return self.inner.update(resource)

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None) -> None:
        self.writes.append(f"delete {kind}/{name}")
        self.inner.delete(kind, name, namespace, resource_version)

    def apply_batch(self, changes: Iterable[Change]) -> BatchResult:
        changes = list(changes)
        self.writes.extend(c.describe() for c in changes)
        return self.inner.apply_batch(changes)

    def lock(self, name: str, ttl_seconds: float = 60.0, wait_seconds: float = 0.0) -> AbstractContextManager[None]:
        return self.inner.lock(name, ttl_seconds, wait_seconds)

    def close(self) -> None:
        self.inner.close()


class FakeCalicoNode:
    """Plays calico-node: fills every CalicoNodeStatus with Established sessions for the BGP peerings the
    store's labels and BGPPeers imply (evaluated with the selector engine), when `step()` is called."""

    def __init__(self, store: Store, up: bool = True) -> None:
        self.store = store
        self.up = up
        self.steps = 0

    def step(self, _seconds: float = 0.0) -> None:
        from calicotool.selector import parse

        self.steps += 1
        nodes = {n.name: n for n in self.store.list("Node")}
        peers = [p for p in self.store.list("BGPPeer") if p.spec.get("nodeSelector") and p.spec.get("peerSelector")]
        links: dict[str, set[str]] = {n: set() for n in nodes}
        for p in peers:
            local = parse(p.spec["nodeSelector"])
            remote = parse(p.spec["peerSelector"])
            for a, ra in nodes.items():
                if not local.matches(ra.labels):
                    continue
                for b, rb in nodes.items():
                    if a != b and remote.matches(rb.labels):
                        links[a].add(b)
                        links[b].add(a)
        for status in self.store.list("CalicoNodeStatus"):
            node_name = str(status.spec.get("node"))
            ips = sorted(str(nodes[b].spec["bgp"]["ipv4Address"]).split("/")[0] for b in links.get(node_name, ()))
            state = "Established" if self.up else "Connect"
            updated = status.copy()
            updated.status = {"bgp": {"peersV4": [{"peerIP": ip, "state": state, "type": "NodePeer"} for ip in ips]}}
            if status.status != updated.status:
                self.store.update(updated)


@pytest.fixture
def dir_store(tmp_path: Path) -> Iterator[DirectoryStore]:
    store = DirectoryStore(tmp_path / "cluster")
    yield store
    store.close()


def seed(store: Store, state: ClusterState, kubernetes_nodes: bool = True) -> None:
    store.apply_batch(seed_changes(state, kubernetes_nodes))
