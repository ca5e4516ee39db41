"""The plugin as pytest runs it: options, fixture documentation, strictness and teardown checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

HTTPX_ONLY = ("--cobo-transports=httpx",)


def test_help_shows_a_cobo_group_with_every_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "Cobo error testing (pytest-cobo-errors):",
            "  --cobo-base-url=URL*",
            "  --cobo-transports=NAMES*",
            "  --cobo-codes=PATTERNS*",
            "  --cobo-coverage*",
            "  --cobo-coverage-fail-under=PERCENT*",
        ]
    )
    result.stdout.fnmatch_lines(["  cobo_base_url (linelist):*", "  cobo_codes (string):*"])


def test_fixtures_lists_cobo_fault_with_a_standalone_summary(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures")
    result.stdout.fnmatch_lines(
        ["cobo_fault -- *plugin.py:*", "    Inject documented Cobo errors, gateway pages and network faults into this*"]
    )


@pytest.mark.parametrize("fixture", ["cobo_fault", "cobo_server"])
def test_a_fixture_docstring_names_only_methods_its_fault_set_has(fixture: str) -> None:
    """What ``pytest --fixtures`` teaches must still work: a method renamed before the first release
    must not live on in a docstring."""
    import re

    from pytest_cobo_errors import CoboServer, plugin

    doc = getattr(plugin, fixture).__doc__ or ""
    named = set(re.findall(r"``(?:\w+\.)?([a-z_]+)\(", doc))
    assert named, "the docstring shows no call"
    assert sorted(name for name in named if not hasattr(CoboServer, name)) == []
    # a bare ``name`` is a method too (``inject``, ``gateway``, ...) unless it is a fixture's
    listed = set(re.findall(r"``([a-z_]+)``", doc)) - {"cobo_fault", "cobo_server"}
    assert sorted(name for name in listed if not hasattr(CoboServer, name)) == []


def test_markers_are_registered_with_their_signature(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.cobo_transports(*names): the HTTP libraries cobo_fault intercepts*"])


def test_p_no_cobo_errors_turns_the_plugin_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_uses(cobo_fault): pass")
    result = pytester.runpytest("-p", "no:cobo_errors")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'cobo_fault' not found*"])


def test_loading_the_plugin_imports_neither_hypothesis_nor_respx() -> None:
    code = (
        "import sys, pytest_cobo_errors.plugin, pytest_cobo_errors; "
        "print(sorted(m for m in ('hypothesis', 'respx', 'responses', 'cryptography') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert output.strip() == "[]"


def test_a_fault_never_used_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_forgot_to_call(cobo_fault):
            cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")

        def test_optional_is_fine(cobo_fault):
            cobo_fault.inject(12007, optional=True)
        """
    )
    result = pytester.runpytest(*HTTPX_ONLY)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_forgot_to_call*",
            "cobo_fault: faults were not used as declared:",
            "  cobo_fault.inject: error 12007 (Insufficient balance)*was never called (pass optional=True*",
        ]
    )


def test_expect_calls_demands_an_exact_count(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_retried_too_often(cobo_fault):
            cobo_fault.inject(1010, expect_calls=2)
            for _ in range(3):
                httpx.get("https://api.cobo.com/v1/custody/coin_info/")
        """
    )
    result = pytester.runpytest(*HTTPX_ONLY)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*error 1010*was called 3 time(s), expected exactly 2", "      call 1: GET *"])


def test_an_unanswered_request_fails_even_if_the_client_swallows_the_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_swallowing_client(cobo_fault):
            cobo_fault.inject(12007, method="POST", optional=True)
            try:
                httpx.get("https://api.custody.cobo.com/v1/custody/org_info/")
            except Exception:
                pass  # a careless client hides the failure...
        """
    )
    result = pytester.runpytest(*HTTPX_ONLY)
    result.assert_outcomes(passed=1, errors=1)  # ...but teardown still reports it
    result.stdout.fnmatch_lines(
        ["*request answered by no rule: GET https://api.custody.cobo.com/v1/custody/org_info/: no rule matches"]
    )


def test_an_unanswered_request_lists_every_rule_and_why(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_wrong_path(cobo_fault):
            cobo_fault.inject(12009, method="POST", path="/v1/custody/new_withdraw_request/")
            cobo_fault.gateway(503, path="/v1/custody/coin_info/")
            httpx.post("https://api.dev.cobo.com/v1/custody/new_withdraw_request")
        """
    )
    result = pytester.runpytest(*HTTPX_ONLY)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequestError: cobo_fault: no rule answers POST https://api.dev.cobo.com/v1/custody/new_withdraw_request (via httpx).",
            "*The declared rules, and why each did not answer:",
            "*1. cobo_fault.inject: error 12009*",
            "*-> path '/v1/custody/new_withdraw_request' does not match '/v1/custody/new_withdraw_request/'",
            "*2. cobo_fault.gateway: HTTP 503 gateway page*",
            "*-> path '/v1/custody/new_withdraw_request' does not match '/v1/custody/coin_info/'",
        ]
    )
    assert "ERROR at teardown" not in result.stdout.str()  # one failure, not a pile of them


def test_other_hosts_are_refused_unless_allowed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest
        from pytest_cobo_errors import UnmatchedRequestError

        def test_refused(cobo_fault):
            with cobo_fault.expect_unmatched(), pytest.raises(UnmatchedRequestError, match="allow_host\\\\('example.com'\\\\)"):
                httpx.get("https://example.com/")
        """
    )
    pytester.runpytest(*HTTPX_ONLY).assert_outcomes(passed=1)


