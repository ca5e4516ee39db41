"""What only the requests transport has: urllib3 retries in a mounted adapter, the missing extra, loopback.

What every transport does alike (envelopes, sequences, network faults, captured requests,
refusals, nesting, users' own mocks) is in ``tests/conformance``, written once for all of them.
"""

from __future__ import annotations

import http.server
import importlib.util
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pytest_cobo_errors import (
    CoboFaults,
    success,
    transports,
)
from pytest_cobo_errors.transports import parse_transports

DEV = "https://api.dev.cobo.com"
WITHDRAW = "/v1/custody/new_withdraw_request/"
COIN_INFO = "/v1/custody/coin_info/"

requests_only = pytest.mark.cobo_transports("requests")


class LoopbackServer:
    """An HTTP server on 127.0.0.1 that answers every GET with "hello from loopback" and records paths."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        seen = self.paths

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                body = b"hello from loopback"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    yield server
    server.close()


# -- answering ---------------------------------------------------------------------------------


@pytest.mark.cobo_transports("httpx", "requests")
def test_one_rule_answers_httpx_and_requests_alike(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.inject(1010, path=COIN_INFO)
    by_requests = requests.get(DEV + COIN_INFO, params={"coin": "BTC"})
    by_httpx = httpx.get(DEV + COIN_INFO, params={"coin": "BTC"})
    assert by_requests.status_code == by_httpx.status_code == 429
    assert by_requests.json()["error_code"] == by_httpx.json()["error_code"] == 1010
    assert [call.request.transport for call in rule.calls] == ["requests", "httpx"]


@requests_only
def test_fail_then_succeed_serves_a_retrying_caller(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.fail_then_succeed(1010, times=2, result={"request_id": "r1"}, path=WITHDRAW)
    bodies = []
    for _ in range(3):
        bodies.append(requests.post(DEV + WITHDRAW, data={"request_id": "r1"}).json())
        if bodies[-1]["success"]:
            break
    assert [b.get("error_code") for b in bodies] == [1010, 1010, None]
    assert bodies[-1]["result"] == {"request_id": "r1"}
    assert rule.call_count == 3


@requests_only
def test_urllib3_retries_in_the_adapter_are_each_answered_by_the_rules(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.sequence([503, 503, success({"ok": True})], path=COIN_INFO)
    retrying = Retry(total=3, status_forcelist=[503], backoff_factor=0, allowed_methods=None)
    with requests.Session() as session:
        session.mount("https://", HTTPAdapter(max_retries=retrying))
        response = session.get(DEV + COIN_INFO)
    assert response.json()["result"] == {"ok": True}
    assert rule.call_count == 3  # the adapter's two retries reached the rules, not just the final answer


# -- below HTTP ----------------------------------------------------------------------------------


# -- inspection ------------------------------------------------------------------------------------


# -- strictness, through pytest ---------------------------------------------------------------------


def test_an_unmatched_cobo_request_fails_the_test_even_if_the_client_swallows_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_swallows(cobo_fault):
            cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")
            try:
                requests.get("https://api.custody.cobo.com/v1/custody/org_info/")
            except Exception:
                pass  # a careless client
            requests.post("https://api.custody.cobo.com/v1/custody/new_withdraw_request/")
        """
    )
    result = pytester.runpytest("--cobo-transports=requests")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*request answered by no rule: GET https://api.custody.cobo.com/v1/custody/org_info/*"]
    )


def test_an_unused_rule_fails_a_requests_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_forgets(cobo_fault):
            cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")
            cobo_fault.succeed(path="/v1/custody/coin_info/")
            requests.get("https://api.dev.cobo.com/v1/custody/coin_info/")
        """
    )
    result = pytester.runpytest("--cobo-transports=requests")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*error 12007*was never called*"])


# -- choosing transports ----------------------------------------------------------------------------


def test_the_marker_chooses_which_libraries_are_intercepted(
    pytester: pytest.Pytester, loopback: LoopbackServer
) -> None:
    pytester.makepyfile(
        f"""
        import pytest
        import requests

        URL = "{loopback.url}/plain"

        @pytest.mark.cobo_transports("httpx")
        def test_requests_not_intercepted(cobo_fault):
            assert requests.get(URL, timeout=5).text == "hello from loopback"

        @pytest.mark.cobo_transports("requests")
        def test_requests_intercepted(cobo_fault):
            requests.get(URL, timeout=5)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*UnmatchedRequestError: cobo_fault: no rule answers GET */plain (via requests).*"])
    assert loopback.paths == ["/plain"]  # only the test without the requests transport reached the server


