"""End-to-end scenarios across features, driven through the real CLI (`main([...], env=...)`) against real
components: the directory store, a real etcd, the fake kube-apiserver over HTTP, network namespaces."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from calicotool.cli.context import Environment
from calicotool.cli.main import main
from tests.fakekube import FakeKubeServer
from tests.fixtures.etcd import etcd_clean, etcd_server  # noqa: F401 - fixtures
from tests.fixtures.netns import make_netns, netns_registry  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "policies" / "shop"
SMALL_TOPOLOGY = REPO / "topologies" / "small-3zone.yaml"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Calicotool:
    """`calicotool --datastore SPEC ...` in-process, with its own environment and working directory."""

    datastore: str
    cwd: Path
    environ: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        env = Environment(stdout=out, stderr=err, environ=dict(self.environ), cwd=self.cwd)
        code = main(["--datastore", self.datastore, *args], env=env)
        return Run(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str) -> Run:
        """Run and insist on exit 0, showing stderr otherwise."""
        run = self(*args)
        assert run.exit_code == 0, f"calicotool {' '.join(args)} -> {run.exit_code}\n{run.stderr}\n{run.stdout}"
        return run


@pytest.fixture
def shop_rules(tmp_path: Path) -> Path:
    """A private, editable copy of the shop rule set (base + env overlays)."""
    target = tmp_path / "policies" / "shop"
    shutil.copytree(SHOP, target)
    return target


@pytest.fixture
def dir_tool(tmp_path: Path) -> Calicotool:
    return Calicotool(f"dir:{tmp_path / 'cluster'}", tmp_path)


@pytest.fixture
def etcd_tool(etcd_clean: Any, tmp_path: Path) -> Calicotool:  # noqa: F811 - fixture argument
    return Calicotool(etcd_clean.spec, tmp_path)


@pytest.fixture
def kube_server() -> Iterator[FakeKubeServer]:
    """A fake kube-apiserver serving projectcalico.org/v3 over real HTTP on 127.0.0.1."""
    server = FakeKubeServer(calico="v3").start()
    server.state.enforce_namespaces = False  # the rule set's namespaces would exist in a real cluster
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kube_tool(kube_server: FakeKubeServer, tmp_path: Path) -> Calicotool:
    """The CLI on the `kubernetes` datastore, finding the fake server through KUBECONFIG."""
    kubeconfig = kube_server.write_kubeconfig(tmp_path / "kubeconfig")
    return Calicotool("kubernetes", tmp_path, {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)})
