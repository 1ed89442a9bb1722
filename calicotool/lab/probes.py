"""Reachability probes between lab namespaces, in-process (no ping binary needed).

A TCP listener is created inside the destination namespace and a client socket inside the source namespace,
bound to the given source address; a completed handshake proves routing both ways.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

from calicotool.lab.netns import netns_socket


@dataclass(frozen=True)
class ProbeResult:
    src: str
    dst: str
    ok: bool
    detail: str = ""


def tcp_probe(
    src_ns: str, src_ip: str | None, dst_ns: str, dst_ip: str, *, port: int = 17999, timeout: float = 2.0
) -> ProbeResult:
    """Connect from ``src_ip`` in ``src_ns`` to ``dst_ip:port`` served from ``dst_ns``; exchange one line."""
    listener = netns_socket(dst_ns)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((dst_ip, port))
    except OSError as exc:
        listener.close()
        return ProbeResult(src_ip or src_ns, dst_ip, False, f"bind {dst_ip}:{port} in {dst_ns}: {exc}")
    listener.listen(1)
    listener.settimeout(timeout)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(timeout)
                conn.sendall(conn.recv(64))
        except OSError:
            pass

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = netns_socket(src_ns)
    client.settimeout(timeout)
    try:
        if src_ip:
            client.bind((src_ip, 0))
        client.connect((dst_ip, port))
        client.sendall(b"calicotool-probe\n")
        ok = client.recv(64) == b"calicotool-probe\n"
        return ProbeResult(src_ip or src_ns, dst_ip, ok, "" if ok else "bad echo")
    except OSError as exc:
        return ProbeResult(src_ip or src_ns, dst_ip, False, str(exc))
    finally:
        client.close()
        listener.close()
        server.join(timeout)
