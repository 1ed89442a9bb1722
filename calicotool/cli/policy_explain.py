"""`calicotool policy explain` (is this flow allowed, and what decided?) and `policy matrix` (reachability
between all groups). Exit codes of explain: 0 allowed, 1 denied (like a check), 2 bad input."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from calicotool.cli.context import AppContext, app_context
from calicotool.cli.exitstatus import ExitStatus
from calicotool.cli.output import OutputFormat, OutputOption, print_text, render_data, render_table
from calicotool.errors import InputError
from calicotool.evaluate.graph import GRAPH_SUFFIXES, explicit_denies, to_dot
from calicotool.evaluate.matrix import reachability
from calicotool.evaluate.model import FlowResult
from calicotool.evaluate.source import EvalSource, from_manifests, from_policies, from_store
from calicotool.evaluate.specs import SPEC_HELP, checked_flow, display_name, parse_endpoint_spec, parse_port_spec

_HELP_SPEC = SPEC_HELP.replace("[", "\\[")  # Rich would read [..] as markup

PoliciesOption = Annotated[
    list[Path] | None,
    typer.Option("--policies", "-p", help="Rule-set files/directories (policies/): evaluate what they generate."),
]
EnvOption = Annotated[str | None, typer.Option("--env", help="Environment overlay of the rule set (dev, prod...).")]
ManifestsOption = Annotated[
    list[Path] | None,
    typer.Option("--manifests", "-m",
                 help="Calico (and Kubernetes NetworkPolicy) manifest files/directories to evaluate."),
]
StagedOption = Annotated[bool, typer.Option("--staged", help="Generate the rule set as staged policies (preview).")]


def _source(app: AppContext, policies: list[Path] | None, env: str | None, manifests: list[Path] | None,
            staged: bool) -> EvalSource:
    if policies and manifests:
        raise InputError("give --policies or --manifests, not both")
    if policies:
        return from_policies(list(policies), env, staged)
    if manifests:
        return from_manifests(list(manifests))
    return from_store(app.store())


def explain_command(
    ctx: typer.Context,
    src: Annotated[str, typer.Option("--src", help=f"Source: {_HELP_SPEC}.", show_default=False)],
    dst: Annotated[str, typer.Option("--dst", help="Destination, same forms as --src.", show_default=False)],
    port: Annotated[
        str,
        typer.Option("--port", help="443/TCP, 53/UDP, 443 (TCP), ICMP, ICMP:8 (type), ICMP:3/4 (type/code), /47."),
    ] = "443/TCP",
    src_port: Annotated[int | None, typer.Option("--src-port", help="Source port (default: unknown).")] = None,
    policies: PoliciesOption = None,
    env: EnvOption = None,
    manifests: ManifestsOption = None,
    staged: StagedOption = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Explain one flow: the verdict and, for source egress and destination ingress, the tiers, policies and the
    rule (or default) that decided. Exit 0 allowed, 1 denied. Without --policies/--manifests, reads --datastore."""
    app = app_context(ctx)
    source = _source(app, policies, env, manifests, staged)
    spec = parse_port_spec(port)
    src_ep = parse_endpoint_spec(src, source.policy_set.inventory, source.groups, "--src")
    dst_ep = parse_endpoint_spec(dst, source.policy_set.inventory, source.groups, "--dst")
    for warning in source.policy_set.warnings:
        app.warn(warning)
    result = source.policy_set.evaluate(checked_flow(src_ep, dst_ep, spec, src_port))
    if output == OutputFormat.table:
        _render_explain(app, result)
    else:
        render_data(app, result.to_dict(), output)
    if not result.allowed:
        raise typer.Exit(ExitStatus.FINDINGS)


def _render_explain(app: AppContext, result: FlowResult) -> None:
    print_text(app, f"{result.verdict.value.upper()}  {result.flow.describe()}")
    for label, trace in (("egress", result.egress), ("ingress", result.ingress)):
        print_text(app, f"  {label:8}{trace.endpoint}: {trace.verdict.value} — {trace.reason}")
    rows: list[tuple[str, ...]] = []
    shown_notes: set[str] = set()
    for label, trace in (("egress", result.egress), ("ingress", result.ingress)):
        for tier in trace.tiers:
            stage = "" if tier.stage == "normal" else f" [{tier.stage}]"
            for pol in tier.policies:
                rule = "-" if pol.rule_index is None else str(pol.rule_index)
                action = pol.action or "no match"
                if pol.logged:
                    action += f" (logged by {','.join(map(str, pol.logged))})"
                rows.append((label, tier.name + stage, pol.name, rule, action, tier.outcome))
        for pol in trace.staged:
            rows.append((label, pol.tier + " [staged]", pol.name, "-" if pol.rule_index is None else str(pol.rule_index),
                         (pol.action or "no match") + " (not enforced)", ""))
        for note in trace.notes:
            if note not in shown_notes:  # both directions often carry the same note (e.g. an endpoint without IP)
                shown_notes.add(note)
                print_text(app, f"  note: {note}")
    if rows:
        render_table(app, ["DIRECTION", "TIER", "POLICY", "RULE", "ACTION", "TIER OUTCOME"], rows)


