"""The official ``cobo-custody`` SDK (0.46) under cobo_fault: what its callers really see.

These tests use the real `Client`, a `LocalSigner` with an API key generated here, and a Cobo
public key from the session's test key, so response signatures are verified for real. Several
tests document weaknesses of the SDK itself; they pin its behaviour, not a recommendation.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
import requests
from cobo_custody.client import Client
from cobo_custody.client.api_response import ApiResponse
from cobo_custody.config import Env
from cobo_custody.error.api_error import ApiError
from cobo_custody.signer.local_signer import LocalSigner, generate_new_key

from pytest_cobo_errors import CoboFaults, TestKey, connect_error, error, read_timeout, respond, signed, success
from pytest_cobo_errors.outcomes import Reply

pytestmark = pytest.mark.cobo_transports("requests")  # the SDK sends with requests

DEV = "https://api.dev.cobo.com"
WITHDRAW = "/v1/custody/new_withdraw_request/"
COIN_INFO = "/v1/custody/coin_info/"
VERIFY_FAILED = "Fatal: verify content error, maybe encounter mid man attack"


@pytest.fixture
def api_signer() -> LocalSigner:
    private_key, _ = generate_new_key()  # a throwaway API key, made for this test only
    return LocalSigner(private_key)


@pytest.fixture
def client(api_signer: LocalSigner, cobo_signing_key: TestKey, cobo_fault: CoboFaults) -> Client:
    """The SDK as a user configures it, trusting the test key in place of Cobo's public key."""
    cobo_fault.sign_responses(cobo_signing_key)
    return Client(signer=api_signer, env=Env(host=DEV, coboPub=cobo_signing_key.public_key_hex))


def withdraw(client: Client) -> ApiResponse:
    return client.withdraw("ETH", "0x" + "ab" * 20, 10**18, request_id="w-1")


# -- errors reach the caller as values ------------------------------------------------------------------


def test_an_injected_12007_is_returned_as_a_failed_api_response(
    client: Client, cobo_fault: CoboFaults, api_signer: LocalSigner
) -> None:
    rule = cobo_fault.inject(12007, method="POST", path=WITHDRAW)
    answer = withdraw(client)
    reply = rule.calls[0].reply
    assert isinstance(reply, Reply)
    served = json.loads(reply.body)
    assert answer == ApiResponse(
        success=False, result=None, exception=ApiError(12007, "Insufficient balance", served["error_id"])
    )
    assert answer.exception is not None
    assert answer.exception.errorCode == 12007
    assert reply.header("BIZ_RESP_SIGNATURE") is not None  # signed, and the SDK's verification passed
    sent = rule.calls[0].request  # the SDK's own signed request, as the rule saw it
    assert sent.header("Biz-Api-Key") == api_signer.get_public_key()
    assert sent.form["request_id"] == "w-1"
    assert sent.form["amount"] == str(10**18)


def test_the_sdk_ignores_the_http_status_of_an_error(client: Client, cobo_fault: CoboFaults) -> None:
    cobo_fault.sequence([error(12007, status=400), error(12007, status=200)])
    first, second = withdraw(client), withdraw(client)
    assert (first.success, second.success) == (False, False)
    assert first.exception is not None
    assert second.exception is not None
    assert first.exception.errorCode == second.exception.errorCode == 12007


