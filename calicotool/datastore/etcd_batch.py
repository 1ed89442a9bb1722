"""apply_batch for the etcd store: every change of a batch in one etcd transaction, all-or-nothing.

The transaction holds one compare per change (create: the key is absent; update/delete: its mod revision is the one
read just before) and then every put/delete; a refusal is followed by a read of the keys to name the change that
broke. Guards are checked against a read of every key first, so a batch that must be split into several
transactions (more than `max_txn_ops` changes or `max_txn_bytes` of values) writes nothing unless all its guards
hold; it then reports `atomic=False`, and if a concurrent writer breaks a later transaction the error says how many
changes the earlier ones had already committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from calicotool.datastore import etcd_layout
from calicotool.datastore.base import BatchResult, Change, Op
from calicotool.datastore.etcd_gateway import (
    KeyValue,
    cmp_absent,
    cmp_mod,
    key_after,
    op_delete,
    op_get,
    op_put,
    txn_ranges,
)
from calicotool.errors import AlreadyExists, Conflict, DatastoreError, InputError, NotFound
from calicotool.model.resource import Resource

if TYPE_CHECKING:
    from calicotool.datastore.etcdv3 import EtcdStore


@dataclass
class _Step:
    change: Change
    key: str
    observed: KeyValue | None = None
    stored: Resource | None = None  # what create/update writes (None for delete)
    value: bytes = b""

    @property
    def size(self) -> int:
        return len(self.value) + 3 * len(self.key) + 64


def apply(store: EtcdStore, changes: list[Change]) -> BatchResult:
    if not changes:
        return BatchResult()
    steps = [_Step(c, _key(store, c)) for c in changes]
    seen: dict[str, Change] = {}
    for step in steps:
        if step.key in seen:
            raise InputError(f"batch changes {step.change.key} twice ({seen[step.key].describe()}, {step.change.describe()})")
        seen[step.key] = step.change

    only_creates = all(s.change.op is Op.CREATE for s in steps)
    if not (only_creates and len(steps) <= store.max_txn_ops):
        _observe(store, steps)
        for step in steps:
            _check_guard(step)
    for step in steps:
        if step.change.op is Op.DELETE:
            continue
        current = None
        if step.change.op is Op.UPDATE and step.observed is not None:
            current = etcd_layout.decode(step.key, step.observed.value, step.observed.mod_revision)
        step.value, step.stored = store.stage(step.key, step.change.resource, current)

    chunks = _chunks(steps, store.max_txn_ops, store.max_txn_bytes)
    result = BatchResult(atomic=len(chunks) == 1)
    for chunk in chunks:
        compares = [cmp_absent(s.key) if s.observed is None else cmp_mod(s.key, s.observed.mod_revision) for s in chunk]
        writes = [op_delete(s.key) if s.stored is None else op_put(s.key, s.value) for s in chunk]
        ok, answer = store.gateway.txn(compares, writes)
        if not ok:
            error = _diagnose(chunk, _read_back(store, chunk))
            if result.applied:
                cause = error.message.replace("; nothing was written", "")
                error = type(error)(
                    f"{cause}; this transaction wrote nothing, but the batch was split into {len(chunks)} "
                    f"transactions (max_txn_ops={store.max_txn_ops}) and {len(result.applied)} earlier changes "
                    "were already committed"
                )
                error.partial = result  # type: ignore[attr-defined]  # what was written, as ordered backends report
            raise error
        revision = _revision(answer)
        for step in chunk:
            result.applied.append(step.change)
            result.results.append(_result(step, revision))
    return result


def _key(store: EtcdStore, change: Change) -> str:
    """The key a change touches. A delete needs only the identity (IPAM names may need a look-up)."""
    if change.op is not Op.DELETE:
        return store.key_for(change.resource)
    res = change.resource
    info = etcd_layout.etcd_kind(res.info.name)
    keys = etcd_layout.keys_for_name(info, res.name, res.namespace, store._naming_for(info))
    if len(keys) == 1:
        return keys[0]
    try:
        return store._locate(info, res.name, res.namespace)[0]
    except NotFound:
        if keys:
            return keys[0]  # absent: the guard check reports it
        raise NotFound(f"cannot delete {change.key}: not found in etcd; nothing was written") from None


def _observe(store: EtcdStore, steps: list[_Step]) -> None:
    """Read every key the batch touches. Keys sharing a parent (a kind's or a namespace's policies...) are read in
    a few range requests over their span when that span holds few other keys; the rest by key, in read-only
    transactions of at most max_txn_ops ranges (etcd answers one 1,000-key range ~10x faster than 1,000 gets)."""
    by_parent: dict[str, list[_Step]] = {}
    for step in steps:
        by_parent.setdefault(step.key.rpartition("/")[0], []).append(step)
    singles: list[_Step] = []
    for group in by_parent.values():
        if len(group) < _SPAN_MIN or not _observe_span(store, group):
            singles.extend(group)
    size = store.max_txn_ops
    for start in range(0, len(singles), size):
        part = singles[start : start + size]
        _, answer = store.gateway.txn([], [op_get(s.key) for s in part])
        for step, kv in zip(part, txn_ranges(answer), strict=False):
            step.observed = kv


_SPAN_MIN = 32  # smaller groups: a span read saves little over per-key gets


def _observe_span(store: EtcdStore, group: list[_Step]) -> bool:
    """Read `group`'s keys by paging through [first key, last key] at one revision. False, having set nothing,
    when the span holds more than as many other keys as the group has (reading by key is then cheaper)."""
    keys = sorted(s.key for s in group)
    wanted, budget = set(keys), 2 * len(keys)
    end, start, revision = key_after(keys[-1]), keys[0], "0"
    found: dict[str, KeyValue] = {}
    read = 0
    while True:
        kvs, header_revision, more = store.gateway.range(start, end, limit=min(store.page_size, budget + 1), revision=revision)
        read += len(kvs)
        if read > budget:
            return False
        found.update((kv.key, kv) for kv in kvs if kv.key in wanted)
        revision = revision if revision != "0" else header_revision
        if not more or not kvs:
            break
        start = kvs[-1].key + "\x00"
    for step in group:
        step.observed = found.get(step.key)
    return True


def _read_back(store: EtcdStore, chunk: list[_Step]) -> list[KeyValue | None]:
    """The chunk's keys as they are now, to name the change whose compare failed. Read after the refusal rather
    than in the transaction's failure branch: that branch would travel through raft with every batch (about 15% of
    a 1,000-create transaction's bytes) to serve only the rare refusal."""
    _, answer = store.gateway.txn([], [op_get(s.key) for s in chunk])
    return txn_ranges(answer)


