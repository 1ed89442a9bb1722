"""Would Calico accept what we generated? The model validator (CRD schema + CEL + calicotool's checks) when it
is available, plus rule-level checks specific to generated policy: names per Calico version, types vs rules,
ICMP, nets limits, object size, duplicate identities. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from calicotool.errors import InputError, Location
from calicotool.model.resource import Resource
from calicotool.policy.compile import BARE_NAMES_SINCE, CompileOptions

MAX_INLINE_NETS = 1000  # beyond this, put the CIDRs in a nets group (NetworkSet) and select it
MAX_OBJECT_BYTES = 1_048_576  # Kubernetes / etcd request size limit is ~1.5 MiB; stay well under it
POLICY_KINDS = {"NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy", "StagedGlobalNetworkPolicy"}
PORTED = {"TCP", "UDP", "SCTP", 6, 17, 132}
ICMP = {"ICMP", "ICMPv6", 1, 58}


def _rule_problems(rule: dict[str, Any], path: str) -> Iterator[str]:
    protocol = rule.get("protocol")
    for side in ("source", "destination"):
        entity = rule.get(side) or {}
        nets = len(entity.get("nets") or []) + len(entity.get("notNets") or [])
        if nets > MAX_INLINE_NETS:
            yield f"{path}.{side}: {nets} inline nets (limit {MAX_INLINE_NETS}); use a nets group instead"
        if (entity.get("ports") or entity.get("notPorts")) and protocol not in PORTED:
            yield f"{path}.{side}.ports: ports need protocol TCP, UDP or SCTP"
        for port in entity.get("ports") or []:
            if isinstance(port, int) and not 1 <= port <= 65535:
                yield f"{path}.{side}.ports: port {port} out of range 1-65535"
    icmp = rule.get("icmp")
    if icmp is not None:
        if protocol not in ICMP:
            yield f"{path}.icmp: icmp needs protocol ICMP or ICMPv6"
        if not 0 <= int(icmp.get("type", 0)) <= 254 or not 0 <= int(icmp.get("code", 0)) <= 255:
            yield f"{path}.icmp: ICMP type must be 0-254 and code 0-255"
    if rule.get("action") not in ("Allow", "Deny", "Pass", "Log"):
        yield f"{path}.action: unknown action {rule.get('action')!r}"


def resource_problems(res: Resource, opts: CompileOptions) -> Iterator[str]:
    """Problems with one generated object, as 'field: message' strings."""
    spec = res.spec
    if res.kind in POLICY_KINDS:
        tier = spec.get("tier", "default")
        if tier != "default" and opts.version < BARE_NAMES_SINCE and not res.name.startswith(f"{tier}."):
            yield f"metadata.name: Calico < 3.32 needs policies in tier {tier!r} named '{tier}.<name>'"
        types = spec.get("types") or []
        for direction, kind in (("ingress", "Ingress"), ("egress", "Egress")):
            if spec.get(direction) and kind not in types:
                yield f"spec.types: has {direction} rules but types lacks {kind}"
            for i, rule in enumerate(spec.get(direction) or []):
                yield from _rule_problems(rule, f"spec.{direction}[{i}]")
        if spec.get("preDNAT") and (res.kind not in ("GlobalNetworkPolicy", "StagedGlobalNetworkPolicy")):
            yield "spec.preDNAT: only GlobalNetworkPolicy supports preDNAT"
    if res.kind == "HostEndpoint" and not (spec.get("interfaceName") or spec.get("expectedIPs")):
        yield "spec: a HostEndpoint needs interfaceName or expectedIPs"
    if res.kind in ("NetworkSet", "GlobalNetworkSet") and not spec.get("nets"):
        yield "spec.nets: a network set needs at least one CIDR"
    size = len(json.dumps(res.to_dict(), separators=(",", ":")))
    if size > MAX_OBJECT_BYTES:
        yield f"object is {size} bytes; the API server limit is ~1 MiB (split the group or the policy)"


def _model_validation(res: Resource, loc: Location) -> list[InputError]:
    try:
        from calicotool.model.validate import validate_resource
    except ImportError:  # pragma: no cover - the model validator ships with calicotool
        return []
    return validate_resource(res, loc)


def check_generated(resources: list[Resource], opts: CompileOptions,
                    locations: list[Location] | None = None) -> list[InputError]:
    """Every problem with the generated objects; `locations` (parallel to `resources`) name their sources."""
    errors: list[InputError] = []
    seen: dict[Any, int] = {}
    for i, res in enumerate(resources):
        loc = locations[i] if locations else Location()
        where = f"{res.kind} {res.namespace + '/' if res.namespace else ''}{res.name}"
        key = (res.kind if res.kind not in POLICY_KINDS else res.kind.replace("Staged", ""), res.namespace, res.name)
        if key in seen:
            errors.append(InputError(f"{where}: two rule-set elements generate the same object "
                                     f"(rename one; from Calico 3.32 policy names are unique across tiers)", loc))
        seen[key] = i
        for problem in resource_problems(res, opts):
            errors.append(InputError(f"{where}: {problem}", loc))
        for err in _model_validation(res, loc):
            errors.append(InputError(err.message, Location(loc.file, None, loc.line, err.location.field
                                                           if err.location else None)))
    return errors
