"""What a fault answers: Cobo errors, gateway pages, successes and network faults.

An *outcome* is declared by a test and rendered, per request, into a transport-neutral
`Reply` (status, headers, body) or a `NetworkFault`; each transport turns those into its own
library's objects, so one declaration serves httpx and requests alike.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from pytest_cobo_errors.catalog import (
    HTTP_STATUSES,
    ErrorCode,
    HttpStatus,
    UnknownCodeError,
    error_code,
    number_text,
    shown,
)
from pytest_cobo_errors.envelopes import (
    Api,
    build_envelope,
    check_text,
    encode_json,
    entry_for,
    new_error_id,
    success_envelope,
)
from pytest_cobo_errors.transports.contract import HeaderPairs, NetworkFault, NetworkFaultKind, Reply

if TYPE_CHECKING:
    from pytest_cobo_errors.catalog_v2 import V2ErrorCode
    from pytest_cobo_errors.transports.contract import CapturedRequest

__all__ = [
    "NETWORK_FAULTS",
    "ComputedAnswer",
    "ErrorAnswer",
    "GatewayPage",
    "LostAnswer",
    "LostKind",
    "NetworkFault",
    "Outcome",
    "OutcomeLike",
    "RawAnswer",
    "Reply",
    "SuccessAnswer",
    "as_outcome",
    "check_producible",
    "computed_success",
    "connect_error",
    "connect_timeout",
    "error",
    "gateway",
    "is_computed",
    "lost",
    "read_timeout",
    "respond",
    "success",
    "truncated_response",
]

Headers = HeaderPairs
_JSON: Headers = (("Content-Type", "application/json"),)


def _headers(extra: Mapping[str, str] | None, base: Headers = ()) -> Headers:
    if not extra:
        return base
    names = {k.lower() for k in extra}
    return tuple((k, v) for k, v in base if k.lower() not in names) + tuple(extra.items())


def _dumps(body: Any) -> bytes:
    return encode_json(body)  # as checked when the outcome was declared


def _fields_repr(name: str, pairs: Iterable[tuple[str, object]]) -> str:
    """``Name(a=..., b=...)`` with each value's repr bounded: outcomes may carry megabytes."""
    return f"{name}({', '.join(f'{key}={shown(value)}' for key, value in pairs)})"


_ID_MARK = "0" * 31 + "x"  # never a real error_id, which is hex


@functools.lru_cache(maxsize=512)
def _envelope_around_id(entry: ErrorCode | V2ErrorCode) -> tuple[bytes, bytes]:
    """*entry*'s envelope as bytes, split where its ``error_id`` goes."""
    before, _, after = _dumps(build_envelope(entry, error_id=_ID_MARK)).partition(_ID_MARK.encode())
    return before, after


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """A Cobo error envelope for a documented code, at its default (or given) HTTP status."""

    entry: ErrorCode | V2ErrorCode
    status: int
    message: str | None = None
    description: str | None = None
    error_id: str | None = None
    fields: Mapping[str, Any] | None = None
    omit: Collection[str] = ()
    headers: Mapping[str, str] | None = None
    follows_rule: bool = field(default=False, repr=False, compare=False)
    """Built from a bare code with no ``api=``: a rule on a ``/v2`` path answers it as WaaS 2.0."""

    @property
    def code(self) -> int:
        return self.entry.code

    def for_api(self, api: Api) -> ErrorAnswer:
        """This error as a rule answering *api* sends it, if it was left to the rule and can be."""
        if not self.follows_rule or self.entry.api == api or self.description is not None:
            return self
        try:
            entry = entry_for(self.entry.code, api)
        except ValueError:  # a code the other API does not document keeps its own
            return self
        status = entry.default_status if self.status == self.entry.default_status else self.status
        converted = replace(self, entry=entry, status=status, follows_rule=False)
        try:
            converted.render()  # omit= or a Content-Length made for the v1 body: it stays a v1 error
        except (TypeError, ValueError):
            return self
        return converted

    @property
    def api(self) -> Api:
        return self.entry.api

    @property
    def label(self) -> str:
        v2 = "WaaS 2.0 " if self.entry.api == "v2" else ""
        return f"{v2}error {self.entry.code} ({self.entry.message}) as HTTP {self.status}"

    def render(self) -> Reply:
        given = (self.message, self.description, self.error_id, self.fields)
        if given == (None, None, None, None) and not self.omit:
            # the catalog's own envelope, rendered once: only its error_id is new
            before, after = _envelope_around_id(self.entry)
            return Reply(self.status, _headers(self.headers, _JSON), before + new_error_id().encode() + after)
        body = build_envelope(
            self.entry,
            message=self.message,
            description=self.description,
            error_id=self.error_id,
            fields=self.fields,
            omit=self.omit,
        )
        return Reply(self.status, _headers(self.headers, _JSON), _dumps(body))

    def __repr__(self) -> str:
        given: dict[str, object] = {"message": self.message, "description": self.description}
        given |= {"error_id": self.error_id, "fields": self.fields, "omit": tuple(self.omit) or None}
        given["headers"] = self.headers
        pairs = [("code", self.entry.code), ("status", self.status)]
        return _fields_repr("ErrorAnswer", [*pairs, *((k, v) for k, v in given.items() if v is not None)])


