"""HostEndpoint specifics: Felix failsafe ports and endpoint profiles.

Failsafe defaults (Felix FailsafeInboundHostPorts / FailsafeOutboundHostPorts, Calico docs "Failsafe rules"):
inbound TCP 22, 179, 2379, 2380, 5473, 6443, 6666, 6667 and UDP 68; outbound TCP 179, 2379, 2380, 5473, 6443,
6666, 6667 and UDP 53, 67. They are open on every host endpoint whatever the policy says; a FelixConfiguration
named `default` may replace them (an empty list disables them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from calicotool.errors import InputError
from calicotool.evaluate.entities import IPNet, parse_net
from calicotool.evaluate.model import Direction
from calicotool.evaluate.policies import MatchContext
from calicotool.evaluate.rules import protocol_name, protocol_number
from calicotool.policy.endpoint import Endpoint, EndpointKind

DEFAULT_ALLOW_PROFILE = "projectcalico-default-allow"


@dataclass(frozen=True)
class FailsafePort:
    protocol: int
    port: int
    net: IPNet | None = None  # inbound: the source must be inside; outbound: the destination

    def __str__(self) -> str:
        return f"{self.port}/{protocol_name(self.protocol)}" + (f" ({self.net})" if self.net else "")


def _ports(proto: int, ports: Sequence[int]) -> list[FailsafePort]:
    return [FailsafePort(proto, p) for p in ports]


DEFAULT_FAILSAFE_INBOUND = _ports(6, [22, 179, 2379, 2380, 5473, 6443, 6666, 6667]) + _ports(17, [68])
DEFAULT_FAILSAFE_OUTBOUND = _ports(17, [53, 67]) + _ports(6, [179, 2379, 2380, 5473, 6443, 6666, 6667])


def parse_failsafes(values: object, where: str) -> list[FailsafePort]:
    if values in ("none", None):
        return []
    if not isinstance(values, list):
        raise InputError(f"{where}: must be a list of {{protocol, port, net}}")
    out = []
    for i, item in enumerate(values):
        if not isinstance(item, dict) or "port" not in item:
            raise InputError(f"{where}[{i}]: needs at least a port")
        net = parse_net(item["net"], f"{where}[{i}].net: ") if item.get("net") else None
        out.append(FailsafePort(protocol_number(item.get("protocol", "TCP"), f"{where}[{i}]: "), int(item["port"]), net))
    return out


def failsafes_from_config(spec: dict[str, Any] | None) -> tuple[list[FailsafePort], list[FailsafePort]]:
    """Failsafe lists from FelixConfiguration `default` (Calico's defaults where a field is unset)."""
    spec = spec or {}
    inbound = (parse_failsafes(spec["failsafeInboundHostPorts"], "FelixConfiguration default: failsafeInboundHostPorts")
               if "failsafeInboundHostPorts" in spec else list(DEFAULT_FAILSAFE_INBOUND))
    outbound = (parse_failsafes(spec["failsafeOutboundHostPorts"], "FelixConfiguration default: failsafeOutboundHostPorts")
                if "failsafeOutboundHostPorts" in spec else list(DEFAULT_FAILSAFE_OUTBOUND))
    return inbound, outbound


def failsafe_match(rules: Sequence[FailsafePort], ctx: MatchContext, direction: Direction) -> FailsafePort | None:
    peer_ip = ctx.src_ip if direction is Direction.INGRESS else ctx.dst_ip
    for fs in rules:
        if fs.protocol != ctx.protocol or fs.port != ctx.port:
            continue
        if fs.net is not None and (peer_ip is None or peer_ip.version != fs.net.version or peer_ip not in fs.net):
            continue
        return fs
    return None


def profiles_for(ep: Endpoint) -> tuple[str, ...]:
    """An endpoint's profiles: explicit ones, else what Calico's Kubernetes integration assigns to a pod."""
    if ep.profiles:
        return ep.profiles
    if ep.kind is EndpointKind.POD and ep.namespace:
        sa = (f"ksa.{ep.namespace}.{ep.service_account}",) if ep.service_account else ()
        return (f"kns.{ep.namespace}",) + sa
    return ()


def profile_allows(name: str) -> bool:
    """Namespace profiles (kns.*) and projectcalico-default-allow allow everything; ksa.* profiles carry only
    labels; other profiles are not modelled and treated as having no rules."""
    return name == DEFAULT_ALLOW_PROFILE or name.startswith("kns.")
