"""The transport contract: what crosses the boundary between an HTTP library and the fault rules.

A contributor adding a transport reads this module and nothing else of the rule engine:

- the transport turns each request its library sends into a `CapturedRequest`;
- it hands that to a `Handler` (the switchboard), which answers with a `Decision`: a `Reply` to
  turn into the library's response object, a `NetworkFault` to raise as the library's own
  exception, `PASS_THROUGH` (send it for real: only for hosts a test let through) or `DEFER`
  (leave it to another mock of the same library, such as the user's own);
- a handler that refuses a request raises `CoboFaultError`; the transport lets it propagate
  unchanged and unwrapped, so the user sees the plugin's message first;
- the transport declares in its registry entry (`TransportSpec`, in the package ``__init__``)
  what it can produce, so rules it cannot honour are refused when declared, not when sent.
"""

from __future__ import annotations

import functools
import json
import os
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol, TypeAlias
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "DEFER",
    "NETWORK_FAULT_KINDS",
    "PASS_THROUGH",
    "Capabilities",
    "CapturedRequest",
    "Decision",
    "Handler",
    "Headers",
    "NetworkFault",
    "NetworkFaultKind",
    "Reply",
    "Transport",
    "library_own",
]

_SECRET_HEADERS = frozenset({"biz-api-key", "biz-api-signature", "authorization"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORM = "application/x-www-form-urlencoded"


def mask(name: str, value: str) -> str:
    """*value* of header *name*, with credentials cut to a prefix and a length."""
    if name.lower() not in _SECRET_HEADERS:
        return value
    # a short secret keeps no prefix: four characters of eight would all but print it
    return f"{value[:4] if len(value) > 8 else ''}…({len(value)} chars)"


class Headers(Mapping[str, str]):
    """Request headers as sent, looked up case-insensitively, whatever library captured them.

    Iteration keeps the names as the client spelled them; ``headers["biz-api-key"]`` and
    ``headers["Biz-Api-Key"]`` are the same header. Repeated headers are joined with ``", "``
    (RFC 9110's rule for combining field lines). The ``repr`` masks credentials.
    """

    __slots__ = ("_captured", "_merged")

    def __init__(self, items: Mapping[str, str] | Sequence[tuple[str, str]] = ()) -> None:
        self._captured: list[tuple[str, str]] | None = None
        self._merged: dict[str, tuple[str, str]] | None = _merge(items.items() if isinstance(items, Mapping) else items)

    @classmethod
    def captured(cls, pairs: list[tuple[str, str]]) -> Headers:
        """The headers of a request a transport captured, as a new list of names and values it
        hands over: merged when first looked at, since most requests are answered without a look."""
        headers = cls.__new__(cls)
        headers._captured, headers._merged = pairs, None
        return headers

    @property
    def _items(self) -> dict[str, tuple[str, str]]:
        merged = self._merged
        if merged is None:
            merged = self._merged = _merge(self._captured or ())
        return merged

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return {k.lower(): v for k, v in self.items()} == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset((k.lower(), v) for k, v in self.items()))

    def __repr__(self) -> str:
        return f"Headers({ {name: mask(name, value) for name, value in self._items.values()} })"


def _merge(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for name, value in pairs:
        key = name.lower()
        if key in merged:
            merged[key] = (merged[key][0], f"{merged[key][1]}, {value}")
        else:
            merged[key] = (name, value)
    return merged


HeadersLike: TypeAlias = "Headers | Mapping[str, str] | Sequence[tuple[str, str]]"


def _without_password(url: str, netloc: str) -> str:
    """*url* with the password of its userinfo (``user:secret@host``) shown as ``***``.

    requests keeps the userinfo in the URL it sends (httpx moves it to the Authorization header,
    masked like the other credentials), and a test suite's messages end up in CI logs.
    """
    userinfo, at, _ = netloc.rpartition("@")  # the last @: a password may hold one of its own
    user, colon, _ = userinfo.partition(":")
    if not at or not colon:
        return url
    # only the authority changes: the rest of the URL is shown exactly as sent
    return url.replace(userinfo + "@", f"{user}:***@", 1)


@dataclass(frozen=True, eq=False, init=False)
class CapturedRequest:
    """A request as the rules saw it, the same whatever HTTP library sent it.

    ``headers`` is case-insensitive (`Headers`); ``content`` is the body as sent; `json` parses
    it; `form` is the form-encoded body as a dict (empty unless the request says
    ``application/x-www-form-urlencoded``); `params` is the query string. ``transport`` names
    the library it came through. Its ``repr`` and `describe` mask the API key and signature
    headers and a password in the URL, so failure messages never print credentials in full.

    A request stopped below HTTP (by the network guard, before any byte was written) may have
    no method: then only the host and port are known, and `describe` says so.
    """

    method: str
    url: str
    headers: Headers
    content: bytes
    transport: str
    _parts: Any = field(repr=False)
    _origin: tuple[str, int] | None = field(repr=False, compare=False)  # scheme and port, once parsed

    def __init__(
        self,
        method: str,
        url: str,
        headers: HeadersLike = (),
        content: bytes = b"",
        transport: str = "httpx",
    ) -> None:
        set_ = object.__setattr__
        set_(self, "method", method)
        set_(self, "url", url)
        set_(self, "headers", headers if isinstance(headers, Headers) else Headers(headers))
        set_(self, "content", content)
        set_(self, "transport", transport)
        set_(self, "_parts", urlsplit(url))
        set_(self, "_origin", None)

    @property
    def scheme(self) -> str:
        return str(self._parts.scheme)

    @property
    def host(self) -> str:
        """The host name, lower-cased, without a trailing dot (``API.Cobo.com.`` is ``api.cobo.com``)."""
        return str(self._parts.hostname or "").rstrip(".")

    @property
    def port(self) -> int:
        # parsed once: every rule asks, for every base URL it has (a bad port raises every time)
        origin = self._origin
        if origin is None:
            origin = (self.scheme, int(self._parts.port or _DEFAULT_PORTS.get(self.scheme, 0)))
            object.__setattr__(self, "_origin", origin)
        return origin[1]

    @property
    def path(self) -> str:
        return str(self._parts.path or "/")

    @property
    def query(self) -> str:
        """The raw query string, as sent."""
        return str(self._parts.query)

    @property
    def params(self) -> dict[str, str]:
        """The query string, as a dict (GET parameters, as Cobo's v1 API sends them)."""
        return dict(parse_qsl(self._parts.query, keep_blank_values=True))

    @property
    def form(self) -> dict[str, str]:
        """The form-encoded body as a dict (POST parameters, as Cobo's v1 API sends them), else empty."""
        content_type = self.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != _FORM:
            return {}
        return dict(parse_qsl(self.content.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        """The body parsed as JSON (raises `json.JSONDecodeError` if it is not JSON)."""
        return json.loads(self.content)

    def header(self, name: str) -> str | None:
        """The value of header *name* (case-insensitive), or None."""
        return self.headers.get(name)

    def describe(self) -> str:
        """``GET https://host/path?query``, for messages; a password in the URL shows as ``user:***@``."""
        if not self.method:
            return f"a connection to {self.host}:{self.port}"
        return f"{self.method} {_without_password(self.url, self._parts.netloc)}"

    def __repr__(self) -> str:
        shown = {k: mask(k, v) for k, v in self.headers.items() if k.lower().startswith("biz-")}
        return f"CapturedRequest({self.describe()}, via {self.transport}, biz headers={shown})"

    def __eq__(self, other: object) -> bool:
        # Written out, not generated: pytest drills into a generated dataclass __eq__ field by
        # field and would print the headers, secrets and all; for this one it shows the repr.
        if not isinstance(other, CapturedRequest):
            return NotImplemented
        mine = (self.method, self.url, self.headers, self.content, self.transport)
        return mine == (other.method, other.url, other.headers, other.content, other.transport)

    def __hash__(self) -> int:
        return hash((self.method, self.url, self.content, self.transport))


HeaderPairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """A rendered HTTP response. ``drop_after`` bytes into the body, the connection dies.

    ``delay`` seconds pass before the status line is sent, and ``trickle`` seconds between each
    of the ten pieces the body is then sent in: only a transport with a real socket (the loopback
    server) honours them, and rules asking for them elsewhere are refused when declared.
    """

    status: int
    headers: HeaderPairs
    body: bytes
    drop_after: int | None = None
    delay: float = 0.0
    trickle: float = 0.0

    def header(self, name: str) -> str | None:
        """The first value of header *name* (case-insensitive), or None."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def as_sent_to(self, method: str) -> Reply:
        """This reply as HTTP lets it travel (RFC 9110 6.4.1): no body for HEAD, 1xx, 204 or 304.

        A body there would be read as the start of the next response on a kept-alive connection,
        and a client breaks in ways that look like the "truncated_response" network fault.
        """
        if method.upper() != "HEAD" and self.status >= 200 and self.status not in (204, 304):
            return self
        headers = self.headers
        if self.status < 200 or self.status == 204:  # these may not even announce a length
            headers = tuple((k, v) for k, v in headers if k.lower() != "content-length")
        # a dropped connection stays dropped: it breaks before the (now empty) body is complete
        return Reply(self.status, headers, b"", None if self.drop_after is None else 0, self.delay)


NetworkFaultKind = Literal["connect_timeout", "read_timeout", "connect_error", "connection_reset", "no_response"]
NETWORK_FAULT_KINDS: Final[tuple[str, ...]] = (
    "connect_timeout",
    "read_timeout",
    "connect_error",
    "connection_reset",
    "no_response",
    "truncated_response",
)
"""Every fault below HTTP a rule can declare (``truncated_response`` is a `Reply` with ``drop_after``).

``connection_reset`` is a connection reset by the peer after the request was sent; ``no_response`` a
connection the peer closes without a byte of response (a crashed or restarted upstream)."""


@dataclass(frozen=True, slots=True)
class NetworkFault:
    """A request that never gets an HTTP response: a timeout or a refused connection."""

    kind: NetworkFaultKind
    code: None = field(default=None, init=False)
    status: None = field(default=None, init=False)
    detail: str = ""
    """What the library's exception says; by default that cobo_fault injected it."""
    delay: float = 0.0
    """Seconds before the fault strikes (a real socket only, as `Reply.delay`)."""

    @property
    def label(self) -> str:
        return self.kind.replace("_", " ")

    def render(self) -> NetworkFault:
        return self

    @property
    def message(self) -> str:
        return self.detail or f"{self.label} (injected by cobo_fault)"


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


PASS_THROUGH: Final = _Sentinel("PASS_THROUGH")
"""Send the request for real: only for a non-Cobo host a test let through with ``allow_host``."""

DEFER: Final = _Sentinel("DEFER")
"""Leave the request (never a Cobo host's) to another mock of the same library, such as the
user's own respx router or responses mock; the transport reports back if that mock refuses it."""

Decision: TypeAlias = "Reply | NetworkFault | _Sentinel"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a transport can produce; a rule asking for more is refused when declared."""

    network_faults: frozenset[str] = frozenset(NETWORK_FAULT_KINDS)
    delay: bool = False
    """Whether it can hold an answer back for real (``delay=``, ``trickle=``)."""
    final_informational: bool = True
    """Whether a 1xx status can be the answer (on a real socket a client waits past it for the real one)."""


class Handler(Protocol):
    """The switchboard, as a transport sees it."""

    def __call__(self, request: CapturedRequest, *, others_may_answer: bool = False) -> Decision:
        """Decide the answer to *request*; raise `CoboFaultError` to refuse it."""
        ...

    def refused_by_others(self, request: CapturedRequest, their_message: str) -> Decision:
        """A request this handler deferred was refused by the other mock too: raise `CoboFaultError`
        naming both, return `PASS_THROUGH` if a test let its host through, or `DEFER` when no fault
        set is active (re-raise the other mock's refusal, as it would have raised alone)."""
        ...


class Transport(Protocol):
    """One HTTP library's interception, started while any fault set that chose it is active."""

    name: str

    def start(self, handler: Handler) -> None:
        """Begin sending this library's requests to *handler*."""
        ...

    def stop(self) -> None:
        """Stop intercepting; the library behaves as if never patched."""
        ...


def library_own(method: object, library: types.ModuleType) -> bool:
    """Whether *method* is a function of *library*'s own, not another tool's patch of it: its
    code lies in the library's package. ``functools.wraps`` copies a name and a module, not the
    code; a Mock has none. A transport asks this of what it finds in place, to know whether a
    mock of the user's sits there."""
    return isinstance(method, types.FunctionType) and method.__code__.co_filename.startswith(_package_dir(library))


@functools.cache
def _package_dir(library: types.ModuleType) -> str:
    return os.path.dirname(str(library.__file__)) + os.sep
