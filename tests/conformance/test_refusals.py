"""A request no rule answers fails with the plugin's message first, is recorded, and never leaves."""

from __future__ import annotations

import pytest

from pytest_cobo_errors import CoboFaults, UnmatchedRequestError

from .conftest import COIN_INFO, DEV, WITHDRAW, Client


def test_an_unmatched_request_fails_with_our_message_and_nothing_chained(
    cobo_fault: CoboFaults, client: Client
) -> None:
    cobo_fault.inject(12009, method="POST", path=WITHDRAW, optional=True)
    with cobo_fault.expect_unmatched() as unmatched, pytest.raises(UnmatchedRequestError) as refused:
        client.get(DEV + COIN_INFO)
    message = str(refused.value)
    assert message.startswith(f"cobo_fault: no rule answers GET {DEV}{COIN_INFO} (via {client.transport}).")
    assert "-> method GET is not POST" in message
    assert "never reaches the network" in message
    # no respx or responses exception shown before ours ("The above exception was the direct cause...")
    assert refused.value.__cause__ is None
    assert refused.value.__context__ is None
    assert [request.path for request in unmatched] == [COIN_INFO]


def test_an_unmatched_request_is_recorded_for_teardown(client: Client) -> None:
    faults = CoboFaults(transports=client.transport)
    faults.start()
    try:
        with pytest.raises(UnmatchedRequestError):
            client.get(DEV + COIN_INFO)
    finally:
        faults.stop()
    assert faults.problems() == [
        f"request answered by no rule: GET {DEV}{COIN_INFO}: no fault is declared",
    ]
