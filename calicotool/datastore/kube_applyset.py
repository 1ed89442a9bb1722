"""An ApplySet's parent on the Kubernetes API server (see model.applyset for the labels and the rules).

`apply --applyset` on Kubernetes: the members get the part-of label; the parent is written after every member
passed the server-side dry run and before the first member is written, listing the old and the new group-kinds
(so a crash in between never hides a member from a later prune); after the writes it lists exactly what the set
now holds. Pruning then covers every kind the set ever recorded, even one the manifests no longer contain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from calicotool import __version__
from calicotool.datastore.kubernetes import KubeStore
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
    def open(cls, store: KubeStore, ref: ApplySetRef) -> KubeApplySet:
        """Read the parent (if any) and refuse one that is not this tool's set."""
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
