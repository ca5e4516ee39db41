"""Bad input: every public function and option answers a wrong value with a clear error.

Options are checked when pytest starts: a bad value is a usage error (exit code 4) that names
the option, with no traceback. API calls raise TypeError or ValueError (or a subclass) whose
message names what was wrong and what is valid, never an AttributeError or a raw message
from deep inside, and never later, at request time, when the cause is far away.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest

import pytest_cobo_errors as api
from pytest_cobo_errors import ERROR_CODES, CoboErrorCase
from pytest_cobo_errors.faults import CoboFaults
from pytest_cobo_errors.transports import UnsupportedFaultError

# -- options --------------------------------------------------------------------------------
LONG = "1" * 5000  # past Python's 4300-digit int() limit: must be refused before int(), and not echoed whole
EMPTY = "given empty on the command line; leave the option out"
BAD_OPTIONS = [
    ("--cobo-codes=zz", "--cobo-codes / cobo_codes: 'zz' is not a code pattern; valid forms: 12007 (a code)*"),
    ("--cobo-codes=99999", "--cobo-codes / cobo_codes: '99999' is not a documented Cobo error code (nearest: *"),
    ("--cobo-codes=12100-12000", "--cobo-codes / cobo_codes: '12100-12000': a range runs from low to high*"),
    ("--cobo-codes=!*,!v2:*", "--cobo-codes / cobo_codes: '!*,!v2:*' excludes every documented code*"),
    ("--cobo-codes=12007,,1010", "--cobo-codes / cobo_codes: empty term in *"),
    ("--cobo-codes=http:418", "--cobo-codes / cobo_codes: 'http:418': not a documented HTTP status (documented: 400*"),
    ("--cobo-transports=nope", "--cobo-transports / cobo_transports: unknown transport 'nope'; valid: auto, httpx*"),
    ("--cobo-transports=httpx,curl", "--cobo-transports / cobo_transports: unknown transport 'curl'; valid: *"),
    ("--cobo-transports=,", "--cobo-transports / cobo_transports: no transport chosen; valid: auto, *"),
    ("--cobo-base-url=ftp://api.dev.cobo.com", "--cobo-base-url / cobo_base_url: invalid base URL 'ftp://*"),
    ("--cobo-base-url=api.dev.cobo.com", "--cobo-base-url / cobo_base_url: invalid base URL 'api.dev.cobo.com'*"),
    ("--cobo-base-url=https://x:99999", "--cobo-base-url / cobo_base_url: invalid base URL 'https://x:99999'*"),
    ("--cobo-base-url=https://x/?q=1", "--cobo-base-url / cobo_base_url: invalid base URL*expected http(s)://host*"),
    (
        "--cobo-coverage-fail-under=150",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got '150'",
    ),
    ("--cobo-coverage-fail-under=-1", "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got '-1'"),
    (
        "--cobo-coverage-json=",
        "--cobo-coverage-json / cobo_coverage_json: given empty on the command line; leave the option out for no JSON*",
    ),
    ("--cobo-coverage-json=.", "--cobo-coverage-json / cobo_coverage_json: '.': is a directory; give a file path*"),
    ("--cobo-coverage-json=out/", "--cobo-coverage-json / cobo_coverage_json: 'out/': is a directory; give a file*"),
    (
        "--cobo-coverage-json=test_a_bad_option_is_a_usage_error_naming_it.py/cov.json",
        "--cobo-coverage-json / cobo_coverage_json: *: *test_a_bad_option_is_a_usage_error_naming_it.py is a file,*",
    ),
    ("--cobo-coverage-json=a\x00b", "--cobo-coverage-json / cobo_coverage_json: *: a path cannot hold a NUL character"),
    (
        "--cobo-coverage-fail-under=abc",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got 'abc'",
    ),
    (
        "--cobo-coverage-fail-under=nan",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got 'nan'",
    ),
    # unicode digits pass str.isdigit() but not int(): these were INTERNALERRORs (exit 3)
    ("--cobo-codes=²", "--cobo-codes / cobo_codes: '²' is not a code pattern: write digits as 0-9; valid forms: *"),
    (
        "--cobo-codes=１２００７",
        "--cobo-codes / cobo_codes: '１２００７' is not a code pattern: write digits as 0-9; *",
    ),
    ("--cobo-codes=http:²", "--cobo-codes / cobo_codes: 'http:²': not a documented HTTP status (documented: 400*"),
    (
        f"--cobo-codes={LONG}",
        "--cobo-codes / cobo_codes: '11111111111111111111…' (5000 characters): 5000 digits is too many for a code "
        "(documented codes have 4 or 5 digits); valid forms: *",
    ),
    (
        f"--cobo-codes=1-{LONG}",
        "--cobo-codes / cobo_codes: '1-111111111111111111…' (5002 characters): 5000 digits is too many for a code*",
    ),
    (
        f"--cobo-codes=http:{LONG}",
        "--cobo-codes / cobo_codes: 'http:111111111111111…' (5005 characters): not a documented HTTP status*",
    ),
    (
        "--cobo-codes=12xx",
        "--cobo-codes / cobo_codes: '12xx' matches no documented Cobo code "
        "(x is one digit and documented codes have 4 or 5 digits; nearest: 12xxx); valid forms: *",
    ),
    ("--cobo-codes=!", "--cobo-codes / cobo_codes: '!' needs a pattern after it, e.g. !1070; valid forms: *"),
    (
        "--cobo-transports=auto,httpx",
        "--cobo-transports / cobo_transports: 'auto' means every installed library and stands alone; "
        "to choose libraries, name them: httpx*",
    ),
    (f"--cobo-transports=x{LONG}", "--cobo-transports / *: unknown transport 'x1111111111111111111…'; valid: *"),
    # explicitly empty on the command line: it reads as "none", so it is refused rather than taken as "unset"
    ("--cobo-codes=", f"--cobo-codes / cobo_codes: {EMPTY} (or give '*') to run every case, or give patterns *"),
    ("--cobo-codes= ", f"--cobo-codes / cobo_codes: {EMPTY} (or give '*') to run every case*"),
    ("--cobo-transports=", f"--cobo-transports / cobo_transports: {EMPTY} (or give 'auto') for every installed *"),
    ("--cobo-base-url=", f"--cobo-base-url / cobo_base_url: {EMPTY} for the Cobo hosts, or give a base URL such as *"),
    ("--cobo-coverage-fail-under=", f"--cobo-coverage-fail-under / cobo_coverage_fail_under: {EMPTY} for no minimum*"),
    # float() alone takes these; a percentage is ASCII digits with an optional %
    (
        "--cobo-coverage-fail-under=1e1",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got '1e1'",
    ),
    (
        "--cobo-coverage-fail-under=1_0",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got '1_0'",
    ),
    (
        "--cobo-coverage-fail-under=５０",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got '５０'",
    ),
    (
        f"--cobo-coverage-fail-under={LONG}",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, "
        "got '11111111111111111111…' (5000 characters)",
    ),
]

BAD_INI = [
    ("cobo_codes = 12xxx,zz", "--cobo-codes / cobo_codes: 'zz' is not a code pattern*"),
    ("cobo_transports = nope", "--cobo-transports / cobo_transports: unknown transport 'nope'*"),
    (
        "cobo_base_url =\n    https://api.dev.cobo.com\n    ftp://nope",
        "--cobo-base-url / cobo_base_url: invalid base URL 'ftp://nope'*",
    ),
    ("cobo_coverage_fail_under = 101", "--cobo-coverage-fail-under / cobo_coverage_fail_under: expected a percentage*"),
    ("cobo_codes = ²", "--cobo-codes / cobo_codes: '²' is not a code pattern: write digits as 0-9; valid forms: *"),
    ("cobo_codes = http:²", "--cobo-codes / cobo_codes: 'http:²': not a documented HTTP status*"),
    (f"cobo_codes = {LONG}", "--cobo-codes / cobo_codes: '11111111111111111111…' (5000 characters): 5000 digits*"),
    (f"cobo_codes = 1-{LONG}", "--cobo-codes / cobo_codes: '1-111111111111111111…' (5002 characters): 5000 digits*"),
    ("cobo_codes = 12xx", "--cobo-codes / cobo_codes: '12xx' matches no documented Cobo code (*; nearest: 12xxx)*"),
    ("cobo_transports = auto,httpx", "--cobo-transports / cobo_transports: 'auto' means every installed library*"),
    (
        "cobo_coverage_fail_under = 1e1",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got '1e1'",
    ),
    # a bool that is not one: pytest 8 raised a bare ValueError (INTERNALERROR), pytest 9 a message naming no option
    (
        "cobo_coverage = maybe",
        "--cobo-coverage / cobo_coverage: invalid truth value 'maybe'; valid: true or false (also yes/no, on/off, 1/0)",
    ),
    ("cobo_live = 2", "--cobo-live / cobo_live: invalid truth value '2'; valid: true or false*"),
    ("cobo_coverage_json = .", "--cobo-coverage-json / cobo_coverage_json: '.': is a directory; give a file path*"),
    ("cobo_coverage_json = tox.ini/cov.json", "--cobo-coverage-json / cobo_coverage_json: *tox.ini is a file, not a*"),
]


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)} chars)"


def _assert_usage_error(result: pytest.RunResult, message: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output


@pytest.mark.parametrize(("option", "message"), BAD_OPTIONS, ids=[_short(o) for o, _ in BAD_OPTIONS])
def test_a_bad_option_is_a_usage_error_naming_it(pytester: pytest.Pytester, option: str, message: str) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    _assert_usage_error(pytester.runpytest("-p", "no:randomly", option), message)


@pytest.mark.parametrize(("line", "message"), BAD_INI, ids=[_short(line) for line, _ in BAD_INI])
def test_a_bad_ini_value_is_a_usage_error_naming_it(pytester: pytest.Pytester, line: str, message: str) -> None:
    pytester.makeini(f"[pytest]\n{line}\n")
    pytester.makepyfile("def test_nothing(): pass")
    _assert_usage_error(pytester.runpytest("-p", "no:randomly"), message)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('cobo_transports("nope")', "unknown transport 'nope'; valid: auto, httpx*"),
        ("cobo_transports()", "no transport chosen; valid: auto, httpx*"),
        ("cobo_transports(5)", "transports must be 'auto' or names from httpx*"),
    ],
)
def test_a_bad_transports_marker_fails_its_test_clearly(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.{marker}
        def test_marked(cobo_fault):
            pass

        def test_unmarked():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.cobo_transports: {message}"])
    assert "Traceback" not in result.stdout.str()


def test_a_bad_cobo_error_cases_call_is_a_clear_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_cobo_errors import cobo_error_cases

        @cobo_error_cases(family="3")
        def test_cases(cobo_error):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ValueError: family must be '1' or '12' (or None for both), got '3'"])


# -- the API, walked as a table -------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    """One wrong call: what it must raise, and a pattern the message must contain."""

    name: str
    call: Callable[[], object]
    raises: type[Exception] | tuple[type[Exception], ...]
    says: str


def _faults() -> CoboFaults:
    return CoboFaults(transports="httpx")


A_CASE = CoboErrorCase(ERROR_CODES[12007])
CHOICES = "valid: auto, httpx"
HUGE = 10**5000  # past the 4300-digit limit of int-to-str: a message must not format it
HUGE_SAYS = r"an int of about 5001 digits"
SURROGATE = "\ud800"  # a lone surrogate: a str, but no UTF-8 encoder can write it
JSON_TYPES = r"; valid: dict, list, str, int, finite float, bool, None$"

BAD_CALLS = [
    Bad(
        "callback_cases",
        lambda: api.callback_cases("webhook"),
        ValueError,
        r"unknown callback kind 'webhook'; valid: v1_transaction",
    ),
    Bad(
        "callback_cases",
        lambda: api.callback_cases(faults=["tampered"]),
        ValueError,
        r"unknown callback fault 'tampered'",
    ),
    Bad(
        "callback_cases", lambda: api.callback_cases(3), TypeError, r"kinds must be a string or an iterable of strings"
    ),
    Bad(
        "callback_cases",
        lambda: api.callback_cases("v1_transaction", faults=["unknown_event_type"]),
        ValueError,
        r"no callback case has kind",
    ),
    Bad(
        "cobo_callback_cases",
        lambda: api.cobo_callback_cases(argname="not a name"),
        ValueError,
        r"argname must name a test argument",
    ),
    Bad("cobo_callback_cases", lambda: api.cobo_callback_cases(kinds="v3"), ValueError, r"unknown callback kind"),
    Bad(
        "CoboFaults.authenticate_requests",
        lambda: _faults().authenticate_requests("02ab"),
        TypeError,
        r"api_keys takes a collection of public keys in hex",
    ),
    # catalog
    Bad("error_code", lambda: api.error_code("12007"), TypeError, r"an error code must be an int, got str '12007'"),
    Bad(
        "error_code", lambda: api.error_code(99999), ValueError, r"not a documented Cobo error code; nearest documented"
    ),
    Bad("http_status", lambda: api.http_status(418), ValueError, r"documented: 400, 401, 403"),
    Bad("http_status", lambda: api.http_status(None), TypeError, r"an HTTP status must be an int"),
    Bad(
        "error_code",
        lambda: api.error_code(HUGE),
        ValueError,
        rf"^{HUGE_SAYS} is not a documented Cobo error code; nearest",
    ),
    Bad(
        "error_code",
        lambda: api.error_code(-HUGE),
        ValueError,
        r"^a negative int of about 5001 digits is not a documented",
    ),
    Bad(
        "http_status",
        lambda: api.http_status(HUGE),
        ValueError,
        rf"^{HUGE_SAYS} is not a documented Cobo HTTP status",
    ),
    Bad(
        "error_code",
        lambda: api.error_code("1" * 10**6),
        TypeError,
        r"^an error code must be an int, got str '1{20,}\.\.\.1+'$",
    ),
    # outcomes
    Bad("error", lambda: api.error("12007"), TypeError, r"an error code must be an int"),
    Bad(
        "error", lambda: api.error(12007, status=700), ValueError, r"status must be an HTTP status code from 100 to 599"
    ),
    Bad("error", lambda: api.error(12007, omit=["nope"]), ValueError, r"valid: success, error_code, error_message"),
    Bad("error", lambda: api.error(12007, omit="error_id"), (TypeError, ValueError), r"omit.*'error_id'"),
    Bad("error", lambda: api.error(12007, fields=["error_code"]), (TypeError, ValueError), r"fields"),
    Bad("error", lambda: api.error(12007, headers=["X-Test"]), TypeError, r"headers"),
    Bad("error", lambda: api.error(12007, message=12007), TypeError, r"message"),
    Bad("error", lambda: api.error(HUGE), ValueError, rf"^{HUGE_SAYS} is not a documented Cobo error code"),
    Bad("error", lambda: api.error(12007, status=HUGE), ValueError, rf"from 100 to 599, got {HUGE_SAYS}$"),
    Bad(
        "error",
        lambda: api.error(12007, fields={"x": object()}),
        TypeError,
        r"^fields\['x'\] is <object object at \w+> of type object, which JSON cannot carry" + JSON_TYPES,
    ),
    Bad(
        "error",
        lambda: api.error(12007, fields={"x": [1, float("nan")]}),
        ValueError,
        r"^fields\['x'\]\[1\] is nan, which is not JSON \(JSON has no NaN or Infinity\)" + JSON_TYPES,
    ),
    Bad("error", lambda: api.error(12007, fields={"x": {SURROGATE: 1}}), ValueError, r"lone surrogate '\\ud800'"),
    Bad(
        "error",
        lambda: api.error(12007, message=SURROGATE),
        ValueError,
        r"^message holds a lone surrogate '\\ud800' at",
    ),
    Bad("error", lambda: api.error(12007, description="ok \udfff"), ValueError, r"^description holds a lone surrogate"),
    Bad(
        "error",
        lambda: api.error(12007, headers={"X": "é€"}),
        ValueError,
        r"^headers: the value of 'X' holds '€' at position 1, which is not latin-1, and HTTP sends header values",
    ),
    Bad(
        "error",
        lambda: api.error(12007, headers={"X": "a\r\nSet-Cookie: s=1"}),
        ValueError,
        r"holds '\\r' at position 1, which would end the header and start another \(header injection\); valid: latin-1",
    ),
    Bad(
        "error",
        lambda: api.error(12007, headers={"X": "a\x00"}),
        ValueError,
        r"'\\x00' at position 1, which is a control",
    ),
    Bad(
        "error",
        lambda: api.error(12007, headers={"X-Trace:": "1"}),
        ValueError,
        r"^headers: 'X-Trace:' is not a header name",
    ),
    Bad(
        "error",
        lambda: api.error(12007, headers={"Content-Length": "10"}),
        ValueError,
        r"^headers: Content-Length '10' contradicts the \d+-byte body; valid: '\d+' or none",
    ),
    Bad("error", lambda: api.error(12007, omit=5), TypeError, r"^omit takes a collection of field names such as"),
    Bad("gateway", lambda: api.gateway(700), ValueError, r"from 100 to 599"),
    Bad("gateway", lambda: api.gateway(503, body=5), TypeError, r"'html', 'empty', str or bytes"),
    Bad("gateway", lambda: api.gateway(503, headers=5), TypeError, r"headers"),
    Bad("gateway", lambda: api.gateway(503, body=SURROGATE), ValueError, r"^body holds a lone surrogate '\\ud800'"),
    Bad(
        "gateway",
        lambda: api.gateway(503, headers={"Content-Length": "5"}),
        ValueError,
        r"Content-Length '5' contradicts",
    ),
    Bad("gateway", lambda: api.gateway(True), ValueError, r"from 100 to 599, got True$"),
    Bad("success", lambda: api.success(status=99), ValueError, r"from 100 to 599"),
    Bad("success", lambda: api.success(object()), TypeError, r"JSON"),
    Bad(
        "success",
        lambda: api.success(float("nan")),
        ValueError,
        r"^result is nan, which is not JSON" + ".*" + JSON_TYPES,
    ),
    Bad(
        "success", lambda: api.success({"a": [float("-inf")]}), ValueError, r"^result\['a'\]\[0\] is -inf, which is not"
    ),
    Bad(
        "success", lambda: api.success({"a": SURROGATE}), ValueError, r"^result\['a'\] holds a lone surrogate '\\ud800'"
    ),
    Bad("success", lambda: api.success(HUGE), ValueError, r"^result cannot be sent as JSON: Exceeds the limit"),
    Bad("success", lambda: api.success(headers={"X": "€"}), ValueError, r"is not latin-1"),
    Bad("success", lambda: api.success(status=200.0), ValueError, r"from 100 to 599, got 200.0$"),
    Bad("respond", lambda: api.respond(200, body=5), TypeError, r"body must be bytes or str"),
    Bad("respond", lambda: api.respond("200"), ValueError, r"from 100 to 599"),
    Bad("respond", lambda: api.respond(200, code="12007"), TypeError, r"code"),
    Bad(
        "respond",
        lambda: api.respond(200, SURROGATE),
        ValueError,
        r"^body holds a lone surrogate '\\ud800' at position 0",
    ),
    Bad(
        "respond",
        lambda: api.respond(200, b"{}", headers={"Content-Length": "3"}),
        ValueError,
        r"Content-Length '3' contradicts the 2-byte body; valid: '2' or none .*truncated_response\(after=...\)",
    ),
    Bad(
        "respond", lambda: api.respond(200, headers={"X\n": "1"}), ValueError, r"^headers: 'X\\n' is not a header name"
    ),
    Bad("truncated_response", lambda: api.truncated_response(after=-1), ValueError, r"after must be from 0 to \d+"),
    Bad("truncated_response", lambda: api.truncated_response(after="10"), TypeError, r"after"),
    Bad("truncated_response", lambda: api.truncated_response(99999), ValueError, r"nearest documented"),
    Bad("truncated_response", lambda: api.truncated_response(after=HUGE), ValueError, rf"bytes, got {HUGE_SAYS}$"),
    Bad("lost", lambda: api.lost(12007, kind="connect_timeout"), ValueError, r"kind must be one of read_timeout, "),  # type: ignore[arg-type]
    Bad("lost", lambda: api.lost(api.read_timeout()), TypeError, r"is a network fault already: no answer to lose"),
    Bad("lost", lambda: api.lost(api.truncated_response()), TypeError, r"is cut short already"),
    Bad(
        "lost",
        lambda: api.lost(12007, after=3),
        TypeError,
        r"after= sets where kind='truncated_response' cuts the body only",
    ),
    Bad(
        "lost",
        lambda: api.lost(12007, kind="truncated_response", after=-1),
        ValueError,
        r"after must be a non-negative int",
    ),
    Bad(
        "lost",
        lambda: api.lost(api.success(), kind="truncated_response", after=HUGE),
        ValueError,
        rf"bytes, got {HUGE_SAYS}$",
    ),
    Bad("lost", lambda: api.lost("12007"), TypeError, r"cannot answer with '12007'"),
    Bad("lost", lambda: api.lost(lambda: 1), TypeError, r"must take one argument, the captured request"),
    # signed responses
    Bad("signed", lambda: api.signed(12007, "forged"), ValueError, r"valid: valid, tampered"),  # type: ignore[arg-type]
    Bad("signed", lambda: api.signed(12007, age=60), TypeError, r"age= sets the timestamp of signature='stale' only"),
    Bad("signed", lambda: api.signed(12007, "stale", age=-1), ValueError, r"age must be a positive number"),
    Bad(
        "signed",
        lambda: api.signed(12007, "stale", age=float("inf")),
        ValueError,
        r"^age must be a positive number of seconds, at most \d+ \(the timestamp cannot precede 1970\), got inf$",
    ),
    Bad("signed", lambda: api.signed(12007, "stale", age=float("nan")), ValueError, r"age must be .*, got nan$"),
    Bad("signed", lambda: api.signed(12007, "stale", age=1e300), ValueError, r"age must be .*, got 1e\+300$"),
    Bad("signed", lambda: api.signed(12007, "stale", age=10**400), ValueError, r"got an int of about 401 digits$"),
    Bad(
        "signed", lambda: api.signed(12007, "tampered", tamper=SURROGATE), ValueError, r"^tamper holds a lone surrogate"
    ),
    # envelopes
    Bad("build_envelope", lambda: api.build_envelope(12007, omit=["nope"]), ValueError, r"valid: success, error_code"),
    Bad("build_envelope", lambda: api.build_envelope(12007, fields=5), TypeError, r"fields"),
    Bad(
        "build_envelope",
        lambda: api.build_envelope(12007, fields={"x": {1, 2}}),
        TypeError,
        r"^fields\['x'\] is \{1, 2\} of type set, which JSON cannot carry",
    ),
    Bad("build_envelope", lambda: api.build_envelope(12007, error_id=SURROGATE), ValueError, r"^error_id holds a lone"),
    Bad("parse_envelope", lambda: api.parse_envelope(5), TypeError, r"bytes, str or a mapping|bytes.*str.*mapping"),
    Bad("parse_envelope", lambda: api.parse_envelope(None), TypeError, r"bytes.*str.*mapping"),
    Bad("assert_cobo_error", lambda: api.assert_cobo_error(b"{}", "12007"), TypeError, r"an error code must be an int"),
    Bad("assert_cobo_error", lambda: api.assert_cobo_error(None), TypeError, r"response"),
    Bad("assert_cobo_error", lambda: api.assert_cobo_error(200), TypeError, r"response"),
    # code patterns
    Bad("parse_filter", lambda: api.parse_filter("zz"), ValueError, r"valid forms: 12007 \(a code\)"),
    Bad("parse_filter", lambda: api.parse_filter([12007]), TypeError, r"code patterns must be strings"),
    Bad("parse_filter", lambda: api.parse_filter(12007), TypeError, r"pattern"),
    # @cobo_error_cases
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(family="3"), ValueError, r"family must be '1' or '12'"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(family=12), ValueError, r"family must be '1' or '12'"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(codes=1.5), TypeError, r"codes= takes a code, a pattern"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(codes="13xxx"), ValueError, r"matches no documented"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(exclude="*"), ValueError, r"selects no documented code"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(statuses=[418]), ValueError, r"documented: 400"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(statuses="all"), TypeError, r"True, False or a list"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(argname="1x"), ValueError, r"Python identifier"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(expect=[1]), TypeError, r"mapping of code patterns"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(expect={"12007": 1}), ValueError, r"has no entry for 1000"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(expect={1.5: 1}), TypeError, r"codes or patterns"),
    Bad("cobo_error_cases", lambda: api.cobo_error_cases(5), TypeError, r"decorates a test or class"),
    # CoboErrorCase
    Bad("CoboErrorCase.check", lambda: A_CASE.check(1), LookupError, r"no expectation; pass expect="),
    Bad(
        "CoboErrorCase.raises",
        lambda: CoboErrorCase(A_CASE.entry, 5).raises().__enter__(),
        TypeError,
        r"exception class",
    ),
    # CoboFaults and CoboFaults
    Bad("CoboFaults", lambda: CoboFaults(transports="nope"), ValueError, CHOICES),
    Bad("CoboFaults", lambda: CoboFaults(transports=5), TypeError, r"names from httpx"),
    Bad("CoboFaults", lambda: CoboFaults(transports=""), ValueError, CHOICES),
    Bad("CoboFaults", lambda: CoboFaults(base_urls=["ftp://x"]), ValueError, r"expected http\(s\)://host"),
    Bad("CoboFaults", lambda: CoboFaults(base_urls=[5]), TypeError, r"a base URL must be a string"),
    Bad(
        "CoboFaults",
        lambda: CoboFaults(base_urls="https://api.example.com"),
        (TypeError, ValueError),
        r"https://api\.example\.com",
    ),
    Bad("CoboFaults", lambda: CoboFaults(base_urls=[]), ValueError, r"at least one base URL"),
    Bad("CoboFaults", lambda: api.CoboFaults(transports="nope").__enter__(), ValueError, CHOICES),
    Bad("CoboFaults.inject", lambda: _faults().inject("12007"), TypeError, r"give an error code \(12007\)"),
    Bad("CoboFaults.inject", lambda: _faults().inject(99999), ValueError, r"nearest documented"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, method="FETCH"), ValueError, r"DELETE, GET, HEAD"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, path="v1/x"), ValueError, r"must start with '/'"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, path=5), TypeError, r"compiled regex"),
    Bad(
        "CoboFaults.inject",
        lambda: _faults().inject(12007, pth="/x"),
        TypeError,
        r"inject\(\) got an unexpected keyword argument 'pth'; it takes: base_url, delay, expect_calls",
    ),
    Bad(
        "CoboFaults.sequence",
        lambda: _faults().sequence([12007], times=2),
        TypeError,
        r"unexpected keyword argument 'times'",
    ),
    Bad(
        "CoboFaults.inject",
        lambda: _faults().inject(12007, delay=-1),
        ValueError,
        r"delay must be a non-negative number of seconds, got -1",
    ),
    Bad(
        "CoboFaults.inject",
        lambda: _faults().inject(12007, delay=float("nan")),
        ValueError,
        r"delay must be a non-negative number",
    ),
    Bad(
        "CoboFaults.succeed",
        lambda: _faults().succeed(trickle="1"),
        ValueError,
        r"trickle must be a non-negative number of seconds, got '1'",
    ),
    Bad(
        "CoboFaults.succeed", lambda: _faults().succeed(delay=True), ValueError, r"delay must be a non-negative number"
    ),
    Bad(
        "CoboFaults.inject",
        lambda: _faults().inject(12007, delay=1),
        UnsupportedFaultError,
        r"the httpx transport answers in-process.*cobo_server fixture",
    ),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, base_url="nope"), ValueError, r"http\(s\)://host"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, base_url=5), TypeError, r"base URL"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, times=-1), ValueError, r"non-negative int"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, expect_calls="1"), ValueError, r"non-negative int"),
    Bad("CoboFaults.inject", lambda: _faults().inject(503, message="x"), TypeError, r"build the outcome itself"),
    Bad(
        "CoboFaults.inject", lambda: _faults().inject(12007, omit="error_id"), TypeError, r"omit.*the string 'error_id'"
    ),
    Bad("CoboFaults.inject", lambda: _faults().inject(api.error(12007), status=200), TypeError, r"build the outcome"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, status=0), ValueError, r"from 100 to 599"),
    Bad(
        "CoboFaults.inject",
        lambda: _faults().inject(HUGE),
        ValueError,
        rf"^{HUGE_SAYS} is not a documented Cobo error code",
    ),
    Bad(
        "CoboFaults.inject", lambda: _faults().inject(12007, fields={"x": object()}), TypeError, r"^fields\['x'\] is <"
    ),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, message=SURROGATE), ValueError, r"^message holds a lone"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, headers={"X": "é€"}), ValueError, r"'€' at position 1"),
    Bad(
        "CoboFaults.inject", lambda: _faults().inject("x" * 10**6), TypeError, r"^cannot answer with 'x{20,}\.\.\.x+': "
    ),
    Bad("CoboFaults.gateway", lambda: _faults().gateway(999), ValueError, r"from 100 to 599"),
    Bad("CoboFaults.gateway", lambda: _faults().gateway(503, body=5), TypeError, r"'html', 'empty', str or bytes"),
    Bad(
        "CoboFaults.gateway",
        lambda: _faults().gateway(503, body=SURROGATE),
        ValueError,
        r"^body holds a lone surrogate",
    ),
    Bad(
        "CoboFaults.gateway", lambda: _faults().gateway(503, headers={"Retry-After": "1\r\n"}), ValueError, r"injection"
    ),
    Bad(
        "CoboFaults.network", lambda: _faults().network("timeout"), ValueError, r"valid: connect_timeout, read_timeout"
    ),
    Bad(
        "CoboFaults.network",
        lambda: _faults().network(["truncated_response"]),
        (TypeError, ValueError),
        r"connect_timeout",
    ),
    Bad(
        "CoboFaults.network",
        lambda: _faults().network("x" * 10**6),
        ValueError,
        r"^unknown network fault '.{,70}'; valid",
    ),
    Bad("CoboFaults.sequence", lambda: _faults().sequence(1010), TypeError, r"a list of codes or outcomes"),
    Bad("CoboFaults.sequence", lambda: _faults().sequence([]), ValueError, r"at least one outcome"),
    Bad("CoboFaults.sequence", lambda: _faults().sequence([1010, None]), TypeError, r"cannot answer with None"),
    Bad(
        "CoboFaults.sequence",
        lambda: _faults().sequence([1010, HUGE]),
        ValueError,
        rf"^{HUGE_SAYS} is not a documented",
    ),
    Bad(
        "CoboFaults.sequence",
        lambda: _faults().sequence("x" * 10**6),
        TypeError,
        r"^outcomes must be .*, got '.{,70}'$",
    ),
    Bad(
        "CoboFaults.fail_then_succeed", lambda: _faults().fail_then_succeed(1010, times=0), ValueError, r"positive int"
    ),
    Bad("CoboFaults.fail_then_succeed", lambda: _faults().fail_then_succeed("x"), TypeError, r"cannot answer with 'x'"),
    Bad("CoboFaults.fail_then_succeed", lambda: _faults().fail_then_succeed(1010, times=1.5), ValueError, r"got 1.5$"),
    Bad(
        "CoboFaults.fail_then_succeed",
        lambda: _faults().fail_then_succeed(1010, result=float("inf")),
        ValueError,
        r"^result is inf, which is not JSON",
    ),
    Bad("CoboFaults.succeed", lambda: _faults().succeed(path="x"), ValueError, r"must start with '/'"),
    Bad("CoboFaults.succeed", lambda: _faults().succeed({1, 2}), TypeError, r"JSON"),
    Bad(
        "CoboFaults.succeed",
        lambda: _faults().succeed(float("nan")),
        ValueError,
        r"^result is nan, which is not JSON \(JSON has no NaN or Infinity\)" + JSON_TYPES,
    ),
    Bad("CoboFaults.succeed", lambda: _faults().succeed({"k": SURROGATE}), ValueError, r"^result\['k'\] holds a lone"),
    Bad(
        "CoboFaults.succeed",
        lambda: _faults().succeed(times=-HUGE),
        ValueError,
        r"non-negative int, got a negative int of",
    ),
    Bad("CoboFaults.allow_host", lambda: _faults().allow_host("http://127.0.0.1"), ValueError, r"bare host names"),
    Bad("CoboFaults.allow_host", lambda: _faults().allow_host(""), ValueError, r"bare host names"),
    Bad("CoboFaults.allow_host", lambda: _faults().allow_host("api.dev.cobo.com"), ValueError, r"real Cobo host"),
]

INTERNAL_ERRORS = (AttributeError, KeyError, IndexError, NameError, UnboundLocalError, AssertionError)


def _ids() -> list[str]:
    """Each row's call as written in the table, e.g. ``error(12007, omit='error_id')``."""
    source = Path(__file__).read_text(encoding="utf-8")
    rows = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Bad"
    ]
    calls = [ast.get_source_segment(source, row.args[1].body) or "?" for row in rows]  # type: ignore[attr-defined]
    assert len(calls) == len(BAD_CALLS)
    return [call.removeprefix("api.").replace("_faults().", "CoboFaults().", 1) for call in calls]


