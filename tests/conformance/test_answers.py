"""What a rule answers reaches every client the same way: envelopes, pages, sequences, network faults."""

from __future__ import annotations

import pytest

from pytest_cobo_errors import CoboFaults, SequenceExhaustedError, dropped_connection, gateway, respond, success

from .conftest import COIN_INFO, DEV, WITHDRAW, Client


def test_an_injected_error_arrives_as_cobos_envelope_at_its_default_status(
    cobo_fault: CoboFaults, client: Client
) -> None:
    cobo_fault.inject(12007, method="POST", path=WITHDRAW)
    answer = client.post(DEV + WITHDRAW, data={"coin": "BTC"})
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert (body["success"], body["error_code"], body["error_message"]) == (False, 12007, "Insufficient balance")
    assert len(body["error_id"]) == 32


@pytest.mark.parametrize(("page", "starts"), [("html", b"<html>"), ("empty", b"")])
def test_a_gateway_page_is_no_cobo_json(cobo_fault: CoboFaults, client: Client, page: str, starts: bytes) -> None:
    cobo_fault.status(503, body=page)
    answer = client.get(DEV + COIN_INFO)
    assert answer.status == 503
    assert answer.content.startswith(starts)
    assert (answer.content == b"") is (page == "empty")


def test_a_sequence_answers_in_order_then_refuses_unwrapped(cobo_fault: CoboFaults, client: Client) -> None:
    rule = cobo_fault.sequence([1010, 503, success({"coin": "BTC"})], path=COIN_INFO)
    assert [client.get(DEV + COIN_INFO).status for _ in range(3)] == [429, 503, 200]
    with cobo_fault.expect_unmatched(), pytest.raises(SequenceExhaustedError) as refused:
        client.get(DEV + COIN_INFO)
    assert type(refused.value) is SequenceExhaustedError  # not a library's ConnectionError a retry loop swallows
    assert refused.value.__cause__ is None
    assert refused.value.__context__ is None
    assert rule.call_count == 3


@pytest.mark.parametrize("kind", ["connect_timeout", "read_timeout", "connect_error"])
def test_a_network_fault_raises_the_librarys_own_exception(cobo_fault: CoboFaults, client: Client, kind: str) -> None:
    rule = cobo_fault.network(kind, path=COIN_INFO)
    with pytest.raises(client.errors[kind], match="injected by cobo_fault") as raised:
        client.get(DEV + COIN_INFO)
    assert type(raised.value) is client.errors[kind]  # the exact class, as a client's except clause expects
    assert rule.call_count == 1


def test_a_dropped_connection_breaks_while_the_body_is_read(cobo_fault: CoboFaults, client: Client) -> None:
    cobo_fault.inject(dropped_connection(1000, after=20), path=COIN_INFO)
    with pytest.raises(client.errors["dropped"]):
        client.get(DEV + COIN_INFO)


def test_every_cobo_host_is_answered_in_any_spelling(cobo_fault: CoboFaults, client: Client) -> None:
    cobo_fault.inject(1000)
    hosts = ["api.dev.cobo.com", "api.custody.cobo.com", "api.cobo.com", "api.sandbox.cobo.com", "API.Cobo.com."]
    assert {client.get(f"https://{host}{COIN_INFO}").status for host in hosts} == {500}
    assert len(cobo_fault.calls) == len(hosts)


def test_a_dropped_body_arrives_in_part_before_the_connection_breaks(cobo_fault: CoboFaults, client: Client) -> None:
    rule = cobo_fault.inject(dropped_connection(1000, after=20), path=COIN_INFO)
    status, received, error = client.stream(DEV + COIN_INFO)
    assert status == 500  # status and headers arrived before the connection died
    assert isinstance(error, client.errors["dropped"])
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
    cobo_fault: CoboFaults, client: Client, method: str, outcome: object, status: int
) -> None:
    # RFC 9110: no body for HEAD, 1xx, 204 or 304; a client that got one would read it as the next response
    cobo_fault.inject(outcome, method=method, path=COIN_INFO)  # type: ignore[arg-type]
    answer = client.send(method, DEV + COIN_INFO)
    assert (answer.status, answer.content) == (status, b"")


@pytest.mark.parametrize("value", ["café", "naïve \xa0 ÿ", "\x80obs-text\xff"])
def test_a_latin_1_header_value_arrives_as_declared(cobo_fault: CoboFaults, client: Client, value: str) -> None:
    # HTTP sends header values as latin-1 bytes (RFC 9110 5.5); httpx would encode a str as ASCII
    cobo_fault.inject(12007, headers={"X-Note": value}, path=COIN_INFO, times=1)
    cobo_fault.status(503, body="empty", headers={"X-Note": value}, path=COIN_INFO)
    answered, page = client.get(DEV + COIN_INFO), client.get(DEV + COIN_INFO)
    assert (answered.status, answered.headers["X-Note"]) == (400, value)
    assert (page.status, page.content, page.headers["X-Note"]) == (503, b"", value)


def test_a_dropped_connection_stays_dropped_for_a_head_request(cobo_fault: CoboFaults, client: Client) -> None:
    if client.transport == "requests":
        pytest.skip("urllib3 reads no body for HEAD, so a connection cut in the body goes unnoticed")
    cobo_fault.inject(dropped_connection(1000, after=20), method="HEAD", path=COIN_INFO)
    with pytest.raises(client.errors["dropped"]):
        client.send("HEAD", DEV + COIN_INFO)
