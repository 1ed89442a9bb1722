"""`calicotool rr`: route-reflector autoscaling: plan, reconcile, migrate, generate topologies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from calicotool.bgp.eligibility import DEFAULT_EXCLUDE_LABEL, EligibilityRules
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.state import DEFAULT_RACK_LABEL, DEFAULT_ZONE_LABEL
from calicotool.cli.context import app_context
from calicotool.cli.output import OutputFormat, OutputOption, print_text, render_data, render_table
from calicotool.errors import CalicotoolError, Findings, InputError, Location

app = typer.Typer(help="Route-reflector autoscaling: plan, reconcile, migrate.", no_args_is_help=True)

Ratio = Annotated[float, typer.Option("--ratio", help="Reflectors per eligible node in each zone, in (0, 1].")]
Min = Annotated[int, typer.Option("--min", help="Minimum reflectors per zone.")]
Max = Annotated[int, typer.Option("--max", help="Maximum reflectors per zone.")]
K = Annotated[int, typer.Option("--k", help="Reflectors each client peers with (group size).")]
Budget = Annotated[int | None, typer.Option("--budget", help="Budget mode: max BGP sessions per reflector.")]
Imbalance = Annotated[float, typer.Option("--max-imbalance", help="Allowed client excess per group over the mean.")]
Hysteresis = Annotated[float, typer.Option("--hysteresis", help="Keep reflectors until the formula drops this much.")]
Damping = Annotated[str, typer.Option("--damping", help="Ready this long before promotion (e.g. 5m, 300s).")]
DemoteAfter = Annotated[str, typer.Option("--demote-after", help="NotReady this long before a reflector is demoted.")]
Candidate = Annotated[str | None, typer.Option("--candidate-label", help="Only nodes with this label (key or key=value).")]
Exclude = Annotated[list[str] | None, typer.Option("--exclude-label", help="Never nodes with this label (repeatable).")]
ZoneLabel = Annotated[str | None, typer.Option("--zone-label", help=f"Zone label (default {DEFAULT_ZONE_LABEL}).")]
RackLabel = Annotated[str, typer.Option("--rack-label", help="Rack label.")]
Topology = Annotated[Path | None, typer.Option("--topology", "-t", help="Plan for a topology file, not the datastore.")]
Now = Annotated[str | None, typer.Option("--now", help="Evaluate damping at this RFC 3339 time (default: now).")]


def parse_duration(text: str, option: str) -> float:
    """`300`, `300s`, `5m`, `1h30m` -> seconds. InputError otherwise."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    s = text.strip().lower()
    if not s:
        raise InputError(f"empty duration for {option}")
    total, num = 0.0, ""
    for ch in s:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in units and num:
            total += float(num) * units[ch]
            num = ""
        else:
            raise InputError(f"bad duration {text!r} for {option} (use e.g. 30s, 5m, 1h)", Location(field=option))
    if num:
        total += float(num)
    return total