_GATEWAY_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True, slots=True)
class GatewayPage:
    """A bare HTTP status from a proxy: an HTML page or an empty body, no Cobo JSON."""

    status: int
    body: Literal["html", "empty"] | str | bytes = "html"
    headers: Mapping[str, str] | None = None
    code: None = field(default=None, init=False)

    @property
    def label(self) -> str:
        kind = self.body if self.body in ("html", "empty") else "custom"
        return f"HTTP {self.status} gateway page ({kind} body)"

    def render(self) -> Reply:
        if self.body == "empty":
            return Reply(self.status, _headers(self.headers, (("Content-Length", "0"),)), b"")
        if self.body == "html":
            documented = HTTP_STATUSES.get(self.status)
            reason = documented.description.split(" – ")[0] if documented else "Error"
            page = _GATEWAY_HTML.format(status=self.status, reason=reason).encode()
            return Reply(self.status, _headers(self.headers, (("Content-Type", "text/html"),)), page)
        raw = self.body.encode() if isinstance(self.body, str) else self.body
        return Reply(self.status, _headers(self.headers, (("Content-Type", "text/html"),)), raw)

    def __repr__(self) -> str:
        pairs = [("status", self.status), ("body", self.body), ("headers", self.headers)]
        return _fields_repr("GatewayPage", [(k, v) for k, v in pairs if v is not None])


@dataclass(frozen=True, slots=True)
class SuccessAnswer:
    """A success body, for routes answered normally: ``{"success": true, "result": ...}`` from the
    Custody API (v1), the operation's bare JSON from WaaS 2.0 (``api="v2"``); None: the API of the
    rule that sends it."""

    result: Any = None
    status: int = 200
    headers: Mapping[str, str] | None = None
    code: None = field(default=None, init=False)
    api: Api | None = None

    def for_api(self, api: Api) -> SuccessAnswer:
        return self if self.api is not None or api == "v1" else replace(self, api=api)  # None is v1

    @property
    def label(self) -> str:
        return f"{'WaaS 2.0 ' if self.api == 'v2' else ''}success (HTTP {self.status})"

    def render(self) -> Reply:
        if self.api == "v2":  # no wrapper: the operation's own object (or list)
            body = _dumps({} if self.result is None else self.result)
        else:
            body = _dumps(success_envelope(self.result))
        return Reply(self.status, _headers(self.headers, _JSON), body)

    def __repr__(self) -> str:
        pairs = [("result", self.result), ("status", self.status), ("headers", self.headers)]
        pairs += [("api", "v2")] if self.api == "v2" else []
        return _fields_repr("SuccessAnswer", [(k, v) for k, v in pairs if v is not None])


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """Any raw response: status, body bytes and headers, exactly as given.

    ``drop_after`` cuts the connection after that many body bytes (a connection dropped
    mid-body). ``code`` names the Cobo code the body carries, for coverage, if any.
    """

    status: int
    body: bytes = b""
    headers: Mapping[str, str] | None = None
    drop_after: int | None = None
    code: int | None = None

    @property
    def label(self) -> str:
        cut = f", dropped after {self.drop_after} bytes" if self.drop_after is not None else ""
        return f"HTTP {self.status} with a {len(self.body)}-byte body{cut}"

    def render(self) -> Reply:
        return Reply(self.status, _headers(self.headers), self.body, self.drop_after)

    def __repr__(self) -> str:
        pairs = [("status", self.status), ("body", self.body), ("headers", self.headers)]
        pairs += [("drop_after", self.drop_after), ("code", self.code)]
        return _fields_repr("RawAnswer", [(k, v) for k, v in pairs if v is not None])


