"""Walk the click command tree once and record what start-up needs without Typer: every command's help text and,
for completion, its subcommands, options (does it take a value? which values?) and arguments.

Imports the whole CLI: run only when the start-up cache is missing or stale (see `calicotool.cli.startup`)."""

from __future__ import annotations

from typing import Any

# Values computed at TAB time (by calicotool.cli.completion): (command path prefix, option or argument, source).
DYNAMIC: tuple[tuple[str, str, str], ...] = (
    ("", "--env", "envs"),
    ("lab", "--name", "labs"),
    ("lab stop", "node", "nodes"),
    ("lab start", "node", "nodes"),
    ("lab probe", "src", "nodes"),
    ("lab probe", "dst", "nodes"),
)
KIND_ARGUMENTS = ("get", "delete")  # commands whose `kind` argument completes to Calico kinds
HELP_WIDTH = 78  # click's width on any terminal of 80 columns or more (and when not a terminal)


def kind_names() -> list[str]:
    """Plural lower-case kind names, as kubectl completes them."""
    from calicotool.model.kinds import KINDS

    return sorted({info.plural for info in KINDS.values()})


def _completer(path: str, param: Any) -> str | list[str] | None:
    names = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", []), param.name]
    for prefix, name, source in DYNAMIC:
        if (path == prefix or path.startswith(prefix + " ") or not prefix) and name in names:
            return source
    if param.name == "kind" and path in KIND_ARGUMENTS:
        return kind_names()
    typed = getattr(param, "type_descriptor", None) or getattr(param, "type", None)  # Typer >= 0.2x / click
    choices = getattr(typed, "choices", None)
    if choices:
        return [str(getattr(c, "value", c)) for c in choices]
    return None


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0].strip()


def _node(command: Any, ctx: Any, path: str, helps: dict[str, str]) -> dict[str, Any]:
    helps[path] = command.get_help(ctx)
    options: dict[str, dict[str, Any]] = {}
    arguments: list[dict[str, Any]] = []
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            arguments.append({"dest": param.name, "nargs": param.nargs, "complete": _completer(path, param)})
            continue
        flag = bool(getattr(param, "is_flag", False)) or bool(getattr(param, "count", False))
        entry = {"dest": param.name, "value": not flag, "complete": None if flag else _completer(path, param),
                 "help": _first_line(getattr(param, "help", ""))}
        for opt in [*param.opts, *param.secondary_opts]:
            options[opt] = entry
    node: dict[str, Any] = {"help": _first_line(command.get_short_help_str(200)), "options": options, "args": arguments}
    if hasattr(command, "list_commands"):
        node["commands"] = {}
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            sub_ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
            node["commands"][name] = _node(sub, sub_ctx, f"{path} {name}".strip(), helps)
    return node


def build() -> dict[str, Any]:
    """{"help": {command path: help text}, "tree": root node} for the whole CLI."""
    from calicotool.cli.app import root_command

    root = root_command()
    ctx = root.make_context("calicotool", [], resilient_parsing=True)
    ctx.terminal_width = HELP_WIDTH
    helps: dict[str, str] = {}
    tree = _node(root, ctx, "", helps)
    return {"help": helps, "tree": tree}
