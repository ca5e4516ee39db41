"""The httpx transport: a respx router whose one catch-all route asks the fault handler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import respx
from respx.models import AllMockedAssertionError

from pytest_cobo_errors.hosts import CapturedRequest
from pytest_cobo_errors.outcomes import NetworkFault, Reply
from pytest_cobo_errors.rules import UnmatchedRequestError
from pytest_cobo_errors.transports import DEFER, PASS_THROUGH, Handler

_FAULTS = {
    "connect_timeout": httpx.ConnectTimeout,
    "read_timeout": httpx.ReadTimeout,
    "connect_error": httpx.ConnectError,
}
_DROPPED = "peer closed connection without sending complete message body (injected by cobo_fault)"


class DeferredRequestError(UnmatchedRequestError, AllMockedAssertionError):
    """Not a Cobo request and no rule's: respx offers it to the user's other routers, and
    raises this only if none of them answers."""


class _DroppingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Yields the first bytes of a body, then fails as a dropped connection does."""

    def __init__(self, partial: bytes) -> None:
        self.partial = partial

    def __iter__(self) -> Iterator[bytes]:
        if self.partial:
            yield self.partial
        raise httpx.RemoteProtocolError(_DROPPED)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.partial:
            yield self.partial
        raise httpx.RemoteProtocolError(_DROPPED)


def to_httpx(reply: Reply, request: httpx.Request) -> httpx.Response:
    if reply.drop_after is None:
        return httpx.Response(reply.status, headers=list(reply.headers), content=reply.body, request=request)
    headers = [*reply.headers, ("Content-Length", str(len(reply.body)))]
    stream = _DroppingStream(reply.body[: reply.drop_after])
    return httpx.Response(reply.status, headers=headers, stream=stream, request=request)


class _Router:
    """A respx router whose one catch-all route asks whichever handler is plugged in."""

    def __init__(self) -> None:
        self.handler: Handler | None = None
        self.respx = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        self.respx.route().mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response | httpx.Request:
        handler = self.handler
        if handler is None:  # a client still sending after its test ended
            raise RuntimeError("cobo_fault is no longer active")
        captured = CapturedRequest(
            request.method, str(request.url), dict(request.headers), request.read(), transport="httpx"
        )
        mocker = self.respx.Mocker
        decision = handler(captured, others_may_answer=mocker is not None and len(mocker.routers) > 1)
        if decision is PASS_THROUGH:
            return request
        if decision is DEFER:
            raise DeferredRequestError(
                f"cobo_fault: no rule answers {captured.describe()}, and no other respx router did either; "
                f"declare a rule for it, or let it through with cobo_fault.allow_host({captured.host!r})"
            )
        if isinstance(decision, NetworkFault):
            raise _FAULTS[decision.kind](f"{decision.label} (injected by cobo_fault)", request=request)
        assert isinstance(decision, Reply)
        return to_httpx(decision, request)


# Routers are reused from test to test: building one costs about as much as a whole small test.
# Each is in use by one transport at a time, so nested or concurrent fault blocks get their own.
_IDLE: list[_Router] = []


class RespxHttpxTransport:
    name = "httpx"

    def __init__(self) -> None:
        self._router: _Router | None = None

    def start(self, handler: Handler) -> None:
        router = _IDLE.pop() if _IDLE else _Router()
        router.handler = handler
        router.respx.start()
        self._router = router

    def stop(self) -> None:
        router, self._router = self._router, None
        if router is not None:
            router.respx.stop(clear=False, reset=True, quiet=True)  # keep the route, forget the calls
            router.handler = None
            _IDLE.append(router)


def make() -> RespxHttpxTransport:
    return RespxHttpxTransport()
