"""Batches as etcd transactions against a real etcd: all-or-nothing, chunking past max_txn_ops, concurrent writers."""

from __future__ import annotations

from typing import Any

import pytest

from calicotool.datastore.base import Change, Op
from calicotool.datastore.etcdv3 import EtcdStore
from calicotool.errors import AlreadyExists, Conflict, InputError, Invalid, NotFound
from calicotool.model.resource import Resource
from tests.datastore.backend_etcd import EtcdStoreFactory, etcd_store_factory  # noqa: F401 - fixture
from tests.fixtures.etcd import start_etcd

pytestmark = pytest.mark.etcd


def gnp(name: str, order: int = 10) -> Resource:
    return Resource.new("GlobalNetworkPolicy", name, {"order": order, "selector": "all()"})


def names(store: EtcdStore) -> set[str]:
    return {r.name for r in store.list("GlobalNetworkPolicy")} | {r.name for r in store.list("Tier")}


def test_mixed_batch_is_one_transaction(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    old = store.create(gnp("old"))
    edit = store.create(gnp("edit"))
    changed = edit.copy()
    changed.spec["order"] = 99
    result = store.apply_batch(
        [Change(Op.CREATE, Resource.new("Tier", "sec", {"order": 5})), Change(Op.UPDATE, changed), Change(Op.DELETE, old)]
    )
    assert result.atomic and [c.op for c in result.applied] == [Op.CREATE, Op.UPDATE, Op.DELETE]
    revisions = {r.resource_version for r in result.results[:2]}
    assert len(revisions) == 1  # one etcd revision: one transaction
    assert result.results[1].metadata["uid"] == edit.metadata["uid"]
    assert names(store) == {"edit", "sec"}
    assert store.get("GlobalNetworkPolicy", "edit").spec["order"] == 99


@pytest.mark.parametrize(
    "bad, error",
    [
        ("stale-update", Conflict),
        ("update-missing", NotFound),
        ("delete-missing", NotFound),
        ("create-existing", AlreadyExists),
    ],
)
def test_one_bad_guard_writes_nothing(etcd_store_factory: EtcdStoreFactory, bad: str, error: type) -> None:  # noqa: F811
    store = etcd_store_factory()
    first = store.create(gnp("existing", order=1))
    current = store.update(first.copy())
    victim = store.create(gnp("victim"))
    bad_change = {
        "stale-update": Change(Op.UPDATE, first),
        "update-missing": Change(Op.UPDATE, gnp("ghost")),
        "delete-missing": Change(Op.DELETE, gnp("ghost")),
        "create-existing": Change(Op.CREATE, gnp("existing")),
    }[bad]
    batch = [
        Change(Op.CREATE, gnp("new-1")),
        Change(Op.DELETE, victim),
        Change(Op.CREATE, Resource.new("Tier", "t1", {"order": 1})),
        bad_change,
        Change(Op.CREATE, gnp("new-2")),
    ]
    with pytest.raises(error, match="nothing was written"):
        store.apply_batch(batch)
    assert names(store) == {"existing", "victim"}
    assert store.get("GlobalNetworkPolicy", "existing").resource_version == current.resource_version


def test_duplicate_keys_in_a_batch_are_input_errors(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    with pytest.raises(InputError, match="twice"):
        store.apply_batch([Change(Op.CREATE, gnp("a")), Change(Op.DELETE, gnp("a"))])
    assert names(store) == set()


def test_batch_larger_than_max_txn_ops_is_split_and_says_so(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory(max_txn_ops="5")
    result = store.apply_batch([Change(Op.CREATE, gnp(f"c{i:02d}")) for i in range(12)])
    assert result.atomic is False and len(result.applied) == 12
    assert len({r.resource_version for r in result.results}) == 3  # 5 + 5 + 2
    assert len(names(store)) == 12


def test_split_batch_checks_every_guard_before_writing(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory(max_txn_ops="5")
    store.create(gnp("c10"))
    with pytest.raises(AlreadyExists, match="nothing was written"):
        store.apply_batch([Change(Op.CREATE, gnp(f"c{i:02d}")) for i in range(12)])
    assert names(store) == {"c10"}


def test_concurrent_writer_between_split_transactions_is_reported(
    etcd_store_factory: EtcdStoreFactory,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, rival = etcd_store_factory(max_txn_ops="4"), etcd_store_factory()
    real_txn = store.gateway.txn
    writes = {"n": 0}

    def txn_with_rival(compare: list[Any], success: list[Any], failure: list[Any] | None = None) -> Any:
        answer = real_txn(compare, success, failure)
        if compare:  # a write transaction; after the first one, another client creates a later key
            writes["n"] += 1
            if writes["n"] == 1:
                rival.create(gnp("c06"))
        return answer

    monkeypatch.setattr(store.gateway, "txn", txn_with_rival)
    with pytest.raises(AlreadyExists, match="4 earlier changes were already committed") as info:
        store.apply_batch([Change(Op.CREATE, gnp(f"c{i:02d}")) for i in range(10)])
    partial = info.value.partial  # type: ignore[attr-defined]
    assert partial.atomic is False and [c.resource.name for c in partial.applied] == ["c00", "c01", "c02", "c03"]
    assert names(store) == {"c00", "c01", "c02", "c03", "c06"}


def test_server_limit_below_ours_is_a_clear_error() -> None:
    server = start_etcd(max_txn_ops=3)
    try:
        store = EtcdStore.from_spec(f"{server.client_url}?max_txn_ops=50", {})
        with pytest.raises(Invalid, match="too many operations.*max_txn_ops"):
            store.apply_batch([Change(Op.CREATE, gnp(f"x{i}")) for i in range(5)])
        assert store.list("GlobalNetworkPolicy") == []
        store.close()
    finally:
        server.stop()


def test_refused_create_only_batch_names_the_existing_key(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    store.create(gnp("b"))
    tier = Resource.new("Tier", "t1", {"order": 1})
    # creates only, in one transaction: no read first, so the refusal itself is diagnosed
    with pytest.raises(AlreadyExists, match=r"GlobalNetworkPolicy/b already exists.*nothing was written"):
        store.apply_batch([Change(Op.CREATE, gnp("a")), Change(Op.CREATE, tier), Change(Op.CREATE, gnp("b"))])
    assert names(store) == {"b"}


def _count_calls(store: EtcdStore, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"range": 0, "read_txn": 0, "write_txn": 0}
    real_range, real_txn = store.gateway.range, store.gateway.txn

    def counting_range(*args: Any, **kwargs: Any) -> Any:
        calls["range"] += 1
        return real_range(*args, **kwargs)

    def counting_txn(compare: list[Any], success: list[Any], failure: list[Any] | None = None) -> Any:
        calls["write_txn" if compare else "read_txn"] += 1
        return real_txn(compare, success, failure)

    monkeypatch.setattr(store.gateway, "range", counting_range)
    monkeypatch.setattr(store.gateway, "txn", counting_txn)
    return calls


def test_split_batch_guards_read_as_one_span(etcd_store_factory: EtcdStoreFactory, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    store = etcd_store_factory(max_txn_ops="16")
    existing = {i: store.create(gnp(f"c{i:02d}", order=i)) for i in range(0, 40, 4)}  # c00, c04, ... c36
    store.create(gnp("c10-other"))  # inside the span, not in the batch
    batch: list[Change] = []
    for i in range(40):
        if i in existing and i % 8 == 0:
            batch.append(Change(Op.DELETE, existing[i]))
        elif i in existing:
            edit = existing[i].copy()
            edit.spec["order"] = 1000 + i
            batch.append(Change(Op.UPDATE, edit))
        else:
            batch.append(Change(Op.CREATE, gnp(f"c{i:02d}", order=i)))
    calls = _count_calls(store, monkeypatch)
    result = store.apply_batch(batch)
    assert calls == {"range": 1, "read_txn": 0, "write_txn": 3}  # one span read, 40 changes in 16 + 16 + 8
    assert result.atomic is False and len(result.results) == 40
    for change, res in zip(batch, result.results, strict=True):
        if change.op is Op.DELETE:  # what was deleted, as read before the batch
            assert res.to_dict() == change.resource.to_dict()
        elif change.op is Op.UPDATE:
            assert res.metadata["uid"] == change.resource.metadata["uid"] and res.spec["order"] >= 1000
    left = {r.name: r for r in store.list("GlobalNetworkPolicy")}
    assert set(left) == {f"c{i:02d}" for i in range(40) if not (i in existing and i % 8 == 0)} | {"c10-other"}
    assert left["c04"].spec["order"] == 1004 and left["c05"].spec["order"] == 5


@pytest.mark.parametrize("bad", ["stale-update", "create-existing"])
def test_split_batch_span_read_still_checks_every_guard(
    etcd_store_factory: EtcdStoreFactory,  # noqa: F811
    bad: str,
) -> None:
    store = etcd_store_factory(max_txn_ops="16")
    first = store.create(gnp("c33", order=1))
    store.update(first.copy())
    last = Change(Op.UPDATE, first) if bad == "stale-update" else Change(Op.CREATE, gnp("c33"))
    batch = [Change(Op.CREATE, gnp(f"c{i:02d}")) for i in range(40) if i != 33] + [last]
    with pytest.raises(Conflict if bad == "stale-update" else AlreadyExists, match="c33.*nothing was written"):
        store.apply_batch(batch)
    assert names(store) == {"c33"}


def test_crowded_span_falls_back_to_reading_by_key(
    etcd_store_factory: EtcdStoreFactory,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = etcd_store_factory(max_txn_ops="30")
    store.apply_batch([Change(Op.CREATE, gnp(f"c01-x{i:03d}")) for i in range(90)])  # 90 others inside the span
    store.create(gnp("c20"))
    calls = _count_calls(store, monkeypatch)
    with pytest.raises(AlreadyExists, match="c20"):
        store.apply_batch([Change(Op.CREATE, gnp(f"c{i:02d}")) for i in range(1, 41)])
    # gave up on the span after one page of 81 keys (> 2 x 40), then read the 40 keys in 30 + 10
    assert calls == {"range": 1, "read_txn": 2, "write_txn": 0}
    assert len(names(store)) == 91
    result = store.apply_batch([Change(Op.CREATE, gnp(f"c{i:02d}")) for i in range(21, 61)])
    assert len(result.results) == 40 and len(names(store)) == 131
