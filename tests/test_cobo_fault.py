"""The cobo_fault fixture, used as a user would: what each kind of fault looks like to an httpx client."""

from __future__ import annotations

import re

import httpx
import pytest

from pytest_cobo_errors import (
    CoboFaults,
    SequenceExhaustedError,
    UnmatchedRequestError,
    assert_cobo_error,
    error,
    gateway,
    respond,
    success,
)

DEV = "https://api.dev.cobo.com"
WITHDRAW = "/v1/custody/new_withdraw_request/"
COIN_INFO = "/v1/custody/coin_info/"


def test_inject_answers_with_the_real_envelope_at_the_default_status(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(12007)
    response = httpx.post(DEV + WITHDRAW, data={"coin": "BTC"})
    assert_cobo_error(response, code=12007, status=400)
    assert response.headers["content-type"] == "application/json"


def test_rules_narrow_by_method_and_path_and_the_first_match_answers(cobo_fault: CoboFaults) -> None:
    withdraw = cobo_fault.inject(12009, method="POST", path=WITHDRAW)
    custody = cobo_fault.inject(1006, path="/v1/custody/*")
    coins = cobo_fault.inject(12002, path=re.compile(r"/v1/custody/coin_\w+/"), optional=True)
    assert httpx.post(DEV + WITHDRAW).json()["error_code"] == 12009
    assert httpx.get(DEV + WITHDRAW).json()["error_code"] == 1006  # GET is not POST: the next rule answers
    assert httpx.get(DEV + COIN_INFO).json()["error_code"] == 1006  # declared first, so it wins over `coins`
    assert (withdraw.call_count, custody.call_count, coins.call_count) == (1, 2, 0)


def test_overrides_change_status_message_headers_and_fields(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(
        1006, status=200, message="invalid request_id", headers={"X-Trace": "t1"}, fields={"error_id": "f" * 32}
    )
    response = httpx.get(DEV + COIN_INFO)
    assert response.status_code == 200  # "200 with success: false", which clients must survive too
    assert response.headers["x-trace"] == "t1"
    assert response.json() == {
        "success": False, "error_code": 1006, "error_message": "invalid request_id", "error_id": "f" * 32,
        "error_description": "invalid request_id",
    }  # fmt: skip


def test_omit_sends_the_documented_short_form(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(1000, omit=("error_message", "error_id"))
    assert set(httpx.get(DEV + COIN_INFO).json()) == {"success", "error_code", "error_description"}


def test_fail_then_succeed_serves_a_retrying_client(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.fail_then_succeed(1010, times=2, result={"coin": "BTC"})
    statuses = [httpx.get(DEV + COIN_INFO).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    assert rule.calls[-1].reply.body == b'{"success": true, "result": {"coin": "BTC"}}'
    with cobo_fault.expect_unmatched(), pytest.raises(SequenceExhaustedError, match="already gave all 3 declared"):
        httpx.get(DEV + COIN_INFO)


def test_a_sequence_mixes_any_outcomes(cobo_fault: CoboFaults) -> None:
    cobo_fault.sequence([503, error(1010), gateway(502, body="empty"), success({"ok": 1})])
    assert [httpx.get(DEV + COIN_INFO).status_code for _ in range(4)] == [503, 429, 502, 200]


def test_repeat_last_keeps_answering_with_the_final_outcome(cobo_fault: CoboFaults) -> None:
    cobo_fault.sequence([12007, success()], repeat_last=True)
    assert [httpx.get(DEV + COIN_INFO).status_code for _ in range(4)] == [400, 200, 200, 200]


def test_times_limits_a_rule_so_the_next_one_answers(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(1010, times=1)
    cobo_fault.succeed()
    assert [httpx.get(DEV + COIN_INFO).status_code for _ in range(3)] == [429, 200, 200]


def test_raw_responses_are_sent_byte_for_byte(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(respond(502, b'{"success": false, "error_code": 10', headers={"Content-Type": "text/plain"}))
    response = httpx.get(DEV + COIN_INFO)
    assert (response.status_code, response.content) == (502, b'{"success": false, "error_code": 10')


def test_calls_record_each_request_and_its_answer(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.inject(12009, method="POST", path=WITHDRAW)
    httpx.post(DEV + WITHDRAW, data={"request_id": "r-1", "coin": "ETH"}, headers={"Biz-Api-Key": "k" * 66})
    rule.assert_called_once()
    call = rule.calls[0]
    assert call.request.form == {"request_id": "r-1", "coin": "ETH"}
    assert call.request.header("biz-api-key") == "k" * 66
    assert call.outcome.code == 12009
    assert cobo_fault.calls == [call]
    with pytest.raises(AssertionError, match=r"called 1 time\(s\), expected 2"):
        rule.assert_called_times(2)


def test_a_request_no_rule_answers_fails_loudly_and_lists_the_rules(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(12009, method="POST", path=WITHDRAW, optional=True)
    with cobo_fault.expect_unmatched() as unmatched, pytest.raises(UnmatchedRequestError) as excinfo:
        httpx.get(DEV + COIN_INFO)
    assert [r.path for r in unmatched] == [COIN_INFO]
    message = str(excinfo.value)
    assert "no rule answers GET https://api.dev.cobo.com/v1/custody/coin_info/" in message
    assert "-> method GET is not POST" in message
    assert "never reaches the network" in message


def test_base_url_per_call_targets_a_local_stand_in(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(12007, base_url="http://127.0.0.1:8999/api")
    assert httpx.get("http://127.0.0.1:8999/api/v1/x").json()["error_code"] == 12007
    with (
        cobo_fault.expect_unmatched(),
        pytest.raises(UnmatchedRequestError, match=r"is not under http://127\.0\.0\.1:8999/api"),
    ):
        httpx.get("http://127.0.0.1:8999/other")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.inject(99999), "99999 is not a documented Cobo error code"),
        (lambda f: f.inject(12007, method="FETCH"), "method must be one of DELETE, GET"),
        (lambda f: f.inject(12007, path="v1/x"), "path must start with '/'"),
        (lambda f: f.inject(12007, base_url="api.cobo.com"), "invalid base URL 'api.cobo.com'"),
        (lambda f: f.inject(503, message="x"), "message override an error code's body"),
        (lambda f: f.network("timeout"), "unknown network fault 'timeout'; valid: connect_timeout"),
        (lambda f: f.fail_then_succeed(1010, times=0), "times must be a positive int"),
        (lambda f: f.sequence([]), "a sequence needs at least one outcome"),
        (lambda f: f.allow_host("api.cobo.com"), "is a real Cobo host"),
        (lambda f: f.inject("12007"), "cannot answer with '12007'"),
    ],
)
def test_mistakes_get_clear_errors_at_declaration(cobo_fault: CoboFaults, call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((TypeError, ValueError), match=re.escape(message)):
        call(cobo_fault)


def test_a_regex_path_matches_the_whole_path(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.inject(12002, path=re.compile(r"/v1/custody/coin_\w+/"))
    assert httpx.get(DEV + COIN_INFO).json()["error_code"] == 12002
    with (
        cobo_fault.expect_unmatched(),
        pytest.raises(UnmatchedRequestError, match=re.escape(r"does not match '/v1/custody/coin_\\w+/'")),
    ):
        httpx.get(DEV + "/v1/custody/coin_info/extra")  # fullmatch: a prefix is not enough
    assert rule.call_count == 1
