"""RuleSet -> template contexts: one plain dict per Calico object, in Calico's own field names.

Pure. Decides kinds (NetworkPolicy vs GlobalNetworkPolicy, NetworkSet vs GlobalNetworkSet), names per Calico
version, how a group becomes a rule selector, and adds the default-deny policies. Rule order is never changed:
a rule with several peers becomes consecutive Calico rules, one per peer, which together match the union.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from calicotool.errors import InputError, Location
from calicotool.policy.spec import (
    ANY_NAMESPACE,
    DEFAULT_TIER,
    GROUP_LABEL,
    Group,
    GroupKind,
    Peer,
    Policy,
    Rule,
    RuleSet,
)

DEFAULT_POLICY_ORDER = 1000.0
DESCRIPTION_ANNOTATION = "calicotool.io/description"
BARE_NAMES_SINCE = (3, 32)  # Calico >= 3.32 accepts policy names without the `<tier>.` prefix
TIER_DEFAULT_ACTION_SINCE = (3, 30)
STAGED_SINCE = (3, 30)  # staged policies came to Calico Open Source in 3.30


def parse_version(text: str) -> tuple[int, int]:
    parts = text.lstrip("v").split(".")
    try:
        version = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise InputError(f"--calico-version {text!r}: expected MAJOR.MINOR, e.g. 3.31") from None
    if version[0] != 3 or version[1] < 0:  # projectcalico.org/v3 resources are what Calico 3.x reads
        raise InputError(f"--calico-version {text!r}: calicotool generates projectcalico.org/v3 resources for "
                         "Calico 3.x (e.g. 3.31)")
    return version


@dataclass
class CompileOptions:
    calico_version: str = "3.32"
    staged: bool = False

    @property
    def version(self) -> tuple[int, int]:
        return parse_version(self.calico_version)


@dataclass
class ObjectContext:
    """What one template needs: the template name and its variables."""

    template: str
    kind: str
    name: str
    namespace: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    location: Location = field(default_factory=Location)  # the rule-set element it came from


def quote(value: str) -> str:
    return f"'{value}'" if "'" not in value else f'"{value}"'


def group_selector(group: Group) -> str:
    """The selector that matches a group's members (workload labels, or the label we put on generated objects)."""
    if group.kind == GroupKind.LABELS:
        return group.selector
    return f"{GROUP_LABEL} == {quote(group.name)}"


def peer_entity(peer: Peer, rs: RuleSet, policy_ns: str, except_nets: tuple[str, ...] = ()) -> dict[str, Any]:
    """A rule's source/destination entity (selector, namespaceSelector, nets) for one peer, seen from a policy
    in namespace `policy_ns` ('' for a global policy)."""
    out: dict[str, Any] = {}
    if peer.nets:
        out["nets"] = list(peer.nets)
    elif peer.group:
        group = rs.groups[peer.group]
        out["selector"] = group_selector(group)
        if group.kind == GroupKind.LABELS:
            if group.namespace_selector:
                out["namespaceSelector"] = group.namespace_selector
            elif group.namespace == ANY_NAMESPACE:
                out["namespaceSelector"] = "all()"
            elif group.namespace != policy_ns:
                out["namespaceSelector"] = f"projectcalico.org/name == {quote(group.namespace)}"
        elif group.kind == GroupKind.NETS and group.namespace:
            if group.namespace != policy_ns:
                out["namespaceSelector"] = f"projectcalico.org/name == {quote(group.namespace)}"
        else:
            out["namespaceSelector"] = "global()"
    if except_nets:
        out["notNets"] = list(except_nets)
    return out


def calico_rules(rule: Rule, direction: str, rs: RuleSet, policy_ns: str) -> list[dict[str, Any]]:
    """One rule-set rule -> one Calico rule per peer (same action, same ports)."""
    out = []
    for peer in rule.peers or (Peer(),):
        calico: dict[str, Any] = {"action": rule.action}
        if rule.description:
            calico["metadata"] = {"annotations": {DESCRIPTION_ANNOTATION: rule.description}}
        if rule.protocol is not None:
            calico["protocol"] = rule.protocol
        if rule.ip_version:
            calico["ipVersion"] = rule.ip_version
        if rule.icmp_type is not None:
            calico["icmp"] = {"type": rule.icmp_type, **({"code": rule.icmp_code} if rule.icmp_code is not None else {})}
        peer_side = peer_entity(peer, rs, policy_ns, rule.except_nets)
        if direction == "ingress":
            source, destination = peer_side, {}
        else:
            source, destination = {}, peer_side
        if rule.ports:
            destination = {**destination, "ports": list(rule.ports)}
        if source:
            calico["source"] = source
        if destination:
            calico["destination"] = destination
        out.append(calico)
    return out