def _now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"--now wants an RFC 3339 time, got {text!r}") from exc
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def build_options(
    ratio: float, min_: int, max_: int, k: int, budget: int | None, imbalance: float, damping: str,
    demote_after: str, candidate: str | None, exclude: list[str] | None, hysteresis: float = 0.1,
) -> PlanOptions:
    rules = EligibilityRules(
        damping_seconds=parse_duration(damping, "--damping"),
        demote_after_seconds=parse_duration(demote_after, "--demote-after"),
        candidate_label=candidate,
        exclude_labels=tuple(exclude) if exclude else (DEFAULT_EXCLUDE_LABEL,),
    )
    opts = PlanOptions(ratio=ratio, min_per_zone=min_, max_per_zone=max_, k=k, budget=budget,
                       max_imbalance=imbalance, hysteresis=hysteresis, rules=rules)
    opts.validate()
    return opts


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    topology: Topology = None,
    ratio: Ratio = 0.02,
    min_: Min = 1,
    max_: Max = 10,
    k: K = 2,
    budget: Budget = None,
    max_imbalance: Imbalance = 0.25,
    hysteresis: Hysteresis = 0.1,
    damping: Damping = "5m",
    demote_after: DemoteAfter = "5m",
    candidate_label: Candidate = None,
    exclude_label: Exclude = None,
    zone_label: ZoneLabel = None,
    rack_label: RackLabel = DEFAULT_RACK_LABEL,
    now: Now = None,
    output: OutputOption = OutputFormat.table,
    graph: Annotated[Path | None, typer.Option("--graph", help="Draw the plan: FILE.svg, FILE.png or FILE.dot.")] = None,
    tolerance: Annotated[bool, typer.Option("--tolerance/--no-tolerance", help="Check failure tolerance.")] = True,
    propagation_limit: Annotated[int, typer.Option(help="Check routes for every single-RR loss up to this many RRs.")] = 40,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the plan fails a tolerance check.")] = False,
) -> None:
    """Plan route reflectors: sessions vs full mesh, load, churn, failure tolerance; -o yaml prints the changes."""
    from calicotool.bgp import workflow

    app_ctx = app_context(ctx)
    opts = build_options(ratio, min_, max_, k, budget, max_imbalance, damping, demote_after, candidate_label,
                         exclude_label, hysteresis)
    if topology is not None:
        source = workflow.from_topology(topology, _now(now))
    else:
        source = workflow.from_store(app_ctx.store(), _now(now), zone_label or DEFAULT_ZONE_LABEL, rack_label,
                                     zone_label is not None)
    for w in source.warnings:
        app_ctx.warn(w)
    result = workflow.plan(source, opts, with_tolerance=tolerance, propagation_limit=propagation_limit)
    if graph is not None:
        path = workflow.draw(result, graph)
        app_ctx.info(f"graph written to {path}")
    if output == OutputFormat.yaml:
        print_text(app_ctx, workflow.changes_yaml(result.changes))
    elif output == OutputFormat.json:
        render_data(app_ctx, result.report, output)
    else:
        _print_plan_tables(app_ctx, result.report)
    for w in result.plan.warnings:
        app_ctx.warn(w)
    if check and result.tolerance is not None and not result.tolerance.ok:
        raise Findings("the plan fails a failure-tolerance check (see the FAILURE TOLERANCE figures)")


def _print_plan_tables(app_ctx: object, report: dict) -> None:  # type: ignore[type-arg]
    from calicotool.cli.context import AppContext

    assert isinstance(app_ctx, AppContext)
    s = report["summary"]
    pct = f"{100 * s['sessionsRatio']:.2f}%"
    render_table(app_ctx, ["FIGURE", "VALUE"], [
        ("nodes (BGP speakers)", f"{s['nodes']} ({s['bgpSpeakers']})"),
        ("route reflectors / groups / k", f"{s['reflectors']} / {s['groups']} / {s['k']}"),
        ("sessions planned vs full mesh", f"{s['sessionsPlanned']} vs {s['sessionsFullMesh']} ({pct})"),
        ("max sessions per reflector", s["maxLoadPerReflector"]),
        ("full mesh enabled now", s["fullMeshEnabledNow"]),
    ], title="Route-reflector plan")
    render_table(app_ctx, ["ZONE", "ELIGIBLE", "WANTED", "CHOSEN"],
                 [(z["zone"], z["eligible"], z["wanted"], z["chosen"]) for z in report["zones"]], title="Zones")
    render_table(app_ctx, ["GROUP", "CLUSTER ID", "REFLECTORS", "ZONES", "CLIENTS", "SESSIONS/RR"], [
        (g["group"], g["clusterID"], ", ".join(g["reflectors"]), ", ".join(g["zones"]), g["clients"],
         g["sessionsPerReflector"]) for g in report["groups"]], title="Groups (load per reflector)")
    c = report["churn"]
    render_table(app_ctx, ["CHURN VS CURRENT", "VALUE"], [
        ("sessions before -> after", f"{c['sessions_before']} -> {c['sessions_after']}"),
        ("sessions added / removed", f"{c['sessions_added']} / {c['sessions_removed']}"),
        ("nodes relabelled", c["nodes_relabelled"]),
        ("clients moved between groups", c["clients_moved"]),
        ("reflectors promoted / demoted", f"{c['promoted']} / {c['demoted']}"),
    ])
    tol = report.get("tolerance")
    if tol:
        rows = [("baseline: every node's routes reach every node", _yes(tol["baseline_routes_ok"]) + (
            f" (e.g. {tol['baseline_missing_example']})" if tol["baseline_missing_example"] else ""))]
        for key, label in (("lose_one_reflector", "lose any one reflector"), ("lose_one_zone", "lose any one zone")):
            t = tol[key]
            if not t["scenarios"]:
                rows.append((label, "n/a (single zone)" if key == "lose_one_zone" else "n/a"))
                continue
            checked = f" (routes checked {t['propagation_checked']}/{t['scenarios']})" if "propagation_checked" in t else ""
            rows.append((f"{label}: every client keeps a reflector", _yes(t["clients_stranded_max"] == 0)))
            rows.append((f"{label}: all routes still reach all nodes", _yes(t["routes_ok"]) + checked))
            if t["example"]:
                rows.append((f"{label}: worst case", t["example"]))
        render_table(app_ctx, ["FAILURE TOLERANCE", "RESULT"], rows)


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


