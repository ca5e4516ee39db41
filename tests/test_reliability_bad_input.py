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

# -- options --------------------------------------------------------------------------------
BAD_OPTIONS = [
    ("--cobo-codes=zz", "--cobo-codes / cobo_codes: 'zz' is not a code pattern; valid forms: 12007 (a code)*"),
    ("--cobo-codes=99999", "--cobo-codes / cobo_codes: '99999' is not a documented Cobo error code (nearest: *"),
    ("--cobo-codes=12100-12000", "--cobo-codes / cobo_codes: '12100-12000': a range runs from low to high*"),
    ("--cobo-codes=!*", "--cobo-codes / cobo_codes: '!*' excludes every documented code*"),
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
        "--cobo-coverage-fail-under=abc",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got 'abc'",
    ),
    (
        "--cobo-coverage-fail-under=nan",
        "--cobo-coverage-fail-under / *: expected a percentage from 0 to 100, got 'nan'",
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
]


def _assert_usage_error(result: pytest.RunResult, message: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output


@pytest.mark.parametrize(("option", "message"), BAD_OPTIONS, ids=[o for o, _ in BAD_OPTIONS])
def test_a_bad_option_is_a_usage_error_naming_it(pytester: pytest.Pytester, option: str, message: str) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    _assert_usage_error(pytester.runpytest("-p", "no:randomly", option), message)


@pytest.mark.parametrize(("line", "message"), BAD_INI, ids=[line.split(" ")[0] for line, _ in BAD_INI])
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

BAD_CALLS = [
    # catalog
    Bad("error_code", lambda: api.error_code("12007"), TypeError, r"an error code must be an int, got str '12007'"),
    Bad(
        "error_code", lambda: api.error_code(99999), ValueError, r"not a documented Cobo error code; nearest documented"
    ),
    Bad("http_status", lambda: api.http_status(418), ValueError, r"documented: 400, 401, 403"),
    Bad("http_status", lambda: api.http_status(None), TypeError, r"an HTTP status must be an int"),
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
    Bad("gateway", lambda: api.gateway(700), ValueError, r"from 100 to 599"),
    Bad("gateway", lambda: api.gateway(503, body=5), TypeError, r"'html', 'empty', str or bytes"),
    Bad("gateway", lambda: api.gateway(503, headers=5), TypeError, r"headers"),
    Bad("success", lambda: api.success(status=99), ValueError, r"from 100 to 599"),
    Bad("success", lambda: api.success(object()), TypeError, r"JSON"),
    Bad("respond", lambda: api.respond(200, body=5), TypeError, r"body must be bytes or str"),
    Bad("respond", lambda: api.respond("200"), ValueError, r"from 100 to 599"),
    Bad("respond", lambda: api.respond(200, code="12007"), TypeError, r"code"),
    Bad("dropped_connection", lambda: api.dropped_connection(after=-1), ValueError, r"after must be from 0 to \d+"),
    Bad("dropped_connection", lambda: api.dropped_connection(after="10"), TypeError, r"after"),
    Bad("dropped_connection", lambda: api.dropped_connection(99999), ValueError, r"nearest documented"),
    # signed responses
    Bad("signed", lambda: api.signed(12007, "forged"), ValueError, r"valid: valid, tampered"),  # type: ignore[arg-type]
    Bad("signed", lambda: api.signed(12007, age=60), TypeError, r"age= sets the timestamp of signature='stale' only"),
    Bad("signed", lambda: api.signed(12007, "stale", age=-1), ValueError, r"age must be a positive number"),
    # envelopes
    Bad("build_envelope", lambda: api.build_envelope(12007, omit=["nope"]), ValueError, r"valid: success, error_code"),
    Bad("build_envelope", lambda: api.build_envelope(12007, fields=5), TypeError, r"fields"),
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
    # CoboFaults and cobo_faults
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
    Bad("cobo_faults", lambda: api.cobo_faults(transports="nope").__enter__(), ValueError, CHOICES),
    Bad("CoboFaults.inject", lambda: _faults().inject("12007"), TypeError, r"give an error code \(12007\)"),
    Bad("CoboFaults.inject", lambda: _faults().inject(99999), ValueError, r"nearest documented"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, method="FETCH"), ValueError, r"DELETE, GET, HEAD"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, path="v1/x"), ValueError, r"must start with '/'"),
    Bad("CoboFaults.inject", lambda: _faults().inject(12007, path=5), TypeError, r"compiled regex"),
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
    Bad("CoboFaults.status", lambda: _faults().status(999), ValueError, r"from 100 to 599"),
    Bad("CoboFaults.status", lambda: _faults().status(503, body=5), TypeError, r"'html', 'empty', str or bytes"),
    Bad(
        "CoboFaults.network", lambda: _faults().network("timeout"), ValueError, r"valid: connect_timeout, read_timeout"
    ),
    Bad("CoboFaults.network", lambda: _faults().network(["dropped"]), (TypeError, ValueError), r"connect_timeout"),
    Bad("CoboFaults.sequence", lambda: _faults().sequence(1010), TypeError, r"a list of codes or outcomes"),
    Bad("CoboFaults.sequence", lambda: _faults().sequence([]), ValueError, r"at least one outcome"),
    Bad("CoboFaults.sequence", lambda: _faults().sequence([1010, None]), TypeError, r"cannot answer with None"),
    Bad(
        "CoboFaults.fail_then_succeed", lambda: _faults().fail_then_succeed(1010, times=0), ValueError, r"positive int"
    ),
    Bad("CoboFaults.fail_then_succeed", lambda: _faults().fail_then_succeed("x"), TypeError, r"cannot answer with 'x'"),
    Bad("CoboFaults.succeed", lambda: _faults().succeed(path="x"), ValueError, r"must start with '/'"),
    Bad("CoboFaults.succeed", lambda: _faults().succeed({1, 2}), TypeError, r"JSON"),
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
        name for name in api.__all__ if inspect.isfunction(getattr(api, name)) or getattr(api, name) is api.cobo_faults
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
    assert _accepts(lambda: faults.network("dropped"))
    assert _accepts(lambda: faults.allow_host("127.0.0.1"))
    assert _accepts(lambda: api.cobo_error_cases(family="12", statuses=[429, 503], expect={"*": ValueError}))
