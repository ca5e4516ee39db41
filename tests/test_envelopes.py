"""Envelopes: the real five-field body, built with overrides, and a validator that says what is wrong."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from pytest_cobo_errors import EnvelopeError, assert_cobo_error, build_envelope, error, parse_envelope, success_envelope
from pytest_cobo_errors.envelopes import ENVELOPE_FIELDS


def test_default_envelope_has_the_five_real_fields() -> None:
    body = build_envelope(12007)
    assert list(body) == list(ENVELOPE_FIELDS)
    assert body["success"] is False
    assert body["error_code"] == 12007
    assert body["error_message"] == body["error_description"] == "Insufficient balance"
    assert re.fullmatch(r"[0-9a-f]{32}", body["error_id"])


def test_every_envelope_gets_a_fresh_error_id() -> None:
    assert build_envelope(1000)["error_id"] != build_envelope(1000)["error_id"]


def test_any_field_can_be_overridden_added_or_omitted() -> None:
    body = build_envelope(
        1006, message="invalid request_id", error_id="0" * 32, fields={"error_code": "1006", "extra": 1},
        omit=("error_description",),
    )  # fmt: skip
    assert body == {
        "success": False, "error_code": "1006", "error_message": "invalid request_id", "error_id": "0" * 32, "extra": 1,
    }  # fmt: skip


def test_omit_rejects_unknown_field_names() -> None:
    with pytest.raises(ValueError, match="omit= names unknown fields \\['error_cod'\\]; valid: success, error_code"):
        build_envelope(1000, omit=("error_cod",))


def test_parse_accepts_a_real_envelope_from_bytes_text_or_mapping() -> None:
    body = build_envelope(12009)
    for form in (json.dumps(body).encode(), json.dumps(body), body):
        envelope = parse_envelope(form)
        assert envelope.code == 12009
        assert envelope.entry is not None
        assert envelope.entry.message == "Duplicate withdraw request id"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "body is empty"),
        (b"\xff\xfe", "body is not UTF-8: byte 0xff at offset 0"),
        (b"<html><body>502 Bad Gateway</body></html>", "body is not JSON (an HTML page: a gateway answered"),
        (b'{"success": false, "error_code": 10', "body is not JSON: Expecting"),
        (b"[1, 2]", "body is a JSON array, not an object"),
        (b'{"success": false, "error_code": 1000, "error_description": "Unknown internal error"}',
         "missing field 'error_message'"),
        ({**build_envelope(1000), "error_code": "1000"}, "error_code must be an integer, got string '1000'"),
        ({**build_envelope(1000), "error_code": 1000.0}, "error_code must be an integer, got number 1000.0"),
        ({**build_envelope(1000), "error_code": True}, "error_code must be an integer, got boolean True"),
        ({**build_envelope(1000), "error_code": None}, "error_code must be an integer, got null None"),
        ({**build_envelope(1000), "error_code": 99999}, "error_code 99999 is not documented (nearest: 12201, 12202, 12203)"),
        ({**build_envelope(1000), "success": "false"}, "success must be the boolean false, got string 'false'"),
        ({**build_envelope(1000), "success": True}, "success is true: a success body, not an error"),
        ({**build_envelope(1000), "error_id": "6D9FD6B4"}, "error_id must be 32 lowercase hex characters"),
        ({**build_envelope(1000), "result": {}}, "unexpected field 'result'"),
        (b'{"success": false, "success": false, "error_code": 1000, "error_message": "m", '
         b'"error_id": "6d9fd6b4a2e346b9953a3be47ebd0700", "error_description": "m"}', "duplicate key 'success'"),
    ],
)  # fmt: skip
def test_parse_names_precisely_what_is_wrong(body: object, problem: str) -> None:
    with pytest.raises(EnvelopeError) as excinfo:
        parse_envelope(body)  # type: ignore[arg-type]
    assert any(p.startswith(problem) for p in excinfo.value.problems), excinfo.value.problems
    assert problem in str(excinfo.value)


def test_parse_lists_every_problem_at_once() -> None:
    with pytest.raises(EnvelopeError) as excinfo:
        parse_envelope({"success": "no", "error_code": "x"})
    assert len(excinfo.value.problems) == 5  # three missing fields, two wrong types


def test_extra_fields_and_undocumented_codes_can_be_allowed() -> None:
    body = {**build_envelope(1000), "error_code": 4242, "trace": "t"}
    assert parse_envelope(body, allow_extra=True, documented=False).code == 4242


def test_success_envelope() -> None:
    assert success_envelope({"coin": "BTC"}) == {"success": True, "result": {"coin": "BTC"}}
    assert success_envelope() == {"success": True, "result": {}}


def test_assert_cobo_error_checks_code_status_and_message_of_a_response() -> None:
    response = httpx.Response(400, json=build_envelope(12007))
    envelope = assert_cobo_error(response, code=12007, status=400)
    assert envelope.message == "Insufficient balance"
    with pytest.raises(
        AssertionError, match=r"HTTP status is 400, expected 429\n  - error_code is 12007, expected 1010"
    ):
        assert_cobo_error(response, code=1010, status=429)
    with pytest.raises(AssertionError, match="error_message is 'Insufficient balance', expected 'nope'"):
        assert_cobo_error(response, message="nope")


def test_assert_cobo_error_on_a_gateway_page_says_so() -> None:
    response = httpx.Response(502, text="<html>bad gateway</html>")
    with pytest.raises(AssertionError, match="body is not JSON \\(an HTML page"):
        assert_cobo_error(response, code=12022)


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_each_answer_of_one_error_gets_its_own_error_id_and_the_catalogs_body(api: str) -> None:
    # the envelope is rendered once per error, and only its error_id is made per answer
    outcome = error(12007, api=api)  # type: ignore[arg-type]
    first, second = (json.loads(outcome.render().body) for _ in range(2))
    assert first["error_id"] != second["error_id"]
    assert all(len(body["error_id"]) == 32 and int(body["error_id"], 16) >= 0 for body in (first, second))
    expected = build_envelope(12007, api=api)  # type: ignore[arg-type]
    assert {k: v for k, v in first.items() if k != "error_id"} == {k: v for k, v in expected.items() if k != "error_id"}
