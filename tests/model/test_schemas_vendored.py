"""The CRD schemas shipped in the package are exactly Calico's (from ../shared/calico, when it is present)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "calico"


@pytest.mark.skipif(not (SHARED / "v3" / "calico-v3-crds.yaml").is_file(), reason="../shared/calico not beside this clone")
def test_vendored_schemas_match_shared_crds() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from vendor_schemas import extract
    finally:
        sys.path.pop(0)
    expected = extract(SHARED / "v3" / "calico-v3-crds.yaml")
    folder = ROOT / "calicotool" / "model" / "schemas"
    assert len(expected) >= 20
    for kind, schema in expected.items():
        assert json.loads((folder / f"{kind}.json").read_text()) == schema, kind


def test_every_calico_kind_has_a_schema() -> None:
    from calicotool.model.kinds import KINDS
    from calicotool.model.schema import raw_schema

    missing = [name for name in KINDS if raw_schema(name) is None]
    assert missing == []