def matrix_command(
    ctx: typer.Context,
    ports: Annotated[
        list[str] | None, typer.Option("--port", help="Port(s) to check (repeatable); default 443/TCP.")
    ] = None,
    endpoints: Annotated[
        list[str] | None, typer.Option("--endpoint", "-e", help=f"Extra endpoint to include: {_HELP_SPEC}.")
    ] = None,
    policies: PoliciesOption = None,
    env: EnvOption = None,
    manifests: ManifestsOption = None,
    staged: StagedOption = False,
    output: OutputOption = OutputFormat.table,
    graph: Annotated[
        Path | None,
        typer.Option("--graph", help="Also draw the matrix: .svg/.png (Graphviz `dot`) or .dot.", show_default=False),
    ] = None,
    show_denied: Annotated[
        bool, typer.Option("--show-denied", help="With --graph: dashed red edges for ports a rule explicitly denies.")
    ] = False,
) -> None:
    """Reachability table between all groups of the rule set (rows: source, columns: destination)."""
    app = app_context(ctx)
    if graph is not None:
        _check_graph_path(graph)
    source = _source(app, policies, env, manifests, staged)
    specs = [parse_port_spec(p) for p in (ports or ["443/TCP"])]
    inv = source.policy_set.inventory
    members = list(source.groups()) if source.groups is not None else []
    if not members:
        members = [inv.hosts[n] for n in sorted(inv.hosts)]
        members += [ep for ns, name in sorted(inv.network_sets) if (ep := inv.network_set_endpoint(ns, name))]
    members += [parse_endpoint_spec(e, inv, source.groups, "--endpoint") for e in endpoints or []]
    if not members:
        raise InputError("no endpoints to compare: give --policies with groups, or --endpoint SPEC (repeatable)")
    for warning in source.policy_set.warnings:
        app.warn(warning)
    matrix = reachability(source.policy_set, members, specs)
    if graph is not None:
        denied = explicit_denies(source.policy_set, matrix) if show_denied else None
        title = "reachability " + ", ".join(str(s) for s in specs) + (f" (env {env})" if env else "")
        _write_graph(to_dot(matrix, denied, title), graph)
    if output == OutputFormat.table:
        names = [display_name(ep) for ep in members]
        for spec, grid in matrix.grids:
            rows = [[names[i]] + ["allow" if ok else "-" for ok in row] for i, row in enumerate(grid)]
            render_table(app, ["FROM \\ TO", *names], rows, title=f"{spec}")
    else:
        render_data(app, matrix.to_dict(), output)
    if graph is not None:
        app.info(f"graph written to {graph}")


def _check_graph_path(path: Path) -> None:
    """Fail before any work on a suffix we cannot draw or a directory that is not there."""
    if path.suffix.lower().lstrip(".") not in GRAPH_SUFFIXES:
        raise InputError(f"--graph wants a .svg, .png or .dot file, got {path.name!r}")
    if not path.parent.is_dir():
        raise InputError(f"--graph: directory {str(path.parent)!r} does not exist")


def _write_graph(text: str, path: Path) -> None:
    """Write DOT text, or have Graphviz `dot` render it to .svg/.png (bounded in time)."""
    fmt = path.suffix.lower().lstrip(".")
    data = text.encode()
    if fmt in ("svg", "png"):
        engine = shutil.which("dot")
        if engine is None:
            raise InputError("Graphviz `dot` is not installed (needed for .svg/.png); write a .dot file instead")
        try:
            proc = subprocess.run([engine, f"-T{fmt}"], input=data, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            raise InputError(f"--graph: graphviz took over 60 s to lay out {path.name}") from None
        if proc.returncode != 0:
            raise InputError(f"--graph: graphviz failed: {proc.stderr.decode(errors='replace').strip()[:300]}")
        data = proc.stdout
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"--graph: cannot write {str(path)!r}: {exc.strerror or exc}") from None


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `policy` group."""
    app.command("explain")(explain_command)
    app.command("matrix")(matrix_command)
