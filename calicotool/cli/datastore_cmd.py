"""`calicotool datastore`: which datastore is selected, is it reachable, what does it serve."""

from __future__ import annotations

import typer

from calicotool.cli.context import app_context
from calicotool.cli.output import OutputFormat, OutputOption, print_text, render_data
from calicotool.datastore.factory import explain_spec
from calicotool.errors import Unavailable

app = typer.Typer(help="Inspect the selected Calico datastore.", no_args_is_help=True)


@app.command()
def check(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Is the datastore reachable? Which API group and Calico version does it serve? Exit 3 if unreachable.

    A dir: datastore whose directory does not exist is unreachable too (exit 3, as an etcd nobody answers at): a
    mistyped path must not pass the check. The first `apply` creates the directory."""
    a = app_context(ctx)
    info = a.store().check()
    if info.backend == "dir" and info.details.get("exists") is False:
        raise Unavailable(f"datastore dir:{info.location} does not exist (a mistyped path? `calicotool apply` "
                          "creates it on its first write)")
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
def which(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Print the datastore calicotool would use (stdout), and why (stderr; in -o json/yaml both)."""
    a = app_context(ctx)
    spec, why = explain_spec(a.datastore, a.env.environ)
    if output == OutputFormat.table:
        print_text(a, spec)
        a.info(f"chosen by {why}")
    else:
        render_data(a, {"datastore": spec, "source": why}, output)
