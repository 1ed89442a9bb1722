"""End-to-end `calicotool policy explain` / `policy matrix`: manifests, a datastore, and the shipped rule set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliRunner

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "policies" / "shop"

MANIFESTS = """\
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.guard-db}
spec:
  tier: security
  order: 10
  selector: app == 'db'
  ingress:
  - action: Deny
    source: {selector: role == 'blocked'}
  - action: Pass
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  selector: app == 'db'
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: app == 'web'}
    destination: {ports: [5432]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: bad-actors, labels: {role: blocked}}
spec: {nets: [192.0.2.0/24]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0, labels: {role: node}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [10.10.0.1]}
"""


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    path = tmp_path / "manifests"
    path.mkdir()
    (path / "all.yaml").write_text(MANIFESTS)
    return path


def test_explain_allowed_exits_0_and_names_the_rule(cli: CliRunner, manifests: Path) -> None:
    r = cli("policy", "explain", "--src", "pod:prod/web:app=web", "--dst", "pod:prod/db:app=db",
            "--port", "5432/TCP", "--manifests", str(manifests))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("ALLOW")
    assert "prod/db ingress rule 0 (Allow) in tier 'default'" in r.stdout
    assert "security.guard-db" in r.stdout  # the Pass in the security tier is part of the trace


def test_explain_denied_exits_1_with_json_trace(cli: CliRunner, manifests: Path) -> None:
    r = cli("policy", "explain", "--src", "pod:prod/web:app=web", "--dst", "pod:prod/db:app=db",
            "--port", "5433/TCP", "-m", str(manifests), "-o", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["verdict"] == "deny"
    ingress = data["destination_ingress"]
    assert ingress["decided_by"] == "tier-default-action"
    assert [t["tier"] for t in ingress["tiers"]] == ["security", "default"]
    assert data["source_egress"]["decided_by"] == "profile"


def test_explain_network_set_member_denied_by_security_tier(cli: CliRunner, manifests: Path) -> None:
    r = cli("policy", "explain", "--src", "ip:192.0.2.9", "--dst", "pod:prod/db:app=db", "--port", "5432",
            "-m", str(manifests), "-o", "yaml")
    assert r.exit_code == 1
    assert "policy: security.guard-db" in r.stdout
    assert "rule_index: 0" in r.stdout


def test_explain_host_endpoint_failsafe_and_default_deny(cli: CliRunner, manifests: Path) -> None:
    ok = cli("policy", "explain", "--src", "ip:8.8.8.8", "--dst", "host:node1-eth0", "--port", "22/TCP",
             "-m", str(manifests))
    assert ok.exit_code == 0 and "failsafe" in ok.stdout
    denied = cli("policy", "explain", "--src", "ip:8.8.8.8", "--dst", "host:node1-eth0", "--port", "8080/TCP",
                 "-m", str(manifests))
    assert denied.exit_code == 1 and "default deny" in denied.stdout


def test_explain_reads_the_datastore(cli: CliRunner, manifests: Path) -> None:
    applied = cli("apply", "-f", str(manifests / "all.yaml"))
    assert applied.exit_code == 0, applied.stderr
    r = cli("policy", "explain", "--src", "networkset:bad-actors", "--dst", "pod:prod/db:app=db",
            "--port", "5432/TCP", "-o", "json")
    assert r.exit_code == 1, r.stderr
    assert json.loads(r.stdout)["destination_ingress"]["policy"] == "security.guard-db"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--src", "pod:prod/web", "--dst", "ip:10.0.0.1", "--port", "443/TCPX"], "unknown protocol"),
        (["--src", "pod:prod/web", "--dst", "ip:10.0.0.1", "--port", "70000/TCP"], "out of range"),
        (["--src", "pod:prod", "--dst", "ip:10.0.0.1"], "expected pod:NAMESPACE/NAME"),
        (["--src", "pod:prod/web", "--dst", "ip:10.0.0.300"], "invalid IP"),
        (["--src", "pod:prod/web", "--dst", "host:nope"], "no HostEndpoint named 'nope'"),
        (["--src", "web", "--dst", "ip:10.0.0.1"], "group names need --policies"),
        (["--src", "networkset:prod/none", "--dst", "ip:10.0.0.1"], "no NetworkSet prod/none"),
    ],
)
def test_explain_bad_input_exits_2(cli: CliRunner, manifests: Path, args: list[str], message: str) -> None:
    r = cli("policy", "explain", *args, "-m", str(manifests))
    assert r.exit_code == 2
    assert message in r.stderr
    assert r.stdout == ""


def test_explain_rejects_policies_and_manifests_together(cli: CliRunner, manifests: Path) -> None:
    r = cli("policy", "explain", "--src", "ip:1.1.1.1", "--dst", "ip:2.2.2.2", "-m", str(manifests),
            "-p", str(SHOP))
    assert r.exit_code == 2 and "not both" in r.stderr


def test_explain_invalid_policy_in_manifests_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: bad}\n"
        "spec:\n  selector: app == \n  ingress: [{action: Allow}]\n"
    )
    r = cli("policy", "explain", "--src", "ip:1.1.1.1", "--dst", "ip:2.2.2.2", "-m", str(tmp_path / "bad.yaml"))
    assert r.exit_code == 2
    assert "bad" in r.stderr


@pytest.mark.skipif(not SHOP.exists(), reason="shipped example rule set not present")
def test_explain_with_rule_set_groups(cli: CliRunner) -> None:
    ok = cli("policy", "explain", "--src", "api", "--dst", "db", "--port", "5432/TCP", "-p", str(SHOP), "-o", "json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["destination_ingress"]["tier"] == "app"
    denied = cli("policy", "explain", "--src", "frontend", "--dst", "db", "--port", "5432/TCP", "-p", str(SHOP))
    assert denied.exit_code == 1


@pytest.mark.skipif(not SHOP.exists(), reason="shipped example rule set not present")
def test_matrix_from_rule_set(cli: CliRunner) -> None:
    r = cli("policy", "matrix", "-p", str(SHOP), "--port", "5432/TCP", "-o", "json")
    assert r.exit_code == 0, r.stderr
    grid = json.loads(r.stdout)["ports"]["5432/TCP"]
    assert grid["api"]["db"] == "allow"
    assert grid["frontend"]["db"] == "deny"


def test_matrix_from_manifests_with_extra_endpoints(cli: CliRunner, manifests: Path) -> None:
    r = cli("policy", "matrix", "-m", str(manifests), "--endpoint", "pod:prod/web:app=web", "--endpoint", "pod:prod/db:app=db",
            "--port", "5432/TCP", "--port", "22/TCP", "-o", "json")
    assert r.exit_code == 0, r.stderr
    ports = json.loads(r.stdout)["ports"]
    assert ports["5432/TCP"]["web"]["db"] == "allow"
    assert ports["5432/TCP"]["db"]["web"] == "allow"  # no policy selects web: namespace profile
    assert ports["5432/TCP"]["bad-actors"]["db"] == "deny"
    assert ports["22/TCP"]["web"]["host:node1-eth0"] == "allow"  # failsafe
    assert ports["22/TCP"]["host:node1-eth0"]["web"] == "deny"  # host egress: default deny
    table = cli("policy", "matrix", "-m", str(manifests), "--endpoint", "pod:prod/web:app=web", "--port", "5432/TCP")
    assert table.exit_code == 0 and "FROM" in table.stdout


@pytest.mark.skipif(not SHOP.exists(), reason="shipped example rule set not present")
def test_explain_staged_rule_set_reports_but_does_not_enforce(cli: CliRunner) -> None:
    enforced = cli("policy", "explain", "--src", "frontend", "--dst", "db", "--port", "5432/TCP", "-p", str(SHOP),
                   "--env", "prod", "-o", "json")
    assert enforced.exit_code == 1, enforced.stderr
    staged = cli("policy", "explain", "--src", "frontend", "--dst", "db", "--port", "5432/TCP", "-p", str(SHOP),
                 "--env", "prod", "--staged", "-o", "json")
    assert staged.exit_code == 0, staged.stderr
    ingress = json.loads(staged.stdout)["destination_ingress"]
    assert ingress["decided_by"] == "profile" and ingress["tiers"] == []
    assert any(p["action"] == "Deny" for p in ingress["staged"])


@pytest.mark.skipif(not SHOP.exists(), reason="shipped example rule set not present")
def test_matrix_short_e_is_env_as_in_generate(cli: CliRunner) -> None:
    short = cli("policy", "matrix", "-p", str(SHOP), "-e", "prod", "--port", "5432/TCP", "-o", "json")
    long = cli("policy", "matrix", "-p", str(SHOP), "--env", "prod", "--port", "5432/TCP", "-o", "json")
    assert short.exit_code == 0 and short.stdout == long.stdout
    endpoint = cli("policy", "matrix", "-p", str(SHOP), "-e", "pod:prod/web:app=web")
    assert endpoint.exit_code == 2  # -e takes an environment name, not an endpoint SPEC


def test_matrix_every_port_of_chosen_protocols(cli: CliRunner, manifests: Path) -> None:
    r = cli("policy", "matrix", "-m", str(manifests), "--endpoint", "pod:prod/web:app=web@10.1.0.1",
            "--endpoint", "pod:prod/db:app=db@10.1.0.2", "--protocol", "TCP,SCTP", "-o", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["protocols"] == ["TCP", "SCTP"]
    assert out["allowed"]["web"]["db"] == {"TCP": "5432"}
    assert out["allowed"]["web"]["host:node1-eth0"]["TCP"] == "22,179,2379-2380,5473,6443,6666-6667"
    bad = cli("policy", "matrix", "-m", str(manifests), "--protocol", "TPC")
    assert bad.exit_code == 2 and "--protocol 'TPC'" in bad.stderr
    both = cli("policy", "matrix", "-m", str(manifests), "--protocol", "UDP", "--port", "53")
    assert both.exit_code == 2 and "name the protocol there" in both.stderr
