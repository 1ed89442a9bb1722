"""Directory (GitOps) backend specifics: layout, kustomization order, atomic batches, lost-update detection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from calicotool.datastore.base import Change, Op
from calicotool.datastore.directory import DirectoryStore
from calicotool.errors import Conflict, Invalid, Unavailable
from calicotool.model.resource import Resource


def test_layout_and_kustomization_order(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.apply_batch(
        [
            Change(Op.CREATE, Resource.new("NetworkPolicy", "web", {"selector": "all()"}, namespace="prod")),
            Change(Op.CREATE, Resource.new("Tier", "security", {"order": 10})),
            Change(Op.CREATE, Resource.new("GlobalNetworkSet", "ext", {"nets": ["192.0.2.0/24"]})),
        ]
    )
    assert (tmp_path / "networkpolicies/prod/web.yaml").is_file()
    assert (tmp_path / "tiers/security.yaml").is_file()
    kust = yaml.safe_load((tmp_path / "kustomization.yaml").read_text())
    assert kust["resources"] == ["tiers/security.yaml", "globalnetworksets/ext.yaml", "networkpolicies/prod/web.yaml"]
    stored = yaml.safe_load((tmp_path / "tiers/security.yaml").read_text())
    assert list(stored) == ["apiVersion", "kind", "metadata", "spec"]
    assert "resourceVersion" not in stored["metadata"]  # Git holds declarations, not server state


def test_output_is_deterministic(tmp_path: Path) -> None:
    def build(root: Path) -> dict[str, bytes]:
        s = DirectoryStore(root)
        for name in ("b", "a", "c"):
            s.create(Resource.new("GlobalNetworkPolicy", name, {"selector": "all()", "order": 1}))
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}

    assert build(tmp_path / "one") == build(tmp_path / "two")


def test_hand_edit_is_detected_as_conflict(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    res = store.create(Resource.new("Tier", "t", {"order": 1}))
    path = tmp_path / "tiers/t.yaml"
    path.write_text(path.read_text().replace("order: 1", "order: 2"))  # someone edits in Git
    res.spec["order"] = 3
    with pytest.raises(Conflict):
        store.update(res)


def test_failed_rename_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DirectoryStore(tmp_path)
    store.create(Resource.new("Tier", "keep", {"order": 1}))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.yaml")}
    real_replace = os.replace
    calls = {"n": 0}

    def flaky(src: str, dst: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    updated = store.get("Tier", "keep")
    updated.spec["order"] = 9
    with pytest.raises(Unavailable, match="rolled back"):
        store.apply_batch([Change(Op.UPDATE, updated), Change(Op.CREATE, Resource.new("Tier", "new", {"order": 2}))])
    monkeypatch.setattr(os, "replace", real_replace)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*.yaml")}
    assert after == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_corrupt_file_is_invalid_with_path(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    (tmp_path / "tiers").mkdir()
    (tmp_path / "tiers/broken.yaml").write_text("kind: [\n")
    with pytest.raises(Invalid, match="tiers/broken.yaml"):
        store.list("Tier")


def test_writer_lock_times_out_as_conflict(tmp_path: Path) -> None:
    import filelock

    holder = filelock.FileLock(str(tmp_path / ".calicotool.lock"), thread_local=False)
    holder.acquire()
    try:
        store = DirectoryStore(tmp_path, lock_timeout=0.2)
        with pytest.raises(Conflict, match="locked by another writer"):
            store.create(Resource.new("Tier", "t", {"order": 1}))
    finally:
        holder.release()


def test_path_must_be_a_directory(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(Unavailable):
        DirectoryStore(f)


def test_node_status_is_kept_but_policy_status_is_not(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    node = Resource.from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {},
                               "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    store.create(node)
    assert store.get("KubernetesNode", "n1").status == {"conditions": [{"type": "Ready", "status": "True"}]}
    pol = Resource.new("Tier", "t", {"order": 1})
    pol.status = {"observed": True}
    store.create(pol)
    assert store.get("Tier", "t").status is None
