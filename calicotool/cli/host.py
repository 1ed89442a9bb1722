"""`calicotool host`: Enroll non-Kubernetes hosts into the Calico overlay."""

from __future__ import annotations

import typer

app = typer.Typer(help="Enroll non-Kubernetes hosts into the Calico overlay.", no_args_is_help=True)


@app.command("status")
def _placeholder() -> None:
    """Not available yet in this build."""
    raise typer.Exit(2)
