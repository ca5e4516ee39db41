"""--cobo-codes and its pattern language: each form, deselection, and usage errors whose advice works."""

from __future__ import annotations

import re

import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest

from pytest_cobo_errors import ERROR_CODES, HTTP_STATUSES, PatternError, parse_filter
from pytest_cobo_errors.catalog import iter_entries


def _selected(text: str) -> list[str]:
    chosen = parse_filter(text)
    return [e.id.split("-")[0] if e in ERROR_CODES.values() else f"http:{e.id.split('-')[1]}"
            for e in iter_entries() if chosen.selects(e)]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12007", ["12007"]),
        ("12007, 1010", ["1010", "12007"]),
        ("1xxx", [str(c) for c in ERROR_CODES if c < 10000]),
        ("12xxx", [str(c) for c in ERROR_CODES if c >= 12000]),
        ("120x0", ["12000", "12010"]),
        ("12000-12003", ["12000", "12001", "12002", "12003"]),
        ("1011 - 1013", ["1011", "1012", "1013"]),
        ("http:429", ["http:429"]),
        ("1010,http:429", ["1010", "http:429"]),
        ("12xxx,!12000-12016", ["12021", "12022", "12200", "12201", "12202", "12203"]),
        ("!1xxx,!12xxx", [f"http:{s}" for s in HTTP_STATUSES]),
        ("*,!1070", [*(str(c) for c in ERROR_CODES if c != 1070), *(f"http:{s}" for s in HTTP_STATUSES)]),
    ],
)
def test_each_pattern_form_selects_what_it_says(text: str, expected: list[str]) -> None:
    assert _selected(text) == expected


LENGTHS = "x is one digit and documented codes have 4 or 5 digits"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12017", "'12017' is not a documented Cobo error code (nearest: 12014, 12015, 12016)"),
        ("13xxx", f"'13xxx' matches no documented Cobo code ({LENGTHS}; nearest: 12xxx)"),
        ("12xx", f"'12xx' matches no documented Cobo code ({LENGTHS}; nearest: 12xxx)"),
        ("1xx", f"({LENGTHS}; nearest: 1xxx, 1xxxx)"),
        ("12xxxx", "nearest: 12xxx)"),
        ("120x", "nearest: 120xx)"),
        ("10xxx", "nearest: 10xx)"),
        ("123xxx", "nearest: 10xx, 12xxx)"),
        ("²", "'²' is not a code pattern: write digits as 0-9"),
        ("１２００７", "'１２００７' is not a code pattern: write digits as 0-9"),
        ("http:²", "'http:²': not a documented HTTP status"),
        ("1" * 5000, "'11111111111111111111…' (5000 characters): 5000 digits is too many for a code (documented"),
        ("1-" + "1" * 5000, "'1-111111111111111111…' (5002 characters): 5000 digits is too many for a code"),
        ("http:" + "4" * 5000, "'http:444444444444444…' (5005 characters): not a documented HTTP status"),
        (
            "x" * 5000,
            f"'xxxxxxxxxxxxxxxxxxxx…' (5000 characters) matches no documented Cobo code ({LENGTHS}; nearest: xxxxx",
        ),
        ("12007,!", "'!' needs a pattern after it, e.g. !1070"),
        ("12y07", "'12y07' is not a code pattern"),
        ("12016-12000", "a range runs from low to high, e.g. 12000-12016"),
        ("http:418", "'http:418': not a documented HTTP status (documented: 400, 401"),
        ("12007,,1010", "empty term"),
        ("*,!*", "excludes every documented code"),
    ],
)
def test_bad_patterns_name_the_valid_forms(text: str, message: str) -> None:
    with pytest.raises(PatternError) as excinfo:
        parse_filter(text)
    assert message in str(excinfo.value)
    assert "valid forms: 12007 (a code), 12xxx or 1xxx" in str(excinfo.value)
    assert len(str(excinfo.value)) < 500  # a long value is named, not repeated


TYPOS = ["12xx", "1xx", "12xxxx", "13xxx", "99xxx", "120x", "10xxx", "123xxx", "1x9x", "x", "x" * 5000, "1x" + "0" * 50,
         "xxxxxxxxxx1", "12017", "99999", "1", "0-999", "2000-3000", "13000-13999", "12204-99999"]  # fmt: skip


def _nearest(message: str) -> list[str]:
    found = re.search(r"nearest: ([^)]*)\)", message)
    assert found, f"no suggestion in: {message}"
    return found[1].split(", ")


@pytest.mark.parametrize("typo", TYPOS, ids=[t if len(t) < 20 else f"{t[:12]}...({len(t)})" for t in TYPOS])
def test_every_nearest_suggestion_is_a_pattern_that_selects_cases(typo: str) -> None:
    with pytest.raises(PatternError) as excinfo:
        parse_filter(typo)
    for suggestion in _nearest(str(excinfo.value)):
        assert parse_filter(suggestion).select(iter_entries()), suggestion
        assert ("x" in suggestion) == ("x" in typo), f"{typo!r} -> {suggestion!r}: a wildcard's nearest are wildcards"


CASES_FILE = """
from pytest_cobo_errors import cobo_error_cases

@cobo_error_cases(statuses=True)
def test_case(cobo_error):
    assert cobo_error.entry

def test_plain():
    pass
"""


