"""`calicotool policy`: firewall rules as Calico policy: validate, generate, explain, lint, diff, apply."""

from __future__ import annotations

import typer

from calicotool.cli import policy_explain, policy_rules, policy_selector

app = typer.Typer(
    help="Firewall rules as Calico policy: selector, validate, generate, explain, lint, import, diff, apply.",
    no_args_is_help=True,
)

policy_selector.register(app)
policy_rules.register(app)
policy_explain.register(app)
