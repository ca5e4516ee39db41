"""The teardown verdict: rule use is judged only when the test itself passed, once per cause.

A rule that was never called fails a passing test at teardown. A test that did not pass (it
failed, skipped, xfailed, errored in setup, or is about to be rerun) is not also charged with
unused rules: its own outcome is the news, and a second ERROR line would hide it.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# no short summary, whose lines quote the message again as far as the terminal is wide
ONE_REPORT = ("-rN",)

DECLARES = """
import pytest

@pytest.fixture
def declared(cobo_fault):
    cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")
    return cobo_fault
"""

# Each test declares a rule, never sends the request, and ends without passing.
NOT_PASSING = {
    "pytest.skip": ("def test_it(declared):\n    pytest.skip('later')", {"skipped": 1}),
    "pytest.importorskip": (
        "def test_it(declared):\n    pytest.importorskip('no_such_module_anywhere')",
        {"skipped": 1},
    ),
    "pytest.xfail": ("def test_it(declared):\n    pytest.xfail('known')", {"xfailed": 1}),
    "mark.xfail(raises=)": (
        "@pytest.mark.xfail(raises=KeyError, strict=True)\ndef test_it(declared):\n    raise KeyError('known')",
        {"xfailed": 1},
    ),
    "failing assertion": ("def test_it(declared):\n    assert 1 == 2", {"failed": 1}),
    "error in a later fixture's setup": (
        "@pytest.fixture\ndef broken(declared):\n    raise RuntimeError('db down')\n\n"
        "def test_it(declared, broken):\n    pass",
        {"errors": 1},
    ),
    "skip in a later fixture's setup": (
        "@pytest.fixture\ndef needs_db(declared):\n    pytest.skip('no db')\n\ndef test_it(declared, needs_db):\n    pass",
        {"skipped": 1},
    ),
}


@pytest.mark.parametrize("ending", sorted(NOT_PASSING))
def test_a_test_that_does_not_pass_is_not_charged_with_unused_rules(pytester: pytest.Pytester, ending: str) -> None:
    body, outcomes = NOT_PASSING[ending]
    pytester.makepyfile(DECLARES + "\n\n" + body + "\n")
    result = pytester.runpytest()
    result.assert_outcomes(**outcomes)
    result.stdout.no_fnmatch_line("*never called*")


def test_a_passing_test_is_charged_with_its_unused_rule_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(DECLARES + "\n\ndef test_it(declared):\n    pass\n")
    result = pytester.runpytest(*ONE_REPORT)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_it*", "*faults were not used as declared:*"])
    assert result.stdout.str().count("was never called (pass optional=True if that is fine)") == 1


def test_an_xpass_under_strict_xfail_is_a_failure_but_not_an_unused_rule(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(DECLARES + "\n\n@pytest.mark.xfail(strict=True)\ndef test_it(declared):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*never called*")


UNITTEST = """
import unittest

import pytest


class TestWithdraw(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _faults(self, cobo_fault):
        cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")

    def test_skipped(self):
        self.skipTest("later")

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(1, 2)

    def test_failing(self):
        self.assertEqual(1, 2)

    def test_passing_without_the_request(self):
        pass
"""


def test_unittest_outcomes_get_the_same_verdicts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(UNITTEST)
    result = pytester.runpytest(*ONE_REPORT)
    result.assert_outcomes(passed=1, failed=1, skipped=1, xfailed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of TestWithdraw.test_passing_without_the_request*"])
    assert result.stdout.str().count("was never called") == 1


FLAKY = """
import httpx

ATTEMPTS = []

def test_flaky(cobo_fault):
    cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")
    ATTEMPTS.append(1)
    assert len(ATTEMPTS) > {fail_first}
    assert httpx.post("https://api.dev.cobo.com/v1/custody/new_withdraw_request/").status_code == 400
"""


@pytest.mark.parametrize(
    ("fail_first", "summary"),
    [(5, {"failed": 1, "rerun": 2}), (1, {"passed": 1, "rerun": 1})],
    ids=["every-attempt-fails", "the-second-attempt-passes"],
)
def test_a_rerun_attempt_that_fails_is_not_charged(
    pytester: pytest.Pytester, fail_first: int, summary: dict[str, int]
) -> None:
    pytest.importorskip("pytest_rerunfailures")
    pytester.makepyfile(FLAKY.format(fail_first=fail_first))
    result = pytester.runpytest("--reruns", "2")
    assert result.parseoutcomes() == summary
    result.stdout.no_fnmatch_line("*never called*")


EXPECT_UNMATCHED = """
import httpx
import pytest

from pytest_cobo_errors import UnmatchedRequestError

URL = "https://api.dev.cobo.com/v1/custody/org_info/"

def test_the_error_passes_through_the_block(cobo_fault):
    with pytest.raises(UnmatchedRequestError), cobo_fault.expect_unmatched() as seen:
        httpx.get(URL)
    assert [r.path for r in seen] == ["/v1/custody/org_info/"]

def test_the_error_is_caught_inside_the_block(cobo_fault):
    with cobo_fault.expect_unmatched() as seen, pytest.raises(UnmatchedRequestError):
        httpx.get(URL)
    assert [r.path for r in seen] == ["/v1/custody/org_info/"]

def test_an_error_inside_still_propagates(cobo_fault):
    with pytest.raises(RuntimeError, match="the client's own"), cobo_fault.expect_unmatched():
        try:
            httpx.get(URL)
        except UnmatchedRequestError:
            raise RuntimeError("the client's own error") from None

def test_an_error_with_no_unmatched_request_is_not_masked(cobo_fault):
    with pytest.raises(KeyError), cobo_fault.expect_unmatched():
        raise KeyError("unrelated")

def test_a_block_with_every_request_answered_still_fails(cobo_fault):
    cobo_fault.succeed({}, path="/v1/custody/org_info/")
    with pytest.raises(AssertionError, match="every request in the block was answered"):
        with cobo_fault.expect_unmatched():
            httpx.get(URL)
"""


def test_expect_unmatched_accepts_its_requests_in_any_nesting(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(EXPECT_UNMATCHED)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5)


def test_an_unmatched_request_the_client_swallowed_fails_a_passing_test_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_swallows(cobo_fault):
            try:
                httpx.get("https://api.dev.cobo.com/v1/custody/org_info/")
            except Exception:
                pass
        """
    )
    result = pytester.runpytest(*ONE_REPORT)
    result.assert_outcomes(passed=1, errors=1)
    assert result.stdout.str().count("request answered by no rule: GET https://api.dev.cobo.com") == 1


SUBTESTS = {
    "unittest subTest": """
import unittest

import pytest


class TestWithdraw(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _faults(self, cobo_fault):
        cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")

    def test_cases(self):
        for amount in (1, 2):
            with self.subTest(amount=amount):
                self.assertEqual(amount, 1)
""",
    "pytest subtests": """
def test_cases(cobo_fault, subtests):
    cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")
    for amount in (1, 2):
        with subtests.test(amount=amount):
            assert amount == 1
""",
}


@pytest.mark.parametrize("style", sorted(SUBTESTS))
def test_a_failed_subtest_is_a_failure_not_an_unused_rule(pytester: pytest.Pytester, style: str) -> None:
    if style == "pytest subtests" and int(pytest.__version__.split(".")[0]) < 9:
        pytest.skip("pytest's own subtests fixture arrived in pytest 9")
    pytester.makepyfile(SUBTESTS[style])
    result = pytester.runpytest(*ONE_REPORT)
    assert result.parseoutcomes().get("failed", 0) >= 1
    result.stdout.no_fnmatch_line("*never called*")
