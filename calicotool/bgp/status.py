"""BGP session state from CalicoNodeStatus, and waiting for sessions to be Established.

calico-node only reports status for nodes that have a CalicoNodeStatus object, so calicotool keeps one
(`calicotool-rr-<node>`, class BGP) on each reflector: every planned session has a reflector at one end, so
reflector-side status is enough to see every session. Those objects are calicotool-managed like its BGPPeers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from calicotool.datastore.base import Change, Op, Store
from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Resource

STATUS_PREFIX = "calicotool-rr-"
UPDATE_PERIOD_SECONDS = 10


def status_name(node: str) -> str:
    return STATUS_PREFIX + node


def status_resource(node: str) -> Resource:
    spec = {"node": node, "classes": ["BGP"], "updatePeriodSeconds": UPDATE_PERIOD_SECONDS}
    return Resource.new("CalicoNodeStatus", status_name(node), spec, labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE})


def status_changes(existing: Iterable[Resource], reflectors: set[str]) -> tuple[list[Change], list[Change]]:
    """(creates for reflectors without a status object, deletes for managed ones of nodes no longer reflectors)."""
    have = {r.name: r for r in existing if r.managed and r.name.startswith(STATUS_PREFIX)}
    by_node = {str(r.spec.get("node", "")): r for r in have.values()}
    create = [Change(Op.CREATE, status_resource(n)) for n in sorted(reflectors) if n not in by_node
              and status_name(n) not in have]
    delete = [Change(Op.DELETE, r) for n, r in sorted(by_node.items()) if n not in reflectors]
    return create, delete


def established_peers(statuses: Iterable[Resource]) -> dict[str, set[str]]:
    """node name -> IPv4 addresses of peers whose session is Established."""
    out: dict[str, set[str]] = {}
    for res in statuses:
        node = str(res.spec.get("node") or "")
        bgp = (res.status or {}).get("bgp") or {}
        peers = {str(p.get("peerIP", "")).split("/")[0] for p in bgp.get("peersV4") or []
                 if str(p.get("state", "")).lower() == "established"}
        out.setdefault(node, set()).update(peers)
    return out


@dataclass(frozen=True)
class SessionCheck:
    established: int
    missing: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def total(self) -> int:
        return self.established + len(self.missing)


# Called after every poll while waiting: (check, seconds waited, timeout).
SessionProgress = Callable[[SessionCheck, float, float], None]


def check_sessions(
    store: Store, sessions: Iterable[tuple[str, str]], addresses: dict[str, str]
) -> SessionCheck:
    """Which of `sessions` (node-name pairs) show Established at either end right now."""
    up = established_peers(store.list("CalicoNodeStatus"))
    missing, ok = [], 0
    for a, b in sorted(sessions):
        if addresses.get(b) in up.get(a, set()) or addresses.get(a) in up.get(b, set()):
            ok += 1
        else:
            missing.append((a, b))
    return SessionCheck(ok, missing)


def wait_established(
    store: Store,
    sessions: set[tuple[str, str]],
    addresses: dict[str, str],
    timeout: float,
    poll: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    progress: SessionProgress | None = None,
    settle: float = 0.0,
) -> SessionCheck:
    """Poll CalicoNodeStatus until every session is Established and has stayed so, poll after poll, for `settle`
    seconds — or `timeout` seconds pass. The settle time matters because a fresh session can still drop: when both
    ends connect at once, BGP's connection-collision resolution may close the connection one end already counted
    as Established. A session that is up at the deadline but not yet for `settle` seconds counts as missing.
    `progress` hears about every poll (the CLI shows it on stderr)."""
    start = clock()
    deadline = start + timeout
    up_since: dict[tuple[str, str], float] = {}

    def observe() -> SessionCheck:
        check = check_sessions(store, sessions, addresses)
        now = clock()
        missing = set(check.missing)
        for pair in sessions:
            if pair in missing:
                up_since.pop(pair, None)
            else:
                up_since.setdefault(pair, now)
        return check

    def young() -> list[tuple[str, str]]:
        """Sessions Established for less than `settle` seconds (asked only when every session is up)."""
        now = clock()
        return sorted(p for p in sessions if now - up_since[p] < settle)

    result = observe()
    if progress is not None:
        progress(result, 0.0, timeout)
    while not (result.ok and not young()) and clock() < deadline:
        sleep(min(poll, max(0.0, deadline - clock())))
        result = observe()
        if progress is not None:
            progress(result, clock() - start, timeout)
    unsettled = young() if result.ok else []
    if unsettled:  # up now, but not for long enough: not to be trusted yet
        return SessionCheck(len(sessions) - len(unsettled), unsettled)
    return result
