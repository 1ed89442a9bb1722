"""stage() builds the Resource a write reads back as without re-reading it: prove it equals a real get()."""

from __future__ import annotations

import uuid

import pytest

from calicotool.datastore import etcd_layout
from calicotool.datastore.base import Change, Op
from calicotool.model.resource import Resource
from tests.datastore.backend_etcd import EtcdStoreFactory, etcd_store_factory  # noqa: F401 - fixture
from tests.datastore.test_etcd_layout import block

pytestmark = pytest.mark.etcd


def _samples() -> list[Resource]:
    rule = {"action": "Allow", "protocol": "TCP", "destination": {"ports": [80, "8000:8080"], "nets": ("10.0.0.0/8",)}}
    return [
        Resource.new("GlobalNetworkPolicy", "plain", {"order": 1.5, "ingress": [rule], "selector": "all()"}, labels={"a": "b"}),
        Resource.new("GlobalNetworkPolicy", "default.prefixed", {"order": 2}),
        Resource.new("GlobalNetworkPolicy", "security.gnp", {"tier": "security", "order": 3}),
        Resource.new("NetworkPolicy", "web", {"selector": "app == 'web'", "egress": [rule]}, namespace="prod"),
        Resource.new("NetworkPolicy", "platform.web", {"tier": "platform"}, namespace="prod", annotations={"x": "ü"}),
        Resource.new("StagedNetworkPolicy", "staged", {"order": 4}),  # no namespace: kept in `default`
        Resource.new("NetworkPolicy", "knp.default.k8s", {"order": 1000}, namespace="prod"),
        Resource.new("NetworkSet", "ext", {"nets": ["1.2.3.0/24"]}, namespace="ns1"),
        Resource.new("BGPPeer", "rr", {"peerIP": "10.0.0.1", "asNumber": 64512}, namespace="ignored"),
        Resource.new("Tier", "security", {"order": 100}),
        Resource("projectcalico.org/v3", "Node", {"name": "n1", "generation": 3}, {"bgp": {}}, {"podCIDRs": []}),
        block(),
        Resource.new("IPAMHandle", "k8s-pod-network.abc", {"handleID": "k8s-pod-network.abc", "block": {"10.0.0.0/26": 1}}),
        Resource.new(
            "BlockAffinity",
            "node-1-10-0-0-0-26",
            {"cidr": "10.0.0.0/26", "node": "node-1", "state": "confirmed", "deleted": False},
        ),
        Resource.new("IPAMConfiguration", "default", {"strictAffinity": True, "autoAllocateBlocks": True}),
    ]


def _reads_back(store: object, res: Resource) -> Resource:
    got = store.get(res.info.name, res.name, res.namespace or None)  # type: ignore[attr-defined]
    assert isinstance(got, Resource)
    return got


def test_stage_result_is_what_get_returns(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    for original in _samples():
        created = store.create(original)
        got = _reads_back(store, created)
        assert created.to_dict() == got.to_dict(), original.key
        assert type(created.spec) is dict and created.status == got.status
        assert created.resource_version and uuid.UUID(created.metadata["uid"]).version == 4
        # an update keeps uid/creationTimestamp and still reads back exactly
        edited = created.copy()
        edited.metadata.setdefault("labels", {})["edited"] = "yes"
        updated = store.update(edited)
        assert updated.to_dict() == _reads_back(store, created).to_dict(), original.key
        assert updated.metadata["uid"] == created.metadata["uid"]


def test_batch_results_are_what_get_returns(etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    store = etcd_store_factory()
    samples = _samples()
    result = store.apply_batch([Change(Op.CREATE, r) for r in samples])
    assert result.atomic and len(result.results) == len(samples)
    for res in result.results:
        assert res.to_dict() == _reads_back(store, res).to_dict(), res.key
    edits = [r.copy() for r in result.results]
    for res in edits:
        res.metadata.setdefault("annotations", {})["rev"] = "2"
    again = store.apply_batch([Change(Op.UPDATE, r) for r in edits])
    for before, res in zip(result.results, again.results, strict=True):
        assert res.to_dict() == _reads_back(store, res).to_dict(), res.key
        assert res.metadata["uid"] == before.metadata["uid"]


def test_stage_result_shares_nothing_with_the_input() -> None:
    for original in _samples():
        key = etcd_layout.key_for(original)
        _, staged = etcd_layout.stage(key, original, None)
        expected = staged.to_dict()
        for value in [original.metadata, original.spec, *original.spec.values(), *original.metadata.values()]:
            if isinstance(value, dict):
                value["mutated"] = True
            elif isinstance(value, list):
                value.append("mutated")
        assert staged.to_dict() == expected, original.key
        staged.spec["touched"] = 1
        assert "touched" not in original.spec


def test_minted_uids_are_random_rfc4122_version_4() -> None:
    tier = Resource.new("Tier", "t")
    key = etcd_layout.key_for(tier)
    uids = {etcd_layout.stage(key, tier, None)[1].metadata["uid"] for _ in range(200)}
    assert len(uids) == 200
    for uid in uids:
        parsed = uuid.UUID(uid)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == uid
