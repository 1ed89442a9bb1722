"""AWS `aws ec2 describe-security-groups` JSON -> rule set.

Each security group becomes a label group (members carry the label `security-groups.aws/<group-id>`) with a
policy of its allow rules and a default deny in both directions, which is how a security group behaves:
stateful, allow-only, union of all groups on an instance (separate policies, default deny ordered last).
CIDRs become nets groups (NetworkSets). Prefix lists and cross-account references are reported.
"""

from __future__ import annotations

from typing import Any

from calicotool.errors import InputError
from calicotool.policy.importers.builder import ImportResult, RuleSetBuilder, dns_label

LABEL_PREFIX = "security-groups.aws"
PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "icmp": "ICMP", "icmpv6": "ICMPv6", "sctp": "SCTP",
             "6": "TCP", "17": "UDP", "1": "ICMP", "58": "ICMPv6", "132": "SCTP"}


def _sg_group(b: RuleSetBuilder, group_id: str, name: str = "", description: str = "") -> str:
    definition = {"selector": f"has({LABEL_PREFIX}/{group_id})", "namespace": "*",
                  "description": f"AWS security group {group_id}{' (' + name + ')' if name else ''}"
                                 f"{': ' + description if description else ''}; label members "
                                 f"{LABEL_PREFIX}/{group_id}=member"}
    return b.group(("sg", group_id), name or group_id, definition)


def _protocol_and_ports(perm: dict[str, Any], where: str, b: RuleSetBuilder) -> dict[str, Any] | None:
    proto = str(perm.get("IpProtocol", "-1")).lower()
    if proto in ("-1", "all"):
        return {}
    out: dict[str, Any] = {}
    name = PROTOCOLS.get(proto)
    if name is None:
        if not proto.isdigit() or not 1 <= int(proto) <= 255:
            b.notes.append(f"{where}: protocol {proto!r} not understood; rule skipped")
            return None
        out["protocol"] = int(proto)
        return out
    out["protocol"] = name
    lo, hi = perm.get("FromPort"), perm.get("ToPort")
    if name in ("ICMP", "ICMPv6"):
        if lo is not None and int(lo) >= 0:
            out["icmp"] = {"type": int(lo)}
            if hi is not None and int(hi) >= 0:
                out["icmp"]["code"] = int(hi)
        return out
    if lo is None or hi is None or (int(lo) <= 1 and int(hi) >= 65535) or int(lo) < 0:
        return out
    if int(lo) == 0:
        lo = 1
    out["ports"] = [int(lo)] if lo == hi else [f"{int(lo)}:{int(hi)}"]
    return out


def _peers(b: RuleSetBuilder, perm: dict[str, Any], where: str, account: str) -> tuple[list[str], str]:
    peers: list[str] = []
    descriptions: list[str] = []
    for r in perm.get("IpRanges") or []:
        peers.append(b.cidr_group(r["CidrIp"]))
        descriptions.append(r.get("Description", ""))
    for r in perm.get("Ipv6Ranges") or []:
        peers.append(b.cidr_group(r["CidrIpv6"]))
        descriptions.append(r.get("Description", ""))
    for pair in perm.get("UserIdGroupPairs") or []:
        if pair.get("UserId") and account and pair["UserId"] != account or pair.get("VpcPeeringConnectionId"):
            b.notes.append(f"{where}: security group {pair.get('GroupId')} belongs to another account or peered VPC; "
                           "imported as a label group, which only matches pods labelled for it")
        peers.append(_sg_group(b, pair["GroupId"], pair.get("GroupName", "")))
        descriptions.append(pair.get("Description", ""))
    for pl in perm.get("PrefixListIds") or []:
        b.notes.append(f"{where}: prefix list {pl.get('PrefixListId')} cannot be expressed (resolve it to CIDRs "
                       "with `aws ec2 get-managed-prefix-list-entries` and add a nets group)")
    return peers, "; ".join(d for d in descriptions if d)


def import_aws(data: Any, namespace: str = "default") -> ImportResult:
    if not isinstance(data, dict) or not isinstance(data.get("SecurityGroups"), list):
        raise InputError("expected the JSON of `aws ec2 describe-security-groups` (a SecurityGroups list)")
    b = RuleSetBuilder("aws-security-groups", namespace)
    for sg in data["SecurityGroups"]:  # name every group in the export first, so references use those names
        if sg.get("GroupId"):
            _sg_group(b, sg["GroupId"], sg.get("GroupName", ""), sg.get("Description", ""))
    for sg in data["SecurityGroups"]:
        group_id = sg.get("GroupId")
        if not group_id:
            raise InputError("a security group without GroupId")
        account = str(sg.get("OwnerId", ""))
        target = _sg_group(b, group_id, sg.get("GroupName", ""), sg.get("Description", ""))
        b.add_default_deny(target, ["ingress", "egress"])
        policy: dict[str, Any] = {"name": dns_label(f"sg-{sg.get('GroupName') or group_id}"), "appliesTo": target,
                                  "description": f"from AWS security group {group_id}", "ingress": [], "egress": []}
        for direction, key, side in (("ingress", "IpPermissions", "from"), ("egress", "IpPermissionsEgress", "to")):
            for i, perm in enumerate(sg.get(key) or []):
                where = f"{group_id} {key}[{i}]"
                match = _protocol_and_ports(perm, where, b)
                peers, description = _peers(b, perm, where, account)
                if match is None or not peers:
                    continue
                rule: dict[str, Any] = {"action": "Allow", side: peers, **match}
                if description:
                    rule["description"] = description
                policy[direction].append(rule)
        for direction in ("ingress", "egress"):
            if not policy[direction]:
                del policy[direction]
        if "ingress" in policy or "egress" in policy:
            b.policy(policy)
    return b.result()
