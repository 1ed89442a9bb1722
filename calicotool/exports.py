"""Package surfaces that cost nothing to import: `from calicotool.policy import load_ruleset` loads only the
module that defines it (PEP 562), so `import calicotool.policy.spec` does not drag in jinja2 or networkx."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """A module-level ``__getattr__`` resolving each exported name from its defining module on first use.
    `exports` maps name -> module path relative to `package` (e.g. ``"loader"``)."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