@pytest.mark.parametrize(
    ("args", "ini", "shown"),
    [
        ((), "", "httpx+requests"),  # "auto": every installed transport
        (("--cobo-transports=requests",), "", "requests"),
        ((), "cobo_transports = httpx", "httpx"),
        (("--cobo-transports=httpx,requests",), "cobo_transports = httpx", "httpx+requests"),
    ],
)
def test_the_option_and_its_ini_twin_choose_the_default_transports(
    pytester: pytest.Pytester, args: tuple[str, ...], ini: str, shown: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(*args)
    result.stdout.fnmatch_lines([f"cobo-errors: transports {shown}*"])


# -- the extra missing ------------------------------------------------------------------------------


@pytest.fixture
def without_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``requests`` look uninstalled, the way the transport registry checks for it."""
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name == "requests" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    transports._installed.cache_clear()  # the registry remembers what is installed
    yield
    transports._installed.cache_clear()


@pytest.mark.usefixtures("without_requests")
def test_without_the_extra_auto_means_httpx_and_asking_for_requests_says_what_to_install() -> None:
    assert parse_transports("auto") == ("httpx",)
    with pytest.raises(ValueError, match=r"pip install 'pytest-cobo-errors\[requests\]'"):
        parse_transports("httpx,requests")


@pytest.mark.usefixtures("without_requests")
def test_without_the_extra_the_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--cobo-transports=requests")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "ERROR: --cobo-transports / cobo_transports: the requests transport needs the 'requests' library: "
        "pip install 'pytest-cobo-errors[requests]'"
    ) in result.stderr.lines


@pytest.mark.usefixtures("without_requests")
def test_without_the_extra_the_marker_fails_the_test_saying_what_to_install(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cobo_transports("requests")
        def test_wants_requests(cobo_fault):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert (
        "@pytest.mark.cobo_transports: the requests transport needs the 'requests' library: "
        "pip install 'pytest-cobo-errors[requests]'"
    ) in result.stdout.lines
    result.stdout.no_fnmatch_line("*Traceback*")


# -- letting loopback traffic through ----------------------------------------------------------------


@requests_only
def test_allow_host_lets_a_requests_call_reach_a_real_loopback_server(
    cobo_fault: CoboFaults, loopback: LoopbackServer
) -> None:
    cobo_fault.inject(12007)
    cobo_fault.allow_host("127.0.0.1")
    assert requests.get(loopback.url + "/health", timeout=5).text == "hello from loopback"
    assert requests.get(DEV + COIN_INFO).json()["error_code"] == 12007  # Cobo hosts still answered by rules
    assert loopback.paths == ["/health"]
    assert len(cobo_fault.calls) == 1  # the passed-through request is no rule's call


@requests_only
def test_a_rule_for_an_allowed_host_still_answers_before_pass_through(
    cobo_fault: CoboFaults, loopback: LoopbackServer
) -> None:
    cobo_fault.allow_host("127.0.0.1")
    cobo_fault.inject(1010, base_url=loopback.url, path="/limited")
    assert requests.get(loopback.url + "/limited", timeout=5).status_code == 429
    assert requests.get(loopback.url + "/other", timeout=5).status_code == 200
    assert loopback.paths == ["/other"]


# -- retries: the same exception as requests raises over a real socket ----------------------------


def _silent_port() -> tuple[socket.socket, int]:
    """A loopback listener that accepts and never answers: a read timeout, for real."""
    server = socket.create_server(("127.0.0.1", 0), backlog=16)
    return server, server.getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe is closed


RETRIES = {"no retries (requests' default)": None, "Retry(total=2)": Retry(total=2, backoff_factor=0)}


@pytest.mark.parametrize("retry", RETRIES.values(), ids=RETRIES.keys())
@pytest.mark.parametrize("kind", ["read_timeout", "connect_error"])
@requests_only
def test_retrying_adapters_raise_what_requests_raises_over_a_real_socket(
    cobo_fault: CoboFaults, kind: str, retry: Retry | None
) -> None:
    def session() -> requests.Session:
        client = requests.Session()
        client.trust_env = False
        if retry is not None:
            client.mount("http://", HTTPAdapter(max_retries=retry))
            client.mount("https://", HTTPAdapter(max_retries=retry))
        return client

    listener, port = _silent_port() if kind == "read_timeout" else (None, _closed_port())
    cobo_fault.allow_host("127.0.0.1")
    try:
        with pytest.raises(requests.RequestException) as real, session() as client:
            client.get(f"http://127.0.0.1:{port}/", timeout=0.2)
    finally:
        if listener is not None:
            listener.close()
    rule = cobo_fault.network(kind, path=COIN_INFO)
    with pytest.raises(requests.RequestException) as injected, session() as client:
        client.get(DEV + COIN_INFO, timeout=0.2)
    assert type(injected.value) is type(real.value)
    assert rule.call_count == (3 if retry is not None else 1)  # each attempt asked the rules again


@pytest.mark.parametrize("kind", ["function", "functools.wraps"])
def test_a_patch_of_httpadapter_send_answers_what_the_rules_leave_to_others(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Another tool's patch of ``HTTPAdapter.send`` is told from requests' own by its code, which
    ``functools.wraps`` does not copy (it copies the name and module): it answers other hosts."""
    import functools

    real = HTTPAdapter.send

    def theirs(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.url == "https://prices.example/btc":
            response = requests.Response()
            response.status_code, response._content = 200, b"theirs"
            return response
        return real(adapter, request, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", functools.wraps(real)(theirs) if kind == "functools.wraps" else theirs)
    with CoboFaults(transports="requests") as faults:
        faults.inject(12007, path=COIN_INFO)
        with requests.Session() as session:
            session.trust_env = False
            assert session.get(DEV + COIN_INFO).json()["error_code"] == 12007
            assert session.get("https://prices.example/btc").content == b"theirs"
