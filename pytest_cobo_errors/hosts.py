"""Cobo's API hosts and base URLs: the one place that says which hosts are Cobo's.

Every other module asks `is_cobo_host` and `is_loopback` rather than keeping its own list.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pytest_cobo_errors.transports.contract import CapturedRequest

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "COBO_BASE_URLS",
    "COBO_HOSTS",
    "DEFAULT_BASES",
    "DEV_HOST",
    "BaseUrl",
    "CapturedRequest",
    "allowed_host",
    "describe_bases",
    "guarded_hosts",
    "is_cobo_host",
    "is_loopback",
    "normalise_host",
    "parse_base_url",
]

COBO_BASE_URLS = (
    "https://api.dev.cobo.com",
    "https://api.custody.cobo.com",
    "https://api.cobo.com",
    "https://api.sandbox.cobo.com",
)
"""Every Cobo host the official SDKs and docs name; traffic to these never leaves the machine."""

COBO_HOSTS = frozenset(url.split("://", 1)[1] for url in COBO_BASE_URLS)
DEV_HOST = "api.dev.cobo.com"
"""Cobo's development environment: the only host a ``cobo_live`` test may reach."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def normalise_host(host: str | bytes | bytearray | memoryview | None) -> str:
    """A host name as the resolver compares it: the IDNA form Python looks up (so ``api。cobo。com``
    and fullwidth letters are ``api.cobo.com``), lower case, no trailing dot, no IPv6 brackets, and
    IP addresses in their canonical form (``10.0.5`` and ``0x0a000005`` are ``10.0.0.5``)."""
    if host is None:
        return ""
    raw = bytes(host).decode("ascii", "replace") if isinstance(host, (bytes, bytearray, memoryview)) else str(host)
    return _normalised(raw)


@functools.lru_cache(maxsize=1024)  # asked for every request and socket event, of a handful of names
def _normalised(raw: str) -> str:
    text = raw.strip().strip("[]")
    if not text.isascii():
        with contextlib.suppress(UnicodeError):  # not a name the resolver could look up either
            text = text.encode("idna").decode("ascii")
    text = text.rstrip(".").lower()
    return _canonical_ip(text) or text


def _canonical_ip(text: str) -> str | None:
    if ":" in text:
        try:
            return str(ipaddress.IPv6Address(text.split("%", 1)[0]))
        except ValueError:
            return None
    if text and all(c in "0123456789abcdefx." for c in text) and text[0].isdigit():
        try:  # the shorthand, octal and hex forms getaddrinfo accepts
            return socket.inet_ntoa(socket.inet_aton(text))
        except OSError:
            return None
    return None


def is_cobo_host(host: str | bytes | bytearray | None) -> bool:
    """Whether *host* is one of Cobo's, in any spelling DNS accepts (``API.Cobo.com.``)."""
    return normalise_host(host) in COBO_HOSTS


def is_loopback(host: str | bytes | None) -> bool:
    """Whether *host* names this machine (``localhost``, ``127.0.0.0/8``, ``::1``): never guarded."""
    return _is_loopback_name(normalise_host(host))


@functools.lru_cache(maxsize=1024)
def _is_loopback_name(name: str) -> bool:
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


_HOST_FORM = "bare host names such as '127.0.0.1', 'localhost' or '::1' (no scheme, port or path: all ports pass)"


def allowed_host(host: object) -> str:
    """The name `CoboFaults.allow_host` lets through for *host*, normalised as requests' hosts are
    compared (``localhost.`` is ``localhost``, ``0x7f000001`` is ``127.0.0.1``); ValueError for
    anything that could never match a request's host (a port, a URL, userinfo), saying which host
    was meant."""
    if not isinstance(host, str) or not _is_bare(host.strip()):
        hint = _host_of(host) if isinstance(host, str) else None
        meant = f": did you mean allow_host({hint!r})?" if hint is not None else ""
        raise ValueError(f"allow_host takes {_HOST_FORM}, got {host!r}{meant}")
    return normalise_host(host)


