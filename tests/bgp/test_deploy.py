"""The manifests in deploy/ call calicotool with options it really has (a renamed flag would crash-loop pods)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CliRunner

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _containers(path: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for doc in yaml.safe_load_all(path.read_text()):
        spec = (doc or {}).get("spec") or {}
        template = (spec.get("jobTemplate", {}).get("spec", {}) or spec).get("template") or {}
        out.extend(template.get("spec", {}).get("containers") or [])
    return out


@pytest.mark.parametrize("manifest", ["cronjob.yaml", "sidecar-deployment.yaml"])
def test_manifest_args_are_accepted_by_the_cli(cli: CliRunner, manifest: str) -> None:
    (container,) = _containers(DEPLOY / manifest)
    args = [str(a) for a in container["args"]]
    assert args[:2] == ["--datastore", "kubernetes"] and args[2:4] == ["rr", "reconcile"]
    r = cli(*args[2:], "--help")  # click rejects unknown options before it prints help
    assert r.exit_code == 0, r.stderr
    assert "--max-changes" in r.stdout
