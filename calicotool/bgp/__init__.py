"""Route-reflector autoscaling: BGP mesh model, planner, plan -> Calico changes, reconcile and migration.

Pure core: state, topology/synthetic (inputs), eligibility, selection, assign, planner, layout, sessions, mesh,
propagation, tolerance, resources, report, runlog, render_graph (to_dot). I/O edges: inputs (read a Store),
reconcile, sidecar (the --interval loop), migrate, status (CalicoNodeStatus), seed.seed_store, progress (stderr),
render_graph.write_graph (Graphviz). See docs/route-reflectors.md.
"""
