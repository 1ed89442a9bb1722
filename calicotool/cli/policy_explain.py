"""`calicotool policy explain`: is this flow allowed, and what decided? Exit 0 allowed, 1 denied (like a check),
2 bad input."""

from __future__ import annotations

from typing import Annotated

import typer

from calicotool.cli import policy_matrix
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
from calicotool.evaluate.model import FlowResult
from calicotool.evaluate.specs import checked_flow, parse_endpoint_spec, parse_port_spec


def explain_command(
    ctx: typer.Context,
    src: Annotated[str, typer.Option("--src", help=f"Source: {HELP_SPEC_RICH}.", show_default=False)],
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
    rule (or default) that decided. Exit 0 allowed, 1 denied. Without --policies/--manifests, reads --datastore
    (policies and the cluster's pods: --src NAMESPACE/POD)."""
    app = app_context(ctx)
    source = eval_source(app, policies, env, manifests, staged)
    spec = parse_port_spec(port)
    notes: list[str] = []
    src_ep = parse_endpoint_spec(src, source.policy_set.inventory, source.groups, "--src", source.workloads, notes)
    dst_ep = parse_endpoint_spec(dst, source.policy_set.inventory, source.groups, "--dst", source.workloads, notes)
    for warning in source.policy_set.warnings + notes:
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


def register(app: typer.Typer) -> None:
    """Add `explain` and (policy_matrix: same inputs) `matrix` to the `policy` group."""
    app.command("explain")(explain_command)
    policy_matrix.register(app)
