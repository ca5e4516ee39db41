"""The user's own mocks (respx routers, responses mocks) and cobo_fault work together in either order."""

from __future__ import annotations

import contextlib

import pytest

from pytest_cobo_errors import UnmatchedRequestError, cobo_faults

from .conftest import COIN_INFO, DEV, ELSEWHERE, Client


@pytest.mark.parametrize("order", ["theirs first", "ours first"])
def test_cobo_hosts_go_to_our_rules_and_other_hosts_to_theirs(client: Client, order: str) -> None:
    with contextlib.ExitStack() as stack:
        mocks = [client.user_mock(ELSEWHERE, b"theirs"), cobo_faults(transports=client.transport)]
        entered = [stack.enter_context(m) for m in (mocks if order == "theirs first" else mocks[::-1])]
        faults = next(e for e in entered if hasattr(e, "inject"))
        rule = faults.inject(12007, path=COIN_INFO)  # type: ignore[attr-defined]
        assert client.get(DEV + COIN_INFO).json()["error_code"] == 12007
        assert client.get(ELSEWHERE).content == b"theirs"
    assert rule.call_count == 1


@pytest.mark.parametrize("order", ["theirs first", "ours first"])
def test_a_request_neither_answers_fails_with_one_message_naming_both(client: Client, order: str) -> None:
    with contextlib.ExitStack() as stack:
        mocks = [client.user_mock(ELSEWHERE, b"theirs"), cobo_faults(transports=client.transport)]
        entered = [stack.enter_context(m) for m in (mocks if order == "theirs first" else mocks[::-1])]
        faults = next(e for e in entered if hasattr(e, "inject"))
        faults.inject(12007, path=COIN_INFO, optional=True)  # type: ignore[attr-defined]
        with faults.expect_unmatched(), pytest.raises(UnmatchedRequestError) as refused:  # type: ignore[attr-defined]
            client.get("https://partner.example.org/v1/unmocked")
    message = str(refused.value)
    assert message.startswith("cobo_fault: no rule answers GET https://partner.example.org/v1/unmocked")
    assert f"Your own {client.transport} mock did not answer it either" in message
    assert refused.value.__context__ is None
