"""Failure tolerance of a session graph: lose any one route reflector, or any one zone, then ask two questions:
does every surviving client keep a reflector, and do every surviving node's routes still reach every other?

Client coverage is checked for every scenario. Route propagation is checked for every zone and for every
single-reflector loss up to `propagation_limit` reflectors; past that the first reflector of each group is
checked and the report says how many scenarios were covered (never silently).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from calicotool.bgp.propagation import PropagationResult, RouteModel, check_propagation
from calicotool.wording import labelled


@dataclass
class Scenario:
    name: str
    failed: int
    clients_without_reflector: int
    examples: list[str] = field(default_factory=list)
    propagation: PropagationResult | None = None

    @property
    def ok(self) -> bool:
        return self.clients_without_reflector == 0 and (self.propagation is None or self.propagation.ok)


@dataclass
class ToleranceReport:
    baseline: PropagationResult
    reflector_losses: list[Scenario]
    zone_losses: list[Scenario]
    propagation_checked: int  # single-reflector scenarios whose propagation was checked

    @property
    def ok(self) -> bool:
        return self.baseline.ok and all(s.ok for s in self.reflector_losses + self.zone_losses)

    def summary(self) -> dict[str, object]:
        def worst(items: list[Scenario]) -> dict[str, object]:
            bad = [s for s in items if not s.ok]
            return {
                "scenarios": len(items),
                "failing": len(bad),
                "clients_stranded_max": max((s.clients_without_reflector for s in items), default=0),
                "routes_ok": all(s.propagation is None or s.propagation.ok for s in items),
                "worst": bad[0].name if bad else None,
                "example": _example(bad[0]) if bad else None,
            }

        return {
            "baseline_routes_ok": self.baseline.ok,
            "baseline_missing_example": (" -> ".join(self.baseline.examples[0]) if self.baseline.examples else None),
            "lose_one_reflector": {**worst(self.reflector_losses), "propagation_checked": self.propagation_checked},
            "lose_one_zone": worst(self.zone_losses),
        }


def _example(s: Scenario) -> str:
    if s.clients_without_reflector:
        return f"{s.name}: {', '.join(s.examples)} left without a reflector"
    if s.propagation is not None and s.propagation.examples:
        origin, receiver = s.propagation.examples[0]
        return f"{s.name}: {receiver} no longer learns routes of {origin}"
    return s.name


def stranded_clients(g: nx.Graph, failed: set[str], model: RouteModel | None = None) -> list[str]:
    """Surviving non-reflector nodes that had a reflector and now have none alive (per class when a model is
    given: members of a class share their peers)."""
    out: list[str] = []
    if model is not None:
        for c in model.classes:
            if c.cluster_id or not c.required or c.members[0] in failed:
                continue
            rrs = [model.classes[p].members for p in c.peers if model.classes[p].cluster_id]
            if rrs and all(m in failed for ms in rrs for m in ms):
                out.extend(m for m in c.members if m not in failed)
        return sorted(out)
    for n, attrs in g.nodes(data=True):
        if n in failed or attrs.get("cluster_id") or attrs.get("role") == "external":
            continue
        rrs = [p for p in g.adj[n] if g.nodes[p].get("cluster_id")]
        if rrs and all(p in failed for p in rrs):
            out.append(n)
    return sorted(out)


def _scenario(g: nx.Graph, model: RouteModel, name: str, failed: set[str], propagate: bool) -> Scenario:
    stranded = stranded_clients(g, failed, model)
    prop = None
    if propagate:
        classes = model.classes_of(failed)
        prop = model.check(classes) if classes is not None else check_propagation(g, frozenset(failed))
    return Scenario(name, len(failed), len(stranded), stranded[:5], prop)


def tolerance(g: nx.Graph, propagation_limit: int = 40) -> ToleranceReport:
    model = RouteModel(g)
    reflectors = sorted(n for n, a in g.nodes(data=True) if a.get("cluster_id"))
    if len(reflectors) <= propagation_limit:
        checked = set(reflectors)
    else:  # an evenly spaced, deterministic selection
        step = len(reflectors) / propagation_limit
        checked = {reflectors[int(i * step)] for i in range(propagation_limit)}
    rr_losses = [_scenario(g, model, f"reflector {rr}", {rr}, rr in checked) for rr in reflectors]
    zones = sorted({a.get("zone", "") for _, a in g.nodes(data=True) if a.get("role") != "external"})
    zone_losses = []
    if len(zones) > 1:
        for z in zones:
            failed = {n for n, a in g.nodes(data=True) if a.get("zone") == z and a.get("role") != "external"}
            zone_losses.append(_scenario(g, model, labelled("zone", z), failed, True))
    return ToleranceReport(model.check(), rr_losses, zone_losses, len(checked))
