"""The Typer application: root options, command groups loaded on demand, and the one place errors become exit
codes. `calicotool.cli.main` answers --version, cached help and completion without importing this module."""

from __future__ import annotations

import contextlib
import importlib
import traceback
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from calicotool import __version__
from calicotool.cli.context import AppContext, Environment
from calicotool.cli.exitstatus import ExitStatus
from calicotool.errors import (
    CalicotoolError,
    DatastoreError,
    Findings,
    HostError,
    InputError,
    ValidationFailed,
)

# name -> "module:attribute" (a Typer group, or a command of generic.app). Imported only when the command runs,
# its help is shown or the completion cache is built, so `calicotool lab list` never loads the policy evaluator.
COMMANDS: dict[str, str] = {
    "get": "calicotool.cli.generic:app",
    "apply": "calicotool.cli.generic:app",
    "diff": "calicotool.cli.generic:app",
    "delete": "calicotool.cli.generic:app",
    "datastore": "calicotool.cli.datastore_cmd:app",
    "policy": "calicotool.cli.policy:app",
    "rr": "calicotool.cli.rr:app",
    "host": "calicotool.cli.host:app",
    "lab": "calicotool.cli.lab:app",
}


def plain_help(command: Any) -> Any:
    """Help as plain text, the same on every Typer release: no Rich (half the start-up cost), no `<bool>` labels,
    no ANSI codes in logs. Applied to each command as it is loaded; a help text escaped for Rich (`\\[`) reads
    as written."""
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
    for holder in (command, *getattr(command, "params", ())):
        text = getattr(holder, "help", None)
        if isinstance(text, str) and "\\[" in text:
            holder.help = text.replace("\\[", "[")
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
    return command


def load_command(name: str) -> Any:
    """The click command for a top-level `name` (imports its module)."""
    module, _, attr = COMMANDS[name].partition(":")
    group = typer.main.get_group(getattr(importlib.import_module(module), attr))
    return plain_help(group.commands[name] if attr == "app" and module.endswith(".generic") else group)


class LazyGroup(TyperGroup):
    """The root group: lists every command from COMMANDS, imports one only when asked for it."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)


app = typer.Typer(
    name="calicotool",
    cls=LazyGroup,
    help="Operate Calico-networked clusters: firewall rules as Calico policy, route-reflector autoscaling, "
    "enrolling non-Kubernetes hosts.\n\nExit codes: 0 ok, 1 findings/drift, 2 bad input, 3 datastore, 4 host.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"calicotool {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    datastore: Annotated[
        str | None,
        typer.Option(
            "--datastore",
            "-d",
            help="dir:PATH | kubernetes[:CONTEXT] | etcdv3:URL[,URL...]. Default: $CALICOTOOL_DATASTORE, then "
            "calicoctl's DATASTORE_TYPE/ETCD_ENDPOINTS/KUBECONFIG, then dir:./cluster.",
            show_default=False,
        ),
    ] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context (kubernetes datastore).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and backend chatter.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    obj = ctx.obj if isinstance(ctx.obj, AppContext) else AppContext(env=Environment())
    obj.datastore = datastore
    obj.kube_context = context
    obj.debug = debug
    ctx.obj = obj


def root_command() -> Any:
    """The click command tree (root only; groups load on demand)."""
    return plain_help(typer.main.get_command(app))


# Typer >= 0.2x vendors click; older releases raise click's own exceptions. Catch both.
_EXITS: tuple[type[BaseException], ...] = (typer.Exit,)
_ABORTS: tuple[type[BaseException], ...] = (typer.Abort,)
_USAGE: tuple[type[BaseException], ...] = (TyperException,)
try:  # pragma: no cover - depends on the installed typer
    import click

    _EXITS += (click.exceptions.Exit,)
    _ABORTS += (click.exceptions.Abort,)
    _USAGE += (click.ClickException,)
except ImportError:  # pragma: no cover
    pass


_ABORTS_AND_INTERRUPT: tuple[type[BaseException], ...] = (*_ABORTS, KeyboardInterrupt)


def _status_for(exc: CalicotoolError) -> ExitStatus:
    if isinstance(exc, Findings):
        return ExitStatus.FINDINGS
    if isinstance(exc, InputError):
        return ExitStatus.BAD_INPUT
    if isinstance(exc, DatastoreError):
        return ExitStatus.DATASTORE
    if isinstance(exc, HostError):
        return ExitStatus.HOST
    return ExitStatus.INTERNAL


def run(args: Sequence[str], env: Environment | None = None) -> int:
    """Run the CLI and return the exit status; never lets a traceback escape unless --debug."""
    env = env or Environment()
    args = list(args)
    obj = AppContext(env=env, debug="--debug" in args)
    command = root_command()
    err = env.err_console()
    try:
        try:  # help and --version write to sys.stdout: point it at the injected stream
            with contextlib.redirect_stdout(env.stdout), contextlib.redirect_stderr(env.stderr):
                rv = command.main(args=args, prog_name="calicotool", standalone_mode=False, obj=obj)
        finally:
            obj.close()
        return int(rv) if isinstance(rv, int) else ExitStatus.OK
    except _EXITS as exc:
        return int(getattr(exc, "exit_code", 0))
    except _ABORTS_AND_INTERRUPT:
        err.print("interrupted", markup=False)
        return ExitStatus.INTERRUPTED
    except _USAGE as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show(file=env.stderr)
        else:  # pragma: no cover
            err.print(f"error: {exc}", markup=False)
        return ExitStatus.BAD_INPUT
    except CalicotoolError as exc:
        status = _status_for(exc)
        kind = {
            ExitStatus.FINDINGS: "",
            ExitStatus.BAD_INPUT: "error: ",
            ExitStatus.DATASTORE: "datastore error: ",
            ExitStatus.HOST: "host error: ",
        }.get(status, "error: ")
        if isinstance(exc, ValidationFailed) and len(exc.errors) > 1:
            for line in exc.details():
                err.print(f"error: {line}", markup=False)
        else:
            err.print(f"{kind}{exc}", markup=False)
        if obj.debug:
            err.print(traceback.format_exc(), markup=False)
        return status
    except Exception as exc:  # a bug: say so in one line, traceback only with --debug
        err.print(f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for the traceback)", markup=False)
        if obj.debug:
            err.print(traceback.format_exc(), markup=False)
        return ExitStatus.INTERNAL
