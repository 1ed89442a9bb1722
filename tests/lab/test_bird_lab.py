"""The proof on real BIRD: Calico-shaped configs in namespaces; every node learns every block, also after losing
a route reflector; and a negative control showing the checks do fail when the topology cannot propagate."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from calicotool.bgp.mesh import plan_graph
from calicotool.bgp.propagation import check_propagation
from calicotool.lab import netns as nx
from calicotool.lab.bird_config import BirdOptions
from calicotool.lab.from_plan import graph_from_topology, plan_cluster, synthetic_cluster, topology_from_plan
from calicotool.lab.runner import (
    LabState,
    lab_down,
    lab_report,
    lab_up,
    probe,
    stop_node,
    wait_converged,
    wait_routes_withdrawn,
)
from calicotool.lab.topology import LabTopology, full_mesh
from calicotool.lab.topology_io import topology_from_dict
from calicotool.lab.underlay import lab_prefix
from tests.fixtures.netns import kernel_available

pytestmark = [pytest.mark.kernel, pytest.mark.bird, pytest.mark.slow]

FAST = BirdOptions(graceful_restart_time=3)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    reason = kernel_available()
    if reason:
        pytest.skip(reason)
    name = "t" + secrets.token_hex(3)
    try:
        yield name, tmp_path
    finally:
        lab_down(name, tmp_path)
        assert nx.list_netns(lab_prefix(name)) == []
        assert not (tmp_path / name).exists()


def _up(topo: LabTopology, lab: tuple[str, Path]) -> LabState:
    return lab_up(topo, lab[0], root=lab[1], options=FAST)


def _blocks_in_kernel(state: LabState, node: str) -> set[str]:
    return {r.dst for r in nx.routes(state.ns(node)) if r.proto == "bird"}


def test_planner_reflectors_propagate_all_blocks_and_survive_losing_one(lab: tuple[str, Path]) -> None:
    plan = plan_cluster(synthetic_cluster(12, zones=3), min_per_zone=2, k=2)
    assert len(plan.reflectors) >= 4 and len(plan.groups) >= 2  # several cluster IDs: cross-group reflection
    topo = topology_from_plan(plan)
    assert len(topo.nodes) == 12
    assert len(topo.sessions()) == plan.sessions()  # lab sessions are exactly the planned ones
    state = _up(topo, lab)
    report = wait_converged(state, timeout=60)
    assert all(n.blocks_learned == 11 and n.sessions_up == n.sessions_expected for n in report.nodes)
    all_blocks = {b for n in topo.nodes for b in n.blocks}
    for node in topo.nodes:  # belt and braces: straight from the kernel tables
        assert _blocks_in_kernel(state, node.name) == all_blocks

    clients = [n.name for n in topo.nodes if not n.is_reflector]
    for src, dst in zip(clients, clients[1:] + clients[:1], strict=True):  # datapath over BIRD's routes
        result = probe(state, src, dst)
        assert result.ok, (src, dst, result.detail)

    victim = plan.groups[sorted(plan.groups)[0]].reflectors[0]
    victim_block = topo.by_name()[victim].blocks[0]
    stop_node(state, victim, crash=True)  # a crash: peers keep its routes as stale until graceful restart ends
    wait_routes_withdrawn(state, victim, timeout=30)  # nothing learned over the dead sessions remains
    report = wait_converged(state, timeout=30)
    survivors = [n for n in report.nodes if n.running]
    assert len(survivors) == 11
    assert all(n.converged and n.blocks_learned == 10 for n in survivors)
    for node in survivors:
        assert victim_block not in _blocks_in_kernel(state, node.name)  # the dead node's own block is gone
    orphans = [c for c, g in plan.client_group.items() if victim in plan.groups[g].reflectors]
    for src in orphans:  # the victim's clients still reach, and are reached by, everyone (one sample each way)
        assert probe(state, src, clients[-1] if src != clients[-1] else clients[0]).ok
        assert probe(state, clients[0] if src != clients[0] else clients[-1], src).ok
    # the planner's graph model agrees with BIRD
    assert check_propagation(plan_graph(plan), failed={victim}).ok


def test_full_mesh_small(lab: tuple[str, Path]) -> None:
    topo = full_mesh(5)
    state = _up(topo, lab)
    report = wait_converged(state, timeout=30)
    assert [n.sessions_up for n in report.nodes] == [4] * 5
    stop_node(state, "node3")  # clean stop: BIRD says goodbye, peers withdraw at once
    report = wait_converged(state, timeout=30)
    assert all(n.blocks_learned == 3 for n in report.nodes if n.running)
    assert "10.244.0.128/26" not in _blocks_in_kernel(state, "node1")
    assert probe(state, "node1", "node5").ok
    assert not probe(state, "node1", "node3", timeout=0.5).ok  # no route to a stopped node's block


def _split_reflectors(same_cluster: bool) -> LabTopology:
    """a <-> rr1 <-> rr2 <-> b: each client has one reflector; the reflectors peer with each other."""
    cid2 = "244.0.0.1" if same_cluster else "244.0.0.2"
    return topology_from_dict(
        {
            "kind": "LabTopology",
            "nodes": [
                {"name": "rr1", "rrClusterID": "244.0.0.1", "peers": [{"node": "a"}, {"node": "rr2"}]},
                {"name": "rr2", "rrClusterID": cid2, "peers": [{"node": "b"}]},
                {"name": "a"},
                {"name": "b"},
            ],
        }
    )


def test_negative_control_shared_cluster_id_blocks_reflection(lab: tuple[str, Path]) -> None:
    """RFC 4456: reflectors sharing a cluster ID do not pass on each other's client routes. With one reflector
    per client, b must never learn a's block: proof that the convergence check can fail."""
    topo = _split_reflectors(same_cluster=True)
    assert not check_propagation(graph_from_topology(topo)).ok  # the model predicts the loss too
    state = _up(topo, lab)
    deadline = time.monotonic() + 30
    while any(n.down_sessions or n.sessions_expected == 0 for n in lab_report(state).nodes):
        assert time.monotonic() < deadline, "sessions never came up"
        time.sleep(0.5)
    time.sleep(3)  # longer than the kernel scan time: a route that were coming would be here
    report = lab_report(state)
    a_block, b_block = topo.by_name()["a"].blocks[0], topo.by_name()["b"].blocks[0]
    assert report.node("b").missing_blocks == (a_block,)
    assert report.node("a").missing_blocks == (b_block,)
    assert not report.converged


def test_distinct_cluster_ids_do_reflect(lab: tuple[str, Path]) -> None:
    topo = _split_reflectors(same_cluster=False)
    assert check_propagation(graph_from_topology(topo)).ok
    state = _up(topo, lab)
    report = wait_converged(state, timeout=30)
    assert report.node("b").blocks_learned == 3


def test_failed_up_leaves_nothing_behind(lab: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from calicotool.errors import HostError
    from calicotool.lab import bird_process, runner

    name, root = lab
    started: list[int] = []
    real_start = bird_process.start_bird

    def flaky_start(ns: str, paths: object) -> int:
        if len(started) == 2:
            raise HostError("injected: third bird does not start")
        started.append(real_start(ns, paths))  # type: ignore[arg-type]
        return started[-1]

    monkeypatch.setattr(runner.bp, "start_bird", flaky_start)
    with pytest.raises(HostError, match="injected"):
        lab_up(full_mesh(4), name, root=root, options=FAST)
    assert len(started) == 2 and not any(bird_process.pid_alive(pid) for pid in started)
    assert nx.list_netns(lab_prefix(name)) == []
    assert not (root / f"{name}.json").exists() and not (root / name).exists()
