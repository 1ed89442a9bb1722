"""Network-namespace lab: namespaces and underlay, BIRD configs and processes, route probes.

Public surface (everything else is internal and may move; kernel primitives live in calicotool.lab.netns)::

    lab_topology(path, nodes, rr=RrMode.current, *, zones=3, k=2, min_per_zone=1) -> LabTopology
    lab_up(topo, name, *, root=None, options=None, static_neighbours=None) -> LabState   # all or nothing
    load_state(name, root=None) -> LabState;  lab_down(name, root=None) -> dict
    lab_report(state) -> LabReport;  wait_converged(state, timeout=60.0, interval=0.5) -> LabReport
    probe(state, src, dst, timeout=2.0) -> ProbeResult
    LabTopology, RrMode

Names resolve lazily: importing this package loads none of the modules above (pyroute2 stays unloaded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calicotool.exports import lazy_exports

if TYPE_CHECKING:
    from calicotool.lab.runner import lab_down, lab_report, lab_up, load_state, probe, wait_converged
    from calicotool.lab.sources import RrMode, lab_topology
    from calicotool.lab.topology import LabTopology

_EXPORTS = {
    "lab_down": "runner", "lab_report": "runner", "lab_up": "runner", "load_state": "runner", "probe": "runner",
    "wait_converged": "runner", "RrMode": "sources", "lab_topology": "sources", "LabTopology": "topology",
}
__all__ = [
    "LabTopology",
    "RrMode",
    "lab_down",
    "lab_report",
    "lab_topology",
    "lab_up",
    "load_state",
    "probe",
    "wait_converged",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
