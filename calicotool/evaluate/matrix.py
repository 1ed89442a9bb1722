"""Reachability between a set of endpoints (one per group): every ordered pair, for each port asked about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.specs import PortSpec, display_name, flow_for
from calicotool.policy.endpoint import Endpoint


@dataclass
class ReachabilityMatrix:
    endpoints: list[Endpoint]
    grids: list[tuple[PortSpec, list[list[bool]]]] = field(default_factory=list)
    deciders: dict[tuple[int, int, int], str] = field(default_factory=dict)  # (grid, src, dst) -> why denied

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
    matrix = ReachabilityMatrix(list(endpoints))
    for g, spec in enumerate(specs):
        grid: list[list[bool]] = []
        for i, src in enumerate(endpoints):
            row = []
            for j, dst in enumerate(endpoints):
                result = policy_set.evaluate(flow_for(src, dst, spec))
                row.append(result.allowed)
                if not result.allowed:
                    matrix.deciders[(g, i, j)] = result.deciding.reason
            grid.append(row)
        matrix.grids.append((spec, grid))
    return matrix
