"""The loopback transport: a real HTTP server on 127.0.0.1 that answers with the fault rules.

In-process transports reach httpx and requests only; this one reaches any client in any process
or language, because it is a server: pytest-httpserver's threaded werkzeug server, with the
switchboard as its only handler. Faults happen on the real socket: a delay before the status line,
a body trickled out in pieces, a body cut short, a connection closed unanswered or reset.

A request arrives with no test context (it may come from another process), so it belongs to the
innermost active fault set that chose this transport, and to none between tests: then it is
answered with a visible error and listed as a stray, never left hanging.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import io
import json
import os
import socket
import struct
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Final

from pytest_httpserver.httpserver import HTTPServerBase
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from pytest_cobo_errors.transports.contract import CapturedRequest, Handler, NetworkFault, Reply

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = [
    "CONTROL_PREFIX",
    "UNANSWERED_CODE",
    "UNANSWERED_HEADER",
    "UNANSWERED_STATUS",
    "LoopbackServer",
    "make",
    "running",
    "running_server",
    "shut",
    "take_strays",
]

NAME: Final = "server"
UNANSWERED_STATUS: Final = 500
UNANSWERED_CODE: Final = 1000
UNANSWERED_HEADER: Final = "X-Cobo-Fault-Unanswered"
"""A request no rule answers gets Cobo's documented 1000 ("Unknown internal error") at 500, its
``error_message`` saying why, and this header naming the reason (``unmatched``, ``exhausted``,
``stray``): an answer a client handles, never a hang, and one a person can tell from an injected fault."""

_REASONS = {
    "UnmatchedRequestError": "unmatched",
    "SequenceExhaustedError": "exhausted",
    "StrayRequestError": "stray",
}
CONTROL_PREFIX: Final = "/_cobo/"
_lock = threading.RLock()
_started: set[LoopbackServer] = set()
_OURS = ("content-length", "connection")  # a raw answer announces the whole length and its close
_PIECES = 10  # a trickled body goes out in this many writes


class _Severed(ConnectionResetError):
    """Raised out of the application once a fault severed the connection: werkzeug takes a
    ConnectionError for a client gone away, writes nothing more and logs nothing."""


class _Plain(Response):
    """A reply exactly as the rules rendered it: no Content-Type unless the reply has one."""

    default_mimetype = None


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request, and silent about connections a fault severed."""

    timeout = 10.0  # one thread serves every request: a client that connects and sends nothing must not stall it

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def connection_dropped(self, error: BaseException, environ: WSGIEnvironment | None = None) -> None:
        self.close_connection = True  # read no next request from a severed connection


def _sever(sock: socket.socket, *, reset: bool) -> _Severed:
    """End the connection under werkzeug: a reset (RST), or a close (FIN) once the sent bytes are out.

    Closing the socket object is not enough: werkzeug holds other references to it. The fd is
    replaced by /dev/null instead, so the kernel sees the socket's last close now; the error
    returned, raised out of the application, stops werkzeug from using the connection again.
    """
    try:
        if reset:  # a zero linger turns the close into a reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # the client already went away
        pass
    _release(sock)
    return _Severed("severed by a cobo_server fault")


