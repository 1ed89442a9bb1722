"""End-to-end through the real CLI: get / apply / diff / delete / datastore check, exit codes, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner

MANIFESTS = """\
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
  labels: {app.kubernetes.io/managed-by: calicotool}
spec:
  order: 100
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
  labels: {app.kubernetes.io/managed-by: calicotool}
spec:
  tier: security
  order: 10
  selector: all()
  types: [Egress]
  egress:
  - action: Allow
    protocol: UDP
    destination: {ports: [53]}
"""


def manifests(tmp_path: Path, text: str = MANIFESTS) -> Path:
    folder = tmp_path / "manifests"
    folder.mkdir(exist_ok=True)
    (folder / "policy.yaml").write_text(text)
    return folder


def test_apply_diff_get_cycle(cli: CliRunner, tmp_path: Path) -> None:
    src = manifests(tmp_path)
    first = cli("diff", "-f", str(src))
    assert first.exit_code == 1 and "+kind: Tier" in first.stdout
    dry = cli("apply", "-f", str(src), "--dry-run")
    assert dry.exit_code == 0 and "would create" in dry.stdout
    assert not (tmp_path / "cluster" / "tiers").exists()
    applied = cli("apply", "-f", str(src))
    assert applied.exit_code == 0 and "2 created" in applied.stdout
    assert cli("diff", "-f", str(src)).exit_code == 0
    again = cli("apply", "-f", str(src))
    assert "0 created, 0 updated, 0 deleted, 2 unchanged" in again.stdout
    got = cli("get", "gnp", "allow-dns", "-o", "json")
    assert got.exit_code == 0
    assert json.loads(got.stdout)["spec"]["egress"][0]["destination"]["ports"] == [53]
    table = cli("get", "tiers")
    assert "security" in table.stdout


def test_prune_only_deletes_managed(cli: CliRunner, tmp_path: Path) -> None:
    src = manifests(tmp_path)
    assert cli("apply", "-f", str(src)).exit_code == 0
    handmade = tmp_path / "handmade.yaml"
    handmade.write_text(
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: tor-bgp}\n"
        "spec: {selector: all(), order: 1}\n"
    )
    assert cli("apply", "-f", str(handmade)).exit_code == 0
    only_tier = manifests(tmp_path, MANIFESTS.split("---")[0])
    out = cli("apply", "-f", str(only_tier), "--prune", "-o", "json")
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    # tier kept, managed GNP not in the manifests... but prune is scoped to the applied kinds (Tier only)
    assert data["summary"]["delete"] == 0
    full = cli("apply", "-f", str(manifests(tmp_path, MANIFESTS.replace("allow-dns", "allow-dns2"))), "--prune", "-o", "json")
    deleted = [c["name"] for c in json.loads(full.stdout)["changes"] if c["op"] == "delete"]
    assert deleted == ["allow-dns"]
    assert "tor-bgp" in cli("get", "gnp").stdout


def test_bad_inputs_exit_codes(cli: CliRunner, tmp_path: Path) -> None:
    bad = manifests(tmp_path, MANIFESTS.replace("order: 10\n", "order: 10\n  colour: red\n"))
    res = cli("apply", "-f", str(bad))
    assert res.exit_code == 2
    assert "unknown field 'colour'" in res.stderr and "policy.yaml:" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "cluster").exists()  # nothing half-written
    assert cli("get", "Firewall").exit_code == 2
    assert cli("get", "tier", "nope").exit_code == 3
    assert cli("--datastore", "bogus:x", "get", "tiers").exit_code == 2
    unreachable = cli("--datastore", "etcdv3:http://127.0.0.1:9", "get", "tiers")
    assert unreachable.exit_code == 3 and "Traceback" not in unreachable.stderr
    assert cli("get").exit_code == 2
    assert cli("apply", "-f", str(tmp_path / "missing.yaml")).exit_code == 2


def test_malformed_yaml_located(cli: CliRunner, tmp_path: Path) -> None:
    bad = manifests(tmp_path, "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: [\n")
    res = cli("apply", "-f", str(bad))
    assert res.exit_code == 2 and "malformed YAML" in res.stderr and "policy.yaml:" in res.stderr


def test_datastore_check_and_version(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "cluster").mkdir()
    res = cli("datastore", "check", "-o", "json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["backend"] == "dir" and data["apiGroup"] == "projectcalico.org/v3"
    assert cli("--version").stdout.startswith("calicotool ")
    assert cli("datastore", "which", environ={}).stdout.strip() == "dir:./cluster"


def test_help_lists_groups(cli: CliRunner) -> None:
    res = cli("--help")
    assert res.exit_code == 0
    for group in ("policy", "rr", "host", "lab", "datastore", "get", "apply", "diff"):
        assert group in res.stdout


def test_datastore_check_fails_on_a_missing_directory(cli: CliRunner, tmp_path: Path) -> None:
    """A mistyped dir: path is an unreachable datastore (exit 3), like an etcd nobody answers at; one line."""
    res = cli("--datastore", f"dir:{tmp_path / 'clsuter'}", "datastore", "check")
    assert res.exit_code == 3 and res.stdout == ""
    assert res.stderr.splitlines() == [f"datastore error: datastore dir:{tmp_path / 'clsuter'} does not exist (a "
                                       "mistyped path? `calicotool apply` creates it on its first write)"]
    assert not (tmp_path / "clsuter").exists()  # checking creates nothing
    assert cli("apply", "-f", str(manifests(tmp_path))).exit_code == 0  # the first write creates the default dir
    assert cli("datastore", "check").exit_code == 0


def test_delete_options_have_help(cli: CliRunner) -> None:
    text = cli("delete", "--help").stdout
    assert "Namespace (namespaced kinds)." in text and "Exit 0 when the object does not exist" in text
    assert "<bool>" not in text


def test_delete_ignore_not_found(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("apply", "-f", str(manifests(tmp_path))).exit_code == 0
    assert cli("delete", "gnp", "nope").exit_code == 3
    quiet = cli("delete", "gnp", "nope", "--ignore-not-found")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")  # nothing deleted: nothing said
    gone = cli("delete", "gnp", "allow-dns")
    assert gone.exit_code == 0 and gone.stderr == "GlobalNetworkPolicy/allow-dns deleted\n"


def test_applyset_needs_kubernetes_and_a_valid_parent(cli: CliRunner, tmp_path: Path) -> None:
    src = manifests(tmp_path)
    on_dir = cli("apply", "-f", str(src), "--applyset", "shop")
    assert on_dir.exit_code == 2 and "--applyset needs --datastore kubernetes" in on_dir.stderr
    bad_kind = cli("diff", "-f", str(src), "--applyset", "deployment/shop")
    assert bad_kind.exit_code == 2 and "must be a secret or a configmap" in bad_kind.stderr
    bad_name = cli("apply", "-f", str(src), "--applyset", "Shop_Set")
    assert bad_name.exit_code == 2 and "not a valid DNS-1123 subdomain" in bad_name.stderr
    assert not (tmp_path / "cluster" / "tiers").exists()
