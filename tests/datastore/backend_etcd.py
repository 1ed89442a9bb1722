"""The etcd backend for the contract suite: `etcd_store_factory` -> callable making EtcdStores on one real etcd.

Self-contained on purpose (it asks pytest for nothing but `request`), so a test module or conftest may import just
this fixture: one etcd per test session is started on first use and stopped at session end; each test starts with
an empty /calico/ keyspace.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from calicotool.datastore.base import Store
from calicotool.datastore.etcdv3 import EtcdStore
from tests.fixtures.etcd import EtcdServer, session_etcd


class EtcdStoreFactory:
    """Makes EtcdStores connected to the same etcd; `server` gives raw access for tests that plant bad data."""

    def __init__(self, server: EtcdServer) -> None:
        self.server = server
        self.stores: list[EtcdStore] = []

    def __call__(self, **options: str) -> EtcdStore:
        environ = {f"CALICOTOOL_ETCD_{k.upper()}": v for k, v in options.items()}
        store = EtcdStore.from_spec(self.server.client_url, environ)
        self.stores.append(store)
        return store

    def close(self) -> None:
        for store in self.stores:
            store.close()


def make_store(request: pytest.FixtureRequest) -> Store:
    """One EtcdStore on the session's etcd (the keyspace is NOT wiped; use the fixture for that)."""
    return EtcdStoreFactory(session_etcd(request))()


@pytest.fixture
def etcd_store_factory(request: pytest.FixtureRequest) -> Iterator[EtcdStoreFactory]:
    server = session_etcd(request)
    server.wipe()
    factory = EtcdStoreFactory(server)
    yield factory
    factory.close()
    server.wipe()