def default_deny_policies(rs: RuleSet) -> list[Policy]:
    """One generated policy per group with defaultDeny: explicit Deny rules, last in the deny tier."""
    out = []
    for group in sorted(rs.groups.values(), key=lambda g: g.name):
        if not group.default_deny:
            continue
        policy = Policy(name=f"default-deny-{group.name}", applies_to=group.name, tier=rs.deny_tier(),
                        order=rs.default_deny_order, generated=True, location=group.location,
                        description=f"default deny for group {group.name} ({', '.join(group.default_deny)})")
        if "ingress" in group.default_deny:
            policy.ingress.append(Rule(action="Deny", description="default deny", location=group.location))
        if "egress" in group.default_deny:
            policy.egress.append(Rule(action="Deny", description="default deny", location=group.location))
        policy.types = tuple(t for t in ("Ingress", "Egress") if t.lower() in group.default_deny)
        out.append(policy)
    return out


def all_policies(rs: RuleSet) -> list[Policy]:
    return [*rs.policies, *default_deny_policies(rs)]


def policy_kind(group: Group, staged: bool) -> str:
    kind = "GlobalNetworkPolicy" if group.is_global else "NetworkPolicy"
    return "Staged" + kind if staged else kind


def policy_name(policy: Policy, opts: CompileOptions) -> str:
    if policy.tier != DEFAULT_TIER and opts.version < BARE_NAMES_SINCE:
        return f"{policy.tier}.{policy.name}"
    return policy.name


def policy_context(policy: Policy, rs: RuleSet, opts: CompileOptions) -> ObjectContext:
    group = rs.groups[policy.applies_to]
    kind = policy_kind(group, opts.staged)
    ns = "" if group.is_global else group.namespace
    order = policy.order if policy.order is not None else DEFAULT_POLICY_ORDER
    spec: dict[str, Any] = {"tier": policy.tier, "order": int(order) if float(order).is_integer() else order,
                            "selector": group_selector(group)}
    if group.kind == GroupKind.LABELS and group.namespace_selector:
        spec["namespaceSelector"] = group.namespace_selector
    if opts.staged:
        spec["stagedAction"] = "Set"
    spec["types"] = list(policy.effective_types)
    for direction in ("ingress", "egress"):
        rules = [r for rule in getattr(policy, direction) for r in calico_rules(rule, direction, rs, ns)]
        if rules:
            spec[direction] = rules
    if policy.pre_dnat:
        spec["preDNAT"] = True
        spec["applyOnForward"] = True
    elif policy.apply_on_forward:
        spec["applyOnForward"] = True
    return ObjectContext("policy.yaml.j2", kind, policy_name(policy, opts), ns,
                         {"spec": spec, "description": policy.description}, policy.location)


def build_contexts(rs: RuleSet, opts: CompileOptions) -> list[ObjectContext]:
    """Every object the rule set needs, as template contexts (order: tiers, sets, policies, host endpoints)."""
    out: list[ObjectContext] = []
    if opts.staged and opts.version < STAGED_SINCE:
        raise InputError(f"--staged needs Calico >= 3.30 (--calico-version is {opts.calico_version})")
    for tier in sorted(rs.tiers.values(), key=lambda t: (rs.tier_order(t.name), t.name)):
        if tier.name == DEFAULT_TIER:
            continue
        if tier.default_action and tier.default_action != "Deny" and opts.version < TIER_DEFAULT_ACTION_SINCE:
            raise InputError(f"tier {tier.name!r}: defaultAction {tier.default_action} needs Calico >= 3.30 "
                             f"(--calico-version is {opts.calico_version})", tier.location)
        out.append(ObjectContext("tier.yaml.j2", "Tier", tier.name, values={
            "order": tier.order, "default_action": tier.default_action, "description": tier.description},
            location=tier.location))
    for group in sorted(rs.groups.values(), key=lambda g: g.name):
        if group.kind == GroupKind.NETS:
            kind = "NetworkSet" if group.namespace else "GlobalNetworkSet"
            out.append(ObjectContext("networkset.yaml.j2", kind, group.name, group.namespace, {
                "labels": group.member_labels, "nets": list(group.nets), "description": group.description},
                group.location))
    for policy in all_policies(rs):
        out.append(policy_context(policy, rs, opts))
    for group in sorted(rs.groups.values(), key=lambda g: g.name):
        for host in group.hosts:
            out.append(ObjectContext("hostendpoint.yaml.j2", "HostEndpoint", host.name, values={
                "labels": group.member_labels, "node": host.node, "interface": host.interface,
                "expected_ips": list(host.expected_ips), "description": group.description},
                location=group.location))
    return out
