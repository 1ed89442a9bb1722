"""Each package's documented surface resolves, and importing a package stays cheap (names load lazily)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["calicotool.policy", "calicotool.evaluate", "calicotool.bgp", "calicotool.lab", "calicotool.model",
            "calicotool.datastore", "calicotool.selector"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    mod = importlib.import_module(package)
    assert mod.__all__, package
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{package}.{name}"
    with pytest.raises(AttributeError):
        mod.no_such_name  # noqa: B018


def test_package_imports_load_no_heavy_dependencies() -> None:
    code = ("import sys, calicotool.policy, calicotool.evaluate, calicotool.bgp, calicotool.lab; "
            "print(sorted(m for m in ('jinja2', 'jsonschema', 'networkx', 'pyroute2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
