"""Calico's verdict for flows and whole clusters, as pure functions over v3 resources (authoring lives in
`calicotool.policy`).

Public surface (everything else is internal and may move)::

    PolicySet(resources).evaluate(flow) -> FlowResult;  evaluate(resources, flow) -> FlowResult
    Flow, FlowResult, Verdict
    reachability(policy_set, endpoints, port_specs) -> ReachabilityMatrix

Layers import downward only: model / entities / rules -> policies -> walk, index, hosts, k8s -> inventory ->
evaluator -> specs, matrix, graph, source (the only module that reads files or a datastore).
Names resolve lazily: importing this package loads none of the modules above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calicotool.exports import lazy_exports

if TYPE_CHECKING:
    from calicotool.evaluate.evaluator import PolicySet, evaluate
    from calicotool.evaluate.matrix import ReachabilityMatrix, reachability
    from calicotool.evaluate.model import Flow, FlowResult, Verdict

_EXPORTS = {
    "Flow": "model", "FlowResult": "model", "Verdict": "model", "PolicySet": "evaluator", "evaluate": "evaluator",
    "ReachabilityMatrix": "matrix", "reachability": "matrix",
}
__all__ = ["Flow", "FlowResult", "PolicySet", "ReachabilityMatrix", "Verdict", "evaluate", "reachability"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
