"""`calicotool datastore`: which datastore is selected, is it reachable, what does it serve."""

from __future__ import annotations

import typer

from calicotool.cli.context import app_context
from calicotool.cli.output import OutputFormat, OutputOption, render_data

app = typer.Typer(help="Inspect the selected Calico datastore.", no_args_is_help=True)


@app.command()
def check(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Is the datastore reachable? Which API group and Calico version does it serve? Exit 3 if unreachable."""
    a = app_context(ctx)
    info = a.store().check()
    data = {
        "datastore": a.datastore_spec(),
        "backend": info.backend,
        "location": info.location,
        "apiGroup": info.api_group,
        "calicoVersion": info.calico_version or "unknown",
        **info.details,
    }
    render_data(a, data, output)


@app.command()
def which(ctx: typer.Context) -> None:
    """Print the datastore calicotool would use, and why."""
    a = app_context(ctx)
    typer.echo(a.datastore_spec())
