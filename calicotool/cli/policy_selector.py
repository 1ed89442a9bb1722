"""`calicotool policy selector`: canonical form of a Calico selector and, given labels, whether they match."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from calicotool.cli.context import app_context
from calicotool.cli.output import OutputFormat, OutputOption, print_text, render_data
from calicotool.errors import InputError
from calicotool.selector import parse


def parse_label_args(entries: list[str]) -> dict[str, str]:
    """`k=v` entries (repeatable, each may hold several comma-separated pairs) -> labels; bad entry -> InputError."""
    labels: dict[str, str] = {}
    for entry in entries:
        for pair in entry.split(","):
            key, sep, value = pair.partition("=")
            key = key.strip()
            if not sep or not key:
                raise InputError(f"--labels: expected KEY=VALUE, got {pair!r}")
            labels[key] = value.strip()
    return labels


def selector_command(
    ctx: typer.Context,
    expression: Annotated[str, typer.Argument(metavar="EXPR", help="Calico selector, e.g. \"app == 'web'\".")],
    labels: Annotated[
        list[str] | None,
        typer.Option(
            "--labels",
            "-l",
            metavar="KEY=VALUE",
            help="Label to evaluate against (repeatable, or comma-separated). Without labels only the "
            "canonical form is printed.",
        ),
    ] = None,
    is_global: Annotated[
        bool, typer.Option("--global", help="Evaluate as a global (non-namespaced) thing, for global().")
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Print a selector's canonical form and, given --labels, whether they match (exit 2 if invalid)."""
    app = app_context(ctx)
    selector = parse(expression)
    matches: bool | None = None
    if labels:
        matches = selector.matches(parse_label_args(labels), is_global=is_global)
    data: dict[str, Any] = {"canonical": selector.canonical, "matches": matches}
    if output == OutputFormat.table:
        # Plain aligned text, not a Rich table: a long selector must stay on one line (copy-paste) and its
        # brackets must not be taken for console markup.
        lines = [f"canonical  {selector.canonical}"]
        if matches is not None:
            lines.append(f"matches    {'true' if matches else 'false'}")
        print_text(app, "\n".join(lines))
    else:
        render_data(app, data, output)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `policy` group."""
    app.command("selector")(selector_command)
