"""Testing your own code built on the official cobo-custody SDK, with cobo_fault and signed responses.

The SDK sends with ``requests``, so these tests use the requests transport
(``pip install 'pytest-cobo-errors[requests,signing]'``). The client trusts the session's test
key in place of Cobo's public key, so injected answers are signed and verified for real.
"""

from __future__ import annotations

from typing import Literal

import pytest

pytest.importorskip("cobo_custody", reason="the SDK demo needs the official SDK: pip install -e '.[examples]'")

from cobo_custody.client import Client
from cobo_custody.config import Env
from cobo_custody.signer.local_signer import LocalSigner, generate_new_key
from sdk_wallet import CoboUnavailable, ForgedResponse, InsufficientFunds, Withdrawals

from pytest_cobo_errors import CapturedRequest, CoboFaults, TestKey, lost, read_timeout, signed, success

pytestmark = pytest.mark.cobo_transports("requests")

WITHDRAW = "/v1/custody/new_withdraw_request/"
WITHDRAW_INFO = "/v1/custody/withdraw_info_by_request_id/"
ADDRESS = "0x" + "ab" * 20


@pytest.fixture
def withdrawals(cobo_fault: CoboFaults, cobo_signing_key: TestKey) -> Withdrawals:
    cobo_fault.sign_responses(cobo_signing_key)  # sign every injected answer as Cobo would
    api_key, _ = generate_new_key()  # a throwaway API key: never put a real one in a test
    env = Env(host="https://api.dev.cobo.com", coboPub=cobo_signing_key.public_key_hex)
    return Withdrawals(Client(signer=LocalSigner(api_key), env=env), retries=2)


def test_a_withdrawal_returns_cobos_record(cobo_fault: CoboFaults, withdrawals: Withdrawals) -> None:
    rule = cobo_fault.succeed({"request_id": "w-1", "status": 0}, method="POST", path=WITHDRAW)
    assert withdrawals.send("ETH", ADDRESS, 10**18, request_id="w-1") == {"request_id": "w-1", "status": 0}
    assert rule.calls[0].request.form == {
        "coin": "ETH", "request_id": "w-1", "address": ADDRESS, "amount": str(10**18)
    }  # fmt: skip


def test_insufficient_balance_reaches_the_caller(cobo_fault: CoboFaults, withdrawals: Withdrawals) -> None:
    cobo_fault.inject(12007, method="POST", path=WITHDRAW, expect_calls=1)
    with pytest.raises(InsufficientFunds) as raised:
        withdrawals.send("ETH", ADDRESS, 10**18, request_id="w-2")
    assert raised.value.code == 12007


def test_a_timed_out_withdrawal_is_retried_and_its_duplicate_resolved(
    cobo_fault: CoboFaults, withdrawals: Withdrawals
) -> None:
    # The first attempt reached Cobo but its answer was lost; the retry reuses the request_id,
    # so Cobo says 12009 and the wallet fetches the withdrawal the first attempt created.
    submit = cobo_fault.sequence([read_timeout(), 12009], method="POST", path=WITHDRAW)
    cobo_fault.succeed({"request_id": "w-3", "status": 0}, path=WITHDRAW_INFO)
    assert withdrawals.send("ETH", ADDRESS, 5, request_id="w-3") == {"request_id": "w-3", "status": 0}
    assert [call.request.form["request_id"] for call in submit.calls] == ["w-3", "w-3"]


def test_rate_limiting_is_retried_until_it_succeeds(cobo_fault: CoboFaults, withdrawals: Withdrawals) -> None:
    cobo_fault.fail_then_succeed(1010, times=2, result={"request_id": "w-4"}, path=WITHDRAW)
    assert withdrawals.send("ETH", ADDRESS, 5, request_id="w-4") == {"request_id": "w-4"}


def test_gateway_pages_are_retried_then_reported(cobo_fault: CoboFaults, withdrawals: Withdrawals) -> None:
    cobo_fault.gateway(502, path=WITHDRAW, expect_calls=3)  # the SDK raises JSONDecodeError on these
    with pytest.raises(CoboUnavailable, match="after 3 attempts"):
        withdrawals.send("ETH", ADDRESS, 5, request_id="w-5")


@pytest.mark.parametrize("forgery", ["tampered", "wrong"])
def test_a_forged_response_is_never_trusted_nor_retried(
    cobo_fault: CoboFaults, withdrawals: Withdrawals, forgery: Literal["tampered", "wrong"]
) -> None:
    cobo_fault.inject(signed(success({"request_id": "w-6"}), forgery), path=WITHDRAW, expect_calls=1)
    with pytest.raises(ForgedResponse):
        withdrawals.send("ETH", ADDRESS, 5, request_id="w-6")


def test_a_retry_after_a_lost_answer_reuses_its_request_id(cobo_fault: CoboFaults, withdrawals: Withdrawals) -> None:
    # A Cobo that remembers request ids: the first withdrawal goes through but its answer is lost
    # (a read timeout), so the wallet retries; the same request_id then gets 12009, and the wallet
    # fetches the withdrawal its first attempt created. A retry that minted a new request_id would
    # be a second payout, and would get a second success here instead.
    seen: set[str] = set()

    def cobo(request: CapturedRequest) -> object:
        request_id = request.form["request_id"]
        if request_id in seen:
            return 12009
        seen.add(request_id)
        return lost(success({"request_id": request_id, "status": 0}))

    submit = cobo_fault.inject(cobo, method="POST", path=WITHDRAW, form={"coin": "ETH"}, expect_calls=2)
    cobo_fault.succeed({"request_id": "w-7", "status": 0}, path=WITHDRAW_INFO, params={"request_id": "w-7"})
    assert withdrawals.send("ETH", ADDRESS, 5, request_id="w-7") == {"request_id": "w-7", "status": 0}
    assert [call.outcome.code for call in submit.calls] == [None, 12009]  # the success happened, then the duplicate
