"""What every command gets: the injectable environment and the global options, via `ctx.obj`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console

from calicotool.datastore.base import Store


@dataclass
class Environment:
    """Streams, environment variables, config dir and clock, injectable so tests drive the real CLI."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    config_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("XDG_CONFIG_HOME", "~/.config")).expanduser() / "calicotool"
    )

    def console(self) -> Console:
        return Console(file=self.stdout, soft_wrap=True, highlight=False, width=_width(self.stdout))

    def err_console(self) -> Console:
        return Console(file=self.stderr, soft_wrap=True, highlight=False, width=_width(self.stderr))


def _width(stream: IO[str]) -> int | None:
    """Terminal width on a TTY; wide enough not to truncate tables when piped (like kubectl)."""
    try:
        return None if stream.isatty() else 200
    except (AttributeError, ValueError):
        return 200


@dataclass
class AppContext:
    env: Environment
    datastore: str | None = None
    kube_context: str | None = None
    debug: bool = False
    _store: Store | None = None
    _store_factory: Callable[..., Store] | None = None

    @property
    def out(self) -> Console:
        return self.env.console()

    @property
    def err(self) -> Console:
        return self.env.err_console()

    def datastore_spec(self) -> str:
        from calicotool.datastore.factory import resolve_spec

        return resolve_spec(self.datastore, self.env.environ, self.env.cwd)

    def store(self) -> Store:
        """Open the selected datastore once per invocation."""
        if self._store is None:
            from calicotool.datastore.factory import open_store

            self._store = open_store(self.datastore_spec(), kube_context=self.kube_context, environ=self.env.environ)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {message}", markup=True)

    def info(self, message: str) -> None:
        self.err.print(message, markup=False)


def app_context(ctx: typer.Context) -> AppContext:
    obj: Any = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # invoked outside main(): build a default one
        obj = AppContext(env=Environment())
        ctx.find_root().obj = obj
    return obj
