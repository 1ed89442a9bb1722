"""How Calico names tiered policies, by Calico version (pure; table-tested in tests/model/test_policy_names.py).

Up to Calico 3.31 a policy's identity carried its tier: outside the default tier a policy must be named
`<tier>.<name>`, and in the default tier the stored object (the crd.projectcalico.org/v1 CR, the etcd key) is
`default.<name>` even when the v3 name is `<name>`. From 3.32 (Calico PR "remove tier prefixing restriction") a
policy is identified by kind, namespace and name alone: the name is stored as given in every tier, and the tier
lives only in `spec.tier`. Names Calico generates for translated policies (`knp.default.*`, ...) are never touched.

Which rule applies is the datastore's Calico version (ClusterInformation `calicoVersion`). When a datastore
reports none (no calico-node has run yet), calicotool assumes DEFAULT_CALICO_VERSION — the Calico release whose
schemas it vendors — and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from calicotool.errors import InputError

POLICY_KINDS = frozenset({"NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy", "StagedGlobalNetworkPolicy"})
PREFORMATTED = ("knp.default.", "kcnp.kube-admin.", "kcnp.kube-baseline.", "ossg.")
DEFAULT_CALICO_VERSION = "3.32"
PLAIN_NAMES_SINCE = (3, 32)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:[.\-+].*)?$")


def parse_calico_version(text: str) -> tuple[int, int] | None:
    """(major, minor) of `v3.32.1`, `3.31`, `v3.30.0-0.dev`; None when `text` is no version."""
    match = _VERSION.match(text.strip()) if text else None
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class PolicyNaming:
    """The naming rule of one Calico version; `detected` says whether the datastore reported that version."""

    version: tuple[int, int]
    detected: bool = True

    @property
    def tiered(self) -> bool:
        """True for Calico <= 3.31: names carry their tier."""
        return self.version < PLAIN_NAMES_SINCE

    @property
    def label(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    def describe(self) -> str:
        rule = "'<tier>.<name>' policy names" if self.tiered else "policy names as given"
        origin = "reported by the datastore" if self.detected else "assumed: the datastore reports no Calico version"
        return f"Calico {self.label} ({origin}): {rule}"

    def check(self, kind: str, name: str, spec: dict[str, Any]) -> None:
        """Raise InputError when `name` breaks this version's rule for a policy in `spec.tier`."""
        if not self.tiered or kind not in POLICY_KINDS or name.startswith(PREFORMATTED):
            return
        tier = str(spec.get("tier") or "default")
        if tier != "default" and not name.startswith(f"{tier}."):
            raise InputError(
                f"{kind} {name!r} is in tier {tier!r}: Calico {self.label} needs its name to start with {tier + '.'!r} "
                f"(names are plain from Calico 3.32)"
            )
        if tier == "default" and "." in name and not name.startswith("default."):
            raise InputError(f"{kind} {name!r} is in the default tier: on Calico {self.label} a dotted name must "
                             f"start with 'default.'")

    def storage_name(self, kind: str, name: str) -> str:
        """The name of the stored object (v1 CR or etcd key) for the v3 policy `name`. From 3.32 `default.<name>`
        is the same policy as `<name>` (Calico reads pre-3.32 objects that way), so it is stored as `<name>`."""
        if kind not in POLICY_KINDS or not name or name.startswith(PREFORMATTED):
            return name
        if not self.tiered:
            rest = name[len("default."):] if name.startswith("default.") else ""
            return rest if rest and "." not in rest else name
        return name if "." in name else f"default.{name}"


def naming_for(calico_version: str | None) -> PolicyNaming:
    """The rule for a reported version (`v3.31.2`); the documented default when there is none or it is unreadable."""
    parsed = parse_calico_version(calico_version or "")
    if parsed is None:
        return PolicyNaming(parse_calico_version(DEFAULT_CALICO_VERSION) or PLAIN_NAMES_SINCE, detected=False)
    return PolicyNaming(parsed)


def choose_calico_version(explicit: str | None, reported: str | None) -> tuple[str, str | None]:
    """The Calico MAJOR.MINOR to generate policy for when writing to a datastore, and a note to show the user.

    The datastore's reported version wins; an explicit --calico-version that names another naming rule than the
    datastore's is an InputError (raised before anything is written); with neither, DEFAULT_CALICO_VERSION."""
    detected = naming_for(reported)
    if explicit is not None:
        wanted = parse_calico_version(explicit)
        if wanted is None:
            raise InputError(f"--calico-version {explicit!r}: expected MAJOR.MINOR, e.g. 3.31")
        if detected.detected and PolicyNaming(wanted).tiered != detected.tiered:
            raise InputError(
                f"--calico-version {explicit} contradicts the datastore, which runs Calico {reported} "
                f"({'<tier>.<name> policy names' if detected.tiered else 'plain policy names'}): omit --calico-version "
                f"to target the datastore's version"
            )
        return explicit, None
    if detected.detected:
        return detected.label, None
    return detected.label, (f"the datastore reports no Calico version (no ClusterInformation 'default' yet): "
                            f"generating for Calico {DEFAULT_CALICO_VERSION}, the default; pass --calico-version to choose")
