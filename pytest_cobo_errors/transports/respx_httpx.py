"""The httpx transport: a respx router, always first in line, that asks the switchboard.

respx asks its started routers in order and wraps exceptions raised by route side effects in
its own ``SideEffectError``. This router answers in `handler` itself, ahead of every router the
user starts, so Cobo hosts always reach the rules and a refusal reaches the user unwrapped. A
request the rules leave to others (a non-Cobo host while the user has routers of their own) is
offered to those routers here, in their order; if none answers, one message names both.
"""

from __future__ import annotations

import importlib
import sys
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
    Headers,
    NetworkFault,
    Reply,
)

_FAULTS = {
    "connect_timeout": httpx.ConnectTimeout,
    "read_timeout": httpx.ReadTimeout,
    "connect_error": httpx.ConnectError,
    "connection_reset": httpx.ReadError,  # what httpx raises for ECONNRESET on a real socket
    "no_response": httpx.RemoteProtocolError,  # as for a peer that closes before the status line
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
    # as bytes: httpx encodes str header values as ASCII, but HTTP sends latin-1 (RFC 9110 5.5)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    if reply.drop_after is None:
        # The Content-Length that Response(content=...) would add, without its reading the body
        # through a stream into a copy nobody reads (respx hands the stream on): 2 µs, not 11
        if reply.body and not any(k.lower() == b"content-length" for k, _ in headers):
            headers.append((b"Content-Length", str(len(reply.body)).encode()))
        return httpx.Response(reply.status, headers=headers, stream=httpx.ByteStream(reply.body), request=request)
    headers.append((b"Content-Length", str(len(reply.body)).encode()))
    stream = _DroppingStream(reply.body[: reply.drop_after])
    return httpx.Response(reply.status, headers=headers, stream=stream, request=request)


def _capture(request: httpx.Request) -> CapturedRequest:
    headers = Headers.captured(request.headers.multi_items())  # a new list each call
    return CapturedRequest(request.method, str(request.url), headers, request.content)


class _Patch:
    """One of the patches respx's httpcore mocker applies, applied with a plain ``setattr``.

    respx applies each with ``mock.patch(spec=True)``, which resolves the dotted target by
    importing and inspects the original's signature every time: about half a millisecond for the
    six targets, on every test, and a name left in the interpreter's type cache each time. The
    replacement is respx's own (``Mocker.mock``), built once for each original it wraps; respx
    stops it like its own patches.
    """

    __slots__ = ("local", "name", "original", "owner", "replacement")

    def __init__(self, owner: type, name: str, replacement: Any) -> None:
        self.owner, self.name, self.replacement = owner, name, replacement
        self.original = getattr(owner, name)
        self.local = name in vars(owner)  # an inherited method is removed again, not set on the subclass

    def moved(self) -> bool:
        """Whether the target is no longer the original this patch restores (a user's monkeypatch)."""
        own = self.owner.__dict__.get(self.name)  # one look, where getattr and vars took two
        if self.local:
            return own is not self.original
        return own is not None or getattr(self.owner, self.name) is not self.original

    def stop(self) -> None:
        if self.local:
            setattr(self.owner, self.name, self.original)
        else:
            delattr(self.owner, self.name)


_PATCHES: list[_Patch] = []


def _targets(mocker: Any) -> list[type]:
    return [getattr(sys.modules[m] if m in sys.modules else importlib.import_module(m), n)
            for m, _, n in (t.rpartition(".") for t in mocker.targets)]  # fmt: skip


_BUILT_FOR: list[object] = [None]  # the httpcore module the patches were built for


def _patches(mocker: Any) -> list[_Patch]:
    # Built again if httpcore was imported afresh since (pytester's in-process runs unload modules),
    # or if anything else replaced a target since (a user's monkeypatch): its method is the original
    # to call through to and to restore, as mock.patch would read it now.
    stale = sys.modules.get("httpcore") is not _BUILT_FOR[0] or any(p.moved() for p in _PATCHES)
    if not _PATCHES or stale:
        owners = _targets(mocker)
        _BUILT_FOR[0] = sys.modules.get("httpcore")
        _PATCHES[:] = [
            _Patch(owner, method, mocker.mock(getattr(owner, method)))
            for owner in owners
            for method in mocker.target_methods
            if getattr(owner, method, None) is not None  # respx skips a target without the method alike
        ]
    return _PATCHES


class _FirstRouter(respx.MockRouter):
    """The plugin's router: answers from the switchboard, before any router of the user's."""

    def __init__(self) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self.board: Handler | None = None

    def start(self) -> None:
        # respx's Router.start, less the snapshot (a CallList is a NonCallableMock, costly to build,
        # and this router keeps no routes and records no calls), with the patching done by _Patch
        mocker: Any = respx.mocks.HTTPCoreMocker
        self.Mocker = mocker
        mocker.routers.insert(0, self)  # ahead of routers the user started earlier, too
        if not mocker._patches:  # else a user's router patched already: respx shares one set
            patches = _patches(mocker)
            for patch in patches:
                setattr(patch.owner, patch.name, patch.replacement)
            mocker._patches.extend(patches)

    def _others(self) -> list[Any]:
        routers: list[Any] = cast(Any, self.Mocker).routers
        if len(routers) == 1 and routers[0] is self:  # nearly always: no router of the user's
            return []
        return [router for router in routers if router is not self]

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

    def _after_refusals(self, captured: CapturedRequest, refusals: list[AllMockedAssertionError]) -> Decision:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        assert self.board is not None
        decision = self.board.refused_by_others(captured, "; ".join(map(str, refusals)))
        if decision is DEFER:  # no fault set is active: the user's router refuses as it would alone
            raise refusals[-1]
        return decision

    def handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        others = self._others()
        captured, decision = self._decide(request, others)
        if decision is DEFER:
            refusals: list[AllMockedAssertionError] = []
            for router in others:
                try:
                    response: httpx.Response = router.handler(request)
                except AllMockedAssertionError as refusal:
                    refusals.append(refusal)
                else:
                    return response
            decision = self._after_refusals(captured, refusals)
        return self._respond(decision, request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        others = self._others()
        captured, decision = self._decide(request, others)
        if decision is DEFER:
            refusals: list[AllMockedAssertionError] = []
            for router in others:
                try:
                    response: httpx.Response = await router.async_handler(request)
                except AllMockedAssertionError as refusal:
                    refusals.append(refusal)
                else:
                    return response
            decision = self._after_refusals(captured, refusals)
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
            router.board = None
            mocker: Any = respx.mocks.HTTPCoreMocker
            mocker.unregister(router)
            mocker.stop()  # unpatches unless a user's router still needs the patches


def make() -> RespxHttpxTransport:
    return RespxHttpxTransport()
