"""Calico's policy naming by version: `<tier>.<name>` up to 3.31, names as given from 3.32."""

from __future__ import annotations

import pytest

from calicotool.errors import InputError
from calicotool.model.policy_names import DEFAULT_CALICO_VERSION, naming_for, parse_calico_version


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("v3.32.1", (3, 32)), ("3.31", (3, 31)), ("v3.30.0-0.dev-123", (3, 30)), ("v4.0.0+build", (4, 0)),
     ("", None), ("latest", None), ("v3", None), ("3.x", None)],
)
def test_parse_calico_version(text: str, parsed: tuple[int, int] | None) -> None:
    assert parse_calico_version(text) == parsed


@pytest.mark.parametrize(
    ("reported", "tiered", "detected"),
    [("v3.31.2", True, True), ("v3.26.0", True, True), ("v3.32.0", False, True), ("v3.33.1", False, True),
     (None, False, False), ("garbage", False, False)],
)
def test_naming_for_reported_version(reported: str | None, tiered: bool, detected: bool) -> None:
    naming = naming_for(reported)
    assert naming.tiered is tiered and naming.detected is detected
    if not detected:
        assert naming.label == DEFAULT_CALICO_VERSION and "assumed" in naming.describe()


@pytest.mark.parametrize(
    ("kind", "name", "tier", "ok_331"),
    [
        ("GlobalNetworkPolicy", "allow", None, True),
        ("GlobalNetworkPolicy", "default.allow", "default", True),
        ("NetworkPolicy", "app.allow", "app", True),
        ("NetworkPolicy", "allow", "app", False),
        ("StagedNetworkPolicy", "other.allow", "app", False),
        ("StagedGlobalNetworkPolicy", "app.allow", None, False),
        ("NetworkPolicy", "knp.default.web", "default", True),
        ("Tier", "allow", "app", True),  # not a policy kind
    ],
)
def test_check_by_version(kind: str, name: str, tier: str | None, ok_331: bool) -> None:
    spec = {"tier": tier} if tier else {}
    naming_for("v3.32.1").check(kind, name, spec)
    if ok_331:
        naming_for("v3.31.0").check(kind, name, spec)
    else:
        with pytest.raises(InputError, match="Calico 3.31"):
            naming_for("v3.31.0").check(kind, name, spec)


@pytest.mark.parametrize(
    ("name", "v331", "v332"),
    [("allow", "default.allow", "allow"), ("app.allow", "app.allow", "app.allow"),
     ("knp.default.x", "knp.default.x", "knp.default.x")],
)
def test_storage_name(name: str, v331: str, v332: str) -> None:
    assert naming_for("v3.31.0").storage_name("GlobalNetworkPolicy", name) == v331
    assert naming_for("v3.32.0").storage_name("GlobalNetworkPolicy", name) == v332
    assert naming_for("v3.31.0").storage_name("GlobalNetworkSet", name) == name
