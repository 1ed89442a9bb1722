"""Host enrollment on the Kubernetes datastore against a real kube-apiserver, with Calico's crd.projectcalico.org/v1
CRDs and with Calico 3.32's native projectcalico.org/v3 CRDs: three cluster nodes registered as calico-node would,
programmed by a Felix-like side the test builds itself (tests/overlay/kube_felix.py), and an external host
enrolled through the CLI. Traffic both ways, path MTU, a no-write second sync, DNS objects, unenroll restoring
the API server byte for byte."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calicotool.cli.context import Environment
from calicotool.cli.main import main
from calicotool.lab import netns as lab
from calicotool.lab.probes import tcp_probe
from tests.fixtures.kubeapi import KubeCluster
from tests.overlay.kube_felix import KubeOverlayLab, calico_group, snapshot
from tests.overlay.overlay_lab import kernel_snapshot, ping

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

POOL = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "default-ipv4-ippool"},
        "spec": {"cidr": "10.244.0.0/16", "blockSize": 26, "vxlanMode": "Always", "ipipMode": "Never",
                 "natOutgoing": False, "nodeSelector": "all()"}}


def run_cli(environ: dict[str, str], *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--datastore", "kubernetes", *args], env=Environment(stdout=out, stderr=err, environ=environ))
    return code, out.getvalue(), err.getvalue()


def prepare(cluster: KubeCluster, pool: dict[str, Any] = POOL) -> None:
    """What a Calico cluster has before any host enrolls: the pool, the lock and DNS namespaces."""
    for ns in ("calico-system", "calicotool-hosts"):
        cluster.ensure_namespace(ns)
    group = calico_group(cluster)
    cluster.request("POST", f"/apis/{group}/ippools", {**pool, "apiVersion": group})


@pytest.fixture(params=["v1", "v3"])
def kube(request: pytest.FixtureRequest) -> KubeCluster:
    """The real API server with Calico's v1 CRDs, then with the native v3 CRDs."""
    return request.getfixturevalue(f"kube_{request.param}")  # type: ignore[no-any-return]


@pytest.fixture
def overlay(kube: KubeCluster, netns_registry: lab.CleanupRegistry) -> Iterator[KubeOverlayLab]:
    prepare(kube)
    world = KubeOverlayLab(kube, netns_registry)
    for i in range(1, 4):
        world.add_node(f"node{i}")
    world.program_all()
    yield world


def both_ways(world: KubeOverlayLab, host_ns: str, host_ip: str) -> list[str]:
    failures = []
    for member in world.members.values():
        for pod in member.pods:
            if not ping(host_ns, pod.ip, src=host_ip):
                failures.append(f"ping host->{pod.name}")
            if not ping(pod.ns, host_ip):
                failures.append(f"ping {pod.name}->host")
            for src_ns, src, dst_ns, dst in ((host_ns, host_ip, pod.ns, pod.ip), (pod.ns, pod.ip, host_ns, host_ip)):
                probe = tcp_probe(src_ns, src, dst_ns, dst)
                if not probe.ok:
                    failures.append(f"tcp {src}->{dst}: {probe.detail}")
    return failures


def daemonset(name: str, **pod_spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}], **pod_spec}}}}


def assert_status_names_controllers(cluster: KubeCluster, environ: dict[str, str]) -> None:
    """A tolerate-everything DaemonSet targets the placeholder, calico-node's shape does not, and auto host
    endpoints are reported once KubeControllersConfiguration enables them."""
    everything = [{"operator": "Exists"}]
    path = "/apis/apps/v1/namespaces/kube-system/daemonsets"
    cluster.request("POST", path, daemonset("log-shipper", tolerations=everything))
    cluster.request("POST", path, daemonset("calico-node", tolerations=everything,
                                            nodeSelector={"kubernetes.io/os": "linux"}))
    group = calico_group(cluster)
    kcc = {"apiVersion": group, "kind": "KubeControllersConfiguration",
           "metadata": {"name": "default"},
           "spec": {"controllers": {"node": {"hostEndpoint": {"autoCreate": "Enabled"}}}}}
    cluster.request("POST", f"/apis/{group}/kubecontrollersconfigurations", kcc)
    try:
        code, out, err = run_cli(environ, "host", "status", "legacy-db", "-o", "json")
        lines = json.loads(out)["controllers"]
        assert code == 0 and any("kube-system/log-shipper target it" in line for line in lines), out + err
        assert not any("calico-node" in line for line in lines)
        assert any("legacy-db-auto-hep" in line for line in lines)
    finally:
        for name in ("log-shipper", "calico-node"):
            cluster.request("DELETE", f"{path}/{name}")
        cluster.request("DELETE", f"/apis/{group}/kubecontrollersconfigurations/default")


