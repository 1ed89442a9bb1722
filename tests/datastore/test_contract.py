"""The Store contract, run unchanged against every backend (directory, real etcd, the Kubernetes fake API server, and a
real kube-apiserver with Calico's v1 CRDs, native v3 CRDs, and v3 CRDs with Calico's admission policies)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from calicotool.datastore.base import BatchResult, Change, Op, Store
from calicotool.errors import AlreadyExists, Conflict, DatastoreError, NotFound
from calicotool.model.resource import MANAGED_BY_LABEL, Resource
from calicotool.model.server_defaults import same_declared_content

StoreFactory = Callable[[], Store]


def gnp(name: str, order: float = 100, labels: dict[str, str] | None = None) -> Resource:
    return Resource.new(
        "GlobalNetworkPolicy",
        name,
        {
            "order": order,
            "selector": "role == 'db'",
            "types": ["Ingress"],
            "ingress": [
                {"action": "Allow", "protocol": "TCP", "source": {"selector": "role == 'api'"}, "destination": {"ports": [5432]}},
                {"action": "Deny"},
            ],
        },
        labels=labels,
    )


def np_(name: str, namespace: str, labels: dict[str, str] | None = None) -> Resource:
    return Resource.new(
        "NetworkPolicy", name, {"selector": "app == 'web'", "types": ["Ingress"]}, namespace=namespace, labels=labels
    )


def test_create_get_roundtrip_keeps_rule_order(store: Store) -> None:
    created = store.create(gnp("db-ingress"))
    assert created.resource_version
    got = store.get("GlobalNetworkPolicy", "db-ingress")
    assert got.spec["ingress"][0]["action"] == "Allow"
    assert got.spec["ingress"][1]["action"] == "Deny"
    assert got.spec["ingress"][0]["destination"]["ports"] == [5432]
    assert got.resource_version == created.resource_version
    assert same_declared_content(gnp("db-ingress"), got)  # a real server adds schema defaults (spec.tier)


def test_create_twice_is_already_exists(store: Store) -> None:
    store.create(gnp("dup"))
    with pytest.raises(AlreadyExists):
        store.create(gnp("dup"))


def test_get_missing_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.get("GlobalNetworkPolicy", "nope")
    with pytest.raises(NotFound):
        store.get("NetworkPolicy", "nope", "default")


def test_update_guarded_by_resource_version(store: Store) -> None:
    first = store.create(gnp("guarded", order=1))
    changed = first.copy()
    changed.spec["order"] = 2
    second = store.update(changed)
    assert second.resource_version != first.resource_version
    assert store.get("GlobalNetworkPolicy", "guarded").spec["order"] == 2
    stale = first.copy()
    stale.spec["order"] = 3
    with pytest.raises(Conflict):
        store.update(stale)
    assert store.get("GlobalNetworkPolicy", "guarded").spec["order"] == 2


def test_update_missing_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.update(gnp("ghost"))


def test_delete(store: Store) -> None:
    created = store.create(gnp("gone"))
    updated = created.copy()
    updated.spec["order"] = 5
    store.update(updated)
    with pytest.raises(Conflict):
        store.delete("GlobalNetworkPolicy", "gone", resource_version=created.resource_version)
    store.delete("GlobalNetworkPolicy", "gone")
    with pytest.raises(NotFound):
        store.get("GlobalNetworkPolicy", "gone")
    with pytest.raises(NotFound):
        store.delete("GlobalNetworkPolicy", "gone")


def test_namespaces_are_separate(store: Store) -> None:
    store.create(np_("web", "prod"))
    store.create(np_("web", "dev"))
    assert {r.namespace for r in store.list("NetworkPolicy")} == {"prod", "dev"}
    assert [r.namespace for r in store.list("NetworkPolicy", namespace="dev")] == ["dev"]
    store.delete("NetworkPolicy", "web", "dev")
    assert [r.namespace for r in store.list("NetworkPolicy")] == ["prod"]


@pytest.mark.parametrize(
    "selector, expected",
    [
        ("team=red", {"a", "c"}),
        ("team!=red", {"b", "d"}),  # absent label matches !=
        ("team in (red,blue)", {"a", "b", "c"}),
        ("team notin (red)", {"b", "d"}),
        ("env", {"a", "b"}),
        ("!env", {"c", "d"}),
        ("team=red,env=prod", {"a"}),
        ("", {"a", "b", "c", "d"}),
    ],
)
def test_list_with_label_selector(store: Store, selector: str, expected: set[str]) -> None:
    labels = {
        "a": {"team": "red", "env": "prod"},
        "b": {"team": "blue", "env": "dev"},
        "c": {"team": "red"},
        "d": {},
    }
    for name, lab in labels.items():
        store.create(gnp(name, labels=lab or None))
    got = {r.name for r in store.list("GlobalNetworkPolicy", label_selector=selector or None)}
    assert got == expected


def test_kinds_are_separate(store: Store) -> None:
    store.create(gnp("x"))
    store.create(Resource.new("Tier", "x", {"order": 100}))
    store.create(Resource.new("BGPPeer", "x", {"peerIP": "192.0.2.1", "asNumber": 64512}))
    assert [r.kind for r in store.list("Tier")] == ["Tier"]
    assert [r.name for r in store.list("BGPPeer")] == ["x"]
    assert store.get("BGPPeer", "x").spec["asNumber"] == 64512


def test_batch_applies_in_order(store: Store) -> None:
    existing = store.create(gnp("old"))
    result = store.apply_batch(
        [
            Change(Op.CREATE, Resource.new("Tier", "security", {"order": 10})),
            Change(Op.CREATE, gnp("new")),
            Change(Op.DELETE, existing),
        ]
    )
    assert isinstance(result, BatchResult)
    assert len(result.applied) == 3
    assert {r.name for r in store.list("GlobalNetworkPolicy")} == {"new"}
    assert [r.name for r in store.list("Tier")] == ["security"]


def test_failed_batch_is_all_or_nothing_or_reports_exactly(store: Store) -> None:
    store.create(gnp("taken"))
    batch = [
        Change(Op.CREATE, gnp("first")),
        Change(Op.CREATE, Resource.new("Tier", "t1", {"order": 1})),
        Change(Op.CREATE, gnp("taken")),  # fails: exists
        Change(Op.CREATE, gnp("never")),
    ]
    with pytest.raises(DatastoreError) as info:
        store.apply_batch(batch)
    partial = getattr(info.value, "partial", None)
    names = {r.name for r in store.list("GlobalNetworkPolicy")} | {r.name for r in store.list("Tier")}
    if partial is None or not partial.applied:  # transactional (or dry-run-first) backends: nothing took effect
        assert names == {"taken"}
        assert partial is None or "nothing was written" in str(info.value)
    else:  # ordered backends: the error says exactly what was written
        assert isinstance(partial, BatchResult) and partial.atomic is False
        written = {c.resource.name for c in partial.applied}
        assert written == {"first", "t1"}
        assert names == {"taken"} | written


def test_two_clients_conflict_not_lost_update(store_factory: StoreFactory) -> None:
    a, b = store_factory(), store_factory()
    try:
        base = a.create(gnp("shared", order=1))
        mine = base.copy()
        mine.spec["order"] = 10
        theirs = b.get("GlobalNetworkPolicy", "shared")
        theirs.spec["order"] = 20
        b.update(theirs)
        with pytest.raises(Conflict):
            a.update(mine)
        assert a.get("GlobalNetworkPolicy", "shared").spec["order"] == 20
    finally:
        a.close()
        b.close()


def test_lock_excludes_second_holder(store_factory: StoreFactory) -> None:
    a, b = store_factory(), store_factory()
    try:
        with a.lock("contract", ttl_seconds=30):
            with pytest.raises(Conflict):
                with b.lock("contract", ttl_seconds=30, wait_seconds=0.2):
                    pass
        with b.lock("contract", ttl_seconds=30):  # released: free again
            pass
    finally:
        a.close()
        b.close()


def test_check_reports_backend(store: Store) -> None:
    info = store.check()
    assert info.backend in {"dir", "etcdv3", "kubernetes"}
    assert "projectcalico.org" in info.api_group


def test_managed_label_round_trips(store: Store) -> None:
    store.create(gnp("owned", labels={MANAGED_BY_LABEL: "calicotool"}))
    assert store.get("GlobalNetworkPolicy", "owned").managed
    assert [r.name for r in store.list("GlobalNetworkPolicy", label_selector=f"{MANAGED_BY_LABEL}=calicotool")] == ["owned"]