def function_name(function: Callable[..., object]) -> str:
    """A user's function as messages name it: its qualified name, and where a lambda was written."""
    function = inspect.unwrap(function)  # a result function wrapped by computed_success: the user's own
    name = str(getattr(function, "__qualname__", None) or type(function).__name__)
    code = getattr(function, "__code__", None)
    if name.endswith("<lambda>") and code is not None:
        return f"<lambda> at {os.path.basename(code.co_filename)}:{code.co_firstlineno}"
    return name


@dataclass(frozen=True, slots=True)
class ComputedAnswer:
    """An answer computed per request: *function* gets the `CapturedRequest` and returns what
    any rule accepts (an error code, a status, an outcome such as ``success(...)``, a case).

    Made by `as_outcome` from any function of one argument, so every declaring method takes one.
    The switchboard calls it once per request, before the answer is rendered, and records what it
    returned (the resolved outcome) in the `Call`. What it raises reaches the client as itself (over
    the ``cobo_server`` socket: the unanswered 1000 at HTTP 500) and fails the test at teardown.

    A bare code or a ``success(...)``/``error(...)`` without ``api=`` that it returns is answered
    in the form of the API of the rule that called it, as a declared one is: WaaS 2.0 when the
    rule's path or every one of its base URLs is under ``/v2``.
    """

    function: Callable[[CapturedRequest], Any]
    code: None = field(default=None, init=False)
    status: None = field(default=None, init=False)

    @property
    def label(self) -> str:
        return f"answer computed by {function_name(self.function)}"

    def render(self) -> Reply:
        raise TypeError(f"{self.label} is computed per request: call resolve(request) and render what it returns")

    def resolve(self, request: CapturedRequest, api: Api = "v1") -> Outcome:
        """What *function* answers *request* with, as an outcome (bare codes looked up in *api*'s catalog).

        An exception the function raises propagates unchanged, traceback and all; a value no rule
        could answer with raises TypeError (or ValueError) naming the function.
        """
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        value = self.function(request)
        try:
            if isinstance(value, int) and not isinstance(value, bool):
                try:
                    outcome = as_outcome(value, api)
                except UnknownCodeError:
                    if api == "v2":
                        raise
                    outcome = as_outcome(value)  # the Custody API's, else WaaS 2.0's
            elif callable(value) and not isinstance(value, _OUTCOME_TYPES):
                raise TypeError("a function of the request returns an answer, not another function")
            else:
                outcome = as_outcome(value)
        except (TypeError, ValueError) as bad:
            raise type(bad)(f"{self.label} returned {shown(value)}: {bad}") from None
        if is_computed(outcome):
            raise TypeError(f"{self.label} returned {shown(value)}: a function returns an answer, not another function")
        return outcome

    def __repr__(self) -> str:
        return f"ComputedAnswer({function_name(self.function)})"


def is_computed(outcome: Outcome) -> bool:
    """Whether answering with *outcome* calls a user's function: a `ComputedAnswer`, or one lost."""
    return isinstance(outcome, ComputedAnswer) or (
        isinstance(outcome, LostAnswer) and isinstance(outcome.inner, ComputedAnswer)
    )