def _check_guard(step: _Step) -> None:
    op, res, now = step.change.op, step.change.resource, step.observed
    if op is Op.CREATE:
        if now is not None:
            raise AlreadyExists(f"{step.change.key} already exists in etcd (key {step.key}); nothing was written")
        return
    if now is None:
        raise NotFound(f"cannot {op.value} {step.change.key}: not found in etcd (key {step.key}); nothing was written")
    wanted = res.resource_version
    if wanted is not None and wanted != now.mod_revision:
        raise Conflict(
            f"cannot {op.value} {step.change.key}: resourceVersion {wanted} expected, etcd has {now.mod_revision} "
            f"(key {step.key}); nothing was written"
        )


def _diagnose(chunk: list[_Step], now: list[KeyValue | None]) -> DatastoreError:
    """Name the first change whose compare failed, from the keys read back after the refusal (a key changed and
    changed back in between leaves only the generic Conflict; either way nothing was written)."""
    for step, kv in zip(chunk, now, strict=False):
        if step.observed is None and kv is not None:
            return AlreadyExists(f"{step.change.key} already exists in etcd (key {step.key}); nothing was written")
        if step.observed is not None and kv is None:
            return NotFound(f"{step.change.key} was deleted concurrently (key {step.key}); nothing was written")
        if step.observed is not None and kv is not None and kv.mod_revision != step.observed.mod_revision:
            return Conflict(
                f"{step.change.key} changed concurrently (key {step.key}, revision {step.observed.mod_revision} -> "
                f"{kv.mod_revision}); nothing was written"
            )
    return Conflict("the batch transaction was refused by etcd; nothing was written")


def _chunks(steps: list[_Step], max_ops: int, max_bytes: int) -> list[list[_Step]]:
    chunks: list[list[_Step]] = [[]]
    size = 0
    for step in steps:
        if chunks[-1] and (len(chunks[-1]) >= max_ops or size + step.size > max_bytes):
            chunks.append([])
            size = 0
        chunks[-1].append(step)
        size += step.size
    return chunks


def _revision(answer: dict[str, Any]) -> str:
    header = answer.get("header")
    return str(header.get("revision", "0")) if isinstance(header, dict) else "0"


def _result(step: _Step, revision: str) -> Resource:
    if step.stored is not None:  # our own copy: set the revision in place
        step.stored.metadata["resourceVersion"] = revision
        return step.stored
    if step.observed is not None:
        return etcd_layout.decode(step.key, step.observed.value, step.observed.mod_revision)
    return step.change.resource
