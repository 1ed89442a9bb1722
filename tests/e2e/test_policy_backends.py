"""The policy workflow against real backends (etcd, the fake kube-apiserver over HTTP): apply, read back, explain
from the datastore with the same verdicts as from the rule set, drift after an edit, prune, hand-made survives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import Calicotool
from tests.e2e.test_gitops_dir import HAND_MADE, edit_rules

HEP = "host:backup-host-backup-01-eth0"  # the HostEndpoint the shop rule set generates for its backup host
API, DB, FRONTEND = "pod:shop/api-0:app=api", "pod:shop/db-0:app=postgres", "pod:shop/web-0:app=frontend"
# Workaround (see test_policy_apply_default_calico_version_on_etcd): the etcd backend insists on Calico's pre-3.32
# `<tier>.<name>` policy names, so apply with --calico-version 3.31 on every backend.
PROD = ("--env", "prod", "--calico-version", "3.31")
FLOWS = [  # (src, dst, port, expected verdict) with the shop rule set, env prod
    (API, DB, "5432/TCP", "allow"),
    (FRONTEND, DB, "5432/TCP", "deny"),
    (FRONTEND, API, "8443/TCP", "allow"),
    (API, "ip:198.51.100.10", "443/TCP", "allow"),  # payment gateway
    (API, "ip:192.0.2.1", "443/TCP", "deny"),  # blocked network
    ("ip:203.0.113.7", HEP, "22/TCP", "allow"),  # office SSH to the backup host
    ("ip:203.0.113.7", HEP, "8080/TCP", "deny"),
    (HEP, DB, "5432/TCP", "allow"),  # nightly dumps
]


@pytest.fixture(params=[pytest.param("etcd", marks=pytest.mark.etcd), "kube"])
def tool(request: pytest.FixtureRequest) -> Calicotool:
    fixture: Calicotool = request.getfixturevalue(f"{request.param}_tool")
    return fixture


def generated(tool: Calicotool, rules: Path) -> dict[tuple[str, str, str], dict[str, object]]:
    stream = tool.ok("policy", "generate", str(rules), *PROD).stdout
    docs = [d for d in yaml.safe_load_all(stream) if d]
    return {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d for d in docs}


def untiered(report: object) -> object:
    """The explain report with 3.31-style tier prefixes dropped from policy names (`shop/app.api` -> `shop/api`)."""
    if isinstance(report, dict):
        return {k: untiered(v) for k, v in report.items()}
    if isinstance(report, list):
        return [untiered(v) for v in report]
    if isinstance(report, str):
        return re.sub(r"(^|/)(app|security)\.", r"\1", report)
    return report


def explain(tool: Calicotool, src: str, dst: str, port: str, *source: str) -> tuple[int, dict[str, object]]:
    run = tool("policy", "explain", "--src", src, "--dst", dst, "--port", port, "-o", "json", *source)
    assert run.exit_code in (0, 1), run.stderr
    return run.exit_code, run.json()


def test_policy_apply_get_explain_diff_prune(tool: Calicotool, shop_rules: Path, tmp_path: Path) -> None:
    want = generated(tool, shop_rules)
    assert tool("policy", "diff", str(shop_rules), *PROD).exit_code == 1  # empty datastore: all new

    summary = tool.ok("policy", "apply", str(shop_rules), *PROD, "-o", "json").json()["summary"]
    assert summary["create"] == len(want)
    assert tool("policy", "diff", str(shop_rules), *PROD, "--prune").exit_code == 0

    # read back through `get -o json`: every generated object is there with the same spec and labels
    got: dict[tuple[str, str, str], dict[str, object]] = {}
    for plural in ("tiers", "globalnetworksets", "globalnetworkpolicies", "networkpolicies", "hostendpoints"):
        listing = tool.ok("get", plural, "-l", "calicotool.io/ruleset=shop", "-o", "json").json()
        for item in listing["items"] if listing["kind"] == "List" else [listing]:  # one object prints bare
            got[(item["kind"], item["metadata"].get("namespace", ""), item["metadata"]["name"])] = item
    assert sorted(got) == sorted(want)
    for key, doc in want.items():
        assert got[key]["spec"] == doc["spec"], key
        assert got[key]["metadata"]["labels"] == doc["metadata"]["labels"], key  # type: ignore[index]

    # explain from the datastore agrees with explain from the rule set, verdict and deciding rule alike
    for src, dst, port, verdict in FLOWS:
        code_ds, from_store = explain(tool, src, dst, port)
        code_rs, from_rules = explain(tool, src, dst, port, "--policies", str(shop_rules), "--env", "prod")
        assert from_store["verdict"] == verdict, (src, dst, port, from_store)
        assert (code_ds, code_rs) == ((0, 0) if verdict == "allow" else (1, 1))
        assert untiered(from_store) == untiered(from_rules), (src, dst, port)

    # a hand-made policy, then an edited rule set: drift, apply --prune, clean; the hand-made one survives
    (tmp_path / "hand.yaml").write_text(HAND_MADE)
    tool.ok("apply", "-f", str(tmp_path / "hand.yaml"))
    edit_rules(shop_rules / "ruleset.yaml")
    drift = tool("policy", "diff", str(shop_rules), *PROD, "--prune")
    assert drift.exit_code == 1 and "+      - 6432" in drift.stdout and "NetworkPolicy/shop/app.frontend" in drift.stdout
    summary = tool.ok("policy", "apply", str(shop_rules), *PROD, "--prune", "-o", "json").json()["summary"]
    assert (summary["create"], summary["update"], summary["delete"]) == (0, 1, 1)
    assert tool("policy", "diff", str(shop_rules), *PROD, "--prune").exit_code == 0
    hand = tool.ok("get", "globalnetworkpolicies", "hand-made-allow-ops", "-o", "json").json()
    assert hand["spec"]["selector"] == "team == 'ops'"
    assert "app.kubernetes.io/managed-by" not in (hand["metadata"].get("labels") or {})
    assert tool("get", "networkpolicies", "app.frontend", "-n", "shop").exit_code == 3
    assert tool.ok("get", "networkpolicies", "app.api", "-n", "shop", "-o", "json").json()["spec"]["egress"][0]["destination"][
        "ports"
    ] == [6432]

    # the edit is visible to explain from the datastore: api -> db on 5432 is now denied at the api's egress
    code, after = explain(tool, API, DB, "5432/TCP")
    assert code == 1 and after["source_egress"]["verdict"] == "deny"  # type: ignore[index]
    assert untiered(explain(tool, API, DB, "5432/TCP", "--policies", str(shop_rules), "--env", "prod")[1]) == untiered(after)


def test_policy_apply_default_calico_version_on_kube(kube_tool: Calicotool, shop_rules: Path) -> None:
    """Calico 3.32 names (no tier prefix, the generator's default) go through the Kubernetes backend."""
    kube_tool.ok("policy", "apply", str(shop_rules), "--env", "prod")
    assert kube_tool("policy", "diff", str(shop_rules), "--env", "prod", "--prune").exit_code == 0
    assert kube_tool("get", "networkpolicies", "api", "-n", "shop").exit_code == 0


@pytest.mark.etcd
def test_policy_apply_default_calico_version_on_etcd(etcd_tool: Calicotool, shop_rules: Path) -> None:
    etcd_tool.ok("policy", "apply", str(shop_rules), "--env", "prod")
    assert etcd_tool("policy", "diff", str(shop_rules), "--env", "prod", "--prune").exit_code == 0
