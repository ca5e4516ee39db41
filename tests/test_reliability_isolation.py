"""Isolation: rules and call records never survive into the next test, whatever way a test ends.

A suite is generated from scenarios that each end differently (passing, failing, an error in
setup or teardown, an exception inside `CoboFaults()` or `example()`, a spent sequence), and
run in several orders, shuffled with fixed seeds. Every scenario first proves it starts clean:
no rules, no calls, and a request every earlier rule would have answered is answered by none.
Tests that do not use the plugin prove interception is off, by reaching a loopback server.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import random
import threading
from collections.abc import Iterator

import httpx
import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest

from pytest_cobo_errors import CoboFaults, UnmatchedRequestError
from pytest_cobo_errors import faults as faults_module
from pytest_cobo_errors import switchboard as switchboard_module

PRELUDE = """
import asyncio
import http.server
import threading

import httpx
import pytest

from pytest_cobo_errors import SequenceExhaustedError, UnmatchedRequestError, CoboFaults

SHARED = "https://api.dev.cobo.com/v1/custody/coin_info/"  # every rule below answers it: a leftover would
CLIENT = httpx.Client(trust_env=False)  # one client: building one per request costs more than the test


def assert_clean(faults):
    assert faults.book.rules == [] and faults.calls == [] and faults.book.unmatched == []
    with pytest.raises(UnmatchedRequestError, match="No fault is declared"):
        CLIENT.get(SHARED)
    faults.reset()  # forget the probe


def assert_not_intercepted(loopback):
    assert CLIENT.get(loopback).text == "ok"
    try:
        import requests
    except ImportError:
        return
    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment must not stand in for the loopback server
        assert session.get(loopback, timeout=5).text == "ok"
"""

CONFTEST = """
import http.server
import threading

import httpx
import pytest


class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def loopback():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def broken_setup(cobo_fault):
    cobo_fault.inject(12007)
    with httpx.Client() as client:
        client.get("https://api.dev.cobo.com/v1/custody/coin_info/")
    raise RuntimeError("setup fails after using the faults")


@pytest.fixture
def broken_teardown(cobo_fault):
    cobo_fault.inject(1010)
    yield
    raise RuntimeError("teardown fails")
"""

# name -> (source with {i} for a unique suffix, outcomes it adds: passed, failed, errors)
SCENARIOS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "passes": (
        """
def test_passes_{i}(cobo_fault):
    assert_clean(cobo_fault)
    cobo_fault.inject(12007, path="/v1/custody/coin_info/")
    assert CLIENT.get(SHARED).json()["error_code"] == 12007
""",
        (1, 0, 0),
    ),
    "leaves_outcomes_unused": (
        """
def test_leaves_outcomes_unused_{i}(cobo_fault):
    assert_clean(cobo_fault)
    cobo_fault.sequence([1010, 12007, 1000])
    cobo_fault.succeed(optional=True)
    assert CLIENT.get(SHARED).status_code == 429
""",
        (1, 0, 0),
    ),
    "fails": (
        """
def test_fails_{i}(cobo_fault):
    assert_clean(cobo_fault)
    cobo_fault.inject(1000, times=5)
    cobo_fault.inject(12009)
    CLIENT.get(SHARED)
    assert False, "the test itself fails"
""",
        (0, 1, 0),
    ),
    "unused_rule": (
        """
def test_unused_rule_{i}(cobo_fault):
    assert_clean(cobo_fault)
    cobo_fault.inject(12009)
""",
        (1, 0, 1),
    ),
    "setup_error": (
        """
def test_setup_error_{i}(broken_setup, cobo_fault):
    raise AssertionError("never runs")
""",
        (0, 0, 1),
    ),
    "teardown_error": (
        """
def test_teardown_error_{i}(broken_teardown, cobo_fault):
    assert CLIENT.get(SHARED).status_code == 429
""",
        (1, 0, 1),
    ),
    "sequence_spent": (
        """
def test_sequence_spent_{i}(cobo_fault):
    assert_clean(cobo_fault)
    cobo_fault.sequence([1010])
    CLIENT.get(SHARED)
    CLIENT.get(SHARED)
