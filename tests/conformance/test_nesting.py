"""Nested fault sets: the innermost is asked first, and what it declines goes to the next one out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_cobo_errors import CoboFaults

from .conftest import COIN_INFO, WITHDRAW, Client

ORG_INFO = "/v1/custody/org_info/"


@pytest.fixture
def shared(client: Client) -> Iterator[CoboFaults]:
    """Stands for a module-scoped ``CoboFaults()`` block: opened before the test's faults."""
    with client.fault_set() as faults:
        faults.inject(12007, path=COIN_INFO, optional=True)
        faults.inject(1010, path=ORG_INFO)
        yield faults


def test_the_fixture_inside_a_shared_block_answers_first(
    client: Client, base: str, shared: CoboFaults, faults: CoboFaults
) -> None:
    faults.inject(12009, path=COIN_INFO)
    assert client.get(base + COIN_INFO).json()["error_code"] == 12009
    assert client.get(base + ORG_INFO).json()["error_code"] == 1010
    assert [c.outcome.code for c in faults.calls] == [12009]
    assert [c.outcome.code for c in shared.calls] == [1010]


def test_two_nested_blocks_ask_the_inner_first(client: Client, base: str) -> None:
    with client.fault_set() as outer:
        outer.inject(12007, path=COIN_INFO, optional=True)
        outer.inject(1010, path=ORG_INFO)
        with client.fault_set() as inner:
            inner.inject(12009, path=COIN_INFO)
            assert client.get(base + COIN_INFO).json()["error_code"] == 12009
            assert client.get(base + ORG_INFO).json()["error_code"] == 1010
        # the inner block has ended: the outer set answers alone again
        assert client.get(base + COIN_INFO).json()["error_code"] == 12007


def test_a_request_neither_set_answers_lists_both_sets_rules(client: Client, base: str) -> None:
    with client.fault_set(label="an outer block") as outer:
        outer.inject(1010, path=ORG_INFO, optional=True)
        inner = client.fault_set(label="test inner")
        inner.inject(12009, method="POST", path=WITHDRAW, optional=True)
        inner.start()
        try:
            refusal = client.refusal("GET", base + COIN_INFO)
        finally:
            inner.stop()
    message = refusal.message
    assert message.index("in test inner:") < message.index("-> method GET is not POST")
    assert message.index("in an outer block:") < message.index(f"-> path '{COIN_INFO}' does not match")
    assert len(inner.book.unmatched) == 1  # the innermost set, the test's, owns the failure
    assert outer.book.unmatched == []
