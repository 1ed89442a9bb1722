"""Reconcile against real stores: converges, repeats write nothing, make-before-break, bounded, locked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from calicotool.bgp.options import PlanOptions
from calicotool.bgp.reconcile import LOCK_NAME, ReconcileConfig, reconcile_once
from calicotool.bgp.state import ROLE_LABEL
from calicotool.bgp.synthetic import generate_cluster
from calicotool.datastore.base import Store
from calicotool.datastore.directory import DirectoryStore
from calicotool.errors import Conflict
from calicotool.model.resource import Resource
from tests.bgp.conftest import CountingStore, FakeCalicoNode, seed

STATE = generate_cluster(30, 3, 2, seed=3)
NOW = STATE.now
OPTS = PlanOptions(ratio=0.1)


class FakeClock:
    def __init__(self, agent: FakeCalicoNode | None = None) -> None:
        self.t = 0.0
        self.agent = agent

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.5)
        if self.agent is not None:
            self.agent.step()


def run(store: Store, agent: FakeCalicoNode | None = None, **kw: object) -> object:
    clock = FakeClock(agent)
    cfg = ReconcileConfig(options=OPTS, timeout_seconds=30, poll_seconds=1, **kw)  # type: ignore[arg-type]
    return reconcile_once(store, cfg, now=NOW, clock=clock, sleep=clock.sleep)


def reflectors(store: Store) -> set[str]:
    return {n.name for n in store.list("Node") if n.labels.get(ROLE_LABEL) == "reflector"}


def test_converges_and_a_second_run_writes_nothing(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    agent = FakeCalicoNode(dir_store)
    counting = CountingStore(dir_store)
    first = run(counting, agent)
    assert first.converged and first.writes > 0  # type: ignore[attr-defined]
    assert agent.steps >= 1  # it waited for the new sessions
    assert len(dir_store.list("BGPPeer")) == len(first.plan.groups) + 1  # type: ignore[attr-defined]
    counting.writes.clear()
    second = run(counting, agent)
    assert second.converged and counting.writes == []  # type: ignore[attr-defined]


def test_sessions_not_established_keep_old_ones(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    agent = FakeCalicoNode(dir_store)
    run(dir_store, agent)
    before = reflectors(dir_store)
    victim = sorted(before)[0]
    k8s = dir_store.get("KubernetesNode", victim)
    # (the directory backend keeps no Kubernetes Node status, so unhealthiness arrives as the lifecycle taint)
    k8s.spec["taints"] = [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
    dir_store.update(k8s)
    agent.up = False  # the new reflector's sessions never come up
    result = run(dir_store, agent)
    assert not result.converged and "not Established" in result.stopped  # type: ignore[attr-defined]
    after = reflectors(dir_store)
    assert victim in after and len(after) == len(before) + 1  # new one added, old one not removed yet
    agent.up = True
    done = run(dir_store, agent)
    assert done.converged  # type: ignore[attr-defined]
    assert victim not in reflectors(dir_store) and len(reflectors(dir_store)) == len(before)


def test_make_before_break_order(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    agent = FakeCalicoNode(dir_store)
    run(dir_store, agent)
    victim = sorted(reflectors(dir_store))[0]
    k8s = dir_store.get("KubernetesNode", victim)
    k8s.spec["unschedulable"] = True
    dir_store.update(k8s)
    counting = CountingStore(dir_store)
    result = run(counting, agent)
    assert result.converged  # type: ignore[attr-defined]
    (new_rr,) = result.plan.promoted  # type: ignore[attr-defined]
    order = counting.writes
    last_victim_update = len(order) - 1 - order[::-1].index(f"update Node/{victim}")  # the demotion (break)
    assert order.index(f"update Node/{new_rr}") < last_victim_update
    assert order.index(f"create CalicoNodeStatus/calicotool-rr-{new_rr}") < order.index(
        f"delete CalicoNodeStatus/calicotool-rr-{victim}")


@pytest.mark.parametrize("max_changes", [1, 5, 17])
def test_max_changes_bounds_each_run_and_still_converges(dir_store: DirectoryStore, max_changes: int) -> None:
    seed(dir_store, STATE)
    agent = FakeCalicoNode(dir_store)
    counting = CountingStore(dir_store)
    total = len(run(dir_store, dry_run=True).planned)  # type: ignore[attr-defined]
    runs = 0
    for _ in range(200):
        runs += 1
        counting.writes.clear()
        result = run(counting, agent, max_changes=max_changes)
        assert len(counting.writes) <= max_changes
        if result.converged:  # type: ignore[attr-defined]
            break
    else:
        pytest.fail("did not converge")
    assert runs >= -(-total // max_changes)  # it really was spread over runs
    counting.writes.clear()
    assert run(counting, agent).converged and counting.writes == []  # type: ignore[attr-defined]


def test_dry_run_writes_nothing(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    counting = CountingStore(dir_store)
    result = run(counting, dry_run=True)
    assert counting.writes == [] and result.pending > 0  # type: ignore[attr-defined]


def test_a_held_lock_stops_a_second_run(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    counting = CountingStore(dir_store)
    other = DirectoryStore(dir_store.root)
    with other.lock(LOCK_NAME):
        with pytest.raises(Conflict):
            run(counting, wait=False)
    assert counting.writes == []


def test_unmanaged_peers_survive(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    tor = Resource.new("BGPPeer", "tor", {"peerIP": "192.0.2.1", "asNumber": 65000})
    dir_store.create(tor)
    agent = FakeCalicoNode(dir_store)
    assert run(dir_store, agent).converged  # type: ignore[attr-defined]
    assert dir_store.get("BGPPeer", "tor").spec == tor.spec


@pytest.mark.etcd
def test_converges_on_etcd_and_repeats_write_nothing(etcd_clean) -> None:  # type: ignore[no-untyped-def]
    from calicotool.datastore.factory import open_store

    store = open_store(etcd_clean.spec)
    try:
        seed(store, STATE, kubernetes_nodes=False)
        agent = FakeCalicoNode(store)
        first = run(store, agent)
        assert first.converged and first.writes > 0  # type: ignore[attr-defined]
        counting = CountingStore(store)
        assert run(counting, agent).converged and counting.writes == []  # type: ignore[attr-defined]
        assert len(reflectors(store)) == len(first.plan.reflectors)  # type: ignore[attr-defined]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("planned", "current", "expected"),
    [
        ({("a", "r1")}, set(), {("a", "r1")}),  # new session
        ({("a", "r1")}, {("a", "r1")}, set()),  # nothing changes: nothing to confirm
        ({("a", "r2")}, {("a", "r1"), ("a", "r2")}, {("a", "r2")}),  # a loses r1: its remaining r2 must be up
        ({("a", "r2"), ("b", "r2")}, {("a", "r1"), ("a", "r2"), ("b", "r2")}, {("a", "r2")}),  # b unaffected
    ],
)
def test_sessions_to_confirm_before_break(planned: set, current: set, expected: set) -> None:
    from calicotool.bgp.reconcile import sessions_to_confirm

    assert sessions_to_confirm(planned, current) == expected


def test_break_waits_for_the_sessions_that_remain(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    agent = FakeCalicoNode(dir_store)
    first = run(dir_store, agent)
    assert first.converged  # type: ignore[attr-defined]
    kept = {s for s in first.plan.reflectors if dir_store.get("Node", s).labels.get("topology.kubernetes.io/zone")  # type: ignore[attr-defined]
            != "zone-c"}
    agent.up = False  # sessions drop (say, a partition) just as zone-c stops being allowed to host reflectors
    agent.step()
    clock = FakeClock(agent)
    rules = replace(OPTS.rules, exclude_labels=("topology.kubernetes.io/zone=zone-c",))
    cfg = ReconcileConfig(options=replace(OPTS, rules=rules), timeout_seconds=5, poll_seconds=1)
    result = reconcile_once(dir_store, cfg, now=NOW, clock=clock, sleep=clock.sleep)
    assert not result.converged and result.sessions is not None
    old_and_kept = {s for s in result.sessions.missing if set(s) & kept}
    assert old_and_kept  # sessions that already existed were required too, not only the new ones
    assert len(reflectors(dir_store)) == 3  # the zone-c reflector was not demoted
