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


class RespxHttpxTransport:
    name = "httpx"

    def __init__(self) -> None:
        self._router: respx.MockRouter | None = None

    def start(self, handler: Handler) -> None:
        def answer(request: httpx.Request) -> httpx.Response | httpx.Request:
            captured = CapturedRequest(
                request.method, str(request.url), dict(request.headers), request.read(), transport="httpx"
            )
            mocker = router.Mocker
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

        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        router.route().mock(side_effect=answer)
        router.start()
        self._router = router

    def stop(self) -> None:
        if self._router is not None:
            self._router.stop(quiet=True)
            self._router = None


def make() -> RespxHttpxTransport:
    return RespxHttpxTransport()
