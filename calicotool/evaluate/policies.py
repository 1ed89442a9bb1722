"""Calico v3 policy resources compiled for evaluation: rules, policy scoping (which endpoints a policy applies
to), types defaulting, tiers. Follows libcalico-go's conversion of v3 policies into what Felix enforces."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from calicotool.errors import InputError
from calicotool.evaluate.entities import NS_LABEL, SA_LABEL, Entity, IPAddr
from calicotool.evaluate.model import Direction, NamedPort
from calicotool.evaluate.rules import (
    ACTIONS,
    ICMP_PROTOCOLS,
    EntityMatch,
    compile_entity,
    parse_selector,
    protocol_number,
    rewrite_all,
)
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import EndpointKind
from calicotool.selector import Selector

POLICY_KINDS = {"GlobalNetworkPolicy", "NetworkPolicy", "StagedGlobalNetworkPolicy", "StagedNetworkPolicy"}
DEFAULT_TIER = "default"
DEFAULT_TIER_ORDER = 1_000_000.0  # Calico's implicit `default` tier


@dataclass
class MatchContext:
    """One flow, resolved: addresses, the entities owning them (for selectors), ports and ICMP."""

    protocol: int
    port: int | None
    src_port: int | None
    icmp_type: int | None
    icmp_code: int | None
    ip_version: int
    src_ip: IPAddr | None
    dst_ip: IPAddr | None
    src_peers: Sequence[Entity]
    dst_peers: Sequence[Entity]
    src_named: Sequence[NamedPort] = ()
    dst_named: Sequence[NamedPort] = ()


def _icmp_matches(spec: dict[str, Any], ctx: MatchContext) -> bool:
    if ctx.protocol not in ICMP_PROTOCOLS or ctx.icmp_type is None:
        return False
    if spec.get("type") is not None and int(spec["type"]) != ctx.icmp_type:
        return False
    return spec.get("code") is None or int(spec["code"]) == ctx.icmp_code


@dataclass
class CompiledRule:
    index: int
    action: str
    protocol: int | None
    not_protocol: int | None
    ip_version: int | None
    icmp: dict[str, Any] | None
    not_icmp: dict[str, Any] | None
    source: EntityMatch | None
    destination: EntityMatch | None
    unsupported: str = ""

    def matches(self, ctx: MatchContext) -> bool:
        if self.unsupported:
            return False
        if self.protocol is not None and ctx.protocol != self.protocol:
            return False
        if self.not_protocol is not None and ctx.protocol == self.not_protocol:
            return False
        if self.ip_version is not None and ctx.ip_version != self.ip_version:
            return False
        if self.icmp is not None and not _icmp_matches(self.icmp, ctx):
            return False
        if self.not_icmp is not None and _icmp_matches(self.not_icmp, ctx):
            return False
        src = self.source
        if src is not None and not src.matches(ctx.src_ip, ctx.src_peers, ctx.src_port, ctx.protocol, ctx.src_named):
            return False
        dst = self.destination
        if dst is not None and not dst.matches(ctx.dst_ip, ctx.dst_peers, ctx.port, ctx.protocol, ctx.dst_named):
            return False
        return True


def compile_rule(raw: object, index: int, policy_ns: str, where: str) -> CompiledRule:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a rule must be a mapping")
    action = ACTIONS.get(str(raw.get("action", "")).lower())
    if action is None:
        raise InputError(f"{where}.action: must be Allow, Deny, Pass or Log, not {raw.get('action')!r}")
    proto = protocol_number(raw["protocol"], f"{where}.protocol: ") if raw.get("protocol") is not None else None
    not_proto = (protocol_number(raw["notProtocol"], f"{where}.notProtocol: ")
                 if raw.get("notProtocol") is not None else None)
    ipv = raw.get("ipVersion")
    if ipv is not None and ipv not in (4, 6):
        raise InputError(f"{where}.ipVersion: must be 4 or 6")
    unsupported = "http match (application layer policy is not modelled)" if raw.get("http") else ""
    return CompiledRule(
        index=index, action=action, protocol=proto, not_protocol=not_proto, ip_version=ipv,
        icmp=raw.get("icmp"), not_icmp=raw.get("notICMP"),
        source=compile_entity(raw.get("source"), policy_ns, f"{where}.source"),
        destination=compile_entity(raw.get("destination"), policy_ns, f"{where}.destination"),
        unsupported=unsupported,
    )


def default_types(spec: dict[str, Any]) -> frozenset[Direction]:
    """Calico's defaulting of `types`: Egress only when there are egress rules; Ingress when there are ingress
    rules or no egress rules."""
    explicit = spec.get("types")
    if explicit:
        out = set()
        for t in explicit:
            low = str(t).lower()
            if low not in ("ingress", "egress"):
                raise InputError(f"spec.types: {t!r} is not Ingress or Egress")
            out.add(Direction(low))
        return frozenset(out)
    has_in, has_out = bool(spec.get("ingress")), bool(spec.get("egress"))
    if has_out and not has_in:
        return frozenset({Direction.EGRESS})
    if has_out:
        return frozenset({Direction.INGRESS, Direction.EGRESS})
    return frozenset({Direction.INGRESS})


@dataclass
class CompiledPolicy:
    kind: str
    name: str
    namespace: str
    tier: str
    order: float | None
    staged: bool
    types: frozenset[Direction]
    ingress: tuple[CompiledRule, ...]
    egress: tuple[CompiledRule, ...]
    selector: Selector
    ns_selector: Selector | None = None
    sa_selector: Selector | None = None
    do_not_track: bool = False
    pre_dnat: bool = False
    apply_on_forward: bool = False
    staged_action: str = "Set"
    seq: int = 0  # position in the global (tier order, policy order, name) sort
    index_keys: dict[str, frozenset[str]] | None = field(default=None)  # labels any selected endpoint must hold

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def sort_key(self) -> tuple[float, str]:
        return (math.inf if self.order is None else self.order, self.qualified_name)

    def rules(self, direction: Direction) -> tuple[CompiledRule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress

    def applies_to(self, e: Entity) -> bool:
        """Does this policy select endpoint `e`? NetworkPolicies select only pods of their namespace."""
        if e.kind not in (EndpointKind.POD, EndpointKind.HOST):
            return False
        if self.namespace:
            if e.kind is not EndpointKind.POD or e.labels.get(NS_LABEL) != self.namespace:
                return False
        elif self.ns_selector is not None and not self.ns_selector.matches(e.ns_labels, is_global=not e.namespace):
            return False
        if self.sa_selector is not None and not self.sa_selector.matches(e.sa_labels, is_global=not e.namespace):
            return False
        return self.selector.matches(e.labels, is_global=not e.namespace)


def _order(value: object, where: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{where}.order: not a number: {value!r}") from None


def compile_policy(res: Resource) -> CompiledPolicy:
    where = f"{res.kind} {res.namespace + '/' if res.namespace else ''}{res.name}"
    spec = res.spec or {}
    namespaced = res.kind in ("NetworkPolicy", "StagedNetworkPolicy")
    ns = (res.namespace or "default") if namespaced else ""
    sel = parse_selector(spec.get("selector") or "all()", f"{where}: spec.selector")
    ns_sel = sa_sel = None
    if spec.get("namespaceSelector") and not namespaced:
        sel = rewrite_all(sel, NS_LABEL)
        ns_sel = rewrite_all(parse_selector(spec["namespaceSelector"], f"{where}: spec.namespaceSelector"), NS_LABEL)
    if spec.get("serviceAccountSelector"):
        if not namespaced:
            sel = rewrite_all(sel, SA_LABEL)
        sa_sel = parse_selector(spec["serviceAccountSelector"], f"{where}: spec.serviceAccountSelector")
        if not namespaced:
            sa_sel = rewrite_all(sa_sel, SA_LABEL)
    pol = CompiledPolicy(
        kind=res.kind, name=res.name, namespace=ns, tier=str(spec.get("tier") or DEFAULT_TIER),
        order=_order(spec.get("order"), f"{where}: spec"), staged=res.kind.startswith("Staged"),
        types=_types(spec, where),
        ingress=tuple(compile_rule(r, i, ns, f"{where}: spec.ingress[{i}]") for i, r in enumerate(spec.get("ingress") or [])),
        egress=tuple(compile_rule(r, i, ns, f"{where}: spec.egress[{i}]") for i, r in enumerate(spec.get("egress") or [])),
        selector=sel, ns_selector=ns_sel, sa_selector=sa_sel,
        do_not_track=bool(spec.get("doNotTrack")), pre_dnat=bool(spec.get("preDNAT")),
        apply_on_forward=bool(spec.get("applyOnForward")) or namespaced,
        staged_action=str(spec.get("stagedAction") or "Set"),
    )
    keys = dict(sel.required_equalities() or {})
    if ns:
        keys[NS_LABEL] = frozenset({ns})
    pol.index_keys = keys or None
    return pol


def _types(spec: dict[str, Any], where: str) -> frozenset[Direction]:
    try:
        return default_types(spec)
    except InputError as exc:
        raise InputError(f"{where}: {exc.message}") from None


@dataclass(frozen=True)
class TierInfo:
    name: str
    order: float | None
    default_action: str = "Deny"

    @property
    def sort_key(self) -> tuple[float, str]:
        return (math.inf if self.order is None else self.order, self.name)


def compile_tier(res: Resource) -> TierInfo:
    spec = res.spec or {}
    action = str(spec.get("defaultAction") or "Deny").capitalize()
    if action not in ("Deny", "Pass"):
        raise InputError(f"Tier {res.name}: spec.defaultAction must be Deny or Pass, not {action!r}")
    return TierInfo(res.name, _order(spec.get("order"), f"Tier {res.name}: spec"), action)
