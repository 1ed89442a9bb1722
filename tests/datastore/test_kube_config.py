"""Cluster resolution as kubectl does it: KUBECONFIG lists, ~/.kube/config, --context, in-cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import calicotool.datastore.kube_config as kc
from calicotool.datastore.factory import open_store
from calicotool.datastore.kubernetes import KubeStore
from calicotool.errors import InputError, Unavailable
from tests.fakekube import FakeKubeServer


@pytest.fixture
def servers() -> Iterator[tuple[FakeKubeServer, FakeKubeServer]]:
    with FakeKubeServer(calico="v3") as a, FakeKubeServer(calico="v1") as b:
        yield a, b


def _write(path: Path, current: str | None, entries: dict[str, str]) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": f"{n}-c", "cluster": {"server": url}} for n, url in entries.items()],
        "users": [{"name": f"{n}-u", "user": {}} for n in entries],
        "contexts": [{"name": n, "context": {"cluster": f"{n}-c", "user": f"{n}-u"}} for n in entries],
    }
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


def test_kubeconfig_list_first_file_wins(tmp_path: Path, servers: tuple[FakeKubeServer, FakeKubeServer]) -> None:
    a, b = servers
    first = _write(tmp_path / "one", "alpha", {"alpha": a.url})
    # The second file redefines `alpha` and sets another current-context: kubectl ignores both.
    second = _write(tmp_path / "two", "beta", {"alpha": b.url, "beta": b.url})
    environ = {"KUBECONFIG": f"{tmp_path / 'missing'}:{first}:{second}", "HOME": str(tmp_path)}
    store = KubeStore.from_spec(None, environ)
    assert store.context == "alpha" and store.api.where == a.url
    assert store.check().api_group == "projectcalico.org/v3"
    other = KubeStore.from_spec("beta", environ)
    assert other.api.where == b.url and other.check().api_group == "crd.projectcalico.org/v1"
    via_factory = open_store("kubernetes:beta", environ=environ)
    assert isinstance(via_factory, KubeStore) and via_factory.api.where == b.url
    for s in (store, other, via_factory):
        s.close()


def test_home_kube_config_is_the_default(tmp_path: Path, servers: tuple[FakeKubeServer, FakeKubeServer]) -> None:
    (tmp_path / ".kube").mkdir()
    _write(tmp_path / ".kube" / "config", "home", {"home": servers[0].url})
    store = KubeStore.from_spec(None, {"HOME": str(tmp_path)})
    assert store.api.where == servers[0].url and store.source.endswith(".kube/config")


def test_unknown_context_is_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "cfg", "a", {"a": "http://127.0.0.1:1"})
    with pytest.raises(InputError, match="context 'nope' not found.*contexts: a"):
        KubeStore.from_spec("nope", {"KUBECONFIG": str(path)})


def test_no_current_context_is_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "cfg", None, {"a": "http://127.0.0.1:1"})
    with pytest.raises(InputError, match="no current-context"):
        KubeStore.from_spec(None, {"KUBECONFIG": str(path)})


def test_nothing_configured_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="no kubeconfig found"):
        KubeStore.from_spec(None, {"HOME": str(tmp_path)})


def test_in_cluster_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("sa-token")
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    monkeypatch.setattr(kc, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(kc, "SERVICE_CERT_FILENAME", str(ca))
    environ = {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    target = kc.resolve_cluster(None, environ)
    assert target.host == "https://10.96.0.1:443" and target.source == "in-cluster service account"
    assert target.client.configuration.api_key["BearerToken"] == "bearer sa-token"
    target.client.close()
    # A kubeconfig, when present, wins over the in-cluster service account (as with kubectl).
    (tmp_path / ".kube").mkdir()
    _write(tmp_path / ".kube" / "config", "local", {"local": "http://127.0.0.1:1"})
    assert kc.resolve_cluster(None, environ).source.startswith("kubeconfig")
