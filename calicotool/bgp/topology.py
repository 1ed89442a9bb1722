"""Topology files (YAML) -> ClusterState, with every problem located by line; and the reverse, for writing them.

Format (all keys but `nodes[].name` optional)::

    kind: Topology
    name: small-3zone
    now: 2026-01-01T12:00:00Z        # the instant damping is measured against (default: the caller's clock)
    asNumber: 64512
    nodeToNodeMesh: true             # current BGPConfiguration.nodeToNodeMeshEnabled
    zoneLabel: topology.kubernetes.io/zone   # where to read zone/rack from when a node has no zone/rack key
    nodes:
      - name: node-1
        zone: a
        rack: a1
        labels: {rr.calicotool.io/g1: client}   # the current RR layout, as calicotool labels it
        bgp: {ipv4Address: 10.0.0.1/24, asNumber: 64512, routeReflectorClusterID: 244.0.0.1}
        ready: true
        readySince: 2026-01-01T00:00:00Z
        unschedulable: false
        taints: [{key: node.kubernetes.io/not-ready, effect: NoSchedule}]
        deleting: false
    bgpPeers:                        # BGPPeers that exist and are not calicotool's (ToR, hand-made)
      - {name: tor, peerIP: 192.0.2.1, asNumber: 65001}
      - {name: to-handmade-rr, nodeSelector: all(), peerSelector: "rr-handmade == 'true'"}
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from calicotool.bgp.state import (
    DEFAULT_AS_NUMBER,
    DEFAULT_RACK_LABEL,
    DEFAULT_ZONE_LABEL,
    BgpNode,
    ClusterState,
    ExternalPeering,
    Taint,
)
from calicotool.errors import InputError, Location, ValidationFailed
from calicotool.model import yamlio

_TOP_KEYS = {"apiVersion", "kind", "name", "now", "asNumber", "nodeToNodeMesh", "zoneLabel", "rackLabel", "nodes",
             "description", "bgpPeers"}
_PEER_KEYS = {"name", "nodeSelector", "peerSelector", "node", "peerIP", "asNumber"}
_NODE_KEYS = {"name", "zone", "rack", "labels", "bgp", "ready", "readySince", "unschedulable", "taints", "deleting"}
_BGP_KEYS = {"ipv4Address", "asNumber", "routeReflectorClusterID"}


class _Doc:
    """Parsed YAML plus the line of every path, so errors can say where they are."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.lines: dict[tuple[Any, ...], int] = {}
        try:
            node, self.data = yamlio.load_single(text, file)  # also refuses alias bombs, nesting, duplicate keys
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            ctx = getattr(exc, "context_mark", None)
            context = getattr(exc, "context", None)
            extra = f" ({context} at line {ctx.line + 1})" if ctx is not None and context else ""
            msg = f"not valid YAML: {getattr(exc, 'problem', None) or exc}{extra}"
            raise InputError(msg, Location(file=file, line=line)) from exc
        if node is not None:
            self._index(node, ())

    def _index(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._index(value, (*path, key.value))
                self.lines[(*path, key.value, "<key>")] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, (*path, i))

    def where(self, path: tuple[Any, ...]) -> Location:
        probe = path
        while probe and probe not in self.lines:
            probe = probe[:-1]
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return Location(file=self.file, line=self.lines.get(probe), field=field or None)


