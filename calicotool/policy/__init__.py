"""Firewall rule sets -> Calico resources: spec, overlays, compile, generate, lint, importers. (Evaluation --
explain, matrix, PolicySet, Flow -- is the `calicotool.evaluate` package.)

Public surface (everything else is internal and may move)::

    load_ruleset(paths, env=None) -> RuleSet                  # read + validate rule-set files (located errors)
    render_ruleset(rs, calico_version="3.32", staged=False) -> list[Resource]
    generate_resources(paths, env=None, calico_version="3.32", staged=False) -> list[Resource]
    output_files(resources, ruleset="", env=None) -> dict[str, str]   # the GitOps directory, as text
    write_output_dir(out_dir, files) -> (changed, removed)    # the one writer of that directory
    plan_ruleset(current, resources, ruleset, prune) -> (ApplyPlan, owned)   # pure; never prunes others' objects
    lint_ruleset(rs, known=None) -> list[Finding]
    Endpoint, EndpointKind
    import_file(source, path, namespace="default") -> ImportResult   # aws | gcp | k8s exports -> rule set

Names resolve lazily: importing this package loads none of the modules above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calicotool.exports import lazy_exports

if TYPE_CHECKING:
    from calicotool.policy.endpoint import Endpoint, EndpointKind
    from calicotool.policy.generate import generate_resources, output_files, render_ruleset
    from calicotool.policy.importers import import_file
    from calicotool.policy.lint import Finding, lint_ruleset
    from calicotool.policy.loader import load_ruleset
    from calicotool.policy.output_dir import write_output_dir
    from calicotool.policy.ownership import plan_ruleset
    from calicotool.policy.spec import RuleSet

_EXPORTS = {
    "Endpoint": "endpoint", "EndpointKind": "endpoint", "generate_resources": "generate", "output_files": "generate",
    "render_ruleset": "generate", "import_file": "importers", "Finding": "lint", "lint_ruleset": "lint",
    "load_ruleset": "loader", "write_output_dir": "output_dir", "plan_ruleset": "ownership", "RuleSet": "spec",
}
__all__ = [
    "Endpoint",
    "EndpointKind",
    "Finding",
    "RuleSet",
    "generate_resources",
    "import_file",
    "lint_ruleset",
    "load_ruleset",
    "output_files",
    "plan_ruleset",
    "render_ruleset",
    "write_output_dir",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
