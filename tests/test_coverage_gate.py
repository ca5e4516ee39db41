"""--cobo-coverage as a CI gate: the same figure for every Hypothesis seed, tests left out by a marker,
--no-cobo-coverage, the tests per code under -v, and --cobo-coverage-json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

NO_RANDOMLY = ("-p", "no:randomly")

HYPOTHESIS_SUITE = """
import json, os
import httpx
from hypothesis import given, settings, strategies as st
from pytest_cobo_errors import cobo_error_cases, CoboFaults
from pytest_cobo_errors.catalog import ERROR_CODES

@settings(max_examples=8, database=None, derandomize=False)  # CI=true would derandomize: the seed must count
@given(code=st.sampled_from(sorted(ERROR_CODES)))
def test_drawn(code):
    with open("drawn.txt", "a") as log:
        log.write(f"{code}\\n")
    with CoboFaults(transports="httpx") as faults:
        faults.inject(code)
        assert httpx.get("https://api.cobo.com/v1/custody/coin_info/").json()["error_code"] == code

@cobo_error_cases(codes=[12007, 12009])
def test_cases(cobo_error):
    assert cobo_error.code

def test_plain(cobo_fault):
    cobo_fault.gateway(503)
    httpx.get("https://api.cobo.com/v1/custody/coin_info/")
"""


def _coverage_section(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "cobo error coverage" in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("=")), len(lines))
    return lines[start:end]


def test_the_figure_is_the_same_for_every_hypothesis_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(HYPOTHESIS_SUITE)
    sections, drawn = [], []
    for seed in (1, 2, 3):
        log = pytester.path / "drawn.txt"
        log.unlink(missing_ok=True)
        result = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage", f"--hypothesis-seed={seed}")
        result.assert_outcomes(passed=4)
        sections.append(_coverage_section(result))
        drawn.append(frozenset(log.read_text().split()))
    assert len(set(drawn)) > 1, "the seeds drew the same codes: the test proves nothing"
    assert sections[0] == sections[1] == sections[2]
    section = "\n".join(sections[0])
    assert "error codes    2/41 exercised (1xxx: 0/18, 12xxx: 2/23)" in section  # the two cases only
    assert "HTTP statuses  1/10 exercised" in section  # test_plain's 503
    assert "not counted: the answers of 1 Hypothesis test (they change with the seed)" in section


def test_a_plain_test_that_serves_the_same_codes_counts_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        from hypothesis import given, settings, strategies as st
        from pytest_cobo_errors import CoboFaults

        @settings(max_examples=3, database=None)
        @given(st.just(1010))
        def test_drawn(code):
            with CoboFaults(transports="httpx") as faults:
                faults.inject(code)
                httpx.get("https://api.cobo.com/v1/x")

        def test_plain():
            with CoboFaults(transports="httpx") as faults:
                faults.inject(1010)
                httpx.get("https://api.cobo.com/v1/x")
        """
    )
    result = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "error codes    1/41 exercised (1xxx: 1/18, 12xxx: 0/23)",
            "not counted: the answers of 1 Hypothesis test (they change with the seed)",
            "  Hypothesis: test_a_plain_test_that_serves_the_same_codes_counts_them.py::test_drawn",
            "exercised by:",
            "      1010  test_a_plain_test_that_serves_the_same_codes_counts_them.py::test_plain",
        ]
    )


MARKED_SUITE = """
import httpx, pytest
from pytest_cobo_errors import cobo_error_cases

@pytest.mark.cobo_no_coverage
@cobo_error_cases(codes=[12007])
def test_marked_case(cobo_error):
    pass

@pytest.mark.cobo_no_coverage
@pytest.mark.cobo_transports("httpx")
def test_marked_answer(cobo_fault):
    cobo_fault.inject(1010)
    httpx.get("https://api.cobo.com/v1/x")

@pytest.mark.cobo_transports("httpx")
def test_counted(cobo_fault):
    cobo_fault.inject(12009)
    httpx.get("https://api.cobo.com/v1/x")
"""


def test_a_marked_test_is_left_out(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MARKED_SUITE)
    result = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "error codes    1/41 exercised (1xxx: 0/18, 12xxx: 1/23)",  # 12009 only
            "not counted: 2 tests marked cobo_no_coverage",
        ]
    )
    missing = result.stdout.str().split("not exercised by any test:")[1]
    assert "12007" in missing
    assert "1010" in missing
    assert "12009" not in missing


def test_a_module_mark_leaves_out_every_test_in_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_cobo_errors import cobo_error_cases

        pytestmark = pytest.mark.cobo_no_coverage

        @cobo_error_cases(family="12")
        def test_cases(cobo_error):
            pass
        """
    )
    result = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage")
    result.stdout.fnmatch_lines(["error codes    0/41 exercised*", "not counted: 23 tests marked cobo_no_coverage"])


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.cobo_no_coverage: leave this test out of --cobo-coverage*"])


def test_no_cobo_coverage_turns_off_what_the_ini_file_turns_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MARKED_SUITE)
    pytester.makeini("[pytest]\ncobo_coverage = true\ncobo_coverage_fail_under = 90\ncobo_coverage_json = cov.json\n")
    result = pytester.runpytest(*NO_RANDOMLY, "--no-cobo-coverage")
    assert result.ret == pytest.ExitCode.OK  # the threshold is off too
    assert "cobo error coverage" not in result.stdout.str()
    assert not (pytester.path / "cov.json").exists()
    on_again = pytester.runpytest(*NO_RANDOMLY, "--no-cobo-coverage", "--cobo-coverage")  # the last one wins
    assert on_again.ret == pytest.ExitCode.TESTS_FAILED
    on_again.stdout.fnmatch_lines(["*= cobo error coverage =*", "FAIL: cobo error coverage 3.9% is under*"])
    assert (pytester.path / "cov.json").exists()


def test_no_cobo_coverage_overrides_a_threshold_given_in_addopts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MARKED_SUITE)
    pytester.makeini("[pytest]\naddopts = --cobo-coverage-fail-under=90\n")
    result = pytester.runpytest(*NO_RANDOMLY, "--no-cobo-coverage")
    assert result.ret == pytest.ExitCode.OK
    assert "cobo error coverage" not in result.stdout.str()


def test_help_shows_no_cobo_coverage_and_the_json_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["  --cobo-coverage *", "  --no-cobo-coverage *", "*", "  --cobo-coverage-json=PATH*"])
    result.stdout.fnmatch_lines(["  cobo_coverage_json (string):*"])


VERBOSE_SUITE = """
import httpx, pytest

