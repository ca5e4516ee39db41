"""Concurrency: requests racing against one declared sequence consume exactly the declared outcomes.

Clients retry in parallel: an async client gathers hundreds of calls, a worker pool shares one
set of faults. Every outcome in a sequence must be given exactly once, whatever the
interleaving: none lost, none given twice, and the first request beyond it fails clearly.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest
import respx

from pytest_cobo_errors import CoboFaultError, SequenceExhaustedError, error, success
from pytest_cobo_errors.faults import CoboFaults
from pytest_cobo_errors.outcomes import Outcome
from pytest_cobo_errors.transports import available

URL = "https://api.dev.cobo.com/v1/custody/coin_info/"


def _numbered_outcomes(n: int) -> list[Outcome]:
    """n distinct outcomes, each telling which it is: successes and errors alternate."""
    return [
        success({"n": i}) if i % 2 == 0 else error(1010 if i % 4 == 1 else 12007, message=f"n={i}") for i in range(n)
    ]


def _which(response: httpx.Response) -> int:
    body = response.json()
    if body["success"]:
        return int(body["result"]["n"])
    assert response.status_code == {1010: 429, 12007: 400}[body["error_code"]]
    return int(body["error_message"].removeprefix("n="))


async def _gather(n: int) -> list[httpx.Response | BaseException]:
    async with httpx.AsyncClient(trust_env=False) as client:
        results = await asyncio.gather(*(client.get(URL, params={"i": i}) for i in range(n)), return_exceptions=True)
    return list(results)


@pytest.mark.cobo_transports("httpx")
def test_200_concurrent_async_requests_take_200_declared_outcomes_exactly_once(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.sequence(_numbered_outcomes(200))
    results = asyncio.run(_gather(200))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    served = Counter(_which(r) for r in results if isinstance(r, httpx.Response))
    assert served == Counter(range(200))
    assert rule.call_count == 200
    assert len(cobo_fault.calls) == 200
    with pytest.raises(SequenceExhaustedError):
        httpx.get(URL)
    cobo_fault.reset()


@pytest.mark.cobo_transports("httpx")
def test_async_requests_beyond_the_sequence_fail_and_take_nothing(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.sequence(_numbered_outcomes(150))
    results = asyncio.run(_gather(200))
    answered = [r for r in results if isinstance(r, httpx.Response)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert Counter(_which(r) for r in answered) == Counter(range(150))
    assert len(refused) == 50
    assert all(isinstance(r, SequenceExhaustedError) for r in refused)
    assert rule.call_count == 150
    cobo_fault.reset()  # the 50 refused requests were the point


@pytest.fixture
def eager_switching() -> Iterator[None]:
    """Switch threads every few microseconds, so an unguarded read-then-write would be caught."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _hammer(client: httpx.Client, barrier: threading.Barrier, count: int) -> list[int | BaseException]:
    barrier.wait()
    seen: list[int | BaseException] = []
    for _ in range(count):
        try:
            seen.append(_which(client.get(URL)))
        except CoboFaultError as exc:
            seen.append(exc)
    return seen


def _threads(threads: int, each: int) -> list[int | BaseException]:
    barrier = threading.Barrier(threads)
    with httpx.Client(trust_env=False) as client, ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(_hammer, client, barrier, each) for _ in range(threads)]
        return [item for future in futures for item in future.result(timeout=30)]