def _computed(function: Callable[..., object]) -> ComputedAnswer:
    """*function* as a computed answer, once it is seen to take the captured request."""
    if inspect.isclass(function) or str(getattr(function, "__module__", "")).startswith("pytest_cobo_errors"):
        name = getattr(function, "__name__", type(function).__name__)
        raise TypeError(
            f"cannot answer with {name} itself: call it, e.g. error(12007) or success({{...}}), or give a function "
            "of the captured request, e.g. lambda request: success({'request_id': request.json()['request_id']})"
        )
    if inspect.iscoroutinefunction(function):
        raise TypeError(f"{function_name(function)} is async: a computed answer must be a plain function (not awaited)")
    try:
        inspect.signature(function).bind(None)
    except TypeError:
        raise TypeError(
            f"{function_name(function)} must take one argument, the captured request, "
            "e.g. lambda request: success({'request_id': request.json()['request_id']})"
        ) from None
    except ValueError:  # a builtin without a signature: it is called and judged by what it does
        pass
    return ComputedAnswer(function)


def computed_success(function: Callable[[CapturedRequest], Any], *, status: int = 200) -> ComputedAnswer:
    """A success whose *result* *function* computes from each captured request: what
    ``succeed(lambda request: {...})`` answers (the result is the function's, the envelope ours)."""
    _computed(function)  # the same checks as any computed answer: one argument, not async
    _check_status(status)

    @functools.wraps(function)
    def answer(request: CapturedRequest) -> SuccessAnswer:
        __tracebackhide__ = True
        return success(function(request), status=status)

    return ComputedAnswer(answer)


LostKind = Literal["read_timeout", "truncated_response", "connection_reset", "no_response"]
LOST_KINDS: tuple[str, ...] = get_args(LostKind)
_LOST_WHAT = {
    "read_timeout": "the client's read timed out",
    "connection_reset": "the connection was reset",
    "no_response": "the connection closed without a response",
}


@dataclass(frozen=True, slots=True)
class LostAnswer(NetworkFault):
    """*inner* happened (Cobo acted, the rule records it as the `Call`'s outcome), then its answer
    was lost on the way back: ``kind`` says how the client sees it, a `NetworkFault` of that kind,
    or with ``"truncated_response"`` the rendered *inner* answer cut after ``after`` body bytes
    (half way by default).

    A `NetworkFault`, so that a transport that cannot produce ``kind`` is named when the rule is
    declared (the ``cobo_server`` socket cannot time out a read: give it ``delay=`` instead).
    """

    inner: Outcome | None = None
    after: int | None = None

    @property
    def lost_as(self) -> LostKind:
        return cast(LostKind, self.kind)

    @property
    def label(self) -> str:
        inner = self.inner.label if self.inner is not None else "?"
        if self.lost_as == "truncated_response":
            cut = "half way" if self.after is None else f"after {self.after} bytes"
            return f"{inner}, lost: body cut {cut}"
        return f"{inner}, lost: {self.kind.replace('_', ' ')}"

    def render(self) -> Reply | NetworkFault:  # type: ignore[override]
        """*inner* rendered unsigned, then lost (`render_signed` signs *inner* first)."""
        assert self.inner is not None
        assert not isinstance(self.inner, NetworkFault)
        return self.lose(self.inner.render())

    def lose(self, reply: Reply | NetworkFault) -> Reply | NetworkFault:
        """What the client gets instead of *reply*, the rendered *inner* answer."""
        if self.lost_as != "truncated_response":
            what = _LOST_WHAT.get(self.kind, self.kind)
            inner = self.inner.label if self.inner is not None else "the answer"
            detail = self.detail or f"{what} after Cobo answered with {inner} (lost answer injected by cobo_fault)"
            return NetworkFault(self.kind, detail=detail, delay=self.delay)
        if not isinstance(reply, Reply):
            return reply
        length = len(reply.body)
        cut = length // 2 if self.after is None else min(self.after, max(length - 1, 0))
        return replace(reply, drop_after=cut)

    def with_inner(self, inner: Outcome) -> LostAnswer:
        return replace(self, inner=inner)

    def __repr__(self) -> str:
        pairs: list[tuple[str, object]] = [("inner", self.inner), ("kind", self.kind)]
        pairs += [("after", self.after)] if self.after is not None else []
        return _fields_repr("LostAnswer", pairs)


