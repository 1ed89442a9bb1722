"""The `calicotool` entry point. Answers `--version`, `--help` and shell completion from the start-up cache
without importing Typer, Rich or any command module; everything else runs the Typer app (calicotool.cli.app),
which is where errors become exit codes."""

from __future__ import annotations

import os
import sys

from calicotool import __version__

TYPE_CHECKING = False  # typing, Typer and Rich stay out of --version, cached --help and completion
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from calicotool.cli.context import Environment

HELP_FLAGS = ("--help", "-h")


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run the CLI and return the exit status; never lets a traceback escape unless --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    environ = env.environ if env is not None else os.environ
    stdout = env.stdout if env is not None else sys.stdout
    if args == ["--version"]:
        stdout.write(f"calicotool {__version__}\n")
        return 0
    from calicotool.cli import startup

    if environ.get("_CALICOTOOL_COMPLETE"):
        return _complete(environ, str(env.cwd) if env is not None else os.getcwd(), stdout)
    wants_help = bool(args) and args[-1] in HELP_FLAGS
    if wants_help:
        text = startup.cached_help(args[:-1], environ)
        if text is not None:
            stdout.write(text + "\n")
            return 0
    elif not args or not args[-1].startswith("-"):  # `calicotool lab`: a group without its command is a usage error
        text = startup.cached_help(args, environ, groups_only=True)
        if text is not None:
            (env.stderr if env is not None else sys.stderr).write(text + "\n")
            return 2
    from calicotool.cli.app import run

    status = run(args, env)
    if wants_help and status == 0 and startup.cache_writable(environ):
        try:  # the next --help (and TAB) is answered from the cache
            startup.build_and_save(environ)
        except Exception:  # a cache is an optimisation: never fail the command for it
            pass
    return status


def _complete(environ: Any, cwd: str, stdout: Any) -> int:
    """Answer a shell's completion request; on any failure offer nothing (a TAB never prints a traceback)."""
    from calicotool.cli import startup
    from calicotool.cli.completion import complete

    try:
        data = startup.load(environ) or startup.build_and_save(environ)
        answer = complete(data["tree"], environ, cwd)
    except Exception:  # a bug here must not spill into the user's command line
        return 1
    if answer is None:
        return 2
    text, status = answer
    if text:
        stdout.write(text + "\n")
    return status


def __getattr__(name: str) -> Any:
    """`Environment` and `app` used to live here; keep the old imports working without loading them eagerly."""
    if name == "Environment":
        from calicotool.cli.context import Environment

        return Environment
    if name == "app":
        from calicotool.cli.app import app

        return app
    raise AttributeError(name)


if __name__ == "__main__":
    raise SystemExit(main())