def test_enroll_traffic_sync_dns_unenroll(overlay: KubeOverlayLab, kube: KubeCluster, tmp_path: Path) -> None:
    environ = {**kube.environ(), "CALICOTOOL_RESOLVED_DIR": str(tmp_path / "resolved.conf.d")}
    host_ns, underlay_ip = overlay.host_netns()
    pods = [p for m in overlay.members.values() for p in m.pods]
    assert ping(pods[0].ns, pods[1].ip) and ping(pods[2].ns, pods[0].ip)  # the Felix-like side works
    kernel_before, api_before, calico_before = kernel_snapshot(host_ns), snapshot(kube), kube.snapshot()

    code, out, err = run_cli(environ, "host", "enroll", "legacy-db", "--address", f"{underlay_ip}/24",
                             "--labels", "role=db", "--netns", host_ns, "--dry-run")
    assert code == 0 and "would enroll legacy-db" in out and "create KubernetesNode/legacy-db" in out, err
    assert (kernel_snapshot(host_ns), snapshot(kube)) == (kernel_before, api_before)

    code, out, err = run_cli(environ, "host", "enroll", "legacy-db", "--address", f"{underlay_ip}/24",
                             "--labels", "role=db", "--netns", host_ns, "-o", "json")
    assert code == 0, err
    result = json.loads(out)
    host_ip, tunnel_ip = result["host_ip"], result["tunnel_ip"]
    node = kube.get("/api/v1/nodes/legacy-db")
    ann = node["metadata"]["annotations"]
    assert ann["projectcalico.org/IPv4Address"] == f"{underlay_ip}/24"
    assert ann["projectcalico.org/IPv4VXLANTunnelAddr"] == tunnel_ip
    assert ann["projectcalico.org/VXLANTunnelMACAddr"] == result["mac"]
    assert {(t["key"], t["effect"]) for t in node["spec"]["taints"]} >= {
        ("hosts.calicotool.io/external-host", "NoSchedule"), ("hosts.calicotool.io/external-host", "NoExecute")}
    assert "kubernetes.io/os" not in node["metadata"]["labels"]
    group = calico_group(kube)
    hep = kube.get(f"/apis/{group}/hostendpoints/legacy-db")
    assert hep["spec"]["node"] == "legacy-db" and hep["spec"]["interfaceName"] == "eth0"
    handles = {h["metadata"]["name"] for h in kube.get(f"/apis/{group}/ipamhandles")["items"]}
    assert {"vxlan-tunnel-addr-legacy-db", "calicotool-host-legacy-db"} <= handles

    overlay.program_all()  # Felix on every node learns the new VTEP and block from the API server
    assert both_ways(overlay, host_ns, host_ip) == []
    pod = pods[0]
    assert ping(host_ns, pod.ip, size=1450 - 28, dont_fragment=True, src=host_ip)
    assert not ping(host_ns, pod.ip, size=1450 - 27, dont_fragment=True, src=host_ip)

    # a second sync and a re-enroll change nothing in the kernel or in the API server (resourceVersions included)
    enrolled = snapshot(kube)
    code, out, err = run_cli(environ, "host", "sync", "legacy-db", "-o", "json")
    assert code == 0 and json.loads(out)["netlink_writes"] == 0, err
    code, out, err = run_cli(environ, "host", "enroll", "legacy-db", "--address", f"{underlay_ip}/24",
                             "--labels", "role=db", "--netns", host_ns)
    assert code == 0 and "nothing to do" in out, err
    assert snapshot(kube) == enrolled
    code, out, err = run_cli(environ, "host", "status", "legacy-db")
    assert code == 0 and "node lifecycle controller" in out and "IPAM GC" in out, out + err
    assert "no DaemonSet targets it" in out and "auto host endpoints" not in out
    assert_status_names_controllers(kube, environ)

    # someone strips the taints: status reports it (exit 1), a re-enroll puts them back
    kube.merge_patch("/api/v1/nodes/legacy-db", {"spec": {"taints": None}})
    code, out, _ = run_cli(environ, "host", "status", "legacy-db")
    assert code == 1 and "lost its taint hosts.calicotool.io/external-host:NoSchedule" in out, out
    code, out, err = run_cli(environ, "host", "enroll", "legacy-db", "--address", f"{underlay_ip}/24",
                             "--labels", "role=db", "--netns", host_ns)
    assert code == 0 and "update KubernetesNode/legacy-db" in out, out + err
    assert run_cli(environ, "host", "status", "legacy-db")[0] == 0

    code, out, err = run_cli(environ, "host", "dns", "--apply", "legacy-db")
    assert code == 0, err
    svc = kube.get("/api/v1/namespaces/calicotool-hosts/services/legacy-db")
    assert svc["spec"]["clusterIP"] == "None" and not svc["spec"].get("selector")
    eps = kube.get("/apis/discovery.k8s.io/v1/namespaces/calicotool-hosts/endpointslices/legacy-db-calicotool")
    assert eps["endpoints"][0]["addresses"] == [host_ip]
    assert eps["metadata"]["labels"]["kubernetes.io/service-name"] == "legacy-db"
    applied = snapshot(kube)
    code, out, _ = run_cli(environ, "host", "dns", "--apply", "legacy-db")
    assert code == 0 and out.startswith("0 writes") and snapshot(kube) == applied
    eps_path = "/apis/discovery.k8s.io/v1/namespaces/calicotool-hosts/endpointslices/legacy-db-calicotool"
    kube.merge_patch(eps_path, {"endpoints": [{"addresses": ["10.9.9.9"]}]})  # someone edited it
    code, out, err = run_cli(environ, "host", "dns", "--apply", "legacy-db")
    assert code == 0 and "update EndpointSlice calicotool-hosts/legacy-db-calicotool" in out, out + err
    assert kube.get(eps_path)["endpoints"][0]["addresses"] == [host_ip]
    kube.request("POST", "/api/v1/namespaces/default/services", {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "legacy-db"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}})
    applied = snapshot(kube)
    code, _, err = run_cli(environ, "host", "dns", "--apply", "legacy-db", "--namespace", "default")
    assert code == 2 and "Service default/legacy-db exists and is not managed by calicotool" in err, err
    assert snapshot(kube) == applied  # refused before any write: the calicotool-hosts objects are still there
    kube.request("DELETE", "/api/v1/namespaces/default/services/legacy-db")
    kube.ensure_namespace("hosts2")  # moving the name: the new objects first, then the old ones go
    code, out, err = run_cli(environ, "host", "dns", "--apply", "legacy-db", "--namespace", "hosts2")
    assert code == 0 and "delete Service calicotool-hosts/legacy-db" in out, out + err
    moved = "/api/v1/namespaces/hosts2/services/legacy-db"
    assert kube.get(moved)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "calicotool"

    # host -> cluster names: the resolver drop-in, pointed at a "CoreDNS pod" (any pod IP reachable over the overlay)
    code, out, err = run_cli(environ, "host", "dns", "--format", "resolver", "--cluster-dns", pods[0].ip, "--apply")
    drop_in = tmp_path / "resolved.conf.d" / "calicotool-cluster-dns.conf"
    assert code == 0 and f"DNS={pods[0].ip}" in drop_in.read_text(), err

    code, out, err = run_cli(environ, "host", "unenroll", "legacy-db")
    assert code == 0 and "delete Service hosts2/legacy-db" in out, out + err
    assert kube.status("GET", moved) == 404
    assert not drop_in.exists() and f"removed {drop_in}" in out
    assert kernel_snapshot(host_ns) == kernel_before
    assert snapshot(kube) == api_before
    assert kube.snapshot() == calico_before  # every Calico object and Node, as the server stores them