""",
        (0, 1, 0),
    ),
    "context_manager_raises": (
        """
def test_context_manager_raises_{i}(loopback):
    with pytest.raises(ZeroDivisionError):
        with CoboFaults() as faults:
            faults.inject(1000)
            CLIENT.get(SHARED)
            1 / 0
    assert_not_intercepted(loopback)
""",
        (1, 0, 0),
    ),
    "context_manager_unused": (
        """
def test_context_manager_unused_{i}(loopback):
    try:
        with CoboFaults() as faults:
            faults.inject(12007)
    finally:
        assert_not_intercepted(loopback)
""",
        (0, 1, 0),
    ),
    "example_raises": (
        """
def test_example_raises_{i}(cobo_fault):
    assert_clean(cobo_fault)
    with pytest.raises(KeyError):
        with cobo_fault.example():
            cobo_fault.inject(12007)
            CLIENT.get(SHARED)
            raise KeyError("inside the example")
    assert_clean(cobo_fault)
""",
        (1, 0, 0),
    ),
    "no_plugin": (
        """
def test_no_plugin_{i}(loopback):
    assert_not_intercepted(loopback)
""",
        (1, 0, 0),
    ),
    "async_client": (
        """
def test_async_client_{i}(cobo_fault):
    assert_clean(cobo_fault)
    cobo_fault.inject(1010, times=3)

    async def go():
        async with httpx.AsyncClient() as client:
            return await asyncio.gather(*(client.get(SHARED) for _ in range(3)))

    assert [r.status_code for r in asyncio.run(go())] == [429, 429, 429]
""",
        (1, 0, 0),
    ),
}


def _suite(seed: int, copies: int = 2) -> tuple[dict[str, str], tuple[int, int, int]]:
    """Two test modules holding *copies* of every scenario, in an order shuffled by *seed*."""
    chosen = [name for name in SCENARIOS for _ in range(copies)]
    random.Random(seed).shuffle(chosen)
    bodies = [SCENARIOS[name][0].format(i=n) for n, name in enumerate(chosen)]
    half = len(bodies) // 2
    first, second = ("test_b_first", "test_a_second") if seed % 2 else ("test_a_first", "test_b_second")
    files = {first: PRELUDE + "".join(bodies[:half]), second: PRELUDE + "".join(bodies[half:])}
    totals = tuple(sum(SCENARIOS[name][1][k] for name in chosen) for k in range(3))
    return files, (totals[0], totals[1], totals[2])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_no_rule_or_call_survives_into_the_next_test_in_any_order(pytester: pytest.Pytester, seed: int) -> None:
    files, (passed, failed, errors) = _suite(seed)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(**files)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", "--tb=short")
    result.assert_outcomes(passed=passed, failed=failed, errors=errors)
    # every failure is the one the scenario meant, never a leftover rule answering a later test
    output = result.stdout.str()
    assert "AssertionError: the test itself fails" in output
    assert output.count("DID NOT RAISE") == 0
    assert "INTERNALERROR" not in output


def test_the_shuffles_really_differ() -> None:
    orders = {tuple(_suite(seed)[0].values()) for seed in range(4)}
    assert len(orders) == 4


# -- the same guarantees, in this process ---------------------------------------------------
class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def loopback() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


SHARED = "https://api.dev.cobo.com/v1/custody/coin_info/"
_CLIENT = httpx.Client(trust_env=False)


def test_consecutive_blocks_share_nothing(loopback: str) -> None:
    with CoboFaults(transports="httpx") as first:
        first.inject(12007)
        assert _CLIENT.get(SHARED).status_code == 400
    with CoboFaults(transports="httpx") as second:
        assert second.book.rules == []
        assert second.calls == []
        with pytest.raises(UnmatchedRequestError, match="No fault is declared"):
            _CLIENT.get(SHARED)
        second.reset()
    assert len(first.calls) == 1  # the first block's record is still readable, and unchanged
    assert _CLIENT.get(loopback).text == "ok"


def test_a_transport_that_fails_to_start_leaves_nothing_patched(loopback: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_load = switchboard_module.load

    def load_then_fail(name: str) -> object:
        if name == "requests":
            raise ImportError("the second transport cannot start")
        return real_load(name)

    monkeypatch.setattr(switchboard_module, "load", load_then_fail)
    faults = faults_module.CoboFaults(transports="httpx")
    faults.transport_names = ("httpx", "requests")
    with pytest.raises(ImportError, match="second transport"):
        faults.start()
    monkeypatch.undo()
    faults.transport_names = ("httpx",)
    assert _CLIENT.get(loopback).text == "ok"  # the first, started transport was stopped again
    faults.start()  # and the faults can start cleanly afterwards
    try:
        faults.inject(1010)
        assert _CLIENT.get(SHARED).status_code == 429
    finally:
        faults.stop()
    assert _CLIENT.get(loopback).text == "ok"


def test_stop_is_idempotent_and_start_twice_is_refused(loopback: str) -> None:
    faults = faults_module.CoboFaults(transports="httpx")
    faults.start()
    with pytest.raises(RuntimeError, match="already active"):
        faults.start()
    faults.stop()
    faults.stop()
    assert _CLIENT.get(loopback).text == "ok"


# -- sharing httpx with respx in the same test ------------------------------------------------
RESPX_ALONGSIDE = """
import httpx
import pytest

