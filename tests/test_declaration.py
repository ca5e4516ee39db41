"""Declaring: what can be sent is accepted and served; what cannot fails at the declaration.

The wrong values themselves are rows of the table in test_reliability_bad_input.py. Here: the
edge values next to them are accepted and reach a client intact (validation is not over-strict),
repetition costs nothing however large, and no description of a rule, outcome or call grows
with what was declared.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import httpx
import pytest

from pytest_cobo_errors import (
    CoboFaults,
    assert_cobo_error,
    build_envelope,
    error,
    error_code,
    gateway,
    respond,
    signed,
    success,
    truncated_response,
)
from pytest_cobo_errors.rules import Call, FaultRule, SequenceExhaustedError
from pytest_cobo_errors.transports.contract import NETWORK_FAULT_KINDS, CapturedRequest

URL = "https://api.dev.cobo.com/v1/custody/org_info/"
EMOJI = "余额不足 💸 \U0001f9fe"  # CJK and non-BMP code points: UTF-8 carries them, as JSON does
SHORT = 500  # characters: what any one description may take, whatever was declared


def _faults() -> CoboFaults:
    return CoboFaults(transports="httpx")


# -- the edge values next to the wrong ones are served intact ----------------------------------
def test_non_ascii_text_everywhere_in_a_body_reaches_an_httpx_client() -> None:
    with CoboFaults(transports="httpx") as faults:
        faults.inject(
            12007,
            message=EMOJI,
            fields={"error_description": f"{EMOJI}, café", "extra": [1.5, None, {"k": EMOJI}]},
            headers={"X-Trace": "t-1\tsplit by a tab", "Retry-After": "1"},
            path="/v1/custody/org_info/",
        )
        faults.succeed({"note": EMOJI, "n": 10**30, "tiny": 5e-324}, path="/v1/custody/coin_info/")
        with httpx.Client() as client:
            failed = client.get(URL)
            succeeded = client.get("https://api.dev.cobo.com/v1/custody/coin_info/")
    envelope = assert_cobo_error(failed, 12007, status=400, message=EMOJI, allow_extra=True)
    assert envelope.description == f"{EMOJI}, café"
    assert failed.json()["extra"] == [1.5, None, {"k": EMOJI}]
    assert failed.headers["X-Trace"] == "t-1\tsplit by a tab"
    assert succeeded.json() == {"success": True, "result": {"note": EMOJI, "n": 10**30, "tiny": 5e-324}}


def test_a_content_length_that_is_the_body_length_is_accepted() -> None:
    assert respond(200, b"{}", headers={"Content-Length": "2"}).render().header("content-length") == "2"
    assert gateway(503, body="empty", headers={"content-length": "0"}).render().body == b""
    length = len(error(12007, error_id="f" * 32).render().body)
    assert error(12007, error_id="f" * 32, headers={"Content-Length": str(length)}).status == 400


def test_json_that_python_writes_differently_is_still_accepted() -> None:
    """Tuples, int keys, bool and None keys, big ints: JSON has a form for each."""
    body = build_envelope(12007, fields={"t": (1, 2), "m": {1: "a", None: "b", False: "c"}, "big": 10**300})
    assert json.loads(json.dumps(body))["m"] == {"1": "a", "null": "b", "false": "c"}
    shared = [1, 2]
    assert success({"a": shared, "b": shared}).render().status == 200  # the same list twice is not a cycle


def test_a_stale_signature_years_old_is_accepted() -> None:
    pytest.importorskip("cryptography")
    outcome = signed(12007, "stale", age=10 * 365 * 86400)
    stamp = int(outcome.render().header("BIZ_TIMESTAMP") or "")
    assert 0 < stamp < (time.time() - 9 * 365 * 86400) * 1000


def test_a_cycle_in_a_result_is_refused_in_json_s_words() -> None:
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(ValueError, match=r"^result cannot be sent as JSON: Circular reference detected; valid: "):
        success(looped)


# -- repetition is counted, not materialised ----------------------------------------------------
def test_failing_a_huge_number_of_times_is_declared_at_once_and_served_in_order() -> None:
    faults = _faults()
    started = time.perf_counter()
    rule = faults.fail_then_succeed(1010, times=2**64, path="/v1/custody/org_info/")
    assert time.perf_counter() - started < 1.0
    assert rule.capacity == 2**64 + 1
    assert [o.code for o in rule.outcomes] == [1010, None]
    assert rule.counts == (2**64, 1)
    with CoboFaults(transports="httpx") as active:
        active.book.add(rule)
        with httpx.Client() as client:
            statuses = [client.get(URL).status_code for _ in range(3)]
    assert statuses == [429, 429, 429]


def test_fail_then_succeed_gives_success_once_after_the_counted_failures() -> None:
    with CoboFaults(transports="httpx") as faults:
        rule = faults.fail_then_succeed(1010, times=3, result={"ok": True})
        with httpx.Client() as client:
            answers = [client.get(URL) for _ in range(4)]
            with faults.expect_unmatched(), pytest.raises(SequenceExhaustedError, match="already gave all 4"):
                client.get(URL)
    assert [a.status_code for a in answers] == [429, 429, 429, 200]
    assert answers[-1].json() == {"success": True, "result": {"ok": True}}
    assert rule.call_count == 4


@pytest.mark.parametrize("times", [2**64, 10**5000], ids=["2**64", "10**5000"])
def test_times_and_expect_calls_take_any_count(times: int) -> None:
    faults = _faults()
    rule = faults.inject(12007, times=times, expect_calls=times)
    assert rule.capacity == times
    assert len(str(rule)) < SHORT
    (problem,) = rule.problems()
    assert len(problem) < SHORT


# -- nothing printed grows with what was declared ------------------------------------------------
RULES: dict[str, Callable[[CoboFaults], FaultRule]] = {
    "fail 10**8 times": lambda f: f.fail_then_succeed(12007, times=10**8),
    "inject 10**8 times": lambda f: f.inject(12007, times=10**8, expect_calls=10**8),
    "a 100,000-step sequence": lambda f: f.sequence([1010, 503] * 50_000),
    "100,000 identical steps": lambda f: f.sequence([1010] * 100_000),
    "a megabyte of message": lambda f: f.inject(error(12007, message="m" * 10**6, fields={"f": ["x" * 10**5] * 9})),
    "a long path": lambda f: f.succeed(path="/v1/" + "p" * 10**5),
    "a long pattern": lambda f: f.succeed(path=re.compile("/v1/" + "(a|b)" * 10**4)),
    "many base URLs": lambda f: f.succeed(base_url=[f"http://127.0.0.{i % 250}:{1000 + i}" for i in range(2000)]),
}


@pytest.mark.parametrize("declare", RULES.values(), ids=RULES.keys())
def test_a_rule_describes_itself_briefly_and_at_once(declare: Callable[[CoboFaults], FaultRule]) -> None:
    rule = declare(_faults())
    started = time.perf_counter()
    described = [str(rule), repr(rule), *rule.problems()]
    with pytest.raises(AssertionError) as failed:
        rule.assert_called_times(10**5000)
    assert time.perf_counter() - started < 0.5
    assert all(len(text) < SHORT for text in described), described
    assert len(str(failed.value)) < SHORT


def test_a_rule_description_counts_repetitions_and_elides_long_sequences() -> None:
    faults = _faults()
    retried = faults.fail_then_succeed(12007, times=10**8)
    assert str(retried) == (
        "cobo_fault.fail_then_succeed: error 12007 (Insufficient balance) as HTTP 400 ×100000000, "
        "then success (HTTP 200), for any method any path on the Cobo hosts"
    )
    long = faults.sequence([1010, 1010, 503, *[12007, 1000] * 500], path="/v1/x/")
    assert str(long) == (
        "cobo_fault.sequence: error 1010 (The request is too frequent) as HTTP 429 ×2, then HTTP 503 gateway page "
        "(html body), then error 12007 (Insufficient balance) as HTTP 400, then error 1000 (Unknown internal error) "
        "as HTTP 500, then error 12007 (Insufficient balance) as HTTP 400, then … (+997 more), "
        "for any method /v1/x/ on the Cobo hosts"
    )
    huge = faults.inject(12007, times=10**5000)
    assert "(about 10^5000 time(s))" in str(huge)


def test_a_failure_lists_a_bounded_number_of_calls() -> None:
    with CoboFaults(transports="httpx") as faults:
        rule = faults.inject(1010)
        with httpx.Client() as client:
            for _ in range(50):
                client.get(URL)
        with pytest.raises(AssertionError) as failed:
            rule.assert_called_times(1)
    message = str(failed.value)
    assert "call 20: GET" in message
    assert "call 21:" not in message
    assert "… and 30 more call(s)" in message


OUTCOMES = {
    "error": lambda: error(12007, message="m" * 10**6, description="d" * 10**6, fields={"x": list(range(10**5))}),
    "success": lambda: success({"rows": [{"id": i} for i in range(10**5)]}, headers={"X-Page": "p" * 10**4}),
    "respond": lambda: respond(200, b"b" * 10**7, headers={"Content-Type": "application/json"}),
    "gateway": lambda: gateway(503, body="<p>" * 10**6),
    "truncated_response": lambda: truncated_response(1000),
    "signed": lambda: signed(success({"note": "n" * 10**6})),
}


@pytest.mark.parametrize("make", OUTCOMES.values(), ids=OUTCOMES.keys())
def test_an_outcome_repr_and_label_are_bounded(make: Callable[[], object]) -> None:
    outcome = make()
    shown = repr(outcome)
    assert len(shown) < SHORT, shown
    assert len(outcome.label) < 200  # type: ignore[attr-defined]


def test_a_call_repr_is_bounded_however_large_the_reply() -> None:
    outcome = respond(200, b"b" * 10**7)
    call = Call(CapturedRequest("GET", URL), outcome, outcome.render())
    assert len(repr(call)) < SHORT
    assert "(10000000 bytes)" in repr(call)


def test_a_message_about_a_huge_number_is_short() -> None:
    with pytest.raises(ValueError, match="not a documented") as raised:
        error_code(10**5000)
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize("kind", NETWORK_FAULT_KINDS)
def test_each_network_kind_is_the_name_of_the_outcome_that_builds_it(kind: str) -> None:
    import pytest_cobo_errors

    (outcome,) = _faults().network(kind).outcomes
    built = getattr(pytest_cobo_errors, kind)()
    assert (type(outcome), outcome.label) == (type(built), built.label)


def test_the_network_kinds_are_the_contracts() -> None:
    from pytest_cobo_errors.outcomes import NETWORK_FAULTS

    assert tuple(NETWORK_FAULTS) == NETWORK_FAULT_KINDS  # what transports declare they can produce
