"""Progress on stderr for long commands: the reporter, the pure layers' callbacks, and the real CLI.

Slowness is simulated with a ticking clock (calicotool.cli.progress.CLOCK), never with real waits; stdout must
be byte-identical whether progress is shown or not.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from calicotool.cli import progress as progress_mod
from calicotool.cli.progress import Progress
from calicotool.datastore.base import Store
from calicotool.lab.checks import LabReport, NodeReport
from calicotool.lab.runner import wait_phase
from calicotool.overlay import enroll as enrollment
from calicotool.overlay.kstate import Fdb, KernelOp, Neighbour, Route, Sysctl
from tests.conftest import CliRunner
from tests.fixtures.netns import make_netns, netns_registry  # noqa: F401
from tests.policy.conftest import SHOP


class Ticking:
    """A clock that advances `step` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class TtyBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    def set_step(step: float) -> None:
        monkeypatch.setattr(progress_mod, "CLOCK", Ticking(step))

    return set_step


# --- the reporter -------------------------------------------------------------------------------------------------


def test_fast_work_prints_nothing() -> None:
    err = io.StringIO()
    with Progress(err, label="apply", clock=Ticking(0.1)) as p:
        for i in range(5):
            p("writing changes", i, 5)
    assert err.getvalue() == ""
    assert p.events[-1] == ("writing changes", 4, 5)


def test_slow_work_prints_throttled_lines_and_the_final_state() -> None:
    err, clock = io.StringIO(), Ticking(0.3)
    with Progress(err, label="lab x", clock=clock) as p:
        for i in range(1, 21):
            p("starting BIRD", i, 20)
    lines = err.getvalue().splitlines()
    assert lines[-1] == "lab x: starting BIRD 20/20"
    assert 3 <= len(lines) <= 8, lines  # 20 calls over ~6 s: at most one line a second, plus the final one
    assert all(line.startswith("lab x: starting BIRD ") for line in lines)
    assert len(set(lines)) == len(lines)


def test_unchanged_state_is_repeated_only_as_a_heartbeat() -> None:
    err = io.StringIO()
    p = Progress(err, clock=Ticking(1.0), heartbeat=10.0)
    for _ in range(40):
        p("waiting for sessions Established", 3, 4)
    p.close()
    lines = err.getvalue().splitlines()
    assert 3 <= len(lines) <= 5 and set(lines) == {"waiting for sessions Established 3/4"}


def test_error_exit_prints_no_final_line() -> None:
    err = io.StringIO()
    with pytest.raises(RuntimeError), Progress(err, clock=Ticking(0.4)) as p:
        p("writing changes", 0, 3)
        raise RuntimeError("boom")
    assert err.getvalue() == ""


def test_disabled_and_tty_modes() -> None:
    quiet = io.StringIO()
    with Progress(quiet, enabled=False, clock=Ticking(5.0)) as p:
        p("writing changes", 1, 2)
    assert quiet.getvalue() == "" and p.events == [("writing changes", 1, 2)]
    tty = TtyBuffer()
    with Progress(tty, label="lab x", clock=Ticking(0.01)) as p:  # a terminal: a spinner even for fast work
        p("starting BIRD", 1, 2)
        p("starting BIRD", 2, 2)
    assert "lab x: starting BIRD" in tty.getvalue()


# --- callbacks of the pure layers ---------------------------------------------------------------------------------


def _node(name: str, up: int, expected: int, learned: int, wanted: int, running: bool = True) -> NodeReport:
    missing = tuple(f"10.0.{i}.0/26" for i in range(wanted - learned))
    down = tuple(f"peer{i}" for i in range(expected - up))
    return NodeReport(name, running, False, up, expected, down, wanted, learned, missing)


def test_wait_phase_sessions_then_routes_then_converged() -> None:
    report = LabReport((_node("a", 1, 2, 0, 2), _node("b", 2, 2, 1, 2), _node("c", 0, 2, 0, 2, running=False)))
    assert wait_phase(report) == ("waiting for sessions Established", 1, 2)  # 3 of 4 ends: 1 of 2 sessions
    report = LabReport((_node("a", 2, 2, 1, 2), _node("b", 2, 2, 2, 2)))
    assert wait_phase(report) == ("waiting for routes learned", 3, 4)
    report = LabReport((_node("a", 2, 2, 2, 2), _node("b", 2, 2, 2, 2)))
    assert report.converged and wait_phase(report) == ("nodes converged", 2, 2)


