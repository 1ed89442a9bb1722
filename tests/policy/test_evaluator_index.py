"""The selector index prunes but never changes an answer: random policies and endpoints, index vs naive scan."""

from __future__ import annotations

import random

import pytest

from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.index import PolicyIndex
from calicotool.evaluate.model import Flow
from calicotool.evaluate.policies import compile_policy
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint, EndpointKind

KEYS = ["app", "tier", "team", "env"]
VALUES = ["a", "b", "c", "d"]
NAMESPACES = ["ns1", "ns2", "ns3"]


def _selector(rng: random.Random) -> str:
    k, v = rng.choice(KEYS), rng.choice(VALUES)
    forms = [
        f"{k} == '{v}'",
        f"{k} in {{'{v}', '{rng.choice(VALUES)}'}}",
        f"{k} != '{v}'",
        f"has({k})",
        f"!has({k})",
        f"{k} == '{v}' && {rng.choice(KEYS)} == '{rng.choice(VALUES)}'",
        f"{k} == '{v}' || {rng.choice(KEYS)} == '{rng.choice(VALUES)}'",
        f"{k} not in {{'{v}'}}",
        "all()",
        f"{k} starts with '{v}'",
        f"projectcalico.org/namespace == '{rng.choice(NAMESPACES)}'",
    ]
    return rng.choice(forms)


def _rule(rng: random.Random) -> dict[str, object]:
    rule: dict[str, object] = {"action": rng.choice(["Allow", "Deny", "Pass", "Log"])}
    if rng.random() < 0.5:
        rule["protocol"] = rng.choice(["TCP", "UDP"])
        if rng.random() < 0.7:
            rule["destination"] = {"ports": [rng.choice([80, 443, "8000:8100", 5432])]}
    if rng.random() < 0.5:
        rule["source"] = {"selector": _selector(rng)}
    if rng.random() < 0.2:
        source: dict[str, object] = dict(rule.get("source") or {})  # type: ignore[call-overload]
        source["nets"] = [rng.choice(["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16"])]
        rule["source"] = source
    return rule


def _policies(rng: random.Random, count: int) -> list[Resource]:
    out = [Resource.new("Tier", t, {"order": o}) for t, o in (("t1", 10), ("t2", 20))]
    for i in range(count):
        spec: dict[str, object] = {
            "selector": _selector(rng),
            "ingress": [_rule(rng) for _ in range(rng.randint(0, 3))],
            "egress": [_rule(rng) for _ in range(rng.randint(0, 3))],
        }
        if rng.random() < 0.7:
            spec["order"] = rng.randint(1, 50)
        tier = rng.choice(["default", "t1", "t2"])
        if tier != "default":
            spec["tier"] = tier
        if rng.random() < 0.4:
            out.append(Resource.new("NetworkPolicy", f"p{i}", spec, namespace=rng.choice(NAMESPACES)))
        else:
            if rng.random() < 0.2:
                spec["namespaceSelector"] = f"env == '{rng.choice(VALUES)}'"
            kind = "StagedGlobalNetworkPolicy" if rng.random() < 0.1 else "GlobalNetworkPolicy"
            out.append(Resource.new(kind, f"p{i}", spec))
    return out


def _endpoints(rng: random.Random, count: int) -> list[Endpoint]:
    out = []
    for i in range(count):
        labels = {k: rng.choice(VALUES) for k in KEYS if rng.random() < 0.6}
        ip = f"10.{rng.randint(0, 2)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if rng.random() < 0.15:
            out.append(Endpoint(EndpointKind.HOST, f"h{i}", ips=(ip,), labels=labels))
        else:
            ns = rng.choice(NAMESPACES)
            out.append(Endpoint(EndpointKind.POD, f"e{i}", ips=(ip,), namespace=ns, labels=labels,
                                namespace_labels={"env": rng.choice(VALUES)}))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_index_candidates_include_every_selecting_policy(seed: int) -> None:
    rng = random.Random(seed)
    indexed = PolicySet(_policies(rng, 300))
    naive = PolicySet([], use_index=False)
    naive.policies = indexed.policies  # same compiled policies, scanned one by one
    for ep in _endpoints(rng, 200):
        assert indexed.applicable(ep) == naive.applicable(ep), ep.title


@pytest.mark.parametrize("seed", [4, 5])
def test_index_and_naive_give_identical_results(seed: int) -> None:
    rng = random.Random(seed)
    resources = _policies(rng, 200)
    indexed, naive = PolicySet(resources), PolicySet(resources, use_index=False, cache_endpoints=False)
    endpoints = _endpoints(rng, 60)
    allowed = 0
    for _ in range(400):
        src, dst = rng.choice(endpoints), rng.choice(endpoints)
        flow = Flow(src, dst, rng.choice([6, 17]), rng.choice([80, 443, 5432, 8050, 9999]))
        a, b = indexed.evaluate(flow), naive.evaluate(flow)
        assert a.to_dict() == b.to_dict()
        allowed += a.allowed
    assert 0 < allowed < 400  # the random data exercises both verdicts


def test_index_prunes_equality_selectors() -> None:
    pols = [compile_policy(Resource.new("GlobalNetworkPolicy", f"p{i}", {"selector": f"app == 'a{i}'"}))
            for i in range(100)]
    pols.append(compile_policy(Resource.new("GlobalNetworkPolicy", "any", {"selector": "!has(x)"})))
    pols.append(compile_policy(Resource.new("GlobalNetworkPolicy", "never", {"selector": "a == 'x' && a == 'y'"})))
    index = PolicyIndex(pols)
    assert index.unindexed == 1 and index.never == 1
    assert index.candidates({"app": "a7"}) == [7, 100]
    assert index.candidates({"other": "x"}) == [100]
