"""The network guard: no DNS lookup of, and no connection to, a Cobo host leaves the process.

In-process transports answer httpx and requests before any socket exists. Everything else
(urllib, urllib3 and so the ``cobo-waas2`` SDK, aiohttp, raw sockets, a library whose transport
this test did not choose) reaches the ``socket`` module, where an audit hook (PEP 578) sees
``socket.getaddrinfo``, ``socket.gethostbyname``, ``socket.connect`` and ``http.client.connect``
(whose tunnel names the host behind a proxy), and aborts those that name a guarded host by
raising from the hook. ``socket.connect`` given a host name resolves it before its audit event
fires, so ``socket.socket.connect``, ``connect_ex`` and ``sendto`` are wrapped as well, to check
the name first; ``send`` and ``sendall`` are wrapped to see the ``CONNECT`` or absolute-URL line
any client writes to a proxy (http.client-based ones, httpx, aiohttp).

The hook is added on the first use of the plugin and stays for the life of the process (audit
hooks cannot be removed), so a thread still running after the session is held too. Its cost on
every other audited event is one set lookup.
"""

from __future__ import annotations

import socket
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_cobo_errors.hosts import normalise_host
from pytest_cobo_errors.transports.contract import CapturedRequest

if TYPE_CHECKING:
    from pytest_cobo_errors.switchboard import Switchboard

__all__ = ["arm", "armed"]

_WATCHED = frozenset(
    {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
        "socket.connect",
        "socket.sendto",
        "http.client.connect",
    }
)
# Outermost first: the library a user called, not the one it called in turn.
_LIBRARIES = (
    ("requests", "requests"),
    ("httpx", "httpx"),
    ("httpcore", "httpx"),
    ("aiohttp", "aiohttp"),
    ("urllib3", "urllib3"),
    ("urllib.request", "urllib.request"),
    ("http.client", "http.client"),
    ("anyio", "an anyio client such as httpx"),
    ("asyncio", "asyncio"),
    ("concurrent.futures", "a thread pool (asyncio's getaddrinfo, as aiohttp resolves names)"),
)
_lock = threading.Lock()
# marks socket.socket once the hook is in, whichever copy of this module (pytester re-imports) put it there
_INSTALLED = "__cobo_errors_guard__"


def armed() -> bool:
    """Whether the guard is in place in this process."""
    return hasattr(socket.socket, _INSTALLED)


def arm(board: Switchboard) -> None:
    """Add the audit hook and the connect wrappers, once per process."""
    if armed():
        return
    with _lock:
        if not armed():
            setattr(socket.socket, _INSTALLED, board)
            sys.addaudithook(_hook)
            _wrap_connect("connect")
            _wrap_connect("connect_ex")
            _wrap_sendto()
            _wrap_send("send")
            _wrap_send("sendall")


def _current_board() -> Switchboard | None:
    # Looked up on each use, not kept: pytester drops and re-imports the package between inner
    # runs, and the one hook this process has must report to the switchboard in use now.
    module = sys.modules.get("pytest_cobo_errors.switchboard")
    board = getattr(module, "SWITCHBOARD", None)
    return board if board is not None else getattr(socket.socket, _INSTALLED, None)


def _wrap_connect(name: str) -> None:
    real = getattr(socket.socket, name)

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple):
            __tracebackhide__ = True  # failures show the user's frames, not the plugin's
            _check("socket.connect", (self, address))
        return real(self, address)

    connect.__doc__ = real.__doc__
    setattr(socket.socket, name, connect)


def _wrap_sendto() -> None:
    real = socket.socket.sendto

    def sendto(self: socket.socket, data: Any, *flags_and_address: Any) -> int:
        # sendto((host, port)) resolves a name before its audit event, as connect does
        if flags_and_address and isinstance(flags_and_address[-1], tuple):
            __tracebackhide__ = True  # failures show the user's frames, not the plugin's
            _check("socket.sendto", (self, flags_and_address[-1]))
        return real(self, data, *flags_and_address)

    sendto.__doc__ = real.__doc__
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]


def _wrap_send(name: str) -> None:
    real = getattr(socket.socket, name)

    def send(self: socket.socket, data: Any, *flags: Any) -> Any:
        # A proxy client writes its CONNECT (or absolute-URL) line on a plain socket with no audit
        # event of its own (httpx, aiohttp); only lines that start like a request are parsed.
        # (a server's "HTTP/1.1 ..." answers and an origin-form "GET /path" line name no host: skipped)
        if isinstance(data, (bytes, bytearray)) and data[:1].isupper() and _names_a_host(data):
            __tracebackhide__ = True  # failures show the user's frames, not the plugin's
            _check("socket.send", (self, data))
        return real(self, data, *flags)

    send.__doc__ = real.__doc__
    setattr(socket.socket, name, send)


