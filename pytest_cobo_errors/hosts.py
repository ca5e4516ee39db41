"""Cobo's API hosts, base URLs, and the transport-neutral view of an intercepted request."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["COBO_BASE_URLS", "BaseUrl", "CapturedRequest", "parse_base_url"]

COBO_BASE_URLS = (
    "https://api.dev.cobo.com",
    "https://api.custody.cobo.com",
    "https://api.cobo.com",
    "https://api.sandbox.cobo.com",
)
"""Every Cobo host the official SDKs and docs name; traffic to these never leaves the machine."""

_SECRET_HEADERS = frozenset({"biz-api-key", "biz-api-signature", "authorization"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class BaseUrl:
    """Scheme, host, port and path prefix that a fault rule answers for."""

    scheme: str
    host: str
    port: int
    path: str = ""

    def __str__(self) -> str:
        port = "" if _DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.path}"

    def same_origin(self, request: CapturedRequest) -> bool:
        return (request.scheme, request.host, request.port) == (self.scheme, self.host, self.port)

    def relative_path(self, request: CapturedRequest) -> str | None:
        """The request's path below this base, or None if the request is elsewhere."""
        if not self.same_origin(request):
            return None
        if not self.path:
            return request.path
        if request.path == self.path or request.path.startswith(self.path + "/"):
            return request.path[len(self.path) :] or "/"
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
    return BaseUrl(parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme], parts.path.rstrip("/"))


def _mask(name: str, value: str) -> str:
    if name.lower() not in _SECRET_HEADERS:
        return value
    # a short secret keeps no prefix: four characters of eight would all but print it
    return f"{value[:4] if len(value) > 8 else ''}…({len(value)} chars)"


@dataclass(frozen=True)
class CapturedRequest:
    """A request as a fault rule saw it, whatever HTTP library sent it.

    Its ``repr`` and `describe` mask the API key and signature headers, so failure
    messages never print credentials in full.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes = b""
    transport: str = "httpx"
    _parts: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parts", urlsplit(self.url))

    @property
    def scheme(self) -> str:
        return str(self._parts.scheme)

    @property
    def host(self) -> str:
        return str(self._parts.hostname or "")

    @property
    def port(self) -> int:
        return int(self._parts.port or _DEFAULT_PORTS.get(self.scheme, 0))

    @property
    def path(self) -> str:
        return str(self._parts.path or "/")

    @property
    def params(self) -> dict[str, str]:
        """The query string, as a dict (GET parameters, as Cobo's v1 API sends them)."""
        return dict(parse_qsl(self._parts.query, keep_blank_values=True))

    @property
    def form(self) -> dict[str, str]:
        """The form-encoded body, as a dict (POST parameters, as Cobo's v1 API sends them)."""
        return dict(parse_qsl(self.content.decode("utf-8", "replace"), keep_blank_values=True))

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def describe(self) -> str:
        """``GET https://host/path?query``, for messages."""
        return f"{self.method} {self.url}"

    def __repr__(self) -> str:
        shown = {k: _mask(k, v) for k, v in self.headers.items() if k.lower().startswith("biz-")}
        return f"CapturedRequest({self.method} {self.url}, via {self.transport}, biz headers={shown})"

    def __eq__(self, other: object) -> bool:
        # Written out, not generated: pytest drills into a generated dataclass __eq__ field by
        # field and would print the headers, secrets and all; for this one it shows the repr.
        if not isinstance(other, CapturedRequest):
            return NotImplemented
        mine = (self.method, self.url, dict(self.headers), self.content, self.transport)
        return mine == (other.method, other.url, dict(other.headers), other.content, other.transport)

    def __hash__(self) -> int:
        return hash((self.method, self.url, self.content, self.transport))


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """``/v1/custody/*`` → a regex where ``*`` is any run of characters."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