@pytest.mark.cobo_transports("httpx")
@pytest.mark.usefixtures("eager_switching")
def test_8_threads_of_50_sync_requests_take_400_declared_outcomes_exactly_once(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.sequence(_numbered_outcomes(400))
    seen = _threads(8, 50)
    assert [s for s in seen if isinstance(s, BaseException)] == []
    assert Counter(seen) == Counter(range(400))
    assert rule.call_count == 400
    assert len(cobo_fault.calls) == 400
    with pytest.raises(SequenceExhaustedError):
        httpx.get(URL)
    cobo_fault.reset()


@pytest.mark.cobo_transports("httpx")
@pytest.mark.usefixtures("eager_switching")
def test_threads_racing_past_a_limited_rule_get_exactly_its_count(cobo_fault: CoboFaults) -> None:
    limited = cobo_fault.inject(1010, message="n=0", times=123)
    seen = _threads(8, 50)
    refused = [s for s in seen if isinstance(s, BaseException)]
    assert len(refused) == 400 - 123
    assert limited.call_count == 123
    cobo_fault.reset()


@pytest.mark.cobo_transports("httpx")
@pytest.mark.usefixtures("eager_switching")
def test_threads_racing_on_fail_then_succeed_see_each_failure_and_one_success(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.fail_then_succeed(12007, times=37, result={"n": 0})
    outcomes: Counter[str] = Counter()
    with httpx.Client(trust_env=False) as client:

        def one() -> str:
            try:
                body = client.get(URL).json()
            except SequenceExhaustedError:
                return "refused"
            return "success" if body["success"] else str(body["error_code"])

        with ThreadPoolExecutor(8) as pool:
            outcomes.update(pool.map(lambda _: one(), range(100)))
    assert outcomes == Counter({"12007": 37, "success": 1, "refused": 62})
    assert rule.call_count == 38
    cobo_fault.reset()


@pytest.mark.skipif("requests" not in available(), reason="the requests transport is not available")
@pytest.mark.cobo_transports("httpx", "requests")
@pytest.mark.usefixtures("eager_switching")
def test_threads_on_two_libraries_share_one_sequence(cobo_fault: CoboFaults) -> None:
    import requests

    rule = cobo_fault.sequence(_numbered_outcomes(200))
    barrier = threading.Barrier(4)

    def via_requests() -> list[int]:
        barrier.wait()
        with requests.Session() as session:
            session.trust_env = False
            return [_which(session.get(URL)) for _ in range(50)]  # type: ignore[arg-type]

    def via_httpx() -> list[int]:
        barrier.wait()
        with httpx.Client(trust_env=False) as client:
            return [_which(client.get(URL)) for _ in range(50)]

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(f) for f in (via_requests, via_httpx, via_requests, via_httpx)]
        seen = [n for future in futures for n in future.result(timeout=30)]
    assert Counter(seen) == Counter(range(200))
    assert Counter(call.request.transport for call in rule.calls) == {"httpx": 100, "requests": 100}


# -- pytest-xdist: tests spread over worker processes ----------------------------------------
XDIST_SUITE = """
import httpx
import pytest
import respx
from pytest_cobo_errors import cobo_error_cases

URL = "https://api.dev.cobo.com/v1/custody/coin_info/"


@cobo_error_cases(family="12")
def test_each_12xxx_code(cobo_fault, cobo_error):
    cobo_fault.inject(cobo_error)
    assert httpx.get(URL).json()["error_code"] == cobo_error.code


@pytest.mark.parametrize("n", range(10))
def test_a_fresh_fixture_in_every_test(cobo_fault, n):
    assert cobo_fault.calls == [] and cobo_fault.book.rules == []
    cobo_fault.sequence([1010] * n + [12007])
    for _ in range(n + 1):
        httpx.get(URL)
    assert len(cobo_fault.calls) == n + 1
"""


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed")
def test_a_suite_runs_under_xdist_with_two_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_spread=XDIST_SUITE)
    result = pytester.runpytest("-n", "2", "-p", "no:randomly", "--cobo-transports=httpx", "--cobo-coverage")
    result.assert_outcomes(passed=33)
    result.stdout.fnmatch_lines(["*cobo error coverage*", "error codes   24/41 exercised (1xxx: 1/18, 12xxx: 23/23)"])


OTHER = "https://partner.example.org/v1/price"


def test_a_request_let_through_past_their_routers_changes_nothing_another_thread_meets() -> None:
    """A host the test allowed goes past the user's respx routers for that request alone: a request
    another thread sends meanwhile meets every router of theirs, in order, as it would anyway."""
    from loopback import Listener

    release, allowed_done = threading.Event(), threading.Event()
    listener = Listener(gate=release)  # holds the allowed request in flight until released

    def first_declines(request: httpx.Request) -> None:
        release.set()  # the allowed request ends while this request is between their routers
        assert allowed_done.wait(5)
        # returning nothing: this router does not answer, and respx asks the next

    first, second = respx.mock(assert_all_called=False), respx.mock(assert_all_called=False)
    first.route(host="partner.example.org").mock(side_effect=first_declines)
    route = second.get(OTHER).respond(200, content=b"theirs")
    results: dict[str, bytes] = {}

    def allowed() -> None:
        with httpx.Client(trust_env=False) as client:
            results["allowed"] = client.get(listener.url + "/slow").content
        allowed_done.set()

    try:
        with first, second, CoboFaults(transports="httpx") as faults:
            faults.allow_host("127.0.0.1")
            sender = threading.Thread(target=allowed)
            sender.start()
            while listener.accepted == 0 and sender.is_alive():
                allowed_done.wait(0.01)
            with httpx.Client(trust_env=False) as client:
                results["theirs"] = client.get(OTHER).content
            sender.join(5)
            assert route.call_count == 1  # respx forgets its calls when its block ends
    finally:
        listener.close()
    assert results == {"allowed": b"escaped", "theirs": b"theirs"}


def test_their_router_stopped_while_a_request_is_let_through_leaves_httpcore_unpatched() -> None:
    import httpcore
    from loopback import Listener

    real = httpcore.ConnectionPool.handle_request
    release = threading.Event()
    listener = Listener(gate=release)
    theirs = respx.mock(assert_all_called=False)
    theirs.get(OTHER).respond(200)
    try:
        with CoboFaults(transports="httpx") as faults:
            faults.allow_host("127.0.0.1")
            theirs.start()

            def let_through() -> None:
                with httpx.Client(trust_env=False) as client:
                    client.get(listener.url + "/slow")

            sender = threading.Thread(target=let_through)
            sender.start()
            while listener.accepted == 0 and sender.is_alive():
                threading.Event().wait(0.01)
            theirs.stop()  # the user's respx block ends while the allowed request is in flight
            release.set()
            sender.join(5)
    finally:
        listener.close()
    assert httpcore.ConnectionPool.handle_request is real
    assert respx.mocks.HTTPCoreMocker.routers == []
    assert respx.mocks.HTTPCoreMocker._patches == []
