"""Walking one endpoint's policy for one direction, the way Felix orders its chains.

Only tiers holding an enforced (non-staged) policy that selects the endpoint for this direction take part, in
(order, name) order with a missing order last; inside a tier policies go by (order, name) and rules in order.
Allow/Deny end the walk, Pass skips to the next tier, Log records and continues; a tier where nothing matched
applies its defaultAction (Deny, or Pass on to the next tier). Untracked and pre-DNAT tiers (HostEndpoints only)
have no default action: unmatched packets fall through to the next stage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from calicotool.evaluate.model import Direction, PolicyTrace, TierTrace
from calicotool.evaluate.policies import DEFAULT_TIER_ORDER, CompiledPolicy, MatchContext, TierInfo


@dataclass
class Decision:
    action: str  # Allow | Deny
    by_default: bool  # the tier's default action rather than a rule
    tier: str
    policy: str | None = None
    rule_index: int | None = None


def evaluate_policy(pol: CompiledPolicy, direction: Direction, ctx: MatchContext) -> PolicyTrace:
    trace = PolicyTrace(pol.qualified_name, pol.kind, pol.tier, pol.order, pol.staged)
    for rule in pol.rules(direction):
        if rule.matches(ctx):
            if rule.action == "Log":
                trace.logged.append(rule.index)
                continue
            trace.rule_index, trace.action = rule.index, rule.action
            break
    return trace


def tier_info(tiers: dict[str, TierInfo], name: str) -> TierInfo:
    found = tiers.get(name)
    if found is not None:
        return found
    return TierInfo(name, DEFAULT_TIER_ORDER if name == "default" else None)


def walk_tiers(
    policies: Sequence[CompiledPolicy],
    tiers: dict[str, TierInfo],
    direction: Direction,
    ctx: MatchContext,
    stage: str,
    out: list[TierTrace],
) -> Decision | None:
    """Evaluate enforced `policies` (already sorted by tier then policy order); append a TierTrace per tier."""
    groups: dict[str, list[CompiledPolicy]] = {}
    for pol in policies:
        groups.setdefault(pol.tier, []).append(pol)
    ordered = sorted(groups, key=lambda name: tier_info(tiers, name).sort_key)
    for name in ordered:
        info = tier_info(tiers, name)
        order = None if info.order is None or math.isinf(info.order) else info.order
        tt = TierTrace(name, order, info.default_action, stage)
        out.append(tt)
        passed = False
        for pol in groups[name]:
            pt = evaluate_policy(pol, direction, ctx)
            tt.policies.append(pt)
            if pt.action in ("Allow", "Deny"):
                tt.outcome = pt.action.lower()
                return Decision(pt.action, False, name, pt.name, pt.rule_index)
            if pt.action == "Pass":
                tt.outcome, passed = "pass", True
                break
        if passed:
            continue
        if stage != "normal":
            tt.outcome = "no-match"
        elif info.default_action == "Pass":
            tt.outcome = "default-pass"
        else:
            tt.outcome = "default-deny"
            return Decision("Deny", True, name)
    return None
