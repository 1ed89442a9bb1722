"""A running lab's lifecycle: up (namespaces, underlay, BIRD per node), status, stop/start a node, down.

A lab outlives the command that started it, so its state is a small JSON file under the state root
(``/run/calicotool-lab/<name>.json``, files in ``/run/calicotool-lab/<name>/``). `lab_up` is all-or-nothing:
if any step fails, everything created so far is removed. `lab_down` is idempotent and also sweeps namespaces
and daemons a lost state file no longer mentions.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from calicotool.errors import HostError, InputError, Location
from calicotool.lab import bird_process as bp
from calicotool.lab import netns as nx
from calicotool.lab.bird_config import BirdOptions, BirdPaths, write_node_config
from calicotool.lab.checks import LabReport, NodeReport, check_routes, check_sessions
from calicotool.lab.probes import ProbeResult, tcp_probe
from calicotool.lab.topology import LabTopology, validate_topology
from calicotool.lab.topology_io import topology_from_dict, topology_to_dict
from calicotool.lab.underlay import (
    UnderlayLayout,
    build_underlay,
    check_lab_name,
    sweep_lab_namespaces,
    workload_ip,
)

# progress(phase, done, total): told each phase of `lab_up` / `wait_converged` with its count (total 0: none).
Progress = Callable[[str, int, int], None]


def _quiet(_phase: str, _done: int, _total: int) -> None:
    return None


def default_state_root() -> Path:
    return Path(os.environ.get("CALICOTOOL_LAB_DIR", "/run/calicotool-lab"))


@dataclass
class LabState:
    name: str
    topology: LabTopology
    layout: UnderlayLayout
    root: Path
    options: BirdOptions = field(default_factory=BirdOptions)
    stopped: list[str] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        return self.root / self.name

    def paths(self, node: str) -> BirdPaths:
        return BirdPaths(self.directory, self.layout.node_ns[node].rsplit("-", 1)[1])

    def ns(self, node: str) -> str:
        return self.layout.node_ns[node]

    def alive(self) -> set[str]:
        return {n.name for n in self.topology.nodes} - set(self.stopped)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fabric": self.layout.fabric_ns,
            "namespaces": self.layout.node_ns,
            "stopped": sorted(self.stopped),
            "birdOptions": asdict(self.options),
            "topology": topology_to_dict(self.topology),
        }

    def save(self) -> None:
        path = state_file(self.root, self.name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        tmp.replace(path)


def state_file(root: Path, name: str) -> Path:
    return root / f"{name}.json"


def load_state(name: str, root: Path | None = None) -> LabState:
    root = root or default_state_root()
    path = state_file(root, check_lab_name(name))
    try:
        doc = json.loads(path.read_text())
        layout = UnderlayLayout(name, doc["fabric"], dict(doc["namespaces"]))
        topo = topology_from_dict(doc["topology"], source=str(path))
        return LabState(name, topo, layout, root, BirdOptions(**doc["birdOptions"]), list(doc["stopped"]))
    except FileNotFoundError as exc:
        raise InputError(f"no lab named {name!r} is running (no {path})", Location(field="--name")) from exc
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputError(f"lab state file is damaged: {why}; `lab down` still cleans up", Location(str(path))) from exc


def list_labs(root: Path | None = None) -> list[str]:
    root = root or default_state_root()
    return sorted(p.stem for p in root.glob("*.json")) if root.is_dir() else []


def lab_up(
    topo: LabTopology,
    name: str,
    *,
    root: Path | None = None,
    options: BirdOptions | None = None,
    static_neighbours: bool | None = None,
    progress: Progress | None = None,
) -> LabState:
    """Build the lab and start every BIRD; on any failure nothing is left behind."""
    tell = progress or _quiet
    root = root or default_state_root()
    check_lab_name(name)
    validate_topology(topo)
    if state_file(root, name).exists():
        raise InputError(f"lab {name!r} is already up; `calicotool lab down --name {name}` first")
    options = options or BirdOptions()
    options.validate()
    try:  # a state directory that cannot exist fails here, before any namespace or BIRD is started
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the lab state directory: {exc.strerror or exc}",
                         Location(file=str(root), field="CALICOTOOL_LAB_DIR")) from None
    registry = nx.CleanupRegistry()
    count = len(topo.nodes)
    try:
        tell(f"creating {count + 1} namespaces and the underlay", 0, 0)  # one per node plus the fabric
        layout = build_underlay(name, topo, registry, static_neighbours=static_neighbours)
        state = LabState(name, topo, layout, root, options)
        state.directory.mkdir(parents=True, exist_ok=True)
        registry.push(shutil.rmtree, state.directory, True, what=f"remove {state.directory}")
        for i, node in enumerate(topo.nodes, 1):
            write_node_config(node, topo, state.paths(node.name), options)
            tell("writing BIRD configs", i, count)
        bp.check_config(state.paths(topo.nodes[0].name).config)
        for i, node in enumerate(topo.nodes, 1):
            paths = state.paths(node.name)
            registry.push(bp.stop_bird, paths, what=f"stop bird of {node.name}")
            bp.start_bird(state.ns(node.name), paths)
            tell("starting BIRD", i, count)
        state.save()
    except BaseException:
        registry.close()  # all-or-nothing: unwind what was built
        raise
    registry.release()  # success: the lab is meant to outlive this call
    return state


def lab_down(name: str, root: Path | None = None) -> dict[str, Any]:
    """Stop every BIRD of the lab, delete its namespaces and files. Safe to repeat."""
    root = root or default_state_root()
    check_lab_name(name)
    directory = root / name
    stopped = 0
    for pidfile in sorted(directory.glob("*.pid")) if directory.is_dir() else []:
        if bp.stop_bird(BirdPaths(directory, pidfile.stem)):
            stopped += 1
    removed = sweep_lab_namespaces(name)
    shutil.rmtree(directory, ignore_errors=True)
    existed = state_file(root, name).exists()
    state_file(root, name).unlink(missing_ok=True)
    return {"name": name, "birdsStopped": stopped, "namespacesRemoved": len(removed), "stateRemoved": existed}


def reconfigure_lab(state: LabState, topo: LabTopology) -> list[str]:
    """Switch a running lab to `topo`: the same nodes and addresses with other sessions or cluster IDs, the way
    confd updates a running node (rewrite its config, `birdc configure`). Returns the nodes reconfigured."""
    validate_topology(topo)
    if _addressing(topo) != _addressing(state.topology):
        raise InputError(f"lab {state.name}: a reconfigure keeps the nodes and their addresses; take it down and "
                         "up again for another set of nodes", Location(field="topology"))
    old = state.topology.by_name()
    changed = [n for n in topo.nodes if n != old[n.name]]
    for node in changed:
        write_node_config(node, topo, state.paths(node.name), state.options)
    state.topology = topo
    state.save()
    alive = state.alive()
    for node in changed:
        if node.name in alive:
            bp.configure(state.paths(node.name))
    return [n.name for n in changed]


def _addressing(topo: LabTopology) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(n.name, n.router_ip, n.blocks) for n in topo.nodes}


def stop_node(state: LabState, node: str, *, crash: bool = False) -> None:
    if node not in state.layout.node_ns:
        raise InputError(f"lab {state.name} has no node {node!r}", Location(field="node"))
    bp.stop_bird(state.paths(node), crash=crash)
    if node not in state.stopped:
        state.stopped.append(node)
    state.save()


def start_node(state: LabState, node: str) -> None:
    if node not in state.layout.node_ns:
        raise InputError(f"lab {state.name} has no node {node!r}", Location(field="node"))
    bp.start_bird(state.ns(node), state.paths(node))
    if node in state.stopped:
        state.stopped.remove(node)
    state.save()


def probe(state: LabState, src: str, dst: str, timeout: float = 2.0) -> ProbeResult:
    """TCP from the stand-in workload of ``src``'s first block to ``dst``'s: a datapath check over BIRD's routes."""
    nodes = state.topology.by_name()
    for name in (src, dst):
        if name not in nodes or not nodes[name].blocks:
            raise InputError(f"lab {state.name} has no node {name!r} with a block", Location(field="node"))
    src_ip, dst_ip = workload_ip(nodes[src].blocks[0]), workload_ip(nodes[dst].blocks[0])
    return tcp_probe(state.ns(src), src_ip, state.ns(dst), dst_ip, timeout=timeout)


