"""The Calico version a datastore reports: ClusterInformation `default` spec.calicoVersion, written by calico-node."""

from __future__ import annotations

from calicotool.datastore.base import Store
from calicotool.errors import NotFound


def reported_calico_version(store: Store) -> str | None:
    """`v3.32.1` or similar; None when no calico-node has written ClusterInformation yet (or on a GitOps dir)."""
    try:
        version = store.get("ClusterInformation", "default").spec.get("calicoVersion")
    except NotFound:
        return None
    return str(version) if version else None
