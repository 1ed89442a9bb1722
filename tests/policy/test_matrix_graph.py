"""`policy matrix --graph`: the pure DOT text (tables) and the CLI writing .dot/.svg/.png files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from calicotool.evaluate.graph import quote, to_dot
from calicotool.evaluate.matrix import ReachabilityMatrix
from calicotool.evaluate.specs import PortSpec
from calicotool.policy.endpoint import Endpoint, EndpointKind
from tests.conftest import CliRunner

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
PG, HTTPS = PortSpec(6, 5432), PortSpec(6, 443)

API = Endpoint(EndpointKind.POD, "api-0", namespace="shop", group="api")
DB = Endpoint(EndpointKind.POD, "db-0", namespace="shop", group="db")
DNS = Endpoint(EndpointKind.POD, "dns-0", namespace="kube-system", group="kube-dns")
OFFICE = Endpoint(EndpointKind.NETWORKSET, "office", group="office")
HOST = Endpoint(EndpointKind.HOST, "node1-eth0")
QUOTED = Endpoint(EndpointKind.IP, 'say "hi"\\now')


def matrix(eps: list[Endpoint], *grids: tuple[PortSpec, set[tuple[int, int]]]) -> ReachabilityMatrix:
    n = len(eps)
    return ReachabilityMatrix(eps, [(spec, [[(i, j) in allowed for j in range(n)] for i in range(n)])
                                    for spec, allowed in grids])


def edges(dot: str) -> dict[tuple[str, str], str]:
    return {(m[1], m[2]): m[3] for m in re.finditer(r'^  "([^"]+)" -> "([^"]+)" \[(.*)\];$', dot, re.M)}


def node_attrs(dot: str, node_id: str) -> str:
    m = re.search(rf'^\s+"{re.escape(node_id)}" \[(.*)\];$', dot, re.M)
    assert m, f"no node {node_id} in\n{dot}"
    return m[1]


@pytest.mark.parametrize(("ep", "shape"), [(API, "ellipse"), (OFFICE, "box"), (HOST, "octagon"),
                                           (Endpoint(EndpointKind.IP, "10.0.0.1"), "box")])
def test_node_shape_by_kind(ep: Endpoint, shape: str) -> None:
    dot = to_dot(matrix([ep]))
    assert f"shape={shape}" in node_attrs(dot, ep.title)


@pytest.mark.parametrize(("grids", "expected"), [
    ([(PG, {(0, 1)})], {("pod:shop/api-0", "pod:shop/db-0"): "5432/TCP"}),
    ([(PG, {(0, 1)}), (HTTPS, {(0, 1)})], {("pod:shop/api-0", "pod:shop/db-0"): "5432/TCP, 443/TCP"}),
    ([(HTTPS, {(0, 1)}), (PG, {(0, 1), (1, 0)})],  # label order follows --port order
     {("pod:shop/api-0", "pod:shop/db-0"): "443/TCP, 5432/TCP", ("pod:shop/db-0", "pod:shop/api-0"): "5432/TCP"}),
    ([(PG, set())], {}),
])
def test_one_edge_per_pair_with_merged_ports(grids: list, expected: dict[tuple[str, str], str]) -> None:
    dot = to_dot(matrix([API, DB], *grids))
    got = {pair: re.search(r'label="([^"]*)"', attrs)[1] for pair, attrs in edges(dot).items()}  # type: ignore[index]
    assert got == expected


def test_same_ports_both_ways_is_one_double_headed_edge_and_self_goes_in_label() -> None:
    dot = to_dot(matrix([API, DB], (PG, {(0, 1), (1, 0), (1, 1)})))
    assert list(edges(dot)) == [("pod:shop/api-0", "pod:shop/db-0")]
    assert "dir=both" in edges(dot)[("pod:shop/api-0", "pod:shop/db-0")]
    assert 'label="db\\nself: 5432/TCP"' in node_attrs(dot, DB.title)
    assert 'label="api"' in node_attrs(dot, API.title)


def test_clusters_by_namespace_and_global_nodes_outside() -> None:
    dot = to_dot(matrix([OFFICE, DB, DNS, API, HOST]))
    clusters = re.findall(r'subgraph (cluster_\d+) \{\n    label="namespace ([^"]+)";(.*?)\n  \}', dot, re.S)
    assert [(c[1], re.findall(r'"(pod:[^"]+)" \[', c[2])) for c in clusters] == [
        ("kube-system", ["pod:kube-system/dns-0"]), ("shop", ["pod:shop/api-0", "pod:shop/db-0"])]
    assert re.search(r'^  "networkset:office" \[', dot, re.M) and re.search(r'^  "host:node1-eth0" \[', dot, re.M)
    assert "rankdir=LR" in dot


def test_quotes_and_backslashes_are_escaped() -> None:
    assert quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    dot = to_dot(matrix([QUOTED, API], (PG, {(0, 1)})), title='t "x"')
    assert '"ip:say \\"hi\\"\\\\now" -> "pod:shop/api-0"' in dot
    assert 'label="t \\"x\\""' in dot


def test_denied_edges_dashed_red_only_for_given_cells() -> None:
    m = matrix([API, DB], (PG, {(0, 1)}), (HTTPS, set()))
    plain = to_dot(m)
    assert "dashed" not in plain.split("}\n", 1)[-1] and "#c53030" not in plain
    dot = to_dot(m, denied={(1, 0, 1): "guard rule 0 (Deny)", (0, 1, 0): "guard rule 0 (Deny)"})
    red = [line for line in dot.splitlines() if "#c53030" in line]
    assert len(red) == 2 and all("style=dashed" in line for line in red)
    assert any('"pod:shop/api-0" -> "pod:shop/db-0" [label="443/TCP"' in line and "guard rule 0" in line
               for line in red)
    assert any('"pod:shop/db-0" -> "pod:shop/api-0" [label="5432/TCP"' in line for line in red)


def test_deterministic_regardless_of_input_order() -> None:
    a = to_dot(matrix([API, DB, OFFICE], (PG, {(0, 1), (2, 0)})))
    b = to_dot(matrix([OFFICE, DB, API], (PG, {(2, 1), (0, 2)})))
    assert a == b and a == to_dot(matrix([API, DB, OFFICE], (PG, {(0, 1), (2, 0)})))


# --- CLI ---

MATRIX = ("policy", "matrix", "--policies", str(POLICIES), "--env", "prod", "--port", "5432/TCP", "--port", "443/TCP")
needs_shop = pytest.mark.skipif(not (POLICIES / "shop").exists(), reason="shipped example rule set not present")


@needs_shop
def test_cli_writes_dot_and_keeps_stdout(cli: CliRunner, tmp_path: Path) -> None:
    plain = cli(*MATRIX, "-o", "json")
    out = tmp_path / "m.dot"
    r = cli(*MATRIX, "-o", "json", "--graph", str(out))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == plain.stdout
    assert f"graph written to {out}" in r.stderr
    dot = out.read_text()
    assert dot.startswith("digraph reachability {")
    got = edges(dot)
    assert got[("pod:shop/api-0", "pod:shop/db-0")].startswith('label="5432/TCP",')  # 443 to db is denied
    assert got[("pod:shop/api-0", "networkset:payment-gateway")].startswith('label="443/TCP",')
    assert not any(a == "pod:shop/frontend-0" for a, _ in got)  # frontend reaches nothing on these ports
    assert "#c53030" not in dot
    denied = tmp_path / "d.dot"
    assert cli(*MATRIX, "--graph", str(denied), "--show-denied").exit_code == 0
    assert "style=dashed" in "".join(ln for ln in denied.read_text().splitlines() if " -> " in ln)


@needs_shop
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_cli_renders_with_graphviz(cli: CliRunner, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"m.{suffix}"
    r = cli(*MATRIX, "--graph", str(out))
    assert r.exit_code == 0, r.stderr
    data = out.read_bytes()
    if suffix == "svg":
        assert b"<svg" in data and b"5432/TCP, 443/TCP" in data
    else:
        assert data.startswith(b"\x89PNG")


@pytest.mark.parametrize(("path", "message"), [
    ("m.jpg", "wants a .svg, .png or .dot"),
    ("nowhere/m.dot", "does not exist"),
    ("m.dot/", "cannot write"),
])
def test_cli_bad_graph_path(cli: CliRunner, tmp_path: Path, path: str, message: str) -> None:
    target = tmp_path / path
    if path.endswith("/"):
        target.mkdir()  # a directory named m.dot: not writable as a file
    r = cli("policy", "matrix", "--endpoint", "pod:prod/web:app=web", "--graph", str(target), "-m", str(tmp_path))
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
