"""Host enrollment feeds policy: a host enrolled for real (network namespace, real etcd) with role=legacy-db is
selected by a rule set as a non-cluster host; explain from the datastore gives the expected verdicts (including
Felix's failsafe ports); policy prune leaves enrollment's HostEndpoint alone; unenroll removes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.lab import netns as lab
from tests.e2e.conftest import Calicotool
from tests.fixtures.etcd import EtcdServer
from tests.overlay.overlay_lab import OverlayLab, kernel_snapshot, seed_pool

pytestmark = [pytest.mark.kernel, pytest.mark.etcd]

LEGACY_RULES = """\
name: legacy
namespace: shop
groups:
  api:
    selector: app == 'api'
  legacy-db:
    description: the database server outside the cluster, enrolled with role=legacy-db
    selector: role == 'legacy-db'
    namespace: '*'
    defaultDeny: [ingress]
policies:
  - name: legacy-db
    appliesTo: legacy-db
    ingress:
      - from: api
        protocol: TCP
        ports: [5432]
"""
HOST = "host:legacy-db"
API, FRONTEND = "pod:shop/api-0:app=api", "pod:shop/web-0:app=frontend"


@pytest.fixture
def overlay(etcd_clean: EtcdServer, netns_registry: lab.CleanupRegistry) -> Iterator[OverlayLab]:
    """An IPPool in etcd and an underlay bridge; the host gets its own namespace on it."""
    store = EtcdStore.from_spec(etcd_clean.client_url, {})
    seed_pool(store)
    try:
        yield OverlayLab(store, netns_registry)
    finally:
        store.close()


def explain(tool: Calicotool, src: str, dst: str, port: str) -> tuple[int, dict[str, object]]:
    run = tool("policy", "explain", "--src", src, "--dst", dst, "--port", port, "-o", "json")
    assert run.exit_code in (0, 1), run.stderr
    return run.exit_code, run.json()


def test_enrolled_host_is_governed_by_policy(overlay: OverlayLab, etcd_tool: Calicotool, tmp_path: Path) -> None:
    tool = etcd_tool
    host_ns, underlay_ip = overlay.host_netns()
    kernel_before = kernel_snapshot(host_ns)
    enrolled = tool.ok(
        "host",
        "enroll",
        "legacy-db",
        "--address",
        f"{underlay_ip}/24",
        "--interface",
        "eth0",
        "--labels",
        "role=legacy-db,env=prod",
        "--netns",
        host_ns,
        "-o",
        "json",
    ).json()
    assert enrolled["changed"] and enrolled["tunnel_ip"].startswith("10.244.")
    hep = tool.ok("get", "hostendpoints", "legacy-db", "-o", "json").json()
    assert hep["metadata"]["labels"]["role"] == "legacy-db"
    assert "vxlan.calico" in lab.run_in_netns(host_ns, ["ip", "-o", "link", "show"]).stdout

    rules = tmp_path / "legacy"
    rules.mkdir()
    (rules / "ruleset.yaml").write_text(LEGACY_RULES)
    tool.ok("policy", "validate", str(rules))
    tool.ok("policy", "apply", str(rules), "--prune")
    # policy --prune only touches this rule set's objects: enrollment's HostEndpoint (also managed-by calicotool) stays
    assert tool("get", "hostendpoints", "legacy-db").exit_code == 0
    assert tool("policy", "diff", str(rules), "--prune").exit_code == 0

    code, report = explain(tool, API, HOST, "5432/TCP")
    assert code == 0 and report["verdict"] == "allow"
    ingress = report["destination_ingress"]
    assert ingress["verdict"] == "allow" and ingress["policy"] == "legacy-db"  # type: ignore[index]

    code, report = explain(tool, FRONTEND, HOST, "5432/TCP")
    assert code == 1 and report["verdict"] == "deny"
    assert report["source_egress"]["verdict"] == "allow"  # type: ignore[index]  # no egress policy on the frontend
    ingress = report["destination_ingress"]  # but the host's default deny drops it
    assert ingress["verdict"] == "deny" and ingress["policy"] == "default-deny-legacy-db"  # type: ignore[index]

    code, report = explain(tool, FRONTEND, HOST, "22/TCP")  # Felix's failsafe: SSH in is never cut off
    assert code == 0 and "failsafe" in str(report["destination_ingress"]["reason"]).lower()  # type: ignore[index]
    code, report = explain(tool, API, HOST, "5433/TCP")  # a port next to the allowed one, not failsafe
    assert code == 1

    # unenroll: the HostEndpoint (and Node) go, the host's kernel is back as it was, the policy stays
    tool.ok("host", "unenroll", "legacy-db", "--netns", host_ns)
    gone = tool("get", "hostendpoints", "legacy-db")
    assert gone.exit_code == 3 and "not found" in gone.stderr
    assert tool("get", "nodes", "legacy-db").exit_code == 3
    assert kernel_snapshot(host_ns) == kernel_before
    assert tool("policy", "diff", str(rules), "--prune").exit_code == 0
    after = tool("policy", "explain", "--src", API, "--dst", HOST, "--port", "5432/TCP")
    assert after.exit_code == 2 and "no HostEndpoint named 'legacy-db'" in after.stderr


def test_generic_prune_of_policy_manifests_spares_enrolled_hosts(
    overlay: OverlayLab, etcd_tool: Calicotool, shop_rules: Path, tmp_path: Path
) -> None:
    """README's GitOps loop (`policy generate -o DIR`, `apply -f DIR --prune`) must not cut enrolled hosts loose:
    the manifests hold HostEndpoints (the rule set's backup host), so HostEndpoint is an applied kind."""
    tool = etcd_tool
    host_ns, underlay_ip = overlay.host_netns()
    tool.ok(
        "host",
        "enroll",
        "legacy-db",
        "--address",
        f"{underlay_ip}/24",
        "--interface",
        "eth0",
        "--labels",
        "role=legacy-db",
        "--netns",
        host_ns,
    )
    try:
        out_dir = tmp_path / "gen"
        tool.ok("policy", "generate", str(shop_rules), "--env", "prod", "--calico-version", "3.31", "-o", str(out_dir))
        plan = tool.ok("apply", "-f", str(out_dir), "--prune", "--dry-run", "-o", "json").json()
        doomed = [c for c in plan["changes"] if c["op"] == "delete"]
        assert doomed == [], doomed
    finally:
        tool.ok("host", "unenroll", "legacy-db", "--netns", host_ns)
