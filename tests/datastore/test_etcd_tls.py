"""TLS to etcd with calicoctl's ETCD_CA_CERT_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE, against a real TLS etcd that
demands client certificates."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.errors import InputError, Unavailable
from calicotool.model.resource import Resource
from tests.fixtures.etcd import EtcdServer, EtcdTLS, etcd_available, make_tls, start_etcd

pytestmark = pytest.mark.etcd


@pytest.fixture(scope="module")
def tls_etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    if not etcd_available():
        pytest.skip("etcd binary is not installed")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (needed to make test certificates)")
    tls = make_tls(tmp_path_factory.mktemp("etcd-tls"))
    server = start_etcd(tls=tls)
    yield server
    server.stop()


def test_tls_with_client_certificate(tls_etcd: EtcdServer) -> None:
    assert tls_etcd.tls is not None
    store = EtcdStore.from_spec(tls_etcd.client_url, tls_etcd.tls.environ())
    try:
        assert store.check().details["etcd_version"]
        store.create(Resource.new("Tier", "tls-tier", {"order": 5}))
        assert store.get("Tier", "tls-tier").spec == {"order": 5}
    finally:
        tls_etcd.wipe()
        store.close()


def test_tls_without_client_certificate_is_unavailable(tls_etcd: EtcdServer) -> None:
    assert tls_etcd.tls is not None
    store = EtcdStore.from_spec(tls_etcd.client_url, {"ETCD_CA_CERT_FILE": str(tls_etcd.tls.ca)})
    with pytest.raises(Unavailable, match=f"etcd at {tls_etcd.client_url}: TLS handshake refused.*client certificate"):
        store.list("Tier")


def test_tls_with_unknown_ca_is_unavailable(tls_etcd: EtcdServer, tmp_path: Path) -> None:
    other: EtcdTLS = make_tls(tmp_path / "other")
    assert tls_etcd.tls is not None
    env = {**tls_etcd.tls.environ(), "ETCD_CA_CERT_FILE": str(other.ca)}
    store = EtcdStore.from_spec(tls_etcd.client_url, env)
    with pytest.raises(Unavailable, match="TLS certificate verify failed"):
        store.check()


def test_half_a_client_certificate_is_input_error(tls_etcd: EtcdServer) -> None:
    assert tls_etcd.tls is not None
    with pytest.raises(InputError, match="both ETCD_CERT_FILE and ETCD_KEY_FILE"):
        EtcdStore.from_spec(tls_etcd.client_url, {"ETCD_CERT_FILE": str(tls_etcd.tls.client_cert)})
