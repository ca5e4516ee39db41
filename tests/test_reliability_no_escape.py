"""No escape: with the plugin active, a request to a Cobo host that no rule answers never opens a socket.

The proof needs a place where an escaped request would land. A loopback listener stands in
for the Cobo hosts: `socket.getaddrinfo` is redirected so every Cobo host name resolves to
it, and every other name fails to resolve, so nothing can leave the machine whatever happens.
Each check then asserts that the listener accepted nothing and that no socket even tried to
connect. A control test first shows that, without the plugin, the same request does land.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest
from loopback import Listener

from pytest_cobo_errors import (
    COBO_BASE_URLS,
    CoboFaultError,
    CoboFaults,
    SequenceExhaustedError,
    UnmatchedRequestError,
)
from pytest_cobo_errors.transports import available

COBO_HOSTS = tuple(url.split("://", 1)[1] for url in COBO_BASE_URLS)


class Network:
    """The redirected network: the listeners, and every connection attempt any socket made."""

    def __init__(self, cobo: Listener, other: Listener) -> None:
        self.cobo = cobo
        self.other = other
        self.connect_attempts: list[object] = []

    @property
    def reached(self) -> int:
        return self.cobo.accepted + self.other.accepted


@pytest.fixture(scope="module")
def listeners() -> Iterator[tuple[Listener, Listener]]:
    cobo, other = Listener(), Listener()
    yield cobo, other
    cobo.close()
    other.close()


@pytest.fixture
def network(listeners: tuple[Listener, Listener], monkeypatch: pytest.MonkeyPatch) -> Network:
    cobo, other = listeners
    cobo.accepted = other.accepted = 0
    net = Network(cobo, other)
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower().rstrip(".") in COBO_HOSTS:
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", cobo.port))]
        if name in ("127.0.0.1", "localhost"):
            return real_getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror(f"{name}: resolution blocked by the no-escape test")

    def connect(self: socket.socket, address: Any) -> Any:
        net.connect_attempts.append(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        net.connect_attempts.append(address)
        return real_connect_ex(self, address)

    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return net


# -- how each HTTP library sends one request -------------------------------------------------
_CLIENT = httpx.Client(trust_env=False, timeout=2)  # one client: building one per request costs ~15 ms


def _httpx_sync(url: str) -> object:
    return _CLIENT.get(url, headers={"Biz-Api-Key": "k" * 66})


def _httpx_async(url: str) -> object:
    async def go() -> object:
        async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
            return await client.get(url, headers={"Biz-Api-Key": "k" * 66})

    return asyncio.run(go())


def _requests(url: str) -> object:
    import requests

    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, headers={"Biz-Api-Key": "k" * 66}, timeout=2)


def _has_transport(name: str) -> bool:
    return name in available()


SENDERS = [
    pytest.param("httpx", _httpx_sync, id="httpx-sync", marks=pytest.mark.cobo_transports("httpx")),
    pytest.param("httpx", _httpx_async, id="httpx-async", marks=pytest.mark.cobo_transports("httpx")),
    pytest.param(
        "requests",
        _requests,
        id="requests",
        marks=[
            pytest.mark.cobo_transports("requests"),
            pytest.mark.skipif(not _has_transport("requests"), reason="the requests transport is not available"),
        ],
    ),
]
Sender = Callable[[str], object]


# -- the rig itself ---------------------------------------------------------------------------
def test_without_the_plugin_a_cobo_request_lands_on_the_stand_in_listener(network: Network) -> None:
    """The control: the rig sees an escape, so a zero in the tests below means something."""
    with socket.create_connection(("api.dev.cobo.com", 443), timeout=2):
        pass
    response = _httpx_sync("http://api.dev.cobo.com/v1/custody/coin_info/")
    assert isinstance(response, httpx.Response)
    assert response.text == "escaped"
    assert network.cobo.accepted == 2
    assert len(network.connect_attempts) == 2


def test_names_other_than_cobo_and_loopback_do_not_resolve(network: Network) -> None:
    with pytest.raises(socket.gaierror, match="blocked by the no-escape test"):
        socket.getaddrinfo("example.com", 443)


# -- the plugin keeps unanswered requests on the machine -----------------------------------
@pytest.mark.parametrize(("transport", "send"), SENDERS)
@pytest.mark.parametrize("base", COBO_BASE_URLS)
def test_a_cobo_request_with_no_rule_fails_without_opening_a_socket(
    cobo_fault: CoboFaults, network: Network, transport: str, send: Sender, base: str
) -> None:
    with pytest.raises(UnmatchedRequestError, match="It is a Cobo host, so it never reaches the network"):
        send(base + "/v1/custody/coin_info/?coin=BTC")
    assert network.reached == 0
    assert network.connect_attempts == []
    cobo_fault.reset()  # the unanswered request was the point of this test


@pytest.mark.parametrize(("transport", "send"), SENDERS)
def test_a_cobo_request_no_declared_rule_matches_fails_without_opening_a_socket(
    cobo_fault: CoboFaults, network: Network, transport: str, send: Sender
) -> None:
    cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/", method="POST", optional=True)
    cobo_fault.allow_host("127.0.0.1", "localhost")  # allowing other hosts must not open Cobo's
    with pytest.raises(
        UnmatchedRequestError, match=re.escape("no rule answers GET https://api.custody.cobo.com/v1/custody")
    ):
        send("https://api.custody.cobo.com/v1/custody/coin_info/")
    assert network.reached == 0
    assert network.connect_attempts == []
    cobo_fault.reset()


@pytest.mark.parametrize(("transport", "send"), SENDERS)
def test_a_request_after_the_sequence_is_spent_fails_without_opening_a_socket(
    cobo_fault: CoboFaults, network: Network, transport: str, send: Sender
) -> None:
    rule = cobo_fault.sequence([1010, 12007])
    for _ in range(2):
        send("https://api.dev.cobo.com/v1/custody/coin_info/")
    with pytest.raises(SequenceExhaustedError):
        send("https://api.dev.cobo.com/v1/custody/coin_info/")
    assert rule.call_count == 2
    assert network.reached == 0
    assert network.connect_attempts == []
    cobo_fault.reset()


@pytest.mark.parametrize(
    "url",
    [
        "http://api.dev.cobo.com/v1/custody/coin_info/",
        "https://API.Dev.Cobo.COM/v1/custody/coin_info/",
        "https://api.dev.cobo.com:8443/v1/custody/coin_info/",
        "https://api.dev.cobo.com./v1/custody/coin_info/",
    ],
)
@pytest.mark.cobo_transports("httpx")
def test_other_spellings_of_a_cobo_host_with_no_rule_stay_on_the_machine(
    cobo_fault: CoboFaults, network: Network, url: str
) -> None:
    with pytest.raises(UnmatchedRequestError):
        _httpx_sync(url)
    assert network.reached == 0
    assert network.connect_attempts == []
    cobo_fault.reset()


@pytest.mark.parametrize("spelling", ["api.dev.cobo.com", "API.DEV.COBO.COM", "Api.Cobo.Com", "api.cobo.com."])
def test_allow_host_refuses_a_cobo_host_in_any_spelling(spelling: str) -> None:
    faults = CoboFaults(transports="httpx")
    with pytest.raises(ValueError, match="real Cobo host"):
        faults.allow_host(spelling)


@pytest.mark.parametrize(
    ("spelling", "url"),
    [
        ("API.DEV.COBO.COM", "http://api.dev.cobo.com/v1/custody/coin_info/"),
        ("api.dev.cobo.com.", "https://api.dev.cobo.com./v1/custody/coin_info/"),
    ],
)
@pytest.mark.cobo_transports("httpx")
def test_allow_host_spelling_tricks_never_let_cobo_traffic_out(
    cobo_fault: CoboFaults, network: Network, spelling: str, url: str
) -> None:
    with contextlib.suppress(ValueError):  # refusing the spelling outright is the best answer
        cobo_fault.allow_host(spelling)
    with pytest.raises(CoboFaultError):
        _httpx_sync(url)
    assert network.reached == 0, f"allow_host({spelling!r}) let {url} reach the network"
    assert network.connect_attempts == []
    cobo_fault.reset()


# -- a loopback stand-in configured as the Cobo base URL -----------------------------------
def test_a_declared_base_url_is_protected_even_when_its_host_is_allowed(network: Network) -> None:
    stand_in = f"http://127.0.0.1:{network.cobo.port}"
    with CoboFaults(base_urls=[stand_in], transports="httpx") as faults:
        faults.allow_host("127.0.0.1")
        faults.succeed(path="/v1/custody/coin_info/")
        assert _httpx_sync(stand_in + "/v1/custody/coin_info/").json() == {"success": True, "result": {}}  # type: ignore[attr-defined]
        with pytest.raises(UnmatchedRequestError, match="never reaches the network"):
            _httpx_sync(stand_in + "/v1/custody/address_info/")
        assert network.cobo.accepted == 0
        assert network.connect_attempts == []
        # the control: the same allowed host on a port that is not a declared base URL does go out
        response = _httpx_sync(f"http://127.0.0.1:{network.other.port}/health")
        assert response.text == "escaped"  # type: ignore[attr-defined]
        assert network.other.accepted == 1
        assert network.cobo.accepted == 0
        faults.reset()


def test_the_cobo_base_url_option_protects_its_host(pytester: pytest.Pytester, network: Network) -> None:
    """The same guarantee through the plugin's option, in a fresh pytest run."""
    stand_in = f"http://127.0.0.1:{network.cobo.port}"
    pytester.makepyfile(
        f"""
        import httpx

        def test_unanswered(cobo_fault):
            cobo_fault.allow_host("127.0.0.1")
            cobo_fault.succeed(path="/v1/custody/coin_info/")
            with httpx.Client(trust_env=False, timeout=2) as client:
                client.get("{stand_in}/v1/custody/coin_info/")
                client.get("{stand_in}/v1/custody/address_info/")
        """
    )
    result = pytester.runpytest("-p", "no:randomly", f"--cobo-base-url={stand_in}", "--cobo-transports=httpx")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*UnmatchedRequestError*no rule answers GET http://127.0.0.1:*/v1/custody/address_info/*"]
    )
    assert network.cobo.accepted == 0
    assert network.connect_attempts == []
