"""The API server dies in the middle of a 500-object apply: the state stays consistent, the CLI exits 3 naming what
was written, and after a restart the same apply converges with no duplicates."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from calicotool.datastore.kube_api import KubeApi
from tests.fixtures.kubeapi import KubeCluster
from tests.kube.conftest import real_tool

COUNT, KILL_AT = 500, 150


def test_api_server_killed_mid_apply(kube_v1: KubeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [{"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
             "metadata": {"name": f"set-{i:03d}", "labels": {"app.kubernetes.io/managed-by": "calicotool"}},
             "spec": {"nets": [f"10.{i // 256}.{i % 256}.0/24"]}} for i in range(COUNT)]
    manifest = tmp_path / "sets.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    tool = real_tool(kube_v1, tmp_path)

    writes = 0
    lock = threading.Lock()
    real_send = KubeApi._send

    def send(self: KubeApi, method: str, path: str, query: list[tuple[str, str]], body: Any) -> Any:
        nonlocal writes
        if method == "POST" and ("dryRun", "All") not in query and path.endswith("/globalnetworksets"):
            with lock:
                writes += 1
                if writes == KILL_AT + 1:  # the server dies as the 151st write goes out; others are in flight
                    kube_v1.kill()
        return real_send(self, method, path, query, body)

    monkeypatch.setattr(KubeApi, "_send", send)
    run = tool("apply", "-f", str(manifest))
    monkeypatch.undo()
    assert run.exit_code == 3, run.stderr
    assert "Traceback" not in run.stderr
    match = re.search(r"(\d+) changes were written: (.*?); requests that were in flight", run.stderr)
    assert match, run.stderr
    reported = set(re.findall(r"create GlobalNetworkSet/(set-\d+)", match.group(2)))
    assert len(reported) == int(match.group(1)) and KILL_AT - 8 <= len(reported) <= KILL_AT

    kube_v1.restart()
    on_server = {o["metadata"]["name"] for o in kube_v1.calico_objects("globalnetworksets")}
    assert reported <= on_server  # everything reported as written is there
    assert len(on_server - reported) <= 8  # at most the requests in flight (8 workers) landed unreported

    again = tool("apply", "-f", str(manifest), "-o", "json")
    assert again.exit_code == 0, again.stderr
    summary = again.json()["summary"]
    assert summary["create"] == COUNT - len(on_server) and summary["unchanged"] == len(on_server)
    names = [o["metadata"]["name"] for o in kube_v1.calico_objects("globalnetworksets")]
    assert len(names) == len(set(names)) == COUNT
    assert tool("diff", "-f", str(manifest)).exit_code == 0
