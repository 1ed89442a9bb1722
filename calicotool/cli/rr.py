"""`calicotool rr`: route-reflector autoscaling: plan, reconcile, migrate, generate topologies."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from calicotool.bgp.eligibility import DEFAULT_EXCLUDE_LABEL, EligibilityRules
from calicotool.bgp.options import PlanOptions, parse_duration
from calicotool.bgp.state import DEFAULT_RACK_LABEL, DEFAULT_ZONE_LABEL
from calicotool.cli.context import AppContext, app_context
from calicotool.cli.output import OutputFormat, OutputOption, print_text, render_data, render_table
from calicotool.errors import Findings, InputError, Location
from calicotool.wording import plural

if TYPE_CHECKING:
    from calicotool.bgp.progress import SessionWaitProgress
    from calicotool.bgp.reconcile import ReconcileConfig
    from calicotool.bgp.report import TableView

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
        from calicotool.bgp.report import plan_tables

        _print_tables(app_ctx, plan_tables(result.report))
    for w in result.plan.warnings:
        app_ctx.warn(w)
    if check and result.tolerance is not None and not result.tolerance.ok:
        raise Findings("the plan fails a failure-tolerance check (see the FAILURE TOLERANCE figures)")


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def _print_tables(app_ctx: AppContext, tables: list[TableView]) -> None:
    for t in tables:
        render_table(app_ctx, t.columns, t.rows, title=t.title)


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
Settle = Annotated[str, typer.Option("--settle", help="New sessions must stay Established this long before old "
                                     "ones go (calico-node refreshes CalicoNodeStatus every 10s).")]


def _reconcile_config(
    opts: PlanOptions, max_changes: int | None, dry_run: bool, wait: bool, timeout: str, zone_label: str | None,
    rack_label: str, settle: str,
) -> ReconcileConfig:
    from calicotool.bgp.reconcile import ReconcileConfig

    if max_changes is not None and max_changes < 1:
        raise InputError("--max-changes must be >= 1", Location(field="--max-changes"))
    return ReconcileConfig(
        options=opts, max_changes=max_changes, dry_run=dry_run, wait=wait,
        timeout_seconds=parse_duration(timeout, "--timeout"), poll_seconds=2.0,
        settle_seconds=parse_duration(settle, "--settle"),
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
    settle: Settle = "10s",
    output: OutputOption = OutputFormat.table,
) -> None:
    """Bring the datastore to the plan: make-before-break, bounded writes, locked.

    --once (CronJob): exit 1 when new sessions did not come up within --timeout (old ones are kept), or with
    --dry-run when there is anything to change; a run that stopped at --max-changes exits 0 (the next continues).
    --interval (sidecar): one line per run on stdout (one JSON object per line with -o json), datastore errors
    are logged and retried at the next interval, SIGTERM ends the loop cleanly (exit 0)."""
    from calicotool.bgp.reconcile import reconcile_once
    from calicotool.bgp.runlog import reconcile_record, reconcile_tables
    from calicotool.bgp.sidecar import Stopped, stop_aware_sleep
    from calicotool.bgp.workflow import changes_yaml
    from calicotool.cli.exitstatus import ExitStatus

    if once == (interval is not None):
        raise InputError("give exactly one of --once or --interval")
    app_ctx = app_context(ctx)
    opts = build_options(ratio, min_, max_, k, budget, max_imbalance, damping, demote_after, candidate_label,
                         exclude_label, hysteresis)
    cfg = _reconcile_config(opts, max_changes, dry_run, wait, timeout, zone_label, rack_label, settle)
    progress = _progress(app_ctx)
    if interval is not None:
        pause = parse_duration(interval, "--interval")
        if pause <= 0:
            raise InputError("--interval must be longer than 0s", Location(field="--interval"))
        _reconcile_loop(app_ctx, cfg, pause, output, iterations, progress)
        return
    stop = threading.Event()
    try:
        with _sigterm_sets(stop):
            result = reconcile_once(app_ctx.store(), cfg, sleep=stop_aware_sleep(stop), progress=progress)
    except Stopped:
        app_ctx.info("SIGTERM while waiting for sessions: stopped before the break phase (nothing removed; the "
                     "next run resumes)")
        raise typer.Exit(ExitStatus.INTERRUPTED) from None
    finally:
        progress.done()
    for w in result.warnings:
        app_ctx.warn(w)
    record = reconcile_record(result)
    if output == OutputFormat.table:
        _print_tables(app_ctx, reconcile_tables(record))
    elif dry_run and output == OutputFormat.yaml:
        print_text(app_ctx, changes_yaml(result.planned))
    else:
        render_data(app_ctx, record, output)
    if dry_run and len(result.planned):
        raise Findings(f"{plural(len(result.planned), 'change')} would be made (dry run: nothing written)")
    if result.stuck:
        raise Findings(result.stopped or "new sessions not Established")
    if not result.converged and not dry_run:  # paced, not stuck: a CronJob's next run continues
        app_ctx.info(f"{result.stopped}; {plural(result.pending, 'change')} left for the next run")


@contextlib.contextmanager
def _sigterm_sets(stop: threading.Event) -> Iterator[None]:
    """While inside, SIGTERM (a pod being stopped) sets `stop` instead of killing the process mid-write; the
    previous handler is put back on the way out. Only the main thread may install handlers."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(_signum: int, _frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _progress(app_ctx: AppContext) -> SessionWaitProgress:
    from calicotool.bgp.progress import SessionWaitProgress

    return SessionWaitProgress(app_ctx.env.stderr)


