"""Which policies could select an endpoint, without scanning them all: an index on label equalities.

Each policy is filed under one label key its selector requires (`required_equalities()`: the label must hold one
of a few values), choosing the key with the fewest values. Policies with no such key are always candidates.
Candidates are then checked with the full selector, so the index only prunes: results equal a naive scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from calicotool.evaluate.entities import NS_LABEL
from calicotool.evaluate.policies import CompiledPolicy


class PolicyIndex:
    def __init__(self, policies: Sequence[CompiledPolicy]) -> None:
        self._by_label: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._always: list[int] = []
        self.never = 0  # policies whose selector can never match (contradictions)
        for i, pol in enumerate(policies):
            keys = pol.index_keys
            if not keys:
                self._always.append(i)
                continue
            # fewest values first; the namespace label last among equals (it is shared by many policies)
            key = min(keys, key=lambda k: (len(keys[k]), k == NS_LABEL, k))
            values = keys[key]
            if not values:
                self.never += 1
                continue
            for value in values:
                self._by_label[(key, value)].append(i)

    @property
    def unindexed(self) -> int:
        return len(self._always)

    def candidates(self, labels: Mapping[str, str]) -> list[int]:
        """Positions (in the policy list) of policies that may select an endpoint with these labels, sorted."""
        found: set[int] = set(self._always)
        by_label = self._by_label
        for item in labels.items():
            hit = by_label.get(item)
            if hit:
                found.update(hit)
        return sorted(found)
