"""Advice that works: what a refusal tells the user to write is code to paste, and pasting it answers.

A request no rule answers fails with a message that ends in the rule to declare for it (and, for a
host that is not Cobo's, the ``allow_host`` call that lets it through), each on a line of its own.
These tests send each kind of request through every client, take every suggested line from the
message, paste it into a fresh fault set and send the request again: it must be answered.
``allow_host`` keeps the same promise: what it accepts lets traffic through, and what could never
match a request is refused with the call that was meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conformance.conftest import IN_PROCESS as CLIENTS
from conformance.conftest import Client
from loopback import Listener

from pytest_cobo_errors import CoboFaults, UnmatchedRequestError
from pytest_cobo_errors.transports import available

CUSTOM_BASE = "http://127.0.0.1:8000/v2"
"""A base URL as ``--cobo-base-url`` sets it: a local stand-in for Cobo, with a path prefix."""

ON_CLIENTS = pytest.mark.parametrize(
    "client",
    [
        pytest.param(
            client,
            id=client.name,
            marks=pytest.mark.skipif(client.transport not in available(), reason=f"{client.transport} not installed"),
        )
        for client in CLIENTS
    ],
)


@pytest.fixture
def loopback() -> Iterator[Listener]:
    """A server on 127.0.0.1: the only place a let-through request may go."""
    listener = Listener()
    yield listener
    listener.close()


def _refusal(client: Client, url: str, base_urls: list[str] | None) -> str:
    """The message a fault set with no rules refuses GET *url* with."""
    with (
        CoboFaults(transports=client.transport, base_urls=base_urls) as cobo_fault,
        cobo_fault.expect_unmatched(),
        pytest.raises(UnmatchedRequestError) as refused,
    ):
        client.get(url)
    return str(refused.value)


def _suggestions(message: str) -> list[str]:
    """The lines of *message* that are code to paste: ``cobo_fault.<method>(...)``, indented on their own."""
    return re.findall(r"^ {4}(cobo_fault\.\w+\(.*\))$", message, flags=re.MULTILINE)


def _paste(line: str, cobo_fault: CoboFaults) -> None:
    exec(line, {"cobo_fault": cobo_fault})  # exactly what a user pasting the line into their test runs


# -- every suggestion a refusal makes answers the request ---------------------------------
@dataclass(frozen=True)
class Refused:
    """A request sent to a fault set with no rules, and the methods its refusal suggests calling."""

    url: str
    base_urls: list[str] | None = None
    suggested: tuple[str, ...] = ("succeed",)


COBO = "https://api.dev.cobo.com"
REFUSED = {
    "cobo-host": Refused(f"{COBO}/v1/custody/org_info/"),
    "http": Refused("http://api.dev.cobo.com/v1/custody/org_info/"),
    "port-8443": Refused("https://api.dev.cobo.com:8443/v1/custody/org_info/"),
    "trailing-dot": Refused("https://api.dev.cobo.com./v1/custody/org_info/"),
    "upper-case-host": Refused("https://API.DEV.COBO.COM/v1/custody/org_info/"),
    "query-string": Refused(f"{COBO}/v1/custody/coin_info/?coin=BTC&amount=1"),
    "custom-base": Refused(f"{CUSTOM_BASE}/custody/org_info/", [CUSTOM_BASE]),
    "custom-base-other-prefix": Refused("http://127.0.0.1:8000/v1/org_info/", [CUSTOM_BASE]),
    "cobo-host-beside-custom-base": Refused(f"{COBO}/v1/custody/org_info/", [CUSTOM_BASE]),
    "not-a-cobo-host": Refused("{loopback}/v1/price?coin=BTC", suggested=("succeed", "allow_host")),
    # the suggestion names the address; the request spells it another way the resolver accepts
    "not-a-cobo-host-in-hex": Refused("http://0x7f000001:{port}/v1/price", suggested=("succeed", "allow_host")),
}


@ON_CLIENTS
@pytest.mark.parametrize("refused", REFUSED.values(), ids=REFUSED.keys())
def test_every_suggestion_in_a_refusal_answers_the_request(
    client: Client, refused: Refused, loopback: Listener, socket_watch: Any
) -> None:
    url = refused.url.format(loopback=loopback.url, port=loopback.port)
    suggestions = _suggestions(_refusal(client, url, refused.base_urls))
    assert [line.split("(")[0] for line in suggestions] == [f"cobo_fault.{name}" for name in refused.suggested]
    for line in suggestions:
        with CoboFaults(transports=client.transport, base_urls=refused.base_urls) as cobo_fault:
            _paste(line, cobo_fault)
            answer = client.get(url)
        assert answer.status == 200, f"after {line}, GET {url} was still not answered"
    assert socket_watch.seen == []  # answered in-process or on loopback: nothing went to a Cobo host


@ON_CLIENTS
def test_a_refusal_for_http_names_the_base_url_to_declare(client: Client) -> None:
    message = _refusal(client, "http://api.dev.cobo.com/v1/custody/org_info/", None)
    assert message.endswith(
        "It is a Cobo host, so it never reaches the network: declare a rule for it, e.g.\n"
        "    cobo_fault.succeed(path='/v1/custody/org_info/', base_url='http://api.dev.cobo.com')"
    )


@ON_CLIENTS
def test_a_refusal_under_a_custom_base_suggests_the_path_below_it(client: Client) -> None:
    message = _refusal(client, f"{CUSTOM_BASE}/custody/org_info/", [CUSTOM_BASE])
    assert message.endswith("\n    cobo_fault.succeed(path='/custody/org_info/')")


@ON_CLIENTS
def test_a_refusal_for_another_host_offers_a_rule_or_letting_it_through(client: Client, loopback: Listener) -> None:
    message = _refusal(client, f"{loopback.url}/v1/price", None)
    assert message.endswith(
        "Declare a rule for it, e.g.\n"
        f"    cobo_fault.succeed(path='/v1/price', base_url='{loopback.url}')\n"
        "or let real traffic to its host through:\n"
        "    cobo_fault.allow_host('127.0.0.1')"
    )
    assert loopback.accepted == 0


# -- allow_host: what it accepts lets traffic through ------------------------------------
@ON_CLIENTS
@pytest.mark.parametrize(
    ("spelling", "host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),  # an IP address in a form the resolver accepts is that address
        ("localhost.", "localhost"),
        ("LocalHost", "localhost"),
    ],
)
def test_an_allowed_host_is_let_through(client: Client, loopback: Listener, spelling: str, host: str) -> None:
    with CoboFaults(transports=client.transport) as cobo_fault:
        cobo_fault.allow_host(spelling)
        answer = client.get(f"http://{host}:{loopback.port}/v1/price")
    assert (answer.status, answer.content) == (200, b"escaped")
    assert loopback.accepted == 1


@ON_CLIENTS
@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("127.0.0.1:{port}", "127.0.0.1"),
        ("localhost:{port}", "localhost"),
        ("http://127.0.0.1:{port}", "127.0.0.1"),
        ("http://127.0.0.1:{port}/v1/price", "127.0.0.1"),
        ("user@127.0.0.1", "127.0.0.1"),
    ],
)
def test_a_host_with_a_port_or_url_parts_is_refused_naming_the_host_meant(
    client: Client, loopback: Listener, given: str, meant: str
) -> None:
    """allow_host lets a host through on every port: a port, scheme or path could never match, so it is refused."""
    given = given.format(port=loopback.port)
    with CoboFaults(transports=client.transport) as cobo_fault:
        with pytest.raises(ValueError, match=r"allow_host takes bare host names .*no scheme, port or path") as refused:
            cobo_fault.allow_host(given)
        assert str(refused.value).endswith(f"got {given!r}: did you mean allow_host({meant!r})?")
        cobo_fault.allow_host(meant)
        answer = client.get(f"http://{meant}:{loopback.port}/v1/price")
    assert answer.status == 200


@pytest.mark.parametrize("given", ["", " ", "a host", "[127.0.0.1]", "::1:80x", "[::1"])
def test_what_is_no_host_at_all_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match=r"allow_host takes bare host names"):
        CoboFaults(transports="httpx").allow_host(given)


def test_nothing_is_allowed_when_one_of_several_hosts_is_refused() -> None:
    faults = CoboFaults(transports="httpx")
    with pytest.raises(ValueError, match="real Cobo host"):
        faults.allow_host("127.0.0.1", "api.cobo.com")
    assert faults.allowed_hosts == set()


@pytest.mark.parametrize("given", ["api.cobo.com:443", "https://api.dev.cobo.com"])
def test_a_cobo_url_is_refused_without_suggesting_its_host(given: str) -> None:
    with pytest.raises(ValueError, match="bare host names") as refused:
        CoboFaults(transports="httpx").allow_host(given)
    assert "did you mean" not in str(refused.value)