class FakeNetlink:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def apply(self, ops: list[KernelOp]) -> int:
        self.batches.append(len(ops))
        return len(ops) * 2


def _kernel_ops(n: int) -> list[KernelOp]:
    ops = [KernelOp("set", Sysctl("net.ipv4.ip_forward", "1"))]
    for i in range(n):
        ip, mac = f"10.1.{i // 250}.{i % 250 + 1}", f"66:00:00:00:{i // 256:02x}:{i % 256:02x}"
        ops += [KernelOp("add", Route(f"10.2.{i}.0/26", gateway=ip, dev="vxlan.calico", onlink=True)),
                KernelOp("add", Neighbour("vxlan.calico", ip, mac)),
                KernelOp("add", Fdb("vxlan.calico", mac, f"192.0.2.{i + 1}"))]
    return ops


def test_apply_ops_chunks_and_counts() -> None:
    ops, nl, events = _kernel_ops(50), FakeNetlink(), []
    writes = enrollment.apply_ops(nl, ops, lambda *e: events.append(e))  # type: ignore[arg-type]
    assert writes == 2 * len(ops) and sum(nl.batches) == len(ops) == 151
    assert nl.batches == [64, 64, 23]
    phase = "programming kernel: 50 routes, 50 neighbours, 50 FDB entries, 1 other"
    assert events == [(phase, 0, 151), (phase, 64, 151), (phase, 128, 151), (phase, 151, 151)]
    plain = FakeNetlink()
    assert enrollment.apply_ops(plain, ops) == writes and plain.batches == [151]  # no watcher: one batch
    assert enrollment.kernel_phase([]) == "programming kernel: nothing to change"


# --- the real CLI -------------------------------------------------------------------------------------------------


def _manifests(path: Path, count: int) -> Path:
    docs = [f"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: set-{i:03d}\n"
            f"spec:\n  nets: [10.{i // 250}.{i % 250}.0/24]\n" for i in range(count)]
    path.write_text("---\n".join(docs))
    return path


def _env(tmp_path: Path, store: str, **extra: str) -> dict[str, str]:
    return {"CALICOTOOL_DATASTORE": f"dir:{tmp_path / store}", **extra}


@pytest.mark.parametrize("fmt", ["json", "yaml", "table"])
def test_apply_stdout_identical_progress_on_stderr(cli: CliRunner, tmp_path: Path, slow: Callable[[float], None],
                                                   fmt: str) -> None:
    manifest = _manifests(tmp_path / "sets.yaml", 40)
    slow(1.1)  # every step of the work takes longer than the 1 s before plain progress shows
    off = cli("apply", "-f", str(manifest), "-o", fmt, environ=_env(tmp_path, "a", CALICOTOOL_PROGRESS="off"))
    shown = cli("apply", "-f", str(manifest), "-o", fmt, environ=_env(tmp_path, "c"))
    slow(0.0)  # instant work
    fast = cli("apply", "-f", str(manifest), "-o", fmt, environ=_env(tmp_path, "b"))
    assert off.exit_code == fast.exit_code == shown.exit_code == 0, shown.stderr
    assert off.stdout == fast.stdout == shown.stdout
    assert off.stderr == fast.stderr == ""  # disabled, and fast work stays silent
    assert shown.stderr.splitlines() == [
        "apply: reading current state (1 kind) and planning 40 objects",
        "apply: writing changes 0/40",
        "apply: writing changes 40/40",
    ]
    if fmt == "json":
        assert json.loads(shown.stdout)["summary"]["create"] == 40


def test_apply_dry_run_and_no_changes(cli: CliRunner, tmp_path: Path, slow: Callable[[float], None]) -> None:
    manifest = _manifests(tmp_path / "sets.yaml", 3)
    slow(1.1)
    dry = cli("apply", "-f", str(manifest), "--dry-run", environ=_env(tmp_path, "a"))
    assert dry.exit_code == 0 and dry.stderr.splitlines()[-1] == "apply: planned 3 changes"
    assert "(dry run) 3 created" in dry.stdout and "planned" not in dry.stdout


