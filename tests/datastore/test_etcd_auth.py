"""etcd user/password auth (calicoctl's ETCD_USERNAME / ETCD_PASSWORD) against a real etcd with auth enabled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.errors import InputError, Unavailable
from calicotool.model.resource import Resource
from tests.fixtures.etcd import EtcdServer, etcd_available, start_etcd

pytestmark = pytest.mark.etcd
CREDENTIALS = {"ETCD_USERNAME": "root", "ETCD_PASSWORD": "s3cret"}


@pytest.fixture(scope="module")
def auth_etcd() -> Iterator[EtcdServer]:
    if not etcd_available():
        pytest.skip("etcd binary is not installed")
    server = start_etcd()
    try:
        for path, body in (
            ("auth/user/add", {"name": "root", "password": "s3cret"}),
            ("auth/role/add", {"name": "root"}),
            ("auth/user/grant", {"user": "root", "role": "root"}),
            ("auth/enable", {}),
        ):
            requests.post(f"{server.client_url}/v3/{path}", json=body, timeout=5).raise_for_status()
        yield server
    finally:
        server.stop()


def test_credentials_work_and_expired_tokens_are_renewed(auth_etcd: EtcdServer) -> None:
    store = EtcdStore.from_spec(auth_etcd.client_url, CREDENTIALS)
    try:
        store.create(Resource.new("Tier", "auth-tier", {"order": 1}))
        with store.lock("auth-lock", ttl_seconds=5):
            pass
        store.gateway._token = "stale"  # what etcd sees once a simple token has expired
        store.gateway.session.headers["Authorization"] = "stale"
        assert store.get("Tier", "auth-tier").spec == {"order": 1}
        store.delete("Tier", "auth-tier")
    finally:
        store.close()


def test_missing_credentials_say_what_to_set(auth_etcd: EtcdServer) -> None:
    store = EtcdStore.from_spec(auth_etcd.client_url, {})
    with pytest.raises(Unavailable, match="requires authentication: set ETCD_USERNAME and ETCD_PASSWORD"):
        store.list("Tier")


def test_wrong_password_is_refused(auth_etcd: EtcdServer) -> None:
    store = EtcdStore.from_spec(auth_etcd.client_url, {"ETCD_USERNAME": "root", "ETCD_PASSWORD": "nope"})
    with pytest.raises(Unavailable, match="refused access: etcdserver: authentication failed"):
        store.get("Tier", "x")


def test_password_without_user_is_input_error() -> None:
    with pytest.raises(InputError, match="ETCD_USERNAME"):
        EtcdStore.from_spec("http://127.0.0.1:2379", {"ETCD_PASSWORD": "x"})
