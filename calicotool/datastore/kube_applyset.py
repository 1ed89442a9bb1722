"""An ApplySet's parent on the Kubernetes API server (see model.applyset for the labels and the rules).

`apply --applyset` on Kubernetes: the members get the part-of label; the parent is written after every member
passed the server-side dry run and before the first member is written, listing the old and the new group-kinds
(so a crash in between never hides a member from a later prune); after the writes it lists exactly what the set
now holds. Pruning then covers every kind the set ever recorded, even one the manifests no longer contain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from calicotool import __version__
from calicotool.datastore.base import Store
from calicotool.datastore.kubernetes import KubeStore
from calicotool.datastore.plan import ApplyPlan
from calicotool.datastore.sync import plan_against
from calicotool.errors import InputError, Location, NotFound
from calicotool.model import applyset
from calicotool.model.applyset import ApplySetRef, ParentState
from calicotool.model.kinds import KINDS
from calicotool.model.resource import Resource


def _path(ref: ApplySetRef, name: bool = True) -> str:
    base = f"/api/v1/namespaces/{quote(ref.namespace, safe='')}/{ref.plural}"
    return f"{base}/{quote(ref.name, safe='')}" if name else base


@dataclass
class KubeApplySet:
    store: KubeStore
    ref: ApplySetRef
    current: dict[str, Any] | None
    recorded: ParentState | None  # what the parent lists now (None: no parent yet)

    @classmethod
    def open(cls, store: Store, ref: ApplySetRef) -> KubeApplySet:
        """Read the parent (if any) and refuse one that is not this tool's set, or a datastore without one."""
        if not isinstance(store, KubeStore):
            raise InputError("--applyset needs --datastore kubernetes: an ApplySet's parent is a Secret or ConfigMap "
                             "in the Kubernetes API", Location(field="--applyset"))
        try:
            current: dict[str, Any] | None = store.api.request("GET", _path(ref))
        except NotFound:
            current = None
        return cls(store, ref, current, applyset.read_parent(current, ref))

    def group_kind(self, res: Resource) -> str:
        endpoint, _ = self.store.storage_for(res.info)
        return applyset.group_kind(endpoint.kind, endpoint.group)

    def state_for(self, members: list[Resource]) -> ParentState:
        return applyset.state_of((self.group_kind(r) for r in members), (r.namespace for r in members), self.ref)

    def recorded_kinds(self) -> set[str]:
        """Our kind names for the group-kinds the parent lists (kinds calicotool does not know are left alone)."""
        if not self.recorded:
            return set()
        known: dict[str, str] = {}
        for info in KINDS.values():
            if info.has_crd:
                try:
                    endpoint, _ = self.store.storage_for(info)
                except NotFound:
                    continue
                known[applyset.group_kind(endpoint.kind, endpoint.group)] = info.name
        return {known[gk] for gk in self.recorded.group_kinds if gk in known}

    def write(self, state: ParentState, dry_run: bool = False) -> bool:
        """Create or update the parent to record `state`; False when it already does. A compare-and-swap: a
        concurrent apply to the same set gets a Conflict instead of a lost update."""
        wanted = applyset.parent_document(self.ref, state, __version__, self.current)
        if not applyset.parent_differs(self.current, wanted):
            return False
        query = [("dryRun", "All")] if dry_run else None
        try:
            if self.current is None:
                written = self.store.api.request("POST", _path(self.ref, name=False), query, body=wanted)
            else:
                written = self.store.api.request("PUT", _path(self.ref), query, body=wanted)
        except NotFound:
            raise InputError(f"cannot write the ApplySet parent {self.ref}: namespace {self.ref.namespace!r} does "
                             "not exist (pass --applyset-namespace)", Location(field="--applyset-namespace")) from None
        if not dry_run:
            self.current, self.recorded = written, state
        return True

    def plan(
        self, desired: list[Resource], prune: bool, prune_kinds: set[str] | None, prune_selector: str | None,
    ) -> tuple[list[Resource], ApplyPlan, list[Resource]]:
        """(members, plan, current): members labelled for the set; with `prune`, every kind the set recorded is in
        scope and only its members (part-of label) are candidates."""
        members = applyset.label_members(desired, self.ref)
        if prune:
            prune_kinds = (prune_kinds or {r.info.name for r in members}) | self.recorded_kinds()
            own = f"{applyset.PART_OF_LABEL}={self.ref.id}"
            prune_selector = f"{own},{prune_selector}" if prune_selector else own
        plan, current = plan_against(self.store, members, prune=prune, prune_kinds=prune_kinds,
                                     prune_selector=prune_selector)
        return members, plan, current

    def apply(self, members: list[Resource], plan: ApplyPlan, prune: bool,
              progress: Callable[[str, int, int], None]) -> bool:
        """Write `plan` and the parent around it (see the module docstring); True when the parent was written."""
        final = self.state_for(members)
        if not prune and self.recorded is not None:
            final = final.union(self.recorded)  # without --prune the old members stay in the set
        wrote = False
        if plan.changes:
            during = final.union(self.recorded) if self.recorded is not None else final
            self.write(during, dry_run=True)  # RBAC, a missing namespace: refused before any member is written
            count = len(plan.changes)
            progress("writing changes", 0, count)

            def write_parent() -> None:
                nonlocal wrote
                wrote = self.write(during)

            self.store.apply_batch(plan.changes, before_writes=write_parent)
            progress("writing changes", count, count)
        return self.write(final) or wrote
