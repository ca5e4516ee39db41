"""The demo: proving a Cobo client handles documented errors, with cobo_fault and @cobo_error_cases.

Run it with `pytest examples`. Every test here uses the plugin exactly as a user would.
"""

from __future__ import annotations

import pytest
from cobo_client import (
    CoboApiError,
    CoboClient,
    CoboUnavailable,
    DuplicateWithdrawal,
    InsufficientBalance,
    RateLimited,
)

from pytest_cobo_errors import CoboErrorCase, CoboFaults, cobo_error_cases, gateway, read_timeout, success

WITHDRAW = "/v1/custody/new_withdraw_request/"
COIN_INFO = "/v1/custody/coin_info/"


@pytest.fixture
def client() -> CoboClient:
    return CoboClient(retries=2)


def test_insufficient_balance_reaches_the_caller_with_its_details(cobo_fault: CoboFaults, client: CoboClient) -> None:
    cobo_fault.inject(12007, method="POST", path=WITHDRAW)
    with pytest.raises(InsufficientBalance) as excinfo:
        client.withdraw("BTC", "bc1qexample", 10**8, request_id="w-1")
    assert excinfo.value.code == 12007
    assert excinfo.value.status == 400
    assert len(excinfo.value.error_id) == 32


def test_a_duplicate_withdrawal_is_reported_and_never_retried(cobo_fault: CoboFaults, client: CoboClient) -> None:
    rule = cobo_fault.inject(12009, method="POST", path=WITHDRAW, expect_calls=1)
    with pytest.raises(DuplicateWithdrawal):
        client.withdraw("ETH", "0xabc", 5, request_id="w-2")
    assert rule.calls[0].request.form["request_id"] == "w-2"


def test_rate_limiting_is_retried_until_it_succeeds(cobo_fault: CoboFaults, client: CoboClient) -> None:
    rule = cobo_fault.fail_then_succeed(1010, times=2, path=COIN_INFO, result={"coin": "BTC", "decimal": 8})
    assert client.coin_info("BTC") == {"coin": "BTC", "decimal": 8}
    rule.assert_called_times(3)


def test_rate_limiting_gives_up_after_the_retry_budget(cobo_fault: CoboFaults, client: CoboClient) -> None:
    cobo_fault.inject(1010, path=COIN_INFO, expect_calls=3)
    with pytest.raises(RateLimited):
        client.coin_info("BTC")


def test_a_429_gateway_page_is_retried_like_1010(cobo_fault: CoboFaults, client: CoboClient) -> None:
    cobo_fault.sequence([gateway(429, body="empty"), success({"coin": "BTC"})], path=COIN_INFO)
    assert client.coin_info("BTC") == {"coin": "BTC"}


def test_a_503_gateway_page_is_retried_then_reported(cobo_fault: CoboFaults, client: CoboClient) -> None:
    cobo_fault.gateway(503, path=COIN_INFO, expect_calls=3)
    with pytest.raises(CoboUnavailable, match="failed after 3 attempts"):
        client.coin_info("BTC")


@pytest.mark.parametrize("kind", ["connect_timeout", "read_timeout", "connect_error", "truncated_response"])
def test_network_faults_are_retried_then_reported(cobo_fault: CoboFaults, client: CoboClient, kind: str) -> None:
    cobo_fault.network(kind, path=COIN_INFO, expect_calls=3)
    with pytest.raises(CoboUnavailable):
        client.coin_info("BTC")


def test_a_timeout_then_success_is_invisible_to_the_caller(cobo_fault: CoboFaults, client: CoboClient) -> None:
    cobo_fault.fail_then_succeed(read_timeout(), path=COIN_INFO, result={"coin": "ETH"})
    assert client.coin_info("ETH") == {"coin": "ETH"}


@cobo_error_cases(
    statuses=[404, 502, 503],
    expect={"12007": InsufficientBalance, "12009": DuplicateWithdrawal, "1010": RateLimited, "http:404": CoboUnavailable,
            "http:502": CoboUnavailable, "http:503": CoboUnavailable, "*": CoboApiError},
)  # fmt: skip
def test_every_documented_error_maps_to_the_right_exception(
    cobo_fault: CoboFaults, client: CoboClient, cobo_error: CoboErrorCase
) -> None:
    cobo_fault.inject(cobo_error, method="POST", path=WITHDRAW)
    cobo_error.check_call(client.withdraw, "BTC", "bc1qexample", 1, request_id="w-3")