def test_fail_then_succeed_gives_a_failure_then_the_result(client: Client, cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.fail_then_succeed(1010, result={"coin": "ETH", "balance": "5"}, path=COIN_INFO)
    first = client.get_coin_info("ETH")
    second = client.get_coin_info("ETH")
    assert first.success is False
    assert first.exception is not None
    assert first.exception.errorCode == 1010
    assert second == ApiResponse(success=True, result={"coin": "ETH", "balance": "5"}, exception=None)
    assert rule.call_count == 2


# -- signature verification -----------------------------------------------------------------------------


@pytest.mark.parametrize("forgery", ["tampered", "wrong"])
def test_a_forged_signature_makes_the_sdk_raise(
    client: Client, cobo_fault: CoboFaults, forgery: Literal["tampered", "wrong"]
) -> None:
    cobo_fault.inject(signed(success({"coin": "ETH"}), forgery))
    with pytest.raises(Exception, match=VERIFY_FAILED) as raised:
        client.get_coin_info("ETH")
    assert type(raised.value) is Exception  # a bare Exception: callers cannot catch it narrowly


def test_a_tampered_amount_is_caught_only_by_the_signature(client: Client, cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(
        signed(success({"amount": "1"}), "tampered", tamper=lambda body: body.replace(b'"1"', b'"1000000"'))
    )
    with pytest.raises(Exception, match=VERIFY_FAILED):
        client.get_coin_info("ETH")


# -- documented weaknesses of the SDK -------------------------------------------------------------------


def test_an_html_502_page_makes_the_sdk_raise_json_decode_error(client: Client, cobo_fault: CoboFaults) -> None:
    cobo_fault.gateway(502)  # a proxy's page: no Cobo JSON, no signature
    with pytest.raises(json.JSONDecodeError) as raised:
        client.get_coin_info("ETH")
    assert type(raised.value) is json.JSONDecodeError  # not an ApiResponse, not a requests error


def test_a_missing_signature_is_not_checked_at_all(client: Client, cobo_fault: CoboFaults) -> None:
    cobo_fault.sequence([signed(success({"coin": "ETH"}), "missing"), respond(200, b'{"success": true, "result": 1}')])
    assert client.get_coin_info("ETH") == ApiResponse(True, {"coin": "ETH"}, None)  # timestamp, no signature
    assert client.get_coin_info("ETH") == ApiResponse(True, 1, None)  # no signature headers at all


@pytest.mark.parametrize("age", [3600, 86400, 365 * 86400])
def test_a_stale_timestamp_is_accepted_because_freshness_is_never_checked(
    client: Client, cobo_fault: CoboFaults, age: int
) -> None:
    cobo_fault.inject(signed(success({"coin": "ETH"}), "stale", age=age))
    assert client.get_coin_info("ETH") == ApiResponse(True, {"coin": "ETH"}, None)


def test_the_timestamp_is_signed_so_a_replayed_response_passes_but_an_edited_one_does_not(
    client: Client, cobo_fault: CoboFaults
) -> None:
    cobo_fault.sequence([success({"balance": "5"})])
    client.get_coin_info("ETH")
    captured = cobo_fault.calls[0].reply
    assert isinstance(captured, Reply)
    headers = dict(captured.headers)
    edited = {**headers, "BIZ_TIMESTAMP": str(int(headers["BIZ_TIMESTAMP"]) + 1)}
    cobo_fault.sequence([respond(200, captured.body, headers=headers), respond(200, captured.body, headers=edited)])
    assert client.get_coin_info("ETH") == ApiResponse(True, {"balance": "5"}, None)  # the replay is accepted
    with pytest.raises(Exception, match=VERIFY_FAILED):
        client.get_coin_info("ETH")  # the timestamp is covered by the signature


def test_the_documented_short_error_body_makes_the_sdk_raise_key_error(client: Client, cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(1000, omit=("error_message", "error_id"))  # the docs' short example
    with pytest.raises(KeyError, match="error_message"):
        client.get_coin_info("ETH")


def test_network_faults_escape_the_sdk_as_requests_exceptions(client: Client, cobo_fault: CoboFaults) -> None:
    cobo_fault.sequence([read_timeout(), connect_error()])
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.get_coin_info("ETH")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get_coin_info("ETH")


def test_the_sdk_sends_without_a_timeout(
    client: Client, cobo_fault: CoboFaults, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []
    real_get, real_post = requests.get, requests.post

    def spy(real: Any) -> Any:
        def call(url: str, **kwargs: Any) -> Any:
            sent.append(kwargs)
            return real(url, **kwargs)

        return call

    monkeypatch.setattr(requests, "get", spy(real_get))
    monkeypatch.setattr(requests, "post", spy(real_post))
    cobo_fault.succeed()
    client.get_coin_info("ETH")
    withdraw(client)
    assert len(sent) == 2
    assert all("timeout" not in kwargs for kwargs in sent)  # a silent peer would block the caller forever
