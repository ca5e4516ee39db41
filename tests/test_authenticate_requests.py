"""`authenticate_requests()`: the fake checks each request's signature as Cobo does, before any rule.

A client that signs correctly reaches the rules; one that signs the wrong string gets the error
Cobo answers (v1 12001 / 12000 / 1006 / 1005, v2 2024 at 401), a header saying why, and a test
failure at teardown unless the test expected it. The checks themselves are in test_request_auth.py.
"""

from __future__ import annotations

import json

import pytest
import requests
from cobo_custody.client.client import Client
from cobo_custody.config.env import Env
from cobo_custody.signer.local_signer import LocalSigner, generate_new_key

from pytest_cobo_errors import CoboFaults
from pytest_cobo_errors.request_auth import sign_v1, sign_v2

DEV = "https://api.dev.cobo.com"
COIN_INFO = "/v1/custody/coin_info/"
requests_only = pytest.mark.cobo_transports("requests")


@requests_only
def test_the_official_sdk_signs_requests_the_check_accepts(cobo_fault: CoboFaults) -> None:
    private_key, public_key = generate_new_key()
    cobo_fault.authenticate_requests([public_key], reject_replays=True)
    cobo_fault.succeed({"coin": "ETH"}, path=COIN_INFO)
    client = Client(signer=LocalSigner(private_key), env=Env(host=DEV, coboPub="02" + "00" * 32), debug=False)
    assert [client.get_coin_info("ETH").result for _ in range(2)] == [{"coin": "ETH"}] * 2
    assert len(cobo_fault.calls) == 2
    assert cobo_fault.unmatched == []


@requests_only
@pytest.mark.parametrize(
    ("headers_for", "code", "says"),
    [
        (lambda key: sign_v1("GET", COIN_INFO, {"coin": "BTC"}, key), 12001, "'GET|/v1/custody/coin_info/|"),
        (lambda key: {}, 12000, "Biz-Api-Key"),
        (
            lambda key: sign_v1("GET", COIN_INFO, {"coin": "ETH"}, generate_new_key()[0]),
            1006,
            "is not one of the 1 accepted API keys",
        ),
    ],
    ids=["signed another query", "no headers", "a key not allowed"],
)
def test_a_badly_signed_v1_request_gets_cobos_answer_and_fails_the_test(
    cobo_fault: CoboFaults, headers_for: object, code: int, says: str
) -> None:
    private_key, public_key = generate_new_key()
    cobo_fault.authenticate_requests([public_key])
    rule = cobo_fault.succeed(path=COIN_INFO, optional=True)
    with cobo_fault.expect_unmatched() as rejected:
        # the client sends coin=ETH whatever it signed
        response = requests.get(DEV + COIN_INFO, params={"coin": "ETH"}, headers=headers_for(private_key))  # type: ignore[operator]
    assert (response.status_code, response.json()["error_code"]) == (401 if code != 1006 else 400, code)
    assert says in response.headers["X-Cobo-Fault-Auth"]
    assert rule.call_count == 0  # the rules never saw it
    assert [request.path for request in rejected] == [COIN_INFO]


@requests_only
def test_a_replayed_nonce_is_refused_when_asked(cobo_fault: CoboFaults) -> None:
    private_key, _ = generate_new_key()
    cobo_fault.authenticate_requests(reject_replays=True)
    cobo_fault.succeed(path=COIN_INFO)
    headers = sign_v1("GET", COIN_INFO, {"coin": "ETH"}, private_key)
    first = requests.get(DEV + COIN_INFO, params={"coin": "ETH"}, headers=headers)
    with cobo_fault.expect_unmatched():
        replayed = requests.get(DEV + COIN_INFO, params={"coin": "ETH"}, headers=headers)
    assert first.status_code == 200
    assert replayed.json()["error_code"] == 1005


def test_a_v2_request_is_checked_over_its_raw_body_on_the_loopback_server(cobo_server: CoboFaults) -> None:
    seed = "11" * 32
    cobo_server.authenticate_requests()
    cobo_server.succeed({"id": "w-1"}, method="POST", path="/v2/wallets")
    body = b'{"name": "w"}'
    headers = sign_v2("POST", "/v2/wallets", seed, body=body) | {"Content-Type": "application/json"}
    created = requests.post(cobo_server.url + "/v2/wallets", data=body, headers=headers)
    assert created.json() == {"id": "w-1"}
    with cobo_server.expect_unmatched() as rejected:
        compact = json.dumps({"name": "w"}, separators=(",", ":")).encode()  # the same JSON, other bytes
        refused = requests.post(cobo_server.url + "/v2/wallets", data=compact, headers=headers)
    assert refused.status_code == 401
    assert set(refused.json()) == {"error_code", "error_message", "error_id"}  # WaaS 2.0's envelope
    assert refused.json()["error_code"] == 2024
    assert len(rejected) == 1


def test_without_the_call_nothing_is_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests
        import pytest

        @pytest.mark.cobo_transports("requests")
        def test_unsigned(cobo_fault):
            cobo_fault.succeed(path="/v1/custody/coin_info/")
            assert requests.get("https://api.dev.cobo.com/v1/custody/coin_info/").status_code == 200

        @pytest.mark.cobo_transports("requests")
        def test_rejected_unexpectedly(cobo_fault):
            cobo_fault.authenticate_requests()
            cobo_fault.succeed(path="/v1/custody/coin_info/", optional=True)
            assert requests.get("https://api.dev.cobo.com/v1/custody/coin_info/").status_code == 401
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*rejected by the request-signature check: *Biz-Api-Key*"])


def test_api_keys_must_be_a_collection(cobo_fault: CoboFaults) -> None:
    with pytest.raises(TypeError, match="api_keys takes a collection of public keys"):
        cobo_fault.authenticate_requests("02" + "ab" * 32)


def test_api_keys_that_are_not_strings_are_refused_when_declared(cobo_fault: CoboFaults) -> None:
    with pytest.raises(TypeError, match=r"api_keys takes a collection of public keys in hex, e\.g\. \[key\], got 5"):
        cobo_fault.authenticate_requests(5)  # type: ignore[arg-type]
