from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Every exit code calicotool uses (documented in README.md)."""

    OK = 0
    FINDINGS = 1  # lint findings, diff drift, host drift (like `kubectl diff`)
    BAD_INPUT = 2  # malformed input, invalid selector/CIDR/port, usage errors
    DATASTORE = 3  # datastore unreachable, conflict, rejected
    HOST = 4  # host/kernel failure (netlink, missing device, not root)
    INTERNAL = 70  # a bug in calicotool (EX_SOFTWARE); --debug shows the traceback
    INTERRUPTED = 130
