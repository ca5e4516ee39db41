"""--cobo-codes and its pattern language: each form, deselection, and usage errors."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12017", "'12017' is not a documented Cobo error code (nearest: 12014, 12015, 12016)"),
        ("13xxx", "'13xxx' matches no documented Cobo code (nearest: 12201, 12202, 12203)"),
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