def load_topology(path: str | Path, now: datetime | None = None) -> ClusterState:
    """Read a topology file. All problems are reported at once (ValidationFailed, exit 2)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read topology: {exc.strerror}", Location(file=str(p))) from exc
    except UnicodeDecodeError:
        raise InputError("cannot read topology: not UTF-8 text", Location(file=str(p))) from None
    return parse_topology(text, str(p), now)


def parse_topology(text: str, file: str = "<topology>", now: datetime | None = None) -> ClusterState:
    doc = _Doc(text, file)
    errors: list[InputError] = []

    def err(path: tuple[Any, ...], msg: str) -> None:
        errors.append(InputError(msg, doc.where(path)))

    data = doc.data
    if not isinstance(data, dict):
        raise InputError("a topology is a mapping with a `nodes` list", Location(file=file, line=1))
    for key in sorted(set(data) - _TOP_KEYS, key=str):
        err((key,), f"unknown key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    if data.get("kind", "Topology") != "Topology":
        err(("kind",), f"kind must be Topology, got {data.get('kind')!r}")
    as_number = _int(data.get("asNumber", DEFAULT_AS_NUMBER), ("asNumber",), err) or DEFAULT_AS_NUMBER
    mesh = _bool(data.get("nodeToNodeMesh", True), ("nodeToNodeMesh",), err)
    zone_label = str(data.get("zoneLabel") or DEFAULT_ZONE_LABEL)
    rack_label = str(data.get("rackLabel") or DEFAULT_RACK_LABEL)
    when = _time(data.get("now"), ("now",), err) if data.get("now") is not None else None
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        err(("nodes",), "`nodes` must be a non-empty list")
        raw_nodes = []
    nodes: list[BgpNode] = []
    seen: dict[str, int] = {}
    addresses: dict[str, str] = {}
    for i, raw in enumerate(raw_nodes):
        node = _node(raw, ("nodes", i), err, zone_label, rack_label)
        if node is None:
            continue
        if node.name in seen:
            err(("nodes", i, "name"), f"duplicate node name {node.name!r} (first at nodes[{seen[node.name]}])")
            continue
        seen[node.name] = i
        if node.address and node.address in addresses:
            err(("nodes", i, "bgp", "ipv4Address"), f"address {node.address} already used by {addresses[node.address]}")
        elif node.address:
            addresses[node.address] = node.name
        nodes.append(node)
    peers = _peers(data.get("bgpPeers") or [], err)
    if errors:
        raise ValidationFailed(errors)
    return ClusterState(
        nodes=tuple(nodes),
        now=when or now or datetime.now(UTC),
        as_number=as_number,
        mesh_enabled=bool(mesh),
        external_peers=tuple(peers),
        source=file,
    )


def _peers(raw: Any, err: Any) -> list[ExternalPeering]:
    from calicotool.selector import SelectorError, parse

    if not isinstance(raw, list):
        err(("bgpPeers",), "bgpPeers must be a list")
        return []
    out = []
    for i, p in enumerate(raw):
        path: tuple[Any, ...] = ("bgpPeers", i)
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            err(path, "a BGP peer is a mapping with a string `name`")
            continue
        for key in sorted(set(p) - _PEER_KEYS, key=str):
            err((*path, key), f"unknown BGP peer key {key!r} (known: {', '.join(sorted(_PEER_KEYS))})")
        for key in ("nodeSelector", "peerSelector"):
            if p.get(key) is not None:
                try:
                    parse(str(p[key]))
                except SelectorError as exc:
                    err((*path, key), f"bad selector: {exc.message}")
        if p.get("peerIP") is not None:
            try:
                ipaddress.ip_address(str(p["peerIP"]))
            except ValueError:
                err((*path, "peerIP"), f"not an IP address: {p['peerIP']!r}")
        if not p.get("peerSelector") and not p.get("peerIP"):
            err(path, "a BGP peer needs peerSelector or peerIP")
        asn = _int(p["asNumber"], (*path, "asNumber"), err) if "asNumber" in p else None
        out.append(ExternalPeering(str(p["name"]), p.get("nodeSelector"), p.get("peerSelector"), p.get("node"),
                                   str(p["peerIP"]) if p.get("peerIP") else None, asn))
    return out


def _node(raw: Any, path: tuple[Any, ...], err: Any, zone_label: str, rack_label: str) -> BgpNode | None:
    if not isinstance(raw, dict):
        err(path, "each node is a mapping with at least `name`")
        return None
    for key in sorted(set(raw) - _NODE_KEYS, key=str):
        err((*path, key), f"unknown node key {key!r} (known: {', '.join(sorted(_NODE_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        err((*path, "name"), "node needs a non-empty string `name`")
        return None
    labels = raw.get("labels") or {}
    if not isinstance(labels, dict):
        err((*path, "labels"), "labels must be a mapping of strings")
        labels = {}
    labels = {str(k): str(v) for k, v in labels.items()}
    bgp = raw.get("bgp") or {}
    if not isinstance(bgp, dict):
        err((*path, "bgp"), "bgp must be a mapping")
        bgp = {}
    for key in sorted(set(bgp) - _BGP_KEYS, key=str):
        err((*path, "bgp", key), f"unknown bgp key {key!r} (known: {', '.join(sorted(_BGP_KEYS))})")
    ipv4 = bgp.get("ipv4Address")
    if ipv4 is not None:
        try:
            ipaddress.IPv4Interface(str(ipv4))
        except ValueError:
            err((*path, "bgp", "ipv4Address"), f"not an IPv4 address: {ipv4!r}")
            ipv4 = None
    cid = bgp.get("routeReflectorClusterID")
    if cid is not None:
        try:
            ipaddress.IPv4Address(str(cid))
        except ValueError:
            err((*path, "bgp", "routeReflectorClusterID"), f"cluster ID must be an IPv4 address, got {cid!r}")
            cid = None
    taints = []
    for j, t in enumerate(raw.get("taints") or []):
        if not isinstance(t, dict) or not isinstance(t.get("key"), str):
            err((*path, "taints", j), "a taint is a mapping with a string `key`")
            continue
        taints.append(Taint(t["key"], str(t.get("effect", "NoSchedule")), str(t.get("value", ""))))
    since = raw.get("readySince")
    return BgpNode(
        name=name,
        zone=str(raw.get("zone", labels.get(zone_label, "")) or ""),
        rack=str(raw.get("rack", labels.get(rack_label, "")) or ""),
        labels=labels,
        ipv4=str(ipv4) if ipv4 is not None else None,
        as_number=_int(bgp.get("asNumber"), (*path, "bgp", "asNumber"), err) if "asNumber" in bgp else None,
        ready=_bool(raw.get("ready", True), (*path, "ready"), err),
        ready_since=_time(since, (*path, "readySince"), err) if since is not None else None,
        unschedulable=_bool(raw.get("unschedulable", False), (*path, "unschedulable"), err),
        taints=tuple(taints),
        deleting=_bool(raw.get("deleting", False), (*path, "deleting"), err),
        cluster_id=str(cid) if cid is not None else None,
    )


def _int(value: Any, path: tuple[Any, ...], err: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**32:
        err(path, f"must be an AS number (1..4294967295), got {value!r}")
        return None
    return value


def _bool(value: Any, path: tuple[Any, ...], err: Any) -> bool:
    if not isinstance(value, bool):
        err(path, f"must be true or false, got {value!r}")
        return False
    return value


def _time(value: Any, path: tuple[Any, ...], err: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    err(path, f"must be an RFC 3339 timestamp, got {value!r}")
    return None


def topology_document(state: ClusterState, name: str = "") -> dict[str, Any]:
    """The topology-file form of a ClusterState (what `rr topology generate` writes)."""
    doc: dict[str, Any] = {"kind": "Topology"}
    if name:
        doc["name"] = name
    doc.update({"now": _fmt(state.now), "asNumber": state.as_number, "nodeToNodeMesh": state.mesh_enabled})
    nodes = []
    for n in state.nodes:
        d: dict[str, Any] = {"name": n.name, "zone": n.zone, "rack": n.rack}
        if n.labels:
            d["labels"] = dict(sorted(n.labels.items()))
        bgp = n.bgp_spec()
        if bgp:
            d["bgp"] = bgp
        d["ready"] = n.ready
        if n.ready_since:
            d["readySince"] = _fmt(n.ready_since)
        for key, val in (("unschedulable", n.unschedulable), ("deleting", n.deleting)):
            if val:
                d[key] = True
        if n.taints:
            d["taints"] = [{"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})}
                           for t in n.taints]
        nodes.append(d)
    doc["nodes"] = nodes
    if state.external_peers:
        doc["bgpPeers"] = [
            {k: v for k, v in (("name", p.name), ("nodeSelector", p.node_selector), ("peerSelector", p.peer_selector),
                               ("node", p.node), ("peerIP", p.peer_ip), ("asNumber", p.as_number)) if v is not None}
            for p in state.external_peers
        ]
    return doc


def _fmt(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
