"""The requests transport: ``Session.get_adapter`` hands every request to an adapter that asks the switchboard.

The official ``cobo-custody`` SDK sends with ``requests``, which respx cannot see. Mocks of
``requests`` (the ``responses`` library among them) replace ``HTTPAdapter.send``, and the last
one started answers everything, so two of them cannot share a request. This transport sits one
step above, where ``requests.Session.send`` picks the adapter: Cobo hosts reach the rules whatever
the user has started, in either order; a request the rules leave to others goes to the adapter
the session would have used, so the user's own ``responses`` mock (or a custom adapter) answers
it; if that mock refuses it too, one message names both.
"""

from __future__ import annotations

import errno
import http.client
import io
import sys
from typing import TYPE_CHECKING, Any

import requests
import requests.adapters
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from pytest_cobo_errors.transports.contract import (
    DEFER,
    PASS_THROUGH,
    CapturedRequest,
    Decision,
    Handler,
    Headers,
    NetworkFault,
    Reply,
    library_own,
)

if TYPE_CHECKING:
    from requests import PreparedRequest

_BUILDER = requests.adapters.HTTPAdapter()  # builds responses for adapters that cannot
_REFUSED_BY_RESPONSES = "Connection refused by Responses"


def _genuine(send: Any) -> bool:
    """Whether *send* is requests' own ``HTTPAdapter.send``, not a mock's replacement for it."""
    return library_own(send, requests) and send.__code__.co_name == "send"


def _genuine_send() -> Any:
    # Found when needed, not kept from import time: a user's responses mock may already be
    # active when this module is first imported. responses keeps the original it replaced.
    for candidate in (requests.adapters.HTTPAdapter.send, getattr(sys.modules.get("responses"), "_real_send", None)):
        if _genuine(candidate):
            return candidate
    raise RuntimeError("cannot find requests' own HTTPAdapter.send to let this request through")


def _content(request: PreparedRequest) -> bytes:
    body: Any = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes):
        return body
    if hasattr(body, "read"):  # a file: read it once, and keep the bytes for a later send
        body = [body.read()]
    joined = b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)
    request.body = joined
    return joined


def _as_urllib3_error(fault: NetworkFault) -> Exception:
    """The urllib3 error the fault stands for, so ``Retry`` decides as it would for a real one."""
    if fault.kind == "read_timeout":
        return ReadTimeoutError(None, None, fault.message)  # type: ignore[arg-type]
    if fault.kind == "connect_timeout":
        return ConnectTimeoutError(fault.message)
    if fault.kind == "connection_reset":  # urllib3 wraps the OSError of a real reset the same way
        return ProtocolError("Connection aborted.", ConnectionResetError(errno.ECONNRESET, fault.message))
    if fault.kind == "no_response":
        return ProtocolError("Connection aborted.", http.client.RemoteDisconnected(fault.message))
    return NewConnectionError(None, fault.message)  # type: ignore[arg-type]


def to_urllib3(reply: Reply, method: str) -> HTTPResponse:
    """*reply* as the urllib3 response ``HTTPAdapter.build_response`` expects.

    A dropped connection announces the whole body and sends only its start: urllib3 then fails
    the read exactly as it does when a real peer closes mid-body (``ChunkedEncodingError``).
    """
    body = reply.body
    pairs = list(reply.headers)
    if reply.drop_after is not None:
        pairs = [(k, v) for k, v in pairs if k.lower() != "content-length"]
        pairs.append(("Content-Length", str(len(body))))
        body = body[: reply.drop_after]
    headers = HTTPHeaderDict(pairs)
    # requests' cookie handling reads the headers from the response it believes came off a socket
    original = HTTPResponse(body=io.BytesIO(), msg=headers, preload_content=False)  # type: ignore[arg-type]
    return HTTPResponse(
        body=io.BytesIO(body),
        headers=headers,
        status=reply.status,
        reason=http.client.responses.get(reply.status),
        preload_content=False,
        decode_content=False,
        original_response=original,  # type: ignore[arg-type]
        request_method=method,
        enforce_content_length=True,
    )


