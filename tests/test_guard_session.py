"""The guard across a pytest session: from collection to the end, strays in the summary, live tests by opt-in."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_cobo_errors.transports import TRANSPORTS, TransportSpec, UnsupportedFaultError, register
from pytest_cobo_errors.transports.contract import Capabilities

SEND = {
    "requests": "requests.post('https://api.dev.cobo.com/v1/custody/logout/')",
    "httpx": "httpx.post('https://api.dev.cobo.com/v1/custody/logout/')",
}


@pytest.mark.parametrize("transport", SEND)
def test_a_client_torn_down_after_cobo_fault_is_refused_and_listed_without_failing_the_run(
    pytester: pytest.Pytester, transport: str
) -> None:
    pytester.makepyfile(
        f"""
        import httpx, pytest, requests

        @pytest.fixture
        def client():
            yield
            try:
                {SEND[transport]}  # a logout, after cobo_fault has been torn down
            except Exception as error:
                print("logout failed:", type(error).__name__, error)

        def test_uses_both(client, cobo_fault):
            cobo_fault.succeed(path="/v1/custody/org_info/")
            {SEND[transport].replace("post", "get").replace("logout", "org_info")}
        """
    )
    result = pytester.runpytest(f"--cobo-transports={transport}", "-s")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*logout failed: *",
            "*= cobo-errors: requests refused outside every test's fault window =*",
            "POST https://api.dev.cobo.com/v1/custody/logout/ (via *): no fault set was active",
            "1 request(s) to Cobo hosts arrived while no test's faults were active and never left the process; "
            "they do not change the exit status.",
        ]
    )


def test_the_guard_holds_from_collection_not_only_from_the_first_cobo_fault(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket
        import pytest
        from pytest_cobo_errors.rules import StrayRequestError

        def test_runs_first_without_the_fixture():
            with pytest.raises(StrayRequestError):
                socket.getaddrinfo("api.custody.cobo.com", 443)

        def test_uses_the_fixture(cobo_fault):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["a connection to api.custody.cobo.com:443 (via socket): no fault set was active"])


def test_an_httpx_failure_shows_our_message_and_no_respx_internals(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_unanswered(cobo_fault):
            httpx.get("https://api.dev.cobo.com/v1/custody/org_info/")
        """
    )
    result = pytester.runpytest("--cobo-transports=httpx")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E *pytest_cobo_errors.rules.UnmatchedRequestError: cobo_fault: no rule answers GET https://api.dev.cobo.com*"]
    )
    result.stdout.no_fnmatch_line("*SideEffectError*")
    result.stdout.no_fnmatch_line("*direct cause of the following exception*")
    result.stdout.no_fnmatch_line("*During handling of the above exception*")


