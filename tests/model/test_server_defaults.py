"""What the API server adds on write is not drift: schema defaults and Calico's admission defaults."""

from __future__ import annotations

from typing import Any

import pytest

from calicotool.model.resource import Resource
from calicotool.model.server_defaults import apply_schema_defaults, normalized, same_declared_content

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "mode": {"type": "string", "default": "Auto"},
        "nested": {"type": "object", "properties": {"x": {"type": "integer", "default": 1}}},
        "withDefault": {"type": "object", "default": {}, "properties": {"y": {"type": "string", "default": "z"}}},
        "items": {"type": "array", "items": {"type": "object", "properties": {"p": {"type": "string", "default": "q"}}}},
        "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"k": {"default": 0}}}},
    },
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({}, {"mode": "Auto", "withDefault": {"y": "z"}}),
        ({"mode": "Off"}, {"mode": "Off", "withDefault": {"y": "z"}}),
        ({"nested": {}}, {"mode": "Auto", "nested": {"x": 1}, "withDefault": {"y": "z"}}),
        ({"items": [{}, {"p": "r"}]}, {"mode": "Auto", "withDefault": {"y": "z"}, "items": [{"p": "q"}, {"p": "r"}]}),
        ({"map": {"a": {}}}, {"mode": "Auto", "withDefault": {"y": "z"}, "map": {"a": {"k": 0}}}),
    ],
)
def test_apply_schema_defaults(value: dict[str, Any], expected: dict[str, Any]) -> None:
    assert apply_schema_defaults(SCHEMA, value) == expected
    assert value.get("mode") != "Auto" or "mode" in value  # input untouched


def test_tier_default_action_is_not_drift() -> None:
    desired = Resource.new("Tier", "app", {"order": 200})
    live = Resource.new("Tier", "app", {"order": 200, "defaultAction": "Deny"})
    assert same_declared_content(desired, live)
    assert not same_declared_content(Resource.new("Tier", "app", {"order": 200, "defaultAction": "Pass"}), live)


def test_admission_tier_label_and_types_are_not_drift() -> None:
    spec = {"tier": "app", "selector": "all()", "ingress": [{"action": "Allow"}]}
    desired = Resource.new("GlobalNetworkPolicy", "p", dict(spec), labels={"team": "a"})
    live = Resource.new("GlobalNetworkPolicy", "p", {**spec, "types": ["Ingress"]},
                        labels={"team": "a", "projectcalico.org/tier": "app"})
    assert same_declared_content(desired, live)
    moved = Resource.new("GlobalNetworkPolicy", "p", {**spec, "tier": "security", "types": ["Ingress"]},
                         labels={"team": "a", "projectcalico.org/tier": "security"})
    assert not same_declared_content(desired, moved)
    assert normalized(Resource.new("NetworkPolicy", "e", {"egress": [{"action": "Allow"}]}, namespace="n")).spec["types"] == [
        "Egress"
    ]
