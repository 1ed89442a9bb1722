"""Where a lab topology comes from: a lab file, a cluster topology file (the planner's format), or a synthetic
cluster; and which sessions it gets: the cluster's current layout, Calico's full mesh, or the planner's plan."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from calicotool.errors import InputError, Location
from calicotool.lab.from_plan import plan_cluster, synthetic_cluster, topology_from_graph, topology_from_plan
from calicotool.lab.topology import LabTopology
from calicotool.lab.topology_io import KIND, topology_from_dict
from calicotool.model import yamlio

if TYPE_CHECKING:
    from calicotool.bgp.state import ClusterState

MAX_LAB_NODES = 200  # one BIRD (a few MB) and two namespaces per node; past this use the graph model instead


class RrMode(str, Enum):
    current = "current"  # the sessions the cluster has now (its calicotool layout, plus the mesh if enabled)
    mesh = "mesh"  # Calico's default node-to-node mesh
    auto = "auto"  # the route-reflector planner's plan


def lab_topology(
    path: Path | None,
    nodes: int | None,
    rr: RrMode = RrMode.current,
    *,
    zones: int = 3,
    k: int = 2,
    min_per_zone: int = 1,
) -> LabTopology:
    if (path is None) == (nodes is None):
        raise InputError("give exactly one of --topology FILE or --nodes N", Location(field="--topology"))
    lab_doc = _lab_document(path) if path is not None else None
    if lab_doc is not None:
        if rr != RrMode.current:
            raise InputError(
                f"--rr {rr.value} needs a cluster topology; a {KIND} file fixes its sessions",
                Location(file=str(path), field="--rr"),
            )
        topo = topology_from_dict(lab_doc, source=str(path))
    else:
        if nodes is not None and not 2 <= nodes <= MAX_LAB_NODES:
            raise InputError(f"--nodes must be 2..{MAX_LAB_NODES}, got {nodes}", Location(field="--nodes"))
        state = _cluster(path, nodes, zones)
        speakers = [n for n in state.nodes if n.address is not None]
        if len(speakers) > MAX_LAB_NODES:
            raise InputError(
                f"{len(speakers)} BGP speakers: a lab runs at most {MAX_LAB_NODES}", Location(file=str(path) if path else None)
            )
        if rr == RrMode.auto:
            topo = topology_from_plan(plan_cluster(state, k=k, min_per_zone=min_per_zone))
        else:
            from calicotool.bgp.mesh import current_graph, full_mesh_graph

            graph = full_mesh_graph(state) if rr == RrMode.mesh else current_graph(state)
            topo = topology_from_graph(graph, description=f"{rr.value} sessions of {state.source or 'cluster'}")
    if len(topo.nodes) > MAX_LAB_NODES:
        raise InputError(f"{len(topo.nodes)} nodes: a lab runs at most {MAX_LAB_NODES}")
    return topo


def _lab_document(path: Path) -> Any:
    """The parsed file when it is a LabTopology, else None (a cluster topology, or a file the cluster loader
    reports on with its own location). Read and parsed once: a lab file is built from this document."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:  # neither loader can read it; say so here, located
        raise InputError(f"cannot read topology: not UTF-8 text ({exc.reason} at byte {exc.start})",
                         Location(file=str(path))) from None
    except OSError:
        return None  # let the cluster loader report it with its location
    try:
        _, doc = yamlio.load_single(text, str(path))
    except yaml.YAMLError:
        return None
    return doc if isinstance(doc, dict) and doc.get("kind") == KIND else None


def _cluster(path: Path | None, nodes: int | None, zones: int) -> ClusterState:
    if path is not None:
        from calicotool.bgp.topology import load_topology

        return load_topology(path)
    assert nodes is not None
    return synthetic_cluster(nodes, zones)
