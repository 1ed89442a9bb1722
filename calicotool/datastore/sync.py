"""Bringing a store in line with desired resources: read what is there, plan, apply. Used by every
`apply`/`diff` command (generic, policy, rr) so they behave the same."""

from __future__ import annotations

from collections.abc import Iterable

from calicotool.datastore.base import BatchResult, Store
from calicotool.datastore.labelselector import parse_label_selector
from calicotool.datastore.plan import ApplyPlan, plan_apply
from calicotool.model.resource import Resource


def fetch_current(store: Store, kinds: Iterable[str]) -> list[Resource]:
    """Every object of `kinds` in the store (all namespaces), one list call per kind."""
    out: list[Resource] = []
    for kind in sorted(set(kinds)):
        out.extend(store.list(kind))
    return out


def plan_against(
    store: Store,
    desired: list[Resource],
    prune: bool = False,
    prune_kinds: set[str] | None = None,
    prune_selector: str | None = None,
) -> tuple[ApplyPlan, list[Resource]]:
    kinds = {r.info.name for r in desired} | (prune_kinds or set())
    current = fetch_current(store, kinds)
    scope = prune_kinds if prune_kinds is not None else {r.info.name for r in desired}
    selector = parse_label_selector(prune_selector) if prune_selector else None
    accept = (lambda r: selector.matches(r.labels)) if selector is not None else None
    return plan_apply(current, desired, prune=prune, prune_scope=scope, prune_selector=accept), current


def execute(store: Store, plan: ApplyPlan) -> BatchResult:
    if plan.empty:
        return BatchResult()
    return store.apply_batch(plan.changes)
