"""A DOT graph (see dot_subset) as SVG without Graphviz: each cluster is a rounded box holding its nodes in a
grid, clusters flow left to right in rows, edges are straight lines clipped at the node outlines (arrowheads
for directed graphs, labels at the middle). Not Graphviz's layout, but every node, edge, label and colour is
there, and the output is deterministic. No I/O here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from calicotool.drawing.dot_subset import DotGraph

FONT = 10
CHAR_W = 6.2  # average glyph width at FONT px (Helvetica/Arial)
LINE_H = 13
PAD = 16  # inside a cluster box
GAP_X, GAP_Y = 28, 46  # between nodes of a cluster (room for edge labels)
ROW_WIDTH = 1400  # clusters wrap to a new row past this width
NOTE = "drawn without Graphviz (the built-in layout of calicotool); install graphviz for a laid-out picture"


@dataclass
class Box:
    x: float  # centre
    y: float
    w: float
    h: float


def _size(label: str) -> tuple[float, float]:
    lines = label.split("\n")
    return max(60.0, max(len(s) for s in lines) * CHAR_W + 22), len(lines) * LINE_H + 14


def _colour(value: str, default: str) -> tuple[str, float]:
    """('#rrggbb', opacity) from DOT's #rrggbb / #rrggbbaa / a name."""
    v = value or default
    if v.startswith("#") and len(v) == 9:
        return v[:7], round(int(v[7:], 16) / 255, 3)
    return v, 1.0


def _paint(kind: str, value: str, default: str) -> str:
    colour, alpha = _colour(value, default)
    return f'{kind}="{escape(colour)}"' + (f' {kind}-opacity="{alpha}"' if alpha < 1 else "")


def layout(g: DotGraph) -> tuple[dict[str, Box], list[tuple[str, float, float, float, float]], float, float]:
    """Node boxes, cluster frames (label, x, y, w, h) and the picture's size."""
    groups = [("", g.top_level)] if g.top_level else []
    groups += [(c.label, c.nodes) for c in g.clusters]
    boxes: dict[str, Box] = {}
    frames: list[tuple[str, float, float, float, float]] = []
    x = y = row_h = 0.0
    top = 34.0 if g.attrs.get("label") else 10.0
    width = 0.0
    for label, names in groups:
        names = [n for n in dict.fromkeys(names) if n not in boxes]
        if not names:
            continue
        sizes = [_size(g.nodes[n].get("label", n)) for n in names]
        cols = max(1, math.ceil(math.sqrt(len(names))))
        cell_w = max(w for w, _ in sizes) + GAP_X
        cell_h = max(h for _, h in sizes) + GAP_Y
        rows = math.ceil(len(names) / cols)
        head = 20.0 if label else 0.0
        fw, fh = cols * cell_w + 2 * PAD - GAP_X, rows * cell_h + 2 * PAD - GAP_Y + head
        fw = max(fw, len(label) * CHAR_W + 2 * PAD)
        if x > 0 and x + fw > ROW_WIDTH:
            x, y, row_h = 0.0, y + row_h + 30, 0.0
        for i, (n, (w, h)) in enumerate(zip(names, sizes, strict=True)):
            r, c = divmod(i, cols)
            boxes[n] = Box(10 + x + PAD + c * cell_w + (cell_w - GAP_X) / 2,
                           top + y + head + PAD + r * cell_h + (cell_h - GAP_Y) / 2, w, h)
        frames.append((label, 10 + x, top + y, fw, fh))
        width = max(width, x + fw)
        x += fw + 30
        row_h = max(row_h, fh)
    return boxes, frames, width + 20, top + y + row_h + 36


def _clip(b: Box, tx: float, ty: float, ellipse: bool) -> tuple[float, float]:
    """Where the line from b's centre towards (tx, ty) leaves b's outline."""
    dx, dy = tx - b.x, ty - b.y
    if dx == dy == 0:
        return b.x, b.y
    if ellipse:
        a, c = b.w / 2, b.h / 2
        t = 1 / math.sqrt((dx / a) ** 2 + (dy / c) ** 2)
    else:
        t = min(b.w / 2 / abs(dx) if dx else math.inf, b.h / 2 / abs(dy) if dy else math.inf)
    return b.x + dx * t, b.y + dy * t


def _arrow(x: float, y: float, fx: float, fy: float, colour: str) -> str:
    """A filled arrowhead at (x, y) pointing away from (fx, fy)."""
    ang = math.atan2(y - fy, x - fx)
    pts = [(x, y)] + [(x - 8 * math.cos(ang + s), y - 8 * math.sin(ang + s)) for s in (0.4, -0.4)]
    return f'<polygon points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in pts)}" {colour}/>'


