"""Parse the DOT that calicotool itself writes (bgp/render_graph.py, evaluate/graph.py) back into a small
model: one statement per line, quoted node ids, `subgraph cluster_N { ... }` one level deep. Not a general DOT
parser. No I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ATTR = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,;\]\s]+)')
_ID = r'"(?:[^"\\]|\\.)*"'
_NODE = re.compile(rf"^({_ID})\s*\[(.*)\];$")
_EDGE = re.compile(rf"^({_ID})\s*(--|->)\s*({_ID})\s*\[(.*)\];$")


@dataclass
class Cluster:
    label: str
    attrs: dict[str, str]
    nodes: list[str] = field(default_factory=list)


@dataclass
class DotGraph:
    directed: bool
    attrs: dict[str, str] = field(default_factory=dict)
    node_defaults: dict[str, str] = field(default_factory=dict)
    edge_defaults: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)  # insertion order = drawing order
    clusters: list[Cluster] = field(default_factory=list)
    top_level: list[str] = field(default_factory=list)  # nodes outside any cluster
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def unquote(value: str) -> str:
    """A DOT value as text: quotes removed, `\\n` (and `\\l`, `\\r`) as line breaks, escapes resolved."""
    if not (len(value) >= 2 and value[0] == value[-1] == '"'):
        return value
    out, i, body = [], 0, value[1:-1]
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append("\n" if nxt in "nlr" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def attrs_of(text: str) -> dict[str, str]:
    """`k=v, k2="v 2"; ...` -> {k: v}; values unquoted."""
    return {m.group(1): unquote(m.group(2)) for m in _ATTR.finditer(text)}


def parse(text: str) -> DotGraph:
    """The model of `text`. ValueError on a line outside the subset (a bug in our own writer, not user input)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or not re.match(r"^(di)?graph\b.*\{$", lines[0]):
        raise ValueError("not a DOT graph")
    g = DotGraph(directed=lines[0].startswith("digraph"))
    cluster: Cluster | None = None
    for ln in lines[1:]:
        if ln == "}":
            cluster = None
            continue
        if ln.startswith("subgraph ") and ln.endswith("{"):
            cluster = Cluster("", {})
            g.clusters.append(cluster)
            continue
        for key, target in (("graph", g.attrs), ("node", g.node_defaults), ("edge", g.edge_defaults)):
            if ln.startswith(key + " [") or ln.startswith(key + "["):
                target.update(attrs_of(ln[len(key):]))
                break
        else:
            if m := _EDGE.match(ln):
                g.edges.append((unquote(m.group(1)), unquote(m.group(3)), attrs_of(m.group(4))))
            elif m := _NODE.match(ln):
                name = unquote(m.group(1))
                g.nodes.setdefault(name, {}).update(attrs_of(m.group(2)))
                (cluster.nodes if cluster is not None else g.top_level).append(name)
            elif cluster is not None and "=" in ln:
                cluster.attrs.update(attrs_of(ln))
                cluster.label = cluster.attrs.get("label", "")
            else:
                raise ValueError(f"DOT line outside calicotool's subset: {ln[:80]!r}")
    for a, b, _ in g.edges:  # an edge to a node never declared still gets drawn
        for n in (a, b):
            if n not in g.nodes:
                g.nodes[n] = {}
                g.top_level.append(n)
    return g