CLIENT = httpx.Client()


@pytest.fixture(params=["cobo_fault first", "respx_mock first"])
def both(request):
    names = ["cobo_fault", "respx_mock"]
    if request.param == "respx_mock first":
        names.reverse()
    values = {name: request.getfixturevalue(name) for name in names}
    return values["cobo_fault"], values["respx_mock"]


def test_each_mock_answers_its_own_host(both):
    cobo_fault, respx_mock = both
    respx_mock.get("https://prices.example/btc").respond(200, json={"usd": 1})
    cobo_fault.inject(12007)
    assert CLIENT.get("https://api.dev.cobo.com/v1/custody/coin_info/").status_code == 400
    assert CLIENT.get("https://prices.example/btc").json() == {"usd": 1}
"""


def test_cobo_fault_and_respx_mock_share_a_test_in_either_fixture_order(pytester: pytest.Pytester) -> None:
    """A test may mock a price feed with respx while cobo_fault answers Cobo; fixture order must not matter."""
    pytester.makepyfile(RESPX_ALONGSIDE)
    result = pytester.runpytest("-p", "no:randomly", "--cobo-transports=httpx")
    result.assert_outcomes(passed=2)


def test_a_patch_of_httpcore_made_between_sets_is_called_through_and_then_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another tool's patch of httpcore, under the httpx transport, made after an earlier set is
    what a let-through request reaches, and what is there again once the set stops."""
    import httpcore

    real = httpcore.ConnectionPool.handle_request
    with CoboFaults(transports="httpx") as earlier:
        earlier.inject(1000, optional=True)

    def theirs(self: object, request: object) -> object:
        raise httpcore.ConnectError("their pool")

    monkeypatch.setattr(httpcore.ConnectionPool, "handle_request", theirs)
    with CoboFaults(transports="httpx") as faults:
        faults.allow_host("127.0.0.1")
        with pytest.raises(httpx.ConnectError, match="their pool"):
            httpx.get("http://127.0.0.1:9/")
    assert httpcore.ConnectionPool.handle_request is theirs
    monkeypatch.undo()
    with CoboFaults(transports="httpx") as later:
        later.inject(1000, optional=True)
    assert httpcore.ConnectionPool.handle_request is real


