"""What a rule answers reaches every client the same way: envelopes, pages, sequences, network faults."""

from __future__ import annotations

import pytest

from pytest_cobo_errors import CoboFaults, gateway, respond, success, truncated_response
from pytest_cobo_errors.transports import UnsupportedFaultError
from pytest_cobo_errors.transports.contract import NETWORK_FAULT_KINDS

from .conftest import COIN_INFO, WITHDRAW, Client


def test_an_injected_error_arrives_as_cobos_envelope_at_its_default_status(
    faults: CoboFaults, client: Client, base: str
) -> None:
    faults.inject(12007, method="POST", path=WITHDRAW)
    answer = client.post(base + WITHDRAW, data={"coin": "BTC"})
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert (body["success"], body["error_code"], body["error_message"]) == (False, 12007, "Insufficient balance")
    assert len(body["error_id"]) == 32


@pytest.mark.parametrize(("page", "starts"), [("html", b"<html>"), ("empty", b"")])
def test_a_gateway_page_is_no_cobo_json(
    faults: CoboFaults, client: Client, base: str, page: str, starts: bytes
) -> None:
    faults.gateway(503, body=page)
    answer = client.get(base + COIN_INFO)
    assert answer.status == 503
    assert answer.content.startswith(starts)
    assert (answer.content == b"") is (page == "empty")


def test_a_sequence_answers_in_order_then_refuses(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.sequence([1010, 503, success({"coin": "BTC"})], path=COIN_INFO)
    assert [client.get(base + COIN_INFO).status for _ in range(3)] == [429, 503, 200]
    with faults.expect_unmatched():
        refusal = client.refusal("GET", base + COIN_INFO)
    assert refusal.reason == "exhausted"
    assert refusal.message.startswith(f"{client.fixture}: no rule answers GET {base}{COIN_INFO}")
    assert rule.call_count == 3


@pytest.mark.parametrize("kind", [k for k in NETWORK_FAULT_KINDS if k != "truncated_response"])
def test_a_network_fault_raises_the_librarys_own_exception(
    faults: CoboFaults, client: Client, base: str, kind: str
) -> None:
    if kind not in client.errors:  # a fault this transport cannot produce is refused when declared
        with pytest.raises(UnsupportedFaultError, match=f"the {client.transport} transport cannot"):
            faults.network(kind, path=COIN_INFO)
        return
    rule = faults.network(kind, path=COIN_INFO)
    with pytest.raises(client.errors[kind]) as raised:
        client.get(base + COIN_INFO)
    assert type(raised.value) is client.errors[kind]  # the exact class, as a client's except clause expects
    if client.fixture == "cobo_fault":  # in-process the message says who did it; a real socket's is the OS's
        assert "injected by cobo_fault" in str(raised.value)
    assert rule.call_count == 1


def test_a_truncated_response_breaks_while_the_body_is_read(faults: CoboFaults, client: Client, base: str) -> None:
    faults.inject(truncated_response(1000, after=20), path=COIN_INFO)
    with pytest.raises(client.errors["truncated_response"]):
        client.get(base + COIN_INFO)


def test_every_cobo_host_is_answered_in_any_spelling(faults: CoboFaults, client: Client, base: str) -> None:
    if client.fixture != "cobo_fault":
        pytest.skip("a server has one address: Cobo's host names reach it only in-process")
    faults.inject(1000)
    hosts = ["api.dev.cobo.com", "api.custody.cobo.com", "api.cobo.com", "api.sandbox.cobo.com", "API.Cobo.com."]
    assert {client.get(f"https://{host}{COIN_INFO}").status for host in hosts} == {500}
    assert len(faults.calls) == len(hosts)


def test_a_dropped_body_arrives_in_part_before_the_connection_breaks(
    faults: CoboFaults, client: Client, base: str
) -> None:
    rule = faults.inject(truncated_response(1000, after=20), path=COIN_INFO)
    status, received, error = client.stream(base + COIN_INFO)
    assert status == 500  # status and headers arrived before the connection died
    assert isinstance(error, client.errors["truncated_response"])
    sent = rule.calls[0].reply.body[:20]  # type: ignore[union-attr]
    assert received  # part of the body arrived ...
    assert sent.startswith(received)  # ... and no more than was sent (urllib3 drops a short last chunk)


@pytest.mark.parametrize(
    ("method", "outcome", "status"),
    [
        ("HEAD", 12007, 400),
        ("GET", respond(204, body=b'{"success": true}'), 204),
        ("GET", gateway(304, body="html"), 304),
        ("GET", respond(103, body=b"early hints"), 103),
    ],
    ids=["HEAD", "204", "304", "1xx"],
)
def test_an_answer_http_forbids_a_body_for_arrives_without_one(
    faults: CoboFaults, client: Client, base: str, *, method: str, outcome: object, status: int
) -> None:
    # RFC 9110: no body for HEAD, 1xx, 204 or 304; a client that got one would read it as the next response
    if status < 200 and client.fixture == "cobo_server":  # on a socket a 1xx is interim: the client waits on
        with pytest.raises(UnsupportedFaultError, match="the server transport cannot answer with 103"):
            faults.inject(outcome, method=method, path=COIN_INFO)  # type: ignore[arg-type]
        return
    faults.inject(outcome, method=method, path=COIN_INFO)  # type: ignore[arg-type]
    answer = client.send(method, base + COIN_INFO)
    assert (answer.status, answer.content) == (status, b"")


@pytest.mark.parametrize("value", ["café", "naïve \xa0 ÿ", "\x80obs-text\xff"])
def test_a_latin_1_header_value_arrives_as_declared(faults: CoboFaults, client: Client, base: str, value: str) -> None:
    # HTTP sends header values as latin-1 bytes (RFC 9110 5.5); httpx would encode a str as ASCII
    faults.inject(12007, headers={"X-Note": value}, path=COIN_INFO, times=1)
    faults.gateway(503, body="empty", headers={"X-Note": value}, path=COIN_INFO)
    answered, page = client.get(base + COIN_INFO), client.get(base + COIN_INFO)
    assert (answered.status, answered.headers["X-Note"]) == (400, value)
    assert (page.status, page.content, page.headers["X-Note"]) == (503, b"", value)


def test_a_truncated_response_stays_truncated_for_a_head_request(faults: CoboFaults, client: Client, base: str) -> None:
    if client.name.startswith(("requests", "urllib3")):
        pytest.skip("urllib3 reads no body for HEAD, and takes a connection closed in the headers for their end")
    faults.inject(truncated_response(1000, after=20), method="HEAD", path=COIN_INFO)
    with pytest.raises(client.errors["truncated_response"]):
        client.send("HEAD", base + COIN_INFO)
