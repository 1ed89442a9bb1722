"""CI's share of the dev VMs (it cannot boot them: no hypervisor, no nested virtualisation, no internet): every
shell script there passes shellcheck, and the Vagrantfile passes `vagrant validate` (providers ignored)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

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


CALICO_MANIFEST = next((p / "shared" / "calico" / "v3" / "calico-v3-crds.yaml"
                        for p in (VAGRANT.parent.parent, VAGRANT.parent.parent.parent)
                        if (p / "shared" / "calico" / "v3" / "calico-v3-crds.yaml").exists()), None)


@pytest.mark.skipif(CALICO_MANIFEST is None, reason="Calico's v3.32 manifest (../shared/calico/v3) is not here")
def test_calico_manifest_edits(tmp_path: Path) -> None:
    """The dev VMs' edits to Calico's manifest, applied to Calico v3.32's own: VXLAN pool in kubeadm's pod CIDR,
    no BGP, node IP from the private network. Each edit must hit (a silent no-op is a failure)."""
    assert CALICO_MANIFEST is not None
    done = subprocess.run(["sed", "-f", str(VAGRANT / "provision" / "calico-manifest.sed"), str(CALICO_MANIFEST)],
                          capture_output=True, text=True, check=True, timeout=60)
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "calico-config")
    assert config["data"]["calico_backend"] == "vxlan"
    ds = next(d for d in docs if d["kind"] == "DaemonSet" and d["metadata"]["name"] == "calico-node")
    node = next(c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "calico-node")
    env = {e["name"]: e.get("value") for e in node["env"]}
    assert env["CALICO_IPV4POOL_CIDR"] == "10.244.0.0/16"
    assert (env["CALICO_IPV4POOL_IPIP"], env["CALICO_IPV4POOL_VXLAN"]) == ("Never", "Always")
    assert env["IP"] == "autodetect" and env["IP_AUTODETECTION_METHOD"] == "cidr=192.168.56.0/24"
    probes = node["livenessProbe"]["exec"]["command"] + node["readinessProbe"]["exec"]["command"]
    assert not any("bird" in arg for arg in probes)
