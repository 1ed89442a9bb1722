"""The exit-code contract, end to end through the real CLI: 1 drift/findings, 2 bad input (located, nothing
written), 3 datastore unreachable, 4 host failure (nothing left behind in the datastore or the kernel)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.lab import netns as lab
from tests.e2e.conftest import Calicotool
from tests.e2e.test_gitops_dir import HAND_MADE, manifest_files
from tests.fakekube import FakeKubeServer
from tests.fixtures.etcd import EtcdServer
from tests.overlay.overlay_lab import OverlayLab, datastore_snapshot, kernel_snapshot, seed_pool

BAD_SECOND_DOC = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: fine
spec:
  nets: [198.51.100.0/24]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: broken
spec:
  selector: app == 'x'
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [99999]
"""


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_drift_and_findings_exit_1(dir_tool: Calicotool, shop_rules: Path, tmp_path: Path) -> None:
    (tmp_path / "hand.yaml").write_text(HAND_MADE)
    drift = dir_tool("diff", "-f", str(tmp_path / "hand.yaml"))
    assert drift.exit_code == 1 and "+++ desired/GlobalNetworkPolicy/hand-made-allow-ops" in drift.stdout
    dir_tool.ok("apply", "-f", str(tmp_path / "hand.yaml"))
    assert dir_tool("diff", "-f", str(tmp_path / "hand.yaml")).exit_code == 0

    assert dir_tool("policy", "diff", str(shop_rules), "--env", "prod").exit_code == 1  # nothing applied yet
    denied = dir_tool(
        "policy",
        "explain",
        "--src",
        "frontend",
        "--dst",
        "db",
        "--port",
        "5432/TCP",
        "--policies",
        str(shop_rules),
        "--env",
        "prod",
    )
    assert denied.exit_code == 1 and denied.stdout.startswith("DENY")

    # a lint finding: an SSH rule open to the world
    ruleset = shop_rules / "ruleset.yaml"
    ruleset.write_text(
        ruleset.read_text().replace(
            "      - from: office\n        protocol: TCP\n        ports: [22]", "      - protocol: TCP\n        ports: [22]"
        )
    )
    lint = dir_tool("policy", "lint", str(shop_rules), "--env", "prod", "-o", "json")
    assert lint.exit_code == 1
    assert "open-sensitive-port" in {f["check"] for f in lint.json()}


def test_bad_input_exit_2_with_location_and_nothing_written(dir_tool: Calicotool, shop_rules: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "cluster"
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_SECOND_DOC)
    run = dir_tool("apply", "-f", str(bad))
    assert run.exit_code == 2
    assert str(bad) in run.stderr and "ports" in run.stderr and "Traceback" not in run.stderr
    assert not store_dir.exists() or manifest_files(store_dir) == []  # the valid first document was not written

    bad.write_text("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: x\n")
    run = dir_tool("apply", "-f", str(bad))
    assert run.exit_code == 2 and f"{bad}:" in run.stderr

    assert dir_tool("get", "NoSuchKind").exit_code == 2
    assert dir_tool("--no-such-option").exit_code == 2

    ruleset = shop_rules / "ruleset.yaml"
    text = ruleset.read_text()
    ruleset.write_text(text.replace("ports: [8443]", "ports: [84430]", 1))
    line = 1 + text[: text.index("ports: [8443]")].count("\n")
    run = dir_tool("policy", "apply", str(shop_rules), "--env", "prod")
    assert run.exit_code == 2
    assert f"{ruleset}:{line}" in run.stderr and "84430" in run.stderr
    assert not store_dir.exists() or manifest_files(store_dir) == []


