"""Which live objects a rule set owns, and the plan that brings them to what it generates now (pure).

Only objects of this rule set (label calicotool.io/ruleset) can be pruned: objects other rule sets or other
calicotool commands manage, and anything unmanaged, are never deleted.
"""

from __future__ import annotations

from calicotool.datastore.plan import ApplyPlan, plan_apply
from calicotool.model.resource import Resource
from calicotool.policy.generate import POLICY_PRUNE_KINDS
from calicotool.policy.spec import RULESET_LABEL


def owned_objects(current: list[Resource], resources: list[Resource], ruleset: str) -> list[Resource]:
    """The live objects `ruleset` answers for: those it generates now and those it generated before."""
    wanted = {r.key for r in resources}
    return [r for r in current if r.key in wanted or (r.managed and r.labels.get(RULESET_LABEL) == ruleset)]


def plan_ruleset(
    current: list[Resource], resources: list[Resource], ruleset: str, prune: bool
) -> tuple[ApplyPlan, list[Resource]]:
    """Plan live (`current`, every object of POLICY_PRUNE_KINDS) -> `resources`; returns the plan and the owned
    objects it was computed against (what a diff compares with)."""
    ours = owned_objects(current, resources, ruleset)
    return plan_apply(ours, resources, prune=prune, prune_scope=set(POLICY_PRUNE_KINDS)), ours