def test_a_patch_of_httpx_made_over_ours_and_undone_after_the_set_leaves_httpx_working(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Starts and stops that do not nest (a set stopped while another tool's patch sits on top of
    ours) leave that tool's patch in place, and ours, which it restores, answers nothing: requests
    go through as if unpatched until the next set, which leaves httpx as it found it."""
    from loopback import Listener

    real = httpx.HTTPTransport.handle_request
    with CoboFaults(transports="httpx") as faults:
        faults.inject(1000, optional=True)
        ours = httpx.HTTPTransport.handle_request

        def theirs(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
            return ours(self, request)

        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", theirs)
    assert httpx.HTTPTransport.handle_request is theirs
    monkeypatch.undo()
    assert httpx.HTTPTransport.handle_request is ours
    listener = Listener()
    try:
        assert httpx.get(listener.url, trust_env=False).content == b"escaped"
    finally:
        listener.close()
    with CoboFaults(transports="httpx") as later:
        later.inject(1000)
        assert httpx.get("https://api.dev.cobo.com/v1/custody/coin_info/", trust_env=False).json()["error_code"] == 1000
    assert httpx.HTTPTransport.handle_request is real


def _their_patches(kind: str, stack: contextlib.ExitStack) -> tuple[object, object]:
    """Patch httpx's sync and async transports the way another tool would (*kind*): each answers
    prices.example and hands anything else to httpx's own method. Returns what is in place."""
    from unittest import mock

    real, real_async = httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request

    def theirs(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host == "prices.example":
            return httpx.Response(200, json={"usd": 1})
        return real(transport, request)

    async def theirs_async(transport: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host == "prices.example":
            return httpx.Response(200, json={"usd": 1})
        return await real_async(transport, request)

    if kind == "function":
        patches = [mock.patch.object(httpx.HTTPTransport, "handle_request", theirs),
                   mock.patch.object(httpx.AsyncHTTPTransport, "handle_async_request", theirs_async)]  # fmt: skip
    elif kind == "functools.wraps":  # copies httpx's __module__ and __qualname__, not its code
        patches = [
            mock.patch.object(httpx.HTTPTransport, "handle_request", functools.wraps(real)(theirs)),
            mock.patch.object(
                httpx.AsyncHTTPTransport, "handle_async_request", functools.wraps(real_async)(theirs_async)
            ),
        ]
    elif kind == "Mock":  # not a descriptor: httpx calls it with the request alone
        transports: list[httpx.HTTPTransport] = []  # the Mock is not given the transport

        def answer(request: httpx.Request) -> httpx.Response:
            return theirs(transports[-1], request)

        async def answer_async(request: httpx.Request) -> httpx.Response:
            return await theirs_async(httpx.AsyncHTTPTransport(), request)

        transports.append(httpx.HTTPTransport())
        patches = [mock.patch.object(httpx.HTTPTransport, "handle_request", side_effect=answer),
                   mock.patch.object(httpx.AsyncHTTPTransport, "handle_async_request", side_effect=answer_async)]  # fmt: skip
    else:  # autospec: bound like a method, with no __module__ of its own
        patches = [
            mock.patch.object(httpx.HTTPTransport, "handle_request", autospec=True, side_effect=theirs),
            mock.patch.object(
                httpx.AsyncHTTPTransport, "handle_async_request", autospec=True, side_effect=theirs_async
            ),
        ]
    for patch in patches:
        stack.enter_context(patch)
    return httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request


@pytest.mark.parametrize("kind", ["function", "functools.wraps", "Mock", "autospec"])
def test_a_patch_of_httpx_made_before_a_set_answers_what_the_rules_leave_to_others(kind: str) -> None:
    """Another tool that patches httpx's transports itself, started first (pytest-httpx's
    ``httpx_mock`` requested before ``cobo_fault``, a ``mock.patch``), answers the hosts that are
    not Cobo's, sync and async, called as httpx would call it, and is what httpx has again once
    the set ends."""
    import asyncio

    async def both_async() -> tuple[int, object]:
        async with httpx.AsyncClient(trust_env=False) as client:
            cobo = await client.get("https://api.dev.cobo.com/v1/custody/coin_info/")
            return cobo.json()["error_code"], (await client.get("https://prices.example/btc")).json()

    with contextlib.ExitStack() as stack:
        theirs, theirs_async = _their_patches(kind, stack)
        with CoboFaults(transports="httpx") as faults:
            faults.inject(12007)
            with httpx.Client(trust_env=False) as client:
                assert client.get("https://api.dev.cobo.com/v1/custody/coin_info/").json()["error_code"] == 12007
                assert client.get("https://prices.example/btc").json() == {"usd": 1}
            assert asyncio.run(both_async()) == (12007, {"usd": 1})
        assert httpx.HTTPTransport.handle_request is theirs
        assert httpx.AsyncHTTPTransport.handle_async_request is theirs_async
