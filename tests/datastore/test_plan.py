"""Pure apply planning: create/update/unchanged, ordering, and who may be pruned."""

from __future__ import annotations

from calicotool.datastore.base import Op
from calicotool.datastore.plan import plan_apply, unified_diff
from calicotool.model.resource import MANAGED_BY_LABEL, Resource

MANAGED = {MANAGED_BY_LABEL: "calicotool"}


def gnp(name: str, order: int = 1, **labels: str) -> Resource:
    res = Resource.new("GlobalNetworkPolicy", name, {"selector": "all()", "order": order}, labels={**MANAGED, **labels})
    res.metadata["resourceVersion"] = "rv-" + name
    return res


def test_create_update_unchanged_and_rv_guard() -> None:
    current = [gnp("same"), gnp("changed", order=1)]
    desired = [gnp("same").with_resource_version(None), gnp("changed", order=2).with_resource_version(None), gnp("new")]
    plan = plan_apply(current, desired)
    ops = {(c.op, c.resource.name) for c in plan.changes}
    assert ops == {(Op.UPDATE, "changed"), (Op.CREATE, "new")}
    update = next(c for c in plan.changes if c.op == Op.UPDATE)
    assert update.resource.resource_version == "rv-changed"  # a concurrent writer will cause a Conflict
    assert [k.name for k in plan.unchanged] == ["same"]


def test_tiers_before_policies_and_deletes_last() -> None:
    current = [gnp("old")]
    desired = [gnp("p"), Resource.new("Tier", "t", {"order": 1}, labels=MANAGED)]
    plan = plan_apply(current, desired, prune=True)
    assert [(c.op, c.resource.kind) for c in plan.changes] == [
        (Op.CREATE, "Tier"), (Op.CREATE, "GlobalNetworkPolicy"), (Op.DELETE, "GlobalNetworkPolicy")]


def test_prune_spares_unmanaged_and_other_owners() -> None:
    current = [
        Resource.new("GlobalNetworkPolicy", "handmade", {"selector": "all()"}),
        gnp("from-other-ruleset", **{"calicotool.io/ruleset": "billing"}),
        gnp("from-this-ruleset", **{"calicotool.io/ruleset": "shop"}),
        gnp("unowned-managed"),
    ]
    desired = [gnp("kept", **{"calicotool.io/ruleset": "shop"})]
    plan = plan_apply(current, desired, prune=True)
    deleted = sorted(c.resource.name for c in plan.changes if c.op == Op.DELETE)
    assert deleted == ["from-this-ruleset"]  # an owned apply never prunes what carries no owner label


def test_prune_scope_and_selector() -> None:
    current = [gnp("a", team="red"), gnp("b", team="blue"), Resource.new("Tier", "t", {}, labels=MANAGED)]
    plan = plan_apply(current, [gnp("c")], prune=True, prune_scope={"GlobalNetworkPolicy"},
                      prune_selector=lambda r: r.labels.get("team") == "red")
    assert [c.resource.name for c in plan.changes if c.op == Op.DELETE] == ["a"]


def test_unified_diff_shows_field_change() -> None:
    text = unified_diff(gnp("x", order=1), gnp("x", order=2))
    assert "-  order: 1" in text and "+  order: 2" in text
    assert "resourceVersion" not in text
