"""`rr seed` writes what each backend holds (etcd: Calico Nodes; Kubernetes: Kubernetes Nodes with Calico's
annotations), refuses a non-empty datastore without writing, and a seeded cluster reconciles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from calicotool.bgp.seed import cluster_resources, seed_layout
from calicotool.bgp.topology import load_topology
from tests.conftest import CliRunner

SMALL = str(Path(__file__).resolve().parents[2] / "topologies" / "small-3zone.yaml")


@pytest.mark.parametrize(("backend", "expected"), [("etcdv3", (False, True)), ("kubernetes", (True, False)),
                                                   ("dir", (True, True))])
def test_seed_layout_per_backend(backend: str, expected: tuple[bool, bool]) -> None:
    assert seed_layout(backend) == expected


def test_kdd_nodes_carry_calico_fields_as_annotations() -> None:
    docs = cluster_resources(load_topology(SMALL), kubernetes_nodes=True, calico_nodes=False)
    nodes = [r for r in docs if r.kind == "Node"]
    assert len(nodes) == 12 and all(r.api_version == "v1" for r in nodes)
    assert nodes[0].annotations["projectcalico.org/IPv4Address"] == "10.0.0.1/8"


def test_seed_refuses_a_non_empty_datastore_and_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    node_file = next((tmp_path / "cluster").rglob("node-00000.yaml"))
    before = node_file.read_text()
    r = cli("rr", "seed", "-t", SMALL)
    assert r.exit_code == 2 and "empty datastore" in r.stderr and "BGPConfiguration/default" in r.stderr
    assert node_file.read_text() == before


@pytest.mark.etcd
def test_seed_and_reconcile_on_etcd(cli: CliRunner, etcd_clean: Any) -> None:
    env = {"CALICOTOOL_DATASTORE": etcd_clean.spec}
    r = cli("rr", "seed", "-t", SMALL, environ=env)
    assert r.exit_code == 0, r.stderr
    first = cli("rr", "reconcile", "--once", "--no-wait", "-o", "json", environ=env)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["writes"] > 0


def test_seed_and_reconcile_on_kubernetes(cli: CliRunner, tmp_path: Path) -> None:
    from tests.fakekube.server import FakeKubeServer

    server = FakeKubeServer(calico="v3").start()
    try:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        env = {"CALICOTOOL_DATASTORE": "kubernetes", "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
        r = cli("rr", "seed", "-t", SMALL, environ=env)
        assert r.exit_code == 0, r.stderr
        first = cli("rr", "reconcile", "--once", "--no-wait", "-o", "json", environ=env)
        assert first.exit_code == 0, first.stderr
        data = json.loads(first.stdout)
        assert data["writes"] > 0 and len(data["reflectors"]) == 3
        again = cli("rr", "seed", "-t", SMALL, environ=env)
        assert again.exit_code == 2 and "empty datastore" in again.stderr
    finally:
        server.stop()
