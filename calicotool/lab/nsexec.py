"""Running code inside a network namespace: a setns'ed helper thread, namespaced sockets, sysctls, processes.

Re-exported by :mod:`calicotool.lab.netns`; import from there.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from calicotool.errors import HostError

T = TypeVar("T")
NETNS_RUN_DIR = Path("/run/netns")
_CLONE_NEWNET = 0x40000000


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """Terminate a child (its whole session when it leads one), then kill it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


# ---------------------------------------------------------------- sysctls


def _sysctl_path(key: str) -> str:
    rel = key.replace(".", "/") if "/" not in key else key.strip("/")
    if ".." in rel.split("/") or not rel.startswith("net/"):
        raise HostError(f"sysctl {key!r}: only per-namespace net.* keys are supported")
    return "/proc/sys/" + rel


def in_netns(ns: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` on a throwaway thread that has joined ``ns``; the rest of the process never moves."""
    result: dict[str, Any] = {}

    def worker() -> None:
        try:
            fd = os.open(str(NETNS_RUN_DIR / ns), os.O_RDONLY)
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns({ns}) failed")
            finally:
                os.close(fd)
            result["value"] = fn()
        except Exception as exc:  # handed to the caller's thread
            result["error"] = exc

    t = threading.Thread(target=worker, name=f"netns-{ns}")
    t.start()
    t.join()
    if "error" in result:
        raise HostError(f"in netns {ns}: {result['error']}") from result["error"]
    return result["value"]  # type: ignore[no-any-return]


def netns_socket(ns: str | None, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket that lives in ``ns`` (a socket keeps the namespace it was created in), usable from any thread."""
    if ns is None:
        return socket.socket(family, kind)
    return in_netns(ns, lambda: socket.socket(family, kind))


def set_sysctl(ns: str | None, key: str, value: str | int) -> None:
    path = _sysctl_path(key)

    def write() -> str:
        Path(path).write_text(f"{value}\n")
        return ""

    if ns is None:
        write()
    else:
        in_netns(ns, write)


def get_sysctl(ns: str | None, key: str) -> str:
    path = _sysctl_path(key)

    def read() -> str:
        return Path(path).read_text().strip()

    return read() if ns is None else in_netns(ns, read)


# ---------------------------------------------------------------- processes


def netns_command(ns: str | None, argv: Sequence[str]) -> list[str]:
    """``argv`` wrapped so it runs inside ``ns`` (the `ip netns exec` equivalent, without the mount games)."""
    if ns is None:
        return list(argv)
    return ["nsenter", f"--net={NETNS_RUN_DIR / ns}", "--", *argv]


def run_in_netns(
    ns: str | None, argv: Sequence[str], *, timeout: float = 30.0, check: bool = True
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(netns_command(ns, argv), capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HostError(f"{' '.join(argv)} in netns {ns}: {exc}") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise HostError(f"{' '.join(argv)} in netns {ns} exited {proc.returncode}: {detail[-1] if detail else ''}")
    return proc


def popen_in_netns(ns: str | None, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """Start a long-running process in ``ns`` in its own session (so stopping it stops its children)."""
    kwargs.setdefault("start_new_session", True)
    try:
        return subprocess.Popen(netns_command(ns, argv), **kwargs)
    except OSError as exc:
        raise HostError(f"cannot start {argv[0]} in netns {ns}: {exc}") from exc