class _AskingAdapter(requests.adapters.BaseAdapter):
    """Stands in for the adapter the session chose, for as long as one request takes."""

    def __init__(self, board: Handler, real: requests.adapters.BaseAdapter) -> None:
        super().__init__()
        self.board = board
        self.real = real

    def send(self, request: PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        captured = CapturedRequest(
            str(request.method),
            str(request.url),
            Headers.captured(list(request.headers.items())),
            _content(request),
            transport="requests",
        )
        real = self.real
        # another mock of requests (responses patches HTTPAdapter.send) or an adapter of the user's own
        others = not _genuine(type(real).send)
        decision = self.board(captured, others_may_answer=others)
        if decision is DEFER:
            try:
                return real.send(request, **kwargs)
            except requests.exceptions.ConnectionError as error:
                if not str(error).startswith(_REFUSED_BY_RESPONSES):
                    raise
                refusal = error
            # outside the except block, so our message is not shown as raised while handling theirs
            theirs = str(refusal).split("\n\nRequest:")[0]
            decision = self.board.refused_by_others(captured, theirs)  # raises unless allowed or answered
            if decision is DEFER:  # no fault set is active: the user's mock refuses as it would alone
                raise refusal
            if decision is PASS_THROUGH:  # a test allowed the host: to the network, past the user's mock
                return self._past_their_mock(request, kwargs)
        return self._answer(decision, captured, request, kwargs)

    def _answer(
        self, decision: Decision, captured: CapturedRequest, request: PreparedRequest, kwargs: dict[str, Any]
    ) -> requests.Response:
        """Answer as urllib3 under the adapter would: retrying what the adapter's ``max_retries``
        retries (each retry asks the rules again), then returning the last answer or raising what
        ``HTTPAdapter.send`` raises for it."""
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        adapter = self._http_adapter()
        retries: Retry = adapter.max_retries
        method, url = str(request.method), str(request.url)
        while True:
            if decision is PASS_THROUGH:  # let through (our loopback server, a live test, allow_host)
                return self._past_their_mock(request, kwargs)
            if decision is DEFER:
                return self.real.send(request, **kwargs)
            if isinstance(decision, NetworkFault):
                error = _as_urllib3_error(decision)
                try:
                    retries = retries.increment(method, url, error=error)
                except MaxRetryError:
                    reason_is_timeout = isinstance(error, ConnectTimeoutError) and not isinstance(
                        error, NewConnectionError
                    )
                    raised = (
                        requests.exceptions.ConnectTimeout if reason_is_timeout else requests.exceptions.ConnectionError
                    )
                    raise raised(decision.message, request=request) from None
                except ReadTimeoutError:  # not retried at all (requests' default: Retry(0, read=False))
                    raise requests.exceptions.ReadTimeout(decision.message, request=request) from None
                except (OSError, ProtocolError):  # requests wraps urllib3's connection errors so
                    raise requests.exceptions.ConnectionError(decision.message, request=request) from None
                retries.sleep()
            else:
                assert isinstance(decision, Reply)
                raw = to_urllib3(decision, method)
                if not retries.is_retry(method, decision.status, raw.headers.get("Retry-After") is not None):
                    response: requests.Response = adapter.build_response(request, raw)
                    return response
                try:
                    retries = retries.increment(method, url, response=raw)
                except MaxRetryError as exhausted:
                    if retries.raise_on_status:
                        raise requests.exceptions.RetryError(exhausted, request=request) from None
                    response = adapter.build_response(request, raw)
                    return response
                retries.sleep(raw)
            decision = self.board(captured)

    def _past_their_mock(self, request: PreparedRequest, kwargs: dict[str, Any]) -> requests.Response:
        """Send *request* to the network: through the session's own adapter, unless a mock of
        requests' adapter (responses) is active, which would answer or refuse it in the network's place."""
        if _genuine(requests.adapters.HTTPAdapter.send):
            return self.real.send(request, **kwargs)
        return _genuine_send()(self._http_adapter(), request, **kwargs)  # type: ignore[no-any-return]

    def _http_adapter(self) -> requests.adapters.HTTPAdapter:
        real = self.real
        return real if isinstance(real, requests.adapters.HTTPAdapter) else _BUILDER

    def close(self) -> None:
        pass  # the session closes its own adapters


class RequestsAdapterTransport:
    name = "requests"

    def __init__(self) -> None:
        self._previous: Any = None
        self._ours: Any = None

    def start(self, handler: Handler) -> None:
        previous = requests.Session.get_adapter

        def get_adapter(session: requests.Session, url: str) -> requests.adapters.BaseAdapter:
            real = previous(session, url)
            return _AskingAdapter(handler, real) if self._ours is not None else real

        self._previous, self._ours = previous, get_adapter
        requests.Session.get_adapter = get_adapter  # type: ignore[method-assign,assignment]

    def stop(self) -> None:
        ours, self._ours = self._ours, None
        # Restore only if nobody patched on top since; otherwise ours stays in their chain, inert.
        if ours is not None and requests.Session.get_adapter is ours:
            requests.Session.get_adapter = self._previous  # type: ignore[method-assign]


def make() -> RequestsAdapterTransport:
    return RequestsAdapterTransport()
