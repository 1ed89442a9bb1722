"""The `--interval` loop: one record per run, datastore errors retried, stop (SIGTERM) honoured; and the
progress shown while waiting for sessions. Clock and waits are injected: nothing here sleeps."""

from __future__ import annotations

import io
import threading
from typing import Any

from calicotool.bgp.options import PlanOptions
from calicotool.bgp.progress import SessionWaitProgress
from calicotool.bgp.reconcile import ReconcileConfig
from calicotool.bgp.runlog import run_line
from calicotool.bgp.sidecar import run_loop
from calicotool.bgp.status import SessionCheck
from calicotool.bgp.synthetic import generate_cluster
from calicotool.datastore.base import Store
from calicotool.datastore.directory import DirectoryStore
from calicotool.errors import Unavailable
from tests.bgp.conftest import CountingStore, FakeCalicoNode, seed

STATE = generate_cluster(18, 3, 2, seed=9)
CFG = ReconcileConfig(options=PlanOptions(ratio=0.1), timeout_seconds=30, poll_seconds=1)


class FlakyStore(CountingStore):
    """Raises Unavailable from every read while `down` is set (an etcd leader election, an API server blip)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.down = False

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Any]:
        if self.down:
            raise Unavailable("etcd: connection refused (127.0.0.1:2379)")
        return super().list(kind, namespace, label_selector)


class Clock:
    """Injected time: `wait` advances it, lets calico-node report, and runs a script keyed by wait count."""

    def __init__(self, agent: FakeCalicoNode, stop: threading.Event, script: dict[int, Any] | None = None) -> None:
        self.t = 0.0
        self.agent = agent
        self.stop = stop
        self.waits: list[float] = []
        self.script = script or {}

    def __call__(self) -> float:
        return self.t

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.t += max(seconds, 0.5)
        self.agent.step()
        action = self.script.get(len(self.waits))
        if action is not None:
            action()
        return self.stop.is_set()


def _loop(store: Store, clock: Clock, stop: threading.Event, **kw: Any) -> tuple[int, list[dict[str, Any]], list[str]]:
    records: list[dict[str, Any]] = []
    warnings: list[str] = []
    runs = run_loop(lambda: store, CFG, 300.0, records.append, stop, warn=warnings.append, clock=clock,
                    wait=clock.wait, now=lambda: STATE.now, **kw)
    return runs, records, warnings


def test_loop_survives_an_unavailable_datastore_and_logs_one_record_per_run(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    flaky = FlakyStore(dir_store)
    stop = threading.Event()
    clock = Clock(FakeCalicoNode(dir_store), stop)

    def outage() -> None:
        flaky.down = True

    def recover() -> None:
        flaky.down = False

    runs, records, _ = _loop(flaky, clock, stop, iterations=2)
    assert runs == 2 and records[0]["converged"] and records[0]["writes"] > 0 and records[1]["writes"] == 0
    # an outage on the converged cluster, starting in the sleep after run 1: run 2 fails, run 3 is fine again
    stop2 = threading.Event()
    clock2 = Clock(FakeCalicoNode(dir_store), stop2, {1: outage, 2: recover, 3: stop2.set})
    flaky.writes.clear()
    runs, records, _ = _loop(flaky, clock2, stop2)
    assert runs == 3
    assert records[0]["converged"] and records[0]["writes"] == 0
    assert records[1]["errorKind"] == "Unavailable" and "connection refused" in records[1]["error"]
    assert records[1]["retryInSeconds"] == 300.0
    assert records[2]["converged"] and records[2]["writes"] == 0 and flaky.writes == []
    assert clock2.waits == [300.0, 300.0, 300.0]  # runs took no time on the injected clock: full interval


def test_loop_converges_then_stays_quiet_and_warns_once(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    stop = threading.Event()
    clock = Clock(FakeCalicoNode(dir_store), stop, {})
    runs, records, warnings = _loop(dir_store, clock, stop, iterations=3)
    assert runs == 3
    lines = [run_line(r) for r in records]
    assert lines[0].startswith("run 1: converged; ") and "create BGPPeer: " in lines[0]
    assert "sessions Established " in lines[0]
    assert lines[1:] == ["run 2: in sync, no writes", "run 3: in sync, no writes"]
    assert len(warnings) == len(set(warnings))  # the same warnings are not logged again every run


def test_stop_while_waiting_for_sessions_ends_before_the_break_phase(dir_store: DirectoryStore) -> None:
    seed(dir_store, STATE)
    agent = FakeCalicoNode(dir_store, up=False)  # sessions never come up
    stop = threading.Event()
    clock = Clock(agent, stop, {2: stop.set})  # SIGTERM during the wait
    counting = CountingStore(dir_store)
    runs, records, _ = _loop(counting, clock, stop)
    assert runs == 1 and records[-1]["errorKind"] == "Stopped"
    assert all(w.startswith(("create", "update")) for w in counting.writes)  # make only, nothing removed
    assert len(clock.waits) == 2  # it did not keep polling after the stop


def test_stop_between_runs_ends_the_loop() -> None:
    stop = threading.Event()
    stop.set()
    assert run_loop(lambda: None, CFG, 1.0, lambda r: None, stop) == 0  # type: ignore[arg-type,return-value]


def test_plain_progress_is_throttled() -> None:
    out = io.StringIO()
    p = SessionWaitProgress(out, tty=False, every=15, gap=5)
    missing = [("a", "b")] * 4
    for t, up in [(0, 0), (2, 0), (4, 1), (6, 2), (8, 2), (21, 2), (23, 4)]:
        p(SessionCheck(up, missing[: 4 - up]), float(t), 120.0)
    lines = out.getvalue().splitlines()
    assert lines == [
        "waiting for BGP sessions: 0/4 Established (0s of 120s)",
        "waiting for BGP sessions: 2/4 Established (6s of 120s)",  # changes at 2s and 4s: too soon
        "waiting for BGP sessions: 2/4 Established (21s of 120s)",
        "waiting for BGP sessions: 4/4 Established (23s of 120s)",
    ]


def test_tty_progress_uses_a_status_line_and_stops() -> None:
    out = io.StringIO()
    p = SessionWaitProgress(out, tty=True)
    p(SessionCheck(0, [("a", "b")]), 0.0, 10.0)
    assert p._status is not None
    p(SessionCheck(1, []), 2.0, 10.0)
    assert p._status is None  # done once everything is up
