"""GitOps round trip on the directory datastore: generate -> apply -> diff clean -> edit a rule -> diff shows it
-> apply --prune -> clean again; hand-made objects survive, and both kustomizations list exactly their files."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.e2e.conftest import Calicotool

HAND_MADE = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: hand-made-allow-ops
spec:
  selector: team == 'ops'
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [9100]
"""


def manifest_files(directory: Path) -> list[str]:
    """Every resource file below `directory` (relative paths), sorted; kustomization and hidden files excluded."""
    return sorted(
        str(p.relative_to(directory))
        for p in directory.rglob("*.yaml")
        if p.name != "kustomization.yaml" and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def kustomize_resources(directory: Path) -> list[str]:
    doc = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert doc["kind"] == "Kustomization"
    return list(doc["resources"])


def edit_rules(ruleset: Path) -> None:
    """The api may now reach the database on 6432 (pgbouncer) instead of 5432, and the frontend policy is dropped."""
    text = ruleset.read_text()
    old = "    egress:\n      - to: db\n        protocol: TCP\n        ports: [5432]\n      - to: payment-gateway"
    assert text.count(old) == 1
    text = text.replace(old, old.replace("[5432]", "[6432]"))
    doc = yaml.safe_load(text)
    doc["policies"] = [p for p in doc["policies"] if p["name"] != "frontend"]
    ruleset.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_gitops_round_trip_on_directory_store(dir_tool: Calicotool, shop_rules: Path, tmp_path: Path) -> None:
    tool, out_dir, store_dir = dir_tool, tmp_path / "gen", tmp_path / "cluster"

    # 1. generate: one file per object, and kustomization.yaml lists every one of them in apply order
    tool.ok("policy", "generate", str(shop_rules), "--env", "prod", "-o", str(out_dir))
    files = manifest_files(out_dir)
    listed = kustomize_resources(out_dir)
    assert listed == files and len(files) >= 10  # NNNN- prefixes: apply order is file-name order
    assert any("-tier-" in f for f in files) and any("-hostendpoint-" in f for f in files)
    for name in files:
        doc = yaml.safe_load((out_dir / name).read_text())
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "calicotool"

    # 2. apply the directory into the dir: store, plus one hand-made (unmanaged) policy
    applied = tool.ok("apply", "-f", str(out_dir), "-o", "json").json()["summary"]
    assert applied["create"] == len(files) and applied["update"] == 0
    (tmp_path / "hand.yaml").write_text(HAND_MADE)
    tool.ok("apply", "-f", str(tmp_path / "hand.yaml"))
    assert tool("diff", "-f", str(out_dir)).exit_code == 0
    assert tool("policy", "diff", str(shop_rules), "--env", "prod", "--prune").exit_code == 0
    assert kustomize_resources(store_dir) and sorted(kustomize_resources(store_dir)) == manifest_files(store_dir)
    assert len(manifest_files(store_dir)) == len(files) + 1

    # 3. a reviewer edits a rule: policy diff exits 1 and shows exactly that change
    edit_rules(shop_rules / "ruleset.yaml")
    drift = tool("policy", "diff", str(shop_rules), "--env", "prod", "--prune")
    assert drift.exit_code == 1, drift.stderr
    assert "NetworkPolicy/shop/api" in drift.stdout
    assert "-      - 5432" in drift.stdout and "+      - 6432" in drift.stdout
    assert "NetworkPolicy/shop/frontend" in drift.stdout  # --prune shows the dropped policy too
    assert "hand-made" not in drift.stdout

    # regenerating the GitOps dir follows the rule set: the api file changes, the frontend file goes away
    tool.ok("policy", "generate", str(shop_rules), "--env", "prod", "-o", str(out_dir))
    regenerated = manifest_files(out_dir)
    assert kustomize_resources(out_dir) == regenerated
    assert len(regenerated) == len(files) - 1 and not any(f.endswith("-shop.frontend.yaml") for f in regenerated)
    assert tool("diff", "-f", str(out_dir)).exit_code == 1

    # 4. apply --prune: the api policy is updated, the frontend policy deleted, the hand-made one untouched
    pruned = tool.ok("policy", "apply", str(shop_rules), "--env", "prod", "--prune", "-o", "json").json()["summary"]
    assert (pruned["create"], pruned["update"], pruned["delete"]) == (0, 1, 1)
    assert tool("policy", "diff", str(shop_rules), "--env", "prod", "--prune").exit_code == 0
    assert tool("diff", "-f", str(out_dir), "--prune").exit_code == 0
    survivor = tool.ok("get", "globalnetworkpolicies", "hand-made-allow-ops", "-o", "json").json()
    assert survivor["spec"]["selector"] == "team == 'ops'"
    gone = tool("get", "networkpolicies", "frontend", "-n", "shop")
    assert gone.exit_code == 3 and "frontend" in gone.stderr
    api = tool.ok("get", "networkpolicies", "api", "-n", "shop", "-o", "json").json()
    assert 6432 in api["spec"]["egress"][0]["destination"]["ports"]

    # the store's own kustomization still lists exactly its files
    assert sorted(kustomize_resources(store_dir)) == manifest_files(store_dir)
    assert "globalnetworkpolicies/hand-made-allow-ops.yaml" in manifest_files(store_dir)
    assert "networkpolicies/shop/frontend.yaml" not in manifest_files(store_dir)

    # 5. a second apply is a no-op
    again = tool.ok("policy", "apply", str(shop_rules), "--env", "prod", "--prune", "-o", "json").json()["summary"]
    assert (again["create"], again["update"], again["delete"], again["unchanged"]) == (0, 0, 0, len(files) - 1)
