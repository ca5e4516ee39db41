"""A lost answer: Cobo acted (the rule records the call), then the client never got the answer."""

from __future__ import annotations

import json

import pytest

from pytest_cobo_errors import CoboFaults, lost, success
from pytest_cobo_errors.outcomes import LOST_KINDS, ErrorAnswer, SuccessAnswer
from pytest_cobo_errors.transports import UnsupportedFaultError
from pytest_cobo_errors.transports.contract import NetworkFault, Reply

from .conftest import WITHDRAW, Client

PAID = {"request_id": "r-1", "status": "created"}


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_success_lost_after_the_call_was_recorded(faults: CoboFaults, client: Client, base: str, kind: str) -> None:
    if kind not in client.errors:  # a fault this transport cannot produce is refused when declared
        with pytest.raises(UnsupportedFaultError, match=f"the {client.transport} transport cannot produce a {kind!r}"):
            faults.inject(lost(success(PAID), kind=kind), method="POST", path=WITHDRAW)  # type: ignore[arg-type]
        return
    rule = faults.inject(lost(success(PAID), kind=kind), method="POST", path=WITHDRAW)  # type: ignore[arg-type]
    with pytest.raises(client.errors[kind]):
        client.post(base + WITHDRAW, data={"request_id": "r-1"})
    (call,) = rule.calls  # the transfer exists: the call is recorded with the answer Cobo gave
    assert isinstance(call.outcome, SuccessAnswer)
    assert call.outcome.result == PAID
    assert call.request.form == {"request_id": "r-1"}
    if kind == "truncated_response":
        assert isinstance(call.reply, Reply)
        assert call.reply.drop_after == len(call.reply.body) // 2
        assert json.loads(call.reply.body) == {"success": True, "result": PAID}
    else:
        assert isinstance(call.reply, NetworkFault)
        assert call.reply.kind == kind


def test_a_lost_answer_on_a_waas2_path_is_waas2s_answer(faults: CoboFaults, client: Client, base: str) -> None:
    transfer = "/v2/transactions/transfer"
    rule = faults.inject(lost(success(PAID), kind="truncated_response"), method="POST", path=transfer)
    with pytest.raises(client.errors["truncated_response"]):
        client.post(base + transfer, data={"request_id": "r-1"})
    (call,) = rule.calls
    assert isinstance(call.reply, Reply)
    assert json.loads(call.reply.body) == PAID  # the bare object WaaS 2.0 answers, cut on the way back


def test_a_dropped_answer_is_the_success_body_cut_mid_way(faults: CoboFaults, client: Client, base: str) -> None:
    rule = faults.inject(lost(success(PAID), kind="truncated_response", after=10), path=WITHDRAW)
    status, received, error = client.stream(base + WITHDRAW)
    assert status == 200  # the status and headers arrived, the body did not
    assert isinstance(error, client.errors["truncated_response"])
    sent = rule.calls[0].reply
    assert isinstance(sent, Reply)
    assert sent.drop_after == 10
    assert sent.body.startswith(received)
    assert sent.body[:10] == b'{"success"'


def test_a_retry_after_a_lost_answer_is_answered_and_both_calls_recorded(
    faults: CoboFaults, client: Client, base: str
) -> None:
    kind = "connection_reset" if "connection_reset" in client.errors else "truncated_response"
    rule = faults.sequence([lost(success(PAID), kind=kind), 12009], method="POST", path=WITHDRAW)  # type: ignore[arg-type]
    with pytest.raises(client.errors[kind]):
        client.post(base + WITHDRAW, data={"request_id": "r-1"})
    retried = client.post(base + WITHDRAW, data={"request_id": "r-1"})
    assert (retried.status, retried.json()["error_code"]) == (400, 12009)
    assert [type(call.outcome) for call in rule.calls] == [SuccessAnswer, ErrorAnswer]
    assert faults.served_codes() == [12009]


def test_a_lost_error_counts_its_code(faults: CoboFaults, client: Client, base: str) -> None:
    kind = "no_response" if "no_response" in client.errors else "truncated_response"
    faults.inject(lost(12007, kind=kind), method="POST", path=WITHDRAW)  # type: ignore[arg-type]
    with pytest.raises(client.errors[kind]):
        client.post(base + WITHDRAW, data={"request_id": "r-1"})
    assert faults.served_codes() == [12007]  # Cobo answered 12007; the client never saw it