def lost(answer: OutcomeLike, *, kind: LostKind = "read_timeout", after: int | None = None) -> LostAnswer:
    """*answer* (any outcome, code or function of the request) happened, and was then lost.

    The rule records the call with *answer* as its outcome (the transfer exists; coverage counts
    its code), but the client gets, instead of the answer, by *kind* (named as in `network`):
    ``"read_timeout"`` (the client's read timed out), ``"connection_reset"``, ``"no_response"``
    (closed before a byte of response) or ``"truncated_response"`` (the answer's body cut off
    after *after* bytes, half way by default). The case that decides whether a client's retry
    reuses its ``request_id`` (safe) or mints a new one (a double payout).

    The ``cobo_server`` socket produces every kind but ``read_timeout``; a rule asking it for
    that is refused when declared (give it ``delay=`` instead).
    """
    if not isinstance(kind, str) or kind not in LOST_KINDS:
        raise ValueError(
            f"kind must be one of {', '.join(LOST_KINDS)}, got {shown(kind)} (a connect timeout or a refused "
            "connection fails before the request is sent: nothing happened to lose; use network(...) for those)"
        )
    if after is not None:
        if kind != "truncated_response":
            raise TypeError("after= sets where kind='truncated_response' cuts the body only")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"after must be a non-negative int number of body bytes, got {shown(after)}")
    inner = as_outcome(answer)
    if isinstance(inner, NetworkFault):
        raise TypeError(
            f"{inner.label} is a network fault already: no answer to lose; give the answer Cobo sent, "
            "e.g. lost(success({...})) or lost(12009)"
        )
    if isinstance(inner, RawAnswer) and inner.drop_after is not None:
        raise TypeError(
            f"{inner.label} is cut short already; give the whole answer, "
            "e.g. lost(error(1000), kind='truncated_response')"
        )
    if after is not None and not isinstance(inner, ComputedAnswer):
        length = len(inner.render().body)
        if not after < max(length, 1):
            raise ValueError(f"after must be from 0 to {max(length - 1, 0)} bytes, got {number_text(after)}")
    return LostAnswer(cast(NetworkFaultKind, kind), inner=inner, after=after)


Outcome = ErrorAnswer | GatewayPage | SuccessAnswer | RawAnswer | NetworkFault | ComputedAnswer
"""Anything a fault can answer."""

OutcomeLike = Outcome | int | ErrorCode | HttpStatus | Any
"""An outcome, or what `as_outcome` turns into one: a code, a status, a catalog entry, a case."""


# RFC 9110: a field name is a token; a field value is visible ASCII, space, tab and obs-text
# (bytes 0x80-0xFF, which clients decode as latin-1). CR and LF would end the field and let a
# value write headers of its own; NUL and the other controls are refused by clients and servers.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NOT_IN_A_VALUE = re.compile(r"[^\t\x20-\x7e\x80-\xff]")


def _check_headers(headers: object) -> dict[str, str] | None:
    """*headers*, copied, if every name and value can be sent in an HTTP response."""
    if headers is None:
        return None
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise TypeError(f"headers must be a mapping of str to str, e.g. {{'X-Trace': 't1'}}, got {shown(headers)}")
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise ValueError(
                f"headers: {shown(name)} is not a header name; valid: a token of letters, digits and "
                "!#$%&'*+-.^_`|~ (RFC 9110), e.g. 'X-Trace'"
            )
        bad = _NOT_IN_A_VALUE.search(value)
        if bad is not None:
            char = bad.group()
            if char in "\r\n":
                why = "would end the header and start another (header injection)"
            elif ord(char) < 0x100:
                why = "is a control character"
            else:
                why = "is not latin-1, and HTTP sends header values as ISO-8859-1 bytes"
            raise ValueError(
                f"headers: the value of {shown(name)} holds {char!r} at position {bad.start()}, which {why}; "
                "valid: latin-1 text without control characters other than tab, e.g. 'café'"
            )
    return dict(headers)


def _check_length(headers: Mapping[str, str] | None, body: Callable[[], bytes]) -> None:
    """A Content-Length given with a body the plugin makes must be that body's length.

    Otherwise each transport does something else (httpx ignores it, requests fails the read).
    """
    declared = next((v for k, v in (headers or {}).items() if k.lower() == "content-length"), None)
    if declared is None:
        return
    length = len(body())
    if declared.strip() != str(length):
        raise ValueError(
            f"headers: Content-Length {shown(declared)} contradicts the {length}-byte body; valid: '{length}' "
            "or none (it is set from the body); for a body cut short use truncated_response(after=...)"
        )


