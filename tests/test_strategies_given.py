"""The strategies inside ``@given``, run as a user's suite would run them (in pytester).

One generated response per example, injected with a `CoboFaults` block of its own: no health
check fires and nothing leaks between examples. A client written like the official SDK is
shown to crash, and the failure report names the defect that broke it.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import find, settings

from pytest_cobo_errors import CoboFaults
from pytest_cobo_errors.strategies import ErrorResponse, error_responses

CLIENT = '''
import json

import httpx

BASE = "https://api.dev.cobo.com"
COIN_INFO = "/v1/custody/coin_info/"


class ApiError(Exception):
    pass


def coin_info(coin):
    """Written like cobo-custody's Client.request: parse the body, then index its fields."""
    response = httpx.get(BASE + COIN_INFO, params={"coin": coin})
    body = json.loads(response.content)
    if body["success"]:
        return body["result"]
    raise ApiError(body["error_code"], body["error_message"], body["error_id"])
'''

PATTERN = (
    CLIENT
    + """
import pytest
from hypothesis import HealthCheck, given, settings

from pytest_cobo_errors import CoboFaults
from pytest_cobo_errors.strategies import error_responses

EXAMPLES = []


@settings(max_examples=25, database=None)
@given(response=error_responses(valid=True, malformed=False))
def test_each_example_gets_its_own_faults(response):
    with CoboFaults(transports="httpx") as fault:  # fresh rules and calls for this example only
        rule = fault.inject(response, path=COIN_INFO)
        with pytest.raises(ApiError):
            coin_info("BTC")
        assert len(fault.calls) == 1
        rule.assert_called_once()
    EXAMPLES.append(response.code)


def test_the_examples_ran():
    assert len(EXAMPLES) == 25


SERVED = []


@pytest.mark.cobo_transports("httpx")
@settings(max_examples=25, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(response=error_responses())
def test_the_fixture_scoped_per_example(cobo_fault, response):
    with cobo_fault.example():  # resets rules and calls first, verifies them at the end
        cobo_fault.inject(response, path=COIN_INFO)
        try:
            coin_info("BTC")
        except Exception:
            pass
        assert [call.reply.body for call in cobo_fault.calls] == [response.body]
    SERVED.append(response.label)


def test_the_fixture_examples_ran():
    assert len(SERVED) == 25
"""
)


def test_given_with_cobo_faults_per_example_fires_no_health_check_and_leaks_nothing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(PATTERN)
    # every warning is an error, except pytest-asyncio's request (when installed) to choose a loop
    # scope; -W takes the message literally, where the ini's filterwarnings takes a regex
    asyncio_scope = (
        'ignore:The configuration option "asyncio_default_fixture_loop_scope" is unset:pytest.PytestDeprecationWarning'
    )
    result = pytester.runpytest("-p", "no:randomly", "-W", "error", "-W", asyncio_scope, "--hypothesis-show-statistics")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*cobo defect: *"])  # events: which defects each test saw
    result.stdout.no_fnmatch_line("*HealthCheck*")


def test_the_function_scoped_fixture_in_given_fires_the_health_check_this_pattern_avoids(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from hypothesis import given, settings
        import pytest
        from pytest_cobo_errors.strategies import error_responses

        @pytest.mark.cobo_transports("httpx")
        @settings(max_examples=5, database=None)
        @given(response=error_responses())
        def test_fixture_shared_by_every_example(cobo_fault, response):
            cobo_fault.inject(response, optional=True)
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FailedHealthCheck*", "*function_scoped_fixture*"])


FRAGILE = (
    CLIENT
    + '''
import pytest
from hypothesis import Phase, given, settings

from pytest_cobo_errors import CoboFaults
from pytest_cobo_errors.strategies import error_responses

# The explain phase (on by default) traces every line to say which ran only on failure; it is
# worth it in a real suite, but slow, and this report is about the falsifying example.
FIND = settings(max_examples=100, database=None, phases=set(Phase) - {Phase.explain}, report_multiple_bugs=False)


def survives(response):
    """The property: every error response reaches the caller as the client's own ApiError."""
    with CoboFaults(transports="httpx") as fault:
        fault.inject(response, path=COIN_INFO)
        with pytest.raises(ApiError):
            coin_info("BTC")


@FIND
@given(response=error_responses())
def test_any_error_response(response):
    survives(response)


@FIND
@given(response=error_responses(defects=["short_form", "html_gateway_page"]))
def test_html_502_and_short_form(response):
    survives(response)


@FIND
@given(response=error_responses(valid=False, defects=["short_form"]))
def test_short_form(response):
    survives(response)
'''
)


def test_a_property_test_finds_the_crashes_of_an_sdk_like_client_and_names_the_defect(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(FRAGILE)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=3)
    # each test shrinks to the simplest defect it allows, and the report says which one it is
    expected = {
        "test_any_error_response": ("empty_body as HTTP 400: b'' (0 bytes)", "JSONDecodeError: Expecting value"),
        "test_html_502_and_short_form": (
            "html_gateway_page as HTTP 502: b'<html>*",
            "JSONDecodeError: Expecting value",
        ),
        "test_short_form": (
            'short_form as HTTP 400: b\'{"success": false, "error_code": 1000, *',
            "KeyError: 'error_message'",
        ),
    }
    for test, (example, error) in expected.items():
        result.stdout.fnmatch_lines([f"*_ {test} _*", f"*{error}*"])
        # "Falsifying example:" or "Failing test case:", as the Hypothesis version words it
        result.stdout.fnmatch_lines([f"*: {test}(", f"*response={example},"])


def test_the_official_sdk_crashes_on_an_html_502_page_and_on_the_documented_short_form() -> None:
    pytest.importorskip("cobo_custody")  # the v1 SDK, which sends with requests
    from cobo_custody.client import Client
    from cobo_custody.config import Env
    from cobo_custody.signer.local_signer import LocalSigner, generate_new_key

    private_key, public_key = generate_new_key()  # no Cobo key involved: unsigned replies skip verification
    client = Client(signer=LocalSigner(private_key), env=Env(host="https://api.dev.cobo.com", coboPub=public_key))
    crashes: dict[str, Exception] = {}

    def sdk_crashes(response: ErrorResponse) -> bool:
        with CoboFaults(transports="requests") as fault:
            fault.inject(response)
            try:
                client.get_coin_info("BTC")  # a business error is *returned* as ApiResponse(success=False)
            except Exception as exc:
                crashes[response.label] = exc
                return True
        return False

    responses = error_responses(defects=["short_form", "html_gateway_page"])
    simplest = find(responses, sdk_crashes, settings=settings(database=None, max_examples=200))
    assert (simplest.label, simplest.status) == ("html_gateway_page", 502)
    assert isinstance(crashes["html_gateway_page"], json.JSONDecodeError)
    short = find(error_responses(valid=False, defects=["short_form"]), lambda r: True, settings=settings(database=None))
    assert sdk_crashes(short)
    assert repr(crashes["short_form"]) == "KeyError('error_message')"
