"""The netlink socket of a namespace: the one place lab code opens pyroute2's IPRoute. Netlink failures surface
as HostError. Re-exported by :mod:`calicotool.lab.netns`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from calicotool.errors import HostError


@contextmanager
def netlink(ns: str | None) -> Iterator[IPRoute]:
    """An IPRoute socket inside ``ns`` (never creates the namespace by accident)."""
    try:
        ipr = IPRoute() if ns is None else IPRoute(netns=ns, flags=0)
    except FileNotFoundError as exc:
        raise HostError(f"netns {ns!r} does not exist") from exc
    except OSError as exc:
        raise HostError(f"cannot open netlink in netns {ns!r}: {exc}") from exc
    try:
        yield ipr
    except NetlinkError as exc:
        raise HostError(f"netlink in netns {ns or '(host)'}: {exc}") from exc
    finally:
        ipr.close()


def lookup_index(ipr: IPRoute, ns: str | None, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise HostError(f"no link {ifname!r} in netns {ns or '(host)'}")
    return int(found[0])
