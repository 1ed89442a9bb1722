"""Pictures of graphs: the DOT subset calicotool writes, a built-in SVG layout for machines without Graphviz, and
one `write_graph_file` that both `rr plan --graph` and `policy matrix --graph` use.

Graphviz stays optional: with `dot`/`fdp` on PATH it lays the picture out; without it .svg is drawn by
`svg.to_svg` (a deterministic grid layout, clusters as boxes) and only .png needs Graphviz.
"""
