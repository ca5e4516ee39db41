"""Hypothesis strategies for Cobo error bodies: what they generate, how they are labelled, how they shrink."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NoSuchExample

import pytest_cobo_errors
from pytest_cobo_errors import CoboFaults, EnvelopeError, parse_envelope
from pytest_cobo_errors import strategies as strategies_module
from pytest_cobo_errors.catalog import ERROR_CODES
from pytest_cobo_errors.envelopes import ENVELOPE_FIELDS, build_envelope
from pytest_cobo_errors.outcomes import RawAnswer
from pytest_cobo_errors.strategies import (
    DEFECTS,
    GATEWAY_STATUSES,
    ErrorResponse,
    MalformedBody,
    error_envelopes,
    error_responses,
    malformed_envelopes,
    responses,
)

FAST = settings(max_examples=25, database=None, deadline=None)
SHRINK = settings(database=None, max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAMILIES = (range(1000, 2000), range(12000, 13000))


# -- the module itself ----------------------------------------------------------------------------------


def test_all_lists_exactly_the_public_names_sorted() -> None:
    module = strategies_module
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    defined_here = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined_here.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined_here.update(t.id for t in targets if isinstance(t, ast.Name))
    defined_here = {name for name in defined_here if not name.startswith("_")}
    # constants, then classes, then functions, each alphabetical (ruff's RUF022 order)
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert set(module.__all__) == defined_here
    assert all(hasattr(module, name) for name in module.__all__)


def test_loading_the_plugin_does_not_import_hypothesis() -> None:
    code = "import sys, pytest_cobo_errors, pytest_cobo_errors.plugin; print(sorted(m for m in sys.modules if m.startswith('hypothesis')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_only_the_strategies_module_imports_hypothesis_and_nothing_imports_it() -> None:
    package = Path(pytest_cobo_errors.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        if path.name == "strategies.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            if any(n.split(".")[0] == "hypothesis" or n == "pytest_cobo_errors.strategies" for n in names):
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert offenders == []


# -- error_envelopes ------------------------------------------------------------------------------------


@FAST
@given(envelope=error_envelopes())
def test_error_envelopes_are_well_formed_five_field_bodies_for_documented_codes(envelope: dict[str, Any]) -> None:
    assert tuple(envelope) == ENVELOPE_FIELDS
    parsed = parse_envelope(json.dumps(envelope).encode())  # strict: no problem at all
    assert parsed.entry is not None
    assert parsed.description == parsed.message


@FAST
@given(envelope=error_envelopes(codes=[12007, 1010]))
def test_codes_narrows_to_a_list(envelope: dict[str, Any]) -> None:
    assert envelope["error_code"] in (12007, 1010)


@FAST
@given(envelope=error_envelopes(codes=st.sampled_from([12009, 1006]), messages=st.just("invalid request_id")))
def test_codes_and_messages_accept_strategies(envelope: dict[str, Any]) -> None:
    assert envelope["error_code"] in (12009, 1006)
    assert envelope["error_message"] == envelope["error_description"] == "invalid request_id"


@pytest.mark.parametrize(("family", "span"), [("1", FAMILIES[0]), ("12", FAMILIES[1])])
def test_family_narrows_to_one_family(family: str, span: range) -> None:
    @FAST
    @given(envelope=error_envelopes(family=family))
    def check(envelope: dict[str, Any]) -> None:
        assert envelope["error_code"] in span

    check()


def test_error_envelopes_shrink_to_the_first_code_with_its_documented_title() -> None:
    envelope = find(error_envelopes(codes=[12007, 1000]), lambda e: True, settings=SHRINK)
    assert envelope["error_code"] == 12007
    assert envelope["error_message"] == "Insufficient balance"
    assert re.fullmatch(r"[0-9a-f]{32}", envelope["error_id"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"codes": [12017]}, "12017 is not a documented Cobo error code; nearest documented: 12014, 12015, 12016"),
        ({"codes": ["12007"]}, "codes must hold ints such as 12007, got str '12007'"),
        ({"codes": []}, "codes is empty"),
        ({"codes": 12007}, "codes must be a list of documented codes or a strategy of them"),
        ({"family": "3"}, "family must be '1' (codes 1xxx) or '12' (codes 12xxx), got '3'"),
        ({"family": 12}, "family must be '1' (codes 1xxx) or '12' (codes 12xxx), got 12"),
        ({"codes": [1000, 1010], "family": "12"}, "none of codes [1000, 1010] is in family '12'"),
        ({"messages": "invalid request_id"}, "messages must be a strategy of str"),
    ],
)
def test_bad_arguments_raise_invalid_argument_when_called(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        error_envelopes(**kwargs)
    assert message in str(raised.value)


def test_a_strategy_of_codes_is_checked_as_it_draws() -> None:
    @FAST
    @given(envelope=error_envelopes(codes=st.just(12017)))
    def check(envelope: dict[str, Any]) -> None:
        raise AssertionError("never reached")

    with pytest.raises(InvalidArgument, match="12017 is not a documented Cobo error code"):
        check()


# -- malformed_envelopes: one labelled defect at a time ----------------------------------------------

# What parse_envelope must say about each defect: every problem it lists matches the pattern, so the
# body is wrong in that one way and no other.
PROBLEMS = {
    "empty_body": r"body is empty \(a gateway or proxy answered, not Cobo\)",
    "not_an_object": r"body is a JSON (null|array|string|integer|boolean), not an object",
    "truncated_json": r"body is not JSON: .*",
    "html_gateway_page": r"body is not JSON \(an HTML page: a gateway answered, not Cobo\): .*",
    "not_utf8": r"body is not UTF-8: byte 0x[0-9a-f]{2} at offset \d+",
    "short_form": r"missing field '(error_message|error_id)'",
    **{f"missing_{field}": f"missing field '{field}'" for field in ENVELOPE_FIELDS},
    "success_as_string": r"success must be the boolean false, got string .*",
    "success_true_with_error": r"success is true: a success body, not an error",
    "success_at_error_status": r"success is true: a success body, not an error|unexpected field 'result'|"
    r"missing field '(error_code|error_message|error_id|error_description)'",
    "code_as_string": r"error_code must be an integer, got string '\d+'",
    "code_as_float": r"error_code must be an integer, got number \d+\.0",
    "code_as_bool": r"error_code must be an integer, got boolean (True|False)",
    "code_as_null": r"error_code must be an integer, got null None",
    "code_as_list_or_object": r"error_code must be an integer, got (array|object) .*",
    "undocumented_code": r"error_code (?P<code>\d+) is not documented \(nearest: .*\)",
    "out_of_range_code": r"error_code (?P<code>-?\d+) is not documented \(nearest: .*\)",
    "bad_error_id": r"error_id must be (32 lowercase hex characters|a string), got .*",
    "extra_keys": r"unexpected field '\w+'",
    "duplicate_keys": r"duplicate key '(success|error_code|error_message|error_id|error_description)'",
}
REJECTED = [d for d in DEFECTS if d in PROBLEMS]


def test_every_defect_has_an_expected_problem_or_a_test_of_its_own() -> None:
    assert [d for d in DEFECTS if d not in PROBLEMS] == ["no_content_type", "huge_values", "huge_number"]


@pytest.mark.parametrize("defect", REJECTED)
def test_each_defect_is_rejected_by_parse_envelope_for_exactly_its_label(defect: str) -> None:
    @settings(FAST, max_examples=15)
    @given(body=malformed_envelopes(defects=[defect]))
    def check(body: MalformedBody) -> None:
        assert body.defect == defect
        assert repr(body).startswith(f"{defect}: ")
        assert body.content_type == ("text/html" if defect == "html_gateway_page" else "application/json")
        with pytest.raises(EnvelopeError) as raised:
            parse_envelope(body.body)
        problems = raised.value.problems
        assert problems, body
        for problem in problems:
            match = re.fullmatch(PROBLEMS[defect], problem)
            assert match, f"{problem!r} is not what {defect} promises"
            if defect in ("undocumented_code", "out_of_range_code"):
                inside = any(int(match["code"]) in family for family in FAMILIES)
                assert inside == (defect == "undocumented_code")

    check()


def test_short_form_is_exactly_the_documented_short_envelope() -> None:
    body = find(malformed_envelopes(defects=["short_form"]), lambda b: True, settings=SHRINK)
    assert json.loads(body.body) == {
        "success": False,
        "error_code": 1000,
        "error_description": "Unknown internal error",
    }


@FAST
@given(body=malformed_envelopes(defects=["extra_keys"]))
def test_extra_keys_are_the_only_defect_of_their_bodies(body: MalformedBody) -> None:
    parse_envelope(body.body, allow_extra=True)


@settings(FAST, max_examples=6)
@given(body=malformed_envelopes(defects=["huge_values"]))
def test_huge_values_are_well_formed_but_64_kib_or_more(body: MalformedBody) -> None:
    envelope = parse_envelope(body.body)  # nothing else is wrong: only the size
    assert len(envelope.message) >= 1 << 16
    assert envelope.description == envelope.message
    assert len(repr(body)) < 200  # a falsifying example stays readable


@pytest.mark.parametrize("param", range(9))  # every size with every filler
def test_huge_values_are_the_bytes_json_dumps_writes(param: int) -> None:
    envelope = build_envelope(12007, message="Insufficient balance", error_id="0" * 32)
    body = strategies_module._huge_values(envelope, param)
    text = json.loads(body.body)["error_message"]
    expected = {**envelope, "error_message": text, "error_description": text}
    assert body.body == json.dumps(expected, ensure_ascii=False).encode("utf-8")
    assert body.code == 12007


@settings(FAST, max_examples=6)
@given(body=malformed_envelopes(defects=["huge_number"]))
def test_huge_number_breaks_json_loads_with_a_value_error_not_a_decode_error(body: MalformedBody) -> None:
    with pytest.raises(ValueError, match="Exceeds the limit") as raised:
        json.loads(body.body)
    assert not isinstance(raised.value, json.JSONDecodeError)  # `except JSONDecodeError` does not catch it
    digits = re.search(rb'"error_code": (\d+)', body.body)
    assert digits is not None
    assert len(digits[1]) > 4300


def test_parse_envelope_reports_a_huge_number_as_a_problem() -> None:
    # CPython refuses integers over 4300 digits with a plain ValueError, not JSONDecodeError
    body = find(malformed_envelopes(defects=["huge_number"]), lambda b: True, settings=SHRINK)
    with pytest.raises(EnvelopeError, match="body is not JSON: Exceeds the limit"):
        parse_envelope(body.body)


def test_every_defect_is_generated_by_the_unrestricted_strategy() -> None:
    seen: set[str] = set()

    @settings(max_examples=300, database=None, deadline=None, derandomize=True, phases=[Phase.generate])
    @given(body=malformed_envelopes())
    def collect(body: MalformedBody) -> None:
        seen.add(body.defect)

    collect()
    assert sorted(seen) == sorted(DEFECTS)


def test_every_kind_of_response_is_generated_by_the_unrestricted_strategy() -> None:
    seen: set[str | None] = set()

    # 1,000: older Hypothesis versions (6.80) draw early examples less evenly than today's
    @settings(max_examples=1000, database=None, deadline=None, derandomize=True, phases=[Phase.generate])
    @given(response=error_responses())
    def collect(response: ErrorResponse) -> None:
        seen.add(response.defect)

    collect()
    assert seen == {None, *DEFECTS} - {"success_at_error_status"}  # asked for by name, or by responses()


def test_a_success_at_an_error_status_comes_when_named_or_from_responses() -> None:
    for strategy in (error_responses(defects=["success_at_error_status", "short_form"]), responses()):
        find(strategy, lambda r: r.defect == "success_at_error_status", settings=SHRINK)
    with pytest.raises(NoSuchExample):
        find(error_responses(), lambda r: r.defect == "success_at_error_status", settings=FAST)


@FAST
@given(body=malformed_envelopes(defects=["short_form", "empty_body"], codes=[12007]))
def test_defects_and_codes_narrow_malformed_bodies(body: MalformedBody) -> None:
    assert body.defect in ("short_form", "empty_body")
    if body.defect == "short_form":
        assert json.loads(body.body)["error_code"] == 12007


@pytest.mark.parametrize(
    ("defects", "message"),
    [
        (["short_from"], "unknown defect 'short_from'; did you mean 'short_form'? valid: empty_body, "),
        ("short_form", "defects must be a list of names from DEFECTS"),
        ([], "defects is empty"),
    ],
)
def test_bad_defects_raise_invalid_argument(defects: Any, message: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        malformed_envelopes(defects=defects)
    assert message in str(raised.value)


# -- shrinking --------------------------------------------------------------------------------------------


def lenient_client(body: bytes) -> str:
    """A client that survives non-JSON bodies, yet trusts the fields of anything that parses."""
    try:
        data = json.loads(body)
    except ValueError:
        return "not json"
    if not isinstance(data, dict):
        return "not an object"
    if data.get("success") is not False:
        return "not an error"
    code = int(data["error_code"]) if isinstance(data.get("error_code"), (int, str)) else 0
    return f"{code}: {data['error_message']} ({int(data['error_id'], 16):x})"  # KeyError, ValueError, TypeError


def crashes(client: Any, body: bytes) -> bool:
    try:
        client(body)
    except Exception:
        return True
    return False


def test_shrinking_reaches_the_simplest_defect_that_breaks_the_client_in_its_simplest_form() -> None:
    # this client breaks on short_form, missing_error_message, missing_error_id, bad_error_id, ...
    failing = find(malformed_envelopes(), lambda b: crashes(lenient_client, b.body), settings=SHRINK)
    assert failing.defect == "short_form"
    assert failing.body == b'{"success": false, "error_code": 1000, "error_description": "Unknown internal error"}'


def test_shrinking_follows_defects_order_whatever_order_they_were_asked_in() -> None:
    def crashes_on_error_id(body: MalformedBody) -> bool:
        return body.defect in ("bad_error_id", "missing_error_id") and crashes(lenient_client, body.body)

    failing = find(
        malformed_envelopes(defects=["bad_error_id", "missing_error_id"]), crashes_on_error_id, settings=SHRINK
    )
    assert failing.defect == "missing_error_id"


def test_shrinking_within_a_defect_reaches_its_simplest_variant() -> None:
    def is_an_array(body: MalformedBody) -> bool:
        return body.body.startswith(b"[")

    failing = find(malformed_envelopes(defects=["not_an_object"]), is_an_array, settings=SHRINK)
    assert failing.body == b"[]"


# -- error_responses --------------------------------------------------------------------------------------


@settings(FAST, max_examples=60)
@given(response=error_responses())
def test_error_responses_are_ready_for_inject_and_served_exactly(response: ErrorResponse) -> None:
    faults = CoboFaults(transports="httpx")
    rule = faults.inject(response)
    (outcome,) = rule.outcomes
    assert isinstance(outcome, RawAnswer)
    reply = outcome.render()
    assert (reply.status, reply.body) == (response.status, response.body)
    assert dict(reply.headers) == dict(response.headers)
    assert repr(response).startswith(response.label)
    if response.defect is None:
        envelope = parse_envelope(response.body)
        assert outcome.code == envelope.code == response.code  # counted by --cobo-coverage
        assert response.status in (ERROR_CODES[envelope.code].default_status, 200, *GATEWAY_STATUSES)
    else:
        assert outcome.code == response.code  # the int error_code the body carries, or None
        assert response.defect in DEFECTS


@FAST
@given(response=error_responses(valid=False, defects=["html_gateway_page"]))
def test_a_gateway_page_is_served_with_the_status_it_names(response: ErrorResponse) -> None:
    assert response.status in GATEWAY_STATUSES
    assert f"<title>{response.status} ".encode() in response.body
    assert dict(response.headers) == {"Content-Type": "text/html"}


@FAST
@given(response=error_responses(statuses=[503], defects=["html_gateway_page", "short_form"]))
def test_statuses_replace_every_status_and_pages_follow_it(response: ErrorResponse) -> None:
    assert response.status == 503
    if response.defect == "html_gateway_page":
        assert b"<title>503 Service Unavailable</title>" in response.body


@FAST
@given(response=error_responses(statuses=st.sampled_from([200, 418]), malformed=False, family="12"))
def test_valid_only_with_a_strategy_of_statuses(response: ErrorResponse) -> None:
    assert response.defect is None
    assert response.status in (200, 418)
    assert response.code is not None
    assert response.code >= 12000


def test_error_responses_shrink_to_a_well_formed_envelope_at_its_default_status() -> None:
    response = find(error_responses(), lambda r: True, settings=SHRINK)
    assert (response.label, response.status) == ("well_formed 1000", 500)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"valid": False, "malformed": False}, "valid=False and malformed=False leave nothing to generate"),
        ({"valid": "yes"}, "valid and malformed must be booleans"),
        ({"statuses": [99]}, "statuses must hold HTTP statuses from 100 to 599, got 99"),
        ({"statuses": []}, "statuses is empty"),
        ({"statuses": 503}, "statuses must be a list of HTTP statuses or a strategy of them"),
        ({"malformed": False, "defects": ["short_form"]}, "defects= chooses malformed bodies, but malformed=False"),
        ({"codes": [42]}, "42 is not a documented Cobo error code"),
    ],
)
def test_bad_response_arguments_raise_invalid_argument(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        error_responses(**kwargs)
    assert message in str(raised.value)


# -- issue 16: new defects, genuine successes, a distribution that finds bugs ---------------------------

NEW_DEFECTS = ("no_content_type", "code_as_list_or_object", "success_at_error_status")
DERANDOMIZED = settings(database=None, deadline=None, derandomize=True, phases=[Phase.generate])


@pytest.mark.parametrize("defect", NEW_DEFECTS)
def test_the_new_defects_are_labelled_with_where_they_come_from(defect: str) -> None:
    assert defect in DEFECTS
    assert len(DEFECTS[defect]) > 40  # what it is, and where it is seen or why it is plausible
    body = find(malformed_envelopes(defects=[defect]), lambda b: True, settings=SHRINK)
    assert body.defect == defect
    assert body.description == DEFECTS[defect]
    assert repr(body).startswith(f"{defect}: ")


@settings(FAST, max_examples=20)
@given(body=malformed_envelopes(defects=["no_content_type"]))
def test_no_content_type_is_an_empty_page_or_an_envelope_without_the_header(body: MalformedBody) -> None:
    assert body.content_type == ""
    assert repr(body).endswith(" bytes, no Content-Type)")
    if body.body:
        parse_envelope(body.body)  # the body itself is well-formed: only the header is missing


@FAST
@given(response=error_responses(valid=False, defects=["no_content_type"]))
def test_a_response_without_content_type_has_no_such_header_and_is_served_without_one(
    response: ErrorResponse,
) -> None:
    assert response.headers == ()
    reply = response.outcome().render()
    assert "content-type" not in {name.lower() for name, _ in reply.headers}


@FAST
@given(body=malformed_envelopes(defects=["code_as_list_or_object"]))
def test_code_as_list_or_object_is_a_list_or_an_object(body: MalformedBody) -> None:
    assert isinstance(json.loads(body.body)["error_code"], (list, dict))


@FAST
@given(response=error_responses(valid=False, defects=["success_at_error_status"]))
def test_a_success_at_an_error_status_is_a_well_formed_success_under_a_non_2xx(response: ErrorResponse) -> None:
    assert not 200 <= response.status < 300
    assert json.loads(response.body)["success"] is True
    assert set(json.loads(response.body)) == {"success", "result"}
    assert not response.is_success
    assert repr(response).startswith(f'success_at_error_status as HTTP {response.status}: b\'{{"success": true')


@FAST
@given(response=error_responses(statuses=[200], defects=["success_at_error_status", "html_gateway_page"]))
def test_given_2xx_statuses_do_not_turn_a_success_at_an_error_status_into_a_success(response: ErrorResponse) -> None:
    if response.defect == "success_at_error_status":
        assert not 200 <= response.status < 300
    else:
        assert response.status == 200  # the page names the status it is given


def test_responses_generate_genuine_successes_marked_as_such_among_errors() -> None:
    seen: list[ErrorResponse] = []

    @settings(DERANDOMIZED, max_examples=200)
    @given(response=responses())
    def collect(response: ErrorResponse) -> None:
        seen.append(response)

    collect()
    successes = [r for r in seen if r.is_success]
    assert 0.1 < len(successes) / len(seen) < 0.35  # about one in five
    assert {r.defect for r in seen} >= {None, *NEW_DEFECTS}
    for response in successes:
        body = json.loads(response.body)
        assert set(body) == {"success", "result"}
        assert body["success"] is True
        assert (response.status, response.defect, response.code, response.label) == (200, None, None, "success")
        assert dict(response.headers) == {"Content-Type": "application/json"}
        assert repr(response).startswith('success as HTTP 200: b\'{"success": true, "result": ')
    assert any(not json.loads(r.body)["result"] for r in successes)  # result false, [], {}: still a success
    for response in seen:
        if not response.is_success:
            assert response.label != "success"


@FAST
@given(response=error_responses())
def test_error_responses_never_yield_a_success(response: ErrorResponse) -> None:
    assert not response.is_success


@FAST
@given(response=responses(statuses=[201, 503], defects=["short_form"]))
def test_responses_keep_a_drawn_2xx_for_successes_and_serve_them_at_200_otherwise(response: ErrorResponse) -> None:
    if response.is_success:
        assert response.status in (200, 201)
    else:
        assert response.status in (201, 503)


def test_responses_shrink_to_an_error_not_to_a_success() -> None:
    response = find(responses(), lambda r: True, settings=SHRINK)
    assert (response.label, response.status, response.is_success) == ("well_formed 1000", 500, False)


@pytest.mark.parametrize("strategy", [error_responses, responses])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"valid": False, "malformed": False}, "valid=False and malformed=False leave nothing to generate"),
        ({"malformed": 1}, "valid and malformed must be booleans"),
        ({"statuses": [600]}, "statuses must hold HTTP statuses from 100 to 599, got 600"),
        ({"defects": ["no_content"]}, "unknown defect 'no_content'; did you mean 'no_content_type'?"),
        ({"codes": [12007], "family": "1"}, "none of codes [12007] is in family '1'"),
    ],
)
def test_bad_arguments_of_both_response_strategies_raise_invalid_argument(
    strategy: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        strategy(**kwargs)
    assert message in str(raised.value)


def test_response_strategies_take_keyword_arguments_only() -> None:
    for strategy in (error_responses, responses):
        with pytest.raises(TypeError):
            strategy([200])


def status_class(status: int) -> str:
    return f"{status // 100}xx"


@pytest.mark.parametrize("kind", ["well_formed", *DEFECTS])
def test_every_defect_comes_at_2xx_4xx_and_5xx(kind: str) -> None:
    # reachability, asked of each kind alone: a fixed sample of all kinds is not a stable witness,
    # as Hypothesis mixes constants from the modules loaded into what it draws (a suite that loads
    # more modules draws differently, derandomized or not)
    strategy = error_responses() if kind == "well_formed" else error_responses(valid=False, defects=[kind])
    expected = {"html_gateway_page": {"4xx", "5xx"}, "success_at_error_status": {"4xx", "5xx"}}
    for cls in ("2xx", "4xx", "5xx"):

        def at_class(response: ErrorResponse, cls: str = cls) -> bool:
            return response.label.split()[0] == kind and status_class(response.status) == cls

        if cls in expected.get(kind, {"2xx", "4xx", "5xx"}):
            assert at_class(find(strategy, at_class, settings=settings(DERANDOMIZED, max_examples=2000)))
        else:
            with pytest.raises(NoSuchExample):
                find(strategy, at_class, settings=settings(DERANDOMIZED, max_examples=300))


def test_without_defects_named_the_success_body_at_an_error_status_is_not_made() -> None:
    seen: set[str] = set()

    @settings(DERANDOMIZED, max_examples=500)
    @given(response=error_responses())
    def collect(response: ErrorResponse) -> None:
        seen.add(response.label.split()[0])

    collect()
    assert "success_at_error_status" not in seen  # only when named, or from responses()


def test_200_comes_about_half_the_time() -> None:
    count = {"2xx": 0, "all": 0}

    @settings(DERANDOMIZED, max_examples=1000)
    @given(response=error_responses())
    def collect(response: ErrorResponse) -> None:
        count["all"] += 1
        count["2xx"] += 200 <= response.status < 300

    collect()
    assert 0.4 < count["2xx"] / count["all"] < 0.6


@pytest.mark.skipif(
    hypothesis.__version_info__ < (6, 129),
    reason="Hypothesis before 6.129 draws a sampled_from's first entries more often: under 6.80, 6.120 and "
    "6.128, code_as_null came at 2xx 0-3 times in some seeds' 1,000 examples (9-14 from 6.129 on)",
)
@pytest.mark.parametrize("number", range(3))
def test_each_defect_is_at_a_2xx_status_within_a_thousand_examples(number: int) -> None:
    at_2xx: set[str] = set()

    @settings(max_examples=1000, database=None, deadline=None, phases=[Phase.generate])
    @hypothesis_seed(number)
    @given(response=error_responses())
    def collect(response: ErrorResponse) -> None:
        if 200 <= response.status < 300:
            at_2xx.add(response.label.split()[0])

    collect()
    assert at_2xx == {"well_formed", *DEFECTS} - {"html_gateway_page", "success_at_error_status"}


def test_responses_make_a_success_at_an_error_status_at_4xx_and_5xx() -> None:
    seen: set[str] = set()

    @settings(DERANDOMIZED, max_examples=1000)
    @given(response=responses())
    def collect(response: ErrorResponse) -> None:
        if response.defect == "success_at_error_status":
            seen.add(status_class(response.status))

    collect()
    assert seen == {"4xx", "5xx"}


def test_the_success_flag_defects_are_at_200_most_of_the_time() -> None:
    statuses: dict[str, list[int]] = {}

    @settings(DERANDOMIZED, max_examples=1000)
    @given(response=error_responses(defects=["success_as_string", "success_true_with_error", "code_as_string"]))
    def collect(response: ErrorResponse) -> None:
        statuses.setdefault(response.label, []).append(response.status)

    collect()
    share = {label: sum(s == 200 for s in values) / len(values) for label, values in statuses.items()}
    # seven in eight by design; older Hypothesis versions draw less evenly, hence the margin
    assert share["success_as_string"] > 0.65
    assert share["success_true_with_error"] > 0.65
    assert 0.3 < share["code_as_string"] < 0.7


def test_a_failing_response_prints_as_its_label_status_and_first_bytes() -> None:
    response = find(
        error_responses(valid=False, defects=["no_content_type"]), lambda r: r.body != b"", settings=SHRINK
    )  # the envelope without its header
    assert re.fullmatch(r"no_content_type as HTTP 400: b'\{\"success\": false, .*'\.\.\. \(\d+ bytes\)", repr(response))


# -- the distribution, for finding bugs (see benchmarks/bench_bugs.py) ------------------------------


def test_kinds_whose_client_paths_other_kinds_reach_come_at_half_weight_beside_those_kinds() -> None:
    weighted = strategies_module._weighted
    covered = strategies_module._COVERED_BY
    kinds = [None, *(d for d in DEFECTS if d != "success_at_error_status")]
    counts = {kind: weighted(kinds).count(kind) for kind in kinds}
    assert {kind for kind, n in counts.items() if n == 1} == set(covered)
    assert {n for kind, n in counts.items() if kind not in covered} == {2}
    assert weighted(kinds)[0] is None  # shrinking still moves toward a well-formed envelope first
    # each is covered by full-weight kinds only, and only while they are drawn too
    assert not set(covered).intersection(*covered.values())
    assert weighted(["code_as_string", "no_content_type"]) == ("code_as_string",) * 2 + ("no_content_type",) * 2
    assert weighted(["missing_error_id"]) == ("missing_error_id",)


def test_a_half_weight_kind_comes_about_half_as_often() -> None:
    counts: dict[str, int] = {}

    @settings(DERANDOMIZED, max_examples=2000)
    @given(response=error_responses(valid=False, defects=["short_form", "missing_error_id", "not_an_object"]))
    def collect(response: ErrorResponse) -> None:
        counts[response.label] = counts.get(response.label, 0) + 1

    collect()
    assert 0.3 < counts["missing_error_id"] / counts["short_form"] < 0.7
    assert 0.3 < counts["missing_error_id"] / counts["not_an_object"] < 0.7


def test_bad_error_ids_are_never_32_lowercase_hex_and_mostly_break_a_uuid_parser() -> None:
    hex_id = "0123456789abcdef0123456789abcdef"
    ids = [
        strategies_module._BAD_ERROR_IDS[param % len(strategies_module._BAD_ERROR_IDS)](hex_id) for param in range(32)
    ]
    assert not any(isinstance(i, str) and re.fullmatch("[0-9a-f]{32}", i) for i in ids)

    def parses(value: object) -> bool:
        try:
            uuid.UUID(hex=value)  # type: ignore[arg-type]
        except (ValueError, TypeError, AttributeError):
            return False
        return True

    assert [i for i in ids if parses(i)] == [hex_id.upper(), "01234567-89ab-cdef-0123-456789abcdef"]
    assert ids[0] == ""  # the simplest form, where shrinking goes


def test_out_of_range_codes_take_each_named_value_as_often_as_13000_and_up() -> None:
    named = strategies_module._OUT_OF_RANGE
    values = [strategies_module._out_of_range({}, param) for param in range(2 * (len(named) + 1))]
    assert set(named) <= set(values)
    assert values[0] == 0  # the simplest
    assert all(v not in ERROR_CODES and not any(v in family for family in FAMILIES) for v in values)
    assert sum(v >= 13000 and v not in named for v in values) == 2
