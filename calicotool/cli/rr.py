"""`calicotool rr`: Route-reflector autoscaling: plan, reconcile, migrate."""

from __future__ import annotations

import typer

app = typer.Typer(help="Route-reflector autoscaling: plan, reconcile, migrate.", no_args_is_help=True)


@app.command("status")
def _placeholder() -> None:
    """Not available yet in this build."""
    raise typer.Exit(2)
