"""Reachability between a set of endpoints, answered once per endpoint class (see classes.py).

`reachability`: per port asked about, a grid of verdicts (one exact flow evaluation per class pair).
`port_matrix`: every port of every protocol asked about, symbolically (symbolic.py): per pair, the allowed PortSet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from calicotool.evaluate.classes import EndpointClass, build_classes
from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.model import FlowResult
from calicotool.evaluate.portset import DEFAULT_PROTOCOLS, PortSet
from calicotool.evaluate.rules import protocol_name
from calicotool.evaluate.specs import PortSpec, display_name, flow_for
from calicotool.evaluate.symbolic import ClassMatrix
from calicotool.policy.endpoint import Endpoint


@dataclass
class ReachabilityMatrix:
    endpoints: list[Endpoint]
    grids: list[tuple[PortSpec, list[list[bool]]]] = field(default_factory=list)
    deciders: dict[tuple[int, int, int], str] = field(default_factory=dict)  # (grid, src, dst) -> why denied
    class_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        names = [display_name(ep) for ep in self.endpoints]
        out: dict[str, Any] = {"endpoints": [ep.title for ep in self.endpoints], "ports": {}}
        for spec, grid in self.grids:
            out["ports"][str(spec)] = {
                names[i]: {names[j]: ("allow" if ok else "deny") for j, ok in enumerate(row)}
                for i, row in enumerate(grid)
            }
        return out


def reachability(policy_set: PolicySet, endpoints: Sequence[Endpoint], specs: Sequence[PortSpec]) -> ReachabilityMatrix:
    classes, class_of = build_classes(policy_set, endpoints)
    matrix = ReachabilityMatrix(list(endpoints), class_count=len(classes))
    for g, spec in enumerate(specs):
        answers: dict[tuple[int, int], FlowResult] = {}
        grid: list[list[bool]] = []
        for i in range(len(endpoints)):
            row = []
            for j in range(len(endpoints)):
                pair = (class_of[i], class_of[j])
                result = answers.get(pair)
                if result is None:
                    result = policy_set.evaluate(flow_for(classes[pair[0]].rep, classes[pair[1]].rep, spec))
                    answers[pair] = result
                row.append(result.allowed)
                if not result.allowed:
                    matrix.deciders[(g, i, j)] = result.deciding.reason
            grid.append(row)
        matrix.grids.append((spec, grid))
    return matrix


@dataclass
class PortMatrix:
    """Every port of `protocols` between every ordered pair of `endpoints`."""

    endpoints: list[Endpoint]
    classes: list[EndpointClass]
    class_of: list[int]
    answer: ClassMatrix

    @property
    def protocols(self) -> tuple[int, ...]:
        return self.answer.protocols

    def ports(self, src: int, dst: int) -> PortSet:
        """Allowed (protocol, port) from endpoint `src` to endpoint `dst` (positions in `endpoints`)."""
        return self.answer.ports(self.class_of[src], self.class_of[dst])

    def to_dict(self) -> dict[str, Any]:
        names = [display_name(ep) for ep in self.endpoints]
        allowed: dict[str, dict[str, dict[str, str]]] = {}
        for i in range(len(self.endpoints)):
            for j in range(len(self.endpoints)):
                ports = self.ports(i, j)
                if ports:
                    allowed.setdefault(names[i], {})[names[j]] = ports.to_dict()
        return {
            "endpoints": [ep.title for ep in self.endpoints],
            "protocols": [protocol_name(p) for p in self.protocols],
            "classes": len(self.classes),
            "allowed": allowed,
        }


def port_matrix(policy_set: PolicySet, endpoints: Sequence[Endpoint],
                protocols: Sequence[int] = DEFAULT_PROTOCOLS) -> PortMatrix:
    classes, class_of = build_classes(policy_set, endpoints)
    return PortMatrix(list(endpoints), classes, class_of, ClassMatrix(policy_set, classes, protocols))
