"""Network-namespace lab: namespaces and underlay, BIRD configs and processes, route probes."""
