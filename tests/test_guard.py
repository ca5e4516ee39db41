"""The network guard: no DNS lookup of, and no connection to, a Cobo host leaves the process.

Each proof watches the sockets with an audit hook added after the guard's (`socket_watch` in
conftest): whatever got past the guard would be recorded there, and stopped there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import inspect
import socket
import urllib.request
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import urllib3
from loopback import Listener

from pytest_cobo_errors import CoboFaultError, CoboFaults
from pytest_cobo_errors.rules import BlockedRequestError, StrayRequestError
from pytest_cobo_errors.switchboard import SWITCHBOARD

URL = "https://api.custody.cobo.com/v1/custody/org_info/"


def _aiohttp(url: str) -> None:
    import aiohttp

    async def go() -> None:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            await response.read()

    asyncio.run(go())


async def _httpx_async(url: str) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        await client.get(url)


SENDERS: dict[str, Callable[[str], Any]] = {
    "urllib": lambda url: urllib.request.urlopen(url, timeout=5),
    "urllib3": lambda url: urllib3.PoolManager(retries=False).request("GET", url),
    "requests": lambda url: requests.get(url, timeout=5),
    "httpx-sync": httpx.get,
    "httpx-async": lambda url: asyncio.run(_httpx_async(url)),
    "aiohttp": _aiohttp,
    "socket.create_connection": lambda url: socket.create_connection(("api.custody.cobo.com", 443), timeout=5),
}
SELECTIONS = {
    "httpx": ("httpx",),
    "requests": ("requests",),
    "httpx+requests": ("httpx", "requests"),
    "no window": None,
}


def _chain(error: BaseException | None) -> str:
    """Every message in an exception and the ones it wraps (libraries wrap a refused connection)."""
    seen: list[str] = []
    while error is not None and len(seen) < 10:
        seen.append(f"{type(error).__name__}: {error}")
        seen.extend(str(arg) for arg in getattr(error, "args", ()) if isinstance(arg, BaseException))
        reason = getattr(error, "reason", None)
        if isinstance(reason, BaseException):
            seen.append(str(reason))
        error = error.__cause__ or error.__context__
    return "\n".join(seen)


@pytest.mark.parametrize("selection", SELECTIONS.values(), ids=SELECTIONS.keys())
@pytest.mark.parametrize("sender", SENDERS.values(), ids=SENDERS.keys())
def test_no_library_looks_up_or_reaches_a_cobo_host(
    socket_watch: Any, sender: Callable[[str], Any], selection: tuple[str, ...] | None
) -> None:
    if sender is _aiohttp and importlib.util.find_spec("aiohttp") is None:
        pytest.skip("aiohttp is not installed")
    window = CoboFaults(transports=selection) if selection else contextlib.nullcontext()
    with window as faults:
        with pytest.raises(Exception) as refused:  # noqa: PT011  # each library raises its own
            sender(URL)
        if faults is not None:
            problems = faults.problems()
            faults.reset()  # the refusal is the point here: it must not fail this test at teardown
    assert socket_watch.seen == []
    if faults is None:  # outside every window: refused like a closed port, listed, and the message says why
        assert "outside every test's fault window" in _chain(refused.value)
        strays = SWITCHBOARD.take_strays()
        assert strays
        assert all(line.endswith(": no fault set was active") for line in strays)
    else:  # inside one: an unmatched request, recorded for teardown, with the plugin's message
        assert isinstance(refused.value, CoboFaultError)
        assert len(problems) == 1
        assert problems[0].startswith("request answered by no rule:")


def test_the_watch_sees_what_the_guard_lets_through(socket_watch: Any) -> None:
    with pytest.raises(OSError, match="got past the guard"):
        socket.getaddrinfo("control.invalid", 443)
    assert socket_watch.seen == [("socket.getaddrinfo", "control.invalid")]


@pytest.mark.parametrize("spelling", ["api.dev.cobo.com", "API.Dev.Cobo.com.", b"api.dev.cobo.com"])
def test_a_raw_connect_by_name_is_stopped_before_its_lookup(socket_watch: Any, spelling: str | bytes) -> None:
    with CoboFaults(transports="httpx") as faults, socket.socket() as raw:
        with pytest.raises(
            BlockedRequestError, match=r"stopped a connection to api\.dev\.cobo\.com:443 \(via socket\)"
        ):
            raw.connect((spelling, 443))  # type: ignore[arg-type]
        faults.reset()
    assert socket_watch.seen == []


def test_the_message_names_the_library_and_what_to_do(socket_watch: Any) -> None:
    with CoboFaults(transports="httpx") as faults:
        with pytest.raises(BlockedRequestError) as urllib3_refused:
            urllib3.PoolManager(retries=False).request("GET", URL + "?page=2", headers={"Biz-Api-Key": "0" * 66})
        with pytest.raises(BlockedRequestError) as requests_refused:
            requests.post(URL, data={"a": "1"})
        unmatched = faults.unmatched
        faults.reset()
    assert str(urllib3_refused.value).startswith(
        f"cobo-errors: the network guard stopped GET {URL}?page=2 (via urllib3): requests to Cobo hosts never leave "
        "the process. cobo_fault answers httpx and requests in-process; urllib3 is not intercepted, so point this "
        "client at a server on loopback (127.0.0.1) instead of a Cobo host."
    )
    assert "requests is not among this test's transports (httpx): add it, e.g. " in str(requests_refused.value)
    assert "@pytest.mark.cobo_transports('httpx', 'requests')" in str(requests_refused.value)
    assert [(r.method, r.transport) for r in unmatched] == [("GET", "urllib3"), ("POST", "requests")]
    assert unmatched[0].header("biz-api-key") == "0" * 66
    assert "0" * 66 not in repr(unmatched[0])


def test_an_httpx_client_on_a_transport_of_its_own_is_stopped_and_told_where_httpx_is_answered(
    socket_watch: Any,
) -> None:
    """A transport class that sends through its own httpcore pool (as httpx-socks' do) never reaches
    httpx.HTTPTransport, where the rules answer httpx: the guard stops it, and says so."""
    import httpcore

    class OwnPool(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            with httpcore.ConnectionPool() as pool:
                answer = pool.request(request.method, str(request.url), headers=request.headers.raw)
            return httpx.Response(answer.status, headers=answer.headers, content=answer.content)

    with CoboFaults(transports="httpx") as faults:
        faults.inject(12007, optional=True)
        with pytest.raises(BlockedRequestError) as refused, httpx.Client(transport=OwnPool()) as client:
            client.get(URL)
        faults.reset()
    assert "httpx is intercepted in this test at httpx.HTTPTransport and AsyncHTTPTransport" in str(refused.value)
    assert "this request went around that (a transport or adapter of the client's own" in str(refused.value)
    assert socket_watch.seen == []


def test_a_base_url_host_is_guarded_while_its_set_is_active_and_loopback_never(socket_watch: Any) -> None:
    socket_watch.hosts |= {"cobo-stand-in.example", "localhost"}
    with CoboFaults(base_urls=["https://cobo-stand-in.example", "http://localhost:9"]) as faults:
        with pytest.raises(BlockedRequestError):
            socket.getaddrinfo("cobo-stand-in.example", 443)
        with pytest.raises(OSError, match="got past the guard"):
            socket.getaddrinfo("localhost", 9)  # loopback is never the guard's: servers of your own live there
        faults.reset()
    assert socket_watch.seen == [("socket.getaddrinfo", "localhost")]


def test_a_stray_outside_every_window_is_a_connection_error_with_the_reason(socket_watch: Any) -> None:
    before = len(SWITCHBOARD.strays)
    with pytest.raises(StrayRequestError, match="outside every test's fault window") as refused:
        socket.getaddrinfo("api.cobo.com", 443)
    assert isinstance(refused.value, ConnectionRefusedError)  # a client that tolerates network errors carries on
    assert SWITCHBOARD.strays[before:] == ["a connection to api.cobo.com:443 (via socket): no fault set was active"]
    del SWITCHBOARD.strays[before:]


def _aiohttp_via(proxy: str, url: str) -> None:
    import aiohttp

    async def go() -> None:
        async with aiohttp.ClientSession() as session, session.get(url, proxy=proxy) as response:
            await response.read()

    asyncio.run(go())


def _proxy_kwarg(proxy: str) -> dict[str, str]:
    # httpx took `proxies=` until 0.26 and takes `proxy=` since (the old name went in 0.28)
    return {"proxy": proxy} if "proxy" in inspect.signature(httpx.Client).parameters else {"proxies": proxy}


async def _httpx_async_via(proxy: str, url: str) -> None:
    async with httpx.AsyncClient(**_proxy_kwarg(proxy), trust_env=False) as client:
        await client.get(url)


# each sent through a library this test's transports do not intercept, so it reaches a socket
PROXIED: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "httpx CONNECT": ("requests", lambda proxy, url: httpx.Client(**_proxy_kwarg(proxy), trust_env=False).get(url)),
    "httpx async CONNECT": ("requests", lambda proxy, url: asyncio.run(_httpx_async_via(proxy, url))),
    "aiohttp CONNECT": ("requests", _aiohttp_via),
    "urllib3 CONNECT": ("httpx", lambda proxy, url: urllib3.ProxyManager(proxy, retries=False).request("GET", url)),
    "urllib3 absolute URL": (
        "httpx",
        lambda proxy, url: urllib3.ProxyManager(proxy, retries=False).request("GET", url.replace("https:", "http:")),
    ),
    "requests CONNECT": ("httpx", lambda proxy, url: requests.get(url, proxies={"https": proxy}, timeout=2)),
    "urllib CONNECT": (
        "httpx",
        lambda proxy, url: urllib.request.build_opener(urllib.request.ProxyHandler({"https": proxy})).open(url),
    ),
}


# urllib3 leaves the socket to the proxy for the garbage collector when a tunnel is aborted
# (for any error, not only ours): collected here, its ResourceWarning is this test's, not the next's.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(("transports", "send"), PROXIED.values(), ids=PROXIED.keys())
def test_through_a_proxy_the_cobo_host_is_never_named_to_it(
    socket_watch: Any, transports: str, send: Callable[[str, str], Any]
) -> None:
    if send is _aiohttp_via and importlib.util.find_spec("aiohttp") is None:
        pytest.skip("aiohttp is not installed")
    proxy = Listener()  # stands in for an HTTP proxy: it must be sent nothing that names Cobo
    try:
        with CoboFaults(transports=transports) as faults:
            # asyncio swallows an error raised while writing and closes the connection, so an
            # asyncio client reports a read error; the refusal is recorded all the same
            with pytest.raises(Exception):  # noqa: B017, PT011
                send(proxy.url, URL)
            refused = faults.problems()
            faults.reset()
        gc.collect()
    finally:
        proxy.close()
    assert b"cobo" not in bytes(proxy.received)
    assert len(refused) == 1
    assert "api.custody.cobo.com" in refused[0]
    assert "the network guard stopped it" in refused[0]
    assert socket_watch.seen == []


SPELLINGS = {
    "ideographic full stops": "api\u3002cobo\u3002com",
    "fullwidth letters": "\uff41\uff50\uff49.cobo.com",
    "capitals and a trailing dot": "API.COBO.COM.",
}


@pytest.mark.parametrize("host", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_every_spelling_the_resolver_accepts_is_guarded(socket_watch: Any, host: str) -> None:
    with CoboFaults(transports="httpx") as faults:
        with pytest.raises(BlockedRequestError, match=r"api\.cobo\.com"):
            socket.getaddrinfo(host, 443)
        with socket.socket() as raw, pytest.raises(BlockedRequestError):
            raw.connect((host, 443))
        with socket.socket() as raw, pytest.raises(BlockedRequestError):
            raw.connect((bytearray(host.encode("idna")), 443))
        with pytest.raises(BlockedRequestError):
            socket.gethostbyaddr(host)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(BlockedRequestError):
            udp.sendto(b"x", (host, 53))
        faults.reset()
    assert socket_watch.seen == []


def test_an_ip_base_url_is_guarded_in_every_form_the_resolver_accepts(socket_watch: Any) -> None:
    socket_watch.hosts |= {"2001:db8::1", "10.0.0.5"}
    with CoboFaults(base_urls=["https://[2001:db8::1]", "https://10.0.0.5"]) as faults:
        for host in ("2001:DB8:0:0::1", "2001:0db8::0001", "10.0.5", "0x0a000005"):
            with pytest.raises(BlockedRequestError, match=r"stopped a connection to"):
                socket.getaddrinfo(host, 443)
        unmatched = faults.unmatched
        faults.reset()
    assert [request.describe() for request in unmatched][:1] == ["a connection to 2001:db8::1:443"]
    assert socket_watch.seen == []