def _check_status(status: object) -> int:
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code from 100 to 599, got {shown(status)}")
    return status


def error(
    code: int | ErrorCode | V2ErrorCode,
    *,
    api: Api | None = None,
    status: int | None = None,
    message: str | None = None,
    description: str | None = None,
    error_id: str | None = None,
    fields: Mapping[str, Any] | None = None,
    omit: Collection[str] = (),
    headers: Mapping[str, str] | None = None,
) -> ErrorAnswer:
    """A Cobo error for a documented *code*; ``status=200`` gives "200 with success: false".

    ``api="v2"`` looks *code* up in WaaS 2.0's catalog and sends its three-field envelope (a
    WaaS 2.0 catalog entry says so itself). Left out, the rule decides: a bare code is answered
    as WaaS 2.0 by a rule on a ``/v2`` path, as the Custody API elsewhere (a code only WaaS 2.0
    documents, such as 2024, is WaaS 2.0's everywhere).
    """
    follows_rule = api is None and isinstance(code, int)
    entry = _entry(code, api)
    omit = tuple(omit) if not isinstance(omit, str) and isinstance(omit, Iterable) else omit  # read once
    # validate every override now, not at request time deep inside a transport (the catalog's own
    # envelope needs no check: most rules override nothing, and every test declares one)
    checked = _check_headers(headers)
    overridden = message is not None or description is not None or error_id is not None or fields is not None
    if overridden or omit or checked:
        body = build_envelope(
            entry, message=message, description=description, error_id=error_id, fields=fields, omit=omit
        )
        _check_length(checked, lambda: _dumps(body))
    return ErrorAnswer(
        entry,
        entry.default_status if status is None else _check_status(status),
        message,
        description,
        error_id,
        fields,
        tuple(omit),
        checked,
        follows_rule,
    )


def _entry(code: int | ErrorCode | V2ErrorCode, api: Api | None) -> ErrorCode | V2ErrorCode:
    """*code*'s entry in *api*'s catalog; with no *api*, the Custody API's, else WaaS 2.0's."""
    if api is not None:
        return entry_for(code, api)
    try:
        return entry_for(code, "v1")
    except UnknownCodeError as unknown:
        try:
            return entry_for(code, "v2")
        except UnknownCodeError:
            raise unknown from None


def gateway(
    status: int | HttpStatus,
    *,
    body: Literal["html", "empty"] | str | bytes = "html",
    headers: Mapping[str, str] | None = None,
) -> GatewayPage:
    """A bare HTTP *status* as a gateway sends it: ``body="html"`` (default), ``"empty"`` or raw text."""
    value = status.status if isinstance(status, HttpStatus) else _check_status(status)
    if not isinstance(body, (str, bytes)):
        raise TypeError(f"body must be 'html', 'empty', str or bytes, got {type(body).__name__}")
    if isinstance(body, str):
        check_text(body, "body")
    page = GatewayPage(value, body, _check_headers(headers))
    _check_length(page.headers, lambda: page.render().body)
    return page


def success(
    result: Any = None, *, status: int = 200, headers: Mapping[str, str] | None = None, api: Api | None = None
) -> SuccessAnswer:
    """A success answer carrying *result* (default ``{}``), which must be JSON-serialisable.

    From the Custody API it is wrapped, ``{"success": true, "result": ...}``; with ``api="v2"``
    it is *result* itself, as WaaS 2.0 answers. Left out, the rule decides: WaaS 2.0's form on a
    ``/v2`` path, the Custody API's elsewhere.
    """
    encode_json(result, "result")  # NaN, Infinity and lone surrogates too: no client could read them
    if api not in (None, "v1", "v2"):
        raise ValueError(f"api must be 'v1' or 'v2', got {shown(api)}")
    answer = SuccessAnswer(result, _check_status(status), _check_headers(headers), api)
    _check_length(answer.headers, lambda: answer.render().body)
    return answer


