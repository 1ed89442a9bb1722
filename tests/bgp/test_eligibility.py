"""Eligibility: who may become a reflector, and who may stay one (health blips tolerated)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calicotool.bgp.eligibility import EligibilityRules, promotion_blockers, retention_blockers
from calicotool.bgp.state import Taint
from tests.bgp.conftest import NOW, node

RULES = EligibilityRules(damping_seconds=300, demote_after_seconds=600)


@pytest.mark.parametrize(
    ("kw", "promote", "stay"),
    [
        ({}, [], []),
        ({"ready_since": NOW - timedelta(seconds=60)}, ["Ready for only 60s"], []),
        ({"ready_since": NOW - timedelta(seconds=300)}, [], []),
        ({"ready": False, "ready_since": NOW - timedelta(seconds=60)}, ["NotReady"], []),  # blip: stays
        ({"ready": False, "ready_since": NOW - timedelta(seconds=601)}, ["NotReady"], ["NotReady"]),
        ({"ready": False, "ready_since": None}, ["NotReady"], ["NotReady"]),
        ({"unschedulable": True}, ["unschedulable"], ["unschedulable"]),
        ({"deleting": True}, ["being deleted"], ["being deleted"]),
        ({"ip": None}, ["no BGP IPv4 address"], ["no BGP IPv4 address"]),
        ({"taints": (Taint("node.kubernetes.io/unreachable", "NoExecute"),)}, ["tainted"], ["tainted"]),
        ({"taints": (Taint("node.kubernetes.io/memory-pressure"),)}, ["tainted"], ["tainted"]),
        ({"taints": (Taint("ToBeDeletedByClusterAutoscaler"),)}, ["leaving"], ["leaving"]),
        ({"taints": (Taint("dedicated", "NoSchedule", "gpu"),)}, [], []),  # unrelated taint
        ({"labels": {"rr.calicotool.io/exclude": "true"}}, ["excluded by label"], ["excluded by label"]),
    ],
)
def test_promotion_and_retention(kw: dict, promote: list[str], stay: list[str]) -> None:
    n = node("n1", **kw)
    got_p = promotion_blockers(n, NOW, RULES)
    got_s = retention_blockers(n, NOW, RULES)
    assert len(got_p) == len(promote) and all(any(w in g for g in got_p) for w in promote), got_p
    assert len(got_s) == len(stay) and all(any(w in g for g in got_s) for w in stay), got_s


@pytest.mark.parametrize(
    ("candidate", "labels", "eligible"),
    [
        (None, {}, True),
        ("rr-candidate", {}, False),
        ("rr-candidate", {"rr-candidate": ""}, True),
        ("pool=infra", {"pool": "infra"}, True),
        ("pool=infra", {"pool": "web"}, False),
    ],
)
def test_candidate_label(candidate: str | None, labels: dict[str, str], eligible: bool) -> None:
    rules = EligibilityRules(candidate_label=candidate)
    assert (not promotion_blockers(node("n1", labels=labels), NOW, rules)) is eligible


def test_custom_exclude_label_with_value() -> None:
    rules = EligibilityRules(exclude_labels=("role=db",))
    assert promotion_blockers(node("n1", labels={"role": "db"}), NOW, rules)
    assert not promotion_blockers(node("n1", labels={"role": "web"}), NOW, rules)
