"""The client's address and scheme as far as they can be believed, for in-memory rate-limit keys
only: never stored, never logged.

Behind a TLS proxy every request comes from the proxy. A forwarded header is believed only when
the direct peer is one of ``security.trusted_proxies``; the client is then the rightmost
``X-Forwarded-For`` hop that is not itself a trusted proxy (hops further left can be written by
anyone). Every per-address limit goes through here (via ``rate_limit_key``); the socket
namespaces need none, since the per-address state is keyed when a conversation is started over
HTTP."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TrustedProxies = tuple[Network, ...]


def parse_trusted(entries: Iterable[str]) -> TrustedProxies:
    """Addresses or CIDRs; raises ValueError naming a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an address or CIDR: {entry!r}") from None
    return tuple(networks)


def _is_trusted(address: str | None, trusted: TrustedProxies) -> bool:
    if not address or not trusted:
        return False
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: TrustedProxies) -> str:
    """The address to key limits on: the peer, unless it is a trusted proxy that forwarded one."""
    peer = peer or ""
    if not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # not written by a proxy of ours; the last hop we could check stands
        client = hop
        if not _is_trusted(hop, trusted):
            break
    return client


def client_scheme(peer: str | None, forwarded_proto: str | None, scheme: str, trusted: TrustedProxies) -> str:
    """``X-Forwarded-Proto`` (its last value) from a trusted proxy, else the connection's own."""
    if forwarded_proto and _is_trusted(peer, trusted):
        proto = forwarded_proto.split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            return proto
    return scheme
