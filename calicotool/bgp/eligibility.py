"""Which nodes may become, or stay, route reflectors. Pure: decisions depend only on the node, `now` and options.

Promotion is strict (Ready for at least the damping period, schedulable, no bad taints). Keeping an existing
reflector is lenient on health blips: a reflector that went NotReady stays until it has been unhealthy for longer
than `demote_after`, so one flapping kubelet does not reshuffle sessions. Cordoning, deletion, a missing BGP
address or an exclusion label demote at once (make-before-break still hands over gracefully).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from calicotool.bgp.state import BgpNode

# Taints that mean the node is unhealthy or leaving (node lifecycle controller, cluster autoscaler).
UNHEALTHY_TAINTS = frozenset(
    {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/network-unavailable",
        "node.kubernetes.io/out-of-service",
        "node.cloudprovider.kubernetes.io/shutdown",
    }
)
LEAVING_TAINTS = frozenset({"ToBeDeletedByClusterAutoscaler", "node.kubernetes.io/unschedulable"})
DEFAULT_EXCLUDE_LABEL = "rr.calicotool.io/exclude"


@dataclass(frozen=True)
class EligibilityRules:
    damping_seconds: float = 300.0
    demote_after_seconds: float = 300.0
    candidate_label: str | None = None  # `key` or `key=value`: only such nodes may be reflectors
    exclude_labels: tuple[str, ...] = (DEFAULT_EXCLUDE_LABEL,)  # `key` or `key=value`: never reflectors


def _label_matches(spec: str, labels: dict[str, str]) -> bool:
    key, sep, value = spec.partition("=")
    if key not in labels:
        return False
    return not sep or labels[key] == value


def _permanent_reasons(node: BgpNode, rules: EligibilityRules) -> list[str]:
    """Reasons that disqualify a node regardless of how long they have held."""
    reasons = []
    if node.deleting:
        reasons.append("being deleted")
    if node.address is None:
        reasons.append("no BGP IPv4 address")
    if node.unschedulable:
        reasons.append("unschedulable (cordoned)")
    if any(t.key in LEAVING_TAINTS for t in node.taints):
        reasons.append("leaving (autoscaler/unschedulable taint)")
    for spec in rules.exclude_labels:
        if _label_matches(spec, node.labels):
            reasons.append(f"excluded by label {spec}")
    if rules.candidate_label and not _label_matches(rules.candidate_label, node.labels):
        reasons.append(f"lacks candidate label {rules.candidate_label}")
    return reasons


def _health_reasons(node: BgpNode) -> list[str]:
    reasons = []
    if not node.ready:
        reasons.append("NotReady")
    bad = sorted(t.key for t in node.taints if t.key in UNHEALTHY_TAINTS)
    if bad:
        reasons.append("tainted " + ",".join(bad))
    return reasons


def _age(node: BgpNode, now: datetime) -> float | None:
    if node.ready_since is None:
        return None
    return (now - node.ready_since).total_seconds()


def promotion_blockers(node: BgpNode, now: datetime, rules: EligibilityRules) -> list[str]:
    """Why `node` may not become a route reflector now; empty when it may."""
    reasons = _permanent_reasons(node, rules) + _health_reasons(node)
    if not reasons:
        age = _age(node, now)
        if age is not None and age < rules.damping_seconds:
            reasons.append(f"Ready for only {int(age)}s (< {int(rules.damping_seconds)}s damping)")
    return reasons


def retention_blockers(node: BgpNode, now: datetime, rules: EligibilityRules) -> list[str]:
    """Why an existing reflector must be demoted now; empty when it may stay (health blips are tolerated)."""
    reasons = _permanent_reasons(node, rules)
    health = _health_reasons(node)
    if health:
        age = _age(node, now)
        if age is None or age >= rules.demote_after_seconds or node.ready:
            # Unknown duration, long enough, or tainted while Ready (pressure): demote.
            reasons.extend(health)
    return reasons


def is_eligible(node: BgpNode, now: datetime, rules: EligibilityRules) -> bool:
    return not promotion_blockers(node, now, rules)


def may_stay(node: BgpNode, now: datetime, rules: EligibilityRules) -> bool:
    return not retention_blockers(node, now, rules)
