"""The ``cobo_server`` fixture as a pytest user meets it: verdicts, isolation, strays, options, xdist.

Each test runs a small suite through pytester; the inner tests drive ``cobo_server`` with httpx
over the real socket on 127.0.0.1. Suites that depend on the process's one loopback server
starting and stopping with the inner session (strays, the session's address) start from a fresh
process's import state (`fresh_process`); a missing extra and xdist workers need real processes.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import sys

import httpx  # noqa: F401  # imported once here, not again by every inline run's suite
import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest

from pytest_cobo_errors import CoboServer

ONE_REPORT = ("-rN",)  # no short summary, whose lines quote the message again

GET = """
import httpx

def get(url):
    return httpx.get(url, trust_env=False, timeout=10)
"""

LOOPBACK = "pytest_cobo_errors.transports.loopback"


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server module as a fresh process has it, not imported yet: the inner session starts the
    server and stops it at its end, as a user's own ``pytest`` run does.

    Inline pytester runs share this process; whether an earlier test imported the module (or left
    it behind as an attribute of its package: pytester drops a run's imports from sys.modules
    only) must not decide what the inner session does.
    """
    from pytest_cobo_errors import transports

    monkeypatch.delitem(sys.modules, LOOPBACK, raising=False)
    monkeypatch.delattr(transports, "loopback", raising=False)


# -- verdicts at teardown -------------------------------------------------------------------------------


def test_a_request_no_rule_answers_gets_error_1000_and_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GET
        + """
def test_unanswered(cobo_server):
    answer = get(cobo_server.url + "/v1/custody/coin_info/?coin=BTC")
    assert answer.status_code == 500
    assert answer.headers["X-Cobo-Fault-Unanswered"] == "unmatched"
    body = answer.json()
    assert (body["success"], body["error_code"]) == (False, 1000)
    assert "no rule answers GET " + cobo_server.url + "/v1/custody/coin_info/?coin=BTC" in body["error_message"]
    assert "cobo_server.succeed(path='/v1/custody/coin_info/')" in body["error_message"]
    assert body["error_description"] == body["error_message"]
"""
    )
    result = pytester.runpytest(*ONE_REPORT)
    result.assert_outcomes(passed=1, errors=1)  # the client got its answer; the test is failed at teardown
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unanswered*",
            "*faults were not used as declared:",
            "*request answered by no rule: GET http://127.0.0.1:*/v1/custody/coin_info/?coin=BTC: no fault is declared; declare e.g. cobo_server.succeed(path='/v1/custody/coin_info/')",
        ]
    )


def test_the_teardown_verdict_speaks_of_cobo_server_and_suggests_the_rule_to_declare(
    pytester: pytest.Pytester,
) -> None:
    # The client's error_message suggests the rule (the test above); the teardown failure, which is
    # what the user reads in the report, should too, and name the fixture they used.
    pytester.makepyfile(
        GET
        + """
def test_unanswered(cobo_server):
    get(cobo_server.url + "/v1/custody/coin_info/?coin=BTC")

def test_unused(cobo_server):
    cobo_server.inject(12007, path="/v1/custody/new_withdraw_request/")
"""
    )
    result = pytester.runpytest(*ONE_REPORT)
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unanswered*",
            "*GET http://127.0.0.1:*/v1/custody/coin_info/?coin=BTC*cobo_server.succeed(path='/v1/custody/coin_info/')",
            "*ERROR at teardown of test_unused*",
            "*cobo_server.inject: error 12007*was never called*",
        ]
    )
    result.stdout.no_fnmatch_line("*cobo_fault*")  # the test never used cobo_fault


