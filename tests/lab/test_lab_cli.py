"""`calicotool lab ...` end to end through the real CLI (main() with injected streams)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from calicotool.lab import netns as nx
from calicotool.lab.sources import RrMode, lab_topology
from calicotool.lab.underlay import lab_prefix
from tests.conftest import CliRunner
from tests.fixtures.netns import kernel_available

CLUSTER = """\
kind: Topology
name: tiny
nodes:
{nodes}
"""


def _cluster_file(tmp_path: Path, count: int) -> Path:
    nodes = "\n".join(
        f"  - {{name: n{i}, zone: z{i % 2}, rack: r{i % 3}, bgp: {{ipv4Address: 10.0.0.{i + 1}/24}}}}" for i in range(count)
    )
    path = tmp_path / "cluster.yaml"
    path.write_text(CLUSTER.format(nodes=nodes))
    return path


def test_sources_cluster_file_with_planner_and_mesh(tmp_path: Path) -> None:
    path = _cluster_file(tmp_path, 6)
    planned = lab_topology(path, None, RrMode.auto, min_per_zone=1)
    assert planned.reflectors and all(len(n.peers) >= 1 for n in planned.nodes)
    mesh = lab_topology(path, None, RrMode.current)  # mesh enabled, no RR layout yet: the full mesh
    assert len(mesh.sessions()) == 15 and not mesh.reflectors


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["lab", "up"], "exactly one of"),
        (["lab", "up", "--nodes", "1"], "--nodes must be"),
        (["lab", "up", "--nodes", "4", "--rr", "bogus"], "--rr must be"),
        (["lab", "up", "--nodes", "4", "--name", "Bad-Name"], "lab name"),
        (["lab", "status", "--name", "nothere"], "no lab named"),
    ],
)
def test_bad_input_exits_2(cli: CliRunner, tmp_path: Path, args: list[str], needle: str) -> None:
    res = cli(*args, environ={"CALICOTOOL_LAB_DIR": str(tmp_path / "labs")})
    assert res.exit_code == 2, res.stderr
    assert needle in res.stderr and "Traceback" not in res.stderr


def test_lab_file_with_rr_auto_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    lab.write_text("kind: LabTopology\nnodes: [{name: a}, {name: b}]\n")
    res = cli("lab", "up", "--topology", str(lab), "--rr", "auto", environ={"CALICOTOOL_LAB_DIR": str(tmp_path)})
    assert res.exit_code == 2 and "needs a cluster topology" in res.stderr


@pytest.mark.kernel
@pytest.mark.bird
def test_up_status_stop_down(cli: CliRunner, tmp_path: Path) -> None:
    if kernel_available():
        pytest.skip(kernel_available() or "")
    env = {"CALICOTOOL_LAB_DIR": str(tmp_path / "labs")}
    name = "c" + secrets.token_hex(3)
    try:
        res = cli("lab", "up", "--nodes", "6", "--rr", "auto", "--name", name, "--timeout", "60", environ=env)
        assert res.exit_code == 0, res.stderr
        assert "reflector" in res.stdout and "6 nodes" in res.stderr
        assert (tmp_path / "labs" / f"{name}.json").exists()
        res = cli("lab", "up", "--nodes", "3", "--name", name, environ=env)
        assert res.exit_code == 2 and "already up" in res.stderr
        res = cli("lab", "status", "--name", name, "-o", "json", environ=env)
        assert res.exit_code == 0, res.stdout + res.stderr
        doc = json.loads(res.stdout)
        assert doc["converged"] and len(doc["nodes"]) == 6
        assert all(n["blocks"] == "5/5" for n in doc["nodes"])
        client = next(n["name"] for n in doc["nodes"] if not n["reflector"])
        other = next(n["name"] for n in doc["nodes"] if n["name"] != client)
        res = cli("lab", "probe", other, client, "--name", name, environ=env)
        assert res.exit_code == 0 and ": ok" in res.stdout, res.stderr
        assert cli("lab", "stop", client, "--name", name, environ=env).exit_code == 0
        res = cli("lab", "status", "--name", name, "--wait", "30", "-o", "json", environ=env)
        assert res.exit_code == 0, res.stdout
        doc = json.loads(res.stdout)
        assert doc["stopped"] == [client]
        assert all(n["blocks"] == "4/4" for n in doc["nodes"] if n["running"])
        res = cli("lab", "probe", other, client, "--name", name, environ=env)
        assert res.exit_code == 1, res.stdout  # its bird is down, so nobody routes to its block any more
        assert cli("lab", "start", client, "--name", name, environ=env).exit_code == 0
        res = cli("lab", "status", "--name", name, "--wait", "30", "-o", "json", environ=env)
        assert res.exit_code == 0 and json.loads(res.stdout)["stopped"] == []
    finally:
        res = cli("lab", "down", "--name", name, "-o", "json", environ=env)
    assert res.exit_code == 0
    assert json.loads(res.stdout)[0]["namespacesRemoved"] == 7
    again = cli("lab", "down", "--name", name, "-o", "json", environ=env)
    assert again.exit_code == 0 and json.loads(again.stdout)[0]["stateRemoved"] is False
    assert nx.list_netns(lab_prefix(name)) == []


def test_sources_leave_out_unmanaged_reflectors_without_sessions(tmp_path: Path) -> None:
    path = _cluster_file(tmp_path, 6)
    path.write_text(
        path.read_text() + "  - {name: tor, zone: z0, bgp: {ipv4Address: 10.0.0.99/24, routeReflectorClusterID: 10.255.0.1}}\n"
    )
    topo = lab_topology(path, None, RrMode.auto)
    assert "tor" not in topo.by_name() and any("unmanaged" in note for note in topo.notes)


def test_render_writes_configs_bird_accepts(cli: CliRunner, tmp_path: Path) -> None:
    from calicotool.lab.bird_process import check_config

    res = cli("lab", "render", "--nodes", "5", "--rr", "auto", "--out", str(tmp_path / "cfg"), environ={})
    assert res.exit_code == 0, res.stderr
    configs = sorted((tmp_path / "cfg").glob("*.bird.cfg"))
    assert len(configs) == 5
    assert any("rr client;" in c.read_text() for c in configs)
    if Path("/usr/sbin/bird").exists():
        for c in configs:
            check_config(c)
