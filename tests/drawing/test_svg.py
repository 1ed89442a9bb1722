"""The built-in SVG layout (used when Graphviz is missing) and the one graph writer: DOT from both of
calicotool's writers parses back, every node, edge and label is drawn, boxes never overlap, output is
deterministic; .png without Graphviz is a clear exit-2 error; the CLI draws .svg with no Graphviz on PATH."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from calicotool.bgp.mesh import plan_graph
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.planner import plan_route_reflectors
from calicotool.bgp.render_graph import to_dot as rr_dot
from calicotool.bgp.synthetic import generate_cluster
from calicotool.drawing import dot_subset, graph_file, svg
from calicotool.errors import InputError
from calicotool.evaluate.graph import to_dot as matrix_dot
from calicotool.evaluate.matrix import ReachabilityMatrix
from calicotool.evaluate.specs import PortSpec
from calicotool.policy.endpoint import Endpoint, EndpointKind
from tests.conftest import CliRunner

REPO = Path(__file__).resolve().parents[2]
NS = "{http://www.w3.org/2000/svg}"


def _rr(nodes: int, zones: int) -> str:
    plan = plan_route_reflectors(generate_cluster(nodes, zones, 4, seed=1), PlanOptions(ratio=0.02))
    return rr_dot(plan_graph(plan), title="rr plan")


def _matrix() -> str:
    eps = [Endpoint(EndpointKind.POD, "api-0", namespace="shop", group="api"),
           Endpoint(EndpointKind.POD, "db-0", namespace="shop", group="db"),
           Endpoint(EndpointKind.NETWORKSET, "office", group="office"),
           Endpoint(EndpointKind.IP, 'say "hi" <&>')]
    allowed = {(0, 1), (1, 0), (2, 0), (3, 0), (0, 0)}
    grid = [[(i, j) in allowed for j in range(4)] for i in range(4)]
    return matrix_dot(ReachabilityMatrix(eps, [(PortSpec(6, 5432), grid)]), None, "reachability 5432/TCP")


@pytest.mark.parametrize(("text", "directed", "clusters"), [
    (_rr(12, 3), False, 3),
    (_rr(300, 5), False, 5),
    (_matrix(), True, 1),
])
def test_parse_reads_every_statement(text: str, directed: bool, clusters: int) -> None:
    g = dot_subset.parse(text)
    assert g.directed is directed and len(g.clusters) == clusters
    node_lines = [ln for ln in text.splitlines() if ln.strip().startswith('"') and "--" not in ln and "->" not in ln]
    edge_lines = [ln for ln in text.splitlines() if " -- " in ln or " -> " in ln]
    assert len(g.nodes) == len(node_lines) and len(g.edges) == len(edge_lines)
    assert g.attrs["label"] in ("rr plan", "reachability 5432/TCP")


def test_parse_refuses_lines_outside_the_subset() -> None:
    with pytest.raises(ValueError, match="outside calicotool's subset"):
        dot_subset.parse('graph g {\n  a -- b -- c;\n}\n')
    with pytest.raises(ValueError, match="not a DOT graph"):
        dot_subset.parse("hello")


@pytest.mark.parametrize(("raw", "text"), [
    ('"a\\nb"', "a\nb"), ('"say \\"hi\\""', 'say "hi"'), ('"back\\\\slash"', "back\\slash"), ("bare", "bare"),
])
def test_unquote(raw: str, text: str) -> None:
    assert dot_subset.unquote(raw) == text


@pytest.mark.parametrize("text", [_rr(12, 3), _rr(300, 5), _matrix()])
def test_svg_draws_everything_without_overlap(text: str) -> None:
    g = dot_subset.parse(text)
    out = svg.to_svg(g)
    assert out == svg.to_svg(dot_subset.parse(text))  # deterministic
    root = ET.fromstring(out)  # well-formed XML (labels with quotes and <&> are escaped)
    shapes = [el for grp in root.iter(f"{NS}g") for el in grp if el.tag in (f"{NS}ellipse", f"{NS}rect", f"{NS}polygon")
              and grp.find(f"{NS}line") is None]
    assert len(shapes) == len(g.nodes)
    drawn = "".join(t.text or "" for t in root.iter(f"{NS}tspan"))
    for name, attrs in g.nodes.items():
        assert attrs.get("label", name).split("\n")[0] in drawn
    assert len(list(root.iter(f"{NS}line"))) == sum(1 for a, b, _ in g.edges if a != b)
    boxes, _, width, height = svg.layout(g)
    for a, b in itertools.combinations(boxes.values(), 2):
        assert abs(a.x - b.x) * 2 >= a.w + b.w or abs(a.y - b.y) * 2 >= a.h + b.h, (a, b)
    assert all(0 < b.x - b.w / 2 and b.x + b.w / 2 < width and b.y + b.h / 2 < height for b in boxes.values())
    assert svg.NOTE in out


def test_directed_edges_get_arrowheads_both_ways_when_mutual() -> None:
    root = ET.fromstring(svg.to_svg(dot_subset.parse(_matrix())))
    heads = [g for g in root.iter(f"{NS}g") if g.find(f"{NS}line") is not None]
    counts = sorted(len(g.findall(f"{NS}polygon")) for g in heads)
    assert counts == [1, 1, 2]  # office -> api, ip -> api, api <-> db


def test_write_graph_file_without_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_file.shutil, "which", lambda name: None)
    out = tmp_path / "m.svg"
    assert graph_file.write_graph_file(_matrix(), out) == "built-in"
    assert out.read_text().startswith("<svg") and not (tmp_path / "m.svg.tmp").exists()
    with pytest.raises(InputError, match=r"\.png needs Graphviz"):
        graph_file.write_graph_file(_matrix(), tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()
    assert graph_file.write_graph_file(_matrix(), tmp_path / "m.dot") == "dot-text"


def test_cli_draws_svg_with_no_graphviz_on_path(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # nothing to run: the built-in layout must do it
    rr, matrix = tmp_path / "rr.svg", tmp_path / "m.svg"
    r = cli("rr", "plan", "--topology", str(REPO / "topologies" / "small-3zone.yaml"), "--graph", str(rr))
    assert r.exit_code == 0, r.stderr
    m = cli("policy", "matrix", "--policies", str(REPO / "policies"), "--env", "prod", "--port", "5432/TCP",
            "--graph", str(matrix))
    assert m.exit_code == 0, m.stderr
    for path in (rr, matrix):
        root = ET.fromstring(path.read_text())
        assert svg.NOTE in "".join(root.itertext())
    png = cli("policy", "matrix", "--policies", str(REPO / "policies"), "--env", "prod", "--graph", str(tmp_path / "m.png"))
    assert png.exit_code == 2 and png.stderr.strip().splitlines() == [
        "error: --graph: .png needs Graphviz (`apt-get install graphviz`); .svg and .dot work without it"]
