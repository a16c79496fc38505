"""Issue 9, finding 4: which address a rate limit keys on (server/transports/client_address.py)."""

from __future__ import annotations

import pytest

from server.transports.client_address import (
    client_address,
    client_scheme,
    parse_trusted,
)

LOOPBACK = parse_trusted(["127.0.0.1"])
PROXIES = parse_trusted(["10.0.0.0/8", "::1"])


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address("127.0.0.1", "203.0.113.5", ()) == "127.0.0.1"
    assert client_address("192.0.2.4", "203.0.113.5", LOOPBACK) == "192.0.2.4"


def test_from_a_trusted_proxy_the_rightmost_untrusted_hop_counts() -> None:
    assert client_address("127.0.0.1", "203.0.113.5", LOOPBACK) == "203.0.113.5"
    assert client_address("127.0.0.1", "198.51.100.1, 203.0.113.5", LOOPBACK) == "203.0.113.5"
    assert client_address("10.1.2.3", "198.51.100.1, 203.0.113.5, 10.9.9.9", PROXIES) == "203.0.113.5"
    assert client_address("::1", "2001:db8::7", PROXIES) == "2001:db8::7"


def test_a_chain_of_only_trusted_proxies_gives_the_leftmost_one() -> None:
    assert client_address("10.1.2.3", "10.4.4.4, 10.5.5.5", PROXIES) == "10.4.4.4"


def test_a_hop_that_is_not_an_address_ends_the_walk() -> None:
    assert client_address("127.0.0.1", "203.0.113.5, unknown", LOOPBACK) == "127.0.0.1"
    assert client_address("127.0.0.1", "unknown, 203.0.113.5", LOOPBACK) == "203.0.113.5"
    assert client_address("127.0.0.1", " , ", LOOPBACK) == "127.0.0.1"


def test_the_scheme_is_believed_only_from_a_trusted_proxy() -> None:
    assert client_scheme("127.0.0.1", "https", "http", LOOPBACK) == "https"
    assert client_scheme("192.0.2.4", "https", "http", LOOPBACK) == "http"
    assert client_scheme("127.0.0.1", "gopher", "http", LOOPBACK) == "http"
    assert client_scheme("127.0.0.1", "http, https", "http", LOOPBACK) == "https"


def test_bad_entries_are_refused() -> None:
    with pytest.raises(ValueError, match="not an address"):
        parse_trusted(["localhost"])