def _names_a_host(data: bytes | bytearray) -> bool:
    """Whether *data* may be a request line to a proxy: ``CONNECT host:port`` or an absolute URL."""
    return data.startswith(b"CONNECT ") or data.find(b"://", 0, 300) != -1


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # called for every audited event in the process: the common path does one set lookup
    if event in _WATCHED:
        __tracebackhide__ = True  # failures show the user's frames, not the plugin's
        _check(event, args)


def _target(event: str, args: tuple[Any, ...]) -> tuple[str, int] | None:
    if event in ("socket.connect", "socket.sendto"):
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], (str, bytes, bytearray)):
            return normalise_host(address[0]), int(address[1]) if isinstance(address[1], int) else 0
        return None
    if event == "http.client.connect":
        # through a proxy, the proxy is looked up; the Cobo host travels in the CONNECT line
        tunnel = getattr(args[0], "_tunnel_host", None)
        return (normalise_host(tunnel), int(getattr(args[0], "_tunnel_port", 443) or 443)) if tunnel else None
    if event == "socket.send":
        return _proxied_target(args[1])
    host = args[0] if args else None
    if not isinstance(host, (str, bytes, bytearray)):
        return None
    port = args[1] if event == "socket.getaddrinfo" and len(args) > 1 else 0
    return normalise_host(host), int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else 0


def _proxied_target(data: object) -> tuple[str, int] | None:
    """The host a request line sent to a proxy names: ``CONNECT host:port`` or ``GET http://host/...``.

    Seen as the line is about to be written to the proxy, so the Cobo host never leaves.
    """
    if not isinstance(data, (bytes, bytearray)):
        return None
    line = bytes(data[:300]).split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) < 2:
        return None
    if parts[0] == "CONNECT":
        host, _, port = parts[1].rpartition(":")
        return normalise_host(host or parts[1]), int(port) if port.isdigit() else 443
    if parts[1].startswith(("http://", "https://")):
        try:
            url = urlsplit(parts[1])
            return normalise_host(url.hostname), url.port or (443 if url.scheme == "https" else 80)
        except ValueError:
            return None
    return None


def _check(event: str, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True  # failures show the user's frames, not the plugin's
    target = _target(event, args)
    if target is None:
        return
    board = _current_board()
    if board is None or not board.is_guarded(target[0]):
        return
    host, port = target
    try:
        caller: FrameType | None = sys._getframe(2)
    except ValueError:  # called straight from a thread's start, with no Python caller
        caller = None
    library, request = _inspect(caller, host, port)
    error = board.blocked(request, library)
    if error is not None:
        raise error


def _inspect(frame: FrameType | None, host: str, port: int) -> tuple[str, CapturedRequest]:
    """The library that sent the request, and as much of the request as its callers' frames show
    (on the failure path only: walking frames is slow, and nothing else needs it)."""
    modules: list[str] = []
    method, target = "", "/"
    headers: list[tuple[str, str]] = []
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        modules.append(module)
        if not method:
            method, target, headers = _request_in(frame, module)
        frame = frame.f_back
    library = "socket"
    for prefix, name in _LIBRARIES:
        if any(m == prefix or m.startswith(prefix + ".") for m in modules):
            library = name
            break
    scheme = "http" if port == 80 else "https"
    name = f"[{host}]" if ":" in host else host
    authority = name if port in (0, 80, 443) else f"{name}:{port}"
    url = target if target.startswith(("http://", "https://")) else f"{scheme}://{authority}{target}"
    return library, CapturedRequest(method, url, headers, transport=library)


def _request_in(frame: FrameType, module: str) -> tuple[str, str, list[tuple[str, str]]]:
    """Method, target and headers of the request a library frame is sending, if it shows them."""
    name = frame.f_code.co_name
    if module == "http.client" and name == "_send_output":
        head = frame.f_locals.get("msg")  # the request line and headers, joined just before connecting
        if isinstance(head, bytes):
            line, *rest = head.decode("latin-1").split("\r\n")
            parts = line.split(" ")
            if len(parts) >= 2:
                fields = [h.split(":", 1) for h in rest if ":" in h]
                return parts[0], parts[1], [(k.strip(), v.strip()) for k, v in fields]
    elif module == "urllib3.connectionpool" and name == "urlopen":
        verb, url, sent = (frame.f_locals.get(k) for k in ("method", "url", "headers"))
        if isinstance(verb, str) and isinstance(url, str):
            return verb, url, [(str(k), str(v)) for k, v in dict(sent or {}).items()]
    elif module.startswith("httpcore.") and name == "handle_request":
        request: Any = frame.f_locals.get("request")  # an httpcore.Request: bytes throughout
        verb, target = getattr(request, "method", None), getattr(getattr(request, "url", None), "target", None)
        if isinstance(verb, bytes) and isinstance(target, bytes):
            pairs = [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in request.headers]
            return verb.decode("ascii"), target.decode("latin-1"), pairs
    return "", "/", []
