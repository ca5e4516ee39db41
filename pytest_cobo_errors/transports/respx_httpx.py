"""The httpx transport: respx's request mocker aimed at httpx's own transports, asking the switchboard.

respx's default mocker patches httpcore, under httpx, so every request was converted from httpx
to httpcore and every answer back: about 4% of a small test. This transport gives respx's
request mocker (`AbstractRequestMocker`) httpx's ``HTTPTransport`` and ``AsyncHTTPTransport`` as
targets instead, where pytest-httpx answers, so requests and answers stay httpx objects.

The user's own respx routers still patch httpcore, below this seam. A request the rules leave to
others goes down to them as it would without us; if they refuse it, one message names both. A
request the rules let through (a host a test allowed, our own loopback server) goes past them to
the network. Another tool's patch of these methods (pytest-httpx's) is wrapped like httpx's own
and answers what the rules leave to others. Clients of other transports (ASGI, WSGI, a
``MockTransport``) are not ours to answer and never reach this seam.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import inspect
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar

import httpx
import respx
from respx.mocks import AbstractRequestMocker
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
    library_own,
)

_FAULTS = {
    "connect_timeout": httpx.ConnectTimeout,
    "read_timeout": httpx.ReadTimeout,
    "connect_error": httpx.ConnectError,
    "connection_reset": httpx.ReadError,  # what httpx raises for ECONNRESET on a real socket
    "no_response": httpx.RemoteProtocolError,  # as for a peer that closes before the status line
}
_Below = TypeVar("_Below")  # the call that sends a request on down: sync or async
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
    url = request.url
    if url.userinfo:  # httpx sends it as the Authorization header, never in the URL
        url = url.copy_with(username=None, password=None)
    return CapturedRequest(request.method, str(url), headers, request.content)


class _Patch:
    """One of the transport's patches, applied with a plain ``setattr``.

    respx applies its own with ``mock.patch(spec=True)``, which resolves the dotted target by
    importing and inspects the original's signature every time: about half a millisecond a test
    for its six httpcore targets, and a name left in the interpreter's type cache each
    time. A replacement here is built once for each original it wraps.
    """

    __slots__ = ("local", "name", "original", "owner", "replacement")

    def __init__(self, owner: type, name: str, replacement: Any) -> None:
        self.owner, self.name, self.replacement = owner, name, replacement
        self.original = _raw(owner, name)
        self.local = name in vars(owner)  # an inherited method is removed again, not set on the subclass

    def moved(self) -> bool:
        """Whether the target is no longer the original this patch restores (a user's monkeypatch)."""
        return _raw(self.owner, self.name) is not self.original

    def stop(self) -> None:
        if self.owner.__dict__.get(self.name) is not self.replacement:
            # something patched over ours since (non-nested starts and stops): theirs stays, and
            # ours, under it, lets every request through until it is rebuilt (`_patches`)
            return
        if self.local:
            setattr(self.owner, self.name, self.original)
        else:
            delattr(self.owner, self.name)


def _raw(owner: type, name: str) -> Any:
    """*name* as the class or the first base that has it holds it: the function, or the
    classmethod object (``getattr`` would bind a new method object on every look)."""
    for klass in owner.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


_PATCHES: list[_Patch] = []


def _targets(mocker: Any) -> list[type]:
    return [getattr(sys.modules[m] if m in sys.modules else importlib.import_module(m), n)
            for m, _, n in (t.rpartition(".") for t in mocker.targets)]  # fmt: skip


_BUILT_FOR: list[object] = [None]  # the httpx and respx modules the patches were built for


def _patches(mocker: Any) -> list[_Patch]:
    # Built again if httpx was imported afresh since (pytester's in-process runs unload modules),
    # or if anything else replaced a target since (a user's monkeypatch): its method is the original
    # to call through to and to restore, as mock.patch would read it now.
    modules = (sys.modules.get("httpx"), sys.modules.get("respx.mocks"))
    stale = modules != _BUILT_FOR[0] or any(p.moved() for p in _PATCHES)
    if not _PATCHES or stale:
        for patch in _PATCHES:
            patch.stop()  # one left under another tool's patch, since undone: taken out (else nothing)
        owners = _targets(mocker)
        _BUILT_FOR[0] = modules
        _PATCHES[:] = [
            _Patch(owner, method, mocker.wrap(method, getattr(owner, method)))
            for owner in owners
            for method in mocker.target_methods
            if getattr(owner, method, None) is not None  # respx skips a target without the method alike
        ]
        core = respx.mocks.HTTPCoreMocker  # where the user's routers are asked, below this seam
        _PATCHES.extend(_Patch(core, name, _let_through_first(getattr(core, name))) for name in _LET_THROUGH_AT)
    return _PATCHES


class _TransportMocker(AbstractRequestMocker):
    """respx's request mocker, patching httpx's own transports rather than httpcore's pools."""

    # No ``name``: respx's registry keeps one class per name, and pytester's runs import this module
    # again. So respx's __init_subclass__ leaves the list of applied patches to this class.
    _patches: ClassVar[list[Any]] = []
    targets: ClassVar[list[str]] = ["httpx.HTTPTransport", "httpx.AsyncHTTPTransport"]
    target_methods: ClassVar[list[str]] = ["handle_request", "handle_async_request"]

    @classmethod
    def wrap(cls, name: str, method: Any) -> Any:
        """respx's spy for target method *name*, around *method*, what the target holds now."""
        if library_own(method, httpx):
            return cls.mock(method)  # type: ignore[no-untyped-call]

        # Another tool's patch of httpx's transports (pytest-httpx's, a mock.patch). respx wraps only
        # a method of the target's own name, so as not to wrap its own spy twice; here whatever is
        # in place is wrapped, as mock.patch would, and called as httpx would call it: a function is
        # bound to the transport, a Mock is not. It answers what the rules leave to others.
        def bound(transport: Any) -> Any:
            get = getattr(type(method), "__get__", None)
            return get(method, transport, type(transport)) if get is not None else method

        if name == "handle_async_request":  # by the name: a Mock or an autospec may not look async

            async def handle_async_request(self: Any, request: httpx.Request) -> httpx.Response:
                return await bound(self)(request)  # type: ignore[no-any-return]

            theirs: Any = handle_async_request
        else:

            def handle_request(self: Any, request: httpx.Request) -> httpx.Response:
                return bound(self)(request)  # type: ignore[no-any-return]

            theirs = handle_request
        theirs.cobo_theirs = True  # read by _send_*_request: others may answer below
        return cls.mock(theirs)  # type: ignore[no-untyped-call]

    @classmethod
    def to_httpx_request(cls, **kwargs: Any) -> httpx.Request:
        # already one: respx's spy reads its body (prepare_sync_request), then calls _send_*_request
        request: httpx.Request = kwargs["request"]
        return request

    @classmethod
    def _send_sync_request(
        cls, httpx_request: httpx.Request, *, target_spec: Any, instance: Any, **kwargs: Any
    ) -> httpx.Response:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        below: Callable[[], httpx.Response] = functools.partial(target_spec, instance, **kwargs)
        board = _BOARD[0]
        if board is None:  # stopped while a client still held the patched method: as if unpatched
            return below()
        theirs_below = getattr(target_spec, "cobo_theirs", False)
        return _answer(_Exchange(board, httpx_request, below, theirs_below=theirs_below))

    @classmethod
    async def _send_async_request(
        cls, httpx_request: httpx.Request, *, target_spec: Any, instance: Any, **kwargs: Any
    ) -> httpx.Response:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        below: Callable[[], Awaitable[httpx.Response]] = functools.partial(target_spec, instance, **kwargs)
        board = _BOARD[0]
        if board is None:  # stopped while a client still held the patched method: as if unpatched
            return await below()
        theirs_below = getattr(target_spec, "cobo_theirs", False)
        return await _answer_async(_Exchange(board, httpx_request, below, theirs_below=theirs_below))


# The switchboard while the transport is started; a one-item list, read on every request.
_BOARD: list[Handler | None] = [None]


class _Exchange(Generic[_Below]):
    """One request on its way: the board asked, the request, and the call that sends it on down.

    Its repr is the captured request's, whose URL has no userinfo (`_capture`). `_answer` takes it and is
    left visible in tracebacks on purpose: pytest prints the arguments of the last frame it shows,
    and every frame above holds the user's `httpx.Request`, whose repr prints the URL as given.
    """

    __slots__ = ("below", "board", "captured", "others", "request")

    def __init__(self, board: Handler, request: httpx.Request, below: _Below, *, theirs_below: bool) -> None:
        self.board, self.request, self.below = board, request, below
        self.captured = _capture(request)
        self.others = theirs_below or bool(_theirs())

    def __repr__(self) -> str:
        return f"<{self.captured.describe()} via httpx>"

    def decide(self) -> Decision:
        __tracebackhide__ = True
        return self.board(self.captured, others_may_answer=self.others)

    def refused_below(self, refusal: AllMockedAssertionError) -> Decision:
        __tracebackhide__ = True
        decision = self.board.refused_by_others(self.captured, str(refusal))
        if decision is DEFER:  # no fault set chose httpx: the user's router refuses as it would alone
            raise refusal
        return decision

    def respond(self, decision: Decision) -> httpx.Response:
        __tracebackhide__ = True
        if isinstance(decision, NetworkFault):
            raise _FAULTS[decision.kind](decision.message, request=self.request)
        assert isinstance(decision, Reply)
        return to_httpx(decision, self.request)


def _answer(exchange: _Exchange[Callable[[], httpx.Response]]) -> httpx.Response:
    decision = exchange.decide()
    if decision is DEFER:  # to the user's routers, below
        try:
            return exchange.below()
        except AllMockedAssertionError as error:
            refusal = error
        decision = exchange.refused_below(refusal)  # outside the except: ours is not "raised during theirs"
    if decision is PASS_THROUGH:
        with _past_their_routers():
            return exchange.below()
    return exchange.respond(decision)


async def _answer_async(exchange: _Exchange[Callable[[], Awaitable[httpx.Response]]]) -> httpx.Response:
    decision = exchange.decide()
    if decision is DEFER:  # to the user's routers, below
        try:
            return await exchange.below()
        except AllMockedAssertionError as error:
            refusal = error
        decision = exchange.refused_below(refusal)
    if decision is PASS_THROUGH:
        with _past_their_routers():
            return await exchange.below()
    return exchange.respond(decision)


def _theirs() -> list[Any]:
    """The user's respx routers: respx's default mocker, which patches httpcore below this seam."""
    routers: list[Any] = respx.mocks.HTTPCoreMocker.routers
    return routers


_LETTING_THROUGH: contextvars.ContextVar[bool] = contextvars.ContextVar("cobo_letting_through", default=False)
_LET_THROUGH_AT = ("handler", "async_handler")


def _let_through_first(original: Any) -> Any:
    """respx's ``HTTPCoreMocker.handler`` or ``async_handler`` (bound to the class), preceded by a
    look at `_LETTING_THROUGH`: the request this thread or task lets through goes past the
    user's routers, and every other request meets them as usual. Patched in while the transport
    is started; respx's list of routers is never touched, so no other request sees a change."""

    def let_through(request: httpx.Request) -> PassThrough:
        return PassThrough("let through by cobo_fault", request=request, origin=respx.Route())

    if inspect.iscoroutinefunction(original):

        async def async_handler(cls: Any, request: httpx.Request) -> Any:
            if _LETTING_THROUGH.get():
                raise let_through(request)
            return await original(request)

        return classmethod(async_handler)

    def handler(cls: Any, request: httpx.Request) -> Any:
        if _LETTING_THROUGH.get():
            raise let_through(request)
        return original(request)

    return classmethod(handler)


@contextlib.contextmanager
def _past_their_routers() -> Iterator[None]:
    token = _LETTING_THROUGH.set(True)
    try:
        yield
    finally:
        _LETTING_THROUGH.reset(token)


class RespxHttpxTransport:
    name = "httpx"

    def start(self, handler: Handler) -> None:
        _BOARD[0] = handler
        mocker = _TransportMocker
        if not mocker._patches:
            patches = _patches(mocker)
            for patch in patches:
                setattr(patch.owner, patch.name, patch.replacement)
            mocker._patches.extend(patches)

    def stop(self) -> None:
        _BOARD[0] = None
        patches = _TransportMocker._patches
        while patches:
            patches.pop().stop()


def make() -> RespxHttpxTransport:
    return RespxHttpxTransport()
