"""Calico IPAM through the Store protocol: claim an affine block and assign/release addresses by handle.

Every write is compare-and-swap: blocks and affinities are created with create() (AlreadyExists = someone else
won), blocks and handles are updated with their resourceVersion (Conflict = re-read and retry). Two hosts
enrolling at once therefore never hand out the same address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from calicotool.datastore.base import Store
from calicotool.errors import AlreadyExists, Conflict, DatastoreError, NotFound
from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Resource
from calicotool.overlay import ipam
from calicotool.overlay.config import OverlayConfig

RETRIES = 50
_LABELS = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}


class PoolExhausted(DatastoreError):
    """No free block in the pool and no free address in the node's own blocks."""


@dataclass
class IpamJournal:
    """What an IPAM client changed, so a failed enrollment can be undone semantically."""

    claimed_blocks: list[str] = field(default_factory=list)  # CIDRs
    assigned_handles: list[str] = field(default_factory=list)


class IpamClient:
    def __init__(self, store: Store, journal: IpamJournal | None = None) -> None:
        self.store = store
        self.journal = journal or IpamJournal()

    # -- reading ------------------------------------------------------------------------------------------------
    def affine_blocks(self, node: str, cfg: OverlayConfig | None = None) -> list[Resource]:
        """`node`'s blocks, found as Calico does: through its BlockAffinities (small objects, where a list of every
        IPAMBlock carries each block's whole allocation map), each block read by name and kept only when the block
        itself names `node` as its affinity."""
        blocks = []
        for aff in self.store.list("BlockAffinity"):
            if aff.spec.get("node") != node or str(aff.spec.get("deleted", False)).lower() == "true":
                continue
            try:
                block = self.store.get("IPAMBlock", ipam.block_name(aff.spec["cidr"]))
            except NotFound:
                continue  # a claim in progress (pending affinity, block not created yet) or one being undone
            if ipam.affinity_host(block.spec) == node and not block.spec.get("deleted"):
                blocks.append(block)
        if cfg is not None:
            blocks = [b for b in blocks if ipam.block_network(b.spec).subnet_of(cfg.pool_cidr)]
        return sorted(blocks, key=lambda b: ipam.block_network(b.spec))

    def addresses(self, handle: str) -> list[ipaddress.IPv4Address]:
        """Addresses held by `handle`, following the handle's block map (empty if the handle does not exist)."""
        try:
            h = self.store.get("IPAMHandle", handle)
        except NotFound:
            return []
        out: list[ipaddress.IPv4Address] = []
        for cidr in sorted(h.spec.get("block") or {}):
            try:
                block = self.store.get("IPAMBlock", ipam.block_name(cidr))
            except NotFound:
                continue
            out.extend(ipam.addresses_for_handle(block.spec, handle))
        return out

    # -- claiming -----------------------------------------------------------------------------------------------
    def claim_block(self, node: str, cfg: OverlayConfig) -> Resource:
        """Claim the lowest free block of the pool for `node`, as Calico does: pending BlockAffinity, then the
        block (create = CAS), then confirm the affinity."""
        for _ in range(RETRIES):
            taken = [b.spec["cidr"] for b in self.store.list("IPAMBlock")]
            cidr = next(ipam.free_blocks(cfg.pool_cidr, cfg.block_size, taken), None)
            if cidr is None:
                raise PoolExhausted(
                    f"IPPool {cfg.pool_name} ({cfg.pool_cidr}, blockSize {cfg.block_size}) is exhausted: every "
                    f"block is claimed and none of {node}'s blocks has a free address")
            aff_name = ipam.affinity_name(node, cidr)
            try:
                aff = self.store.create(Resource.new("BlockAffinity", aff_name, ipam.new_affinity(node, cidr),
                                                     labels=_LABELS))
            except AlreadyExists:
                aff = self.store.get("BlockAffinity", aff_name)
            try:
                block = self.store.create(Resource.new("IPAMBlock", ipam.block_name(cidr),
                                                       ipam.new_block(cidr, node), labels=_LABELS))
            except AlreadyExists:  # another node won this block: drop our pending claim and try the next
                self._delete_quietly("BlockAffinity", aff_name, aff.resource_version)
                continue
            self.journal.claimed_blocks.append(str(cidr))
            confirmed = aff.copy()
            confirmed.spec["state"] = ipam.AFFINITY_CONFIRMED
            self.store.update(confirmed)
            return block
        raise DatastoreError(f"could not claim a block for {node}: too much contention ({RETRIES} attempts)")

    # -- assigning ----------------------------------------------------------------------------------------------
    def assign(self, handle: str, node: str, secondary: dict[str, str], cfg: OverlayConfig) -> ipaddress.IPv4Address:
        """The address held by `handle`, assigning one from `node`'s affine blocks (claiming a block if they are
        full) when it holds none. Idempotent: the same handle always gets its existing address back."""
        existing = self.addresses(handle)
        if existing:
            return existing[0]
        for _ in range(RETRIES):
            for block in self.affine_blocks(node, cfg):
                done = ipam.assign(block.spec, handle, secondary)
                if done is None:
                    continue
                spec, address = done
                updated = block.copy()
                updated.spec = spec
                try:
                    self.store.update(updated)
                except (Conflict, NotFound):
                    break  # re-read the blocks and try again
                self.journal.assigned_handles.append(handle)
                self._count_in_handle(handle, str(ipam.block_network(spec)))
                return address
            else:
                self.claim_block(node, cfg)
        raise DatastoreError(f"could not assign an address for {handle}: too much contention ({RETRIES} attempts)")

    def _count_in_handle(self, handle: str, cidr: str) -> None:
        for _ in range(RETRIES):
            try:
                current = self.store.get("IPAMHandle", handle)
            except NotFound:
                try:
                    self.store.create(Resource.new("IPAMHandle", handle, ipam.handle_add(None, handle, cidr),
                                                   labels=_LABELS))
                    return
                except AlreadyExists:
                    continue
            updated = current.copy()
            updated.spec = ipam.handle_add(current.spec, handle, cidr)
            try:
                self.store.update(updated)
                return
            except (Conflict, NotFound):
                continue
        raise DatastoreError(f"could not update IPAMHandle {handle}: too much contention")

    # -- releasing ----------------------------------------------------------------------------------------------
    def release(self, handle: str, node: str | None = None) -> int:
        """Free every address of `handle` (following its handle, else scanning `node`'s blocks), delete the
        handle. Returns the number of addresses released."""
        try:
            h = self.store.get("IPAMHandle", handle)
            cidrs = sorted((h.spec.get("block") or {}).keys())
        except NotFound:
            h, cidrs = None, []
        if node is not None:
            cidrs = sorted(set(cidrs) | {b.spec["cidr"] for b in self.affine_blocks(node)})
        released = 0
        for cidr in cidrs:
            released += self._release_in_block(handle, cidr)
        if h is not None:
            self._delete_quietly("IPAMHandle", handle, None)
        return released

    def _release_in_block(self, handle: str, cidr: str) -> int:
        for _ in range(RETRIES):
            try:
                block = self.store.get("IPAMBlock", ipam.block_name(cidr))
            except NotFound:
                return 0
            spec, count = ipam.release(block.spec, handle)
            if not count:
                return 0
            updated = block.copy()
            updated.spec = spec
            try:
                self.store.update(updated)
                return count
            except (Conflict, NotFound):
                continue
        raise DatastoreError(f"could not release {handle} in block {cidr}: too much contention")

    def release_empty_blocks(self, node: str, only: list[str] | None = None) -> list[str]:
        """Delete `node`'s blocks that hold no allocation (and their affinities); CAS-guarded, so a block that
        gains an allocation concurrently is kept."""
        freed = []
        for block in self.affine_blocks(node):
            cidr = block.spec["cidr"]
            if (only is not None and cidr not in only) or not ipam.is_empty(block.spec):
                continue
            try:
                self.store.delete("IPAMBlock", block.name, resource_version=block.resource_version)
            except (Conflict, NotFound):
                continue
            self._delete_quietly("BlockAffinity", ipam.affinity_name(node, cidr), None)
            freed.append(cidr)
        return freed

    def _delete_quietly(self, kind: str, name: str, rv: str | None) -> None:
        try:
            self.store.delete(kind, name, resource_version=rv)
        except (NotFound, Conflict):
            pass
