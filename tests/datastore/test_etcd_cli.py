"""End to end: the real CLI on the etcdv3 datastore (check, apply, get, diff) and an unreachable etcd (exit 3)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.conftest import CliRunner
from tests.datastore.backend_etcd import EtcdStoreFactory, etcd_store_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.etcd

POLICY = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
  labels:
    team: net
spec:
  order: 100
  selector: all()
  types: [Egress]
  egress:
    - action: Allow
      protocol: UDP
      destination:
        ports: [53]
"""


def test_cli_against_etcd(cli: CliRunner, tmp_path: Path, etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    spec = f"etcdv3:{etcd_store_factory.server.client_url}"
    env = {"CALICOTOOL_DATASTORE": spec}
    check = cli("datastore", "check", "-o", "json", environ=env)
    assert check.exit_code == 0, check.stderr
    assert json.loads(check.stdout)["backend"] == "etcdv3"

    manifest = tmp_path / "dns.yaml"
    manifest.write_text(POLICY)
    applied = cli("apply", "-f", str(manifest), environ=env)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    got = cli("get", "GlobalNetworkPolicy", "-l", "team=net", "-o", "json", environ=env)
    assert got.exit_code == 0, got.stderr
    assert "allow-dns" in got.stdout and '"etcd' not in got.stdout
    assert etcd_store_factory().get("GlobalNetworkPolicy", "allow-dns").spec["egress"][0]["destination"]["ports"] == [53]
    assert cli("diff", "-f", str(manifest), environ=env).exit_code == 0  # no drift after apply


def test_cli_unreachable_etcd_exits_3(cli: CliRunner) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("--datastore", f"etcdv3:http://127.0.0.1:{port}", "get", "GlobalNetworkPolicy", environ={})
    assert result.exit_code == 3
    assert f"cannot reach etcd at http://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