def test_unreachable_datastores_exit_3(tmp_path: Path, shop_rules: Path) -> None:
    etcd = Calicotool(f"etcdv3:http://127.0.0.1:{closed_port()}", tmp_path)
    run = etcd("datastore", "check")
    assert run.exit_code == 3 and "cannot reach etcd" in run.stderr
    assert etcd("policy", "apply", str(shop_rules), "--env", "prod").exit_code == 3
    assert etcd("rr", "reconcile", "--once", "--no-wait").exit_code == 3

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        f"clusters: [{{name: gone, cluster: {{server: 'https://127.0.0.1:{closed_port()}'}}}}]\n"
        "users: [{name: gone, user: {token: t}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: gone}}]\n"
    )
    kube = Calicotool("kubernetes", tmp_path, {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)})
    run = kube("get", "bgppeers")
    assert run.exit_code == 3 and "cannot reach" in run.stderr


def test_stopped_kube_apiserver_exit_3(
    kube_server: FakeKubeServer, kube_tool: Calicotool, shop_rules: Path, tmp_path: Path
) -> None:
    kube_tool.ok("datastore", "check")
    (tmp_path / "hand.yaml").write_text(HAND_MADE)
    kube_tool.ok("apply", "-f", str(tmp_path / "hand.yaml"))
    kube_server.stop()  # the API server goes away between two commands
    run = kube_tool("get", "globalnetworkpolicies", "hand-made-allow-ops")
    assert run.exit_code == 3 and "cannot reach" in run.stderr
    assert kube_tool("policy", "diff", str(shop_rules), "--env", "prod").exit_code == 3


@pytest.mark.kernel
@pytest.mark.etcd
def test_host_failure_exit_4_leaves_nothing_behind(
    etcd_clean: EtcdServer, netns_registry: lab.CleanupRegistry, etcd_tool: Calicotool
) -> None:
    store = EtcdStore.from_spec(etcd_clean.client_url, {})
    try:
        seed_pool(store)
        overlay = OverlayLab(store, netns_registry)
        node = overlay.add_node("node1", pods=1)
        host_ns, underlay_ip = overlay.host_netns()
        enroll = (
            "host",
            "enroll",
            "legacy-db",
            "--address",
            f"{underlay_ip}/24",
            "--labels",
            "role=legacy-db",
            "--netns",
            host_ns,
        )

        # someone already routes node1's pod block on this host: the kernel refuses our route halfway through
        # enrollment (after the VXLAN device, neighbour and FDB entries), and everything is rolled back
        blocks = [b for b in store.list("IPAMBlock") if b.spec.get("affinity") == "host:node1"]
        assert len(blocks) == 1
        block = str(blocks[0].spec["cidr"])
        lab.add_route(host_ns, block, gateway=str(overlay.members["node1"].underlay_ip))
        kernel_before, store_before = kernel_snapshot(host_ns), datastore_snapshot(store)
        run = etcd_tool(*enroll, "--interface", "eth0")
        assert run.exit_code == 4, run.stderr
        assert block in run.stderr and "Traceback" not in run.stderr
        assert datastore_snapshot(store) == store_before  # no Node, HostEndpoint or IPAM claim left behind
        assert kernel_snapshot(host_ns) == kernel_before  # no vxlan.calico, no neighbours, no routes
        assert etcd_tool("host", "list", "-o", "json").json() == []

        # an interface missing from the namespace is refused up front, also with nothing written. NOTE: exit 2
        # (InputError, overlay/netlink.py underlay()), although README's table lists "missing device" under 4.
        run = etcd_tool(*enroll, "--interface", "eth9")
        assert run.exit_code == 2 and "unknown interface 'eth9'" in run.stderr
        assert datastore_snapshot(store) == store_before and kernel_snapshot(host_ns) == kernel_before

        # with the conflicting route gone, the same enrollment succeeds and unenrolls cleanly
        lab.run_in_netns(host_ns, ["ip", "route", "del", block])
        assert node.pods
        etcd_tool.ok(*enroll, "--interface", "eth0")
        etcd_tool.ok("host", "unenroll", "legacy-db", "--netns", host_ns)
        assert etcd_tool("host", "list", "-o", "json").json() == []
    finally:
        store.close()