def _is_bare(text: str) -> bool:
    """Whether *text* is a host alone: a name, an IPv4 address, or an IPv6 address (bracketed or not)."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if ":" in inner:  # an IPv6 address has colons; anything else with one has a port
        return _canonical_ip(inner) is not None
    return bool(inner) and inner == text and not any(c in inner for c in "/\\@?#%[] ")


def _host_of(text: str) -> str | None:
    """The host of a URL or ``host:port`` given where a bare host belongs, if it has one."""
    try:
        name = urlsplit(text.strip() if "://" in text else "//" + text.strip()).hostname
    except ValueError:
        return None
    return name if name and _is_bare(name) and not is_cobo_host(name) else None


def guarded_hosts(bases: Iterable[BaseUrl]) -> frozenset[str]:
    """The Cobo hosts plus the non-loopback hosts of *bases*: what the network guard keeps off the wire."""
    return _guarded(tuple(bases))


@functools.lru_cache(maxsize=64)  # recomputed at every window's open and close, of the same few bases
def _guarded(bases: tuple[BaseUrl, ...]) -> frozenset[str]:
    return COBO_HOSTS | {base.host for base in bases if not is_loopback(base.host)}


@dataclass(frozen=True, slots=True)
class BaseUrl:
    """Scheme, host, port and path prefix that a fault rule answers for."""

    scheme: str
    host: str
    port: int
    path: str = ""

    def __str__(self) -> str:
        port = "" if _DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address, as a URL spells it
        return f"{self.scheme}://{host}{port}{self.path}"

    @classmethod
    def origin_of(cls, request: CapturedRequest) -> BaseUrl:
        """The scheme, host and port *request* went to: the base URL a rule needs to answer it."""
        return cls(request.scheme, normalise_host(request.host), request.port)

    def same_origin(self, request: CapturedRequest) -> bool:
        if (request.scheme, request.port) != (self.scheme, self.port):
            return False
        # the host as the resolver compares it, so every spelling of a base's host is that base
        return request.host == self.host or normalise_host(request.host) == self.host

    def relative_path(self, request: CapturedRequest) -> str | None:
        """The request's path below this base, or None if the request is elsewhere."""
        return self.path_below(request.path) if self.same_origin(request) else None

    def path_below(self, path: str) -> str | None:
        """*path* relative to this base's path prefix, or None if it is not below it."""
        if not self.path:
            return path
        if path == self.path or path.startswith(self.path + "/"):
            return path[len(self.path) :] or "/"
        return None


def parse_base_url(value: object) -> BaseUrl:
    """Parse ``https://host[:port][/prefix]``; raise ValueError saying what a base URL looks like."""
    if isinstance(value, BaseUrl):
        return value
    if not isinstance(value, str):
        raise TypeError(f"a base URL must be a string such as 'https://api.dev.cobo.com', got {value!r}")
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid base URL {value!r}: {exc}") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"invalid base URL {value!r}: expected http(s)://host[:port][/path], "
            "e.g. 'https://api.dev.cobo.com' or 'http://127.0.0.1:8000/v2'"
        )
    host = normalise_host(parts.hostname)
    return BaseUrl(parts.scheme, host, port or _DEFAULT_PORTS[parts.scheme], parts.path.rstrip("/"))


DEFAULT_BASES: tuple[BaseUrl, ...] = tuple(parse_base_url(url) for url in COBO_BASE_URLS)
"""`COBO_BASE_URLS` parsed once: the base URLs rules answer for unless told otherwise."""


def describe_bases(bases: Iterable[BaseUrl]) -> str:
    """``the Cobo hosts`` for the defaults, else the base URLs themselves."""
    bases = tuple(bases)
    if set(bases) == set(DEFAULT_BASES):
        return "the Cobo hosts"
    return ", ".join(str(b) for b in bases)


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """``/v1/custody/*`` → a regex where ``*`` is any run of characters."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
