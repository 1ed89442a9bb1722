"""Backends for the contract suite. Each backend module exposes a `<name>_store_factory` fixture that returns a
callable producing Store instances connected to the SAME backing data (so two instances can race)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from calicotool.datastore.base import Store
from calicotool.datastore.directory import DirectoryStore

try:
    from tests.datastore.backend_etcd import etcd_store_factory  # noqa: F401 - fixture
except ImportError:  # pragma: no cover - the fixture module is part of the tree; this only eases bisecting
    pass
try:
    from tests.datastore.backend_kube import (  # noqa: F401 - fixtures
        kube_real_v1_store_factory,
        kube_real_v3_admission_store_factory,
        kube_real_v3_store_factory,
        kube_store_factory,
        kube_v1_store_factory,
    )
except ImportError:  # pragma: no cover
    pass

StoreFactory = Callable[[], Store]


@pytest.fixture
def dir_store_factory(tmp_path: Path) -> StoreFactory:
    root = tmp_path / "gitops"
    return lambda: DirectoryStore(root)


# kube/kube_v1: the in-process fake (faults on demand); kube_real_*: a real kube-apiserver with Calico's CRDs.
@pytest.fixture(params=["dir", "etcd", "kube", "kube_v1", "kube_real_v1", "kube_real_v3", "kube_real_v3_admission"])
def store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    factory: StoreFactory = request.getfixturevalue(f"{request.param}_store_factory")
    return factory


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    s = store_factory()
    yield s
    s.close()
