"""Running Debian's BIRD 1.6 inside a lab namespace and asking it how it is doing (via birdc).

One daemon per namespace: ``bird -c CONF -s SOCK -P PIDFILE`` started through nsenter; BIRD daemonises and we
track it by its pidfile, so a lab outlives the command that started it. Parsing birdc output is pure.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from calicotool.errors import HostError
from calicotool.lab.bird_config import BirdPaths
from calicotool.lab.nsexec import run_in_netns

BIRD = os.environ.get("CALICOTOOL_BIRD", "/usr/sbin/bird")
BIRDC = os.environ.get("CALICOTOOL_BIRDC", "/usr/sbin/birdc")


@dataclass(frozen=True)
class ProtocolState:
    """One row of ``birdc show protocols``."""

    name: str
    proto: str
    table: str
    state: str
    since: str
    info: str

    @property
    def established(self) -> bool:
        return self.proto == "BGP" and self.info.startswith("Established")


_COUNT = re.compile(r"^(\d+) of (\d+) routes for (\d+) networks")


def parse_protocols(text: str) -> list[ProtocolState]:
    """Rows of ``show protocols`` (banner and header skipped). ``info`` may hold spaces ("Active  Socket: ...")."""
    rows: list[ProtocolState] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(("BIRD ", "name ")) or line.startswith(" "):
            continue
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        info = parts[5].strip() if len(parts) > 5 else ""
        rows.append(ProtocolState(parts[0], parts[1], parts[2], parts[3], parts[4], info))
    return rows


def parse_route_count(text: str) -> int:
    """The first number of ``show route ... count`` ("3 of 12 routes for 12 networks")."""
    for line in text.splitlines():
        m = _COUNT.match(line.strip())
        if m:
            return int(m.group(1))
    raise HostError(f"unexpected birdc count output: {text.strip()[:200]!r}")


def check_config(config: Path) -> None:
    """``bird -p``: parse the configuration and exit; a located HostError on a syntax error."""
    proc = subprocess.run([BIRD, "-p", "-c", str(config)], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise HostError(f"bird rejected {config}: {(proc.stderr or proc.stdout).strip()}")


def start_bird(ns: str, paths: BirdPaths) -> int:
    """Start BIRD in ``ns``; returns the daemon's pid once its control socket answers."""
    for stale in (paths.socket, paths.pidfile):
        stale.unlink(missing_ok=True)
    run_in_netns(ns, [BIRD, "-c", str(paths.config), "-s", str(paths.socket), "-P", str(paths.pidfile)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid = read_pid(paths)
        if pid is not None and paths.socket.exists():
            return pid
        time.sleep(0.05)
    raise HostError(f"bird in netns {ns} did not come up (see {paths.log})")


def read_pid(paths: BirdPaths) -> int | None:
    try:
        return int(paths.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def stop_bird(paths: BirdPaths, *, crash: bool = False, timeout: float = 10.0) -> bool:
    """Stop a node's BIRD: SIGTERM lets it say goodbye to its peers (Cease), ``crash`` SIGKILLs it so peers see
    the TCP session drop (graceful restart keeps its routes as stale until the restart time runs out).
    Returns False when it was not running. Routes it put in its own kernel table stay (``persist``)."""
    pid = read_pid(paths)
    if pid is None or not pid_alive(pid):
        paths.pidfile.unlink(missing_ok=True)
        return False
    try:
        os.kill(pid, signal.SIGKILL if crash else signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.05)
    for leftover in (paths.pidfile, paths.socket):
        leftover.unlink(missing_ok=True)
    return True


def birdc(paths: BirdPaths, *command: str, timeout: float = 10.0) -> str:
    """Run one birdc command against the node's control socket and return its output."""
    if not paths.socket.exists():
        raise HostError(f"bird control socket {paths.socket} is missing (is bird running?)")
    try:
        proc = subprocess.run([BIRDC, "-s", str(paths.socket), *command], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HostError(f"birdc {' '.join(command)}: {exc}") from exc
    if proc.returncode != 0 or "Unable to connect" in proc.stdout:
        raise HostError(f"birdc {' '.join(command)}: {(proc.stderr or proc.stdout).strip()}")
    return proc.stdout


def configure(paths: BirdPaths) -> None:
    """``birdc configure``: load the node's rewritten config as confd makes BIRD do. BIRD keeps every protocol
    whose options did not change and restarts, adds or removes the others."""
    out = birdc(paths, "configure")
    if "Reconfigur" not in out:
        raise HostError(f"bird did not take {paths.config}: {out.strip()[:300]}")


def protocols(paths: BirdPaths) -> dict[str, ProtocolState]:
    return {p.name: p for p in parse_protocols(birdc(paths, "show", "protocols"))}


def routes_from(paths: BirdPaths, protocol: str) -> int:
    """How many routes (best or not) in BIRD's table came in over ``protocol``."""
    return parse_route_count(birdc(paths, "show", "route", "protocol", protocol, "count"))
