"""Every value the strategies generate goes straight into ``inject()``, and the client sees it exactly.

Each public strategy gets a ``@given`` property run as the README's Hypothesis pattern runs it
(``cobo_fault.example()`` per example): the value is injected as it is, and httpx, in process,
sees exactly the generated status, Content-Type and body bytes. Then what the values carry:
``code`` is the integer ``error_code`` the body holds (as ``json.loads`` reads it once bytes that
are not UTF-8 are replaced), and every malformed body has a status.
"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from pytest_cobo_errors import CoboFaults
from pytest_cobo_errors.catalog import ERROR_CODES
from pytest_cobo_errors.envelopes import build_envelope
from pytest_cobo_errors.outcomes import RawAnswer
from pytest_cobo_errors.strategies import (
    DEFECTS,
    GATEWAY_STATUSES,
    EnvelopeDict,
    ErrorResponse,
    MalformedBody,
    error_envelopes,
    error_responses,
    malformed_envelopes,
    responses,
)

PATH = "/v1/custody/coin_info/"
URL = "https://api.dev.cobo.com" + PATH
WITH_FIXTURE = settings(
    max_examples=40, database=None, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FIRST = settings(database=None, max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def carried_code(body: bytes) -> int | None:
    """The reference for ``code``: an int error_code in a JSON object, read leniently."""
    try:
        parsed = json.loads(body.decode("utf-8", "replace"))
    except ValueError:  # not JSON, or an int too long for CPython
        return None
    code = parsed.get("error_code") if isinstance(parsed, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def served(fault: CoboFaults, value: Any) -> httpx.Response:
    """*value* injected as it is, and what an httpx client then receives."""
    fault.inject(value, path=PATH)
    return httpx.get(URL)


def content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "")


# -- each strategy, injected as it is -------------------------------------------------------------


@WITH_FIXTURE
@given(envelope=error_envelopes())
def test_error_envelopes_inject_as_json_at_their_codes_status(cobo_fault: CoboFaults, envelope: EnvelopeDict) -> None:
    assert isinstance(envelope, dict)
    code = envelope["error_code"]
    with cobo_fault.example():
        response = served(cobo_fault, envelope)
        assert response.status_code == envelope.status == ERROR_CODES[code].default_status
        assert response.content == json.dumps(envelope, ensure_ascii=False).encode()
        assert response.json() == envelope
        assert content_type(response) == "application/json"
        assert cobo_fault.served_codes() == [code] == [envelope.code]


@WITH_FIXTURE
@given(body=malformed_envelopes())
def test_malformed_envelopes_inject_at_their_status(cobo_fault: CoboFaults, body: MalformedBody) -> None:
    assert body.status is not None
    with cobo_fault.example():
        response = served(cobo_fault, body)
        assert response.status_code == body.status
        assert response.content == body.body
        assert content_type(response) == body.content_type  # none at all for no_content_type
        assert cobo_fault.served_codes() == ([] if body.code is None else [body.code])
    assert body.code == carried_code(body.body)


@WITH_FIXTURE
@given(response=error_responses())
def test_error_responses_inject_exactly(cobo_fault: CoboFaults, response: ErrorResponse) -> None:
    with cobo_fault.example():
        seen = served(cobo_fault, response)
        assert (seen.status_code, seen.content) == (response.status, response.body)
        assert content_type(seen) == dict(response.headers).get("Content-Type", "")
        assert cobo_fault.served_codes() == ([] if response.code is None else [response.code])
    assert response.code == carried_code(response.body)


@WITH_FIXTURE
@given(response=responses(defects=["success_at_error_status", "short_form", "no_content_type", "code_as_string"]))
def test_responses_inject_exactly_successes_included(cobo_fault: CoboFaults, response: ErrorResponse) -> None:
    with cobo_fault.example():
        seen = served(cobo_fault, response)
        assert (seen.status_code, seen.content) == (response.status, response.body)
        assert content_type(seen) == dict(response.headers).get("Content-Type", "")
        if response.is_success:
            assert seen.json()["success"] is True
    assert response.code == carried_code(response.body)
    assert response.code is None or not response.is_success


@WITH_FIXTURE
@given(response=error_responses(statuses=[200, 418], codes=[12009]))
def test_a_drawn_status_is_the_one_served(cobo_fault: CoboFaults, response: ErrorResponse) -> None:
    with cobo_fault.example():
        assert served(cobo_fault, response).status_code == response.status
    assert response.status in (200, 418) or response.defect == "success_at_error_status"


@settings(max_examples=25, database=None, deadline=None)
@given(body=malformed_envelopes(defects=["short_form", "html_gateway_page"]))
def test_a_fault_set_per_example_takes_them_too(body: MalformedBody) -> None:
    with CoboFaults(transports="httpx") as fault:
        response = served(fault, body)
        assert (response.status_code, response.content) == (body.status, body.body)


# -- code: the integer error_code the body carries ------------------------------------------------


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_every_defect_carries_exactly_the_code_its_body_holds(defect: str) -> None:
    @settings(max_examples=15, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=malformed_envelopes(defects=[defect]), response=error_responses(defects=[defect], valid=False))
    def check(body: MalformedBody, response: ErrorResponse) -> None:
        assert body.code == carried_code(body.body)
        assert response.code == carried_code(response.body)
        assert response.outcome().code == response.code
        assert body.outcome().code == body.code

    check()


def test_a_short_form_body_of_12009_carries_12009() -> None:
    body = find(malformed_envelopes(defects=["short_form"], codes=[12009]), lambda b: True, settings=FIRST)
    assert json.loads(body.body) == {
        "success": False,
        "error_code": 12009,
        "error_description": ERROR_CODES[12009].message,
    }
    assert body.code == 12009
    response = find(error_responses(defects=["short_form"], valid=False, codes=[12009]), lambda r: True)
    assert (response.code, response.outcome().code) == (12009, 12009)  # counted by --cobo-coverage


@pytest.mark.parametrize(
    "defect", ["code_as_string", "code_as_float", "code_as_bool", "code_as_null", "missing_error_code", "huge_number"]
)
def test_a_code_that_is_not_a_json_integer_is_not_carried(defect: str) -> None:
    @settings(max_examples=10, database=None, deadline=None)
    @given(body=malformed_envelopes(defects=[defect]))
    def check(body: MalformedBody) -> None:
        assert body.code is None

    check()


@pytest.mark.parametrize("defect", ["undocumented_code", "out_of_range_code"])
def test_an_undocumented_integer_is_carried_but_covers_nothing(defect: str) -> None:
    body = find(malformed_envelopes(defects=[defect]), lambda b: True, settings=FIRST)
    assert body.code is not None
    assert body.code not in ERROR_CODES
    assert body.code == json.loads(body.body)["error_code"]


def test_a_repeated_error_code_carries_the_last_as_json_loads_reads_it() -> None:
    # the one form whose code differs from the one it was built from: error_code repeated with another
    body = find(
        malformed_envelopes(defects=["duplicate_keys"], codes=[12007]), lambda b: b.code != 12007, settings=FIRST
    )
    assert body.body.count(b'"error_code"') == 2
    assert body.code == json.loads(body.body)["error_code"] != 12007


def test_not_utf8_bodies_carry_their_ascii_code() -> None:
    body = find(malformed_envelopes(defects=["not_utf8"], codes=[12007]), lambda b: True, settings=FIRST)
    with pytest.raises(UnicodeDecodeError):
        body.body.decode("utf-8")
    assert body.code == 12007


def test_successes_carry_no_code() -> None:
    success = find(responses(), lambda r: r.is_success, settings=FIRST)
    assert success.code is None
    at_error = find(malformed_envelopes(defects=["success_at_error_status"]), lambda b: True, settings=FIRST)
    assert at_error.code is None


# -- status: every malformed body has one ---------------------------------------------------------

_EMPTY_PAGES = {"empty_body", "no_content_type"}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_every_defect_has_its_natural_status(defect: str) -> None:
    @settings(max_examples=15, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=malformed_envelopes(defects=[defect], codes=[12009, 1010]))
    def check(body: MalformedBody) -> None:
        assert body.status is not None
        assert repr(body).startswith(f"{defect}: ")
        assert f"HTTP {body.status}, " in repr(body)
        if defect == "html_gateway_page":
            assert body.status in GATEWAY_STATUSES
            assert f"<title>{body.status} ".encode() in body.body  # the page names its own status
        elif defect == "success_at_error_status":
            assert not 200 <= body.status < 300
        elif not body.body:
            assert defect in _EMPTY_PAGES
            assert body.status == 502  # a gateway's empty page
        else:
            assert body.status in (ERROR_CODES[12009].default_status, ERROR_CODES[1010].default_status)

    check()


def test_a_body_takes_the_status_of_the_code_it_was_built_from() -> None:
    unauthorised = next(code for code, entry in ERROR_CODES.items() if entry.default_status == 401)
    body = find(malformed_envelopes(defects=["short_form"], codes=[unauthorised]), lambda b: True, settings=FIRST)
    assert (body.status, body.code) == (401, unauthorised)


# -- the value types themselves -------------------------------------------------------------------


def test_an_envelope_dict_is_the_dict_build_envelope_makes() -> None:
    envelope = EnvelopeDict(12007, message="Low balance", error_id="a" * 32)
    plain = build_envelope(12007, message="Low balance", error_id="a" * 32)
    assert envelope == plain
    assert isinstance(envelope, dict)
    assert json.dumps(envelope) == json.dumps(plain)
    assert (envelope.code, envelope.status) == (12007, ERROR_CODES[12007].default_status)
    for duplicate in (copy.copy(envelope), copy.deepcopy(envelope), pickle.loads(pickle.dumps(envelope))):
        assert type(duplicate) is EnvelopeDict
        assert duplicate == envelope


def test_an_envelope_dict_serves_what_it_holds_and_any_status() -> None:
    envelope = EnvelopeDict(12007, message="余额不足", error_id="b" * 32)
    outcome = envelope.outcome(status=200)
    assert isinstance(outcome, RawAnswer)
    assert (outcome.status, outcome.code) == (200, 12007)
    assert outcome.body == json.dumps(envelope, ensure_ascii=False).encode()
    envelope["error_code"] = "12007"  # changed by the test: served as it now is, carrying no code
    changed = envelope.outcome()
    assert (changed.status, changed.code) == (400, None)
    assert json.loads(changed.body)["error_code"] == "12007"


def test_an_envelope_drawn_by_a_falsifying_example_prints_as_the_call_that_rebuilds_it() -> None:
    @settings(max_examples=20, database=None, deadline=None)
    @given(envelope=error_envelopes(codes=[12007]))
    def fails(envelope: EnvelopeDict) -> None:
        raise AssertionError

    with pytest.raises(AssertionError) as failure:
        fails()
    notes = "\n".join(getattr(failure.value, "__notes__", []))
    if "envelope=EnvelopeDict(" not in notes:
        # older Hypothesis (6.80, tox -e lowest) prints any dict subclass as a plain dict
        assert hypothesis.__version_info__ < (6, 150), notes
        assert "'error_code': 12007" in notes
    assert "12007" in notes


def test_a_malformed_body_built_by_hand_serves_at_400_or_the_status_given() -> None:
    body = MalformedBody("empty_body", b"")
    assert body.outcome().status == 400
    assert body.outcome(status=503).status == 503
    assert body.outcome().headers == {"Content-Type": "application/json"}
    stripped = MalformedBody("no_content_type", b"{}", "", 400)
    assert stripped.outcome().headers is None


def test_inject_keeps_refusing_what_it_cannot_serve() -> None:
    with CoboFaults(transports="httpx") as fault, pytest.raises(TypeError, match="cannot answer with"):
        fault.inject(object(), path=PATH)


@given(st.data())
@settings(max_examples=10, database=None, deadline=None)
def test_every_public_strategy_yields_an_injectable_value(data: st.DataObject) -> None:
    strategy = data.draw(st.sampled_from([error_envelopes(), malformed_envelopes(), error_responses(), responses()]))
    value = data.draw(strategy)
    outcome = value.outcome()
    assert isinstance(outcome, RawAnswer)
    assert outcome.code == value.code
