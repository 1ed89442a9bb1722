"""The fake API server itself, spoken to with plain HTTP: the shapes and semantics the backend relies on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.fakekube import FakeKubeServer

NP = "/apis/crd.projectcalico.org/v1/namespaces/default/networkpolicies"
GNP3 = "/apis/projectcalico.org/v3/globalnetworkpolicies"


@pytest.fixture
def both() -> Iterator[FakeKubeServer]:
    with FakeKubeServer(calico="both") as srv:
        yield srv


def _np(name: str, labels: dict[str, str] | None = None) -> dict:
    return {
        "apiVersion": "crd.projectcalico.org/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"selector": "all()"},
    }


@pytest.mark.parametrize(
    ("mode", "v3", "v1"),
    [("v3", True, False), ("v1", False, True), ("both", True, True), ("none", False, False)],
)
def test_discovery_serves_the_configured_calico_groups(mode: str, v3: bool, v1: bool) -> None:
    with FakeKubeServer(calico=mode) as srv:
        groups = {g["name"] for g in requests.get(srv.url + "/apis", timeout=5).json()["groups"]}
        assert ("projectcalico.org" in groups) is v3
        assert ("crd.projectcalico.org" in groups) is v1
        assert "coordination.k8s.io" in groups
        r = requests.get(srv.url + "/apis/projectcalico.org/v3", timeout=5)
        assert r.status_code == (200 if v3 else 404)
        if v3:
            doc = r.json()
            assert doc["kind"] == "APIResourceList" and doc["groupVersion"] == "projectcalico.org/v3"
            by_name = {x["name"]: x for x in doc["resources"]}
            assert by_name["networkpolicies"]["namespaced"] is True
            assert by_name["ipamconfigurations"]["kind"] == "IPAMConfiguration"
        core = requests.get(srv.url + "/api/v1", timeout=5).json()
        assert {"nodes", "nodes/status", "namespaces"} <= {x["name"] for x in core["resources"]}
        assert requests.get(srv.url + "/version", timeout=5).json()["gitVersion"].startswith("v1.")


def test_create_get_update_conflict_delete(both: FakeKubeServer) -> None:
    r = requests.post(both.url + NP, json=_np("default.a"), timeout=5)
    assert r.status_code == 201
    created = r.json()
    rv = created["metadata"]["resourceVersion"]
    assert created["metadata"]["namespace"] == "default" and created["metadata"]["generation"] == 1

    again = requests.post(both.url + NP, json=_np("default.a"), timeout=5)
    assert again.status_code == 409 and again.json()["reason"] == "AlreadyExists"

    changed = dict(created, spec={"selector": "app == 'x'"})
    r = requests.put(f"{both.url}{NP}/default.a", json=changed, timeout=5)
    assert r.status_code == 200
    assert int(r.json()["metadata"]["resourceVersion"]) > int(rv) and r.json()["metadata"]["generation"] == 2

    stale = requests.put(f"{both.url}{NP}/default.a", json=changed, timeout=5)  # still carries the old rv
    assert stale.status_code == 409
    assert stale.json()["reason"] == "Conflict" and "the object has been modified" in stale.json()["message"]

    bad_pre = requests.delete(f"{both.url}{NP}/default.a", json={"preconditions": {"resourceVersion": rv}}, timeout=5)
    assert bad_pre.status_code == 409
    assert requests.delete(f"{both.url}{NP}/default.a", timeout=5).status_code == 200
    gone = requests.get(f"{both.url}{NP}/default.a", timeout=5)
    assert gone.status_code == 404
    assert gone.json() | {"details": None} == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'networkpolicies.crd.projectcalico.org "default.a" not found', "reason": "NotFound",
        "code": 404, "details": None,
    }


def test_noop_update_keeps_resource_version(both: FakeKubeServer) -> None:
    created = requests.post(both.url + NP, json=_np("default.same"), timeout=5).json()
    r = requests.put(f"{both.url}{NP}/default.same", json=created, timeout=5).json()
    assert r["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


@pytest.mark.parametrize(
    ("name", "field", "snippet"),
    [("", "metadata.name", "Required value"), ("Bad_Name", "metadata.name", "RFC 1123 subdomain"),
     ("-lead", "metadata.name", "RFC 1123")],
)
def test_invalid_objects_get_422_with_causes(both: FakeKubeServer, name: str, field: str, snippet: str) -> None:
    r = requests.post(both.url + NP, json=_np(name), timeout=5)
    assert r.status_code == 422
    doc = r.json()
    assert doc["reason"] == "Invalid" and snippet in doc["message"]
    assert doc["details"]["causes"][0]["field"] == field


def test_bad_requests(both: FakeKubeServer) -> None:
    wrong_kind = dict(_np("default.x"), kind="GlobalNetworkPolicy")
    assert requests.post(both.url + NP, json=wrong_kind, timeout=5).status_code == 400
    with_rv = _np("default.y")
    with_rv["metadata"]["resourceVersion"] = "5"
    refused = requests.post(both.url + NP, json=with_rv, timeout=5)  # a storage-layer error: 500, no reason
    assert refused.status_code == 500 and "reason" not in refused.json()
    assert "resourceVersion should not be set" in refused.json()["message"]
    other_ns = "/apis/crd.projectcalico.org/v1/namespaces/nope/networkpolicies"
    r = requests.post(both.url + other_ns, json=_np("default.z"), timeout=5)
    assert r.status_code == 404 and 'namespaces "nope" not found' in r.json()["message"]
    assert requests.get(both.url + "/apis/nothing.example/v1/things", timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=web", ["default.a", "default.b"]),
        ("tier==web", ["default.a", "default.b"]),
        ("tier!=web", ["default.c", "default.d"]),
        ("tier in (db,web)", ["default.a", "default.b", "default.c"]),
        ("tier notin (db)", ["default.a", "default.b", "default.d"]),
        ("tier", ["default.a", "default.b", "default.c"]),
        ("!tier", ["default.d"]),
        ("tier=web,env=prod", ["default.a"]),
    ],
)
def test_label_selectors(both: FakeKubeServer, selector: str, expected: list[str]) -> None:
    for name, labels in [("default.b", {"tier": "web"}), ("default.a", {"tier": "web", "env": "prod"}),
                         ("default.c", {"tier": "db"}), ("default.d", {"env": "prod"})]:
        assert requests.post(both.url + NP, json=_np(name, labels), timeout=5).status_code == 201
    doc = requests.get(both.url + NP, params={"labelSelector": selector}, timeout=5).json()
    assert doc["kind"] == "NetworkPolicyList" and doc["apiVersion"] == "crd.projectcalico.org/v1"
    assert [i["metadata"]["name"] for i in doc["items"]] == expected
    bad = requests.get(both.url + NP, params={"labelSelector": "tier in (a b"}, timeout=5)
    assert bad.status_code == 400


def test_pagination_is_a_consistent_snapshot(both: FakeKubeServer) -> None:
    for i in range(7):
        requests.post(both.url + NP, json=_np(f"default.p{i}"), timeout=5)
    first = requests.get(both.url + NP, params={"limit": 3}, timeout=5).json()
    assert len(first["items"]) == 3 and first["metadata"]["remainingItemCount"] == 4
    requests.post(both.url + NP, json=_np("default.p99"), timeout=5)  # after the snapshot: not in this list
    names = [i["metadata"]["name"] for i in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        page = requests.get(both.url + NP, params={"limit": 3, "continue": token}, timeout=5).json()
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    assert names == [f"default.p{i}" for i in range(7)]
    expired = requests.get(both.url + NP, params={"limit": "3", "continue": "bm9wZQ=="}, timeout=5)
    assert expired.status_code == 410 and expired.json()["reason"] == "Expired"


def test_core_list_items_have_no_type_meta(both: FakeKubeServer) -> None:
    both.put("v1", "nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    doc = requests.get(both.url + "/api/v1/nodes", timeout=5).json()
    assert doc["kind"] == "NodeList" and doc["items"][0]["metadata"]["name"] == "n1"
    assert "kind" not in doc["items"][0]
    # The Calico API server is typed too; custom resources (v1 CRDs, native v3 CRDs) keep their type meta.
    both.put("projectcalico.org/v3", "globalnetworkpolicies", {"apiVersion": "projectcalico.org/v3",
             "kind": "GlobalNetworkPolicy", "metadata": {"name": "g"}, "spec": {}})
    assert "kind" not in requests.get(both.url + GNP3, timeout=5).json()["items"][0]
    requests.post(both.url + NP, json=_np("default.t"), timeout=5)
    assert requests.get(both.url + NP, timeout=5).json()["items"][0]["kind"] == "NetworkPolicy"
    with FakeKubeServer(calico="v3") as crds:
        crds.put("projectcalico.org/v3", "globalnetworkpolicies", {"apiVersion": "projectcalico.org/v3",
                 "kind": "GlobalNetworkPolicy", "metadata": {"name": "g"}, "spec": {}})
        assert requests.get(crds.url + GNP3, timeout=5).json()["items"][0]["kind"] == "GlobalNetworkPolicy"


def test_calico_api_server_ipam_resources(both: FakeKubeServer) -> None:
    served = {r["name"]: r for r in requests.get(both.url + "/apis/projectcalico.org/v3", timeout=5).json()["resources"]}
    assert "ipamblocks" not in served and "ipamhandles" not in served
    assert served["blockaffinities"]["verbs"] == ["get", "list", "watch"]
    body = {"apiVersion": "projectcalico.org/v3", "kind": "BlockAffinity", "metadata": {"name": "a"}, "spec": {}}
    r = requests.post(both.url + "/apis/projectcalico.org/v3/blockaffinities", json=body, timeout=5)
    assert r.status_code == 405 and r.json()["reason"] == "MethodNotAllowed"
    assert requests.get(both.url + "/apis/projectcalico.org/v3/blockaffinities", timeout=5).status_code == 200


def test_unavailable_aggregated_api_answers_plain_text_503(both: FakeKubeServer) -> None:
    both.aggregated_unavailable = True
    for path in ("/apis/projectcalico.org/v3", GNP3, GNP3 + "/x"):
        r = requests.get(both.url + path, timeout=5)
        assert r.status_code == 503 and r.text == "service unavailable\n"
        assert r.headers["Content-Type"].startswith("text/plain")
    assert requests.get(both.url + NP, timeout=5).status_code == 200  # the v1 CRDs are still served


def test_watch_streams_added_modified_deleted(both: FakeKubeServer) -> None:
    start = requests.get(both.url + NP, timeout=5).json()["metadata"]["resourceVersion"]
    events: list[dict] = []

    def watch() -> None:
        with requests.get(both.url + NP, params={"watch": "1", "resourceVersion": start, "timeoutSeconds": 3},
                          stream=True, timeout=10) as r:
            for line in r.iter_lines():
                if line:
                    events.append(json.loads(line))
                    if len(events) == 3:
                        return

    t = threading.Thread(target=watch)
    t.start()  # no need to wait for it: the watch replays every event after `start`
    created = requests.post(both.url + NP, json=_np("default.w"), timeout=5).json()
    requests.put(f"{both.url}{NP}/default.w", json=dict(created, spec={"order": 1}), timeout=5)
    requests.delete(f"{both.url}{NP}/default.w", timeout=5)
    t.join(timeout=10)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert all(e["object"]["metadata"]["name"] == "default.w" for e in events)


def test_bearer_token_and_fault_injection() -> None:
    with FakeKubeServer(calico="v3", token="s3cret") as srv:
        assert requests.get(srv.url + GNP3, timeout=5).status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        assert requests.get(srv.url + GNP3, headers=auth, timeout=5).status_code == 200
        srv.faults.fail_next(1, status=503, reason="ServiceUnavailable", method="GET", plural="globalnetworkpolicies")
        assert requests.get(srv.url + GNP3, headers=auth, timeout=5).status_code == 503
        assert requests.get(srv.url + GNP3, headers=auth, timeout=5).status_code == 200
