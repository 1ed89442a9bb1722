"""Bad rule sets: every problem is an InputError naming file, line and field; nothing is half-loaded."""

from __future__ import annotations

import pytest

from calicotool.errors import InputError, ValidationFailed
from calicotool.policy.loader import load_ruleset

BASE = """\
namespace: shop
tiers:
  - name: app
    order: 200
groups:
  web:
    selector: app == 'web'
  db:
    selector: app == 'db'
  office:
    nets: [203.0.113.0/24]
policies:
  - name: db
    appliesTo: db
    tier: app
    ingress:
{rule}
"""


def _rule(text: str) -> str:
    return "\n".join("      " + line for line in text.strip().splitlines())


# (rule text placed at line 17, expected message fragment, expected field path)
RULE_CASES = [
    ("- from: webb", "unknown group 'webb' (did you mean 'web'?)", "policies[0].ingress[0].from"),
    ("- from: web\n  protocol: TCP\n  ports: [70000]", "port 70000 out of range", "policies[0].ingress[0].ports[0]"),
    ("- from: web\n  protocol: TCP\n  ports: [0]", "port 0 out of range", "policies[0].ingress[0].ports[0]"),
    ("- from: web\n  protocol: TCP\n  ports: ['9000:8000']", "reversed", "policies[0].ingress[0].ports[0]"),
    ("- from: web\n  protocol: TCP\n  ports: ['80:99999']", "out of range", "policies[0].ingress[0].ports[0]"),
    ("- from: web\n  protocol: TCP\n  ports: ['Bad_Name']", "not a number, a range", "policies[0].ingress[0].ports[0]"),
    ("- from: web\n  ports: [80]", "ports need protocol TCP, UDP or SCTP", "policies[0].ingress[0].ports"),
    ("- from: web\n  protocol: ICMP\n  ports: [80]", "ports need protocol", "policies[0].ingress[0].ports"),
    ("- from: web\n  protocol: TCP\n  icmp: {type: 8}", "icmp needs protocol ICMP", "policies[0].ingress[0].icmp"),
    ("- from: web\n  protocol: ICMP\n  icmp: {code: 1}", "code given without an ICMP type", "policies[0].ingress[0].icmp.code"),
    ("- from: [10.0.0.0/8, '2001:db8::/32']", "mixes IPv4 and IPv6", "policies[0].ingress[0].from"),
    ("- from: 10.0.0.0/8\n  except: ['2001:db8::/64']", "mixes IPv4 and IPv6", "policies[0].ingress[0]"),
    ("- from: 10.0.0.300/8", "invalid CIDR '10.0.0.300/8'", "policies[0].ingress[0].from"),
    ("- from: 10.0.0.0/33", "invalid CIDR", "policies[0].ingress[0].from"),
    ("- from: web\n  colour: red", "unknown field 'colour'", "policies[0].ingress[0].colour"),
    ("- from: web\n  action: Accept", "is not one of", "policies[0].ingress[0].action"),
    ("- to: web", "ingress rules name their peer with 'from'", "policies[0].ingress[0].to"),
    ("- helper: dns", "dns helper only applies to egress", "policies[0].ingress[0].helper"),
    ("- from: [any, web]", "'any' cannot be combined", "policies[0].ingress[0].from[0]"),
    ("- from: web\n  protocol: ICMPv6\n  ipVersion: 4\n  icmp: {type: 128}", "does not match the rule's IP version",
     "policies[0].ingress[0].protocol"),
    ("- from: 10.0.0.0/8\n  ipVersion: 6", "ipVersion 6 does not match", "policies[0].ingress[0].ipVersion"),
]


@pytest.mark.parametrize("rule,message,field", RULE_CASES, ids=[c[1][:40] for c in RULE_CASES])
def test_rule_errors_are_located(write_ruleset, rule: str, message: str, field: str) -> None:
    root = write_ruleset(BASE.format(rule=_rule(rule)))
    with pytest.raises(ValidationFailed) as info:
        load_ruleset([root])
    errors = info.value.errors
    match = [e for e in errors if message in e.message]
    assert match, [str(e) for e in errors]
    loc = match[0].location
    assert loc is not None and loc.file == str(root / "ruleset.yaml")
    assert loc.field == field
    assert loc.line is not None and loc.line >= 17  # the rule's own line, not the document start