def test_policy_apply_stdout_identical_progress_on_stderr(cli: CliRunner, tmp_path: Path,
                                                          slow: Callable[[float], None]) -> None:
    shutil.copytree(SHOP, tmp_path / "policies" / "shop")
    args = ("policy", "apply", "--env", "prod", "-o", "json")
    slow(1.1)
    off = cli(*args, environ=_env(tmp_path, "a", CALICOTOOL_PROGRESS="off"))
    shown = cli(*args, environ=_env(tmp_path, "b"))
    assert off.exit_code == shown.exit_code == 0, shown.stderr
    assert off.stdout == shown.stdout and off.stderr == ""
    n = json.loads(shown.stdout)["summary"]["create"]
    assert n > 5 and shown.stderr.splitlines() == [
        "policy apply: generating policy",
        f"policy apply: reading current state and planning {n} objects",
        f"policy apply: writing changes 0/{n}",
        f"policy apply: writing changes {n}/{n}",
    ]
    again = cli(*args, environ=_env(tmp_path, "b"))  # nothing left to change
    assert again.exit_code == 0 and again.stderr.splitlines()[-1] == "policy apply: planned 0 changes"


def test_errors_are_not_preceded_by_stale_progress(cli: CliRunner, tmp_path: Path, slow: Callable[[float], None]) -> None:
    slow(1.1)
    res = cli("apply", "-f", str(tmp_path / "missing.yaml"), environ=_env(tmp_path, "a"))
    assert res.exit_code == 2 and res.stdout == "" and "apply:" not in res.stderr


# --- host enroll / sync against many remote nodes (a real namespace, the dir: datastore) ---------------------------


def _remote_nodes(store: Store, first: int, count: int) -> None:
    from calicotool.model.resource import Resource
    from calicotool.overlay import ipam
    from calicotool.overlay.config import overlay_config
    from calicotool.overlay.ipamstore import IpamClient
    from calicotool.overlay.vtep import vtep_mac

    cfg = overlay_config(store.list("IPPool"), [], "vxlan")
    for i in range(first, first + count):
        name = f"node{i}"
        tunnel = IpamClient(store).assign(ipam.tunnel_handle(name, "vxlan"), name, {"node": name}, cfg)
        store.create(Resource.new("Node", name, {"bgp": {"ipv4Address": f"192.0.2.{i}/24"},
                                                 "ipv4VXLANTunnelAddr": str(tunnel), "vxlanTunnelMACAddr": vtep_mac(name)}))


@pytest.mark.kernel
def test_host_enroll_and_sync_progress(cli: CliRunner, tmp_path: Path, request: pytest.FixtureRequest,
                                       slow: Callable[[float], None], monkeypatch: pytest.MonkeyPatch) -> None:
    from calicotool.datastore.directory import DirectoryStore
    from calicotool.lab import netns as lab
    from calicotool.overlay import hostops
    from tests.overlay.overlay_lab import seed_pool

    ns = request.getfixturevalue("make_netns")("host")  # fixtures imported above, for this test only
    lab.create_veth_pair(ns, "eth0", ns, "eth1")
    lab.add_address(ns, "eth0", "192.0.2.200/24")
    store = DirectoryStore(tmp_path / "cluster")
    seed_pool(store)
    _remote_nodes(store, 1, 12)
    monkeypatch.setattr(enrollment, "KERNEL_CHUNK", 8)
    enroll = ("host", "enroll", "h1", "--address", "192.0.2.200/24", "--netns", ns, "-o", "json")
    slow(1.1)
    dry_off = cli(*enroll, "--dry-run", environ=_env(tmp_path, "cluster", CALICOTOOL_PROGRESS="off"))
    dry_on = cli(*enroll, "--dry-run", environ=_env(tmp_path, "cluster"))
    assert dry_off.exit_code == dry_on.exit_code == 0, dry_on.stderr
    assert dry_off.stdout == dry_on.stdout and dry_off.stderr == ""
    assert "host enroll h1: datastore claim: tunnel and host addresses, Node, HostEndpoint" in dry_on.stderr
    assert "programming kernel" not in dry_on.stderr  # a dry run touches no kernel

    res = cli(*enroll, environ=_env(tmp_path, "cluster"))
    assert res.exit_code == 0, res.stderr
    ops = len(json.loads(res.stdout)["kernel_ops"])
    lines = res.stderr.splitlines()
    kernel = [line for line in lines if "programming kernel" in line]
    # 13 routes: the remote blocks and its own; other: the link, its addresses, the sysctl
    assert kernel[0].startswith("host enroll h1: programming kernel: 13 routes, 12 neighbours, 12 FDB entries, 4 other")
    assert kernel[0].endswith(f" 0/{ops}") and kernel[-1].endswith(f" {ops}/{ops}") and len(kernel) == 2 + (ops - 1) // 8
    assert lines.index(kernel[0]) > lines.index("host enroll h1: reading remote nodes and blocks")

    _remote_nodes(store, 13, 5)  # five nodes join: sync programs 15 objects in two chunks
    sync = ("host", "sync", "h1", "--netns", ns, "-o", "json")
    plan_off = cli(*sync, "--dry-run", environ=_env(tmp_path, "cluster", CALICOTOOL_PROGRESS="off"))
    plan_on = cli(*sync, "--dry-run", environ=_env(tmp_path, "cluster"))
    assert plan_off.stdout == plan_on.stdout and len(json.loads(plan_on.stdout)["kernel_ops"]) == 15
    events: list[tuple[str, int, int]] = []
    result = hostops.sync(store, "h1", ns, progress=lambda *e: events.append(e))
    assert result.netlink_writes > 0
    phase = "programming kernel: 5 routes, 5 neighbours, 5 FDB entries"
    assert events == [("reading remote nodes, blocks and the kernel", 0, 0), (phase, 0, 15), (phase, 8, 15),
                      (phase, 15, 15)]
    again = cli(*sync, environ=_env(tmp_path, "cluster"))
    assert again.exit_code == 0 and json.loads(again.stdout)["kernel_ops"] == []
    assert again.stderr.splitlines()[-1] == "host sync h1: programming kernel: nothing to change"
    assert cli("host", "unenroll", "h1", "--netns", ns, environ=_env(tmp_path, "cluster")).exit_code == 0


