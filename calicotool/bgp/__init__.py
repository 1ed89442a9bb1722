"""Route-reflector autoscaling: BGP mesh model, planner, plan -> Calico changes, reconcile and migration.

Pure core: state, topology/synthetic (inputs), eligibility, selection, assign, planner, layout, sessions, mesh,
propagation, tolerance, resources, report, render_graph (to_dot). I/O edges: inputs (read a Store), reconcile,
migrate, status (CalicoNodeStatus), render_graph.write_graph (Graphviz). See docs/route-reflectors.md.
"""
