from __future__ import annotations

import typing

import pytest

from calicotool.model.resource import Resource
from calicotool.model.schema import raw_schema
from calicotool.model.specs import KIND_SPECS, BGPPeerSpec, GlobalNetworkPolicySpec, spec_of


def test_spec_of_is_a_live_typed_view() -> None:
    res = Resource.new("GlobalNetworkPolicy", "p", {"selector": "all()", "order": 5})
    spec = spec_of(res, GlobalNetworkPolicySpec)
    spec["order"] = 7
    assert res.spec["order"] == 7
    with pytest.raises(TypeError):
        spec_of(res, BGPPeerSpec)


@pytest.mark.parametrize("kind", sorted(KIND_SPECS))
def test_typed_fields_exist_in_calicos_schema(kind: str) -> None:
    """Every field our TypedDicts name is a real field of Calico's CRD (or our Node schema): no typos."""
    schema = raw_schema(kind)
    assert schema is not None
    spec_props = schema["properties"]["spec"].get("properties", {})
    hints = typing.get_type_hints(KIND_SPECS[kind])
    unknown = sorted(set(hints) - set(spec_props))
    assert unknown == [], f"{kind}: {unknown}"
