"""`calicotool lab`: Network-namespace lab with real BIRD and kernel datapaths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from calicotool.cli.context import AppContext, app_context
from calicotool.cli.output import OutputFormat, OutputOption, render_data, render_list
from calicotool.errors import Findings, HostError
from calicotool.wording import labelled, plural

app = typer.Typer(help="Network-namespace lab with real BIRD and kernel datapaths.", no_args_is_help=True)

Name = Annotated[str, typer.Option("--name", "-n", help="Lab name (1-16 lowercase letters/digits).")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for convergence.")]
STATUS_COLUMNS = ["NODE", "ROLE", "RUNNING", "SESSIONS", "BLOCKS", "CONVERGED", "PROBLEMS"]


def _root(app_ctx: AppContext) -> Path:
    return Path(app_ctx.env.environ.get("CALICOTOOL_LAB_DIR", "/run/calicotool-lab"))


def lab_label(name: str) -> str:
    """How messages name a lab: "lab" for the default one (never "lab lab"), "lab NAME" for the others."""
    return labelled("lab", name)


def _require_root() -> None:
    if os.geteuid() != 0:
        raise HostError("the lab creates network namespaces: run as root")


def _status_rows(report: Any) -> list[list[str]]:
    rows = []
    for n in report.nodes:
        stale = [f"stale {b}" for b in n.stale_blocks[:2]]
        problems = [*n.down_sessions[:2], *n.missing_blocks[:2], *n.wrong_next_hop[:1], *stale, *n.errors[:1]]
        rows.append(
            [
                n.name,
                "reflector" if n.reflector else "node",
                "yes" if n.running else "stopped",
                f"{n.sessions_up}/{n.sessions_expected}" if n.running else "-",
                f"{n.blocks_learned}/{n.blocks_expected}" if n.running else "-",
                ("yes" if n.converged else "no") if n.running else "-",
                ", ".join(problems),
            ]
        )
    return rows


def _report_data(name: str, report: Any) -> dict[str, Any]:
    return {
        "lab": name,
        "converged": report.converged,
        "stopped": list(report.stopped),
        "nodes": [n.to_dict() for n in report.nodes],
    }


@app.command("up")
def up(
    ctx: typer.Context,
    topology: Annotated[
        Path | None, typer.Option("--topology", "-t", help="A LabTopology file, or a cluster topology (rr format).")
    ] = None,
    nodes: Annotated[int | None, typer.Option("--nodes", help="A synthetic cluster of N nodes.")] = None,
    rr: Annotated[
        str, typer.Option("--rr", help="Sessions: current (as the cluster has them), mesh, or auto (the RR planner).")
    ] = "current",
    name: Name = "lab",
    zones: Annotated[int, typer.Option("--zones", help="Zones of the synthetic cluster.")] = 3,
    k: Annotated[int, typer.Option("--k", help="Reflectors per client (--rr auto).")] = 2,
    min_per_zone: Annotated[int, typer.Option("--min", help="Minimum reflectors per zone (--rr auto).")] = 1,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until every node has every block.")] = True,
    timeout: Timeout = 90.0,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Build the lab: one namespace per node on a bridged underlay, BIRD in each, Calico-shaped configs."""
    from calicotool.cli.progress import progress_for
    from calicotool.errors import InputError, Location
    from calicotool.lab.runner import lab_report, lab_up, wait_converged
    from calicotool.lab.sources import RrMode, lab_topology
    from calicotool.lab.underlay import check_lab_name

    app_ctx = app_context(ctx)
    check_lab_name(name)
    _check_seconds("--timeout", timeout)
    try:
        mode = RrMode(rr)
    except ValueError as exc:
        raise InputError(f"--rr must be current, mesh or auto, got {rr!r}", Location(field="--rr")) from exc
    topo = lab_topology(topology, nodes, mode, zones=zones, k=k, min_per_zone=min_per_zone)
    _require_root()
    with progress_for(app_ctx, lab_label(name)) as progress:
        state = lab_up(topo, name, root=_root(app_ctx), progress=progress)
    for note in topo.notes:
        app_ctx.warn(note)
    app_ctx.info(  # sessions as the wait counts them: one per pair of peers, not one per end
        f"{lab_label(name)}: {plural(len(topo.nodes), 'node')}, {plural(len(topo.sessions()), 'BGP session')}, "
        f"{plural(len(topo.reflectors), 'route reflector')} ({topo.description})"
    )
    if wait:
        try:
            with progress_for(app_ctx, lab_label(name)) as progress:
                report = wait_converged(state, timeout=timeout, progress=progress)
        except HostError as exc:
            raise HostError(f"{exc.message}; the lab is still up: `calicotool lab status --name {name}`") from exc
    else:
        report = lab_report(state)
    render_data(app_ctx, _report_data(name, report), output, STATUS_COLUMNS, _status_rows(report))


def _check_seconds(option: str, value: float) -> None:
    """A wait must be a finite, non-negative number of seconds (typer lets -5 and nan through)."""
    import math

    from calicotool.errors import InputError, Location

    if not math.isfinite(value) or value < 0:
        raise InputError(f"{option} must be a number of seconds >= 0, got {value}", Location(field=option))


