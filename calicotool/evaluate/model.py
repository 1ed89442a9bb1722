"""Values of the policy evaluator: the flow asked about, and the verdict with its trace. No logic beyond rendering.

The trace mirrors how Felix walks an endpoint's chains: per direction (source egress, destination ingress) the
tiers that applied in order, the policies evaluated in each, which rule (0-based index, action) decided, or which
fallback decided (tier default action, profile, host-endpoint default deny, failsafe port, not a Calico endpoint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from calicotool.policy.endpoint import Endpoint, NamedPort


class Verdict(str, Enum):
    ALLOW = "allow"
    DENY = "deny"


class Direction(str, Enum):
    INGRESS = "ingress"
    EGRESS = "egress"


class Decider(str, Enum):
    """What settled one direction of a flow."""

    RULE = "rule"  # an Allow/Deny rule of an enforced policy
    TIER_DEFAULT = "tier-default-action"  # a tier applied but no rule matched: its defaultAction (Deny)
    PROFILE = "profile"  # no tier decided: an endpoint profile's rule (kns.<ns> allows everything)
    PROFILE_DEFAULT_DENY = "profile-default-deny"  # profiles evaluated (or none) and nothing allowed
    HOST_DEFAULT_DENY = "host-endpoint-default-deny"  # a HostEndpoint with no policy and no allowing profile
    FAILSAFE = "failsafe"  # a Felix failsafe port on a HostEndpoint
    UNTRACKED = "untracked-policy"  # a doNotTrack policy's Allow/Deny rule
    PRE_DNAT = "pre-dnat-policy"  # a preDNAT policy's Allow/Deny rule
    NOT_AN_ENDPOINT = "not-a-calico-endpoint"  # plain IPs and NetworkSet members enforce nothing themselves


@dataclass(frozen=True)
class Flow:
    """One connection attempt. `port` is the destination port; `src_port` is usually ephemeral (unknown)."""

    src: Endpoint
    dst: Endpoint
    protocol: int = 6
    port: int | None = None
    src_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    src_ip: str | None = None  # defaults to the endpoint's first IP
    dst_ip: str | None = None
    src_named_ports: tuple[NamedPort, ...] = ()
    dst_named_ports: tuple[NamedPort, ...] = ()

    def describe(self) -> str:
        from calicotool.evaluate.rules import protocol_name

        what = protocol_name(self.protocol)
        if self.port is not None:
            what = f"{self.port}/{what}"
        elif self.icmp_type is not None:
            what += f" type {self.icmp_type}" + (f" code {self.icmp_code}" if self.icmp_code is not None else "")
        return f"{self.src.title} -> {self.dst.title} {what}"


@dataclass
class PolicyTrace:
    """One policy evaluated for an endpoint: the rule that matched first with a final action, if any."""

    name: str
    kind: str
    tier: str
    order: float | None
    staged: bool = False
    rule_index: int | None = None
    action: str | None = None  # Allow / Deny / Pass, or None when no rule matched
    logged: list[int] = field(default_factory=list)  # indexes of Log rules that matched on the way

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"policy": self.name, "kind": self.kind, "order": self.order}
        if self.staged:
            out["staged"] = True
        out["matched_rule"] = self.rule_index
        out["action"] = self.action
        if self.logged:
            out["logged_by_rules"] = list(self.logged)
        return out


@dataclass
class TierTrace:
    name: str
    order: float | None
    default_action: str
    stage: str = "normal"  # normal | untracked | pre-dnat
    policies: list[PolicyTrace] = field(default_factory=list)
    outcome: str = ""  # allow | deny | pass | default-deny | default-pass | no-match (untracked / pre-dnat)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tier": self.name, "order": self.order, "default_action": self.default_action}
        if self.stage != "normal":
            out["stage"] = self.stage
        out["outcome"] = self.outcome
        out["policies"] = [p.to_dict() for p in self.policies]
        return out


@dataclass
class DirectionTrace:
    """How one endpoint's policy (source egress or destination ingress) treated the flow."""

    endpoint: str
    direction: Direction
    verdict: Verdict
    decided_by: Decider
    reason: str
    tier: str | None = None
    policy: str | None = None
    rule_index: int | None = None
    action: str | None = None
    profile: str | None = None
    tiers: list[TierTrace] = field(default_factory=list)
    staged: list[PolicyTrace] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "endpoint": self.endpoint,
            "direction": self.direction.value,
            "verdict": self.verdict.value,
            "decided_by": self.decided_by.value,
            "reason": self.reason,
        }
        for key in ("tier", "policy", "rule_index", "action", "profile"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["tiers"] = [t.to_dict() for t in self.tiers]
        if self.staged:
            out["staged"] = [p.to_dict() for p in self.staged]
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass
class FlowResult:
    """The answer: allowed only if the source's egress AND the destination's ingress allow the flow."""

    flow: Flow
    verdict: Verdict
    egress: DirectionTrace
    ingress: DirectionTrace

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    @property
    def deciding(self) -> DirectionTrace:
        """The direction that denied (egress first), else the destination's ingress."""
        if self.egress.verdict is Verdict.DENY:
            return self.egress
        return self.ingress

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow.describe(),
            "verdict": self.verdict.value,
            "source_egress": self.egress.to_dict(),
            "destination_ingress": self.ingress.to_dict(),
        }