def _reconcile_loop(
    app_ctx: AppContext, cfg: ReconcileConfig, pause: float, output: OutputFormat, iterations: int | None,
    progress: SessionWaitProgress,
) -> None:
    import json

    from calicotool.bgp.runlog import run_line
    from calicotool.bgp.sidecar import run_loop
    from calicotool.cli.output import to_yaml

    stop = threading.Event()

    def emit(record: dict[str, object]) -> None:
        progress.done()
        if output == OutputFormat.json:
            print_text(app_ctx, json.dumps(record, separators=(", ", ": "), default=str))
        elif output == OutputFormat.yaml:
            print_text(app_ctx, "---\n" + to_yaml(record))
        else:
            print_text(app_ctx, run_line(record))

    try:
        with _sigterm_sets(stop):
            runs = run_loop(app_ctx.store, cfg, pause, emit, stop, warn=app_ctx.warn, iterations=iterations,
                            progress=progress)
    finally:
        progress.done()
    if stop.is_set():
        app_ctx.info(f"SIGTERM: stopped after {plural(runs, 'run')}")


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
    max_imbalance: Imbalance = 0.25,
    hysteresis: Hysteresis = 0.1,
    damping: Damping = "5m",
    demote_after: DemoteAfter = "5m",
    candidate_label: Candidate = None,
    exclude_label: Exclude = None,
    zone_label: ZoneLabel = None,
    rack_label: RackLabel = DEFAULT_RACK_LABEL,
    dry_run: DryRun = False,
    wait: Wait = True,
    timeout: Timeout = "5m",
    settle: Settle = "10s",
    output: OutputOption = OutputFormat.table,
) -> None:
    """Move the cluster off the node-to-node mesh (--from-mesh) or back (--to-mesh), checking each step.

    Use the same planner options as the reconcile CronJob, or its next run reshuffles what migrate set up.
    Exit 1 when a check fails (the steps so far are printed; nothing after the failed check is written)."""
    from calicotool.bgp.migrate import MigrationFailed, MigrationReport, migrate_from_mesh, migrate_to_mesh

    if from_mesh == to_mesh:
        raise InputError("give exactly one of --from-mesh or --to-mesh")
    app_ctx = app_context(ctx)
    opts = build_options(ratio, min_, max_, k, budget, max_imbalance, damping, demote_after, candidate_label,
                         exclude_label, hysteresis)
    cfg = _reconcile_config(opts, None, dry_run, wait, timeout, zone_label, rack_label, settle)
    store = app_ctx.store()
    progress = _progress(app_ctx)
    failed: MigrationFailed | None = None
    try:
        migrate = migrate_from_mesh if from_mesh else migrate_to_mesh
        report: MigrationReport = migrate(store, cfg, progress=progress)
    except MigrationFailed as exc:
        failed, report = exc, exc.report
    finally:
        progress.done()
    data = {"direction": report.direction, "dryRun": report.dry_run, "writes": report.writes,
            "ok": failed is None, "steps": [{"step": s.name, "ok": s.ok, "detail": s.detail} for s in report.steps]}
    if output == OutputFormat.table:
        render_table(app_ctx, ["STEP", "OK", "DETAIL"], [(s.name, yes(s.ok), s.detail) for s in report.steps],
                     title=f"migrate {report.direction}" + (" (dry run)" if dry_run else ""))
    else:
        render_data(app_ctx, data, output)
    if failed is not None:
        raise failed


@app.command("seed")
def seed_cmd(
    ctx: typer.Context,
    topology: Annotated[Path, typer.Option("--topology", "-t", help="Topology file to load.")],
) -> None:
    """Load a topology file into the datastore as Nodes and a BGPConfiguration (for labs and demos): Calico
    Nodes on etcd, Kubernetes Nodes with Calico's annotations on Kubernetes, both in a directory. Fails, writing
    nothing, if any of them exists."""
    from calicotool.bgp.seed import seed_store
    from calicotool.bgp.topology import load_topology

    app_ctx = app_context(ctx)
    changes = seed_store(app_ctx.store(), load_topology(topology))
    app_ctx.info(f"seeded {plural(len(changes), 'object')} from {topology}")
