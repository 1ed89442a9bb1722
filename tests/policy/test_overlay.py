"""Environment overlays: Helm-values-style layering, deletion, extends chains, cycles."""

from __future__ import annotations

import pytest

from calicotool.errors import InputError, ValidationFailed
from calicotool.policy.generate import generate_resources
from calicotool.policy.loader import load_ruleset

from .conftest import SHOP

BASE = """\
namespace: app
groups:
  web: {selector: "app == 'web'", defaultDeny: true}
  office: {nets: [203.0.113.0/24]}
policies:
  - name: web
    order: 10
    appliesTo: web
    ingress:
      - {from: office, protocol: TCP, ports: [443]}
"""


def test_shipped_overlays_differ_as_documented() -> None:
    dev, staging, prod = (load_ruleset([SHOP], env) for env in ("dev", "staging", "prod"))
    assert dev.namespace == "shop-dev" and "backup-host" not in dev.groups and "dev-vpn" in dev.groups
    assert staging.groups["backup-host"].hosts[0].node == "backup-staging-01"
    assert staging.groups["payment-gateway"].nets == ("198.51.100.128/25",)
    assert prod.groups["backup-host"].hosts[0].node == "backup-01"  # prod extends staging, then overrides
    assert prod.groups["payment-gateway"].nets == ("198.51.100.0/25",)
    assert prod.namespace == "shop" and prod.groups["db"].namespace == "shop"
    assert dev.groups["db"].namespace == "shop-dev"
    frontend = next(p for p in dev.policies if p.name == "frontend")
    assert [p.group for p in frontend.ingress[0].peers] == ["ingress-controller", "dev-vpn"]
    assert [p.name for p in dev.policies] == ["baseline", "frontend", "api", "db"]  # order kept, one deleted


def test_dev_generates_into_its_namespace() -> None:
    namespaces = {r.namespace for r in generate_resources([SHOP], env="dev") if r.kind == "NetworkPolicy"}
    assert namespaces == {"shop-dev"}


def test_overlay_values_win_and_keep_their_location(write_ruleset) -> None:
    root = write_ruleset(BASE, env={"prod": "policies:\n  - name: web\n    order: 5\n    tier: nope\n"})
    with pytest.raises(ValidationFailed) as info:
        load_ruleset([root], "prod")
    (err,) = info.value.errors
    assert err.location.file.endswith("env/prod.yaml") and err.location.line == 4
    assert "unknown tier 'nope'" in err.message


def test_overlay_merges_maps_and_replaces_lists(write_ruleset) -> None:
    root = write_ruleset(BASE, env={"prod": "groups:\n  office: {nets: [198.51.100.0/24, 192.0.2.0/24]}\n"
                                            "  web: {defaultDeny: [ingress]}\n"})
    rs = load_ruleset([root], "prod")
    assert rs.groups["office"].nets == ("198.51.100.0/24", "192.0.2.0/24")
    assert rs.groups["web"].selector == "app == 'web'" and rs.groups["web"].default_deny == ("ingress",)


def test_null_deletes_and_dangling_reference_is_reported(write_ruleset) -> None:
    root = write_ruleset(BASE, env={"prod": "groups:\n  office: null\n"})
    with pytest.raises(ValidationFailed, match="unknown group 'office'"):
        load_ruleset([root], "prod")


def test_extends_cycle_is_detected(write_ruleset) -> None:
    root = write_ruleset(BASE, env={"a": "extends: b\n", "b": "extends: [c]\n", "c": "extends: a\n"})
    with pytest.raises(InputError) as info:
        load_ruleset([root], "a")
    assert "overlay cycle: a -> b -> c -> a" in info.value.message
    assert info.value.location.file.endswith("env/c.yaml") and info.value.location.field == "extends"


def test_self_extension_is_a_cycle(write_ruleset) -> None:
    root = write_ruleset(BASE, env={"a": "extends: a\n"})
    with pytest.raises(InputError, match="overlay cycle: a -> a"):
        load_ruleset([root], "a")


def test_extends_missing_overlay(write_ruleset) -> None:
    root = write_ruleset(BASE, env={"a": "extends: ghost\n"})
    with pytest.raises(InputError, match="no overlay 'ghost'"):
        load_ruleset([root], "a")


def test_unknown_environment(write_ruleset) -> None:
    root = write_ruleset(BASE)
    with pytest.raises(InputError, match="no overlay for environment 'qa'"):
        load_ruleset([root], "qa")


def test_delete_unknown_policy(write_ruleset) -> None:
    root = write_ruleset(BASE, env={"a": "policies:\n  - {name: ghost, delete: true}\n"})
    with pytest.raises(InputError, match="cannot delete policy 'ghost'"):
        load_ruleset([root], "a")


def test_extends_only_in_overlays(write_ruleset) -> None:
    root = write_ruleset(BASE + "extends: prod\n")
    with pytest.raises(InputError, match="only allowed in environment overlays"):
        load_ruleset([root])


def test_diamond_extends_applies_each_overlay_once(write_ruleset) -> None:
    root = write_ruleset(BASE, env={
        "base": "groups:\n  extra: {nets: [10.0.0.0/8]}\n",
        "left": "extends: base\n",
        "right": "extends: base\n",
        "top": "extends: [left, right]\n",
    })
    assert "extra" in load_ruleset([root], "top").groups
