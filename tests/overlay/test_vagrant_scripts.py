"""CI's share of the dev VMs (it cannot boot them: no hypervisor, no nested virtualisation, no internet): every
shell script there passes shellcheck, and the Vagrantfile passes `vagrant validate` (providers ignored)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

VAGRANT = Path(__file__).resolve().parents[2] / "vagrant"
SCRIPTS = sorted(VAGRANT.glob("*.sh")) + sorted((VAGRANT / "provision").glob("*.sh"))


def test_there_are_scripts_to_check() -> None:
    assert {p.name for p in SCRIPTS} >= {"check.sh", "common.sh", "control-plane.sh", "external-host.sh"}


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (Debian: shellcheck)")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(VAGRANT)))
def test_shellcheck(script: Path) -> None:
    done = subprocess.run(["shellcheck", "-x", "-P", str(VAGRANT / "provision"), str(script)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("vagrant") is None, reason="vagrant is not installed (Debian: vagrant)")
def test_vagrant_validate(tmp_path: Path) -> None:
    env = {**os.environ, "VAGRANT_HOME": str(tmp_path / "home"), "VAGRANT_DOTFILE_PATH": str(tmp_path / "dot"),
           "VAGRANT_CHECKPOINT_DISABLE": "1"}
    done = subprocess.run(["vagrant", "validate", "--ignore-provider"], cwd=VAGRANT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "validated successfully" in done.stdout, done.stdout + done.stderr
    assert not (VAGRANT / ".vagrant").exists()