def lab_report(state: LabState) -> LabReport:
    alive = state.alive()
    reports = []
    for node in state.topology.nodes:
        if node.name not in alive:
            reports.append(NodeReport(node.name, False, node.is_reflector))
            continue
        try:
            sessions = check_sessions(node, state.topology, bp.protocols(state.paths(node.name)), alive)
            routes = check_routes(node, state.topology, nx.routes(state.ns(node.name)), alive)
            reports.append(NodeReport(node.name, True, node.is_reflector, **sessions, **routes))
        except HostError as exc:
            reports.append(NodeReport(node.name, True, node.is_reflector, errors=(str(exc),)))
    return LabReport(tuple(reports), tuple(sorted(state.stopped)))


def wait_phase(report: LabReport) -> tuple[str, int, int]:
    """What a wait is at: sessions first (Established of expected, over running nodes), then routes learned."""
    running = [n for n in report.nodes if n.running]
    up, expected = sum(n.sessions_up for n in running), sum(n.sessions_expected for n in running)
    learned, wanted = sum(n.blocks_learned for n in running), sum(n.blocks_expected for n in running)
    if not report.converged and up < expected:
        # The node checks see each session from both of its ends: count sessions, as `lab up` announces them.
        return "waiting for sessions Established", up // 2, (expected + 1) // 2
    if not report.converged and learned < wanted:
        return "waiting for routes learned", learned, wanted
    return "nodes converged", sum(1 for n in running if n.converged), len(running)


