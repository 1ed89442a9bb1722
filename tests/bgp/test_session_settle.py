"""wait_established with a settle time: a session counts only once it has stayed Established, poll after poll,
for `settle` seconds — a session that connection-collision resolution closes right after it came up does not
open the break phase."""

from __future__ import annotations

from typing import Any

from calicotool.bgp.status import wait_established
from calicotool.model.resource import Resource


class ScriptedStatus:
    """A store whose CalicoNodeStatus for reflector `rr` reports the peer 10.0.0.2 per a script, one entry per
    list call (the last entry repeats)."""

    def __init__(self, script: list[bool]) -> None:
        self.script = script
        self.calls = 0

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Resource]:
        up = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        res = Resource.new("CalicoNodeStatus", "calicotool-rr-rr", {"node": "rr"})
        res.status = {"bgp": {"peersV4": [{"peerIP": "10.0.0.2", "state": "Established" if up else "Active"}]}}
        return [res]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def wait(script: list[bool], settle: float, timeout: float = 30.0) -> tuple[bool, float, int]:
    store, clock = ScriptedStatus(script), Clock()
    store_any: Any = store
    check = wait_established(store_any, {("rr", "client")}, {"rr": "10.0.0.1", "client": "10.0.0.2"}, timeout, 1.0,
                             clock, clock.sleep, settle=settle)
    return check.ok, clock.now, store.calls


def test_without_settle_the_first_established_poll_is_enough() -> None:
    assert wait([False, True, False], settle=0) == (True, 1.0, 2)


def test_a_session_that_drops_again_restarts_the_settle_time() -> None:
    # up at t=1, gone at t=2 (collision resolution), up again from t=4: settled at t=7
    ok, when, _ = wait([False, True, False, False, True], settle=3)
    assert ok and when == 7.0


def test_a_flapping_session_never_settles_and_the_timeout_keeps_the_old_ones() -> None:
    ok, when, _ = wait([True, False] * 20, settle=3, timeout=10)
    assert when == 10.0 and not ok  # up at the deadline, but only since the last poll


def test_up_at_the_deadline_but_not_settled_is_not_trusted() -> None:
    ok, when, _ = wait([False] * 9 + [True], settle=5, timeout=9)
    assert not ok and when == 9.0
