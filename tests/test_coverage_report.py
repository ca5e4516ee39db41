"""--cobo-coverage: which documented codes and statuses the tests exercised, and --cobo-coverage-fail-under."""

from __future__ import annotations

import importlib.util

import pytest

SUITE = """
import httpx
from pytest_cobo_errors import cobo_error_cases

@cobo_error_cases(family="12")
def test_cases(cobo_error):
    assert cobo_error.code

def test_injected(cobo_fault):
    cobo_fault.gateway(503, path="/down")
    cobo_fault.inject(1010)
    httpx.get("https://api.cobo.com/v1/custody/coin_info/")
    httpx.get("https://api.cobo.com/down")
"""


def test_the_report_shows_what_was_and_was_not_exercised(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--cobo-coverage", "--cobo-transports=httpx")
    result.assert_outcomes(passed=24)
    result.stdout.fnmatch_lines(
        [
            "*= cobo error coverage =*",
            "error codes   24/41 exercised (1xxx: 1/18, 12xxx: 23/23)",
            "HTTP statuses  2/10 exercised",
            "  only as the status of error answers: http:429 (1010)",  # 1010 is answered at 429
            "total         51.0% of 51 documented codes and statuses",
            "not exercised by any test:",
            "   1000  Unknown internal error",
            "   1070  cobo card kyc status",
            "  http:400  Bad request",
            "  http:502  Bad Gateway",
        ]
    )
    missing = result.stdout.str().split("not exercised by any test:")[1]
    assert "   1010  " not in missing  # served by cobo_fault, so exercised
    assert "http:429" not in missing


def test_deselected_cases_do_not_count(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--cobo-coverage", "--cobo-codes=12007", "-k", "not injected")
    result.stdout.fnmatch_lines(["error codes    1/41 exercised (1xxx: 0/18, 12xxx: 1/23)"])


def test_fail_under_turns_a_shortfall_into_a_failing_exit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--cobo-coverage-fail-under=90", "--cobo-transports=httpx")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=24)
    result.stdout.fnmatch_lines(
        [
            "total         51.0% of 51 documented codes and statuses (required: 90%)",
            "FAIL: cobo error coverage 51.0% is under --cobo-coverage-fail-under=90%",
        ]
    )


def test_fail_under_is_met(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    pytester.makeini("[pytest]\ncobo_coverage_fail_under = 50\n")
    result = pytester.runpytest("--cobo-transports=httpx")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= cobo error coverage =*", "total         51.0%*(required: 50%)"])


@pytest.mark.parametrize("where", ["ini", "command line"])
def test_collect_only_neither_reports_nor_fails_the_threshold(pytester: pytest.Pytester, where: str) -> None:
    # IDEs discover tests with --collect-only; a threshold in the ini file must not fail discovery
    pytester.makepyfile(SUITE)
    args = ["--collect-only", "-q"]
    if where == "ini":
        pytester.makeini("[pytest]\ncobo_coverage_fail_under = 90\n")
    else:
        args.append("--cobo-coverage-fail-under=90")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*cobo error coverage*")


def test_full_coverage_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_cobo_errors import cobo_error_cases

        @cobo_error_cases(statuses=True)
        def test_all(cobo_error):
            pass
        """
    )
    pytester.makeini("[pytest]\ncobo_coverage = true\n")
    result = pytester.runpytest("--cobo-coverage-fail-under=100")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["total         100.0%*", "every documented code and status is exercised"])


def test_no_report_unless_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("--cobo-transports=httpx")
    assert "cobo error coverage" not in result.stdout.str()


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="needs pytest-xdist")
def test_workers_report_to_the_controller_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "--cobo-coverage", "--cobo-transports=httpx")
    result.assert_outcomes(passed=24)
    result.stdout.fnmatch_lines(["error codes   24/41 exercised*", "HTTP statuses  2/10 exercised"])


def test_fault_set_blocks_count_too(pytester: pytest.Pytester) -> None:
    # the Hypothesis pattern uses CoboFaults() per example, with no fixture in reach
    pytester.makepyfile(
        """
        import httpx
        from pytest_cobo_errors import CoboFaults

        def test_block():
            with CoboFaults(transports="httpx") as faults:
                faults.inject(12016)
                httpx.get("https://api.cobo.com/v1/x")
        """
    )
    result = pytester.runpytest("--cobo-coverage")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["error codes    1/41 exercised (1xxx: 0/18, 12xxx: 1/23)", "HTTP statuses  1/10 exercised"]
    )
    assert "12016" not in result.stdout.str().split("not exercised by any test:")[1]