@pytest.mark.parametrize("n", range(5))
@pytest.mark.cobo_transports("httpx")
def test_many(cobo_fault, n):
    cobo_fault.inject(12007)
    httpx.get("https://api.cobo.com/v1/x")

@pytest.mark.cobo_transports("httpx")
def test_gateway(cobo_fault):
    cobo_fault.gateway(502)
    httpx.get("https://api.cobo.com/v1/x")
"""


def test_verbose_lists_the_tests_per_code_first_few_and_a_count(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_v=VERBOSE_SUITE)
    result = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage", "-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "exercised by:",
            "     12007  test_v.py::test_many[[]0[]], test_v.py::test_many[[]1[]], test_v.py::test_many[[]2[]] and 2 more",
            "  http:400  test_v.py::test_many[[]0[]], test_v.py::test_many[[]1[]], test_v.py::test_many[[]2[]] and 2 more",
            "  http:502  test_v.py::test_gateway",
        ]
    )
    quiet = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage")
    assert "exercised by:" not in quiet.stdout.str()


def test_a_status_seen_only_through_error_answers_is_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_v=VERBOSE_SUITE)
    result = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage")
    result.stdout.fnmatch_lines(
        ["HTTP statuses  2/10 exercised", "  only as the status of error answers: http:400 (12007)"]
    )
    assert "http:502 (" not in result.stdout.str()  # a gateway page's status is the answer itself


def _expected_json(data: dict[str, Any]) -> None:
    v1 = data["apis"]["v1"]
    assert v1["codes"]["exercised"] == [12007]
    assert v1["codes"]["documented"] == 41
    assert 1010 in v1["codes"]["missing"]
    assert v1["statuses"]["exercised"] == [400, 502]
    assert data["percent"] == round(100 * 3 / 51, 2)
    assert data["exercised"] == 3
    assert data["documented"] == 51
    assert data["fail_under"] is None
    assert data["passed"] is True
    assert data["tests"]["12007"] == [f"test_v.py::test_many[{n}]" for n in range(5)]
    assert data["tests"]["http:502"] == ["test_v.py::test_gateway"]
    assert data["only_as_status_of_errors"] == {"http:400": ["12007"]}
    assert data["not_counted"] == {"marked": [], "hypothesis": []}
    assert data["callbacks"] is None


def test_json_report_for_dashboards(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_v=VERBOSE_SUITE)
    result = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage-json=reports/cobo.json")  # implies --cobo-coverage
    result.stdout.fnmatch_lines(["*= cobo error coverage =*", "JSON report written to *reports*cobo.json"])
    _expected_json(json.loads((pytester.path / "reports" / "cobo.json").read_text()))


def test_json_path_in_the_ini_file_is_relative_to_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_v=VERBOSE_SUITE)
    ini = pytester.makeini("[pytest]\ncobo_coverage_json = out/cov.json\ncobo_coverage_fail_under = 90\n")
    elsewhere = pytester.mkdir("elsewhere")
    monkeypatch.chdir(elsewhere)
    result = pytester.runpytest(*NO_RANDOMLY, "-c", str(ini), str(pytester.path / "test_v.py"))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert not (elsewhere / "out").exists()
    data = json.loads((pytester.path / "out" / "cov.json").read_text())
    assert data["fail_under"] == 90
    assert data["passed"] is False


def test_a_json_report_that_cannot_be_written_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pathlib import Path

        def test_takes_the_name():
            Path("out").write_text("a file where the report's directory should be")
        """
    )
    result = pytester.runpytest(*NO_RANDOMLY, "--cobo-coverage-json=out/cov.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["cobo-errors: could not write --cobo-coverage-json to *cov.json: *"])


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="needs pytest-xdist")
def test_json_and_tests_per_code_merge_across_xdist_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_v=VERBOSE_SUITE)
    result = pytester.runpytest_subprocess(*NO_RANDOMLY, "-n", "2", "--cobo-coverage-json=cobo.json", "-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["exercised by:", "  http:502  test_v.py::test_gateway"])
    _expected_json(json.loads(Path(pytester.path / "cobo.json").read_text()))


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="needs pytest-xdist")
def test_left_out_tests_merge_across_xdist_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MARKED_SUITE)
    result = pytester.runpytest_subprocess(*NO_RANDOMLY, "-n", "2", "--cobo-coverage")
    result.stdout.fnmatch_lines(
        ["error codes    1/41 exercised (1xxx: 0/18, 12xxx: 1/23)", "not counted: 2 tests marked cobo_no_coverage"]
    )


def test_merge_ignores_what_is_not_a_worker_report() -> None:
    from pytest_cobo_errors.coverage import ErrorCoverage

    coverage = ErrorCoverage()
    coverage.merge({"tests": ["not", "a", "mapping"], "left_out": {"marked": ["t", 5]}, "codes": [12007, 4]})
    assert coverage.codes == {12007}
    assert coverage.tests == {}
    assert coverage.left_out["marked"] == {"t"}
