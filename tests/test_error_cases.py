"""@cobo_error_cases: one test item per documented error, stable ids, selection and expectation tables."""

from __future__ import annotations

import importlib.util
import re

import pytest

from pytest_cobo_errors import PatternError, cobo_error_cases
from pytest_cobo_errors.cases import build_cases


def _literal(text: str) -> str:
    """A re_match_lines pattern for a line containing *text* (ids hold brackets, which fnmatch reads as sets)."""
    return ".*" + re.escape(text)


def _ids(**kwargs: object) -> list[str]:
    return [case.id for case in build_cases(**kwargs)]  # type: ignore[arg-type]


def test_bare_decorator_runs_once_per_documented_code_with_readable_sorted_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_cobo_errors import cobo_error_cases

        @cobo_error_cases
        def test_code(cobo_error):
            assert cobo_error.code is not None
        """
    )
    result = pytester.runpytest("--collect-only", "-q")
    lines = [line for line in result.outlines if "::" in line]
    assert len(lines) == 41
    assert (
        lines[0]
        == "test_bare_decorator_runs_once_per_documented_code_with_readable_sorted_ids.py::test_code[1000-unknown-internal-error]"
    )
    assert lines[-1].endswith("[12203-unsupported-transfer-from-staking-wallet]")
    assert [line.split("::")[1] for line in lines[25:27]] == [
        "test_code[12007-insufficient-balance]",
        "test_code[12008-coin-is-suspended-temporarily]",
    ]
    codes = [int(line.split("[")[1].split("-")[0]) for line in lines]
    assert codes == sorted(codes)


def test_selection_by_family_codes_statuses_and_exclusion() -> None:
    assert len(_ids(family="12")) == 23
    assert len(_ids(family="1")) == 18
    assert _ids(codes=[12007, "1010"]) == ["1010-the-request-is-too-frequent", "12007-insufficient-balance"]
    assert _ids(codes="12000-12002", exclude=[12001]) == ["12000-signature-headers-missing", "12002-coin-not-supported"]
    assert _ids(family="12", codes="120xx", exclude=["1200x", "1201x"]) == [
        "12021-duplicated-signature",
        "12022-blockchain-node-api-call-error",
    ]
    assert _ids(codes=[], statuses=[429, 503]) == ["http-429-too-many-requests", "http-503-service-unavailable"]
    assert len(_ids(statuses=True)) == 51


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"family": "2"}, ValueError, "family must be '1' or '12'"),
        (
            {"codes": [12017]},
            PatternError,
            "'12017' is not a documented Cobo error code (nearest: 12014, 12015, 12016)",
        ),
        ({"codes": [True]}, TypeError, "codes= takes codes (12007) or patterns ('12xxx'), got True"),
        ({"codes": 3.5}, TypeError, "codes= takes a code, a pattern"),
        ({"statuses": [418]}, PatternError, "'http:418': not a documented HTTP status"),
        ({"statuses": "429"}, TypeError, "statuses must be True, False or a list"),
        ({"family": "1", "codes": "12xxx"}, ValueError, "selects no documented code"),
        ({"expect": {"12007": 1}}, ValueError, "expect= has no entry for 1000, 1001"),
        ({"expect": {"!12007": 1}}, PatternError, "expect keys cannot exclude"),
        ({"expect": [("12007", 1)]}, TypeError, "expect must be a mapping"),
        ({"argname": "not valid"}, ValueError, "argname must be a Python identifier"),
    ],
)
def test_bad_arguments_fail_at_decoration_with_the_valid_choices(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as excinfo:
        cobo_error_cases(**kwargs)  # type: ignore[call-overload]
    assert message in str(excinfo.value)


def test_works_on_classes_and_methods_and_stacks_with_parametrize(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_cobo_errors import cobo_error_cases

        @cobo_error_cases(codes="12007,12009", argname="case")
        class TestWithdraw:
            def test_a(self, case):
                assert case.code in (12007, 12009)

            @pytest.mark.parametrize("coin", ["BTC", "ETH"])
            def test_b(self, case, coin):
                assert coin in ("BTC", "ETH")

        class TestMethods:
            @pytest.mark.parametrize("amount", [1, 2])
            @cobo_error_cases(codes="1010")
            def test_c(self, cobo_error, amount):
                assert cobo_error.status == 429
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=8)
    result.stdout.re_match_lines(
        [
            _literal("TestWithdraw::test_a[12007-insufficient-balance] PASSED"),
            _literal("TestWithdraw::test_b[BTC-12007-insufficient-balance] PASSED"),
            _literal("TestMethods::test_c[1010-the-request-is-too-frequent-1] PASSED"),
        ]
    )
    pytester.runpytest("--cobo-codes=12009").assert_outcomes(passed=3, deselected=5)


UNITTEST_SUITES = {
    "method": """
        import unittest
        from pytest_cobo_errors import cobo_error_cases

        class WithdrawTest(unittest.TestCase):
            @cobo_error_cases(codes=[12007])
            def test_withdraw(self, cobo_error=None):
                pass
        """,
    "bare-method": """
        import unittest
        from pytest_cobo_errors import cobo_error_cases

        class WithdrawTest(unittest.TestCase):
            @cobo_error_cases
            def test_withdraw(self, cobo_error):
                pass
        """,
    "class": """
        import unittest
        from pytest_cobo_errors import cobo_error_cases

        @cobo_error_cases(codes=[12007])
        class WithdrawTest(unittest.TestCase):
            def test_withdraw(self):
                pass
        """,
    "bare-class": """
        import unittest
        from pytest_cobo_errors import cobo_error_cases

        @cobo_error_cases
        class WithdrawTest(unittest.TestCase):
            def test_withdraw(self):
                pass
        """,
}


@pytest.mark.parametrize("source", UNITTEST_SUITES.values(), ids=UNITTEST_SUITES.keys())
def test_on_a_unittest_testcase_it_fails_collection_saying_what_to_do_instead(
    pytester: pytest.Pytester, source: str
) -> None:
    """pytest never parametrizes a TestCase's methods: the test would run once, with no case (or fail on
    the missing argument), so collecting the class is an error that says what to do instead."""
    pytester.makepyfile(source)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.re_match_lines(
        [
            r".*TypeError: @cobo_error_cases on WithdrawTest(\.test_withdraw)?, a unittest\.TestCase: pytest does not "
            r"parametrize unittest\.TestCase methods, so the test would run once with no case\. Drop the TestCase "
            r"base \(class WithdrawTest: with plain pytest methods, or module-level test functions\), or loop over "
            r"the cases in the method: for case in build_cases\(codes=\[\.\.\.\]\): with self\.subTest\(case\.id\)"
        ]
    )


def test_each_case_plugs_into_cobo_fault(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        from pytest_cobo_errors import cobo_error_cases, assert_cobo_error

        @cobo_error_cases(codes="12xxx", statuses=[502, 503])
        def test_client_sees_it(cobo_fault, cobo_error):
            cobo_fault.inject(cobo_error)
            response = httpx.get("https://api.cobo.com/v1/custody/coin_info/")
            assert response.status_code == cobo_error.status
            if cobo_error.code is None:
                assert response.headers["content-type"] == "text/html"
            else:
                assert_cobo_error(response, code=cobo_error.code)
        """
    )
    pytester.runpytest("--cobo-transports=httpx").assert_outcomes(passed=25)