def test_responses_activate_and_cobo_fault_share_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests
        import responses

        @responses.activate
        def test_both(cobo_fault):
            responses.add(responses.GET, "https://partner.example.org/price", body="theirs")
            cobo_fault.inject(12007, path="/v1/custody/coin_info/")
            assert requests.get("https://partner.example.org/price").text == "theirs"
            assert requests.get("https://api.dev.cobo.com/v1/custody/coin_info/").json()["error_code"] == 12007
        """
    )
    pytester.runpytest("--cobo-transports=requests").assert_outcomes(passed=1)


def test_a_module_scoped_block_shares_faults_under_each_tests_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest
        from pytest_cobo_errors import CoboFaults

        ORG = "https://api.dev.cobo.com/v1/custody/org_info/"
        COIN = "https://api.dev.cobo.com/v1/custody/coin_info/"

        @pytest.fixture(scope="module", autouse=True)
        def shared():
            with CoboFaults() as faults:
                faults.succeed({"org": "acme"}, path="/v1/custody/org_info/")
                yield faults

        def test_uses_the_shared_rule(cobo_fault):
            assert httpx.get(ORG).json()["result"] == {"org": "acme"}

        def test_adds_its_own_on_top(cobo_fault):
            cobo_fault.inject(1010, path="/v1/custody/org_info/")
            cobo_fault.inject(12002, path="/v1/custody/coin_info/")
            assert httpx.get(ORG).status_code == 429
            assert httpx.get(COIN).json()["error_code"] == 12002

        def test_sees_nothing_of_the_previous_tests_rules(cobo_fault):
            assert httpx.get(ORG).json()["result"] == {"org": "acme"}
        """
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_live_tests_are_skipped_unless_asked_for(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cobo_live
        def test_against_the_dev_environment():
            raise AssertionError("must not run without --cobo-live")
        """
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*talks to Cobo's development host: run with --cobo-live*"])


@pytest.mark.parametrize("enable", [["--cobo-live"], ["-o", "cobo_live=true"]], ids=["option", "ini"])
def test_a_live_test_may_reach_the_dev_host_and_no_other(
    pytester: pytest.Pytester, socket_watch: Any, enable: list[str]
) -> None:
    pytester.makepyfile(
        """
        import socket
        import pytest
        from pytest_cobo_errors.rules import StrayRequestError

        @pytest.mark.cobo_live
        def test_live():
            # the outer test's socket watch stands in for the network: it records and stops the lookup
            with pytest.raises(OSError, match="got past the guard"):
                socket.getaddrinfo("api.dev.cobo.com", 443)
            with pytest.raises(StrayRequestError):
                socket.getaddrinfo("api.cobo.com", 443)  # production stays blocked

        def test_not_live_afterwards():
            with pytest.raises(StrayRequestError):
                socket.getaddrinfo("api.dev.cobo.com", 443)
        """
    )
    pytester.runpytest(*enable).assert_outcomes(passed=2)
    assert socket_watch.seen == [("socket.getaddrinfo", "api.dev.cobo.com")]


def test_a_rule_a_chosen_transport_cannot_honour_is_refused_when_declared() -> None:
    from pytest_cobo_errors import CoboFaults

    register(
        TransportSpec(
            "limited", "pytest_cobo_errors.transports.respx_httpx", "httpx",
            "pip install nothing", Capabilities(network_faults=frozenset({"connect_error"})),
        )
    )  # fmt: skip
    try:
        faults = CoboFaults(transports=["httpx", "limited"])
        faults.network("connect_error")
        with pytest.raises(UnsupportedFaultError, match="the limited transport cannot produce a 'read_timeout'"):
            faults.network("read_timeout")
        with pytest.raises(UnsupportedFaultError, match="cannot produce a 'truncated_response'"):
            faults.network("truncated_response")
        assert len(faults.book.rules) == 1
    finally:
        del TRANSPORTS["limited"]


def test_cobo_fault_in_a_module_scoped_fixture_points_to_the_shared_block(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture(scope="module")
        def shared(cobo_fault):
            return cobo_fault

        def test_uses_it(shared):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "ScopeMismatch: You tried to access the function scoped fixture cobo_fault*",
            "*- cobo-errors -*",
            "cobo_fault is function-scoped. To share faults across a module or class, open a CoboFaults() block*",
        ]
    )


def test_strays_from_xdist_workers_reach_the_controllers_summary(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(
        """
        import socket
        import pytest
        from pytest_cobo_errors.rules import StrayRequestError

        @pytest.mark.parametrize("host", ["api.cobo.com", "api.custody.cobo.com"])
        def test_stray(cobo_fault, host):
            pass

        @pytest.mark.parametrize("host", ["api.cobo.com", "api.custody.cobo.com"])
        def test_after(host):
            with pytest.raises(StrayRequestError):
                socket.getaddrinfo(host, 443)
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:randomly")
    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*2 request(s) to Cobo hosts arrived while no test's faults were active*"])
    assert sorted(line for line in result.stdout.lines if line.startswith("a connection to")) == [
        "a connection to api.cobo.com:443 (via socket): no fault set was active",
        "a connection to api.custody.cobo.com:443 (via socket): no fault set was active",
    ]


def test_a_live_test_lets_through_only_its_own_traffic(pytester: pytest.Pytester, socket_watch: Any) -> None:
    pytester.makepyfile(
        """
        import socket
        import threading
        import pytest
        from pytest_cobo_errors.rules import StrayRequestError

        go, done, seen = threading.Event(), threading.Event(), []

        def late():
            go.wait(5)
            try:
                socket.getaddrinfo("api.dev.cobo.com", 443)
            except StrayRequestError:
                seen.append("refused")
            done.set()

        def test_leaves_a_thread_behind(cobo_fault):
            threading.Thread(target=late, daemon=True).start()

        @pytest.fixture
        def breaks_in_teardown():
            yield
            raise RuntimeError("teardown failed")

        @pytest.mark.cobo_live
        def test_live(breaks_in_teardown):
            go.set()
            assert done.wait(5)
            assert seen == ["refused"]  # the earlier test's thread, even while the dev host is open

        def test_not_live_after_a_failed_teardown():
            with pytest.raises(StrayRequestError):
                socket.getaddrinfo("api.dev.cobo.com", 443)
        """
    )
    result = pytester.runpytest("--cobo-live", "-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=1)
    assert socket_watch.seen == []


def test_anyio_tests_on_a_session_runner_belong_to_each_tests_window(pytester: pytest.Pytester) -> None:
    pytest.importorskip("anyio")
    pytester.makeconftest(
        """
        import httpx
        import pytest

        @pytest.fixture(scope="session")
        def anyio_backend():
            return "asyncio"

        @pytest.fixture(scope="session")
        async def client():  # one async client for the session: its runner task outlives every test
            async with httpx.AsyncClient() as client:
                yield client
        """
    )
    pytester.makepyfile(
        test_1_module="""
        import pytest
        from pytest_cobo_errors import CoboFaults

        pytestmark = pytest.mark.anyio

        @pytest.fixture(scope="module", autouse=True)
        def shared():
            with CoboFaults() as faults:
                faults.succeed({"org": "acme"}, path="/v1/custody/org_info/", optional=True)
                yield faults

        async def test_starts_the_runner_inside_the_module_block():
            pass

        async def test_first(client):
            r = await client.get("https://api.cobo.com/v1/custody/org_info/")
            assert r.json()["result"] == {"org": "acme"}
        """,
        test_2_other="""
        import pytest

        pytestmark = pytest.mark.anyio

        async def test_in_another_module(cobo_fault, client):
            cobo_fault.inject(12007, path="/v1/custody/org_info/")
            r = await client.get("https://api.cobo.com/v1/custody/org_info/")
            assert r.status_code == 400
        """,
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
