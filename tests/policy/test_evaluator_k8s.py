"""Kubernetes NetworkPolicies in the evaluator: the conversion to Calico's `knp.default.<name>` policy (checked
against libcalico-go's K8sNetworkPolicyToCalico rules), and `policy explain` over manifests and a directory store.
Flow-level semantics are the data-driven cases in eval_cases/k8s.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from calicotool.errors import InputError
from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.k8s import default_policy_types, label_selector_to_calico, to_calico
from calicotool.model.resource import Resource
from calicotool.model.validate import validate_resource
from tests.conftest import CliRunner

ORCH = "projectcalico.org/orchestrator == 'k8s'"


def _knp(spec: dict[str, Any], name: str = "np", ns: str | None = "prod") -> Resource:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return Resource.from_dict({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
                               "spec": spec})


def test_name_namespace_tier_order_and_validity() -> None:
    out = to_calico(_knp({"podSelector": {}}, name="deny-all"))
    assert (out.api_version, out.kind, out.name, out.namespace) == (
        "projectcalico.org/v3", "NetworkPolicy", "knp.default.deny-all", "prod")
    assert out.spec == {"tier": "default", "order": 1000.0, "selector": ORCH, "types": ["Ingress"]}
    assert validate_resource(out) == []


def test_missing_namespace_is_default() -> None:
    assert to_calico(_knp({"podSelector": {}}, ns=None)).namespace == "default"


def test_pod_selector_terms_in_calico_order() -> None:
    sel = {"matchLabels": {"z": "1", "a": "2"},
           "matchExpressions": [{"key": "k", "operator": "In", "values": ["x", "y"]},
                                {"key": "n", "operator": "NotIn", "values": ["v"]},
                                {"key": "e", "operator": "Exists"}, {"key": "d", "operator": "DoesNotExist"}]}
    assert label_selector_to_calico(sel, "x", pod=True) == (
        f"{ORCH} && a == '2' && z == '1' && k in {{ 'x', 'y' }} && n not in {{ 'v' }} && has(e) && ! has(d)")


@pytest.mark.parametrize(
    ("sel", "want"),
    [(None, ""), ({}, "all()"), ({"matchLabels": {"team": "ops"}}, "team == 'ops'")],
)
def test_namespace_selector_forms(sel: dict[str, Any] | None, want: str) -> None:
    assert label_selector_to_calico(sel, "x", pod=False) == want


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ({}, ["Ingress"]),
        ({"egress": [{}]}, ["Ingress", "Egress"]),
        ({"policyTypes": ["Egress"], "ingress": [{}]}, ["Egress"]),
        ({"policyTypes": ["Ingress", "Egress"]}, ["Ingress", "Egress"]),
    ],
)
def test_policy_types_defaulting(spec: dict[str, Any], want: list[str]) -> None:
    assert default_policy_types(spec) == want
    assert to_calico(_knp({"podSelector": {}, **spec})).spec["types"] == want


def test_rules_one_per_protocol_then_peer() -> None:
    out = to_calico(_knp({
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [{
            "from": [{"podSelector": {"matchLabels": {"app": "web"}}},
                     {"namespaceSelector": {"matchLabels": {"team": "ops"}}},
                     {"ipBlock": {"cidr": "10.0.0.5/8", "except": ["10.1.0.0/16"]}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"port": 5432}, {"port": "8080"}, {"port": 30000, "endPort": 30010},
                      {"port": "metrics"}],
        }],
    }))
    rules = out.spec["ingress"]
    assert len(rules) == 6  # 2 protocols x 3 peers
    tcp_ports = [5432, 8080, "30000:30010", "metrics"]
    assert rules[0] == {"action": "Allow", "protocol": "TCP",
                        "source": {"selector": f"{ORCH} && app == 'web'"}, "destination": {"ports": tcp_ports}}
    assert rules[1]["source"] == {"selector": ORCH, "namespaceSelector": "team == 'ops'"}
    assert rules[2]["source"] == {"nets": ["10.0.0.0/8"], "notNets": ["10.1.0.0/16"]}
    assert [r["protocol"] for r in rules] == ["TCP"] * 3 + ["UDP"] * 3
    assert rules[3]["destination"] == {"ports": [53]}
    assert validate_resource(out) == []


def test_a_protocol_without_port_wins_over_its_ports() -> None:
    out = to_calico(_knp({"podSelector": {}, "ingress": [{"ports": [{"port": 80}, {"protocol": "TCP"}, {"port": 81}]}]}))
    assert out.spec["ingress"] == [{"action": "Allow", "protocol": "TCP"}]


def test_empty_port_entry_is_tcp_all_ports_and_no_ports_is_any_protocol() -> None:
    assert to_calico(_knp({"podSelector": {}, "ingress": [{"ports": [{}]}]})).spec["ingress"] == [
        {"action": "Allow", "protocol": "TCP"}]
    assert to_calico(_knp({"podSelector": {}, "ingress": [{}]})).spec["ingress"] == [{"action": "Allow"}]


def test_egress_peers_go_to_the_destination() -> None:
    out = to_calico(_knp({"podSelector": {}, "policyTypes": ["Egress"],
                          "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 53, "protocol": "UDP"}]}]}))
    assert out.spec["egress"] == [{"action": "Allow", "protocol": "UDP",
                                   "destination": {"ports": [53], "nets": ["0.0.0.0/0"]}}]
    assert "ingress" not in out.spec and out.spec["types"] == ["Egress"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.300/8"}}]}]},
         "spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR"),
        ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}, "unknown operator 'Near'"),
        ({"podSelector": {}, "ingress": [{"ports": [{"port": "http", "endPort": 90}]}]}, "needs a numeric port"),
        ({"podSelector": {}, "ingress": [{"ports": [{"port": 100, "endPort": 90}]}]}, "not below port 100"),
        ({"podSelector": {}, "policyTypes": ["Sideways"]}, "unknown type(s) 'Sideways'"),
    ],
)
def test_bad_policies_are_located_input_errors(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as exc:
        PolicySet([_knp(spec)])
    assert message in exc.value.message and "Kubernetes NetworkPolicy prod/np" in exc.value.message


def test_no_warning_for_kubernetes_network_policies() -> None:
    ps = PolicySet([_knp({"podSelector": {}})])
    assert ps.warnings == [] and [p.qualified_name for p in ps.policies] == ["prod/knp.default.np"]


KNP_MANIFEST = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.guard}
spec:
  tier: security
  selector: app == 'db'
  ingress:
  - action: Deny
    source: {selector: app == 'blocked'}
  - action: Pass
"""