@app.command("status")
def status(
    ctx: typer.Context,
    name: Name = "lab",
    wait: Annotated[float, typer.Option("--wait", help="Wait up to this many seconds for convergence.")] = 0.0,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Sessions and learned blocks per node. Exit 1 when some running node lacks a session or a block."""
    from calicotool.cli.progress import progress_for
    from calicotool.lab.runner import lab_report, load_state, wait_converged

    app_ctx = app_context(ctx)
    _check_seconds("--wait", wait)
    state = load_state(name, _root(app_ctx))
    report = lab_report(state)
    if wait > 0 and not report.converged:
        try:
            with progress_for(app_ctx, lab_label(name)) as progress:
                report = wait_converged(state, timeout=wait, progress=progress)
        except HostError:
            report = lab_report(state)
    render_data(app_ctx, _report_data(name, report), output, STATUS_COLUMNS, _status_rows(report))
    if not report.converged:
        lagging = sum(1 for n in report.nodes if n.running and not n.converged)
        raise Findings(f"{lab_label(name)}: {plural(lagging, 'running node')} not converged")


@app.command("down")
def down(
    ctx: typer.Context,
    name: Name = "lab",
    all_labs: Annotated[bool, typer.Option("--all", help="Every lab with a state file.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Stop BIRD, delete the namespaces and the state. Safe to repeat."""
    from calicotool.lab.runner import lab_down, list_labs

    app_ctx = app_context(ctx)
    _require_root()
    names = list_labs(_root(app_ctx)) if all_labs else [name]
    results = [lab_down(n, _root(app_ctx)) for n in names]
    rows = [[r["name"], r["birdsStopped"], r["namespacesRemoved"], "yes" if r["stateRemoved"] else "no"] for r in results]
    render_list(app_ctx, results, output, ["LAB", "BIRDS STOPPED", "NAMESPACES REMOVED", "STATE REMOVED"], rows, "labs")


@app.command("list")
def list_cmd(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Labs with a state file."""
    from calicotool.lab.runner import list_labs

    app_ctx = app_context(ctx)
    labs = list_labs(_root(app_ctx))
    render_list(app_ctx, labs, output, ["LAB"], [[n] for n in labs], "labs")


@app.command("stop")
def stop(
    ctx: typer.Context,
    node: Annotated[str, typer.Argument(help="The node whose BIRD to stop.")],
    name: Name = "lab",
    crash: Annotated[bool, typer.Option("--crash", help="SIGKILL (peers see a dropped session) not SIGTERM.")] = False,
) -> None:
    """Stop one node's BIRD, a route reflector for instance, to watch the lab reconverge."""
    from calicotool.lab.runner import load_state, stop_node

    app_ctx = app_context(ctx)
    _require_root()
    stop_node(load_state(name, _root(app_ctx)), node, crash=crash)
    app_ctx.info(f"stopped bird on {node}")


@app.command("start")
def start(
    ctx: typer.Context,
    node: Annotated[str, typer.Argument(help="The node whose BIRD to start again.")],
    name: Name = "lab",
) -> None:
    """Start a stopped node's BIRD again."""
    from calicotool.lab.runner import load_state, start_node

    app_ctx = app_context(ctx)
    _require_root()
    start_node(load_state(name, _root(app_ctx)), node)
    app_ctx.info(f"started bird on {node}")


@app.command("probe")
def probe_cmd(
    ctx: typer.Context,
    src: Annotated[str, typer.Argument(help="Source node.")],
    dst: Annotated[str, typer.Argument(help="Destination node.")],
    name: Name = "lab",
) -> None:
    """TCP from SRC's stand-in workload (first address of its block) to DST's, over the routes BIRD installed."""
    from calicotool.lab.runner import load_state, probe

    app_ctx = app_context(ctx)
    _require_root()
    result = probe(load_state(name, _root(app_ctx)), src, dst)
    if not result.ok:
        raise Findings(f"{src} ({result.src}) -> {dst} ({result.dst}): {result.detail}")
    app_ctx.out.print(f"{src} ({result.src}) -> {dst} ({result.dst}): ok", markup=False)


@app.command("render")
def render(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Directory for NODE.bird.cfg, NODE.bird_aggr.cfg, NODE.bird_ipam.cfg.")],
    topology: Annotated[Path | None, typer.Option("--topology", "-t", help="A LabTopology or cluster topology.")] = None,
    nodes: Annotated[int | None, typer.Option("--nodes", help="A synthetic cluster of N nodes.")] = None,
    rr: Annotated[str, typer.Option("--rr", help="current, mesh or auto.")] = "current",
    k: Annotated[int, typer.Option("--k", help="Reflectors per client (--rr auto).")] = 2,
    min_per_zone: Annotated[int, typer.Option("--min", help="Minimum reflectors per zone (--rr auto).")] = 1,
) -> None:
    """Write the BIRD configs a lab would run, without starting anything (no root needed)."""
    from calicotool.errors import InputError, Location
    from calicotool.lab.bird_config import BirdOptions, BirdPaths, write_node_config
    from calicotool.lab.sources import RrMode, lab_topology

    app_ctx = app_context(ctx)
    try:
        mode = RrMode(rr)
    except ValueError as exc:
        raise InputError(f"--rr must be current, mesh or auto, got {rr!r}", Location(field="--rr")) from exc
    topo = lab_topology(topology, nodes, mode, k=k, min_per_zone=min_per_zone)
    directory = out.resolve()
    for node in topo.nodes:
        write_node_config(node, topo, BirdPaths(directory, node.name), BirdOptions())
    app_ctx.info(f"wrote BIRD configs for {plural(len(topo.nodes), 'node')} to {directory}")
