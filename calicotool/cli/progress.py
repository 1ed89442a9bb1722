"""Progress for long commands (`lab up`, `lab status --wait`, `host enroll|sync`, `apply`, `policy apply`).

The pure layers take an optional callback `progress(phase, done, total)` (total 0: no count) and know nothing
of terminals; this module turns those calls into output on STDERR only, so stdout stays the command's result.

On a terminal: a Rich status spinner, updated on every call, gone when the work is over. Otherwise (a pipe, a
log, CI): nothing while the work is young (under `delay` seconds: fast commands stay silent), then plain lines
at most one per `interval` seconds when the text changed (and every `heartbeat` seconds when it did not), and
the last state as a final line when any line was printed. `CALICOTOOL_PROGRESS=off` silences it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

from calicotool.cli.context import AppContext

ProgressFn = Callable[[str, int, int], None]
# The clock every reporter made by `progress_for` uses; tests replace it to simulate slow work without waiting.
CLOCK: Callable[[], float] = time.monotonic


def phase_text(phase: str, done: int, total: int) -> str:
    return f"{phase} {done}/{total}" if total else phase


class Progress:
    """Callable as a pure layer's `progress`; call `close()` (or use `with`) when the work is over."""

    def __init__(self, stream: IO[str], *, label: str = "", tty: bool | None = None, enabled: bool = True,
                 clock: Callable[[], float] | None = None, delay: float = 1.0, interval: float = 1.0,
                 heartbeat: float = 15.0) -> None:
        self.stream, self.label, self.enabled = stream, label, enabled
        self.tty = _isatty(stream) if tty is None else tty
        self.clock = clock or CLOCK
        self.delay, self.interval, self.heartbeat = delay, interval, heartbeat
        self.start = self.clock()
        self.events: list[tuple[str, int, int]] = []  # every call, in order (what tests and callers can inspect)
        self._status: Any = None
        self._text = ""  # the latest state
        self._printed: tuple[str, float] | None = None  # last line written (plain mode) and when

    def __call__(self, phase: str, done: int = 0, total: int = 0) -> None:
        self.events.append((phase, done, total))
        self._text = (f"{self.label}: " if self.label else "") + phase_text(phase, done, total)
        if not self.enabled:
            return
        if self.tty:
            self._spin(self._text)
            return
        now = self.clock()
        if now - self.start < self.delay:
            return
        last = self._printed
        if last is None or (last[0] != self._text and now - last[1] >= self.interval) or now - last[1] >= self.heartbeat:
            self._write(self._text, now)

    def close(self) -> None:
        """End of the work: stop the spinner; in plain mode, the final state if the work was slow enough to show."""
        if self._status is not None:
            self._status.stop()
            self._status = None
            return
        if not self.enabled or self.tty or not self._text:
            return
        now = self.clock()
        if self._printed is not None or now - self.start >= self.delay:
            if self._printed is None or self._printed[0] != self._text:
                self._write(self._text, now)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        elif self._status is not None:  # an error: just clear the spinner; the error message says what happened
            self._status.stop()
            self._status = None

    def _spin(self, text: str) -> None:
        if self._status is None:
            from rich.console import Console

            self._status = Console(file=self.stream, stderr=True, highlight=False).status(text)
            self._status.start()
        else:
            self._status.update(text)

    def _write(self, text: str, now: float) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
        self._printed = (text, now)


def progress_for(app: AppContext, label: str = "") -> Progress:
    """A reporter on the command's stderr (disabled by CALICOTOOL_PROGRESS=off|0|no)."""
    setting = app.env.environ.get("CALICOTOOL_PROGRESS", "").strip().lower()
    return Progress(app.env.stderr, label=label, enabled=setting not in ("off", "0", "no", "false"))


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
