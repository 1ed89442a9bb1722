"""Generator: the shipped rule set compiles to the Calico objects it means (semantics, not byte snapshots)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from calicotool.errors import InputError, ValidationFailed
from calicotool.model.resource import MANAGED_BY_LABEL, Resource
from calicotool.model.validate import validate_resource
from calicotool.policy.generate import SYNC_WAVE_ANNOTATION, generate_resources, output_files, render_ruleset
from calicotool.policy.loader import load_ruleset

from .conftest import SHOP


def by_name(resources: list[Resource]) -> dict[tuple[str, str], Resource]:
    return {(r.kind, r.name): r for r in resources}


@pytest.fixture(scope="module")
def prod() -> list[Resource]:
    return generate_resources([SHOP], env="prod")


@pytest.mark.parametrize("env", [None, "dev", "staging", "prod"])
@pytest.mark.parametrize("version", ["3.30", "3.31", "3.32"])
def test_every_shipped_environment_validates(env: str | None, version: str) -> None:
    resources = generate_resources([SHOP], env=env, calico_version=version)
    assert resources
    for res in resources:
        assert validate_resource(res) == [], res.to_dict()
        assert res.labels[MANAGED_BY_LABEL] == "calicotool"
        assert res.labels["calicotool.io/ruleset"] == "shop"


def test_kinds_and_counts(prod: list[Resource]) -> None:
    kinds = sorted(r.kind for r in prod)
    assert kinds.count("Tier") == 2
    assert kinds.count("GlobalNetworkSet") == 3
    assert kinds.count("HostEndpoint") == 1
    # 4 app policies + baseline (namespaced) and backup-host (global) + 4 default-deny
    assert kinds.count("NetworkPolicy") == 7 and kinds.count("GlobalNetworkPolicy") == 2


def test_db_policy_semantics(prod: list[Resource]) -> None:
    db = by_name(prod)[("NetworkPolicy", "db")]
    assert db.namespace == "shop" and db.spec["tier"] == "app" and db.spec["selector"] == "app == 'postgres'"
    first, second = db.spec["ingress"][0], db.spec["ingress"][1]
    # one rule-set rule with two peers -> two consecutive Calico rules, same ports, order kept
    assert first["source"] == {"selector": "app == 'api'"}
    assert second["source"] == {"selector": "calicotool.io/group == 'backup-host'", "namespaceSelector": "global()"}
    for rule in (first, second):
        assert rule["action"] == "Allow" and rule["protocol"] == "TCP" and rule["destination"]["ports"] == [5432]
    dns = [r for r in db.spec["egress"] if r.get("destination", {}).get("ports") == [53]]
    assert sorted(r["protocol"] for r in dns) == ["TCP", "UDP"]
    assert all(r["destination"]["namespaceSelector"] == "projectcalico.org/name == 'kube-system'" for r in dns)


def test_security_tier_passes_to_app(prod: list[Resource]) -> None:
    tiers = {r.name: r for r in prod if r.kind == "Tier"}
    assert tiers["security"].spec["order"] < tiers["app"].spec["order"]
    assert tiers["security"].spec["defaultAction"] == "Pass"
    baseline = by_name(prod)[("NetworkPolicy", "baseline")]
    assert baseline.spec["tier"] == "security" and baseline.spec["selector"] == "all()"
    assert baseline.spec["ingress"][-1] == {"action": "Pass"}
    assert baseline.spec["ingress"][1]["destination"]["ports"] == ["metrics"]  # named port kept


def test_default_deny_comes_last_in_its_tier(prod: list[Resource]) -> None:
    deny = by_name(prod)[("NetworkPolicy", "default-deny-db")]
    app_orders = [r.spec["order"] for r in prod if r.kind.endswith("NetworkPolicy") and r.spec["tier"] == "app"
                  and not r.name.startswith("default-deny")]
    assert deny.spec["order"] > max(app_orders)
    assert deny.spec["ingress"] == [{"action": "Deny", "metadata": {"annotations": {
        "calicotool.io/description": "default deny"}}}]
    assert deny.spec["types"] == ["Ingress", "Egress"]


def test_host_endpoint_and_its_global_policy(prod: list[Resource]) -> None:
    hep = by_name(prod)[("HostEndpoint", "backup-host-backup-01-eth0")]
    assert hep.spec == {"node": "backup-01", "interfaceName": "eth0", "expectedIPs": ["10.20.0.15"]}
    assert hep.labels["role"] == "backup" and hep.labels["calicotool.io/group"] == "backup-host"
    gnp = by_name(prod)[("GlobalNetworkPolicy", "backup-host")]
    assert gnp.spec["selector"] == "calicotool.io/group == 'backup-host'"
    to_db = gnp.spec["egress"][0]["destination"]
    assert to_db["namespaceSelector"] == "projectcalico.org/name == 'shop'"  # global policy -> namespace explicit


def test_sync_waves_put_tiers_first_and_host_endpoints_last(prod: list[Resource]) -> None:
    waves = {r.kind: int(r.annotations[SYNC_WAVE_ANNOTATION]) for r in prod}
    assert waves["Tier"] < waves["GlobalNetworkSet"] < waves["NetworkPolicy"] < waves["HostEndpoint"]
    assert waves["NetworkPolicy"] == waves["GlobalNetworkPolicy"]


def test_output_files_are_ordered_and_deterministic(prod: list[Resource]) -> None:
    files = output_files(prod, "shop", "prod")
    again = output_files(generate_resources([SHOP], env="prod"), "shop", "prod")
    assert files == again
    names = [n for n in files if n != "kustomization.yaml"]
    assert names == sorted(names)
    kinds = [n.split("-")[1] for n in names]
    assert kinds[0] == "tier" and kinds[-1] == "hostendpoint"
    assert files["kustomization.yaml"].count("\n  - ") == len(names)
    assert "order: fifo" in files["kustomization.yaml"]
    assert all("creationTimestamp" not in text for text in files.values())


def test_names_before_and_after_332() -> None:
    old = {r.name for r in generate_resources([SHOP], calico_version="3.31") if r.kind.endswith("Policy")}
    new = {r.name for r in generate_resources([SHOP], calico_version="3.32") if r.kind.endswith("Policy")}
    assert "app.db" in old and "security.baseline" in old and "db" not in old
    assert "db" in new and "baseline" in new and not any("." in n for n in new)


def test_staged_policies() -> None:
    staged = generate_resources([SHOP], staged=True)
    kinds = {r.kind for r in staged}
    assert "StagedNetworkPolicy" in kinds and "StagedGlobalNetworkPolicy" in kinds
    assert "NetworkPolicy" not in kinds and "Tier" in kinds
    assert all(r.spec["stagedAction"] == "Set" for r in staged if r.kind.startswith("Staged"))


def test_tier_default_action_needs_330() -> None:
    with pytest.raises(InputError, match="needs Calico >= 3.30"):
        generate_resources([SHOP], calico_version="3.29")


def test_bad_version_string() -> None:
    with pytest.raises(InputError, match="MAJOR.MINOR"):
        generate_resources([SHOP], calico_version="latest")


def test_same_policy_name_in_two_tiers_collides_from_332(write_ruleset) -> None:
    root = write_ruleset("""
        tiers:
          - {name: a, order: 1}
          - {name: b, order: 2}
        groups:
          w: {selector: all()}
        policies:
          - {name: p, tier: a, appliesTo: w}
          - {name: p2, tier: b, appliesTo: w}
    """)
    rs = load_ruleset([root])
    rs.policies[1].name = "p"  # two tiers, one name: fine up to 3.31 (prefixed), a clash from 3.32
    assert len(render_ruleset(rs, "3.31")) == 4
    with pytest.raises(ValidationFailed, match="generate the same object"):
        render_ruleset(rs, "3.32")


def test_namespace_scoping_of_peers(write_ruleset) -> None:
    root = write_ruleset("""
        namespace: app
        groups:
          web: {selector: "role == 'web'"}
          other: {selector: "role == 'x'", namespace: other}
          everywhere: {selector: "role == 'scanner'", namespace: "*"}
          labelled: {selector: all(), namespaceSelector: "team == 'blue'"}
          local-set: {nets: [10.1.0.0/16], namespace: app}
        policies:
          - name: web
            appliesTo: web
            ingress:
              - from: [other, everywhere, labelled, local-set, 192.168.0.0/16]
                except: [192.168.1.0/24]
    """)
    res = generate_resources([root])
    np = next(r for r in res if r.kind == "NetworkPolicy")
    sources = [r["source"] for r in np.spec["ingress"]]
    assert sources == [
        {"selector": "role == 'x'", "namespaceSelector": "projectcalico.org/name == 'other'",
         "notNets": ["192.168.1.0/24"]},
        {"selector": "role == 'scanner'", "namespaceSelector": "all()", "notNets": ["192.168.1.0/24"]},
        {"selector": "all()", "namespaceSelector": "team == 'blue'", "notNets": ["192.168.1.0/24"]},
        {"selector": "calicotool.io/group == 'local-set'", "notNets": ["192.168.1.0/24"]},
        {"nets": ["192.168.0.0/16"], "notNets": ["192.168.1.0/24"]},
    ]
    assert any(r.kind == "NetworkSet" and r.namespace == "app" for r in res)


def test_group_with_namespace_selector_gets_global_policy(write_ruleset) -> None:
    root = write_ruleset("""
        groups:
          blue: {selector: "app == 'x'", namespaceSelector: "team == 'blue'"}
        policies:
          - {name: blue, appliesTo: blue, egress: [{action: Deny, to: 0.0.0.0/0}]}
    """)
    (gnp,) = generate_resources([root])
    assert gnp.kind == "GlobalNetworkPolicy" and gnp.spec["namespaceSelector"] == "team == 'blue'"
    assert gnp.spec["types"] == ["Egress"]


def test_icmp_rule(write_ruleset) -> None:
    root = write_ruleset("""
        groups:
          w: {selector: all()}
        policies:
          - name: ping
            appliesTo: w
            ingress: [{protocol: ICMP, icmp: {type: 8, code: 0}}]
    """)
    (np,) = generate_resources([root])
    assert np.spec["ingress"] == [{"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8, "code": 0}}]


def test_port_range_syntaxes(write_ruleset) -> None:
    root = write_ruleset("""
        groups:
          w: {selector: all()}
        policies:
          - name: p
            appliesTo: w
            ingress: [{protocol: udp, ports: [53, "8000-8080", "9000:9001", "7:7", dns]}]
    """)
    (np,) = generate_resources([root])
    rule = np.spec["ingress"][0]
    assert rule["protocol"] == "UDP" and rule["destination"]["ports"] == [53, "8000:8080", "9000:9001", 7, "dns"]


def test_generated_objects_are_checked(write_ruleset, monkeypatch) -> None:
    root = write_ruleset("groups:\n  w: {selector: all()}\npolicies:\n  - {name: p, appliesTo: w}\n")
    rs = load_ruleset([root])
    rs.policies[0].ingress.append(rs.policies[0].ingress[0] if rs.policies[0].ingress else _bad_rule())
    with pytest.raises(ValidationFailed) as info:
        render_ruleset(rs)
    assert any("ports need protocol" in e.message for e in info.value.errors)
    assert all(e.location and e.location.file and e.location.file.endswith("ruleset.yaml") for e in info.value.errors)


def _bad_rule():
    from calicotool.policy.spec import Rule

    return Rule(action="Allow", ports=(80,))  # bypasses the loader: the output check must still catch it


def test_generate_resources_accepts_files(tmp_path: Path) -> None:
    res = generate_resources([SHOP / "ruleset.yaml"])
    assert any(r.kind == "HostEndpoint" for r in res)


def test_schema_is_valid_and_shipped_files_pass_it_standalone() -> None:
    import jsonschema

    from calicotool.policy.loader import ruleset_schema

    schema = ruleset_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = [SHOP / "ruleset.yaml", *sorted((SHOP / "env").glob("*.yaml"))]
    assert len(files) == 4
    for path in files:
        doc = yaml.safe_load(path.read_text())
        assert list(validator.iter_errors(doc)) == [], path
        assert "$schema=" in path.read_text().splitlines()[0]  # editors pick the schema up from the modeline
