"""Declared intent for CI: pairs that must be allowed or must be denied, checked against the evaluator.

    allow:                              # must-allow
      - {from: shop/frontend-5c8d, to: shop/api-7d9f, port: 443/TCP}
    deny:                               # must-deny
      - {from: shop/frontend-5c8d, to: shop/db-0, ports: [5432/TCP, 22/TCP]}

`from`/`to` take the SPECs of `policy explain --src` (a cluster pod NAMESPACE/NAME, a group, host:, ip:, ...);
`port`/`ports` the forms of `--port` (443/TCP, 53/UDP, ICMP...). A violation carries the flow's explanation: the
policy and rule (or default) that decided. Pure: text in, outcomes out (verdicts come from a callable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from calicotool.errors import InputError, Location
from calicotool.evaluate.model import Decider, DirectionTrace, FlowResult
from calicotool.evaluate.specs import PortSpec, parse_port_spec

KEYS = {"from", "to", "port", "ports", "description"}


@dataclass(frozen=True)
class Expectation:
    allow: bool  # must-allow (True) or must-deny
    src: str
    dst: str
    port: PortSpec
    where: Location
    description: str = ""

    @property
    def wanted(self) -> str:
        return "allow" if self.allow else "deny"


@dataclass
class Outcome:
    expectation: Expectation
    result: FlowResult

    @property
    def ok(self) -> bool:
        return self.result.allowed == self.expectation.allow

    def why(self) -> str:
        """The deciding rule(s): for a denied flow the direction that denied; for an allowed one both."""
        if not self.result.allowed:
            return _decider(self.result.deciding)
        return f"egress: {_decider(self.result.egress)}; ingress: {_decider(self.result.ingress)}"

    def to_dict(self) -> dict[str, Any]:
        exp = self.expectation
        out: dict[str, Any] = {"expect": exp.wanted, "from": exp.src, "to": exp.dst, "port": str(exp.port),
                               "verdict": self.result.verdict.value, "ok": self.ok, "decided_by": self.why()}
        for trace, key in ((self.result.egress, "egress"), (self.result.ingress, "ingress")):
            if trace.policy is not None:
                out[f"{key}_policy"], out[f"{key}_rule"] = trace.policy, trace.rule_index
        if exp.description:
            out["description"] = exp.description
        return out


def _decider(trace: DirectionTrace) -> str:
    if trace.policy is not None:
        return f"policy {trace.policy} {trace.direction.value} rule {trace.rule_index} ({trace.action}, tier {trace.tier})"
    if trace.decided_by is Decider.TIER_DEFAULT and trace.tiers:
        names = ", ".join(p.name for p in trace.tiers[-1].policies)
        return f"no rule of {names} matched: tier {trace.tier} default action Deny"
    return trace.reason


def parse_expectations(data: object, file: str) -> list[Expectation]:
    if not isinstance(data, dict) or not set(data) <= {"allow", "deny"} or not data:
        raise InputError("an expect file is a mapping with `allow:` and/or `deny:` lists", Location(file=file))
    out: list[Expectation] = []
    for section in ("allow", "deny"):
        items = data.get(section) or []
        if not isinstance(items, list):
            raise InputError(f"`{section}` must be a list", Location(file=file, field=section))
        for i, item in enumerate(items):
            where = Location(file=file, field=f"{section}[{i}]")
            if not isinstance(item, dict):
                raise InputError("an expectation is a mapping {from, to, port}", where)
            unknown = sorted(set(item) - KEYS)
            if unknown:
                raise InputError(f"unknown key(s) {', '.join(unknown)} (use from, to, port or ports, description)",
                                 where)
            for key in ("from", "to"):
                if not isinstance(item.get(key), str) or not item[key].strip():
                    raise InputError(f"`{key}` must be an endpoint SPEC (as for --src)", where)
            ports = item.get("ports", [item["port"]] if "port" in item else None)
            if not isinstance(ports, list) or not ports:
                raise InputError("needs `port: 443/TCP` or `ports: [...]`", where)
            for p in ports:
                spec = _port(p, where)
                out.append(Expectation(section == "allow", item["from"].strip(), item["to"].strip(), spec, where,
                                       str(item.get("description") or "")))
    return out


def _port(value: object, where: Location) -> PortSpec:
    try:
        return parse_port_spec(str(value), "port")
    except InputError as exc:
        raise InputError(exc.message, where) from None


def expectations_from_text(text: str, file: str) -> list[Expectation]:
    """The expectations of an expect file's text (one YAML document); errors carry file, line or field."""
    from calicotool.model import yamlio

    docs = [doc for _, _, doc in yamlio.load_text(text, file)]
    if len(docs) != 1:
        raise InputError("an expect file holds one YAML document", Location(file=file))
    return parse_expectations(docs[0], file)


def check(expectations: list[Expectation], verdict: Callable[[Expectation], FlowResult]) -> list[Outcome]:
    return [Outcome(exp, verdict(exp)) for exp in expectations]
