"""`calicotool lab`: Network-namespace lab with real BIRD and kernel datapaths."""

from __future__ import annotations

import typer

app = typer.Typer(help="Network-namespace lab with real BIRD and kernel datapaths.", no_args_is_help=True)


@app.command("status")
def _placeholder() -> None:
    """Not available yet in this build."""
    raise typer.Exit(2)
