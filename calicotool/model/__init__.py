"""Calico v3 resources as typed values, their kinds, loading and validation. No I/O except reading input files."""

from calicotool.model.kinds import KINDS, KindInfo, kind_info
from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Resource, ResourceKey

__all__ = ["KINDS", "KindInfo", "kind_info", "Resource", "ResourceKey", "MANAGED_BY_LABEL", "MANAGED_BY_VALUE"]
