"""`rr reconcile --interval`: run reconcile forever, one record per run, surviving datastore trouble.

Each run either yields a record (`runlog.reconcile_record`) or, when it failed with a calicotool error (the
datastore Unavailable, the lock held by another run, a cluster the planner cannot plan right now), an error
record; the loop logs it and tries again at the next interval. `stop` (set by the CLI's SIGTERM handler) ends
the loop between runs, or during a wait for sessions: then the run stops before its break phase, so nothing
is removed that the next run would need (make-before-break holds across restarts). Clock and waits are
injected so tests drive the loop without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from calicotool.bgp.reconcile import ReconcileConfig, reconcile_once
from calicotool.bgp.runlog import reconcile_record
from calicotool.bgp.status import SessionProgress
from calicotool.datastore.base import Store
from calicotool.errors import CalicotoolError


class Stopped(Exception):
    """Raised inside a run when `stop` is set while it waits; the run ends before its break phase."""


def stop_aware_sleep(stop: threading.Event, wait: Callable[[float], bool] | None = None) -> Callable[[float], None]:
    """A `sleep` for reconcile_once that returns early and raises Stopped once `stop` is set."""
    waiter = wait or stop.wait

    def sleep(seconds: float) -> None:
        if waiter(seconds) or stop.is_set():
            raise Stopped

    return sleep


def error_record(run: int, exc: CalicotoolError, retry_seconds: float) -> dict[str, Any]:
    return {"run": run, "error": str(exc), "errorKind": type(exc).__name__, "retryInSeconds": retry_seconds}


def run_loop(
    open_store: Callable[[], Store],
    cfg: ReconcileConfig,
    interval: float,
    emit: Callable[[dict[str, Any]], None],
    stop: threading.Event,
    *,
    warn: Callable[[str], None] = lambda _m: None,
    iterations: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    wait: Callable[[float], bool] | None = None,
    now: Callable[[], datetime | None] = lambda: None,
    progress: SessionProgress | None = None,
) -> int:
    """Run until `stop` is set (or `iterations` runs); returns the number of runs. Runs start `interval`
    seconds apart (at once after a run that took longer). `wait(seconds)` sleeps and returns True when
    stopped (default: `stop.wait`). Warnings are passed to `warn` only when they differ from the last run's."""
    waiter = wait or stop.wait
    sleep_in_run = stop_aware_sleep(stop, waiter)
    run = 0
    last_warnings: list[str] = []
    while not stop.is_set():
        run += 1
        started = clock()
        try:
            result = reconcile_once(open_store(), cfg, now(), clock, sleep_in_run, progress)
        except Stopped:
            emit({"run": run, "error": "stopped while waiting for sessions; nothing removed, the next run resumes",
                  "errorKind": "Stopped", "retryInSeconds": None})
            break
        except CalicotoolError as exc:  # a transient datastore error or lock conflict: try again next time
            emit(error_record(run, exc, interval))
        else:
            if result.warnings != last_warnings:
                for w in result.warnings:
                    warn(w)
                last_warnings = list(result.warnings)
            emit(reconcile_record(result, run))
        if iterations is not None and run >= iterations:
            break
        if waiter(max(0.0, interval - (clock() - started))):
            break
    return run
