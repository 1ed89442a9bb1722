"""The `calicotool` entry point: root options, command groups, and the one place errors become exit codes."""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated

import typer
from typer.exceptions import TyperException

from calicotool import __version__
from calicotool.cli import datastore_cmd, generic, host, lab, policy, rr
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

app = typer.Typer(
    name="calicotool",
    help="Operate Calico-networked clusters: firewall rules as Calico policy, route-reflector autoscaling, "
    "enrolling non-Kubernetes hosts.\n\nExit codes: 0 ok, 1 findings/drift, 2 bad input, 3 datastore, 4 host.",
    no_args_is_help=True,
    rich_markup_mode="rich",
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


generic.register(app)
app.add_typer(datastore_cmd.app, name="datastore")
app.add_typer(policy.app, name="policy")
app.add_typer(rr.app, name="rr")
app.add_typer(host.app, name="host")
app.add_typer(lab.app, name="lab")


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


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run the CLI and return the exit status; never lets a traceback escape unless --debug."""
    env = env or Environment()
    args = list(sys.argv[1:] if argv is None else argv)
    obj = AppContext(env=env, debug="--debug" in args)
    command = typer.main.get_command(app)
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


if __name__ == "__main__":
    raise SystemExit(main())
