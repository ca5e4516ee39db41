"""Code that outlives its fault set is refused, never answered by the next set's rules."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest

from pytest_cobo_errors import CoboFaultError, CoboFaults
from pytest_cobo_errors.switchboard import SWITCHBOARD

from .conftest import COIN_INFO, DEV, IN_PROCESS, Client, client_fixture

# threads and tasks are attributed to the test that started them only in-process: a server cannot tell
# which test's thread sent a request
client = client_fixture(IN_PROCESS)


def _refused_as_stray(client: Client, error: BaseException | None) -> None:
    assert error is not None, "the late request was answered"
    assert not isinstance(error, CoboFaultError)  # a refused connection, not an assertion in someone else's test
    assert isinstance(error, (client.errors["connect_error"], ConnectionRefusedError))
    assert "outside every test's fault window" in str(error)


@pytest.mark.parametrize("their_mock", [False, True], ids=["next-set-alone", "next-set-beside-their-mock"])
def test_a_thread_that_outlives_its_set_is_refused(client: Client, their_mock: bool) -> None:
    # the next test's own mock of the same URL must not answer it either
    go, done = threading.Event(), threading.Event()
    outcome: dict[str, BaseException] = {}

    def late() -> None:
        go.wait(5)
        try:
            client.get(DEV + COIN_INFO)
        except BaseException as error:  # recorded for the assertions below
            outcome["error"] = error
        done.set()

    with CoboFaults(transports=client.transport, base_urls=[DEV]) as first:
        first.succeed(path=COIN_INFO, optional=True)
        thread = threading.Thread(target=late, daemon=True)
        thread.start()
    theirs = client.user_mock(DEV + COIN_INFO, b"theirs") if their_mock else contextlib.nullcontext()
    with CoboFaults(transports=client.transport) as second, theirs:
        rule = second.succeed(path=COIN_INFO, optional=True)
        go.set()
        assert done.wait(5)
    thread.join(5)
    assert rule.call_count == 0
    _refused_as_stray(client, outcome.get("error"))
    strays = SWITCHBOARD.take_strays()
    assert strays == [
        f"GET {DEV}{COIN_INFO} (via {client.transport}): sent by a thread started in a CoboFaults() block, after it ended"
    ]


def test_an_asyncio_task_that_outlives_its_set_is_refused(client: Client) -> None:
    outcome: dict[str, BaseException] = {}

    async def late(go: asyncio.Event) -> None:
        await go.wait()
        try:
            await asyncio.to_thread(client.get, DEV + COIN_INFO)  # the task's context travels with it
        except BaseException as error:  # recorded for the assertions below
            outcome["error"] = error

    async def two_tests_on_one_loop() -> int:
        go = asyncio.Event()
        with CoboFaults(transports=client.transport) as first:
            first.succeed(path=COIN_INFO, optional=True)
            task = asyncio.create_task(late(go))
        with CoboFaults(transports=client.transport) as second:
            rule = second.succeed(path=COIN_INFO, optional=True)
            go.set()
            await task
        return rule.call_count

    assert asyncio.run(two_tests_on_one_loop()) == 0
    _refused_as_stray(client, outcome.get("error"))
    assert [line.split(": ", 1)[1] for line in SWITCHBOARD.take_strays()] == [
        "sent by code started in a CoboFaults() block, after it ended"
    ]


def test_a_pool_worker_serves_whichever_set_is_active(client: Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        with CoboFaults(transports=client.transport) as first:
            first.inject(12007, path=COIN_INFO)
            assert pool.submit(client.get, DEV + COIN_INFO).result().json()["error_code"] == 12007
        with CoboFaults(transports=client.transport) as second:  # the same worker thread, a new test
            second.inject(12009, path=COIN_INFO)
            assert pool.submit(client.get, DEV + COIN_INFO).result().json()["error_code"] == 12009


@pytest.fixture(autouse=True)
def _no_strays_left() -> None:
    SWITCHBOARD.take_strays()


def test_a_thread_belongs_to_the_window_it_was_started_in_even_when_another_thread_opened_it(
    client: Client,
) -> None:
    started, go, done = threading.Event(), threading.Event(), threading.Event()
    answers: list[int] = []

    def opens_its_own_window() -> None:
        with CoboFaults(transports=client.transport) as mine:
            mine.inject(12009, path=COIN_INFO)

            def worker() -> None:
                go.wait(5)
                answers.append(client.get(DEV + COIN_INFO).json()["error_code"])

            thread = threading.Thread(target=worker)
            thread.start()
            started.set()
            thread.join(5)
        done.set()

    with CoboFaults(transports=client.transport) as other:  # a sibling in the main thread
        other.inject(12007, path=COIN_INFO, optional=True)
        helper = threading.Thread(target=opens_its_own_window)
        helper.start()
        assert started.wait(5)
    go.set()  # the sibling has closed: the worker's window is still open
    assert done.wait(5)
    helper.join(5)
    assert answers == [12009]
    assert SWITCHBOARD.take_strays() == []


def test_nested_windows_closed_out_of_order_leave_no_closed_window_in_charge(client: Client) -> None:
    outer, inner = CoboFaults(transports=client.transport), CoboFaults(transports=client.transport)
    outer.start()
    inner.start()
    outer.stop()
    inner.stop()
    with pytest.raises(BaseException, match="no fault set was active"):  # each library wraps it
        client.get(DEV + COIN_INFO)
    assert [line.split(": ", 1)[1] for line in SWITCHBOARD.take_strays()][-1:] == ["no fault set was active"]