# --- lab up / lab status --wait (real namespaces and BIRD) ----------------------------------------------------------


@pytest.mark.kernel
@pytest.mark.bird
def test_lab_up_and_status_wait_progress(cli: CliRunner, tmp_path: Path, slow: Callable[[float], None]) -> None:
    import secrets

    from tests.fixtures.netns import kernel_available

    if kernel_available():
        pytest.skip(kernel_available() or "")
    env = {"CALICOTOOL_LAB_DIR": str(tmp_path / "labs")}
    name = "p" + secrets.token_hex(3)
    slow(1.1)
    up_args = ("lab", "up", "--nodes", "3", "--rr", "mesh", "--name", name, "--timeout", "60", "-o", "json")
    try:
        up = cli(*up_args, environ=env)
        assert up.exit_code == 0, up.stderr
        assert json.loads(up.stdout)["converged"]
        lines = up.stderr.splitlines()
        want = [f"lab {name}: creating 4 namespaces and the underlay", f"lab {name}: writing BIRD configs 3/3",
                f"lab {name}: starting BIRD 1/3", f"lab {name}: starting BIRD 3/3", f"lab {name}: nodes converged 3/3"]
        assert [line for line in lines if line in want] == want and lines[-1] == want[-1], lines
        assert any(line.startswith(f"lab {name}: waiting for sessions Established ") for line in lines), lines
        assert cli("lab", "down", "--name", name, environ=env).exit_code == 0

        up = cli(*up_args, "--no-wait", environ=env)  # status --wait does the waiting
        assert up.exit_code == 0 and f"lab {name}: starting BIRD 3/3" in up.stderr.splitlines()
        assert "waiting" not in up.stderr and "converged 3/3" not in up.stderr
        shown = cli("lab", "status", "--name", name, "--wait", "30", "-o", "json", environ=env)
        quiet = cli("lab", "status", "--name", name, "--wait", "30", "-o", "json",
                    environ={**env, "CALICOTOOL_PROGRESS": "off"})
        assert shown.exit_code == quiet.exit_code == 0, shown.stderr
        assert shown.stdout == quiet.stdout and quiet.stderr == "" and json.loads(shown.stdout)["converged"]
        lines = shown.stderr.splitlines()
        assert lines[0].startswith(f"lab {name}: waiting for ") and lines[-1] == f"lab {name}: nodes converged 3/3"
    finally:
        cli("lab", "down", "--name", name, environ=env)
