"""KubeStore against the fake API server over real HTTP: discovery, storage forms, error mapping, retries, paging,
Node mapping, batches and locks."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from calicotool.datastore.base import Change, Op, Store
from calicotool.datastore.kubernetes import KubeStore
from calicotool.errors import AlreadyExists, Conflict, InputError, Invalid, NotFound, Unavailable
from calicotool.model.resource import Resource
from tests.datastore import backend_kube
from tests.datastore.backend_kube import KubeStoreFactory
from tests.fakekube import ApiError, FakeKubeServer

# The fixtures, registered in this module by name.
kube_store_factory = backend_kube.kube_store_factory
kube_v1_store_factory = backend_kube.kube_v1_store_factory


def _gnp(name: str, order: float = 10, **labels: str) -> Resource:
    return Resource.new("GlobalNetworkPolicy", name, {"selector": "all()", "order": order}, labels=labels or None)


def _np(name: str, ns: str = "default", **labels: str) -> Resource:
    return Resource.new("NetworkPolicy", name, {"selector": "all()"}, namespace=ns, labels=labels or None)


def test_is_a_store(kube_store_factory: KubeStoreFactory) -> None:
    assert isinstance(kube_store_factory(), Store)


def test_check_reports_server_group_and_calico_version(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory()
    kube_store_factory.server.put("projectcalico.org/v3", "clusterinformations", {
        "apiVersion": "projectcalico.org/v3", "kind": "ClusterInformation", "metadata": {"name": "default"},
        "spec": {"calicoVersion": "v3.32.1", "datastoreReady": True}})
    info = store.check()
    assert info.backend == "kubernetes" and info.api_group == "projectcalico.org/v3"
    assert info.calico_version == "v3.32.1" and info.details["server_version"].startswith("v1.31")
    assert info.location == kube_store_factory.server.url and info.details["context"] == "fake"


def test_v3_server_stores_the_object_as_is(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory()
    created = store.create(_np("allow", team="a"))
    assert created.resource_version and created.labels == {"team": "a"}
    raw = kube_store_factory.server.fetch("projectcalico.org/v3", "networkpolicies", "allow", "default")
    assert raw["metadata"]["labels"] == {"team": "a"} and raw["spec"] == {"selector": "all()"}
    assert store.get("NetworkPolicy", "allow", "default").same_content(created)


@pytest.mark.parametrize(("calico", "stored"), [("v3.31.4", "default.allow"), ("v3.32.1", "allow"), (None, "allow")])
def test_v1_server_gets_calicos_storage_form(kube_v1_store_factory: KubeStoreFactory, calico: str | None,
                                             stored: str) -> None:
    if calico:
        kube_v1_store_factory().create(Resource.new("ClusterInformation", "default", {"calicoVersion": calico}))
    store = kube_v1_store_factory()
    assert store.check().api_group == "crd.projectcalico.org/v1"
    created = store.create(_np("allow", team="a"))
    raw = kube_v1_store_factory.server.fetch("crd.projectcalico.org/v1", "networkpolicies", stored, "default")
    assert "labels" not in raw["metadata"]
    assert json.loads(raw["metadata"]["annotations"]["projectcalico.org/metadata"])["labels"] == {"team": "a"}
    got = store.get("NetworkPolicy", "allow", "default")
    assert got.name == "allow" and got.labels == {"team": "a"} and got.resource_version == created.resource_version
    # Label selection must see the stashed labels, so it happens client-side for this storage form.
    assert [r.name for r in store.list("NetworkPolicy", label_selector="team=a")] == ["allow"]
    assert store.list("NetworkPolicy", label_selector="team!=a") == []
    cfg = store.create(Resource.new("IPAMConfiguration", "default", {"strictAffinity": True}))
    assert cfg.kind == "IPAMConfiguration"
    assert kube_v1_store_factory.server.fetch("crd.projectcalico.org/v1", "ipamconfigs", "default")["kind"] == "IPAMConfig"


def test_error_mapping(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory()
    with pytest.raises(NotFound, match="GlobalNetworkPolicy nope not found"):
        store.get("GlobalNetworkPolicy", "nope")
    first = store.create(_gnp("a"))
    with pytest.raises(AlreadyExists):
        store.create(_gnp("a"))
    with pytest.raises(Invalid, match="RFC 1123"):
        store.create(_gnp("Not_Valid"))
    changed = first.copy()
    changed.spec["order"] = 11
    updated = store.update(changed)  # guarded by the rv we read
    assert updated.resource_version != first.resource_version
    with pytest.raises(Conflict, match="changed by someone else"):
        store.update(first)  # stale rv
    with pytest.raises(Conflict):
        store.delete("GlobalNetworkPolicy", "a", resource_version=first.resource_version)
    store.delete("GlobalNetworkPolicy", "a", resource_version=updated.resource_version)
    with pytest.raises(NotFound):
        store.delete("GlobalNetworkPolicy", "a")
    with pytest.raises(NotFound):
        store.update(first.with_resource_version(None))


def test_unguarded_update_retries_conflicts_then_succeeds(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory()
    sleeps: list[float] = []
    store.sleep = sleeps.append
    store.create(_gnp("a"))
    kube_store_factory.server.faults.conflict_next_updates(2, plural="globalnetworkpolicies")
    out = store.update(_gnp("a", order=20))
    assert out.spec["order"] == 20
    assert sleeps == [0.05, 0.1]  # bounded exponential backoff between re-reads


def test_repeated_conflicts_end_in_conflict(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory(conflict_retries=3)
    store.create(_gnp("a"))
    kube_store_factory.server.faults.conflict_next_updates(100, plural="globalnetworkpolicies")
    with pytest.raises(Conflict, match="gave up after 4 conflicting writes"):
        store.update(_gnp("a", order=20))
    assert kube_store_factory.server.faults.hits == 4


def test_guarded_update_is_not_retried(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory()
    created = store.create(_gnp("a"))
    kube_store_factory.server.faults.conflict_next_updates(1)
    with pytest.raises(Conflict):
        store.update(created)
    assert kube_store_factory.server.faults.hits == 1


def test_list_pages_and_server_side_selector(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory(page_size=3)
    for i in range(8):
        store.create(_gnp(f"p{i}", parity="even" if i % 2 == 0 else "odd"))
    server = kube_store_factory.server
    server.requests.clear()
    names = [r.name for r in store.list("GlobalNetworkPolicy")]
    assert names == [f"p{i}" for i in range(8)]
    pages = [p for m, p in server.requests if m == "GET" and "globalnetworkpolicies" in p]
    assert len(pages) == 3 and all("limit=3" in p for p in pages) and "continue=" in pages[1]
    server.requests.clear()
    evens = store.list("GlobalNetworkPolicy", label_selector="parity in (even)")
    assert [r.name for r in evens] == ["p0", "p2", "p4", "p6"]
    assert any("labelSelector=parity" in p for _, p in server.requests)
    with pytest.raises(InputError):
        store.list("GlobalNetworkPolicy", label_selector="parity in (")


def test_namespaced_list_and_defaults(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory()
    kube_store_factory.server.state.enforce_namespaces = True
    with pytest.raises(NotFound, match="namespace 'prod' does not exist"):
        store.create(_np("a", ns="prod"))
    store.create(_np("a", ns="default"))
    store.create(_np("b", ns="kube-system"))
    assert [r.key for r in store.list("NetworkPolicy")] == [
        ("NetworkPolicy", "default", "a"), ("NetworkPolicy", "kube-system", "b")]
    assert [r.name for r in store.list("NetworkPolicy", namespace="kube-system")] == ["b"]
    assert store.get("NetworkPolicy", "a").namespace == "default"


def _seed_node(server: FakeKubeServer, name: str, **ann: str) -> None:
    server.put("v1", "nodes", {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}, "annotations": ann},
        "spec": {"podCIDRs": ["10.244.0.0/24"]},
    })


def test_calico_node_maps_onto_kubernetes_node(kube_store_factory: KubeStoreFactory) -> None:
    server = kube_store_factory.server
    store = kube_store_factory()
    _seed_node(server, "n1", **{"projectcalico.org/IPv4Address": "192.0.2.1/24"})
    _seed_node(server, "n2")
    node = store.get("Node", "n1")
    assert node.spec["bgp"]["ipv4Address"] == "192.0.2.1/24"
    node.metadata["labels"]["route-reflector"] = "true"
    node.spec["bgp"]["routeReflectorClusterID"] = "244.0.0.1"
    node.spec["ipv4VXLANTunnelAddr"] = "10.244.0.1"
    updated = store.update(node)
    raw = server.fetch("v1", "nodes", "n1")
    ann = raw["metadata"]["annotations"]
    assert ann["projectcalico.org/RouteReflectorClusterID"] == "244.0.0.1"
    assert ann["projectcalico.org/IPv4VXLANTunnelAddr"] == "10.244.0.1"
    assert json.loads(ann["projectcalico.org/labels"]) == {"route-reflector": "true"}
    assert raw["metadata"]["labels"] == {"kubernetes.io/hostname": "n1"}
    assert updated.resource_version == raw["metadata"]["resourceVersion"]
    assert [n.name for n in store.list("Node", label_selector="route-reflector=true")] == ["n1"]
    assert [n.name for n in store.list("Node")] == ["n1", "n2"]
    with pytest.raises(Conflict):
        store.update(node)  # stale resourceVersion
    with pytest.raises(InputError, match="Kubernetes Node"):
        store.create(Resource.new("Node", "outside-host", {}))
    with pytest.raises(InputError):
        store.delete("Node", "n2")


def _kubelet_heartbeat(server: FakeKubeServer, name: str, ready: str = "True") -> None:
    """What the kubelet does every few seconds/minutes: a status-only write, which moves the resourceVersion."""
    node = server.fetch("v1", "nodes", name)
    node["status"] = {"conditions": [{"type": "Ready", "status": ready}]}
    server.state.update(server.type_for("v1", "nodes"), None, name, node, status=True)


@pytest.mark.parametrize("kind", ["KubernetesNode", "Node"])
def test_guarded_node_update_survives_kubelet_status_but_not_real_edits(
    kube_store_factory: KubeStoreFactory, kind: str
) -> None:
    server = kube_store_factory.server
    store, other = kube_store_factory(), kube_store_factory()
    _seed_node(server, "n1", **{"projectcalico.org/IPv4Address": "192.0.2.1/24"})
    read = store.get(kind, "n1")
    _kubelet_heartbeat(server, "n1")
    assert server.fetch("v1", "nodes", "n1")["metadata"]["resourceVersion"] != read.resource_version
    read.metadata.setdefault("labels", {})["rr"] = "yes"
    updated = store.update(read)  # the read version is stale, but only in status: the write goes through
    node = server.fetch("v1", "nodes", "n1")
    if kind == "KubernetesNode":
        assert node["metadata"]["labels"]["rr"] == "yes"
    else:  # a Calico Node's own labels live in Calico's annotation
        assert json.loads(node["metadata"]["annotations"]["projectcalico.org/labels"]) == {"rr": "yes"}
    assert node["status"]["conditions"][0]["type"] == "Ready"  # the kubelet's status kept
    assert updated.resource_version == node["metadata"]["resourceVersion"]
    # Someone else edits metadata: a real conflict, even if the kubelet also reported since.
    mine = store.get(kind, "n1")
    theirs = other.get("KubernetesNode", "n1")
    theirs.metadata["labels"]["edited"] = "by-someone"
    other.update(theirs)
    _kubelet_heartbeat(server, "n1", "False")
    before = server.fetch("v1", "nodes", "n1")["metadata"]
    mine.metadata.setdefault("annotations", {})["x"] = "y"
    with pytest.raises(Conflict, match="changed by someone else"):
        store.update(mine)
    assert server.fetch("v1", "nodes", "n1")["metadata"] == before


def test_kubernetes_node_kind(kube_store_factory: KubeStoreFactory) -> None:
    server = kube_store_factory.server
    store = kube_store_factory()
    _seed_node(server, "n1")
    server.state.update(server.type_for("v1", "nodes"), None, "n1", {
        **server.fetch("v1", "nodes", "n1"),
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}}, status=True)
    kn = store.get("KubernetesNode", "n1")
    assert kn.api_version == "v1" and kn.kind == "Node" and (kn.status or {})["conditions"][0]["type"] == "Ready"
    kn.spec["unschedulable"] = True
    kn.spec["taints"] = [{"key": "rr", "value": "true", "effect": "NoSchedule"}]
    kn.metadata["labels"]["role"] = "rr"
    store.update(kn)
    again = store.list("KubernetesNode", label_selector="role=rr")[0]
    assert again.spec["unschedulable"] is True and again.spec["taints"][0]["key"] == "rr"
    assert (again.status or {})["conditions"][0]["status"] == "True"  # status is the kubelet's, kept as it was


def test_apply_batch_refused_by_dry_run_writes_nothing(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory()
    store.create(_gnp("exists"))
    changes = [Change(Op.CREATE, _gnp("one")), Change(Op.UPDATE, _gnp("exists", order=5)),
               Change(Op.CREATE, _gnp("exists")), Change(Op.CREATE, _gnp("never"))]
    with pytest.raises(AlreadyExists) as info:
        store.apply_batch(changes)
    assert info.value.partial.applied == []  # type: ignore[attr-defined]
    assert "create GlobalNetworkPolicy/exists failed (server-side dry run)" in str(info.value)
    assert "nothing was written" in str(info.value)
    assert [(r.name, r.spec["order"]) for r in store.list("GlobalNetworkPolicy")] == [("exists", 10)]


def test_apply_batch_failing_while_writing_reports_what_was_written(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory(batch_workers=1)
    changes = [Change(Op.CREATE, Resource.new("Tier", "t1", {"order": 1})), Change(Op.CREATE, _gnp("one")),
               Change(Op.CREATE, _gnp("two"))]
    # The two dry-run POSTs pass; the first real POST of a policy answers 503 (the server going away).
    kube_store_factory.server.faults.fail_next(status=503, reason="ServiceUnavailable", method="POST",
                                               plural="globalnetworkpolicies", skip=2)
    with pytest.raises(Unavailable) as info:
        store.apply_batch(changes)
    partial = info.value.partial  # type: ignore[attr-defined]
    assert partial.atomic is False and partial.applied == [changes[0], changes[2]]
    assert "create GlobalNetworkPolicy/one failed" in str(info.value)
    assert "2 changes were written: create Tier/t1, create GlobalNetworkPolicy/two" in str(info.value)
    assert sorted(r.name for r in store.list("GlobalNetworkPolicy")) == ["two"]
    ok = store.apply_batch([Change(Op.CREATE, _gnp("one"))])  # a re-run of what is missing converges
    assert ok.atomic is False and len(ok.applied) == 1


def test_lock_excludes_and_releases(kube_store_factory: KubeStoreFactory) -> None:
    a, b = kube_store_factory(), kube_store_factory()
    with a.lock("rr-plan", ttl_seconds=30):
        lease = kube_store_factory.server.fetch("coordination.k8s.io/v1", "leases", "calicotool-rr-plan", "calico-system")
        assert lease["spec"]["leaseDurationSeconds"] == 30 and lease["spec"]["holderIdentity"]
        with pytest.raises(Conflict, match="held by"):
            with b.lock("rr-plan", wait_seconds=0):
                pass
    with b.lock("rr-plan"):  # released on exit
        pass
    with pytest.raises(ApiError, match="not found"):
        kube_store_factory.server.fetch("coordination.k8s.io/v1", "leases", "calicotool-rr-plan", "calico-system")


def test_lock_takes_over_an_expired_lease(kube_store_factory: KubeStoreFactory) -> None:
    server = kube_store_factory.server
    server.put("coordination.k8s.io/v1", "leases", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "calicotool-apply", "namespace": "calico-system"},
        "spec": {"holderIdentity": "crashed-host", "leaseDurationSeconds": 5,
                 "renewTime": "2020-01-01T00:00:00.000000Z", "leaseTransitions": 0}})
    with kube_store_factory().lock("apply"):
        lease = server.fetch("coordination.k8s.io/v1", "leases", "calicotool-apply", "calico-system")
        assert lease["spec"]["holderIdentity"] != "crashed-host" and lease["spec"]["leaseTransitions"] == 1


def test_lock_waits_for_release(kube_store_factory: KubeStoreFactory) -> None:
    import threading

    a, b = kube_store_factory(), kube_store_factory()
    entered = threading.Event()

    def hold() -> None:
        with a.lock("w", ttl_seconds=30):
            entered.set()
            time.sleep(0.4)

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(5)
    start = time.monotonic()
    with b.lock("w", wait_seconds=5):
        waited = time.monotonic() - start
    t.join()
    assert 0.1 < waited < 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kubeconfig(tmp_path: Path, url: str, token: str | None = None) -> dict[str, str]:
    path = tmp_path / "kc"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "c", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": token} if token else {}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]}))
    return {"KUBECONFIG": str(path)}


def test_unreachable_server_is_unavailable_fast(tmp_path: Path) -> None:
    store = KubeStore.from_spec(None, _kubeconfig(tmp_path, f"http://127.0.0.1:{_free_port()}"))
    start = time.monotonic()
    with pytest.raises(Unavailable, match="connection refused"):
        store.check()
    assert time.monotonic() - start < 2.0


def test_bad_credentials_and_timeouts_are_unavailable(tmp_path: Path) -> None:
    with FakeKubeServer(token="right") as srv:
        store = KubeStore.from_spec(None, _kubeconfig(tmp_path, srv.url, token="wrong"))
        with pytest.raises(Unavailable, match="401"):
            store.get("GlobalNetworkPolicy", "x")
        good = KubeStore.from_spec(None, {**_kubeconfig(tmp_path, srv.url, token="right"),
                                          "CALICOTOOL_KUBE_TIMEOUT": "0.3"})
        assert good.list("GlobalNetworkPolicy") == []
        srv.faults.delay = 4.0  # far beyond the 0.3 s timeout, so a loaded machine cannot blur the two
        start = time.monotonic()
        with pytest.raises(Unavailable, match="timed out"):
            good.get("GlobalNetworkPolicy", "x")
        assert time.monotonic() - start < 3.0
        srv.faults.delay = 0
        srv.faults.fail_next(1, status=403, reason="Forbidden", message="no rbac")
        with pytest.raises(Unavailable, match="403 Forbidden"):
            good.get("GlobalNetworkPolicy", "x")


def test_throttled_requests_are_resent_after_retry_after(kube_store_factory: KubeStoreFactory) -> None:
    store = kube_store_factory()
    waits: list[float] = []
    store.api.sleep = waits.append
    server = kube_store_factory.server
    store.create(_gnp("a"))
    server.faults.fail_next(2, status=429, reason="TooManyRequests",
                            message="Too many requests, please try again later.", method="POST")
    store.create(_gnp("b"))  # a 429 was refused before handling: resending even a create is safe
    assert waits == [1.0, 1.0] and [r.name for r in store.list("GlobalNetworkPolicy")] == ["a", "b"]
    server.faults.fail_next(4, status=429, reason="TooManyRequests", message="Too many requests")
    with pytest.raises(Unavailable, match="429 TooManyRequests"):
        store.get("GlobalNetworkPolicy", "a")
    assert len(waits) == 5


def test_no_calico_api_served(tmp_path: Path) -> None:
    with FakeKubeServer(calico="none") as srv:
        store = KubeStore.from_spec(None, _kubeconfig(tmp_path, srv.url))
        with pytest.raises(Unavailable, match="serves neither projectcalico.org/v3 nor crd.projectcalico.org/v1: "
                           "Calico is not installed") as caught:
            store.check()
        assert "\n" not in str(caught.value) and srv.url in str(caught.value)
        with pytest.raises(NotFound, match="is Calico installed"):
            store.list("GlobalNetworkPolicy")


@pytest.mark.parametrize(("mode", "down", "rc", "says"), [
    ("none", False, 3, "Calico is not installed"),
    ("both", True, 3, "v3.projectcalico.org"),
    ("both", False, 0, "projectcalico.org/v3"),
])
def test_datastore_check_cli_exit_codes(tmp_path: Path, mode: str, down: bool, rc: int, says: str) -> None:
    """`calicotool datastore check` exits 3 with one line on stderr when the cluster has no usable Calico API."""
    import io

    from calicotool.cli.context import Environment
    from calicotool.cli.main import main

    with FakeKubeServer(calico=mode) as srv:
        srv.aggregated_unavailable = down
        out, err = io.StringIO(), io.StringIO()
        env = Environment(stdout=out, stderr=err, environ={**_kubeconfig(tmp_path, srv.url), "HOME": str(tmp_path)},
                          cwd=tmp_path, config_dir=tmp_path / "cfg")
        code = main(["--datastore", "kubernetes", "datastore", "check"], env=env)
        assert code == rc, (out.getvalue(), err.getvalue())
        text = err.getvalue() if rc else out.getvalue()
        assert says in text and "Traceback" not in err.getvalue()
        if rc:
            assert len(err.getvalue().strip().splitlines()) == 1, err.getvalue()


def test_calico_api_server_registered_but_down_is_unavailable(tmp_path: Path) -> None:
    with FakeKubeServer(calico="both") as srv:
        srv.aggregated_unavailable = True
        store = KubeStore.from_spec(None, _kubeconfig(tmp_path, srv.url))
        for call in (store.check, lambda: store.list("BGPPeer"), lambda: store.get("BGPConfiguration", "default")):
            with pytest.raises(Unavailable, match=r"projectcalico.org/v3 is registered but its API server is "
                               r"unavailable \(HTTP 503\); check `kubectl get apiservice v3.projectcalico.org`"):
                call()
        # Not silently written to the v1 CRDs behind the API server's back.
        with pytest.raises(Unavailable):
            store.create(Resource.new("BGPPeer", "p", {"peerIP": "10.0.0.1", "asNumber": 64512}))
        assert srv.state.list(srv.type_for("crd.projectcalico.org/v1", "bgppeers"), None, lambda _l: True,
                              lambda _o: True)[0] == []
        # Discovery succeeded before the API server went down: requests under the group say the same.
        srv.aggregated_unavailable = False
        fresh = KubeStore.from_spec(None, _kubeconfig(tmp_path, srv.url))
        assert fresh.list("BGPPeer") == []
        srv.aggregated_unavailable = True
        with pytest.raises(Unavailable, match="v3.projectcalico.org"):
            fresh.list("BGPPeer")


def test_ipam_kinds_use_the_v1_crds_behind_the_calico_api_server(tmp_path: Path) -> None:
    """The Calico API server serves no IPAM blocks/handles and block affinities read-only; IPAM writes go to the
    v1 CRDs, as Calico IPAM's own do. With native v3 CRDs only, they are v3 objects."""
    block = {"cidr": "10.0.0.0/26", "affinity": "host:n1", "allocations": [None] * 64,
             "unallocated": list(range(64)), "attributes": [], "strictAffinity": False}
    affinity = {"cidr": "10.0.0.0/26", "node": "n1", "state": "confirmed", "deleted": False}
    for mode, group in (("both", "crd.projectcalico.org/v1"), ("v3", "projectcalico.org/v3")):
        with FakeKubeServer(calico=mode) as srv:
            store = KubeStore.from_spec(None, _kubeconfig(tmp_path, srv.url))
            store.create(Resource.new("IPAMBlock", "10-0-0-0-26", block))
            store.create(Resource.new("BlockAffinity", "n1-10-0-0-0-26", affinity))
            store.create(Resource.new("IPAMHandle", "h", {"handleID": "h", "block": {"10.0.0.0/26": 1}}))
            stored = srv.fetch(group, "blockaffinities", "n1-10-0-0-0-26")
            assert stored["spec"]["deleted"] == (False if group.startswith("projectcalico") else "false")
            assert srv.fetch(group, "ipamblocks", "10-0-0-0-26")["spec"]["affinity"] == "host:n1"
            assert store.get("BlockAffinity", "n1-10-0-0-0-26").spec["deleted"] is False
            assert [r.name for r in store.list("IPAMHandle")] == ["h"]


def test_calico_api_server_lists_typed_items(tmp_path: Path) -> None:
    """The aggregated Calico API server's list items carry no apiVersion/kind; they still decode as their kind."""
    with FakeKubeServer(calico="both") as srv:
        store = KubeStore.from_spec(None, _kubeconfig(tmp_path, srv.url))
        store.create(Resource.new("BGPPeer", "p", {"peerIP": "10.0.0.1", "asNumber": 64512}, labels={"a": "b"}))
        [peer] = store.list("BGPPeer", label_selector="a=b")
        assert (peer.api_version, peer.kind, peer.name) == ("projectcalico.org/v3", "BGPPeer", "p")


def test_lock_is_renewed_while_held(kube_store_factory: KubeStoreFactory) -> None:
    a, b = kube_store_factory(), kube_store_factory()
    server = kube_store_factory.server

    def renew_time() -> str:
        return server.fetch("coordination.k8s.io/v1", "leases", "calicotool-long", "calico-system")["spec"]["renewTime"]

    with a.lock("long", ttl_seconds=1):
        first = renew_time()
        time.sleep(1.3)  # longer than the TTL: only renewal keeps the lease alive
        assert renew_time() > first
        with pytest.raises(Conflict):
            with b.lock("long"):
                pass
