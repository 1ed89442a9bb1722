"""Several processes doing read-modify-write on one directory datastore: no update is lost, every file stays whole."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import yaml

from calicotool.datastore.directory import DirectoryStore
from calicotool.errors import Conflict
from calicotool.model.resource import Resource

WORKERS = 4
INCREMENTS = 15


def _worker(root: str, who: int) -> int:
    """Increment the shared counter INCREMENTS times with optimistic concurrency; return how many conflicts we hit."""
    store = DirectoryStore(Path(root))
    conflicts = 0
    done = 0
    while done < INCREMENTS:
        res = store.get("GlobalNetworkSet", "counter")
        res.metadata.setdefault("annotations", {})["count"] = str(int(res.annotations.get("count", "0")) + 1)
        res.metadata["labels"] = {"last-writer": f"w{who}"}
        try:
            store.update(res)  # guarded by the resourceVersion we read
            done += 1
        except Conflict:
            conflicts += 1
    return conflicts


def test_concurrent_writers_lose_no_updates(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.create(Resource.new("GlobalNetworkSet", "counter", {"nets": ["192.0.2.0/24"]}, annotations={"count": "0"}))
    ctx = mp.get_context("fork")
    with ctx.Pool(WORKERS) as pool:
        conflicts = pool.starmap(_worker, [(str(tmp_path), i) for i in range(WORKERS)])
    final = store.get("GlobalNetworkSet", "counter")
    assert final.annotations["count"] == str(WORKERS * INCREMENTS)
    assert all(c >= 0 for c in conflicts)  # conflicts happen (usually dozens) but scheduling decides how many
    doc = yaml.safe_load((tmp_path / "globalnetworksets" / "counter.yaml").read_text())
    assert doc["spec"]["nets"] == ["192.0.2.0/24"]
    assert not list(tmp_path.rglob("*.tmp"))