def _text(x: float, y: float, label: str, size: float, extra: str = "") -> str:
    lines = label.split("\n")
    y0 = y - (len(lines) - 1) * LINE_H / 2 + size / 3
    spans = "".join(f'<tspan x="{x:.1f}" y="{y0 + i * LINE_H:.1f}">{escape(s)}</tspan>' for i, s in enumerate(lines))
    return f'<text text-anchor="middle" font-size="{size}" {extra}>{spans}</text>'


def _node(name: str, b: Box, attrs: dict[str, str], defaults: dict[str, str]) -> str:
    a = {**defaults, **attrs}
    shape = a.get("shape", "ellipse")
    fill = _paint("fill", a.get("fillcolor", ""), "#f4f4f4")
    stroke = _paint("stroke", a.get("color", ""), "#555555")
    width = float(a.get("penwidth", "1"))
    common = f'{fill} {stroke} stroke-width="{width}"'
    left, top = b.x - b.w / 2, b.y - b.h / 2
    if shape in ("ellipse", "circle"):
        body = f'<ellipse cx="{b.x:.1f}" cy="{b.y:.1f}" rx="{b.w / 2:.1f}" ry="{b.h / 2:.1f}" {common}/>'
    elif "octagon" in shape:
        k = min(10.0, b.h / 3)
        pts = [(left + k, top), (left + b.w - k, top), (left + b.w, top + k), (left + b.w, top + b.h - k),
               (left + b.w - k, top + b.h), (left + k, top + b.h), (left, top + b.h - k), (left, top + k)]
        body = f'<polygon points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in pts)}" {common}/>'
    else:
        body = f'<rect x="{left:.1f}" y="{top:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="3" {common}/>'
    font = _paint("fill", a.get("fontcolor", ""), "#000000")
    label = _text(b.x, b.y, a.get("label", name), float(a.get("fontsize", FONT)), font)
    return f"<g><title>{escape(a.get('tooltip', name))}</title>{body}{label}</g>"


def _edge(g: DotGraph, boxes: dict[str, Box], src: str, dst: str, attrs: dict[str, str]) -> str:
    a = {**g.edge_defaults, **attrs}
    sb, db = boxes[src], boxes[dst]
    ell = [g.nodes[n].get("shape", g.node_defaults.get("shape", "ellipse")) in ("ellipse", "circle") for n in (src, dst)]
    x1, y1 = _clip(sb, db.x, db.y, ell[0])
    x2, y2 = _clip(db, sb.x, sb.y, ell[1])
    stroke = _paint("stroke", a.get("color", ""), "#555555")
    fill = _paint("fill", a.get("color", ""), "#555555")
    dash = ' stroke-dasharray="5,3"' if "dashed" in a.get("style", "") else ""
    width = float(a.get("penwidth", "1"))
    parts = [f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {stroke} stroke-width="{width}"{dash}/>']
    if g.directed and a.get("dir") != "none":
        parts.append(_arrow(x2, y2, x1, y1, fill))
        if a.get("dir") == "both":
            parts.append(_arrow(x1, y1, x2, y2, fill))
    if a.get("label"):
        font = _paint("fill", a.get("fontcolor", ""), "#333333")
        halo = 'stroke="#ffffff" stroke-width="3" paint-order="stroke"'
        parts.append(_text((x1 + x2) / 2, (y1 + y2) / 2, a["label"], float(a.get("fontsize", 8)), f"{font} {halo}"))
    return f"<g><title>{escape(a.get('tooltip', f'{src} - {dst}'))}</title>{''.join(parts)}</g>"


def to_svg(g: DotGraph) -> str:
    """The SVG document of `g`."""
    boxes, frames, width, height = layout(g)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>']
    if g.attrs.get("label"):
        out.append(_text(width / 2, 18, g.attrs["label"], 13, 'font-weight="bold"'))
    for label, x, y, w, h in frames:
        if label:
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="8" fill="none" '
                       f'stroke="#888888" stroke-dasharray="4,3"/>')
            out.append(_text(x + w / 2, y + 13, label, 11, 'fill="#444444"'))
    out += [_edge(g, boxes, a, b, attrs) for a, b, attrs in g.edges if a != b]
    out += [_node(n, boxes[n], g.nodes[n], g.node_defaults) for n in g.nodes if n in boxes]
    out.append(f'<text x="10" y="{height - 10:.0f}" font-size="9" fill="#777777">{escape(NOTE)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
