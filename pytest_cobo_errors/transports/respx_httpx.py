"""The httpx transport: a respx router, always first in line, that asks the switchboard.

respx asks its started routers in order and wraps exceptions raised by route side effects in
its own ``SideEffectError``. This router answers in `handler` itself, ahead of every router the
user starts, so Cobo hosts always reach the rules and a refusal reaches the user unwrapped. A
request the rules leave to others (a non-Cobo host while the user has routers of their own) is
offered to those routers here, in their order; if none answers, one message names both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import httpx
import respx
from respx.models import AllMockedAssertionError, PassThrough

from pytest_cobo_errors.transports.contract import (
    DEFER,
    PASS_THROUGH,
    CapturedRequest,
    Decision,
    Handler,
    NetworkFault,
    Reply,
)

_FAULTS = {
    "connect_timeout": httpx.ConnectTimeout,
    "read_timeout": httpx.ReadTimeout,
    "connect_error": httpx.ConnectError,
}
_DROPPED = "peer closed connection without sending complete message body (injected by cobo_fault)"


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


def _capture(request: httpx.Request) -> CapturedRequest:
    return CapturedRequest(request.method, str(request.url), list(request.headers.multi_items()), request.content)


class _FirstRouter(respx.MockRouter):
    """The plugin's router: answers from the switchboard, before any router of the user's."""

    def __init__(self) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self.board: Handler | None = None

    def start(self) -> None:
        super().start()
        routers: list[Any] = cast(Any, self.Mocker).routers
        routers.remove(self)
        routers.insert(0, self)  # ahead of routers the user started earlier, too

    def _others(self) -> list[Any]:
        return [router for router in cast(Any, self.Mocker).routers if router is not self]

    def _decide(self, request: httpx.Request, others: list[Any]) -> tuple[CapturedRequest, Decision]:
        board = self.board
        if board is None:  # stopped between a client's two requests
            raise RuntimeError("cobo_fault is no longer active")
        captured = _capture(request)
        return captured, board(captured, others_may_answer=bool(others))

    def _respond(self, decision: Decision, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        if decision is PASS_THROUGH:
            raise PassThrough("let through by cobo_fault", request=request, origin=respx.Route())
        if isinstance(decision, NetworkFault):
            raise _FAULTS[decision.kind](decision.message, request=request)
        assert isinstance(decision, Reply)
        return to_httpx(decision, request)

    def handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        others = self._others()
        captured, decision = self._decide(request, others)
        if decision is DEFER:
            refusals = []
            for router in others:
                try:
                    response: httpx.Response = router.handler(request)
                except AllMockedAssertionError as refusal:
                    refusals.append(str(refusal))
                else:
                    return response
            assert self.board is not None
            decision = self.board.refused_by_others(captured, "; ".join(refusals))
        return self._respond(decision, request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        others = self._others()
        captured, decision = self._decide(request, others)
        if decision is DEFER:
            refusals = []
            for router in others:
                try:
                    response: httpx.Response = await router.async_handler(request)
                except AllMockedAssertionError as refusal:
                    refusals.append(str(refusal))
                else:
                    return response
            assert self.board is not None
            decision = self.board.refused_by_others(captured, "; ".join(refusals))
        return self._respond(decision, request)


# One router per process, reused: building one costs about as much as a whole small test.
_ROUTER: _FirstRouter | None = None


class RespxHttpxTransport:
    name = "httpx"

    def start(self, handler: Handler) -> None:
        global _ROUTER
        router = _ROUTER = _ROUTER or _FirstRouter()
        router.board = handler
        router.start()

    def stop(self) -> None:
        router = _ROUTER
        if router is not None:
            router.stop(clear=True, reset=True, quiet=True)  # rollback drops the snapshot start() took
            router.board = None


def make() -> RespxHttpxTransport:
    return RespxHttpxTransport()
