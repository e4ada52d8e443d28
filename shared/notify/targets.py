"""Where a webhook may point: public addresses only, unless DRWAVE_WEBHOOK_ALLOW_PRIVATE=true.

A webhook target on loopback, link-local (169.254.0.0/16, the instance metadata address among them) or a
private range would let any subscription writer make drwave call internal services. The host is resolved
and every address it resolves to is checked, at create and again before each send (DNS may change).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Resolver = Callable[[str], list[str]]


class TargetRefused(ValueError):
    """The target is not a URL drwave will call; the message names the reason."""


def resolve(host: str) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except socket.gaierror as error:
        raise TargetRefused(f"host {host!r} does not resolve ({error.strerror})") from None


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> str:
    """Return the URL when drwave may POST to it, else raise TargetRefused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise TargetRefused("must not carry credentials in the URL")
    if allow_private:
        return url
    internal = [a for a in resolver(parts.hostname) if is_internal(a)]
    if internal:
        raise TargetRefused(
            f"{parts.hostname} resolves to {internal[0]}, a loopback, link-local or private address; "
            "set DRWAVE_WEBHOOK_ALLOW_PRIVATE=true to allow internal receivers"
        )
    return url