def wait_converged(state: LabState, timeout: float = 60.0, interval: float = 0.5,
                   progress: Progress | None = None) -> LabReport:
    """Poll until every running node is converged; HostError naming the stragglers on timeout. `progress`
    hears `wait_phase` of every poll."""
    deadline = time.monotonic() + timeout
    while True:
        report = lab_report(state)
        if progress is not None:
            progress(*wait_phase(report))
        if report.converged:
            return report
        if time.monotonic() > deadline:
            lagging = [n for n in report.nodes if n.running and not n.converged]
            detail = "; ".join(_why(n) for n in lagging[:5])
            raise HostError(f"lab {state.name} did not converge in {timeout:.0f}s: {detail}")
        time.sleep(interval)


def wait_routes_withdrawn(state: LabState, dead: str, timeout: float = 60.0) -> None:
    """Wait until no running node still holds routes learned over its session with ``dead`` (stale routes that
    graceful restart keeps included), so a later check proves the routes come from elsewhere."""
    from calicotool.lab.bird_config import protocol_name

    dead_ip = state.topology.by_name()[dead].router_ip
    deadline = time.monotonic() + timeout
    while True:
        holding = []
        for node in state.topology.nodes:
            if node.name not in state.alive():
                continue
            for peer in node.peers:
                if peer.ip == dead_ip and not (peer.mesh and node.is_reflector):
                    if bp.routes_from(state.paths(node.name), protocol_name(peer)) > 0:
                        holding.append(node.name)
        if not holding:
            return
        if time.monotonic() > deadline:
            raise HostError(f"routes from {dead} still held by {', '.join(holding[:5])} after {timeout:.0f}s")
        time.sleep(0.5)


def _why(n: NodeReport) -> str:
    bits = []
    if n.down_sessions:
        bits.append(f"sessions down {', '.join(n.down_sessions[:3])}")
    if n.missing_blocks:
        bits.append(f"missing {', '.join(n.missing_blocks[:3])}")
    if n.stale_blocks:
        bits.append(f"stale {', '.join(n.stale_blocks[:3])}")
    if n.wrong_next_hop:
        bits.append(f"wrong next hop {n.wrong_next_hop[0]}")
    if n.own_blocks_missing:
        bits.append("own block not installed")
    bits.extend(n.errors[:1])
    return f"{n.name}: {', '.join(bits)}"
