"""Host enrollment on the Kubernetes datastore, the unhappy paths and the limits, against a real kube-apiserver:
bad input exits with one clear line and leaves the API server and the host as they were; a failure halfway (the
Node create forbidden after IPAM was claimed) leaves nothing behind; eight concurrent enrolls never share an
address; and deploy/host/rbac.yaml is enough for every host command (a ServiceAccount token bound to exactly it)."""

from __future__ import annotations

import io
import ipaddress
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from calicotool.cli.context import Environment
from calicotool.cli.main import main
from calicotool.datastore.kubernetes import KubeStore
from calicotool.lab import netns as lab
from calicotool.overlay import enroll as enrollment
from calicotool.overlay import ipam
from calicotool.overlay.ipamstore import IpamClient
from tests.fixtures.etcd import _free_port
from tests.fixtures.kubeapi import KubeCluster
from tests.overlay.kube_felix import KubeOverlayLab, snapshot
from tests.overlay.overlay_lab import kernel_snapshot
from tests.overlay.test_kube_host_e2e import POOL, prepare

pytestmark = [pytest.mark.kernel]
RBAC = Path(__file__).resolve().parents[2] / "deploy" / "host" / "rbac.yaml"
CLUSTER_SCOPED = {"ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                  "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                  "Namespace": "/api/v1/namespaces"}
NAMESPACED = {"ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
              "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
              "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings"}


def run_cli(environ: dict[str, str], *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--datastore", "kubernetes", *args], env=Environment(stdout=out, stderr=err, environ=environ))
    return code, out.getvalue(), err.getvalue()


def token_kubeconfig(cluster: KubeCluster, tmp: Path, server: str | None = None, token: str | None = None) -> dict[str, str]:
    """Environment for calicotool acting with `token` (or the admin certificate) against `server`."""
    user: dict[str, str] = {"token": token} if token else {
        "client-certificate": cluster.pki.path("admin.crt"), "client-key": cluster.pki.path("admin.key")}
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "t",
              "clusters": [{"name": "t", "cluster": {"server": server or cluster.url,
                                                     "certificate-authority": cluster.pki.path("ca.crt")}}],
              "users": [{"name": "u", "user": user}], "contexts": [{"name": "t", "context": {"cluster": "t", "user": "u"}}]}
    path = tmp / f"kubeconfig-{len(list(tmp.glob('kubeconfig-*')))}"
    path.write_text(yaml.safe_dump(config))
    return {"KUBECONFIG": str(path), "HOME": str(tmp)}


def service_account_token(cluster: KubeCluster, name: str, namespace: str = "calicotool") -> str:
    cluster.ensure_namespace(namespace)
    cluster.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts",
                    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}, ok=(201, 409))
    answer = cluster.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                             {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                              "spec": {"expirationSeconds": 3600}})
    return str(answer["status"]["token"])


def apply_documents(cluster: KubeCluster, docs: list[dict[str, Any]]) -> list[str]:
    """Create each document (409 = already there); returns the cluster-scoped RBAC paths to delete afterwards."""
    created = []
    for doc in docs:
        kind, meta = doc["kind"], doc["metadata"]
        if kind in CLUSTER_SCOPED:
            cluster.request("POST", CLUSTER_SCOPED[kind], doc, ok=(201, 409))
            if kind != "Namespace":
                created.append(f"{CLUSTER_SCOPED[kind]}/{meta['name']}")
        else:
            cluster.ensure_namespace(meta["namespace"])
            cluster.request("POST", NAMESPACED[kind].format(ns=meta["namespace"]), doc, ok=(201, 409))
    return created


@pytest.fixture
def host(kube_v1: KubeCluster, make_netns: Callable[..., str]) -> str:
    prepare(kube_v1)
    ns = make_netns("khost")
    lab.create_veth_pair(ns, "eth0", ns, "eth1")
    lab.add_address(ns, "eth0", "192.0.2.100/24")
    return ns


@pytest.fixture
def rbac_cleanup(kube_v1: KubeCluster) -> Any:
    paths: list[str] = []
    yield paths
    for path in paths:
        kube_v1.request("DELETE", path, ok=(200, 202, 404))


