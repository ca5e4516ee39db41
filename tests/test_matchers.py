"""Request matchers: what each accepts at declaration, how ``json=`` compares, and what a rule says of them.

Each matcher on every transport is in tests/conformance/test_matchers.py; here the rules are
asked directly (`FaultRule.mismatch`), with requests built by hand.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_cobo_errors import CapturedRequest, RuleOptions, success
from pytest_cobo_errors.faults import CoboFaults
from pytest_cobo_errors.hosts import DEFAULT_BASES
from pytest_cobo_errors.rules import FaultRule

URL = "https://api.dev.cobo.com/v1/custody/new_withdraw_request/"


def _faults() -> CoboFaults:
    return CoboFaults(transports="httpx")


def _rule(**options: Any) -> FaultRule:
    return FaultRule([success()], base_urls=DEFAULT_BASES, **options)


def _json_request(body: object) -> CapturedRequest:
    return CapturedRequest("POST", URL, {"Content-Type": "application/json"}, json.dumps(body).encode())


# -- every declaring method takes the matchers, as one set of keyword arguments ------------------
DECLARE: dict[str, Callable[[CoboFaults, RuleOptions], FaultRule]] = {
    "inject": lambda f, o: f.inject(12009, **o),
    "gateway": lambda f, o: f.gateway(503, **o),
    "network": lambda f, o: f.network("read_timeout", **o),
    "sequence": lambda f, o: f.sequence([1010, 12009], **o),
    "fail_then_succeed": lambda f, o: f.fail_then_succeed(1010, **o),
    "succeed": lambda f, o: f.succeed({"ok": True}, **o),
}


@pytest.mark.parametrize("declare", DECLARE.values(), ids=DECLARE.keys())
def test_every_declaring_method_takes_every_matcher(declare: Callable[[CoboFaults, RuleOptions], FaultRule]) -> None:
    options: RuleOptions = {
        "params": {"request_id": "a"},
        "form": {"coin": "ETH"},
        "json": {"amount": "1"},
        "request_headers": {"X-Trace": "t1"},
        "match": lambda request: True,
        "optional": True,
    }
    rule = declare(_faults(), options)
    assert rule.params == (("request_id", "a"),)
    assert rule.form == (("coin", "ETH"),)
    assert rule.json == {"amount": "1"}
    assert rule.request_headers == (("X-Trace", "t1"),)
    assert rule.match is not None
    assert rule.mismatch(CapturedRequest("GET", URL)) == "params: request_id is missing, expected 'a'"


def test_a_matched_request_is_answered_and_a_declined_one_refused_with_the_reason() -> None:
    with _faults() as faults:
        rule = faults.inject(12009, method="POST", json={"request_id": "r-1"})
        assert httpx.post(URL, json={"request_id": "r-1", "amount": 5}).status_code == 400
        with faults.expect_unmatched(), pytest.raises(AssertionError) as refused:
            httpx.post(URL, json={"request_id": "r-2"})
    assert "-> json: $.request_id is 'r-2', expected 'r-1'" in str(refused.value)
    assert rule.call_count == 1


# -- declaration errors ----------------------------------------------------------------------------
BAD: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"params": "request_id=a"}, TypeError, r"params takes a dict of names to str values, e\.g\. params=\{"),
    ({"params": ["request_id"]}, TypeError, r"params takes a dict"),
    (
        {"params": {"amount": 10}},
        TypeError,
        r"params\['amount'\] must be a str, as the request carries text, got 10: give '10'",
    ),
    ({"params": {"flag": True}}, TypeError, r"params\['flag'\] must be a str, .* got True$"),
    ({"form": {1: "a"}}, TypeError, r"form names must be str, got 1"),
    ({"form": {"coin": None}}, TypeError, r"form\['coin'\] must be a str"),
    ({"request_headers": {"X-Trace": b"t1"}}, TypeError, r"request_headers\['X-Trace'\] must be a str"),
    ({"request_headers": {"X-Trace": "a", "x-trace": "b"}}, ValueError, r"names 'X-Trace' and 'x-trace': one header"),
    ({"json": {"amount": {1, 2}}}, TypeError, r"json must be a JSON value .*: \$\.amount is \{1, 2\}"),
    ({"json": {"a": [1, object()]}}, TypeError, r"\$\.a\[1\] is <object object"),
    ({"json": {1: "a"}}, TypeError, r"json object keys must be str: \$ has the key 1"),
    ({"json": {"rate": math.nan}}, ValueError, r"json must be finite numbers: \$\.rate is nan"),
    ({"json": {"my key": {"x": math.inf}}}, ValueError, r"\$\['my key'\]\.x is inf"),
    ({"match": "request_id"}, TypeError, r"match takes a function of the captured request returning True or False"),
]


@pytest.mark.parametrize(("options", "kind", "message"), BAD, ids=[repr(o)[:40] for o, _, _ in BAD])
def test_a_bad_matcher_fails_at_declaration(options: dict[str, Any], kind: type[Exception], message: str) -> None:
    faults = _faults()
    with pytest.raises(kind, match=message):
        faults.inject(12009, **options)
    assert faults.book.rules == []


def test_a_json_matcher_that_holds_itself_is_refused() -> None:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    with pytest.raises(ValueError, match=r"json is nested more than 100 levels deep \(or holds itself\)"):
        _faults().succeed(json=looped)


def test_an_async_predicate_is_refused_as_it_would_never_be_awaited() -> None:
    async def check(request: CapturedRequest) -> bool:
        return True

    with pytest.raises(TypeError, match=r"match must be a plain function: .*check is async"):
        _faults().succeed(match=check)  # type: ignore[arg-type]


def test_headers_stays_the_answers_headers_and_other_methods_name_the_matcher() -> None:
    faults = _faults()
    rule = faults.inject(12009, headers={"Retry-After": "1"}, optional=True)
    assert rule.request_headers is None  # inject's headers= are sent back, not matched
    with pytest.raises(TypeError, match=r"succeed\(\) got an unexpected keyword argument 'headers'; .*request_headers"):
        faults.succeed(headers={"X-Trace": "t1"})  # type: ignore[call-arg]


def test_the_declared_value_is_copied_so_later_changes_do_not_move_the_rule() -> None:
    expected = {"amount": "10", "tags": ["a"]}
    params = {"request_id": "a"}
    rule = _rule(json=expected, params=params)
    expected["amount"] = "99"
    expected["tags"].append("b")  # type: ignore[attr-defined]
    params["request_id"] = "z"
    assert rule.json == {"amount": "10", "tags": ["a"]}
    assert rule.params == (("request_id", "a"),)


# -- json: an object is a subset, everything else equal --------------------------------------------
@pytest.mark.parametrize(
    ("expected", "body"),
    [
        ({"amount": "10"}, {"amount": "10", "coin": "ETH"}),
        ({"to": {"address": "0xab"}}, {"to": {"address": "0xab", "memo": ""}, "coin": "ETH"}),
        ({}, {"anything": 1}),
        ({"amount": 10}, {"amount": 10.0}),  # one JSON number
        ({"tags": ["a", "b"]}, {"tags": ["a", "b"], "x": 1}),
        ({"items": [{"id": 1}]}, {"items": [{"id": 1}]}),
        ({"memo": None}, {"memo": None}),
        ([1, 2], [1, 2]),
        ("text", "text"),
        (0, 0),
        ({"tuple": (1, 2)}, {"tuple": [1, 2]}),  # a tuple declares a list
    ],
)
def test_json_matches(expected: object, body: object) -> None:
    assert _rule(json=expected).mismatch(_json_request(body)) is None


@pytest.mark.parametrize(
    ("expected", "body", "reason"),
    [
        ({"amount": 10}, {"amount": 5}, "json: $.amount is 5, expected 10"),
        ({"amount": "10"}, {"amount": 10}, "json: $.amount is 10, expected '10'"),
        ({"amount": 10}, {"coin": "ETH"}, "json: $.amount is missing, expected 10"),
        ({"to": {"address": "0xab"}}, {"to": {"address": "0xcd"}}, "json: $.to.address is '0xcd', expected '0xab'"),
        ({"to": {"address": "0xab"}}, {"to": "0xab"}, "json: $.to is '0xab', expected {'address': '0xab'}"),
        ({"my key": 1}, {"my key": 2}, "json: $['my key'] is 2, expected 1"),
        ({"flag": True}, {"flag": 1}, "json: $.flag is 1, expected True"),  # true is not 1
        ({"n": 1}, {"n": True}, "json: $.n is True, expected 1"),
        ({"memo": None}, {"memo": ""}, "json: $.memo is '', expected None"),
        ({"tags": ["a"]}, {"tags": ["a", "b"]}, "json: $.tags is ['a', 'b'], expected ['a']"),  # lists: equal
        ({"tags": ["a", "b"]}, {"tags": ["a", "c"]}, "json: $.tags[1] is 'c', expected 'b'"),
        ({"items": [{"id": 1}]}, {"items": [{"id": 1, "x": 2}]}, "json: $.items[0] has the key 'x', not expected"),
        ({"a": 1}, [{"a": 1}], "json: $ is [{'a': 1}], expected {'a': 1}"),
        ([1, 2], [1, 2, 3], "json: $ is [1, 2, 3], expected [1, 2]"),
        ("text", "other", "json: $ is 'other', expected 'text'"),
    ],
)
def test_json_declines_with_where_and_why(expected: object, body: object, reason: str) -> None:
    assert _rule(json=expected).mismatch(_json_request(body)) == reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "json: the body is not JSON (b'')"),
        (b"request_id=a", "json: the body is not JSON (b'request_id=a')"),
        (b"\xff\xfe{", "json: the body is not JSON (b'\\xff\\xfe{')"),
        (b"[" * 100_000, "json: the body is not JSON (b'" + "[" * 60 + "'… (100000 bytes))"),
    ],
)
def test_a_body_that_is_not_json_is_declined(content: bytes, reason: str) -> None:
    rule = _rule(json={"a": 1})
    assert rule.mismatch(CapturedRequest("POST", URL, {}, content)) == reason


# -- params, form, request_headers ----------------------------------------------------------------
def test_params_form_and_headers_compare_text_exactly() -> None:
    rule = _rule(params={"coin": "ETH"}, form={"amount": "10"}, request_headers={"x-trace": "t1"})
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "X-TRACE": "t1"}
    assert rule.mismatch(CapturedRequest("POST", URL + "?coin=ETH&x=1", form, b"amount=10&b=2")) is None
    assert rule.mismatch(CapturedRequest("POST", URL + "?coin=eth", form, b"amount=10")) == (
        "params: coin is 'eth', expected 'ETH'"
    )
    assert rule.mismatch(CapturedRequest("POST", URL + "?coin=ETH", form, b"amount=10.0")) == (
        "form: amount is '10.0', expected '10'"
    )
    assert rule.mismatch(CapturedRequest("POST", URL + "?coin=ETH", {}, b"amount=10")) == (
        "form: the body is not form-encoded (Content-Type None)"
    )
    without = {"Content-Type": form["Content-Type"]}
    assert rule.mismatch(CapturedRequest("POST", URL + "?coin=ETH", without, b"amount=10")) == (
        "request_headers: x-trace is missing, expected 't1'"
    )


def test_the_matchers_are_asked_after_method_host_and_path() -> None:
    rule = _rule(method="POST", path="/v1/custody/new_withdraw_request/", params={"a": "1"}, match=_never)
    assert rule.mismatch(CapturedRequest("GET", URL)) == "method GET is not POST"
    assert str(rule.mismatch(CapturedRequest("POST", "https://api.dev.cobo.com/v1/other/"))).startswith("path ")
    assert rule.mismatch(CapturedRequest("POST", URL)) == "params: a is missing, expected '1'"
    assert rule.mismatch(CapturedRequest("POST", URL + "?a=1")) == f"match: {_never.__qualname__} returned False"


def _never(request: CapturedRequest) -> bool:
    return False


def test_credentials_in_header_matchers_are_masked() -> None:
    key, other = "a" * 66, "b" * 66
    rule = _rule(request_headers={"Biz-Api-Key": key})
    reason = rule.mismatch(CapturedRequest("GET", URL, {"biz-api-key": other}))
    assert reason == "request_headers: Biz-Api-Key is 'bbbb…(66 chars)', expected 'aaaa…(66 chars)'"
    assert key not in str(rule)
    assert "request_headers={'Biz-Api-Key': 'aaaa…(66 chars)'}" in str(rule)


# -- match: a predicate ---------------------------------------------------------------------------
def test_a_predicate_sees_the_captured_request_and_its_falsy_result_is_shown() -> None:
    rule = _rule(match=lambda request: request.params.get("coin"))
    assert rule.mismatch(CapturedRequest("GET", URL + "?coin=ETH")) is None  # truthy is enough
    reason = rule.mismatch(CapturedRequest("GET", URL))
    assert reason is not None
    assert re.fullmatch(r"match: <lambda> at test_matchers\.py:\d+ returned None", reason), reason


def test_a_predicate_that_raises_declines_and_fails_the_test_at_teardown() -> None:
    def needs_amount(request: CapturedRequest) -> bool:
        return int(request.form["amount"]) > 10

    faults = _faults()
    faults.start()
    try:
        faults.succeed(match=needs_amount, optional=True)
        fallback = faults.inject(12007)
        assert httpx.get(URL).status_code == 400  # declined: the next rule answers
    finally:
        faults.stop()
    with pytest.raises(AssertionError, match="faults were not used as declared") as failed:
        faults.verify()
    assert fallback.call_count == 1
    [(request, raised)] = faults.book.rules[0].match_errors
    assert isinstance(raised, KeyError)
    assert request.url == URL
    [problem] = faults.problems()
    assert problem in str(failed.value)
    assert "cobo_fault.succeed: success (HTTP 200) (every time), for any method any path on the Cobo hosts" in problem
    assert f"with match={needs_amount.__qualname__}: " in problem
    assert f"its match predicate raised KeyError('amount') on GET {URL}" in problem
    assert problem.endswith("(a predicate returns True or False; the request was declined)")


def test_a_predicate_that_raises_names_the_exception_in_the_refusal() -> None:
    def broken(request: CapturedRequest) -> bool:
        raise RuntimeError("oops")

    with _faults() as faults:
        faults.succeed(match=broken, optional=True)
        with faults.expect_unmatched(), pytest.raises(AssertionError) as refused:
            httpx.get(URL)
        faults.reset()
    assert "-> match: test_a_predicate_that_raises_names_the_exception_in_the_refusal.<locals>.broken raised " in (
        str(refused.value)
    )
    assert "RuntimeError('oops')" in str(refused.value)


# -- descriptions ---------------------------------------------------------------------------------
def test_a_rule_describes_its_matchers_briefly() -> None:
    rule = _faults().inject(
        12009,
        method="POST",
        path="/v1/custody/new_withdraw_request/",
        params={"request_id": "r-1"},
        json={"amount": "1" * 10_000, **{f"k{i}": i for i in range(1000)}},
        match=_never,
    )
    text = str(rule)
    assert text.startswith("cobo_fault.inject: error 12009")
    assert ", with params={'request_id': 'r-1'}, json={'amount': '" in text
    assert text.endswith(f", match={_never.__qualname__}")
    assert len(text) < 500
    assert ", with" not in str(_faults().inject(12009))  # no matchers, nothing said
