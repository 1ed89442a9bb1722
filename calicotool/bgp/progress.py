"""Progress while `rr reconcile` / `rr migrate` wait for BGP sessions to be Established (CalicoNodeStatus).

On a terminal: a Rich status line updated on every poll. Otherwise (logs, CI, a CronJob): plain lines, at the
start, when the count changed (at most every `gap` seconds), at least every `every` seconds and at the end, so
a log shows the wait without one line per poll.
Progress goes to stderr; stdout keeps the command's result.
"""

from __future__ import annotations

from typing import IO, Any

from rich.console import Console

from calicotool.bgp.status import SessionCheck


class SessionWaitProgress:
    """Callable as a `SessionProgress`; call `done()` when the wait is over."""

    def __init__(self, stream: IO[str], tty: bool | None = None, every: float = 15.0, gap: float = 5.0) -> None:
        self.stream = stream
        self.tty = _isatty(stream) if tty is None else tty
        self.every = every
        self.gap = gap  # a changed count is printed at most this often
        self._status: Any = None
        self._last: tuple[int, float] | None = None

    @staticmethod
    def text(check: SessionCheck, elapsed: float, timeout: float) -> str:
        return (f"waiting for BGP sessions: {check.established}/{check.total} Established "
                f"({elapsed:.0f}s of {timeout:.0f}s)")

    def __call__(self, check: SessionCheck, elapsed: float, timeout: float) -> None:
        msg = self.text(check, elapsed, timeout)
        if self.tty:
            if self._status is None:
                self._status = Console(file=self.stream).status(msg)
                self._status.start()
            else:
                self._status.update(msg)
            if check.ok:
                self.done()
            return
        last = self._last
        since = elapsed - last[1] if last is not None else 0.0
        changed = last is not None and last[0] != check.established
        if last is None or check.ok or since >= self.every or (changed and since >= self.gap):
            self.stream.write(msg + "\n")
            self.stream.flush()
            self._last = (check.established, elapsed)

    def done(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