@pytest.fixture
def knp_dir(tmp_path: Path) -> Path:
    path = tmp_path / "manifests"
    path.mkdir()
    (path / "all.yaml").write_text(KNP_MANIFEST)
    return path


def test_explain_manifests_shows_the_knp_rule(cli: CliRunner, knp_dir: Path) -> None:
    r = cli("policy", "explain", "-m", str(knp_dir), "--src", "pod:prod/web:app=web", "--dst", "pod:prod/db:app=db",
            "--port", "5432/TCP", "-o", "json")
    assert r.exit_code == 0, r.stderr
    ingress = json.loads(r.stdout)["destination_ingress"]
    assert (ingress["tier"], ingress["policy"], ingress["rule_index"]) == ("default", "prod/knp.default.db", 0)
    assert [t["outcome"] for t in ingress["tiers"]] == ["pass", "allow"]
    assert "not evaluated" not in r.stderr


def test_explain_manifests_table_names_the_knp(cli: CliRunner, knp_dir: Path) -> None:
    r = cli("policy", "explain", "-m", str(knp_dir), "--src", "pod:prod/web:app=web", "--dst", "pod:prod/db:app=db",
            "--port", "80/TCP")
    assert r.exit_code == 1, r.stderr
    assert "prod/knp.default.db" in r.stdout and "default action Deny" in r.stdout


def test_explain_reads_knps_from_a_directory_store(cli: CliRunner, knp_dir: Path) -> None:
    applied = cli("apply", "-f", str(knp_dir / "all.yaml"))
    assert applied.exit_code == 0, applied.stderr
    listed = cli("get", "KubernetesNetworkPolicy", "-n", "prod", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert [i["metadata"]["name"] for i in json.loads(listed.stdout)["items"]] == ["db"]
    r = cli("policy", "explain", "--src", "pod:prod/x:app=blocked", "--dst", "pod:prod/db:app=db", "--port",
            "5432/TCP", "-o", "json")
    assert r.exit_code == 1, r.stderr
    assert json.loads(r.stdout)["destination_ingress"]["policy"] == "security.guard"
    r = cli("policy", "explain", "--src", "pod:prod/web:app=web", "--dst", "pod:prod/db:app=db", "--port",
            "5432/TCP", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["destination_ingress"]["policy"] == "prod/knp.default.db"


def test_a_policy_without_pod_selector_is_reported_not_guessed() -> None:
    ps = PolicySet([_knp({"ingress": [{}]})])
    assert ps.policies == []
    assert any("NetworkPolicy np: not evaluated (no spec.podSelector" in w for w in ps.warnings)


def test_matrix_from_manifests_applies_the_knp(cli: CliRunner, knp_dir: Path) -> None:
    r = cli("policy", "matrix", "-m", str(knp_dir), "--endpoint", "pod:prod/web:app=web@10.0.0.1", "--endpoint",
            "pod:prod/db:app=db@10.0.0.2", "--endpoint", "pod:prod/other:app=other@10.0.0.3", "--port", "5432/TCP", "-o", "json")
    assert r.exit_code in (0, 1), r.stderr
    grid = json.loads(r.stdout)["ports"]["5432/TCP"]
    assert (grid["web"]["db"], grid["other"]["db"], grid["db"]["web"], grid["other"]["web"]) == (
        "allow", "deny", "allow", "allow")