def test_an_unused_rule_fails_at_teardown_unless_optional(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_unused(cobo_server):
    cobo_server.inject(12007, path="/v1/custody/new_withdraw_request/")

def test_optional(cobo_server):
    cobo_server.inject(12007, path="/v1/custody/new_withdraw_request/", optional=True)
"""
    )
    result = pytester.runpytest(*ONE_REPORT)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unused*",
            "*error 12007 (Insufficient balance) as HTTP 400*/v1/custody/new_withdraw_request/ on http://127.0.0.1:*"
            " was never called (pass optional=True if that is fine)",
        ]
    )
    result.stdout.no_fnmatch_line("*ERROR at teardown of test_optional*")


def test_rules_and_calls_do_not_leak_into_the_next_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GET
        + """
def test_a_declares(cobo_server):
    cobo_server.succeed({"coin": "BTC"}, path="/v1/custody/coin_info/")
    assert get(cobo_server.url + "/v1/custody/coin_info/").json()["result"] == {"coin": "BTC"}
    assert len(cobo_server.calls) == 1

def test_b_declares_nothing(cobo_server):
    assert cobo_server.calls == [] and cobo_server.book.rules == []
    with cobo_server.expect_unmatched() as refused:
        answer = get(cobo_server.url + "/v1/custody/coin_info/")
    assert answer.status_code == 500
    assert answer.headers["X-Cobo-Fault-Unanswered"] == "unmatched"
    assert "No fault is declared in this test" in answer.json()["error_message"]
    assert [r.path for r in refused] == ["/v1/custody/coin_info/"]
    assert cobo_server.calls == []
"""
    )
    pytester.runpytest().assert_outcomes(passed=2)


# -- requests between tests -----------------------------------------------------------------------------

STRAY_BY_THREAD = (
    GET
    + """
import threading

sent = threading.Event()
late = {}

def test_a_starts_a_thread_that_sends_after_it_ended(cobo_server):
    cobo_server.succeed(path="/v1/early")
    get(cobo_server.url + "/v1/early")
    url = cobo_server.url

    def send_late():
        sent.wait(10)
        late["answer"] = get(url + "/v1/late")

    late["thread"] = threading.Thread(target=send_late)
    late["thread"].start()

def test_b_without_cobo_server():
    sent.set()
    late["thread"].join(10)
    answer = late["answer"]
    assert answer.status_code == 500
    assert answer.headers["X-Cobo-Fault-Unanswered"] == "stray"
    assert answer.json()["error_code"] == 1000
    assert "no test's cobo_server was active" in answer.json()["error_message"]
"""
)

STRAY_BY_SESSION_FIXTURE = (
    GET
    + """
import json, pathlib

import pytest

@pytest.fixture(scope="session")
def logs_out_at_the_end(cobo_server_url):
    yield
    answer = get(cobo_server_url + "/v1/late")  # a client's logout in a session fixture's teardown
    pathlib.Path("late.json").write_text(
        json.dumps([answer.status_code, answer.headers["X-Cobo-Fault-Unanswered"], answer.json()["error_code"]])
    )

def test_uses_the_server(logs_out_at_the_end, cobo_server):
    cobo_server.succeed(path="/v1/early")
    get(cobo_server.url + "/v1/early")
"""
)


def assert_listed_as_a_stray(result: pytest.RunResult) -> None:
    assert result.ret == pytest.ExitCode.OK  # a stray is reported, not failed
    result.stdout.fnmatch_lines(
        [
            "*= cobo-errors: requests refused outside every test's fault window =*",
            "GET http://127.0.0.1:*/v1/late*(via server)",
            "1 request(s) reached cobo_server while no test's cobo_server was active*",
        ]
    )


@pytest.mark.usefixtures("fresh_process")
def test_a_request_from_a_thread_after_its_test_ended_is_refused_and_listed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(STRAY_BY_THREAD)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)  # the thread's client got the "stray" answer (test_b checks it)
    assert_listed_as_a_stray(result)


@pytest.mark.usefixtures("fresh_process")
def test_a_request_from_a_session_fixtures_teardown_is_refused_and_listed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(STRAY_BY_SESSION_FIXTURE)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert json.loads((pytester.path / "late.json").read_text()) == [500, "stray", 1000]
    assert_listed_as_a_stray(result)


# -- with cobo_fault ------------------------------------------------------------------------------------


def test_cobo_server_and_cobo_fault_answer_side_by_side(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import httpx

def test_both(cobo_fault, cobo_server):
    cobo_fault.inject(12009)
    cobo_server.inject(1010)
    in_process = httpx.get("https://api.dev.cobo.com/v1/custody/coin_info/")
    over_socket = httpx.get(cobo_server.url + "/v1/custody/coin_info/", trust_env=False)
    assert (in_process.status_code, in_process.json()["error_code"]) == (400, 12009)
    assert (over_socket.status_code, over_socket.json()["error_code"]) == (429, 1010)
    assert [c.request.transport for c in cobo_fault.calls] == ["httpx"]
    assert [c.request.transport for c in cobo_server.calls] == ["server"]
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_faults_refused_at_declaration_name_the_transport(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest
from pytest_cobo_errors.transports import UnsupportedFaultError

@pytest.mark.parametrize("kind", ["connect_timeout", "read_timeout", "connect_error"])
def test_the_server_cannot_refuse_or_stall_a_connect(cobo_server, kind):
    with pytest.raises(UnsupportedFaultError, match="the server transport cannot produce a '" + kind + "'") as raised:
        cobo_server.network(kind)
    assert isinstance(raised.value, ValueError)
    assert "it can: connection_reset, no_response, truncated_response" in str(raised.value)
    assert cobo_server.book.rules == []

def test_the_server_cannot_send_a_final_1xx(cobo_server):
    with pytest.raises(UnsupportedFaultError, match="the server transport cannot answer with 101"):
        cobo_server.gateway(101)

@pytest.mark.parametrize("slow", [{"delay": 1}, {"trickle": 0.1}])
def test_cobo_fault_cannot_delay_and_points_at_cobo_server(cobo_fault, slow):
    with pytest.raises(UnsupportedFaultError, match="use the cobo_server fixture"):
        cobo_fault.inject(12007, **slow)
"""
    )
    pytester.runpytest().assert_outcomes(passed=6)