@pytest.mark.parametrize("bad", BAD_CALLS, ids=_ids())
def test_a_wrong_call_raises_a_clear_error(bad: Bad) -> None:
    with pytest.raises(bad.raises) as raised:  # anything else propagates, and fails the test
        bad.call()
    assert not isinstance(raised.value, INTERNAL_ERRORS), f"{type(raised.value).__name__} is an internal error"
    assert re.search(bad.says, str(raised.value)), f"the message does not say {bad.says!r}: {raised.value}"


# Public callables with no argument a user could get wrong, or that accept any value by design.
NOTHING_TO_GET_WRONG = {
    "connect_error",
    "connection_reset",
    "no_response",
    "connect_timeout",
    "read_timeout",
    "success_envelope",
    "CoboFaults.start",
    "CoboFaults.stop",
    "CoboFaults.reset",
    "CoboFaults.problems",
    "CoboFaults.verify",
    "CoboFaults.example",
    "CoboFaults.served_codes",
    "CoboFaults.active",
    "CoboFaults.calls",
    "CoboFaults.unmatched",
    "CoboFaults.expect_unmatched",
    "CoboFaults.sign_responses",  # its bad input belongs with the signing tests
}


def _public_callables() -> set[str]:
    names = {
        name for name in api.__all__ if inspect.isfunction(getattr(api, name)) or getattr(api, name) is api.CoboFaults
    }
    names |= {
        f"CoboFaults.{name}"
        for name, member in vars(CoboFaults).items()
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    }
    return names | {"CoboFaults"}


