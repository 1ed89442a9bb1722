"""Commands of `calicotool policy` (registered by cli/policy.py)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `policy` group."""