@app.command("generate")
def generate_cmd(
    ctx: typer.Context,
    nodes: Annotated[int, typer.Option("--nodes", "-n", help="Number of nodes.")] = 12,
    zones: Annotated[int, typer.Option("--zones", help="Number of zones.")] = 3,
    racks: Annotated[int, typer.Option("--racks", help="Racks per zone.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    not_ready: Annotated[float, typer.Option("--not-ready", help="Fraction of NotReady nodes.")] = 0.0,
    name: Annotated[str, typer.Option("--name", help="Topology name.")] = "",
) -> None:
    """Print a synthetic topology file (seeded, any size)."""
    from calicotool.bgp.synthetic import generate_cluster
    from calicotool.bgp.topology import topology_document
    from calicotool.cli.output import to_yaml

    state = generate_cluster(nodes, zones, racks, seed=seed, not_ready=not_ready)
    print_text(app_context(ctx), to_yaml(topology_document(state, name or f"synthetic-{nodes}x{zones}")))


MaxChanges = Annotated[int | None, typer.Option("--max-changes", help="At most this many writes per run.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Plan and print the changes; write nothing.")]
Wait = Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for new sessions to be Established.")]
Timeout = Annotated[str, typer.Option("--timeout", help="How long to wait for Established (e.g. 2m).")]


def _reconcile_config(
    opts: PlanOptions, max_changes: int | None, dry_run: bool, wait: bool, timeout: str, zone_label: str | None,
    rack_label: str,
) -> object:
    from calicotool.bgp.reconcile import ReconcileConfig

    if max_changes is not None and max_changes < 1:
        raise InputError("--max-changes must be >= 1", Location(field="--max-changes"))
    return ReconcileConfig(
        options=opts, max_changes=max_changes, dry_run=dry_run, wait=wait,
        timeout_seconds=parse_duration(timeout, "--timeout"), poll_seconds=2.0,
        zone_label=zone_label or DEFAULT_ZONE_LABEL, rack_label=rack_label, zone_label_explicit=zone_label is not None,
    )


@app.command("reconcile")
def reconcile_cmd(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run once (for a CronJob).")] = False,
    interval: Annotated[str | None, typer.Option("--interval", help="Run forever, this long apart (e.g. 5m).")] = None,
    iterations: Annotated[int | None, typer.Option("--iterations", hidden=True)] = None,
    ratio: Ratio = 0.02,
    min_: Min = 1,
    max_: Max = 10,
    k: K = 2,
    budget: Budget = None,
    max_imbalance: Imbalance = 0.25,
    hysteresis: Hysteresis = 0.1,
    damping: Damping = "5m",
    demote_after: DemoteAfter = "5m",
    candidate_label: Candidate = None,
    exclude_label: Exclude = None,
    zone_label: ZoneLabel = None,
    rack_label: RackLabel = DEFAULT_RACK_LABEL,
    max_changes: MaxChanges = None,
    dry_run: DryRun = False,
    wait: Wait = True,
    timeout: Timeout = "2m",
    output: OutputOption = OutputFormat.table,
) -> None:
    """Bring the datastore to the plan: make-before-break, bounded writes, locked. Exit 1 if not converged."""
    import time

    from calicotool.bgp.reconcile import ReconcileConfig, reconcile_once
    from calicotool.bgp.workflow import changes_yaml

    if once == (interval is not None):
        raise InputError("give exactly one of --once or --interval")
    app_ctx = app_context(ctx)
    opts = build_options(ratio, min_, max_, k, budget, max_imbalance, damping, demote_after, candidate_label,
                         exclude_label, hysteresis)
    cfg = _reconcile_config(opts, max_changes, dry_run, wait, timeout, zone_label, rack_label)
    assert isinstance(cfg, ReconcileConfig)
    pause = parse_duration(interval, "--interval") if interval else 0.0
    store = app_ctx.store()
    run = 0
    while True:
        run += 1
        try:
            result = reconcile_once(store, cfg)
        except CalicotoolError as exc:  # a loop survives a bad run; --once reports it through main()
            if once:
                raise
            app_ctx.warn(f"reconcile run {run} failed: {exc}")
        else:
            for w in result.warnings:
                app_ctx.warn(w)
            if dry_run and output == OutputFormat.yaml:
                print_text(app_ctx, changes_yaml(result.planned))
            else:
                summary = {
                    "run": run, "dryRun": result.dry_run, "writes": result.writes, "pending": result.pending,
                    "converged": result.converged, "stopped": result.stopped,
                    "planned": [c.describe() for c in result.planned.all] if dry_run else len(result.planned),
                    "applied": result.applied,
                }
                render_data(app_ctx, summary, output)
            if once:
                if not result.converged and not dry_run:
                    raise Findings(result.stopped or f"{result.pending} change(s) pending")
                return
        if iterations is not None and run >= iterations:
            return
        time.sleep(pause)


@app.command("migrate")
def migrate_cmd(
    ctx: typer.Context,
    from_mesh: Annotated[bool, typer.Option("--from-mesh", help="Full mesh -> route reflectors.")] = False,
    to_mesh: Annotated[bool, typer.Option("--to-mesh", help="Route reflectors -> full mesh.")] = False,
    ratio: Ratio = 0.02,
    min_: Min = 1,
    max_: Max = 10,
    k: K = 2,
    budget: Budget = None,
    damping: Damping = "5m",
    candidate_label: Candidate = None,
    exclude_label: Exclude = None,
    zone_label: ZoneLabel = None,
    rack_label: RackLabel = DEFAULT_RACK_LABEL,
    dry_run: DryRun = False,
    wait: Wait = True,
    timeout: Timeout = "5m",
    output: OutputOption = OutputFormat.table,
) -> None:
    """Move the cluster off the node-to-node mesh (--from-mesh) or back (--to-mesh), checking each step."""
    from calicotool.bgp.migrate import migrate_from_mesh, migrate_to_mesh
    from calicotool.bgp.reconcile import ReconcileConfig

    if from_mesh == to_mesh:
        raise InputError("give exactly one of --from-mesh or --to-mesh")
    app_ctx = app_context(ctx)
    opts = build_options(ratio, min_, max_, k, budget, 0.25, damping, damping, candidate_label, exclude_label)
    cfg = _reconcile_config(opts, None, dry_run, wait, timeout, zone_label, rack_label)
    assert isinstance(cfg, ReconcileConfig)
    store = app_ctx.store()
    report = migrate_from_mesh(store, cfg) if from_mesh else migrate_to_mesh(store, cfg)
    data = {"direction": report.direction, "dryRun": report.dry_run, "writes": report.writes,
            "steps": [{"step": s.name, "ok": s.ok, "detail": s.detail} for s in report.steps]}
    if output == OutputFormat.table:
        render_table(app_ctx, ["STEP", "OK", "DETAIL"], [(s.name, _yes(s.ok), s.detail) for s in report.steps],
                     title=f"migrate {report.direction}" + (" (dry run)" if dry_run else ""))
    else:
        render_data(app_ctx, data, output)


@app.command("seed")
def seed_cmd(
    ctx: typer.Context,
    topology: Annotated[Path, typer.Option("--topology", "-t", help="Topology file to load.")],
) -> None:
    """Load a topology file into the datastore as Kubernetes Nodes, Calico Nodes and a BGPConfiguration (for
    labs and demos; fails if any of them exists)."""
    from calicotool.bgp.seed import seed_changes
    from calicotool.bgp.topology import load_topology

    app_ctx = app_context(ctx)
    changes = seed_changes(load_topology(topology))
    app_ctx.store().apply_batch(changes)
    app_ctx.info(f"seeded {len(changes)} object(s) from {topology}")
