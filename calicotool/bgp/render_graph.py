"""Draw a session graph with Graphviz: one cluster box per zone, reflectors highlighted and coloured by group,
client sessions coloured like their group, the reflector mesh in bold. Large graphs are summarised: clients of
the same group in the same zone become one box ("37 clients"), so the picture stays readable at any size.

`to_dot` is pure (graph -> DOT text); `write_graph` renders it (calicotool.drawing: Graphviz when installed, else a built-in
SVG layout) or writes .dot.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import networkx as nx

from calicotool.drawing.graph_file import write_graph_file

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22"]
DETAIL_LIMIT = 40  # above this many nodes, clients are summarised per (zone, group)
BOX_LIMIT = 60  # above this many (zone, group) boxes, clients are summarised per group only
MESH_DETAIL = 12  # above this many reflectors, the reflector mesh is drawn as one hub, not R(R-1)/2 lines
MESH_HUB = "reflector mesh"


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _colour(group: str, groups: list[str]) -> str:
    return PALETTE[groups.index(group) % len(PALETTE)] if group in groups else "#999999"


def to_dot(g: nx.Graph, title: str = "", detail_limit: int = DETAIL_LIMIT) -> str:
    """DOT text for `g` (a mesh/plan graph from `calicotool.bgp.mesh`)."""
    summarise = g.number_of_nodes() > detail_limit
    per_zone_boxes = {(a.get("zone"), a.get("group")) for _, a in g.nodes(data=True) if a.get("role") in ("client", "mesh")}
    coarse = summarise and len(per_zone_boxes) > BOX_LIMIT
    reflectors = [n for n, a in g.nodes(data=True) if a.get("role") == "reflector"]
    hub = len(reflectors) > MESH_DETAIL
    groups = sorted({str(a.get("group") or "") for _, a in g.nodes(data=True)} - {""},
                    key=lambda s: (len(s), s))
    box: dict[str, str] = {}  # graph node -> drawn node id
    drawn: dict[str, dict[str, str]] = {}
    counts: dict[str, int] = defaultdict(int)
    for n, a in sorted(g.nodes(data=True)):
        role = a.get("role")
        if summarise and role in ("client", "mesh"):
            zone = "~clients" if coarse else str(a.get("zone", ""))
            summary = f"clients:{zone}:{a.get('group', '')}"
            counts[summary] += 1
            box[n] = summary
            drawn[summary] = {"zone": zone, "group": str(a.get("group") or ""), "role": "summary"}
        else:
            box[n] = n
            drawn[n] = {"zone": str(a.get("zone", "")), "group": str(a.get("group") or ""), "role": str(role),
                        "cid": str(a.get("cluster_id") or "")}
    lines = ["graph bgp {", '  graph [fontname="Helvetica", fontsize=11, overlap=false, splines=true, '
             f'outputorder=edgesfirst, label={_q(title)}, labelloc=t];',
             '  node [fontname="Helvetica", fontsize=9, style=filled, fillcolor="#f4f4f4", shape=ellipse];',
             '  edge [color="#00000033"];']
    by_zone: dict[str, list[str]] = defaultdict(list)
    for d, attrs in drawn.items():
        by_zone[attrs["zone"] if attrs["role"] != "external" else "~external"].append(d)
    for i, zone in enumerate(sorted(by_zone)):
        name = {"~external": "external peers", "~clients": "clients (all zones), per group"}.get(
            zone, f"zone {zone or '(none)'}")
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f'    label={_q(name)}; style="rounded"; color="#888888";')
        for d in sorted(by_zone[zone]):
            lines.append("    " + _node_line(d, drawn[d], counts.get(d, 0), groups))
        lines.append("  }")
    if hub:
        mesh_sessions = len(reflectors) * (len(reflectors) - 1) // 2
        lines.append(f'  {_q(MESH_HUB)} [shape=circle, fillcolor="#333333", fontcolor=white, '
                     f'label="full mesh\\n{len(reflectors)} reflectors\\n{mesh_sessions} sessions"];')
        for rr in sorted(reflectors):
            lines.append(f'  {_q(rr)} -- {_q(MESH_HUB)} [color="#333333", penwidth=2];')
    seen: set[tuple[str, str]] = set()
    for a, b, e in sorted(g.edges(data=True)):
        da, db = box[a], box[b]
        if da == db or (hub and e.get("kind") == "rr-mesh"):
            continue
        ends = (da, db) if da < db else (db, da)
        if ends in seen:
            continue
        seen.add(ends)
        kind = e.get("kind")
        if kind == "rr-mesh":
            style = 'color="#333333", penwidth=2'
        elif kind == "client":
            grp = drawn[da]["group"] or drawn[db]["group"]
            style = f'color="{_colour(grp, groups)}99"'
        elif kind == "external":
            style = 'color="#555555", style=dashed'
        else:
            style = 'color="#00000022"'
        lines.append(f"  {_q(ends[0])} -- {_q(ends[1])} [{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_line(d: str, attrs: dict[str, str], count: int, groups: list[str]) -> str:
    role = attrs["role"]
    colour = _colour(attrs["group"], groups)
    if role == "reflector":
        label = f"{d}\\nRR {attrs['group']} {attrs.get('cid', '')}".strip()
        return f'{_q(d)} [label="{label}", shape=doubleoctagon, fillcolor="{colour}", fontcolor=white, penwidth=2];'
    if role == "summary":
        label = f"{count} client{'s' if count != 1 else ''}\\n{attrs['group'] or 'full mesh'}"
        return f'{_q(d)} [label="{label}", shape=box, fillcolor="{colour}33", color="{colour}"];'
    if role == "external":
        return f'{_q(d)} [shape=box3d, fillcolor="#ffffff"];'
    return f'{_q(d)} [color="{colour}", fillcolor="{colour}22"];'


def write_graph(g: nx.Graph, path: str | Path, title: str = "") -> Path:
    """Write `g` as .dot, or as .svg/.png laid out by Graphviz (`fdp`, which keeps zone clusters for undirected
    graphs, else `dot`); without Graphviz, .svg comes from the built-in layout. InputError for other suffixes."""
    out = Path(path)
    write_graph_file(to_dot(g, title), out, engines=("fdp", "dot"), timeout=120)
    return out
