"""Reconcile against the Kubernetes backend (fake API server over HTTP): labels and the cluster-ID annotation land
on the Kubernetes Node, BGPPeers in the Calico API, and a repeat run writes nothing."""

from __future__ import annotations

from collections.abc import Callable

from calicotool.bgp.options import PlanOptions
from calicotool.bgp.reconcile import ReconcileConfig, reconcile_once
from calicotool.bgp.seed import kubernetes_node
from calicotool.bgp.state import CLUSTER_ID_ANNOTATION, ROLE_LABEL
from calicotool.bgp.synthetic import generate_cluster
from calicotool.datastore.base import Change, Op
from calicotool.model.resource import Resource
from tests.bgp.conftest import CountingStore, FakeCalicoNode
from tests.bgp.test_reconcile import FakeClock
from tests.datastore.backend_kube import kube_store_factory  # noqa: F401 - fixture

STATE = generate_cluster(18, 3, 2, seed=6)


def _seed(store: object) -> None:
    changes = [Change(Op.CREATE, Resource.new("BGPConfiguration", "default", {"nodeToNodeMeshEnabled": False}))]
    for n in STATE.nodes:
        k = kubernetes_node(n)
        k.metadata["annotations"] = {"projectcalico.org/IPv4Address": n.ipv4 or ""}
        changes.append(Change(Op.CREATE, k))
    for c in changes:
        store.create(c.resource)  # type: ignore[attr-defined]


def test_reconcile_on_kubernetes_converges_and_repeats_write_nothing(
    kube_store_factory: Callable[..., object],  # noqa: F811
) -> None:
    store = kube_store_factory()
    _seed(store)
    agent = FakeCalicoNode(store)  # type: ignore[arg-type]
    clock = FakeClock(agent)
    cfg = ReconcileConfig(options=PlanOptions(ratio=0.2), timeout_seconds=20, poll_seconds=1)
    first = reconcile_once(store, cfg, STATE.now, clock, clock.sleep)  # type: ignore[arg-type]
    assert first.converged, first.stopped
    rrs = [n for n in store.list("KubernetesNode") if n.labels.get(ROLE_LABEL) == "reflector"]  # type: ignore[attr-defined]
    assert len(rrs) == len(first.plan.reflectors) and all(CLUSTER_ID_ANNOTATION in r.annotations for r in rrs)
    calico = {n.name: n for n in store.list("Node")}  # type: ignore[attr-defined]
    assert all(calico[r.name].spec["bgp"]["routeReflectorClusterID"] for r in rrs)
    counting = CountingStore(store)  # type: ignore[arg-type]
    again = reconcile_once(counting, cfg, STATE.now, clock, clock.sleep)
    assert again.converged and counting.writes == []
