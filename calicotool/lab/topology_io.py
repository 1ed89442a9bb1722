"""Lab topology files (``kind: LabTopology``) <-> `LabTopology`, with located errors.

    kind: LabTopology
    pool: 10.244.0.0/16            # optional
    underlay: 192.168.128.0/17     # optional
    mesh: true                     # optional; default: true unless some node lists peers
    nodes:
    - name: a
      routerIP: 192.168.128.1      # optional: the next free underlay address
      asn: 64512                   # optional
      blocks: [10.244.0.0/26]      # optional: the next free /26 of the pool
      rrClusterID: 244.0.0.1       # optional: makes the node a route reflector
      peers: [{node: b}]           # optional; the other end is added; rrClient follows confd's rule

Sessions are made symmetric and ``rr client`` follows `calico_rr_client` unless a peer says ``rrClient``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from calicotool.errors import InputError, Location
from calicotool.lab.topology import (
    DEFAULT_ASN,
    DEFAULT_POOL,
    DEFAULT_UNDERLAY,
    LabNode,
    LabPeer,
    LabTopology,
    block_for,
    calico_rr_client,
    underlay_address,
    validate_topology,
)
from calicotool.model import yamlio

KIND = "LabTopology"


def topology_to_dict(topo: LabTopology) -> dict[str, Any]:
    names = {n.router_ip: n.name for n in topo.nodes}
    nodes = []
    for n in topo.nodes:
        entry: dict[str, Any] = {"name": n.name, "routerIP": n.router_ip, "asn": n.asn, "blocks": list(n.blocks)}
        if n.rr_cluster_id:
            entry["rrClusterID"] = n.rr_cluster_id
        entry["peers"] = [
            {"node": names.get(p.ip, p.node), "ip": p.ip, "asn": p.asn, "rrClient": p.rr_client, "mesh": p.mesh} for p in n.peers
        ]
        nodes.append(entry)
    return {"kind": KIND, "description": topo.description, "pool": topo.pool, "underlay": topo.underlay, "nodes": nodes}


def load_topology_file(path: Path) -> LabTopology:
    try:
        _, doc = yamlio.load_single(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise InputError(f"cannot read topology: {why}", Location(file=str(path))) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"not valid YAML: {problem}", Location(file=str(path), line=line)) from None
    return topology_from_dict(doc, source=str(path))


def topology_from_dict(doc: Any, source: str | None = None) -> LabTopology:
    def bad(msg: str, field: str | None = None) -> InputError:
        return InputError(msg, Location(file=source, field=field))

    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise bad(f"expected a mapping with kind: {KIND}", "kind")
    raw_nodes = doc.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise bad("nodes must be a non-empty list", "nodes")
    pool, underlay = str(doc.get("pool", DEFAULT_POOL)), str(doc.get("underlay", DEFAULT_UNDERLAY))
    base: list[LabNode] = []
    wanted: list[tuple[str, dict[str, Any], str]] = []  # (node, peer entry, field path)
    for i, raw in enumerate(raw_nodes):
        at = f"nodes[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise bad("each node needs a name", f"{at}.name")
        try:
            asn = int(raw.get("asn", DEFAULT_ASN))
        except (TypeError, ValueError) as exc:
            raise bad(f"asn must be an integer, got {raw.get('asn')!r}", f"{at}.asn") from exc
        blocks = raw.get("blocks", [block_for(pool, i)])
        if not isinstance(blocks, list):
            raise bad("blocks must be a list of CIDRs", f"{at}.blocks")
        cid = raw.get("rrClusterID")
        base.append(
            LabNode(
                str(raw["name"]),
                str(raw.get("routerIP") or underlay_address(underlay, i)),
                asn,
                tuple(str(b) for b in blocks),
                str(cid) if cid else None,
            )
        )
        peers = raw.get("peers", [])
        if not isinstance(peers, list):
            raise bad("peers must be a list", f"{at}.peers")
        for j, p in enumerate(peers):
            if not isinstance(p, dict) or not (p.get("node") or p.get("ip")):
                raise bad("a peer needs node: NAME (or ip:)", f"{at}.peers[{j}]")
            wanted.append((base[-1].name, p, f"{at}.peers[{j}]"))
    mesh = bool(doc.get("mesh", not wanted))
    topo = LabTopology(tuple(_wire(base, wanted, mesh, bad)), pool, underlay, str(doc.get("description", "")))
    validate_topology(topo, source)
    return topo


def _wire(base: list[LabNode], wanted: list[tuple[str, dict[str, Any], str]], mesh: bool, bad: Any) -> list[LabNode]:
    by_name = {n.name: n for n in base}
    by_ip = {n.router_ip: n for n in base}
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for name, entry, at in wanted:
        other = by_name.get(str(entry.get("node"))) or by_ip.get(str(entry.get("ip")))
        if other is None:
            raise bad(f"{name} peers with {entry.get('node') or entry.get('ip')}, which is no lab node", at)
        pairs[(name, other.name)] = entry
        pairs.setdefault((other.name, name), {})
    if mesh:
        plain = [n.name for n in base if not n.rr_cluster_id]
        for a in plain:
            for b in plain:
                if a != b:
                    pairs.setdefault((a, b), {"mesh": True})
    out = []
    for node in base:
        peers = []
        for (a, b), entry in pairs.items():
            if a != node.name:
                continue
            other = by_name[b]
            rr = entry.get("rrClient")
            if rr is None:
                rr = calico_rr_client(node.asn, node.rr_cluster_id, other.asn, other.rr_cluster_id)
            peers.append(LabPeer(other.router_ip, other.asn, bool(rr), bool(entry.get("mesh", False)), other.name))
        out.append(LabNode(node.name, node.router_ip, node.asn, node.blocks, node.rr_cluster_id, tuple(peers)))
    return out