def test_the_table_walks_every_public_function() -> None:
    walked = {bad.name for bad in BAD_CALLS} | NOTHING_TO_GET_WRONG
    missing = sorted(_public_callables() - walked)
    assert missing == [], f"add rows to BAD_CALLS for {missing}"


def test_no_row_uses_an_internal_error_as_the_expected_answer() -> None:
    for bad in BAD_CALLS:
        expected = bad.raises if isinstance(bad.raises, tuple) else (bad.raises,)
        assert all(issubclass(e, (TypeError, ValueError, LookupError)) for e in expected), bad.name
        assert not any(issubclass(e, INTERNAL_ERRORS) for e in expected), bad.name


def _accepts(call: Callable[[], Any]) -> bool:
    call()
    return True


def test_valid_calls_next_to_the_wrong_ones_are_accepted() -> None:
    """The table's wrong values are wrong, not the calls: the same calls with good values work."""
    faults = _faults()
    assert _accepts(lambda: api.error(12007, omit=["error_id"], fields={"error_code": "12007"}, headers={"X": "1"}))
    assert _accepts(lambda: api.gateway(503, body="empty", headers={"Retry-After": "1"}))
    assert _accepts(lambda: api.parse_filter(["12xxx", "!12009"]))
    assert _accepts(lambda: faults.inject(12007, method="post", path="/v1/custody/*", base_url="http://127.0.0.1:8000"))
    assert _accepts(lambda: faults.network("truncated_response"))
    assert _accepts(lambda: faults.allow_host("127.0.0.1"))
    assert _accepts(lambda: api.cobo_error_cases(family="12", statuses=[429, 503], expect={"*": ValueError}))
