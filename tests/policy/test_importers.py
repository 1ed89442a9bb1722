"""Importers: sample AWS / GCP / Kubernetes exports -> rule set -> generate -> schema-valid objects that allow
exactly the flows the source allowed (checked with the evaluator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from calicotool.errors import InputError
from calicotool.evaluate.evaluator import Flow, PolicySet, Verdict
from calicotool.model.validate import validate_resource
from calicotool.policy.endpoint import Endpoint, EndpointKind
from calicotool.policy.generate import generate_resources
from calicotool.policy.importers import import_file
from calicotool.policy.importers.k8s import label_selector

from .conftest import FIXTURES

IMPORT = FIXTURES / "import"
TCP, UDP, ICMP = 6, 17, 1


def round_trip(tmp_path: Path, source: str, name: str) -> tuple[PolicySet, dict, list[str]]:
    result = import_file(source, IMPORT / name, namespace="prod")
    out = tmp_path / f"{source}.yaml"
    out.write_text(yaml.safe_dump(result.document, sort_keys=False))
    resources = generate_resources([out])
    for res in resources:
        assert validate_resource(res) == [], res.to_dict()
    return PolicySet(resources), result.document, result.notes


def pod(name: str, labels: dict[str, str], ns: str = "prod", ip: str = "10.244.0.1") -> Endpoint:
    return Endpoint(EndpointKind.POD, name, ips=(ip,), namespace=ns, labels=labels,
                    namespace_labels={"projectcalico.org/name": ns, "kubernetes.io/metadata.name": ns})


def ip(addr: str) -> Endpoint:
    return Endpoint(EndpointKind.IP, addr, ips=(addr,))


def verdict(ps: PolicySet, src: Endpoint, dst: Endpoint, port: int | None, proto: int = TCP, **kw) -> Verdict:
    return ps.evaluate(Flow(src, dst, protocol=proto, port=port, **kw)).verdict


# -- AWS ----------------------------------------------------------------------------------------------------------
SG = "security-groups.aws/"
WEB = {SG + "sg-0a1b2c3d4e5f60001": "member"}
APP = {SG + "sg-0a1b2c3d4e5f60002": "member"}
DB = {SG + "sg-0a1b2c3d4e5f60003": "member"}


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    return round_trip(tmp_path_factory.mktemp("aws"), "aws", "aws-security-groups.json")


def test_aws_groups_and_notes(aws) -> None:
    _, doc, notes = aws
    assert doc["groups"]["web"]["selector"] == "has(security-groups.aws/sg-0a1b2c3d4e5f60001)"
    assert doc["groups"]["anywhere-ipv4"]["nets"] == ["0.0.0.0/0"]
    assert doc["groups"]["net-10-0-0-0-16"]["nets"] == ["10.0.0.0/16"]
    assert set(doc["groups"]["db"]["defaultDeny"]) == {"ingress", "egress"}
    assert any("pl-63a5400a" in n for n in notes)
    assert any("sg-0ffffffffffff0009" in n and "another account" in n for n in notes)


@pytest.mark.parametrize("src,dst,port,proto,expected", [
    ("internet", "web", 443, TCP, Verdict.ALLOW),
    ("internet", "web", 80, TCP, Verdict.DENY),
    ("internet", "web", 22, TCP, Verdict.DENY),
    ("bastion", "web", 22, TCP, Verdict.ALLOW),
    ("web", "app", 8085, TCP, Verdict.ALLOW),
    ("web", "app", 8091, TCP, Verdict.DENY),
    ("web", "db", 5432, TCP, Verdict.DENY),  # web egress allows all, but db only admits app
    ("app", "db", 5432, TCP, Verdict.ALLOW),
    ("app", "db", 5433, TCP, Verdict.DENY),
    ("app", "internet", 443, TCP, Verdict.DENY),  # prefix list could not be expressed: stays closed
    ("db", "app", 8080, TCP, Verdict.DENY),  # db has no egress rules at all
])
def test_aws_flows_match_the_security_groups(aws, src, dst, port, proto, expected) -> None:
    ps = aws[0]
    eps = {"internet": ip("198.51.100.9"), "bastion": ip("10.0.3.4"), "web": pod("web", WEB, ip="10.244.0.1"),
           "app": pod("app", APP, ip="10.244.0.2"), "db": pod("db", DB, ip="10.244.0.3")}
    assert verdict(ps, eps[src], eps[dst], port, proto) == expected


def test_aws_icmp_echo(aws) -> None:
    ps = aws[0]
    app = pod("app", APP, ip="10.244.0.2")
    assert verdict(ps, ip("10.0.9.9"), app, None, ICMP, icmp_type=8) == Verdict.ALLOW
    assert verdict(ps, ip("10.0.9.9"), app, None, ICMP, icmp_type=13) == Verdict.DENY


def test_aws_pod_in_two_groups_gets_the_union(aws) -> None:
    both = pod("both", {**WEB, **APP}, ip="10.244.0.7")
    ps = aws[0]
    assert verdict(ps, ip("198.51.100.9"), both, 443) == Verdict.ALLOW  # from web's rules
    assert verdict(ps, pod("web2", WEB, ip="10.244.0.8"), both, 8080) == Verdict.ALLOW  # from app's rules


# -- GCP ----------------------------------------------------------------------------------------------------------
def tags(*names: str) -> dict[str, str]:
    return {f"network-tags.gcp/{n}": "" for n in names}


@pytest.fixture(scope="module")
def gcp(tmp_path_factory):
    return round_trip(tmp_path_factory.mktemp("gcp"), "gcp", "gcp-firewall-rules.json")


def test_gcp_notes(gcp) -> None:
    _, doc, notes = gcp
    assert any("allow-everything-temporarily: disabled" in n for n in notes)
    assert any("logging" in n for n in notes)
    assert "allow-everything-temporarily" not in {p["name"] for p in doc["policies"]}


@pytest.mark.parametrize("src,dst,port,expected", [
    ("internet", "web", 443, Verdict.ALLOW),
    ("internet", "web", 8080, Verdict.DENY),
    ("web", "app", 8080, Verdict.ALLOW),
    ("internet", "app", 8080, Verdict.DENY),
    ("app", "db", 5432, Verdict.ALLOW),
    ("web", "db", 5432, Verdict.DENY),  # deny at priority 900 beats the allow at 1000
    ("internal", "plain", 22, Verdict.ALLOW),  # rule without target tags: whole network
    ("internal", "db", 22, Verdict.ALLOW),
    ("internet", "plain", 22, Verdict.DENY),  # implied deny ingress
    ("app", "badnet", 443, Verdict.DENY),  # egress deny, priority 100
    ("app", "internet", 443, Verdict.ALLOW),  # implied allow egress
])
def test_gcp_flows_match_the_firewall(gcp, src, dst, port, expected) -> None:
    net = {"gcp-network": "prod-vpc"}
    eps = {"internet": ip("198.51.100.9"), "internal": ip("10.200.0.5"), "badnet": ip("192.0.2.10"),
           "web": pod("web", {**net, **tags("web")}, ip="10.244.0.1"),
           "app": pod("app", {**net, **tags("app")}, ip="10.244.0.2"),
           "db": pod("db", {**net, **tags("db")}, ip="10.244.0.3"),
           "plain": pod("plain", net, ip="10.244.0.4")}
    assert verdict(gcp[0], eps[src], eps[dst], port) == expected


# -- Kubernetes ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def k8s(tmp_path_factory):
    return round_trip(tmp_path_factory.mktemp("k8s"), "k8s", "k8s-network-policies.yaml")


def test_k8s_flows(k8s) -> None:
    ps, doc, notes = k8s
    assert any("ConfigMap" in n for n in notes)
    db, api = pod("db", {"app": "db"}, "shop", "10.244.1.1"), pod("api", {"app": "api"}, "shop", "10.244.1.2")
    web = pod("web", {"app": "web"}, "shop", "10.244.1.3")
    dumper = pod("dumper", {"role": "dumper"}, "backup", "10.244.1.4")
    dns = pod("dns", {"k8s-app": "kube-dns"}, "kube-system", "10.244.1.5")
    assert verdict(ps, api, db, 5432) == Verdict.DENY  # api's egress is isolated by default-deny-egress
    assert verdict(ps, dumper, db, 5432) == Verdict.ALLOW
    assert verdict(ps, pod("other", {"role": "other"}, "backup", "10.244.1.6"), db, 5432) == Verdict.DENY
    assert verdict(ps, db, dns, 53, UDP) == Verdict.ALLOW and verdict(ps, db, dns, 53, TCP) == Verdict.ALLOW
    assert verdict(ps, db, web, 80) == Verdict.DENY
    assert verdict(ps, ip("10.1.2.3"), api, 8050) == Verdict.ALLOW
    assert verdict(ps, ip("10.99.2.3"), api, 8050) == Verdict.DENY  # ipBlock except
    assert verdict(ps, ip("10.1.2.3"), api, 9000) == Verdict.DENY
    assert verdict(ps, ip("10.1.2.3"), web, 9000) == Verdict.ALLOW  # web has no ingress isolation


@pytest.mark.parametrize("sel,expected", [
    ({}, "all()"),
    (None, "all()"),
    ({"matchLabels": {"app": "web", "tier": "fe"}}, "app == 'web' && tier == 'fe'"),
    ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev", "qa"]}]}, "env not in {'dev', 'qa'}"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "DoesNotExist"}]},
     "has(a) && !has(b)"),
])
def test_label_selector_conversion(sel, expected) -> None:
    assert label_selector(sel, "x") == expected


@pytest.mark.parametrize("source,text,message", [
    ("aws", "{\"Groups\": []}", "describe-security-groups"),
    ("aws", "{not json", "malformed JSON"),
    ("gcp", "{}", "firewall-rules list"),
    ("k8s", "a: [1", "malformed YAML"),
    ("k8s", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec:\n  podSelector:\n"
            "    matchExpressions: [{key: a, operator: Near}]\n", "unknown matchExpressions operator"),
])
def test_bad_exports(tmp_path, source, text, message) -> None:
    path = tmp_path / "export"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        import_file(source, path)
    assert info.value.location is not None and info.value.location.file == str(path)


def test_gcp_tag_groups_are_scoped_to_their_network(gcp) -> None:
    groups = gcp[1]["groups"]
    assert groups["tag-web"]["selector"] == "gcp-network == 'prod-vpc' && has(network-tags.gcp/web)"
    assert groups["sa-prometheus"]["selector"].startswith("gcp-network == 'prod-vpc' && ")


def test_gcp_a_tag_in_two_networks_gets_a_group_per_network() -> None:
    from calicotool.policy.importers.gcp import import_gcp

    def rule(name: str, net: str) -> dict:
        return {"name": name, "network": f"projects/p/global/networks/{net}", "direction": "INGRESS",
                "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}], "sourceRanges": ["0.0.0.0/0"],
                "targetTags": ["web"]}

    groups = import_gcp([rule("a", "vpc-a"), rule("b", "vpc-b")]).document["groups"]
    assert groups["tag-web-vpc-a"]["selector"] == "gcp-network == 'vpc-a' && has(network-tags.gcp/web)"
    assert groups["tag-web-vpc-b"]["selector"] == "gcp-network == 'vpc-b' && has(network-tags.gcp/web)"


def test_gcp_import_then_explain_and_matrix_on_the_group(cli, tmp_path: Path) -> None:
    """The tag group's own endpoint (what `explain --src tag-web` evaluates) sits in its VPC, so network-wide
    rules reach it: deny-smtp-out (egress, no targets) and allow-internal-ssh (ingress, no targets)."""
    imported = cli("policy", "import", "gcp", str(IMPORT / "gcp-firewall-rules.json"), "-n", "prod")
    assert imported.exit_code == 0, imported.stderr
    rules = tmp_path / "gcp.yaml"
    rules.write_text(imported.stdout)
    smtp = cli("policy", "explain", "--src", "tag-web", "--dst", "ip:198.51.100.7", "--port", "25/TCP",
               "-p", str(rules), "-o", "json")
    assert smtp.exit_code == 1, smtp.stdout + smtp.stderr
    assert "deny-smtp-out" in json.loads(smtp.stdout)["source_egress"]["policy"]
    https = cli("policy", "explain", "--src", "tag-web", "--dst", "ip:198.51.100.7", "--port", "443/TCP",
                "-p", str(rules))
    assert https.exit_code == 0, https.stdout + https.stderr
    matrix = cli("policy", "matrix", "-p", str(rules), "--port", "25/TCP", "--port", "22/TCP", "-o", "json")
    assert matrix.exit_code == 0, matrix.stderr
    grid = json.loads(matrix.stdout)["ports"]
    assert grid["25/TCP"]["tag-web"]["anywhere-ipv4"] == "deny"
    assert grid["22/TCP"]["net-10-128-0-0-9"]["tag-web"] == "allow"  # the untargeted allow reaches tagged ones
