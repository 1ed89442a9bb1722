"""Tests against a real kube-apiserver (tests/fixtures/kubeapi.py): the CLI as a user runs it, on each Calico
install mode (v1 CRDs, native v3 CRDs, v3 + Calico's admission policies)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import Calicotool
from tests.fixtures.kubeapi import KubeCluster

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "policies" / "shop"
SHOP_NAMESPACES = ("shop", "monitoring", "kube-system")


def real_tool(cluster: KubeCluster, cwd: Path) -> Calicotool:
    """`calicotool --datastore kubernetes` as the cluster admin, through a kubeconfig, like a user."""
    return Calicotool("kubernetes", cwd, cluster.environ())


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    target = tmp_path / "policies" / "shop"
    shutil.copytree(SHOP, target)
    return target
