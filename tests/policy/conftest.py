"""Helpers for the rule-set tests: write rule sets into tmp dirs, find the shipped example."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "policies" / "shop"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def write_ruleset(tmp_path: Path):
    """write_ruleset(text, name="ruleset.yaml", env={...}) -> directory holding the rule set."""

    def write(text: str, name: str = "ruleset.yaml", env: dict[str, str] | None = None) -> Path:
        root = tmp_path / "rs"
        root.mkdir(exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
        for env_name, env_text in (env or {}).items():
            (root / "env").mkdir(exist_ok=True)
            (root / "env" / f"{env_name}.yaml").write_text(textwrap.dedent(env_text), encoding="utf-8")
        return root

    return write
