"""Data-driven evaluator cases: tests/policy/eval_cases/*.yaml, each case a flow and the expected verdict/trace.

File shape:
  resources: [...]          # shared; shorthand {kind, name, namespace?, labels?, spec} or full manifests
  endpoints: {key: {kind?, ns?, name?, labels?, ns_labels?, sa?, sa_labels?, ips?, profiles?, interface?}}
  cases:
    - name: ...
      src: key | SPEC (ip:..., host:..., pod:NS/NAME:k=v@IP, networkset:NS/NAME)
      dst: ...
      flow: 5432/TCP | UDP | ICMP:8 | ICMP:3/4 (as `policy explain --port`)
      src_port: 5000           # optional
      dst_named_ports: [http=8080/TCP]
      resources / extra_resources: [...]  # replace / extend the file's resources for this case
      expect: allow | deny
      egress / ingress: {verdict, by, tier, policy, rule, action, profile, tiers: [names], staged: [policy=Action]}
Every case is also evaluated with the index off; both must give the same trace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.model import DirectionTrace, NamedPort
from calicotool.evaluate.rules import protocol_number
from calicotool.evaluate.specs import flow_for, parse_endpoint_spec, parse_port_spec
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint, EndpointKind

CASES = Path(__file__).parent / "eval_cases"


def _resource(doc: dict[str, Any]) -> Resource:
    if "metadata" in doc:
        return Resource.from_dict(doc)
    api = "v1" if doc["kind"] == "Namespace" else "projectcalico.org/v3"
    return Resource.new(doc["kind"], doc["name"], doc.get("spec") or {}, doc.get("namespace"), doc.get("labels"),
                        api_version=api)


def _endpoint(key: str, spec: dict[str, Any]) -> Endpoint:
    return Endpoint(
        kind=EndpointKind(spec.get("kind", "pod")),
        name=spec.get("name", key),
        ips=tuple(str(i) for i in spec.get("ips", [])),
        namespace=spec.get("ns", ""),
        labels=dict(spec.get("labels", {})),
        namespace_labels=dict(spec.get("ns_labels", {})),
        service_account=spec.get("sa", ""),
        service_account_labels=dict(spec.get("sa_labels", {})),
        interface=spec.get("interface", ""),
        profiles=tuple(spec.get("profiles", [])),
    )


def _named(entries: list[str]) -> tuple[NamedPort, ...]:
    out = []
    for entry in entries:
        name, _, rest = entry.partition("=")
        port, _, proto = rest.partition("/")
        out.append(NamedPort(name, int(port), protocol_number(proto or "TCP")))
    return tuple(out)


def _load() -> list[Any]:
    params = []
    for file in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(file.read_text())
        for case in doc["cases"]:
            params.append(pytest.param(doc, case, id=f"{file.stem}: {case['name']}"))
    return params


ALL_CASES = _load()


def test_there_are_at_least_100_cases() -> None:
    assert len(ALL_CASES) >= 100


def _check_direction(trace: DirectionTrace, want: dict[str, Any], where: str) -> None:
    checks = {
        "verdict": trace.verdict.value, "by": trace.decided_by.value, "tier": trace.tier, "policy": trace.policy,
        "rule": trace.rule_index, "action": trace.action, "profile": trace.profile,
        "tiers": [t.name for t in trace.tiers], "outcomes": [t.outcome for t in trace.tiers],
        "staged": [f"{p.name}={p.action}" for p in trace.staged],
        "logged": [i for t in trace.tiers for p in t.policies for i in p.logged],
        "policies": [p.name for t in trace.tiers for p in t.policies],
    }
    for key, expected in want.items():
        if key == "note":
            assert any(expected in n for n in trace.notes), f"{where}: no note containing {expected!r}: {trace.notes}"
            continue
        assert key in checks, f"{where}: unknown expectation {key!r}"
        assert checks[key] == expected, f"{where}.{key}: got {checks[key]!r}, want {expected!r} ({trace.reason})"


@pytest.mark.parametrize(("doc", "case"), ALL_CASES)
def test_case(doc: dict[str, Any], case: dict[str, Any]) -> None:
    raw = case["resources"] if "resources" in case else doc.get("resources", [])
    resources = [_resource(r) for r in raw + case.get("extra_resources", [])]
    endpoints = {k: _endpoint(k, v) for k, v in (doc.get("endpoints") or {}).items()}
    indexed, naive = PolicySet(resources), PolicySet(resources, use_index=False, cache_endpoints=False)

    def resolve(ref: str) -> Endpoint:
        return endpoints[ref] if ref in endpoints else parse_endpoint_spec(ref, indexed.inventory)

    flow = flow_for(resolve(case["src"]), resolve(case["dst"]), parse_port_spec(str(case.get("flow", "443/TCP"))),
                    case.get("src_port"))
    if case.get("dst_named_ports") or case.get("src_named_ports"):
        from dataclasses import replace

        flow = replace(flow, dst_named_ports=_named(case.get("dst_named_ports", [])),
                       src_named_ports=_named(case.get("src_named_ports", [])))
    result = indexed.evaluate(flow)
    assert result.verdict.value == case["expect"], (
        f"verdict {result.verdict.value}: egress {result.egress.reason}; ingress {result.ingress.reason}"
    )
    if "egress" in case:
        _check_direction(result.egress, case["egress"], "egress")
    if "ingress" in case:
        _check_direction(result.ingress, case["ingress"], "ingress")
    assert naive.evaluate(flow).to_dict() == result.to_dict(), "index and naive scan disagree"
