"""Request matchers narrow a rule the same way on every transport, and a refusal names the one that declined."""

from __future__ import annotations

import copy
import functools
from typing import Any

from pytest_cobo_errors import CapturedRequest, CoboFaults

from .conftest import COIN_INFO, WITHDRAW, Client, Refusal

WALLETS = "/v2/wallets"


def refusal(client: Client, method: str, url: str, **kwargs: Any) -> Refusal:
    """`Client.refusal`, for a request sent with *kwargs* (``params``, ``data``, ``json``, ``headers``)."""
    sending = copy.copy(client)
    sending.send = functools.partial(client.send, **kwargs)  # type: ignore[method-assign]
    return sending.refusal(method, url)


def test_params_match_the_query_string(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.inject(12009, path=COIN_INFO, params={"request_id": "a"})
    answer = client.get(base + COIN_INFO, params={"request_id": "a", "coin": "ETH"})  # others may be present
    assert (answer.status, answer.json()["error_code"]) == (400, 12009)
    with faults.expect_unmatched():
        other = refusal(client, "GET", base + COIN_INFO, params={"request_id": "b"})
        missing = refusal(client, "GET", base + COIN_INFO)
    assert "-> params: request_id is 'b', expected 'a'" in other.message
    assert "-> params: request_id is missing, expected 'a'" in missing.message
    assert "with params={'request_id': 'a'}" in other.message  # the rule's description shows its matchers
    assert rule.call_count == 1


def test_rules_that_differ_only_in_a_matcher_each_answer_their_own(
    faults: CoboFaults, client: Client, base: str
) -> None:
    first = faults.inject(12009, path=COIN_INFO, params={"request_id": "a"})
    second = faults.succeed({"coin": "ETH"}, path=COIN_INFO, params={"request_id": "b"})
    assert client.get(base + COIN_INFO, params={"request_id": "b"}).status == 200
    assert client.get(base + COIN_INFO, params={"request_id": "a"}).status == 400
    assert (first.call_count, second.call_count) == (1, 1)


def test_form_matches_a_form_encoded_body(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.inject(12009, method="POST", path=WITHDRAW, form={"request_id": "r-1"})
    answer = client.post(base + WITHDRAW, data={"request_id": "r-1", "coin": "ETH"})
    assert (answer.status, answer.json()["error_code"]) == (400, 12009)
    with faults.expect_unmatched():
        other = refusal(client, "POST", base + WITHDRAW, data={"request_id": "r-2"})
        as_json = refusal(client, "POST", base + WITHDRAW, json={"request_id": "r-1"})
    assert "-> form: request_id is 'r-2', expected 'r-1'" in other.message
    assert "-> form: the body is not form-encoded (Content-Type 'application/json')" in as_json.message
    assert rule.call_count == 1


def test_json_matches_a_subset_of_the_body(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.succeed({"id": "w-1"}, method="POST", path=WALLETS, json={"name": "w", "policy": {"limit": 10}})
    sent = {"name": "w", "chain": "ETH", "policy": {"limit": 10, "currency": "USD"}}
    answer = client.post(base + WALLETS, json=sent)
    assert (answer.status, answer.json()) == (200, {"id": "w-1"})
    with faults.expect_unmatched():
        other = refusal(client, "POST", base + WALLETS, json={"name": "w", "policy": {"limit": 5}})
        form = refusal(client, "POST", base + WALLETS, data={"name": "w"})
    assert "-> json: $.policy.limit is 5, expected 10" in other.message
    assert "-> json: the body is not JSON (b'name=w')" in form.message
    assert rule.calls[0].request.json() == sent


def test_request_headers_match_by_name_in_any_case(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.inject(1010, path=COIN_INFO, request_headers={"X-Trace": "t1"})
    answer = client.get(base + COIN_INFO, headers={"x-trace": "t1"})
    assert (answer.status, answer.json()["error_code"]) == (429, 1010)
    with faults.expect_unmatched():
        other = refusal(client, "GET", base + COIN_INFO, headers={"X-TRACE": "t2"})
        missing = refusal(client, "GET", base + COIN_INFO)
    assert "-> request_headers: X-Trace is 't2', expected 't1'" in other.message
    assert "-> request_headers: X-Trace is missing, expected 't1'" in missing.message
    assert rule.call_count == 1


def test_match_is_a_predicate_on_the_captured_request(faults: CoboFaults, client: Client, base: str) -> None:
    seen: list[CapturedRequest] = []

    def large_withdrawal(request: CapturedRequest) -> bool:
        seen.append(request)
        return int(request.form.get("amount", "0")) > 1000

    rule = faults.inject(12007, method="POST", path=WITHDRAW, match=large_withdrawal)
    answer = client.post(base + WITHDRAW, data={"amount": "5000"})
    assert (answer.status, answer.json()["error_code"]) == (400, 12007)
    with faults.expect_unmatched():
        small = refusal(client, "POST", base + WITHDRAW, data={"amount": "10"})
    assert "-> match: test_match_is_a_predicate_on_the_captured_request.<locals>.large_withdrawal returned False" in (
        small.message
    )
    assert [request.form["amount"] for request in seen] == ["5000", "10"]
    assert seen[0].transport == client.transport
    assert rule.call_count == 1


def test_a_predicate_that_raises_declines_and_names_the_exception(client: Client, base: str) -> None:
    def broken(request: CapturedRequest) -> bool:
        raise ValueError("no amount")

    faults = client.fault_set()
    with faults:
        rule = faults.succeed(path=COIN_INFO, match=broken, optional=True)
        with faults.expect_unmatched():
            refused = refusal(client, "GET", base + COIN_INFO)
        assert "-> match: test_a_predicate_that_raises_declines_and_names_the_exception.<locals>.broken raised" in (
            refused.message
        )
        assert "ValueError('no amount')" in refused.message
        [(request, error)] = rule.match_errors
        assert (request.path, repr(error)) == (COIN_INFO, "ValueError('no amount')")
        [problem] = faults.problems()  # never silently swallowed: it fails the test at teardown
        assert "its match predicate raised ValueError('no amount') on GET" in problem
        faults.reset()