EXPECTATIONS = """
import pytest
from pytest_cobo_errors import cobo_error_cases

class ApiError(Exception):
    def __init__(self, code):
        self.code = code

class InsufficientFunds(ApiError): ...

class Retry:
    pass

def client_call(code):
    # the code under test: maps Cobo codes to exceptions; forgot 12009, retries 1010
    if code == 12007:
        raise InsufficientFunds(code)
    if code == 1010:
        return Retry()
    raise ApiError(code)

@cobo_error_cases(codes="12007,12009,1010,1000", expect={"12007": InsufficientFunds, "12009": KeyError, "1010": Retry, "*": ApiError})
def test_mapping(cobo_error):
    cobo_error.check_call(client_call, cobo_error.code)

@cobo_error_cases(codes="12007,1000", expect={"12xxx": InsufficientFunds, "1xxx": ApiError})
def test_raises(cobo_error):
    with cobo_error.raises():
        if cobo_error.code == 1000:
            return
        raise InsufficientFunds(cobo_error.code)

@cobo_error_cases(codes="1010", expect={"1010": lambda value: value == "retry"})
def test_predicate(cobo_error):
    cobo_error.check("later")
"""


def test_an_expectation_table_checks_every_code_and_names_the_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(EXPECTATIONS)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, failed=3)
    result.stdout.re_match_lines(
        [
            _literal(
                "12009-duplicate-withdraw-request-id (Duplicate withdraw request id): expected KeyError (from expect['12009']), got ApiError(12009)"
            ),
            _literal(
                "1000-unknown-internal-error (Unknown internal error – Please contact Cobo): expected ApiError (from expect['1xxx']), but the block raised nothing"
            ),
            _literal(
                "1010-the-request-is-too-frequent (The request is too frequent): expected <lambda> (from expect['1010']), got 'later'"
            ),
        ]
    )


def test_the_most_specific_expectation_wins() -> None:
    cases = build_cases(
        codes="12007,12009,1010",
        statuses=[429],
        expect={"*": "any", "12xxx": "twelve", "12007": "exact", "http:429": "gateway"},
    )
    assert {case.id: (case.expected, case.expected_from) for case in cases} == {
        "1010-the-request-is-too-frequent": ("any", "*"),
        "12007-insufficient-balance": ("exact", "12007"),
        "12009-duplicate-withdraw-request-id": ("twelve", "12xxx"),
        "http-429-too-many-requests": ("gateway", "http:429"),
    }


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="needs pytest-xdist")
def test_xdist_workers_collect_the_same_cases(pytester: pytest.Pytester) -> None:
    # xdist refuses to run ("Different tests were collected between gw0 and gw1") unless every
    # worker collects the same ids in the same order
    pytester.makepyfile(
        """
        from pytest_cobo_errors import cobo_error_cases

        @cobo_error_cases(statuses=True, expect={"12xxx": "twelve", "*": "other"})
        def test_case(cobo_error):
            assert cobo_error.expected in ("twelve", "other")
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "--cobo-codes=!1070")
    result.assert_outcomes(passed=50)  # 51 cases, 1070 deselected on each worker
    assert "Different tests were collected" not in result.stdout.str() + result.stderr.str()