def test_faults_do_not_leak_into_the_next_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest
        from pytest_cobo_errors import UnmatchedRequestError

        def test_first(cobo_fault):
            cobo_fault.inject(12007)
            assert httpx.get("https://api.cobo.com/x").status_code == 400

        def test_second(cobo_fault):
            with cobo_fault.expect_unmatched(), pytest.raises(UnmatchedRequestError, match="No fault is declared"):
                httpx.get("https://api.cobo.com/x")
            assert cobo_fault.calls == []
        """
    )
    pytester.runpytest(*HTTPX_ONLY, "-p", "no:randomly").assert_outcomes(passed=2)


def test_base_url_option_and_ini_twin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_local(cobo_fault):
            cobo_fault.inject(12007)
            assert httpx.get("http://127.0.0.1:8080/v1/x").json()["error_code"] == 12007
        """
    )
    pytester.runpytest(*HTTPX_ONLY, "--cobo-base-url=http://127.0.0.1:8080").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\ncobo_base_url = http://127.0.0.1:8080\n")
    result = pytester.runpytest(*HTTPX_ONLY)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cobo-errors: transports httpx, base URLs http://127.0.0.1:8080"])


def test_real_cobo_hosts_stay_protected_with_a_custom_base_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest
        from pytest_cobo_errors import UnmatchedRequestError

        def test_protected(cobo_fault):
            cobo_fault.inject(12007)
            with cobo_fault.expect_unmatched(), pytest.raises(UnmatchedRequestError, match="It is a Cobo host"):
                httpx.get("https://api.custody.cobo.com/v1/x")
            httpx.get("http://127.0.0.1:8080/v1/x")
        """
    )
    pytester.runpytest(*HTTPX_ONLY, "--cobo-base-url=http://127.0.0.1:8080").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cobo-base-url=ftp://x"], "ERROR: --cobo-base-url / cobo_base_url: invalid base URL 'ftp://x'*"),
        (["--cobo-transports=urllib3"], "ERROR: --cobo-transports / cobo_transports: unknown transport 'urllib3'; valid: auto, httpx, requests"),
        (["--cobo-coverage-fail-under=120"], "ERROR: --cobo-coverage-fail-under / cobo_coverage_fail_under: expected a percentage from 0 to 100, got '120'"),
        (["--cobo-coverage-fail-under=most"], "ERROR: --cobo-coverage-fail-under*got 'most'"),
    ],
)  # fmt: skip
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_the_transports_marker_rejects_unknown_names_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cobo_transports("aiohttp")
        def test_x(cobo_fault):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.cobo_transports: unknown transport 'aiohttp'; valid: auto, httpx, requests"]
    )


def test_a_fault_set_is_its_own_context_manager_outside_fixtures() -> None:
    import httpx

    from pytest_cobo_errors import CoboFaults

    with CoboFaults(transports="httpx") as faults:
        faults.inject(12008)
        assert httpx.get("https://api.cobo.com/v1/custody/coin_info/").json()["error_code"] == 12008
    with pytest.raises(AssertionError, match="was never called"), CoboFaults(transports="httpx") as faults:
        faults.inject(12008)
    with pytest.raises(ZeroDivisionError), CoboFaults(transports="httpx") as faults:  # noqa: PT012
        faults.inject(12008)  # unused, but the block's own error wins
        1 / 0  # noqa: B018


def test_every_public_name_is_importable_from_the_package() -> None:
    import pytest_cobo_errors

    assert sorted(pytest_cobo_errors.__all__) == sorted(pytest_cobo_errors._HOMES)
    for name in pytest_cobo_errors.__all__:
        assert getattr(pytest_cobo_errors, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        pytest_cobo_errors.nope  # noqa: B018


@pytest.mark.parametrize(
    ("old", "new"),
    [("cobo_faults", "CoboFaults"), ("dropped_connection", "truncated_response"), ("CoboError", "ErrorAnswer")],
)
def test_a_name_renamed_before_the_first_release_says_what_replaced_it(old: str, new: str) -> None:
    import pytest_cobo_errors

    with pytest.raises(ImportError, match=rf"^{old} was renamed before the first release: use {new}\b"):
        exec(f"from pytest_cobo_errors import {old}", {})
    assert new in pytest_cobo_errors.__all__