def test_bad_input_one_line_and_nothing_changed(kube_v1: KubeCluster, host: str, tmp_path: Path, rbac_cleanup: list[str]) -> None:
    kube_v1.request("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "worker-7", "labels": {"kubernetes.io/os": "linux"}}})  # registered by a kubelet
    admin = kube_v1.environ()
    down = token_kubeconfig(kube_v1, tmp_path, server=f"https://127.0.0.1:{_free_port()}")
    nobody = token_kubeconfig(kube_v1, tmp_path, token=service_account_token(kube_v1, "nobody"))
    cases = [
        (admin, ("h1", "--interface", "eth9"), 2, "unknown interface 'eth9'"),
        (admin, ("h1", "--interface", "eth1"), 2, "is not on interface eth1"),
        (admin, ("h1", "--address", "192.0.2.77/24"), 2, "192.0.2.77 is not configured on any interface"),
        (admin, ("worker-7",), 2, "Node worker-7 exists and was not enrolled by calicotool (a kubelet registered it?)"),
        (down, ("h1",), 3, "connection refused"),
        (nobody, ("h1",), 3, "denied access (403"),
    ]
    before = snapshot(kube_v1), kernel_snapshot(host)
    for environ, args, expected_code, message in cases:
        name, *rest = args
        address = [] if "--address" in rest else ["--address", "192.0.2.100/24"]
        code, out, err = run_cli(environ, "host", "enroll", name, *address, *rest, "--netns", host)
        assert code == expected_code and message in err, (args, code, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and out == "", (args, err)
        assert (snapshot(kube_v1), kernel_snapshot(host)) == before, args


def test_failure_halfway_leaves_nothing_behind(kube_v1: KubeCluster, host: str, tmp_path: Path,
                                               rbac_cleanup: list[str]) -> None:
    """Allowed to claim IPAM but not to create the Node: the claim is undone, the kernel untouched."""
    docs = [d for d in yaml.safe_load_all(RBAC.read_text()) if d]
    role = next(d for d in docs if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "calicotool-host-enroll")
    for rule in role["rules"]:
        if rule["resources"] == ["nodes"]:
            rule["verbs"] = ["get", "list"]
    rbac_cleanup += apply_documents(kube_v1, docs)
    environ = token_kubeconfig(kube_v1, tmp_path, token=service_account_token(kube_v1, "calicotool-host"))
    before = snapshot(kube_v1), kernel_snapshot(host)
    code, _, err = run_cli(environ, "host", "enroll", "h1", "--address", "192.0.2.100/24", "--netns", host)
    assert code == 3 and "denied access" in err and "nodes" in err, err
    assert "rollback incomplete" not in err
    assert (snapshot(kube_v1), kernel_snapshot(host)) == before


def test_least_privilege_rbac_is_enough(kube_v1: KubeCluster, host: str, tmp_path: Path, rbac_cleanup: list[str]) -> None:
    rbac_cleanup += apply_documents(kube_v1, [d for d in yaml.safe_load_all(RBAC.read_text()) if d])
    environ = token_kubeconfig(kube_v1, tmp_path, token=service_account_token(kube_v1, "calicotool-host"))
    before = snapshot(kube_v1), kernel_snapshot(host)
    steps = [("enroll", "h1", "--address", "192.0.2.100/24", "--netns", host), ("sync", "h1"), ("status", "h1"),
             ("list",), ("dns", "--apply", "h1"), ("unenroll", "h1")]
    for step in steps:
        code, out, err = run_cli(environ, "host", *step)
        assert code == 0, (step, out, err)
        if step[0] == "status":  # the optional observe role is not bound: status says so instead of failing
            assert "cannot tell (not allowed to list DaemonSets" in out
    assert (snapshot(kube_v1), kernel_snapshot(host)) == before


def test_eight_concurrent_enrolls_never_share_an_address(kube_v1: KubeCluster, make_netns: Callable[..., str]) -> None:
    """Eight hosts enroll at once (threads, one client each) from a pool of /29 blocks: every address is held by
    exactly its handle and every block by one host, through resourceVersion compare-and-swap alone."""
    prepare(kube_v1, {**POOL, "spec": {**POOL["spec"], "cidr": "10.99.0.0/24", "blockSize": 29}})
    hosts = []
    for i in range(8):
        ns = make_netns(f"race{i}")
        lab.create_veth_pair(ns, "eth0", ns, "eth1")
        lab.add_address(ns, "eth0", f"192.0.2.{10 + i}/24")
        hosts.append((f"h{i}", ns, f"192.0.2.{10 + i}/24"))
    results: dict[str, enrollment.EnrollResult] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(hosts))

    def one(name: str, ns: str, address: str) -> None:
        store = KubeStore.from_spec(None, kube_v1.environ())
        try:
            start.wait()
            results[name] = enrollment.enroll(store, enrollment.EnrollRequest(name, address, netns=ns))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=one, args=h) for h in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and len(results) == 8
    addresses = [a for r in results.values() for a in (r.host_ip, r.tunnel_ip)]
    assert len(set(addresses)) == 16 and all(ipaddress.ip_address(a) in ipaddress.ip_network("10.99.0.0/24")
                                             for a in addresses)
    store = KubeStore.from_spec(None, kube_v1.environ())
    try:
        client = IpamClient(store)
        for name, r in results.items():
            assert [str(a) for a in client.addresses(ipam.host_handle(name))] == [r.host_ip]
            assert [str(a) for a in client.addresses(ipam.tunnel_handle(name, "vxlan"))] == [r.tunnel_ip]
        owners = {}
        for block in store.list("IPAMBlock"):
            held = {a["secondary"]["node"] for a in block.spec["attributes"]}
            assert held == {ipam.affinity_host(block.spec)}, block.spec
            owners[block.spec["cidr"]] = ipam.affinity_host(block.spec)
        affinities = {(a.spec["node"], a.spec["cidr"]) for a in store.list("BlockAffinity")}
        assert affinities == {(node, cidr) for cidr, node in owners.items()}
    finally:
        store.close()


def test_kernel_failure_halfway_rolls_back_the_api_server(kube_v1: KubeCluster, host: str,
                                                         netns_registry: lab.CleanupRegistry) -> None:
    """A foreign route already covers a cluster node's block: the route add fails after the placeholder Node,
    HostEndpoint and IPAM were written and half the kernel was programmed; everything is undone."""
    world = KubeOverlayLab(kube_v1, netns_registry)
    world.add_node("node1", pods=0)
    block = next(b["spec"]["cidr"] for b in kube_v1.get("/apis/crd.projectcalico.org/v1/ipamblocks")["items"])
    lab.add_route(host, block, gateway="192.0.2.254")
    before = snapshot(kube_v1), kernel_snapshot(host)
    code, _, err = run_cli(kube_v1.environ(), "host", "enroll", "h1", "--address", "192.0.2.100/24", "--netns", host)
    assert code == 4 and block in err and "File exists" in err and "rollback incomplete" not in err, err
    assert (snapshot(kube_v1), kernel_snapshot(host)) == before
