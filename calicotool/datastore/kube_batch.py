"""Batches on the Kubernetes API server, as close to all-or-nothing as the API allows.

The API has no transactions, so a batch runs in three phases: (1) every local check for the whole batch (kind
served, the Calico version's policy-name rule, conversion) — a refusal here writes nothing; (2) a server-side dry
run (`dryRun=All`) of every change, in order — schema, CEL rules, admission policies and RBAC answer here, and a
rejection still writes nothing; (3) the writes: kinds in plan order, the changes of one kind concurrently on a
small thread pool. Only phase 3 can leave a partial result (the server dies, a 503, someone else's conflicting
write); the error then names exactly what was written, and re-running the same apply converges.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from itertools import groupby
from typing import TYPE_CHECKING

from calicotool.datastore.base import BatchResult, Change, Op
from calicotool.datastore.kube_api import http_status
from calicotool.errors import CalicotoolError, Unavailable
from calicotool.wording import plural

if TYPE_CHECKING:
    from calicotool.datastore.kubernetes import KubeStore


def _fail(exc: CalicotoolError, change: Change, phase: str, result: BatchResult) -> CalicotoolError:
    """`exc` re-worded to say which change failed, in which phase, and what had been written before it."""
    if result.applied:
        done = ", ".join(c.describe() for c in result.applied)
        count = len(result.applied)
        written = f"{plural(count, 'change')} {'was' if count == 1 else 'were'} written: {done}"
    else:
        written = "nothing was written"
    if isinstance(exc, Unavailable) and http_status(exc) is None and phase == "":
        written += ("; requests that were in flight when the connection failed may have been applied too — re-run "
                    "the same apply to converge")
    try:
        err = type(exc)(f"{change.describe()} failed{phase}: {exc.message}; {written}", exc.location)
    except TypeError:  # an error type with its own constructor (ValidationFailed): keep it as it is
        err = exc
    err.partial = result  # type: ignore[attr-defined]
    return err


def _phases(changes: list[Change]) -> list[list[Change]]:
    """Runs of consecutive changes that may be written concurrently: same operation and kind order (a plan is
    sorted tiers-before-policies, deletes last, so a run never depends on itself)."""
    def key(c: Change) -> tuple[bool, int]:
        return (c.op is Op.DELETE, c.resource.info.order)

    return [list(run) for _, run in groupby(changes, key=key)]


def apply_batch(store: KubeStore, changes: list[Change], workers: int = 8,
                before_writes: Callable[[], None] | None = None) -> BatchResult:
    """The three phases; `before_writes` runs between the dry runs and the first write (an ApplySet parent is
    written there: after everything was accepted, before any member exists)."""
    result = BatchResult(atomic=False)
    for change in changes:
        try:
            store.prepare(change)
        except CalicotoolError as exc:
            raise _fail(exc, change, "", result) from None
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="kube-apply") as pool:
        # Dry runs persist nothing, so they need no order: all at once; the first refusal in plan order is reported.
        dry = [(pool.submit(store.apply_one, c, True), c) for c in changes]
        wait([f for f, _ in dry])
        for future, change in dry:
            error = future.exception()
            if isinstance(error, CalicotoolError):
                raise _fail(error, change, " (server-side dry run)", result) from None
            if error is not None:
                raise error
        if before_writes is not None:
            before_writes()
        for run in _phases(changes):
            futures = [(pool.submit(store.apply_one, c), c) for c in run]
            wait([f for f, _ in futures])  # a run finishes (or fails) whole before the next kind starts
            failed: tuple[Change, BaseException] | None = None
            for future, change in futures:  # in plan order
                error = future.exception()
                if error is None:
                    result.applied.append(change)
                    result.results.append(future.result())
                elif failed is None:
                    failed = (change, error)
            if failed is not None:
                change, error = failed
                if isinstance(error, CalicotoolError):
                    raise _fail(error, change, "", result) from None
                raise error
    return result