def respond(
    status: int,
    body: bytes | str = b"",
    *,
    headers: Mapping[str, str] | None = None,
    code: int | None = None,
) -> RawAnswer:
    """A raw response, body and headers exactly as given (for malformed bodies)."""
    raw = check_text(body, "body").encode("utf-8") if isinstance(body, str) else body
    if not isinstance(raw, bytes):
        raise TypeError(f"body must be bytes or str, got {type(body).__name__}")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        raise TypeError(f"code must be the int error code the body carries, or None, got {shown(code)}")
    checked = _check_headers(headers)
    _check_length(checked, lambda: raw)
    return RawAnswer(_check_status(status), raw, checked, None, code)


def connect_timeout() -> NetworkFault:
    """The connection is never established in time."""
    return NetworkFault("connect_timeout")


def read_timeout() -> NetworkFault:
    """Connected, but no response arrives in time."""
    return NetworkFault("read_timeout")


def connect_error() -> NetworkFault:
    """The connection is refused before the request is sent."""
    return NetworkFault("connect_error")


def connection_reset() -> NetworkFault:
    """The request went out; the peer resets the connection instead of answering (ECONNRESET)."""
    return NetworkFault("connection_reset")


def no_response() -> NetworkFault:
    """The request went out; the peer closes the connection without a byte of response."""
    return NetworkFault("no_response")


def truncated_response(
    code: int | ErrorCode = 1000, *, status: int | None = None, after: int | None = None
) -> RawAnswer:
    """A response whose body is cut off mid-way (by default half-way into a *code* error body)."""
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        raise TypeError(f"after must be an int number of body bytes, got {shown(after)}")
    reply = error(code, status=status).render()
    cut = len(reply.body) // 2 if after is None else after
    if not 0 <= cut < len(reply.body):
        raise ValueError(f"after must be from 0 to {len(reply.body) - 1} bytes, got {number_text(cut)}")
    return RawAnswer(reply.status, reply.body, dict(reply.headers), cut, error_code(code).code)


NETWORK_FAULTS: Mapping[str, Callable[[], Outcome]] = MappingProxyType(
    {
        builder.__name__: builder  # a kind is the name of the outcome that builds it
        for builder in (connect_timeout, read_timeout, connect_error, connection_reset, no_response, truncated_response)
    }
)
"""Each kind ``network()`` (and a scenario's ``network``) takes, and what builds it."""


_OUTCOME_TYPES = (ErrorAnswer, GatewayPage, SuccessAnswer, RawAnswer, NetworkFault, ComputedAnswer)


def check_producible(outcome: Outcome, transports: Iterable[str]) -> None:
    """Raise `UnsupportedFaultError` naming the first of *transports* that cannot send *outcome*."""
    from pytest_cobo_errors.transports import check_supported

    if isinstance(outcome, NetworkFault):
        check_supported(transports, network_fault=outcome.kind)
    elif isinstance(outcome, RawAnswer) and outcome.drop_after is not None:
        check_supported(transports, network_fault="truncated_response")
    if outcome.status is not None and outcome.status < 200:
        check_supported(transports, status=outcome.status)


def as_outcome(value: object, api: Api | None = None) -> Outcome:
    """Turn *value* into an outcome: an int is an error code (in *api*'s catalog), or an HTTP
    status from 100 to 599 (a gateway page); a function of one argument is a `Computed` answer,
    called with each captured request."""
    if isinstance(value, _OUTCOME_TYPES):
        return value
    if isinstance(value, ErrorCode) or (getattr(value, "api", None) == "v2" and hasattr(value, "default_status")):
        return error(value)  # type: ignore[arg-type]
    if isinstance(value, HttpStatus):
        return gateway(value)
    as_case = getattr(value, "outcome", None)
    if callable(as_case):
        result = as_case()
        if isinstance(result, _OUTCOME_TYPES):
            return result
    if isinstance(value, int) and not isinstance(value, bool):
        if 100 <= value <= 599:
            return gateway(value)
        return error(value, api=api)
    if callable(value):
        return _computed(value)
    raise TypeError(
        f"cannot answer with {shown(value)}: give an error code (12007), an HTTP status (503), a catalog entry, "
        "a cobo_error case, an outcome such as error(...), gateway(...), success(...), connect_timeout(), "
        "or a function of the captured request that returns one"
    )
