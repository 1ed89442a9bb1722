"""What a Kubernetes API server adds to a Calico object on write, so that `diff` and `apply` compare like with like.

A real API server fills in the CRD schema's `default`s (a Tier gets `spec.defaultAction: Deny`, a policy
`spec.tier: default`), and Calico 3.32's MutatingAdmissionPolicies (native v3 CRDs) add the label
`projectcalico.org/tier: <tier>` to tiered policies and default a missing `spec.types`. None of that is drift:
`normalized()` applies the same defaulting to any Resource, so desired and live objects compare equal exactly when
the server would store the same thing. Pure; table-tested in tests/model/test_server_defaults.py.
"""

from __future__ import annotations

import copy
from typing import Any

from calicotool.model.policy_names import POLICY_KINDS
from calicotool.model.resource import Resource
from calicotool.model.schema import raw_schema

TIER_LABEL = "projectcalico.org/tier"


def apply_schema_defaults(schema: dict[str, Any], value: Any) -> Any:
    """`value` with the OpenAPI v3 `default`s of `schema` filled in, as the API server's structural defaulting
    does: a missing property with a default gets it; present objects and array items are defaulted recursively;
    a missing object without a default stays missing."""
    if isinstance(value, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            out = dict(value)
            for name, sub in props.items():
                if not isinstance(sub, dict):
                    continue
                if name not in out and "default" in sub:
                    out[name] = copy.deepcopy(sub["default"])
                if name in out:
                    out[name] = apply_schema_defaults(sub, out[name])
            return out
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return {k: apply_schema_defaults(extra, v) for k, v in value.items()}
        return value
    if isinstance(value, list):
        items = schema.get("items")
        return [apply_schema_defaults(items, v) for v in value] if isinstance(items, dict) else value
    return value


def _default_types(kind: str, spec: dict[str, Any]) -> list[str]:
    """Calico's admission default for a policy without `types` (both rules -> both; egress only -> Egress)."""
    ingress, egress = "ingress" in spec, "egress" in spec
    if ingress and egress:
        return ["Ingress", "Egress"]
    if egress:
        return ["Ingress", "Egress"] if kind == "StagedKubernetesNetworkPolicy" else ["Egress"]
    return ["Ingress"]


def normalized(res: Resource) -> Resource:
    """`res` as the API server would store it (schema defaults, Calico's admission defaults); tier label dropped
    when it only repeats spec.tier."""
    out = res.copy()
    schema = raw_schema(res.info.name)
    spec_schema = (schema or {}).get("properties", {}).get("spec")
    if isinstance(spec_schema, dict):
        out.spec = apply_schema_defaults(spec_schema, out.spec)
    if res.info.name in POLICY_KINDS:
        if not out.spec.get("types"):
            out.spec["types"] = _default_types(res.kind, out.spec)
        labels = out.metadata.get("labels") or {}
        if labels.get(TIER_LABEL) == str(out.spec.get("tier") or "default"):
            labels = {k: v for k, v in labels.items() if k != TIER_LABEL}
            if labels:
                out.metadata["labels"] = labels
            else:
                out.metadata.pop("labels", None)
    return out


def same_declared_content(desired: Resource, live: Resource) -> bool:
    """True when writing `desired` would leave `live` as it is (server-added defaults are not differences)."""
    return desired.same_content(live) or normalized(desired).same_content(normalized(live))
