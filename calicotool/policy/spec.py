"""The rule-set model: what a security team writes (groups, tiers, ordered rules), already validated.

Built by policy.loader from YAML; consumed by the generator, lint and the importers (which build it directly).
Every element keeps the Location it came from so later findings can point back at the source line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from calicotool.errors import Location

GROUP_LABEL = "calicotool.io/group"  # set on generated NetworkSets and HostEndpoints
RULESET_LABEL = "calicotool.io/ruleset"  # on every generated object: which rule set owns it
ANY_NAMESPACE = "*"
DEFAULT_TIER = "default"
DEFAULT_DENY_ORDER = 10000.0
PORTED_PROTOCOLS = ("TCP", "UDP", "SCTP")
ICMP_PROTOCOLS = ("ICMP", "ICMPv6")


class GroupKind(str, Enum):
    LABELS = "labels"  # workloads chosen by a label selector (+ namespace scope)
    NETS = "nets"  # a CIDR list -> (Global)NetworkSet
    HOSTS = "hosts"  # non-cluster hosts -> HostEndpoints


@dataclass(frozen=True)
class HostSpec:
    name: str
    node: str
    interface: str = ""
    expected_ips: tuple[str, ...] = ()


@dataclass
class Group:
    name: str
    kind: GroupKind
    selector: str = ""  # LABELS: the user's selector
    namespace: str = ""  # LABELS: one namespace, or ANY_NAMESPACE; NETS: set -> namespaced NetworkSet
    namespace_selector: str = ""  # LABELS: instead of one namespace
    nets: tuple[str, ...] = ()
    hosts: tuple[HostSpec, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    default_deny: tuple[str, ...] = ()  # "ingress", "egress"
    description: str = ""
    location: Location = field(default_factory=Location)

    @property
    def is_global(self) -> bool:
        """Selected through a GlobalNetworkPolicy / GlobalNetworkSet rather than namespaced objects."""
        if self.kind == GroupKind.LABELS:
            return self.namespace == ANY_NAMESPACE or bool(self.namespace_selector)
        if self.kind == GroupKind.NETS:
            return not self.namespace
        return True

    @property
    def member_labels(self) -> dict[str, str]:
        """Labels calicotool puts on the objects it generates for NETS / HOSTS groups."""
        return {**self.labels, GROUP_LABEL: self.name}


@dataclass(frozen=True)
class Peer:
    """One side of a rule: a group, literal CIDRs, or (both empty) anything."""

    group: str = ""
    nets: tuple[str, ...] = ()

    @property
    def is_any(self) -> bool:
        return not self.group and not self.nets


@dataclass
class Rule:
    action: str  # Allow | Deny | Pass | Log
    peers: tuple[Peer, ...] = ()  # empty: any peer; several: one Calico rule each, in order
    except_nets: tuple[str, ...] = ()
    protocol: str | int | None = None
    ports: tuple[int | str, ...] = ()  # ints, "lo:hi" ranges, named ports
    icmp_type: int | None = None
    icmp_code: int | None = None
    ip_version: int | None = None
    description: str = ""
    helper: str = ""
    location: Location = field(default_factory=Location)


@dataclass
class Policy:
    name: str
    applies_to: str
    tier: str = DEFAULT_TIER
    order: float | None = None
    ingress: list[Rule] = field(default_factory=list)
    egress: list[Rule] = field(default_factory=list)
    types: tuple[str, ...] = ()
    pre_dnat: bool = False
    apply_on_forward: bool = False
    description: str = ""
    generated: bool = False  # default-deny policies calicotool adds
    location: Location = field(default_factory=Location)

    @property
    def effective_types(self) -> tuple[str, ...]:
        if self.types:
            return self.types
        out = []
        if self.ingress or not self.egress:
            out.append("Ingress")
        if self.egress:
            out.append("Egress")
        return tuple(out)


@dataclass
class Tier:
    name: str
    order: float | None = None
    default_action: str = ""  # "" -> Calico's default (Deny)
    description: str = ""
    location: Location = field(default_factory=Location)


@dataclass
class RuleSet:
    name: str = "ruleset"
    namespace: str = "default"
    tiers: dict[str, Tier] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)
    default_deny_tier: str = ""
    default_deny_order: float = DEFAULT_DENY_ORDER
    env: str | None = None
    sources: tuple[str, ...] = ()

    def deny_tier(self) -> str:
        if self.default_deny_tier:
            return self.default_deny_tier
        if self.tiers:
            return max(self.tiers.values(), key=lambda t: (t.order if t.order is not None else 1e9, t.name)).name
        return DEFAULT_TIER

    def tier_order(self, name: str) -> float:
        tier = self.tiers.get(name)
        if name == DEFAULT_TIER:
            return 1_000_000.0
        return tier.order if tier is not None and tier.order is not None else 1e9
