"""BIRD 1.6 configuration for a lab node, shaped like what Calico's confd renders (bird.cfg, bird_aggr.cfg,
bird_ipam.cfg). Rendering is pure; `write_node_config` is the only function that touches the filesystem."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from calicotool.errors import InputError, Location
from calicotool.lab.topology import LabNode, LabPeer, LabTopology


@dataclass(frozen=True)
class BirdOptions:
    """Timers and switches. Calico uses connect delay 1 s / retry 3 s / error wait 5,60 s and BIRD's default
    hold time (240 s); the lab shortens hold/keepalive and error wait so a failure shows within seconds."""

    scan_time: int = 2
    connect_delay: int = 1
    connect_retry: int = 2
    error_wait_min: int = 1
    error_wait_max: int = 5
    hold_time: int = 9
    keepalive: int = 3
    graceful_restart: bool = True
    graceful_restart_time: int = 10  # Calico: 120 s; how long peers keep our routes if we die without a word
    debug: bool = False

    def validate(self) -> None:
        """BIRD 1.6 accepts nonsense timers silently; refuse them here (RFC 4271: hold time 0 or >= 3 s)."""
        problems = []
        if self.hold_time != 0 and self.hold_time < 3:
            problems.append(f"hold time must be 0 or >= 3 s, got {self.hold_time}")
        if self.hold_time and not 0 < self.keepalive < self.hold_time:
            problems.append(f"keepalive ({self.keepalive}) must be positive and below the hold time ({self.hold_time})")
        if not 0 < self.error_wait_min <= self.error_wait_max:
            problems.append(f"error wait {self.error_wait_min},{self.error_wait_max} must be positive and ordered")
        if min(self.scan_time, self.connect_delay, self.connect_retry, self.graceful_restart_time) < 1:
            problems.append("scan, connect and graceful-restart times must be >= 1 s")
        if problems:
            raise InputError("; ".join(problems), Location(field="birdOptions"))


@dataclass(frozen=True)
class BirdPaths:
    """Where one node's BIRD keeps its files (absolute paths; BIRD resolves includes against its cwd)."""

    directory: Path
    stem: str

    def _p(self, suffix: str) -> Path:
        return self.directory / f"{self.stem}{suffix}"

    @property
    def config(self) -> Path:
        return self._p(".bird.cfg")

    @property
    def aggr(self) -> Path:
        return self._p(".bird_aggr.cfg")

    @property
    def ipam(self) -> Path:
        return self._p(".bird_ipam.cfg")

    @property
    def socket(self) -> Path:
        return self._p(".ctl")

    @property
    def pidfile(self) -> Path:
        return self._p(".pid")

    @property
    def log(self) -> Path:
        return self._p(".log")


def protocol_id(ip: str) -> str:
    """confd's protocol suffix: dots become underscores (10.0.0.2 -> 10_0_0_2)."""
    return str(ipaddress.ip_address(ip)).replace(".", "_").replace(":", "_")


def protocol_name(peer: LabPeer) -> str:
    return f"{'Mesh' if peer.mesh else 'Node'}_{protocol_id(peer.ip)}"


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("calicotool", "templates/bird"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["protoid"] = protocol_id
    return env


def render_node_config(node: LabNode, topo: LabTopology, paths: BirdPaths, opts: BirdOptions) -> dict[Path, str]:
    """The three config files of one node, keyed by where they go."""
    env = _env()
    # confd: a reflector ignores the node-to-node mesh; mesh sessions are for plain nodes only.
    mesh = [] if node.is_reflector else sorted((p for p in node.peers if p.mesh), key=lambda p: _ip_key(p.ip))
    specific = sorted((p for p in node.peers if not p.mesh), key=lambda p: _ip_key(p.ip))
    ctx = {"node": node, "pool": topo.pool, "opts": opts, "paths": paths, "mesh": mesh, "specific": specific}
    return {
        paths.config: env.get_template("bird.cfg.j2").render(ctx),
        paths.aggr: env.get_template("bird_aggr.cfg.j2").render(ctx),
        paths.ipam: env.get_template("bird_ipam.cfg.j2").render(ctx),
    }


def expected_protocols(node: LabNode) -> list[str]:
    """The BGP protocol names BIRD will run for this node (what `show protocols` should list)."""
    peers = [p for p in node.peers if not (p.mesh and node.is_reflector)]
    return sorted(protocol_name(p) for p in peers)


def write_node_config(node: LabNode, topo: LabTopology, paths: BirdPaths, opts: BirdOptions) -> Path:
    paths.directory.mkdir(parents=True, exist_ok=True)
    for path, text in render_node_config(node, topo, paths, opts).items():
        path.write_text(text)
    return paths.config


def _ip_key(ip: str) -> int:
    return int(ipaddress.ip_address(ip))
