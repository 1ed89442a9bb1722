"""Kubernetes NetworkPolicies (networking.k8s.io/v1) through the datastores: read from the Kubernetes API (fake
server over real HTTP), refused on writes there, refused by etcd (they never live in Calico's etcd), stored like any
other kind by the directory backend; and `calicotool get` / `policy explain` against the fake server."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from calicotool.cli.main import Environment, main
from calicotool.datastore import etcd_layout
from calicotool.datastore.base import Change, Op
from calicotool.datastore.directory import DirectoryStore
from calicotool.errors import InputError, NotFound
from calicotool.model.resource import Resource
from tests.datastore import backend_kube
from tests.datastore.backend_kube import KubeStoreFactory

kube_store_factory = backend_kube.kube_store_factory
kube_v1_store_factory = backend_kube.kube_v1_store_factory

API = "networking.k8s.io/v1"


def _obj(name: str, ns: str = "prod", labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": API, "kind": "NetworkPolicy", "metadata": meta,
            "spec": {"podSelector": {}, **spec}}


def _seed(factory: KubeStoreFactory) -> None:
    factory.server.put(API, "networkpolicies", _obj("db", podSelector={"matchLabels": {"app": "db"}}, ingress=[
        {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 5432}]}]))
    factory.server.put(API, "networkpolicies", _obj("deny-all", labels={"team": "sec"}, policyTypes=["Ingress"]))
    factory.server.put(API, "networkpolicies", _obj("other", ns="dev"))


def test_list_and_get_read_the_networking_api(kube_store_factory: KubeStoreFactory) -> None:
    _seed(kube_store_factory)
    store = kube_store_factory()
    got = store.list("KubernetesNetworkPolicy", "prod")
    assert [(r.namespace, r.name) for r in got] == [("prod", "db"), ("prod", "deny-all")]
    assert all((r.api_version, r.kind) == (API, "NetworkPolicy") for r in got)
    assert all(r.info.name == "KubernetesNetworkPolicy" and "managedFields" not in r.metadata for r in got)
    assert [r.name for r in store.list("knp")] == ["other", "db", "deny-all"]
    assert [r.name for r in store.list("KubernetesNetworkPolicy", label_selector="team=sec")] == ["deny-all"]
    one = store.get("KubernetesNetworkPolicy", "db", "prod")
    assert one.spec["ingress"][0]["ports"] == [{"port": 5432}] and one.resource_version
    assert ("GET", "/apis/networking.k8s.io/v1/namespaces/prod/networkpolicies/db") in [
        (m, p.split("?")[0]) for m, p in kube_store_factory.server.requests]
    with pytest.raises(NotFound, match="KubernetesNetworkPolicy prod/nope not found"):
        store.get("KubernetesNetworkPolicy", "nope", "prod")


def test_works_with_the_v1_crd_backend_too(kube_v1_store_factory: KubeStoreFactory) -> None:
    _seed(kube_v1_store_factory)
    assert len(kube_v1_store_factory().list("KubernetesNetworkPolicy")) == 3


def test_calico_network_policies_stay_separate(kube_store_factory: KubeStoreFactory) -> None:
    _seed(kube_store_factory)
    store = kube_store_factory()
    store.create(Resource.new("NetworkPolicy", "db", {"selector": "all()"}, namespace="prod"))
    assert [r.api_version for r in store.list("NetworkPolicy", "prod")] == ["projectcalico.org/v3"]
    assert [r.name for r in store.list("KubernetesNetworkPolicy", "prod")] == ["db", "deny-all"]


@pytest.mark.parametrize("verb", ["create", "update", "delete", "batch"])
def test_writes_are_refused(kube_store_factory: KubeStoreFactory, verb: str) -> None:
    _seed(kube_store_factory)
    store = kube_store_factory()
    res = Resource.from_dict(_obj("new"))
    before = len(kube_store_factory.server.requests)
    with pytest.raises(InputError, match="does not manage them"):
        if verb == "create":
            store.create(res)
        elif verb == "update":
            store.update(store.get("KubernetesNetworkPolicy", "db", "prod"))
        elif verb == "delete":
            store.delete("KubernetesNetworkPolicy", "db", "prod")
        else:
            store.apply_batch([Change(Op.CREATE, res)])
    writes = [m for m, _ in kube_store_factory.server.requests[before:] if m != "GET"]
    assert writes == []
    assert len(store.list("KubernetesNetworkPolicy")) == 3


def test_etcd_refuses_the_kind_with_a_clear_message() -> None:
    with pytest.raises(InputError, match="do not live in Calico's etcd"):
        etcd_layout.etcd_kind("KubernetesNetworkPolicy")
    with pytest.raises(InputError, match="do not live in Calico's etcd"):
        etcd_layout.key_for(Resource.from_dict(_obj("x")))


def test_directory_store_keeps_them_beside_calico_policies(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "repo")
    store.create(Resource.from_dict(_obj("db")))
    store.create(Resource.new("NetworkPolicy", "db", {"selector": "all()"}, namespace="prod"))
    assert [r.api_version for r in store.list("KubernetesNetworkPolicy")] == [API]
    assert [r.api_version for r in store.list("NetworkPolicy")] == ["projectcalico.org/v3"]
    assert (tmp_path / "repo" / "k8snetworkpolicies").is_dir()
    store.delete("KubernetesNetworkPolicy", "db", "prod")
    assert store.list("KubernetesNetworkPolicy") == []


def _cli(factory: KubeStoreFactory, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={**factory.environ, "CALICOTOOL_DATASTORE": "kubernetes"})
    code = main(list(args), env=env)
    return code, out.getvalue(), err.getvalue()


def test_cli_get_lists_them_from_the_fake_server(kube_store_factory: KubeStoreFactory) -> None:
    _seed(kube_store_factory)
    code, out, err = _cli(kube_store_factory, "get", "KubernetesNetworkPolicy", "-n", "prod", "-o", "json")
    assert code == 0, err
    assert [i["metadata"]["name"] for i in json.loads(out)["items"]] == ["db", "deny-all"]
    code, out, err = _cli(kube_store_factory, "get", "knp", "-n", "prod")
    assert code == 0, err
    assert "deny-all" in out and "other" not in out


def test_cli_explain_evaluates_them_from_the_kubernetes_datastore(kube_store_factory: KubeStoreFactory) -> None:
    _seed(kube_store_factory)
    code, out, err = _cli(kube_store_factory, "policy", "explain", "--src", "pod:prod/web:app=web", "--dst",
                          "pod:prod/db:app=db", "--port", "5432/TCP", "-o", "json")
    assert code == 0, err
    ingress = json.loads(out)["destination_ingress"]
    assert (ingress["policy"], ingress["tier"], ingress["rule_index"]) == ("prod/knp.default.db", "default", 0)
    code, out, err = _cli(kube_store_factory, "policy", "explain", "--src", "pod:prod/web:app=web", "--dst",
                          "pod:prod/cache:app=cache", "--port", "80/TCP", "-o", "json")
    assert code == 1, err  # deny-all selects every pod in prod
    assert json.loads(out)["destination_ingress"]["decided_by"] == "tier-default-action"
    code, out, err = _cli(kube_store_factory, "policy", "explain", "--src", "pod:prod/web:app=web", "--dst",
                          "pod:dev/x", "--port", "80/TCP")
    assert code == 1, err  # dev/other: podSelector {}, no rules, policyTypes defaulted to Ingress
    assert "dev/knp.default.other" in out


def test_explain_from_etcd_reads_calico_policies_without_a_warning(etcd_store_factory: Any) -> None:
    """On etcd, kube-controllers keeps each Kubernetes NetworkPolicy as a Calico one (knp.default.*): nothing is
    missing, so there is nothing to warn about."""
    from calicotool.evaluate.source import from_store

    store = etcd_store_factory()
    store.create(Resource.new("NetworkPolicy", "db", {"selector": "app == 'db'"}, namespace="prod"))
    source = from_store(store)
    assert [p.qualified_name for p in source.policy_set.policies] == ["prod/db"]
    assert source.policy_set.warnings == []


def test_explain_uses_namespace_labels_from_the_cluster(kube_store_factory: KubeStoreFactory) -> None:
    server = kube_store_factory.server
    server.put("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                    "metadata": {"name": "mon", "labels": {"team": "ops"}}})
    server.put(API, "networkpolicies", _obj("metrics", podSelector={"matchLabels": {"app": "db"}}, ingress=[
        {"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}]}]))
    assert [n.name for n in kube_store_factory().namespaces()][:3] == ["calico-system", "default", "kube-public"]
    code, out, err = _cli(kube_store_factory, "policy", "explain", "--src", "pod:mon/prom", "--dst",
                          "pod:prod/db:app=db", "--port", "9187/TCP")
    assert code == 0, out + err
    code, out, err = _cli(kube_store_factory, "policy", "explain", "--src", "pod:default/prom", "--dst",
                          "pod:prod/db:app=db", "--port", "9187/TCP")
    assert code == 1, out + err


def test_no_permission_to_list_namespaces_is_a_warning(kube_store_factory: KubeStoreFactory) -> None:
    _seed(kube_store_factory)
    kube_store_factory.server.faults.fail_next(status=403, reason="Forbidden", message="namespaces is forbidden",
                                               method="GET", plural="namespaces")
    code, out, err = _cli(kube_store_factory, "policy", "explain", "--src", "pod:prod/web:app=web", "--dst",
                          "pod:prod/db:app=db", "--port", "5432/TCP")
    assert code == 0, out + err
    assert "Namespace labels not read" in err and "forbidden" in err