@pytest.mark.parametrize(
    ("option", "passed", "deselected"),
    [
        ("--cobo-codes=12xxx", 24, 28),  # 23 codes + the plain test
        ("--cobo-codes=1xxx", 19, 33),
        ("--cobo-codes=12000-12016", 18, 34),
        ("--cobo-codes=!1070", 51, 1),
        ("--cobo-codes=http:429,http:503", 3, 49),  # two status cases and the plain test
        ("--cobo-codes=12007,12009", 3, 49),
    ],
)
def test_filtered_cases_are_deselected_and_other_tests_untouched(
    pytester: pytest.Pytester, option: str, passed: int, deselected: int
) -> None:
    pytester.makepyfile(CASES_FILE)
    result = pytester.runpytest(option)
    result.assert_outcomes(passed=passed, deselected=deselected)
    result.stdout.fnmatch_lines([f"*{passed} passed, {deselected} deselected*"])


def test_the_ini_twin_filters_and_the_header_shows_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CASES_FILE)
    pytester.makeini("[pytest]\ncobo_codes = 12xxx,!12200-12203\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=20, deselected=32)
    result.stdout.fnmatch_lines(["cobo-errors: --cobo-codes=12xxx,!12200-12203 selects 19 of 51 documented cases"])


def test_the_command_line_overrides_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CASES_FILE)
    pytester.makeini("[pytest]\ncobo_codes = 12xxx\n")
    pytester.runpytest("--cobo-codes=12007").assert_outcomes(passed=2, deselected=50)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12017", "ERROR: --cobo-codes / cobo_codes: '12017' is not a documented Cobo error code (nearest: 12014, 12015, 12016); valid forms:*"),
        ("12xx", "ERROR: --cobo-codes / cobo_codes: '12xx' matches no documented Cobo code*valid forms*"),
        ("abc", "ERROR: --cobo-codes / cobo_codes: 'abc' is not a code pattern; valid forms:*"),
    ],
)  # fmt: skip
def test_a_bad_filter_is_a_usage_error(pytester: pytest.Pytester, value: str, message: str) -> None:
    pytester.makepyfile(CASES_FILE)
    result = pytester.runpytest(f"--cobo-codes={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_bad_ini_filter_is_a_usage_error_too(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ncobo_codes = 99xxx\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --cobo-codes / cobo_codes: '99xxx' matches no documented Cobo code*"])


@pytest.mark.parametrize("typo", ["12xx", "1xx", "12xxxx", "13xxx", "120x", "1x9x", "12017", "2000-3000"])
def test_following_the_suggestion_of_a_usage_error_works(pytester: pytest.Pytester, typo: str) -> None:
    pytester.makepyfile(CASES_FILE)
    refused = pytester.runpytest(f"--cobo-codes={typo}")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    for suggestion in _nearest(refused.stderr.str()):
        assert ("x" in suggestion) == ("x" in typo), suggestion
        result = pytester.runpytest(f"--cobo-codes={suggestion}")
        assert result.ret == pytest.ExitCode.OK, suggestion
        result.stdout.fnmatch_lines([f"cobo-errors: --cobo-codes={suggestion} selects * of 51 documented cases"])
        assert "selects 0 of" not in result.stdout.str()


def test_following_the_advice_for_auto_among_names_works(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CASES_FILE)
    refused = pytester.runpytest("--cobo-transports=auto,httpx")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    names = re.search(r"to choose libraries, name them: (.*)$", refused.stderr.str().strip())
    assert names, refused.stderr.str()
    chosen = names[1].replace(" ", "")
    result = pytester.runpytest(f"--cobo-transports={chosen}")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"cobo-errors: transports {chosen.replace(',', '+')}*"])


@pytest.mark.parametrize("value", [" auto ", "auto,", "auto,auto"])
def test_auto_alone_is_auto_whatever_the_spaces_and_commas(pytester: pytest.Pytester, value: str) -> None:
    """Spaces and stray commas are forgiven around names (``httpx,``), so around 'auto' too."""
    pytester.makepyfile("def test_nothing(): pass")
    assert pytester.runpytest(f"--cobo-transports={value}").ret == pytest.ExitCode.OK


@pytest.mark.parametrize("line", ["cobo_codes =", "cobo_transports =", "cobo_base_url =", "cobo_coverage_fail_under ="])
def test_an_empty_ini_value_is_unset(pytester: pytest.Pytester, line: str) -> None:
    """Unlike an empty command-line value (a usage error, see BAD_OPTIONS in test_reliability_bad_input),
    an empty ini value means "not set", as a blank ``addopts =`` does for pytest: a template's blank
    line must not fail the run. So every case runs, with every installed transport, the Cobo hosts and
    no coverage minimum. (The bool options keep pytest's rule: blank is not a truth value.)"""
    pytester.makepyfile(CASES_FILE)
    pytester.makeini(f"[pytest]\n{line}\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=52)
    assert "--cobo-codes=" not in result.stdout.str()


@pytest.mark.parametrize(
    ("value", "required"),
    [("80%", "80%"), (" 50 ", "50%"), ("50 %", "50%"), (".5", "0.5%"), ("+50", "50%"), ("-0", "0%")],
)
def test_coverage_fail_under_takes_a_percentage_in_its_usual_spellings(
    pytester: pytest.Pytester, value: str, required: str
) -> None:
    """Its bad spellings are in BAD_OPTIONS (test_reliability_bad_input); '-0' is 0, not "-0%"."""
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(f"--cobo-coverage-fail-under={value}")
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    result.stdout.fnmatch_lines([f"*of 51 documented codes and statuses (required: {required})"])
