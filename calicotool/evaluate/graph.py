"""The reachability matrix as a Graphviz DOT picture: one node per group (workloads ellipse, NetworkSets/IPs box,
HostEndpoints octagon), clustered by namespace; one directed edge per (source, destination) pair carrying every
allowed port ("5432/TCP, 443/TCP"); optionally dashed red edges for ports a rule explicitly denies.

Pure: matrix -> DOT text; no files, no Graphviz. Output is deterministic (sorted nodes and edges, no timestamps).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.matrix import ReachabilityMatrix
from calicotool.evaluate.model import Decider
from calicotool.evaluate.specs import display_name, flow_for
from calicotool.policy.endpoint import Endpoint, EndpointKind

SHAPES = {
    EndpointKind.POD: ("ellipse", "#dbe9f6"),
    EndpointKind.NETWORKSET: ("box", "#fdf1d6"),
    EndpointKind.IP: ("box", "#eeeeee"),
    EndpointKind.HOST: ("octagon", "#e4f2df"),
}
ALLOW_STYLE = 'color="#2b6cb0", fontcolor="#2b6cb0"'
DENY_STYLE = 'color="#c53030", fontcolor="#c53030", style=dashed, penwidth=0.8'
RULE_DECIDERS = (Decider.RULE, Decider.UNTRACKED, Decider.PRE_DNAT)

Cell = tuple[int, int, int]  # (port grid index, source index, destination index)


def quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines kept as DOT line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def explicit_denies(policy_set: PolicySet, matrix: ReachabilityMatrix) -> dict[Cell, str]:
    """The denied cells of `matrix` that an enforced Deny rule decided (not a tier or profile default), with the
    deciding reason. Re-evaluates only the denied cells."""
    out: dict[Cell, str] = {}
    for g, (spec, grid) in enumerate(matrix.grids):
        for i, row in enumerate(grid):
            for j, ok in enumerate(row):
                if ok:
                    continue
                trace = policy_set.evaluate(flow_for(matrix.endpoints[i], matrix.endpoints[j], spec)).deciding
                if trace.decided_by in RULE_DECIDERS and trace.action == "Deny":
                    out[(g, i, j)] = trace.reason
    return out


def _node_line(ep: Endpoint, indent: str, self_ports: list[str]) -> str:
    shape, fill = SHAPES.get(ep.kind, ("ellipse", "#ffffff"))
    label = display_name(ep) + (f"\nself: {', '.join(self_ports)}" if self_ports else "")
    return f"{indent}{quote(ep.title)} [label={quote(label)}, shape={shape}, fillcolor=\"{fill}\"];"


def _edge_labels(matrix: ReachabilityMatrix, cells: Mapping[Cell, object] | None) -> dict[tuple[int, int], list[str]]:
    """(src, dst) -> port labels in --port order: allowed cells when `cells` is None, else the given cells."""
    ports: dict[tuple[int, int], list[str]] = defaultdict(list)
    for g, (spec, grid) in enumerate(matrix.grids):
        for i, row in enumerate(grid):
            for j, ok in enumerate(row):
                if (ok and cells is None) or (cells is not None and (g, i, j) in cells):
                    ports[(i, j)].append(str(spec))
    return ports


def to_dot(matrix: ReachabilityMatrix, denied: Mapping[Cell, str] | None = None, title: str = "") -> str:
    """DOT text of `matrix`. `denied` (see `explicit_denies`) adds dashed red edges with the denied ports."""
    eps = matrix.endpoints
    lines = [
        "digraph reachability {",
        f"  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.35, ranksep=1.1, "
        f"label={quote(title)}, labelloc=t];",
        '  node [fontname="Helvetica", fontsize=10, style=filled, color="#555555"];',
        '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];',
    ]
    by_ns: dict[str, list[Endpoint]] = defaultdict(list)
    for ep in eps:
        by_ns[ep.namespace if ep.kind in (EndpointKind.POD, EndpointKind.NETWORKSET) else ""].append(ep)
    allowed = _edge_labels(matrix, None)
    self_ports: dict[str, list[str]] = {eps[i].title: p for (i, j), p in allowed.items() if i == j}
    seen: set[str] = set()
    for n, ns in enumerate(sorted(by_ns)):
        indent = "    " if ns else "  "
        if ns:
            lines.append(f"  subgraph cluster_{n} {{")
            lines.append(f'    label={quote("namespace " + ns)}; style="rounded,dashed"; color="#888888";')
        for ep in sorted(by_ns[ns], key=lambda e: (display_name(e), e.title)):
            if ep.title not in seen:  # the same endpoint given twice is drawn once
                seen.add(ep.title)
                lines.append(_node_line(ep, indent, self_ports.get(ep.title, [])))
        if ns:
            lines.append("  }")
    edges: set[tuple[str, str, str, str]] = set()
    for style, labels in ((ALLOW_STYLE, allowed), (DENY_STYLE, _edge_labels(matrix, denied) if denied else {})):
        for (i, j), ports in labels.items():
            a, b = eps[i].title, eps[j].title
            if style is ALLOW_STYLE and a == b:
                continue  # shown in the node label
            both = labels.get((j, i)) == ports
            if both and b < a:
                continue  # drawn once, from the smaller end, with arrows both ways
            arrow = " <-> " if both else " -> "
            tooltip = f"{display_name(eps[i])}{arrow}{display_name(eps[j])}"
            if style is DENY_STYLE and denied is not None:
                reasons = sorted({r for (g, x, y), r in denied.items() if (x, y) in ((i, j), (j, i))})
                tooltip += " denied: " + "; ".join(reasons)
            attrs = f"label={quote(', '.join(ports))}, tooltip={quote(tooltip)}, {style}"
            edges.add((a, b, "1" if style is DENY_STYLE else "0", attrs + (", dir=both" if both else "")))
    for src, dst, _, attrs in sorted(edges):
        lines.append(f"  {quote(src)} -> {quote(dst)} [{attrs}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
