"""A captured request looks the same whatever library sent it, so one assertion holds on every transport."""

from __future__ import annotations

import json

from pytest_cobo_errors import CoboFaults

from .conftest import COIN_INFO, WITHDRAW, Client


def test_headers_are_looked_up_case_insensitively(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.succeed(path=COIN_INFO)
    client.get(base + COIN_INFO, headers={"Biz-Api-Key": "k" * 66, "X-Trace": "t1"})
    headers = rule.calls[0].request.headers
    assert headers["biz-api-key"] == headers["Biz-Api-Key"] == headers["BIZ-API-KEY"] == "k" * 66
    assert "x-trace" in headers
    assert "X-TRACE" in headers
    assert headers.get("x-missing") is None
    assert "k" * 66 not in repr(headers)  # credentials are masked wherever a request is printed


def test_a_form_body_is_content_and_form(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.inject(12009, method="POST", path=WITHDRAW)
    client.post(base + WITHDRAW, data={"request_id": "r-1", "coin": "ETH"})
    request = rule.calls[0].request
    assert request.content == b"request_id=r-1&coin=ETH"
    assert request.form == {"request_id": "r-1", "coin": "ETH"}
    assert request.transport == client.transport


def test_a_json_body_is_json_and_no_form(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.succeed(method="POST", path="/v2/wallets")
    client.post(base + "/v2/wallets", json={"name": "w"})
    request = rule.calls[0].request
    assert request.json() == {"name": "w"}
    assert json.loads(request.content) == {"name": "w"}
    assert request.form == {}  # not a form: never a dict with the JSON text as its key


def test_the_query_string_is_params(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.succeed(path=COIN_INFO)
    client.get(base + COIN_INFO, params={"coin": "ETH", "amount": "1"})
    request = rule.calls[0].request
    assert (request.method, request.path, request.params) == ("GET", COIN_INFO, {"coin": "ETH", "amount": "1"})
    assert request.content == b""