def test_a_read_timeout_refused_on_cobo_server_points_at_delay(pytester: pytest.Pytester) -> None:
    # On cobo_server, a read timeout is delay= longer than the client's timeout. The refusal's advice,
    # "@pytest.mark.cobo_transports(...)", chooses cobo_fault's transports and changes nothing here.
    pytester.makepyfile(
        """
import pytest
from pytest_cobo_errors.transports import UnsupportedFaultError

def test_it(cobo_server):
    with pytest.raises(UnsupportedFaultError) as raised:
        cobo_server.network("read_timeout")
    assert "delay=" in str(raised.value)
    assert "cobo_transports" not in str(raised.value)
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


# -- options and installation ---------------------------------------------------------------------------


def test_the_server_is_not_a_transport_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_it():\n    pass\n")
    result = pytester.runpytest("--cobo-transports=server")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --cobo-transports / cobo_transports: the server transport is a server on loopback, not an "
            "in-process one: request the cobo_server fixture and point the client at its url; valid here: auto*"
        ]
    )


HIDE_PYTEST_HTTPSERVER = """
import importlib.util
import sys

# What Python does for a module that cannot be imported: None in sys.modules makes `import` raise
# ImportError and find_spec return None, as when pytest-httpserver is not installed.
sys.modules["pytest_httpserver"] = None
assert importlib.util.find_spec("pytest_httpserver") is None
try:
    import pytest_httpserver  # noqa: F401
except ImportError:
    pass
else:
    raise AssertionError("pytest_httpserver is still importable")
"""


def test_a_missing_server_extra_is_a_usage_error_saying_what_to_install(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(HIDE_PYTEST_HTTPSERVER)
    pytester.makepyfile("def test_other():\n    pass\n\ndef test_it(cobo_server_url, cobo_server):\n    pass\n")
    # a fresh process, and pytest-httpserver's own plugin off, as when the package is not installed
    result = pytester.runpytest_subprocess("-p", "no:pytest_httpserver")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: test_a_missing_server_extra_is_a_usage_error_saying_what_to_install.py::test_it uses "
            "cobo_server: the server transport needs the 'pytest_httpserver' library: "
            "pip install 'pytest-cobo-errors[server]'"
        ]
    )
    result.stdout.no_fnmatch_line("*passed*")  # refused before any test ran


# -- sessions, workers, coverage ------------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_process")
def test_cobo_server_url_is_one_address_for_the_whole_session(pytester: pytest.Pytester) -> None:
    log = pytester.path / "urls.txt"
    record = f"""
import pathlib

def record(*urls):
    with pathlib.Path({str(log)!r}).open("a") as out:
        out.write(" ".join(urls) + "\\n")
"""
    pytester.makepyfile(
        test_one=record
        + """
def test_a(cobo_server, cobo_server_url):
    assert cobo_server.url == cobo_server_url == f"http://127.0.0.1:{cobo_server.port}"
    record(cobo_server.url, cobo_server_url)

def test_b(cobo_server_url):
    record(cobo_server_url)
""",
        test_two=record
        + """
def test_c(cobo_server):
    record(cobo_server.url)
""",
    )
    pytester.runpytest().assert_outcomes(passed=3)
    urls = log.read_text().split()
    assert len(urls) == 4
    assert len(set(urls)) == 1
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", urls[0])


@pytest.mark.usefixtures("fresh_process")
def test_cobo_server_url_still_reaches_the_rules_in_a_later_inline_pytester_run(pytester: pytest.Pytester) -> None:
    # After an inline run, pytester drops the server module the run imported from sys.modules, but
    # the module stays an attribute of its package: the next run must still serve its rules at
    # cobo_server_url (a service under test given that address at session start).
    pytester.makepyfile(
        GET
        + """
def test_a_service_given_the_session_url(cobo_server, cobo_server_url):
    cobo_server.succeed({"coin": "BTC"}, path="/v1/custody/coin_info/")
    answer = get(cobo_server_url + "/v1/custody/coin_info/")
    assert answer.headers.get("X-Cobo-Fault-Unanswered") is None
    assert answer.json()["result"] == {"coin": "BTC"}
    assert cobo_server.url == cobo_server_url
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)  # the first run imports the server module
    pytester.runpytest().assert_outcomes(passed=1)  # a later run in the same process must work alike


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="needs pytest-xdist")
def test_each_xdist_worker_serves_on_its_own_port(pytester: pytest.Pytester) -> None:
    seen = pytester.path / "seen"
    seen.mkdir()
    pytester.makepyfile(
        GET
        + f"""
import os
import pathlib

import pytest

@pytest.mark.parametrize("n", range(6))
def test_it(cobo_server, n):
    cobo_server.inject(12007, path="/v1/custody/new_withdraw_request/")
    answer = get(cobo_server.url + "/v1/custody/new_withdraw_request/")
    assert answer.json()["error_code"] == 12007
    worker = os.environ["PYTEST_XDIST_WORKER"]
    pathlib.Path({str(seen)!r}, str(n)).write_text(worker + " " + str(cobo_server.port))
"""
    )
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=6)
    pairs = {tuple(path.read_text().split()) for path in seen.iterdir()}
    assert len(list(seen.iterdir())) == 6
    ports_by_worker: dict[str, set[str]] = {}
    for worker, port in pairs:
        ports_by_worker.setdefault(worker, set()).add(port)
    assert set(ports_by_worker) == {"gw0", "gw1"}
    assert all(len(ports) == 1 for ports in ports_by_worker.values())  # one server per worker process
    assert ports_by_worker["gw0"] != ports_by_worker["gw1"]


