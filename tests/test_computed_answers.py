"""Computed answers: a function of the captured request, wherever an outcome is accepted."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import requests

from pytest_cobo_errors import CoboFaults, error, lost, signed, success
from pytest_cobo_errors.hosts import CapturedRequest
from pytest_cobo_errors.outcomes import ComputedAnswer, ErrorAnswer, OutcomeLike, SuccessAnswer, as_outcome

DEV = "https://api.dev.cobo.com"
WITHDRAW = "/v1/custody/new_withdraw_request/"
TRANSFER = "/v2/transactions/transfer"


def echo_request_id(request: CapturedRequest) -> OutcomeLike:
    return success({"request_id": request.form["request_id"], "status": "created"})


def test_a_computed_answer_echoes_the_request_id_to_requests(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.inject(echo_request_id, method="POST", path=WITHDRAW)
    answer = requests.post(DEV + WITHDRAW, data={"request_id": "pay-42", "coin": "BTC"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "result": {"request_id": "pay-42", "status": "created"}}
    (call,) = rule.calls
    assert isinstance(call.outcome, SuccessAnswer)  # the resolved outcome is recorded, not the function
    assert call.outcome.result == {"request_id": "pay-42", "status": "created"}


def test_a_computed_answer_echoes_a_json_request_id_to_httpx(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(lambda request: success({"id": request.json()["request_id"]}), method="POST", path=TRANSFER)
    answer = httpx.post(DEV + TRANSFER, json={"request_id": "t-7"})
    assert answer.status_code == 200
    assert answer.json() == {"id": "t-7"}  # a /v2 rule answers in WaaS 2.0's form: no wrapper


@pytest.mark.parametrize("send", ["requests", "httpx"])
def test_a_replayed_request_id_is_answered_12009(cobo_fault: CoboFaults, send: str) -> None:
    seen: set[str] = set()

    def pay_once(request: CapturedRequest) -> OutcomeLike:
        request_id = request.form["request_id"]
        if request_id in seen:
            return 12009  # duplicate request_id
        seen.add(request_id)
        return success({"request_id": request_id})

    rule = cobo_fault.inject(pay_once, method="POST", path=WITHDRAW)
    post = requests.post if send == "requests" else httpx.post
    answers = [post(DEV + WITHDRAW, data={"request_id": rid}) for rid in ("r-1", "r-2", "r-1")]
    assert [a.status_code for a in answers] == [200, 200, 400]
    assert answers[2].json()["error_code"] == 12009
    assert [type(call.outcome) for call in rule.calls] == [SuccessAnswer, SuccessAnswer, ErrorAnswer]
    assert cobo_fault.served_codes() == [12009]


@pytest.mark.parametrize("send", ["requests", "httpx"])
def test_succeed_takes_a_function_of_the_request_for_its_result(cobo_fault: CoboFaults, send: str) -> None:
    rule = cobo_fault.succeed(lambda request: {"request_id": request.form["request_id"]}, method="POST", path=WITHDRAW)
    post = requests.post if send == "requests" else httpx.post
    answer = post(DEV + WITHDRAW, data={"request_id": "pay-7"})
    assert answer.json() == {"success": True, "result": {"request_id": "pay-7"}}
    assert isinstance(rule.calls[0].outcome, SuccessAnswer)
    assert "answer computed by <lambda> at test_computed_answers.py" in str(rule)


def test_a_computed_result_takes_the_rules_api_and_status(cobo_fault: CoboFaults) -> None:
    cobo_fault.succeed(lambda request: {"id": request.json()["request_id"]}, status=201, path=TRANSFER)
    cobo_fault.fail_then_succeed(1010, result=lambda request: {"retried": request.params["coin"]}, path="/v1/c/")
    created = httpx.post(DEV + TRANSFER, json={"request_id": "t-1"})
    assert (created.status_code, created.json()) == (201, {"id": "t-1"})  # WaaS 2.0's bare object
    assert httpx.get(DEV + "/v1/c/", params={"coin": "BTC"}).status_code == 429
    assert httpx.get(DEV + "/v1/c/", params={"coin": "BTC"}).json() == {"success": True, "result": {"retried": "BTC"}}


def test_a_computed_answer_may_wait_for_another_threads_request(cobo_fault: CoboFaults) -> None:
    # the function runs with no lock of the plugin's held: a request from another thread is answered meanwhile
    cobo_fault.succeed({"coin": "BTC", "decimal": 8}, path="/v1/custody/coin_info/")

    def quote_from_coin_info(request: CapturedRequest) -> OutcomeLike:
        with ThreadPoolExecutor(1) as pool:
            coin = pool.submit(httpx.get, DEV + "/v1/custody/coin_info/").result(timeout=5)
        return success({"decimal": coin.json()["result"]["decimal"]})

    cobo_fault.inject(quote_from_coin_info, path=WITHDRAW)
    assert httpx.get(DEV + WITHDRAW).json() == {"success": True, "result": {"decimal": 8}}


def test_a_computed_answer_may_return_a_status_an_outcome_or_a_lost_answer(cobo_fault: CoboFaults) -> None:
    answers = iter([503, error(1010, status=429), lost(success({"ok": True}))])
    rule = cobo_fault.inject(lambda request: next(answers), path="/v1/custody/coin_info/")
    with httpx.Client() as client:
        assert client.get(DEV + "/v1/custody/coin_info/").status_code == 503
        assert client.get(DEV + "/v1/custody/coin_info/").status_code == 429
        with pytest.raises(httpx.ReadTimeout, match="after Cobo answered with success"):
            client.get(DEV + "/v1/custody/coin_info/")
    assert rule.call_count == 3
    assert isinstance(rule.calls[2].outcome, SuccessAnswer)  # the lost answer happened


def test_a_computed_answer_works_in_a_sequence_and_inside_lost(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.sequence(
        [lost(echo_request_id, kind="connection_reset"), echo_request_id], method="POST", path=WITHDRAW
    )
    with pytest.raises(requests.ConnectionError):
        requests.post(DEV + WITHDRAW, data={"request_id": "r-9"}, timeout=5)
    retried = requests.post(DEV + WITHDRAW, data={"request_id": "r-9"}, timeout=5)
    assert retried.json()["result"]["request_id"] == "r-9"
    assert [call.outcome.result for call in rule.calls] == [  # type: ignore[union-attr]
        {"request_id": "r-9", "status": "created"}
    ] * 2


def test_a_value_no_rule_accepts_raises_naming_the_function(cobo_fault: CoboFaults) -> None:
    def bad_answer(request: CapturedRequest) -> object:
        return {"request_id": "r-1"}  # a result, not an answer: success({...}) was meant

    cobo_fault.inject(bad_answer, path=WITHDRAW, optional=True)  # it answered nothing: no call is recorded
    with cobo_fault.expect_unmatched(), pytest.raises(TypeError, match=r"answer computed by .*bad_answer returned"):
        httpx.get(DEV + WITHDRAW)
    assert cobo_fault.calls == []


def test_an_exception_in_the_function_reaches_the_client_as_itself(cobo_fault: CoboFaults) -> None:
    def broken(request: CapturedRequest) -> OutcomeLike:
        return success({"id": request.json()["missing"]})

    cobo_fault.inject(broken, method="POST", path=WITHDRAW, optional=True)
    with cobo_fault.expect_unmatched() as refused, pytest.raises(KeyError, match="missing") as raised:
        requests.post(DEV + WITHDRAW, json={"request_id": "r-1"}, timeout=5)
    assert raised.traceback[-1].name == "broken"  # the user's own frame, where it raised
    assert len(refused) == 1


def test_the_exception_fails_the_test_at_teardown_naming_the_function(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import requests

        WITHDRAW = "https://api.dev.cobo.com/v1/custody/new_withdraw_request/"

        def answer_once(request):
            raise LookupError("no request_id in " + request.path)

        def test_the_client_swallows_it(cobo_fault):
            cobo_fault.inject(answer_once, method="POST", path="/v1/custody/new_withdraw_request/")
            try:
                requests.post(WITHDRAW, data={}, timeout=5)
            except Exception:
                pass  # a retry loop that swallows everything

        def test_the_client_does_not(cobo_fault):
            cobo_fault.inject(answer_once, method="POST", path="/v1/custody/new_withdraw_request/")
            requests.post(WITHDRAW, data={}, timeout=5)
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--cobo-transports=requests")
    result.assert_outcomes(passed=1, failed=1, errors=1)  # a test that failed is not verified again
    result.stdout.no_fnmatch_line("*was never called*")  # the rule took the request; its function raised
    result.stdout.fnmatch_lines(
        [
            "*def answer_once(request):",
            '>       raise LookupError("no request_id in " + request.path)',
            "E       LookupError: no request_id in /v1/custody/new_withdraw_request/",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*request answered by no rule: POST https://api.dev.cobo.com/v1/custody/new_withdraw_request/: the answer "
            "computed by answer_once raised LookupError('no request_id in /v1/custody/new_withdraw_request/') "
            "at test_the_exception_fails_the_test_at_teardown_naming_the_function.py:7 in answer_once; "
            "the client's call raised it*"
        ]
    )


def test_over_the_loopback_server_the_exception_is_the_unanswered_1000(cobo_server: CoboFaults) -> None:
    def broken(request: CapturedRequest) -> OutcomeLike:
        raise RuntimeError("my bug")

    cobo_server.inject(broken, method="POST", path=WITHDRAW, optional=True)
    with cobo_server.expect_unmatched() as refused:
        answer = requests.post(cobo_server.url + WITHDRAW, data={"request_id": "r-1"}, timeout=5)  # type: ignore[attr-defined]
    assert answer.status_code == 500
    body = answer.json()
    assert body["error_code"] == 1000
    assert "RuntimeError('my bug')" in body["error_message"]
    assert len(refused) == 1


def test_a_computed_network_fault_the_server_cannot_produce_is_refused_then(cobo_server: CoboFaults) -> None:
    cobo_server.inject(lambda request: lost(success(), kind="read_timeout"), path=WITHDRAW, optional=True)
    with cobo_server.expect_unmatched():
        answer = requests.get(cobo_server.url + WITHDRAW, timeout=5)  # type: ignore[attr-defined]
    assert answer.status_code == 500
    assert "cannot produce a 'read_timeout'" in answer.json()["error_message"]


def test_a_lost_answer_on_the_server_is_recorded_while_the_body_is_cut(cobo_server: CoboFaults) -> None:
    rule = cobo_server.inject(lost(echo_request_id, kind="truncated_response"), method="POST", path=WITHDRAW)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(cobo_server.url + WITHDRAW, data={"request_id": "r-3"}, timeout=5)  # type: ignore[attr-defined]
    (call,) = rule.calls
    assert isinstance(call.outcome, SuccessAnswer)
    assert json.loads(call.reply.body)["result"]["request_id"] == "r-3"  # type: ignore[union-attr]


def test_as_outcome_wraps_a_function_and_refuses_what_cannot_be_one() -> None:
    computed = as_outcome(echo_request_id)
    assert isinstance(computed, ComputedAnswer)
    assert (computed.code, computed.status, computed.label) == (None, None, "answer computed by echo_request_id")
    assert as_outcome(computed) is computed
    with pytest.raises(TypeError, match="must take one argument, the captured request"):
        as_outcome(lambda: 12009)
    with pytest.raises(TypeError, match="cannot answer with error itself: call it"):
        as_outcome(error)

    async def later(request: CapturedRequest) -> OutcomeLike:
        return 12009

    with pytest.raises(TypeError, match="is async"):
        as_outcome(later)
    with pytest.raises(TypeError, match="computed per request: sign what it returns"):
        signed(echo_request_id)
