"""Lint: each fixture plants exactly one problem; lint finds it (and nothing else); the shipped example is clean."""

from __future__ import annotations

import pytest

from calicotool.policy.lint import lint_ruleset, load_known_endpoints
from calicotool.policy.loader import load_ruleset

from .conftest import FIXTURES, SHOP

LINT = FIXTURES / "lint"
PLANTED = [
    ("shadowed.yaml", "shadowed", 10, "earlier Allow rule at"),
    ("redundant.yaml", "redundant", 16, "in policy 'web-a'"),
    ("unused-group.yaml", "unused-group", 5, "'legacy'"),
    ("open-ssh.yaml", "open-sensitive-port", 10, "22/ssh"),
    ("open-any-port.yaml", "open-sensitive-port", 9, "every port"),
    ("missing-default-deny.yaml", "missing-default-deny", 6, "no defaultDeny for ingress"),
    ("dns-udp-only.yaml", "dns-one-protocol", 10, "only over UDP"),
    ("log-only.yaml", "log-only-isolates", 9, "only logs ingress"),
    ("ns-not-has.yaml", "namespace-selector-not-has", 5, "!has()"),
    ("nodeport.yaml", "nodeport-without-prednat", 11, "preDNAT"),
]


@pytest.mark.parametrize("fixture,check,line,fragment", PLANTED, ids=[p[0] for p in PLANTED])
def test_planted_problem_is_found(fixture: str, check: str, line: int, fragment: str) -> None:
    findings = lint_ruleset(load_ruleset([LINT / fixture]))
    assert [f.check for f in findings] == [check], [str(f) for f in findings]
    (finding,) = findings
    assert finding.location.file == str(LINT / fixture) and finding.location.line == line
    assert fragment in finding.message


def test_empty_group_against_known_endpoints() -> None:
    known = load_known_endpoints(LINT / "known-endpoints.yaml")
    findings = lint_ruleset(load_ruleset([LINT / "empty-group.yaml"]), known)
    assert [(f.check, f.location.line) for f in findings] == [("empty-group", 5)]
    assert "'reports'" in findings[0].message


@pytest.mark.parametrize("env", [None, "dev", "staging", "prod"])
def test_shipped_example_is_clean(env: str | None) -> None:
    assert lint_ruleset(load_ruleset([SHOP], env)) == []


def test_fixing_the_planted_problem_clears_it(write_ruleset) -> None:
    text = (LINT / "dns-udp-only.yaml").read_text().replace("- {to: dns, protocol: UDP, ports: [53]}",
                                                            "- {helper: dns, to: dns}")
    assert lint_ruleset(load_ruleset([write_ruleset(text)])) == []


def test_log_rule_before_allow_is_fine(write_ruleset) -> None:
    root = write_ruleset("""
        groups:
          w: {selector: all(), defaultDeny: true}
        policies:
          - name: p
            appliesTo: w
            ingress: [{action: Log}, {from: 10.0.0.0/8, protocol: TCP, ports: [443]}]
    """)
    assert lint_ruleset(load_ruleset([root])) == []


def test_user_policy_after_default_deny_is_shadowed(write_ruleset) -> None:
    root = write_ruleset("""
        groups:
          w: {selector: all(), defaultDeny: true}
        policies:
          - name: late
            order: 20000
            appliesTo: w
            ingress: [{from: 10.0.0.0/8, protocol: TCP, ports: [443]}]
    """)
    findings = lint_ruleset(load_ruleset([root]))
    assert [f.check for f in findings] == ["shadowed"]
    assert "policy 'default-deny-w'" in findings[0].message