DOC_CASES = [
    # (document, message, field, line)
    ("groups:\n  web:\n    selector: app == 'web\n", "invalid selector at column 8", "groups.web.selector", 3),
    ("groups:\n  web:\n    selector: app == 'web'\n    colour: x\n", "unknown field 'colour'", "groups.web.colour", 4),
    ("groups:\n  web:\n    nets: [10.0.0.0/8]\n    selector: a == 'b'\n", "exactly one of selector, nets or hosts",
     "groups.web", 2),
    ("groups:\n  h:\n    hosts:\n      - node: n1\n", "needs an interface or expectedIPs", "groups.h.hosts[0]", 4),
    ("groups:\n  h:\n    hosts:\n      - node: n1\n        expectedIPs: [10.0.0.0/24]\n", "expected an IP address",
     "groups.h.hosts[0].expectedIPs[0]", 5),
    ("groups:\n  n:\n    nets: [bogus]\n", "invalid CIDR 'bogus'", "groups.n.nets[0]", 3),
    ("groups:\n  Web:\n    selector: all()\n", "does not match", "groups", 1),
    ("groups:\n  web:\n    selector: all()\n  web:\n    selector: all()\n", "duplicate key 'web'", None, 4),
    ("policies:\n  - name: p\n    appliesTo: nope\n", "unknown group 'nope'", "policies[0].appliesTo", 3),
    ("groups:\n  n:\n    nets: [10.0.0.0/8]\npolicies:\n  - name: p\n    appliesTo: n\n", "is a CIDR list",
     "policies[0].appliesTo", 6),
    ("groups:\n  w:\n    selector: all()\npolicies:\n  - name: p\n    appliesTo: w\n    tier: secrity\n",
     "unknown tier 'secrity'", "policies[0].tier", 7),
    ("groups:\n  w:\n    selector: all()\npolicies:\n  - name: p\n    appliesTo: w\n  - name: p\n    appliesTo: w\n",
     "duplicate policy 'p'", "policies[1].name", 7),
    ("tiers:\n  - name: t\n    order: 1\n  - name: t\n    order: 2\n", "duplicate tier 't'", "tiers[1].name", 4),
    ("tiers:\n  - name: t\n", "needs an order", "tiers[0]", 2),
    ("groups:\n  w:\n    selector: all()\npolicies:\n  - name: p\n    appliesTo: w\n    preDNAT: true\n",
     "preDNAT policies apply to host groups only", "policies[0].preDNAT", 7),
    ("groups:\n  w:\n    selector: all()\n    namespaceSelector: a == 'b'\n    namespace: x\n", "either namespace or",
     "groups.w.namespaceSelector", 4),
    ("groups: [1, 2]\n", "is not of type 'object'", "groups", 1),
    ("groups:\n  w:\n    selector: all(\n", "invalid selector", "groups.w.selector", 3),
    ("foo: [1\n", "malformed YAML", None, 2),
]


@pytest.mark.parametrize("doc,message,field,line", DOC_CASES, ids=[c[1][:40] for c in DOC_CASES])
def test_document_errors_are_located(write_ruleset, doc: str, message: str, field: str | None, line: int) -> None:
    root = write_ruleset(doc)
    with pytest.raises(InputError) as info:
        load_ruleset([root])
    errors = info.value.errors if isinstance(info.value, ValidationFailed) else [info.value]
    match = [e for e in errors if message in e.message]
    assert match, [str(e) for e in errors]
    loc = match[0].location
    assert loc is not None and loc.file == str(root / "ruleset.yaml")
    assert loc.field == field
    assert loc.line == line


def test_selector_error_keeps_column(write_ruleset) -> None:
    root = write_ruleset("groups:\n  w:\n    selector: \"app == 'a' &&\"\n")
    with pytest.raises(ValidationFailed) as info:
        load_ruleset([root])
    err = info.value.errors[0]
    assert getattr(err, "column", None) == 14


def test_every_problem_is_reported_at_once(write_ruleset) -> None:
    root = write_ruleset(BASE.format(rule=_rule("- from: webb\n  protocol: TCP\n  ports: [70000, '9:1']")))
    with pytest.raises(ValidationFailed) as info:
        load_ruleset([root])
    assert len(info.value.errors) == 3


def test_duplicate_group_across_files(write_ruleset) -> None:
    write_ruleset("groups:\n  web:\n    selector: all()\n", name="a.yaml")
    root = write_ruleset("groups:\n  web:\n    selector: all()\n", name="b.yaml")
    with pytest.raises(InputError) as info:
        load_ruleset([root])
    assert "duplicate group 'web' (first defined at" in info.value.message
    assert info.value.location.file.endswith("b.yaml")


def test_missing_path_is_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_ruleset([tmp_path / "nope"])
