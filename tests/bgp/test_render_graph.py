"""DOT output: zones as clusters, reflectors highlighted, large plans summarised so Graphviz stays fast."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from calicotool.bgp.mesh import plan_graph
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import plan_route_reflectors
from calicotool.bgp.render_graph import MESH_HUB, to_dot
from calicotool.bgp.synthetic import generate_cluster


def _dot(nodes: int, zones: int, ratio: float) -> str:
    return to_dot(plan_graph(plan_route_reflectors(generate_cluster(nodes, zones, 4, seed=1), PlanOptions(ratio=ratio))))


def test_small_plan_draws_every_node_and_the_mesh() -> None:
    dot = _dot(12, 3, 0.02)
    assert dot.count("subgraph cluster_") == 3 and dot.count("doubleoctagon") == 3
    assert dot.count("penwidth=2];") == 3 + 3  # three reflector nodes plus three mesh edges
    assert '"node-00000"' in dot and MESH_HUB not in dot


def test_large_plan_is_summarised() -> None:
    dot = _dot(1000, 10, 0.05)
    assert MESH_HUB in dot and "clients (all zones), per group" in dot
    assert "\0" not in dot
    assert dot.count(" -- ") < 400  # not the 1,225 mesh lines plus 2,000 client sessions


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
def test_graphviz_accepts_it() -> None:
    proc = subprocess.run(["dot", "-Tcanon"], input=_dot(60, 3, 0.1).encode(), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
