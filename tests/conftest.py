"""Shared test helpers: drive the real CLI with injected streams and environment."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from calicotool.cli.context import Environment
from calicotool.cli.main import main


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run `calicotool ARGS` in-process; the default datastore is a fresh dir: under tmp_path."""

    def run(*args: str, environ: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        env_vars = {"CALICOTOOL_DATASTORE": f"dir:{tmp_path / 'cluster'}"} if environ is None else environ
        env = Environment(stdout=out, stderr=err, environ=env_vars, cwd=cwd or tmp_path)
        code = main(list(args), env=env)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


# The real kube-apiserver fixtures (kube_v1, kube_v3, kube_v3_admission, kube_cluster_any) for every test directory.
from tests.fixtures.kubeapi import kube_cluster_any, kube_v1, kube_v3, kube_v3_admission  # noqa: E402, F401
