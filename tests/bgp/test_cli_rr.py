"""`calicotool rr ...` end to end through main(): plan on the samples, changes, graph, reconcile, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliRunner

SAMPLES = Path(__file__).resolve().parents[2] / "topologies"
SMALL = str(SAMPLES / "small-3zone.yaml")


def test_plan_table_shows_every_figure(cli: CliRunner) -> None:
    r = cli("rr", "plan", "--topology", SMALL)
    assert r.exit_code == 0, r.stderr
    for text in ("sessions planned vs full mesh", "30 vs 66", "SESSIONS/RR", "sessions added / removed",
                 "nodes relabelled", "lose any one reflector", "lose any one zone", "244.0.0.1"):
        assert text in r.stdout, text


def test_plan_json_report(cli: CliRunner) -> None:
    r = cli("rr", "plan", "-t", str(SAMPLES / "medium-60-3zone-racks.yaml"), "--ratio", "0.1", "-o", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["summary"]["sessionsFullMesh"] == 60 * 59 // 2
    assert data["summary"]["reflectors"] == 6 and data["summary"]["groups"] == 3
    assert data["tolerance"]["lose_one_zone"]["failing"] == 0
    assert data["tolerance"]["lose_one_reflector"]["routes_ok"] is True


def test_plan_yaml_is_the_exact_calico_changes(cli: CliRunner) -> None:
    r = cli("rr", "plan", "-t", SMALL, "-o", "yaml")
    assert r.exit_code == 0, r.stderr
    docs = [d for d in yaml.safe_load_all(r.stdout) if d]
    kinds = [d["kind"] for d in docs]
    assert kinds.count("BGPPeer") == 2 and kinds.count("Node") == 12 and kinds.count("CalicoNodeStatus") == 3
    assert all(d["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "calicotool"
               for d in docs if d["kind"] == "BGPPeer")
    assert r.stdout == cli("rr", "plan", "-t", SMALL, "-o", "yaml").stdout  # deterministic


@pytest.mark.parametrize("suffix", ["dot", "svg"])
def test_plan_graph(cli: CliRunner, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"plan.{suffix}"
    r = cli("rr", "plan", "-t", SMALL, "--graph", str(out), "--no-tolerance")
    assert r.exit_code == 0, r.stderr
    text = out.read_text()
    assert ("cluster_0" in text) if suffix == "dot" else ("<svg" in text)
    assert "zone zone-a" in text or "zone zone&#45;a" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ratio", "0"], "ratio must be in (0, 1]"),
        (["--ratio", "1.5"], "ratio must be in (0, 1]"),
        (["--min", "3", "--max", "2"], "min (3) is larger than max (2)"),
        (["--k", "13"], "k=13"),
        (["--damping", "5 minutes"], "bad duration"),
        (["--graph", "x.pdf"], "--graph wants"),
    ],
)
def test_plan_bad_input_exits_2(cli: CliRunner, args: list[str], message: str) -> None:
    r = cli("rr", "plan", "-t", SMALL, "--no-tolerance", *args)
    assert r.exit_code == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_plan_topology_error_is_located(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - name: a\n    bgp: {ipv4Address: nope}\n")
    r = cli("rr", "plan", "-t", str(bad))
    assert r.exit_code == 2 and f"{bad}:3" in r.stderr and "not an IPv4 address" in r.stderr


def test_problem_topology_warns(cli: CliRunner) -> None:
    r = cli("rr", "plan", "-t", str(SAMPLES / "problems.yaml"))
    assert r.exit_code == 0
    assert "all calicotool route reflectors sit in zone-a" in r.stderr
    assert "without a BGP IPv4 address" in r.stderr


def test_seed_reconcile_once_then_nothing_to_do(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    first = cli("rr", "reconcile", "--once", "--no-wait", "-o", "json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["writes"] > 0
    second = cli("rr", "reconcile", "--once", "--no-wait", "-o", "json")
    assert json.loads(second.stdout)["writes"] == 0 and json.loads(second.stdout)["converged"]
    plan = cli("rr", "plan", "-o", "json", "--no-tolerance")  # from the datastore now
    assert json.loads(plan.stdout)["churn"]["sessions_added"] == 0


def test_reconcile_not_established_exits_1(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    r = cli("rr", "reconcile", "--once", "--timeout", "0s")
    assert r.exit_code == 1 and "not Established" in r.stderr


def test_reconcile_dry_run_prints_changes_writes_nothing_and_exits_1_on_drift(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    r = cli("rr", "reconcile", "--once", "--dry-run", "-o", "yaml")
    assert r.exit_code == 1 and "# make: create BGPPeer/calicotool-rr-g1" in r.stdout  # like kubectl diff
    assert "changes would be made" in r.stderr
    assert not (tmp_path / "cluster" / "bgppeers").exists()
    table = cli("rr", "reconcile", "--once", "--dry-run")
    assert table.exit_code == 1 and "Changes planned" in table.stdout and "calicotool-rr-g1" in table.stdout
    assert cli("rr", "reconcile", "--once", "--no-wait").exit_code == 0
    assert cli("rr", "reconcile", "--once", "--dry-run").exit_code == 0  # in sync: no drift


def test_reconcile_needs_once_or_interval(cli: CliRunner) -> None:
    assert cli("rr", "reconcile").exit_code == 2


def test_reconcile_interval_loop_prints_one_json_line_per_run(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    r = cli("rr", "reconcile", "--interval", "0.01s", "--iterations", "2", "--no-wait", "-o", "json")
    assert r.exit_code == 0, r.stderr
    runs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["run"] for x in runs] == [1, 2]
    assert runs[0]["writes"] > 0 and runs[1]["writes"] == 0 and runs[1]["converged"]
    assert cli("rr", "reconcile", "--interval", "0s").exit_code == 2


def test_reconcile_interval_table_is_one_line_per_run(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    r = cli("rr", "reconcile", "--interval", "0.01s", "--iterations", "2", "--no-wait")
    assert r.exit_code == 0, r.stderr
    first, second = r.stdout.splitlines()
    assert first.startswith("run 1: converged; ") and "update Node: 12" in first
    assert second == "run 2: in sync, no writes"
    assert r.stderr.count("warning:") == len(set(r.stderr.splitlines()))  # warnings not repeated every run


def test_reconcile_sigterm_ends_the_loop_cleanly(cli: CliRunner) -> None:
    import os
    import signal
    import threading

    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        r = cli("rr", "reconcile", "--interval", "1h", "--no-wait")
    finally:
        timer.cancel()
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("run 1: converged") and "SIGTERM: stopped after 1 run" in r.stderr
    assert signal.getsignal(signal.SIGTERM) == before  # the handler was put back


def test_reconcile_once_table_is_readable_and_json_complete(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    table = cli("rr", "reconcile", "--once", "--no-wait", "--dry-run")
    assert "update Node: 12" in table.stdout and '["' not in table.stdout
    r = cli("rr", "reconcile", "--once", "--no-wait")
    assert r.exit_code == 0, r.stderr
    assert "converged" in r.stdout and "create BGPPeer: 2" in r.stdout and '["' not in r.stdout
    rows = [[c for c in line.split() if c != "│"] for line in r.stdout.splitlines() if line.startswith("make ")]
    assert ["make", "create", "BGPPeer", "calicotool-rr-g1"] in rows
    assert len(rows) == 17  # one change per line


def test_reconcile_json_lists_every_change(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    data = json.loads(cli("rr", "reconcile", "--once", "--no-wait", "-o", "json").stdout)
    assert data["writes"] == len(data["applied"]) == sum(data["writesByKind"].values()) == 17
    assert {a["phase"] for a in data["applied"]} == {"make"}
    assert data["writesByKind"]["create CalicoNodeStatus"] == len(data["reflectors"])


def test_reconcile_shows_progress_while_waiting(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    r = cli("rr", "reconcile", "--once", "--timeout", "0s")
    assert r.exit_code == 1
    assert "waiting for BGP sessions: 0/" in r.stderr and "Established" in r.stderr


def test_migrate_dry_run(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    r = cli("rr", "migrate", "--from-mesh", "--dry-run")
    assert r.exit_code == 0 and "routes propagate without the mesh" in r.stdout


def test_generate_is_a_loadable_topology(cli: CliRunner, tmp_path: Path) -> None:
    r = cli("rr", "generate", "-n", "40", "--zones", "4", "--seed", "3")
    assert r.exit_code == 0
    f = tmp_path / "gen.yaml"
    f.write_text(r.stdout)
    assert cli("rr", "plan", "-t", str(f), "--no-tolerance").exit_code == 0


def test_problem_topology_changes_never_touch_unmanaged_peers_and_check_fails(cli: CliRunner) -> None:
    problems = str(SAMPLES / "problems.yaml")
    r = cli("rr", "plan", "-t", problems, "-o", "yaml")
    assert r.exit_code == 0
    assert "to-handmade-rr" not in r.stdout and "tor-zone-b" not in r.stdout and "tor-rr" not in r.stdout
    assert "# break: update Node/rr-old" in r.stdout  # the long-NotReady reflector is demoted, last
    checked = cli("rr", "plan", "-t", problems, "--check")
    assert checked.exit_code == 1 and "b-3, b-4, b-new left without a reflector" in checked.stdout


def test_migrate_failure_prints_the_steps_and_exits_1(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    r = cli("rr", "migrate", "--from-mesh", "--timeout", "0s")
    assert r.exit_code == 1
    assert "read BGPConfiguration" in r.stdout and "NO" in r.stdout  # the steps so far, with the failed one
    assert "step 'reconcile reflectors with the mesh still on' failed" in r.stderr
    assert "nodeToNodeMeshEnabled=false" not in r.stdout  # stopped before cutting the mesh


def test_migrate_no_wait_does_not_wait(cli: CliRunner) -> None:
    import time

    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    t0 = time.monotonic()
    r = cli("rr", "migrate", "--from-mesh", "--no-wait", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert time.monotonic() - t0 < 4  # the 5m timeout was not spent polling
    data = json.loads(r.stdout)
    assert data["ok"] and data["steps"][-1]["step"] == "set nodeToNodeMeshEnabled=false"
    assert "--no-wait" in data["steps"][-2]["detail"]


def test_reconcile_paced_by_max_changes_exits_0_and_says_what_is_left(cli: CliRunner) -> None:
    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    r = cli("rr", "reconcile", "--once", "--no-wait", "--max-changes", "5", "-o", "json")
    assert r.exit_code == 0, r.stderr  # a paced rollout is not a failed CronJob run
    data = json.loads(r.stdout)
    assert data["writes"] == 5 and data["pending"] == 12 and not data["converged"] and not data["stuck"]
    assert "12 changes left for the next run" in r.stderr


def test_reconcile_once_sigterm_while_waiting_stops_before_break_and_releases_the_lock(cli: CliRunner) -> None:
    import os
    import signal
    import threading

    assert cli("rr", "seed", "-t", SMALL).exit_code == 0
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        r = cli("rr", "reconcile", "--once", "--timeout", "10m")  # nothing reports Established: it would wait
    finally:
        timer.cancel()
    assert r.exit_code == 130, r.stderr
    assert "stopped before the break phase" in r.stderr
    again = cli("rr", "reconcile", "--once", "--no-wait", "-o", "json")  # the lock was released
    assert again.exit_code == 0, again.stderr
