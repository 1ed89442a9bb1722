"""Pure planning of `apply` / `diff` / `--prune`: desired resources vs current ones -> ordered Changes.

A plan is a value: print it, diff it, test it, then hand it to Store.apply_batch. Nothing here does I/O."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from calicotool.datastore.base import Change, Op
from calicotool.model import yamlio
from calicotool.model.resource import Resource, ResourceKey
from calicotool.model.server_defaults import normalized, same_declared_content


@dataclass
class ApplyPlan:
    changes: list[Change] = field(default_factory=list)
    unchanged: list[ResourceKey] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "delete": 0, "unchanged": len(self.unchanged)}
        for c in self.changes:
            out[c.op.value] += 1
        return out


def _order(change: Change) -> tuple[int, int, str]:
    info = change.resource.info
    # creates/updates in dependency order (tiers before policies); deletes last, in reverse order
    if change.op == Op.DELETE:
        return (1, -info.order, str(change.key))
    return (0, info.order, str(change.key))


def plan_apply(
    current: list[Resource],
    desired: list[Resource],
    prune: bool = False,
    prune_scope: set[str] | None = None,
    prune_selector: Callable[[Resource], bool] | None = None,
) -> ApplyPlan:
    """Changes that make `current` look like `desired`.

    Updates carry the current resourceVersion so a concurrent writer causes a Conflict, not a lost update.
    With `prune`, current objects that calicotool manages (managed-by label) and are absent from `desired` are
    deleted — restricted to kinds in `prune_scope` and objects `prune_selector` accepts, when given. Unmanaged
    objects are never pruned, nor objects whose owner labels (OWNER_LABELS) the desired objects do not carry, nor —
    when the desired objects carry owner labels — objects that carry none."""
    by_key = {r.key: r for r in current}
    plan = ApplyPlan()
    wanted: set[ResourceKey] = set()
    for res in desired:
        wanted.add(res.key)
        have = by_key.get(res.key)
        if have is None:
            plan.changes.append(Change(Op.CREATE, res.with_resource_version(None)))
        elif same_declared_content(res, have):
            plan.unchanged.append(res.key)
        else:
            plan.changes.append(Change(Op.UPDATE, res.with_resource_version(have.resource_version)))
    if prune:
        desired_owners = frozenset().union(*(r.owners for r in desired)) if desired else frozenset()
        for key, have in by_key.items():
            if key in wanted or not have.managed:
                continue
            if prune_scope is not None and key.kind not in prune_scope:
                continue
            if not have.owners <= desired_owners:  # owned by another command or rule set: not ours to prune
                continue
            if desired_owners and not have.owners:  # an owned apply never prunes what no owner label claims
                continue
            if prune_selector is not None and not prune_selector(have):
                continue
            plan.changes.append(Change(Op.DELETE, have))
    plan.changes.sort(key=_order)
    return plan


def _diff_text(res: Resource) -> list[str]:
    """An object as diff shows it: server defaults applied (they are not drift), mapping keys in a stable order
    (servers return them in their own), list order kept (Calico rules are ordered)."""
    return yamlio.dump(_sorted_keys(normalized(res).content())).splitlines(keepends=True)


def _sorted_keys(value: object) -> object:
    if isinstance(value, dict):
        first = [k for k in ("apiVersion", "kind", "metadata", "spec") if k in value]
        rest = sorted(k for k in value if k not in first)
        return {k: _sorted_keys(value[k]) for k in first + rest}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def unified_diff(current: Resource | None, desired: Resource | None) -> str:
    """kubectl-diff-like unified diff of two versions of one object (server-owned metadata left out)."""
    either = desired or current
    key = either.key if either is not None else "?"
    a = _diff_text(current) if current else []
    b = _diff_text(desired) if desired else []
    return "".join(difflib.unified_diff(a, b, fromfile=f"live/{key}", tofile=f"desired/{key}"))


def plan_diff(plan: ApplyPlan, current: list[Resource]) -> str:
    by_key = {r.key: r for r in current}
    parts = []
    for change in plan.changes:
        if change.op == Op.DELETE:
            parts.append(unified_diff(by_key.get(change.key), None))
        else:
            parts.append(unified_diff(by_key.get(change.key), change.resource))
    return "".join(parts)