def test_coverage_counts_what_cobo_server_served(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GET
        + """
def test_served(cobo_server):
    cobo_server.inject(12009, path="/v1/custody/new_withdraw_request/")
    cobo_server.gateway(503, path="/down")
    assert get(cobo_server.url + "/v1/custody/new_withdraw_request/").status_code == 400
    assert get(cobo_server.url + "/down").status_code == 503
"""
    )
    result = pytester.runpytest("--cobo-coverage")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*= cobo error coverage =*",
            "error codes    1/41 exercised (1xxx: 0/18, 12xxx: 1/23)",
            "HTTP statuses  2/10 exercised",  # 400 (12009's status) and 503
            "total         5.9% of 51 documented codes and statuses",
        ]
    )
    missing = result.stdout.str().split("not exercised by any test:")[1]
    assert "12009" not in missing
    assert "http:503" not in missing
    assert "http:400" not in missing


def test_a_request_in_absolute_form_is_matched_by_its_path(cobo_server: CoboServer) -> None:
    # what a client that believes it talks to a proxy sends: the request line names a whole URL
    cobo_server.inject(12007, path="/v1/custody/coin_info/")
    with socket.create_connection(("127.0.0.1", cobo_server.port), timeout=5) as conn:
        conn.sendall(b"GET http://fake-cobo.test/v1/custody/coin_info/?coin=BTC HTTP/1.1\r\nHost: x\r\n\r\n")
        head = conn.recv(65536).split(b"\r\n", 1)[0]
    assert head.split(b" ")[1] == b"400"
    assert cobo_server.calls[0].request.params == {"coin": "BTC"}