def _release(sock: socket.socket) -> _Severed:
    """Take the connection from werkzeug without ending it: its fd becomes /dev/null, so what it
    writes, reads or shuts down afterwards touches nothing (a dup of the socket keeps it open;
    without one, this is the socket's last close)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(devnull, sock.fileno(), inheritable=False)
    finally:
        os.close(devnull)
    return _Severed("taken over by a cobo_server answer that waits")


def _head(reply: Reply, *, length: int) -> bytes:
    lines = [f"HTTP/1.1 {reply.status} {http.client.responses.get(reply.status, '')}"]
    lines += [f"{name}: {value}" for name, value in reply.headers if name.lower() not in _OURS]
    lines += [f"Content-Length: {length}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _pieces(body: bytes) -> Iterator[bytes]:
    size = max(1, -(-len(body) // _PIECES))
    return (body[i : i + size] for i in range(0, len(body), size))


class LoopbackServer(HTTPServerBase):
    """A threaded HTTP server on loopback whose every request goes to one `Handler` (the switchboard).

    ``url`` is its address (``http://127.0.0.1:PORT``). Between fault sets (no handler bound) a
    request gets the unanswered error and is reported through *on_stray*.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port, threaded=True)
        self.handler: Handler | None = None
        self.control: Callable[[Request], Response] | None = None
        """Answers requests under `CONTROL_PREFIX` instead of the rules (the standalone command's
        control endpoint); None in pytest, where those paths are the rules' like any other."""
        self.strays: list[str] = []
        self._strays_lock = threading.Lock()  # appended on the server's thread, taken on pytest's
        self._closing = threading.Event()
        self._url: str | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: hand it to any client as Cobo's base URL."""
        if self._url is None:  # the port is known once started; every request's URL starts with it
            self._url = self.url_for("/").rstrip("/")
        return self._url

    def start(self) -> None:
        # pytest-httpserver's start, with werkzeug's request logging off: a log line per request
        # costs a tenth of the request, and fills a CI log
        self._closing.clear()
        app = Request.application(self.application)
        said = io.StringIO()
        try:
            with contextlib.redirect_stderr(said):
                # one thread serves every request (a thread per request costs more than the request);
                # an answer that must wait (delay=, trickle=) leaves for a thread of its own
                self.server = make_server(self.host, self.port, app, threaded=False, request_handler=_QuietHandler)
        except SystemExit:  # werkzeug prints why it cannot bind and exits; a library raises instead
            lines = said.getvalue().strip().splitlines()
            raise OSError(
                errno.EADDRINUSE, f"cannot listen on {self.host}:{self.port}: {lines[0] if lines else 'bind failed'}"
            ) from None
        with _lock:  # every started server answers with the rules (the transport binds them all)
            _started.add(self)
        self.port = self.server.port
        self._url = None
        self.server_thread = threading.Thread(target=self.thread_target, daemon=True, name="cobo-loopback-server")
        self.server_thread.start()

    def stop(self) -> None:
        self._closing.set()  # a delayed answer stops waiting
        with _lock:
            _started.discard(self)
        super().stop()

    def application(self, request: Request) -> Response:
        # no log of every request and response: the rules record their calls, and a session's
        # server would otherwise keep every body it ever received
        return self.dispatch(request)

    def dispatch(self, request: Request) -> Response:
        if self.control is not None and request.path.startswith(CONTROL_PREFIX):
            return self.control(request)
        environ = request.environ
        target = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path)
        if "://" in target.split("?", 1)[0]:  # absolute form (a client talking to a proxy): its path and query
            parts = urllib.parse.urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        captured = CapturedRequest(
            request.method,
            self.url + target,
            list(request.headers.items()),
            request.get_data(),
            transport=NAME,
        )
        handler = self.handler
        if handler is None:
            with self._strays_lock:
                self.strays.append(f"{captured.describe()}: no fault set was active")
            return self.unanswered(
                f"cobo_server: refused {captured.describe()}: it arrived while no test's cobo_server was active",
                "stray",
            )
        try:
            decision = handler(captured)
        except Exception as refused:
            # the handler's refusals (the set recorded them) by name: this module imports no rule engine
            reason = _REASONS.get(type(refused).__name__, "error")
            text = str(refused) if reason != "error" else f"cobo_server: internal error: {refused!r}"
            return self.unanswered(text, reason)
        sock: socket.socket = environ["werkzeug.socket"]
        if not isinstance(decision, (Reply, NetworkFault)):  # PASS_THROUGH or DEFER: nowhere else to send it
            return self.unanswered(f"cobo_server: nothing answers {captured.describe()}", "unmatched")
        if decision.delay or (isinstance(decision, Reply) and decision.trickle):
            raise self._later(sock, decision)
        if isinstance(decision, NetworkFault):
            raise _sever(sock, reset=decision.kind == "connection_reset")
        if decision.drop_after is None:
            return _plain(decision)
        raise self._send_raw(sock, decision)

    def _later(self, sock: socket.socket, decision: Reply | NetworkFault) -> _Severed:
        """Answer *decision* from a thread of its own, so the server goes on serving meanwhile: the
        connection is taken from werkzeug (which sees it dropped) and handed to that thread."""
        mine = sock.dup()
        try:
            severed = _release(sock)
            threading.Thread(
                target=self._answer_later, args=(mine, decision), daemon=True, name="cobo-loopback-later"
            ).start()
        except BaseException:
            mine.close()
            raise
        return severed

    def _answer_later(self, sock: socket.socket, decision: Reply | NetworkFault) -> None:
        try:
            if not self._closing.wait(decision.delay):
                if isinstance(decision, NetworkFault):
                    _sever(sock, reset=decision.kind == "connection_reset")
                else:
                    self._send_raw(sock, decision)
        finally:
            sock.close()

    def _send_raw(self, sock: socket.socket, reply: Reply) -> _Severed:
        """Write *reply* on the socket ourselves: trickled, or cut after ``drop_after`` bytes."""
        body = reply.body if reply.drop_after is None else reply.body[: reply.drop_after]
        head = _head(reply, length=len(reply.body))
        if reply.drop_after is not None and not reply.body:
            # nothing to cut in a bodiless answer (HEAD, 204, 304): it breaks in its headers instead
            head = head[: len(head) // 2]
        try:
            sock.sendall(head)
            for piece in _pieces(body):
                if reply.trickle and self._closing.wait(reply.trickle):
                    break
                sock.sendall(piece)
        except OSError:  # the client gave up (its own timeout): nothing more to send
            pass
        return _sever(sock, reset=False)

    @staticmethod
    def unanswered(message: str, reason: str) -> Response:
        body = {
            "success": False,
            "error_code": UNANSWERED_CODE,
            "error_message": message,
            "error_description": message,
            "error_id": uuid.uuid4().hex,
        }
        response = _Plain(json.dumps(body), status=UNANSWERED_STATUS, content_type="application/json")
        response.headers[UNANSWERED_HEADER] = reason
        return response

    def take_strays(self) -> list[str]:
        with self._strays_lock:
            strays, self.strays = self.strays, []
        return strays


def _plain(reply: Reply) -> Response:
    response = _Plain(reply.body, status=reply.status)
    _copy_headers(response, reply.headers)
    return response


def _copy_headers(response: Response, headers: Iterable[tuple[str, str]]) -> None:
    for name, value in headers:
        if name.lower() == "content-length":  # the reply's own length wins over werkzeug's count
            response.headers[name] = value
        else:
            response.headers.add(name, value)


_server: LoopbackServer | None = None


def running(host: str = "127.0.0.1", port: int = 0) -> LoopbackServer:
    """The process's loopback server, started on first use (on *port*; 0 picks a free one)."""
    global _server
    with _lock:
        if _server is None or not _server.is_running():
            server = LoopbackServer(host, port)
            server.start()
            _server = server
        return _server


def running_server() -> LoopbackServer | None:
    """The process's loopback server if it runs, else None (nothing is started)."""
    with _lock:
        return _server if _server is not None and _server.is_running() else None


def shut() -> list[str]:
    """Stop the process's server, if it runs; return the strays it saw since last asked."""
    global _server
    with _lock:
        server, _server = _server, None
    if server is None:
        return []
    if server.is_running():
        server.stop()
    return server.take_strays()


def take_strays() -> list[str]:
    """The requests the process's server got while no fault set was active, since last asked."""
    with _lock:
        server = _server
    return server.take_strays() if server is not None else []


class LoopbackTransport:
    """Binds the process's loopback servers to the switchboard while a fault set that chose them is active."""

    name = NAME

    def __init__(self) -> None:
        self._bound: list[LoopbackServer] = []

    def start(self, handler: Handler) -> None:
        running()  # the process's own server, started on first use
        with _lock:
            self._bound = list(_started)
        for server in self._bound:
            server.handler = handler

    def stop(self) -> None:
        bound, self._bound = self._bound, []
        for server in bound:
            server.handler = None


def make() -> LoopbackTransport:
    return LoopbackTransport()
