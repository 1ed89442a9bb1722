#!/usr/bin/env python3
"""Extract each Calico kind's openAPIV3Schema from Calico's CRD manifests into calicotool/model/schemas/.

The CRDs are data published by the Calico project (Apache-2.0); CI checks the vendored copy matches
../shared/calico (tests/model/test_schemas.py). Usage: python scripts/vendor_schemas.py [SHARED_CALICO_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "calicotool" / "model" / "schemas"


def extract(crd_file: Path) -> dict[str, dict]:
    schemas: dict[str, dict] = {}
    for doc in yaml.safe_load_all(crd_file.read_text()):
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        if spec.get("group") != "projectcalico.org":
            continue
        for version in spec["versions"]:
            if version.get("name") == "v3" and "schema" in version:
                schemas[spec["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    return schemas


def main() -> int:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "calico"
    schemas = extract(shared / "v3" / "calico-v3-crds.yaml")
    OUT.mkdir(parents=True, exist_ok=True)
    for kind, schema in sorted(schemas.items()):
        (OUT / f"{kind}.json").write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(schemas)} schemas to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
