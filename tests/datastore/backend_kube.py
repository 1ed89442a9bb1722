"""Fixtures for the Kubernetes backend: a fake API server on 127.0.0.1, a temporary kubeconfig pointing at it, and
factories of connected KubeStores (several stores share one server, as several clients share one cluster).

The shared contract suite uses `kube_store_factory` (Calico API served as projectcalico.org/v3) and may also use
`kube_v1_store_factory` (only the crd.projectcalico.org/v1 CRDs: the storage-form conversion path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from calicotool.datastore.kubernetes import KubeStore
from tests.fakekube import FakeKubeServer
from tests.fixtures.kubeapi import KubeCluster


class KubeStoreFactory:
    """Call it to get a new KubeStore connected to `server` through the kubeconfig at `kubeconfig`."""

    def __init__(self, server: FakeKubeServer, kubeconfig: Path) -> None:
        self.server = server
        self.kubeconfig = kubeconfig
        self.environ = {"KUBECONFIG": str(kubeconfig), "HOME": str(kubeconfig.parent)}
        self._stores: list[KubeStore] = []

    def __call__(self, **overrides: Any) -> KubeStore:
        store = KubeStore.from_spec(None, self.environ)
        store.sleep = lambda _s: None  # conflict backoff without wall-clock waits in tests
        store.api.sleep = lambda _s: None  # and 429 Retry-After waits
        for key, value in overrides.items():
            setattr(store, key, value)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()


def _factory(tmp_path: Path, calico: str) -> Iterator[KubeStoreFactory]:
    server = FakeKubeServer(calico=calico).start()
    # The contract suite uses arbitrary namespaces; a real cluster would have them. Backend tests that check the
    # apiserver's "namespace not found" answer switch this back on.
    server.state.enforce_namespaces = False
    factory = KubeStoreFactory(server, server.write_kubeconfig(tmp_path / "kubeconfig"))
    try:
        yield factory
    finally:
        factory.close()
        server.stop()


@pytest.fixture
def kube_store_factory(tmp_path: Path) -> Iterator[Callable[..., KubeStore]]:
    yield from _factory(tmp_path, "v3")


@pytest.fixture
def kube_v1_store_factory(tmp_path: Path) -> Iterator[Callable[..., KubeStore]]:
    yield from _factory(tmp_path, "v1")


# -- the real kube-apiserver (tests/fixtures/kubeapi.py), in each Calico install mode ----------------------------
CONTRACT_NAMESPACES = ("prod", "dev")


def _real_factory(cluster: KubeCluster) -> Iterator[Callable[..., KubeStore]]:
    for ns in CONTRACT_NAMESPACES:
        cluster.ensure_namespace(ns)
    stores: list[KubeStore] = []

    def make(**overrides: Any) -> KubeStore:
        store = KubeStore.from_spec(None, cluster.environ())
        for key, value in overrides.items():
            setattr(store, key, value)
        stores.append(store)
        return store

    try:
        yield make
    finally:
        for store in stores:
            store.close()


@pytest.fixture
def kube_real_v1_store_factory(kube_v1: KubeCluster) -> Iterator[Callable[..., KubeStore]]:
    yield from _real_factory(kube_v1)


@pytest.fixture
def kube_real_v3_store_factory(kube_v3: KubeCluster) -> Iterator[Callable[..., KubeStore]]:
    yield from _real_factory(kube_v3)


@pytest.fixture
def kube_real_v3_admission_store_factory(kube_v3_admission: KubeCluster) -> Iterator[Callable[..., KubeStore]]:
    yield from _real_factory(kube_v3_admission)
