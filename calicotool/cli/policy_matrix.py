"""`calicotool policy matrix`: reachability between the endpoints (rule-set groups, or the cluster's own pods),
on every port (no --port: each pair's allowed port ranges per protocol) or on the ports asked (a grid per port).
`--expect FILE` checks declared must-allow / must-deny pairs instead: exit 1 on any violation, naming the policy
and rule that break it. Exit 0 otherwise, 2 bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from calicotool.cli.context import AppContext, app_context
from calicotool.cli.exitstatus import ExitStatus
from calicotool.cli.output import OutputFormat, OutputOption, print_text, render_data, render_table
from calicotool.cli.policy_inputs import (
    HELP_SPEC_RICH,
    EnvOption,
    ManifestsOption,
    PoliciesOption,
    StagedOption,
    eval_source,
)
from calicotool.drawing.graph_file import check_graph_path, write_graph_file
from calicotool.errors import InputError
from calicotool.evaluate.expect import Expectation, Outcome, check, expectations_from_text
from calicotool.evaluate.graph import explicit_denies, to_dot
from calicotool.evaluate.matrix import PortMatrix, port_matrix, reachability
from calicotool.evaluate.model import FlowResult
from calicotool.evaluate.portset import parse_protocols
from calicotool.evaluate.source import EvalSource
from calicotool.evaluate.specs import PortSpec, checked_flow, display_name, parse_endpoint_spec, parse_port_spec
from calicotool.policy.endpoint import Endpoint

GRID_LIMIT = 12  # all-port tables up to this many endpoints are grids; larger ones list the allowed pairs


def matrix_command(
    ctx: typer.Context,
    ports: Annotated[
        list[str] | None,
        typer.Option("--port", help="Port(s) to check (repeatable), one grid each; default: every port."),
    ] = None,
    protocols: Annotated[
        list[str] | None,
        typer.Option("--protocol", help="Without --port: protocols to cover on every port (default TCP,UDP)."),
    ] = None,
    endpoints: Annotated[
        list[str] | None, typer.Option("--endpoint", help=f"Extra endpoint to include: {HELP_SPEC_RICH}.")
    ] = None,
    expect: Annotated[
        Path | None,
        typer.Option("--expect", help="YAML of must-allow / must-deny pairs (allow: / deny: lists of "
                                      "{from, to, port}); exit 1 on any violation.", show_default=False),
    ] = None,
    policies: PoliciesOption = None,
    env: EnvOption = None,
    manifests: ManifestsOption = None,
    staged: StagedOption = False,
    output: OutputOption = OutputFormat.table,
    graph: Annotated[
        Path | None,
        typer.Option("--graph", help="Also draw the matrix (for --port, default 443/TCP): .svg, .png (needs "
                                     "Graphviz) or .dot.", show_default=False),
    ] = None,
    show_denied: Annotated[
        bool, typer.Option("--show-denied", help="With --graph: dashed red edges for ports a rule explicitly denies.")
    ] = False,
) -> None:
    """Reachability between all groups of the rule set, or all pods of the cluster (--manifests with Pods or
    WorkloadEndpoints, or --datastore): rows are sources, columns destinations."""
    app = app_context(ctx)
    if graph is not None:
        check_graph_path(graph)
    expectations = _read_expectations(expect) if expect is not None else None
    protos = parse_protocols(protocols or [])
    specs = [parse_port_spec(p) for p in ports or []]
    if protocols and specs:
        raise InputError("--protocol is for the every-port matrix; with --port, name the protocol there (53/UDP)")
    source = eval_source(app, policies, env, manifests, staged)
    notes: list[str] = []
    members = _members(source, endpoints or [], notes)
    for warning in source.policy_set.warnings + notes:
        app.warn(warning)
    if expectations is not None:
        _check_expectations(app, source, members, expectations, output)
        return
    if not members:
        raise InputError("no endpoints to compare: give --policies with groups, --manifests with Pods, or "
                         "--endpoint SPEC (repeatable)")
    if graph is not None or specs:
        _port_grids(app, source, members, specs or [parse_port_spec("443/TCP")], output, graph, show_denied, env)
        return
    matrix = port_matrix(source.policy_set, members, protos)
    if output == OutputFormat.table:
        _render_all_ports(app, matrix)
    else:
        render_data(app, matrix.to_dict(), output)


def _read_expectations(path: Path) -> list[Expectation]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--expect: cannot read {str(path)!r}: {exc}") from None
    return expectations_from_text(text, str(path))


def _members(source: EvalSource, extra: list[str], notes: list[str]) -> list[Endpoint]:
    """The endpoints compared: the rule set's groups, else the cluster's pods and the HostEndpoints, else the
    HostEndpoints and network sets; then --endpoint ones."""
    inv = source.policy_set.inventory
    members = list(source.groups()) if source.groups is not None else []
    if not members and source.workloads:
        members = list(source.workloads.endpoints) + [inv.hosts[n] for n in sorted(inv.hosts)]
    elif not members:
        members = [inv.hosts[n] for n in sorted(inv.hosts)]
        members += [ep for ns, name in sorted(inv.network_sets) if (ep := inv.network_set_endpoint(ns, name))]
    members += [parse_endpoint_spec(e, inv, source.groups, "--endpoint", source.workloads, notes) for e in extra]
    return members


def _port_grids(app: AppContext, source: EvalSource, members: list[Endpoint], specs: list[PortSpec], output: OutputFormat,
                graph: Path | None, show_denied: bool, env: str | None) -> None:
    matrix = reachability(source.policy_set, members, specs)
    if graph is not None:
        denied = explicit_denies(source.policy_set, matrix) if show_denied else None
        title = "reachability " + ", ".join(str(s) for s in specs) + (f" (env {env})" if env else "")
        write_graph_file(to_dot(matrix, denied, title), graph)
    if output == OutputFormat.table:
        names = [display_name(ep) for ep in members]
        for spec, grid in matrix.grids:
            rows = [[names[i]] + ["allow" if ok else "-" for ok in row] for i, row in enumerate(grid)]
            render_table(app, ["FROM \\ TO", *names], rows, title=f"{spec}")
    else:
        render_data(app, matrix.to_dict(), output)
    if graph is not None:
        app.info(f"graph written to {graph}")


def _render_all_ports(app: AppContext, matrix: PortMatrix) -> None:
    names = [display_name(ep) for ep in matrix.endpoints]
    n = len(names)
    if n <= GRID_LIMIT:
        rows = [[names[i]] + [str(matrix.ports(i, j)) for j in range(n)] for i in range(n)]
        render_table(app, ["FROM \\ TO", *names], rows, title="allowed ports")
    else:
        rows = [[names[i], names[j], str(p)] for i in range(n) for j in range(n) if (p := matrix.ports(i, j))]
        render_table(app, ["FROM", "TO", "ALLOWED"], rows, title="allowed ports (pairs allowing nothing omitted)")
    print_text(app, f"{n} endpoints in {len(matrix.classes)} classes (endpoints no selector, address or named port "
                    f"in the policies tells apart)")


def _check_expectations(app: AppContext, source: EvalSource, members: list[Endpoint],
                        expectations: list[Expectation], output: OutputFormat) -> None:
    inv, ps = source.policy_set.inventory, source.policy_set
    resolved: dict[str, Endpoint] = {}

    def endpoint(spec: str, option: str) -> Endpoint:
        if spec not in resolved:
            resolved[spec] = parse_endpoint_spec(spec, inv, source.groups, option, source.workloads)
        return resolved[spec]

    def verdict(exp: Expectation) -> FlowResult:
        return ps.evaluate(checked_flow(endpoint(exp.src, "from"), endpoint(exp.dst, "to"), exp.port))

    try:
        outcomes = check(expectations, verdict)
    except InputError as exc:
        raise InputError(f"--expect: {exc.message}") from None
    bad = [o for o in outcomes if not o.ok]
    if output == OutputFormat.table:
        _render_outcomes(app, outcomes, bad)
    else:
        render_data(app, {"expectations": [o.to_dict() for o in outcomes], "violations": len(bad)}, output)
    if bad:
        raise typer.Exit(ExitStatus.FINDINGS)


def _render_outcomes(app: AppContext, outcomes: list[Outcome], bad: list[Outcome]) -> None:
    rows = [[("ok" if o.ok else "VIOLATION"), f"must {o.expectation.wanted}", o.expectation.src, o.expectation.dst,
             str(o.expectation.port), o.result.verdict.value, o.why()] for o in outcomes]
    render_table(app, ["RESULT", "EXPECT", "FROM", "TO", "PORT", "VERDICT", "DECIDED BY"], rows)
    for o in bad:
        exp = o.expectation
        print_text(app, f"violation: {exp.where}: must {exp.wanted} {exp.src} -> {exp.dst} {exp.port}, but "
                        f"{o.result.verdict.value} — {o.why()}")
    print_text(app, f"{len(outcomes) - len(bad)} of {len(outcomes)} expectations hold")


def register(app: typer.Typer) -> None:
    app.command("matrix")(matrix_command)
