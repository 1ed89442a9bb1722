"""Planner options and their validation (bad values are InputError, exit 2)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from calicotool.bgp.eligibility import EligibilityRules
from calicotool.errors import InputError, Location


@dataclass(frozen=True)
class PlanOptions:
    """How many reflectors, how clients attach to them, and who may be one.

    Ratio mode: reflectors per zone = clamp(ceil(eligible_in_zone * ratio), min_per_zone, max_per_zone).
    Budget mode (`budget` set): enough reflectors that no reflector carries more than `budget` sessions, spread
    over zones in proportion to their eligible nodes and still clamped per zone.
    """

    ratio: float = 0.02
    min_per_zone: int = 1
    max_per_zone: int = 10
    k: int = 2  # reflectors per client (the size of a reflector group)
    budget: int | None = None  # max BGP sessions per reflector (budget mode)
    max_imbalance: float = 0.25  # a group may hold this much more than the mean number of clients
    hysteresis: float = 0.1  # keep existing reflectors while the formula is within this fraction of needing them
    rules: EligibilityRules = field(default_factory=EligibilityRules)

    def validate(self) -> None:
        def bad(name: str, msg: str) -> InputError:
            return InputError(msg, Location(field=name))

        if not (0.0 < self.ratio <= 1.0):
            raise bad("--ratio", f"ratio must be in (0, 1], got {self.ratio}")
        if self.min_per_zone < 0:
            raise bad("--min", f"min must be >= 0, got {self.min_per_zone}")
        if self.max_per_zone < 1:
            raise bad("--max", f"max must be >= 1, got {self.max_per_zone}")
        if self.min_per_zone > self.max_per_zone:
            raise bad("--min", f"min ({self.min_per_zone}) is larger than max ({self.max_per_zone})")
        if self.k < 1:
            raise bad("--k", f"k must be >= 1, got {self.k}")
        if self.budget is not None and self.budget < 2:
            raise bad("--budget", f"budget (sessions per reflector) must be >= 2, got {self.budget}")
        if not 0.0 <= self.hysteresis <= 1.0:
            raise bad("--hysteresis", f"hysteresis must be in [0, 1], got {self.hysteresis}")
        if self.max_imbalance < 0:
            raise bad("--max-imbalance", f"max imbalance must be >= 0, got {self.max_imbalance}")
        if self.rules.damping_seconds < 0 or self.rules.demote_after_seconds < 0:
            raise bad("--damping", "damping and demote-after must be >= 0")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, option: str) -> float:
    """`300`, `300s`, `5m`, `1h30m`, `0.5s` -> seconds. InputError (located at `option`) otherwise."""
    s = text.strip().lower()
    if not s:
        raise InputError(f"empty duration for {option}", Location(field=option))
    total, num = 0.0, ""
    try:
        for ch in s:
            if ch.isdigit() or ch == ".":
                num += ch
            elif ch in _UNITS and num:
                total += float(num) * _UNITS[ch]
                num = ""
            else:
                raise ValueError(ch)
        if num:
            total += float(num)
    except ValueError:
        raise InputError(f"bad duration {text!r} for {option} (use e.g. 30s, 5m, 1h)", Location(field=option)) from None
    return total


def stable_key(name: str) -> str:
    """A deterministic, well-spread sort key for a node name (spreads picks without favouring name order)."""
    return hashlib.blake2b(name.encode(), digest_size=8).hexdigest()


CLUSTER_ID_BASE = (244 << 24)  # 244.0.0.0/16: the range Calico's docs use for cluster IDs; no real routing


def cluster_id_for(index: int) -> str:
    """The cluster ID of group `g<index>`: injective, so two groups never share one (index 1..65535)."""
    if not 1 <= index <= 0xFFFF:
        raise InputError(f"route-reflector group index {index} is out of range 1..65535")
    value = CLUSTER_ID_BASE + index
    return ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0))


def group_name(index: int) -> str:
    return f"g{index}"


def group_index(name: str) -> int | None:
    """`g12` -> 12; None for anything calicotool did not name."""
    if len(name) > 1 and name[0] == "g" and name[1:].isdigit() and not name[1:].startswith("0"):
        return int(name[1:])
    return None
