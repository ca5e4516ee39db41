"""A request no rule answers fails with the plugin's message first, is recorded, and never leaves."""

from __future__ import annotations

import pytest

from pytest_cobo_errors import CoboFaults

from .conftest import COIN_INFO, WITHDRAW, Client


def test_an_unmatched_request_is_refused_with_our_message(faults: CoboFaults, client: Client, base: str) -> None:
    faults.inject(12009, method="POST", path=WITHDRAW, optional=True)
    with faults.expect_unmatched() as unmatched:
        refusal = client.refusal("GET", base + COIN_INFO)
    assert refusal.reason == "unmatched"
    assert refusal.message.startswith(
        f"{client.fixture}: no rule answers GET {base}{COIN_INFO} (via {client.transport})."
    )
    assert "-> method GET is not POST" in refusal.message
    assert f"    {client.fixture}.succeed(path='{COIN_INFO}')" in refusal.message  # what to declare, to paste
    assert [request.path for request in unmatched] == [COIN_INFO]


def test_an_unmatched_request_is_recorded_for_teardown(client: Client, base: str) -> None:
    faults = client.fault_set()
    with pytest.raises(AssertionError, match="faults were not used as declared"), faults:
        client.refusal("GET", base + COIN_INFO)
    [problem] = faults.problems()
    assert problem.startswith(f"request answered by no rule: GET {base}{COIN_INFO}: no fault is declared")
