"""The fault matrix of Cobo's calls to your server, and realistic bodies for each kind of call.

Cobo sends four kinds of signed POSTs: v1 transaction notifications and withdrawal confirmations
(secp256k1), v2 webhook events and callback messages (Ed25519; a callback message is an approval
request: Cobo POSTs the ``Transaction`` itself and reads ``ok`` or ``deny``). Each `CallbackCase`
is one kind with one fault and the verdict Cobo's contract requires of the handler;
`callback_cases` lists the applicable ones and `cobo_callback_cases` parametrizes a test over them.

Not every fault applies to every kind. ``out_of_order`` needs a sequence of events for one
transaction: v1 transaction notifications (``pending`` then ``success``) and v2 webhooks have one,
an approval request (v1 withdrawal confirmation, v2 callback message) is a single question.
The payload faults apply to webhooks only: an event's ``type`` and its ``data.data_type`` say how
to read ``data``. A callback message is a bare ``Transaction`` and a v1 body is of one fixed shape
(``side`` and ``type`` are plain fields), so neither carries such a discriminator.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import pytest

from pytest_cobo_errors.catalog import shown

__all__ = [
    "EVENT_TYPES",
    "FAULTS",
    "KINDS",
    "SAMPLE_EVENT_TYPES",
    "VERDICTS",
    "CallbackCase",
    "Kind",
    "Verdict",
    "callback_cases",
    "cobo_callback_cases",
    "sample_payload",
]

Kind = Literal["v1_transaction", "v1_withdraw_confirm", "v2_webhook", "v2_callback"]
KINDS: tuple[str, ...] = get_args(Kind)
Verdict = Literal["accept", "refuse", "once", "acknowledge"]
VERDICTS: tuple[str, ...] = get_args(Verdict)

FAULTS: tuple[str, ...] = (
    # header spelling
    "valid",
    "hyphen_only",
    "underscore_only",
    "no_signature",
    # signature faults
    "wrong_key",
    "non_hex",
    "body_changed",
    "re_serialised",
    "stale",
    "raw_bytes",
    # delivery faults
    "duplicate",
    "redelivery",
    "out_of_order",
    # payload faults
    "missing_data_type",
    "unknown_data_type",
    "unknown_event_type",
)

_VERDICT: dict[str, Verdict] = {
    "valid": "accept",
    "hyphen_only": "accept",
    "underscore_only": "accept",
    "no_signature": "refuse",
    "wrong_key": "refuse",
    "non_hex": "refuse",
    "body_changed": "refuse",
    "re_serialised": "refuse",
    "stale": "refuse",
    "raw_bytes": "accept",
    "duplicate": "once",
    "redelivery": "once",
    "out_of_order": "accept",
    "missing_data_type": "acknowledge",
    "unknown_data_type": "acknowledge",
    "unknown_event_type": "acknowledge",
}

_APPLIES: dict[str, frozenset[str]] = {
    "out_of_order": frozenset({"v1_transaction", "v2_webhook"}),
    "missing_data_type": frozenset({"v2_webhook"}),
    "unknown_data_type": frozenset({"v2_webhook"}),
    "unknown_event_type": frozenset({"v2_webhook"}),
}

ANSWERS: dict[str, str] = {
    "v1_transaction": "HTTP 200 with the body 'ok'",
    "v1_withdraw_confirm": "HTTP 200 with 'ok' (approve) or 'deny' (reject)",
    "v2_webhook": "200 or 201 within 2 seconds",
    "v2_callback": "200 or 201 with plain text 'ok' or 'deny'",
}
"""The answer Cobo takes as delivered, per kind."""

NOUNS: dict[str, str] = {
    "v1_transaction": "a v1 transaction notification",
    "v1_withdraw_confirm": "a v1 withdrawal confirmation",
    "v2_webhook": "a webhook",
    "v2_callback": "a callback message",
}

_WHY: dict[str, str] = {
    "valid": "a signed delivery with both header spellings, as Cobo sends it, is accepted",
    "hyphen_only": "a delivery signed in Biz-Timestamp/Biz-Resp-Signature alone is accepted",
    "underscore_only": "a delivery signed in BIZ_TIMESTAMP/BIZ_RESP_SIGNATURE alone (the spelling Cobo's docs name) "
    "is accepted",
    "no_signature": "a delivery without timestamp and signature headers is refused with a 4xx and no side effect",
    "wrong_key": "a delivery signed by another key is refused with a 4xx and no side effect",
    "non_hex": "a signature header that is not hex is refused with a 4xx, never a 5xx, and no side effect",
    "body_changed": "a body changed after signing is refused with a 4xx and no side effect",
    "re_serialised": "the signature covers the raw bytes: the signed JSON re-serialised (other whitespace and key "
    "order) is refused with a 4xx and no side effect",
    "stale": "a valid signature over a timestamp a day old is refused with a 4xx and no side effect (replay "
    "protection: our recommendation, Cobo's docs set no window)",
    "raw_bytes": "a valid delivery in compact JSON with \\u escapes and unsorted keys is accepted (verify the "
    "raw bytes, never a re-serialised body)",
    "duplicate": "the same delivery twice (same bytes, same headers) is accepted both times and acted on once",
    "redelivery": "the same event again with a fresh timestamp and signature, as Cobo retries, is accepted both "
    "times and acted on once",
    "out_of_order": "two events of one transaction, the later status first, are both accepted and each acted on",
    "missing_data_type": "data without a data_type is acknowledged ({ack}) or refused with a 4xx, never a 5xx, "
    "with no side effect",
    "unknown_data_type": "a data_type the handler does not know is acknowledged ({ack}) or refused with a 4xx, "
    "never a 5xx, with no side effect",
    "unknown_event_type": "an event type the handler does not know (Cobo adds new ones) is acknowledged ({ack}) or "
    "refused with a 4xx, never a 5xx, with no side effect",
}


def _why(kind: str, fault: str) -> str:
    verdict = _VERDICT[fault]
    if verdict == "acknowledge":  # a webhook's payload faults
        return _WHY[fault].format(ack=ANSWERS[kind].split(" within")[0])
    if verdict in ("accept", "once"):
        return f"{_WHY[fault]}: answered {ANSWERS[kind]}"
    return _WHY[fault]


def applies(kind: str, fault: str) -> bool:
    """Whether *fault* is a case of *kind*."""
    return kind in _APPLIES.get(fault, KINDS)


@dataclass(frozen=True)
class CallbackCase:
    """One kind of Cobo call with one fault, and the verdict Cobo's contract requires of the handler.

    ``accept``: answered as the kind requires (`ANSWERS`) and acted on; ``refuse``: a 4xx and no
    side effect; ``once``: two deliveries, both answered as accepted, one side effect;
    ``acknowledge`` (a webhook Cobo signed but the handler cannot read): a 2xx that stops Cobo's
    retries, or a 4xx, never a 5xx, and no side effect.
    """

    kind: Kind
    fault: str
    verdict: Verdict
    why: str

    @property
    def id(self) -> str:
        """Stable and readable, such as ``"v2_webhook-wrong_key"``."""
        return f"{self.kind}-{self.fault}"

    def __repr__(self) -> str:
        return f"CallbackCase({self.id}: {self.verdict})"


def _chosen(values: Iterable[str] | str | None, valid: tuple[str, ...], what: str) -> list[str]:
    if values is None:
        return list(valid)
    if isinstance(values, str):
        items = [values]
    elif isinstance(values, Iterable) and not isinstance(values, (bytes, bytearray)):
        items = list(values)
    else:
        raise TypeError(f"{what}s must be a string or an iterable of strings, got {type(values).__name__}")
    unknown = [v for v in items if v not in valid]
    if unknown:
        raise ValueError(f"unknown callback {what} {shown(unknown[0])}; valid: {', '.join(valid)}")
    if not items:
        raise ValueError(f"no callback {what}s chosen; valid: {', '.join(valid)}")
    return items


def callback_cases(
    kinds: Iterable[Kind] | Kind | None = None, *, faults: Iterable[str] | None = None
) -> list[CallbackCase]:
    """Every applicable (kind, fault) pair of *kinds* and *faults* (all by default), sorted by id.

    An unknown kind or fault is a ``ValueError`` naming the valid ones; a choice with no applicable
    pair (``"unknown_event_type"`` of v1 kinds) is one too.
    """
    chosen_kinds = _chosen(kinds, KINDS, "kind")
    chosen_faults = _chosen(faults, FAULTS, "fault")
    cases = {
        f"{kind}-{fault}": CallbackCase(kind, fault, _VERDICT[fault], _why(kind, fault))  # type: ignore[arg-type]
        for kind in chosen_kinds
        for fault in chosen_faults
        if applies(kind, fault)
    }
    if not cases:
        raise ValueError(
            f"no callback case has kind {' or '.join(chosen_kinds)} and fault {' or '.join(chosen_faults)}: "
            + "; ".join(f"{fault} applies to {', '.join(sorted(_APPLIES[fault]))}" for fault in chosen_faults)
        )
    return [cases[key] for key in sorted(cases)]


def cobo_callback_cases(
    *,
    kinds: Iterable[Kind] | Kind | None = None,
    faults: Iterable[str] | None = None,
    argname: str = "cobo_callback",
) -> pytest.MarkDecorator:
    """Run a test once per callback case (`callback_cases`), as *argname*, with stable sorted ids.

    ``@cobo_callback_cases(kinds="v2_webhook")`` then ``cobo_callbacks.check(app, cobo_callback)``.
    """
    if not isinstance(argname, str) or not argname.isidentifier():
        raise ValueError(f"argname must name a test argument, got {shown(argname)}")
    cases = callback_cases(kinds, faults=faults)
    return pytest.mark.parametrize(argname, cases, ids=[case.id for case in cases])


# --- realistic bodies ---------------------------------------------------------------------------

EVENT_TYPES: tuple[str, ...] = (
    "wallets.transaction.created",
    "wallets.transaction.updated",
    "wallets.transaction.failed",
    "wallets.transaction.succeeded",
    "wallets.mpc.tss_request.created",
    "wallets.mpc.tss_request.updated",
    "wallets.mpc.tss_request.failed",
    "wallets.mpc.tss_request.succeeded",
    "wallets.addresses.created",
    "wallets.created",
    "wallets.updated",
    "wallets.token_listing.failed",
    "wallets.token_listing.succeeded",
    "mpc_vaults.created",
    "mpc_vaults.updated",
    "mpc_vaults.deleted",
    "organizations.updated",
    "fee_station.transaction.created",
    "fee_station.transaction.updated",
    "fee_station.transaction.failed",
    "fee_station.transaction.succeeded",
    "fee_station.fiat_transaction.created",
    "wallet.token.enabled",
    "wallet.chain.enabled",
    "wallet.mpc.balance.updated",
    "wallet.web3.balance.updated",
    "wallet.token.disabled",
    "wallet.chain.disabled",
    "token.suspended.deposit",
    "token.suspended.withdraw",
    "payment.transaction.created",
    "payment.transaction.late",
    "payment.transaction.completed",
    "payment.transaction.held",
    "payment.transaction.failed",
    "payment.account.balance.updated",
    "payment.status.updated",
    "payment.order.status.updated",
    "payment.refund.status.updated",
    "payment.settlement.status.updated",
    "payment.payout.status.updated",
    "payment.bank_withdrawal.status.updated",
    "payment.address.updated",
    "payment.subscription.status.updated",
    "payment.charge.status.updated",
    "payment.bulk_send.status.updated",
    "payment.bulk_send.item.status.updated",
    "payment.topup.updated",
    "payment.order.updated",
    "payment.refund.updated",
    "payment.payout.updated",
    "payment.bulk_send.updated",
    "payment.bulk_send.item.updated",
    "payment.transaction.external.created",
    "payment.transaction.external.completed",
    "payment.transaction.settlement_network.created",
    "payment.transaction.settlement_network.completed",
    "compliance.disposition.status.updated",
    "compliance.kyt.screenings.status.updated",
    "compliance.kya.screenings.status.updated",
)
"""The OpenAPI ``WebhookEventType`` enum, as the ``cobo-waas2`` 1.46 SDK has it."""

_TRANSACTION_STATUS = {
    "wallets.transaction.created": "Submitted",
    "wallets.transaction.updated": "Confirming",
    "wallets.transaction.failed": "Failed",
    "wallets.transaction.succeeded": "Completed",
}
SAMPLE_EVENT_TYPES: tuple[str, ...] = (
    *_TRANSACTION_STATUS,
    "wallet.token.enabled",
    "wallet.token.disabled",
    "token.suspended.deposit",
    "token.suspended.withdraw",
    "wallets.token_listing.succeeded",
    "wallets.token_listing.failed",
)
"""The event types `sample_payload` builds ``data`` for; others need ``data=``."""

UNKNOWN_EVENT_TYPE = "wallets.future_event.created"
UNKNOWN_DATA_TYPE = "FutureEventData"
_USDT = {"token_id": "ETH_USDT", "chain_id": "ETH", "symbol": "USDT", "name": "Tether USD₮", "decimal": 6}


def _ms() -> int:
    return int(time.time() * 1000)


def _transaction(status: str, now: int) -> dict[str, Any]:
    """A v2 ``Transaction``: a USDT withdrawal from an MPC wallet, as the OpenAPI schema has it.

    A callback message is this object itself; a webhook's ``data`` adds ``data_type``."""
    wallet_id = str(uuid.uuid4())
    return {
        "transaction_id": str(uuid.uuid4()),
        "cobo_id": f"{now}000{uuid.uuid4().int % 10**12:012d}",
        "request_id": f"payout-{uuid.uuid4().hex[:12]}",
        "wallet_id": wallet_id,
        "type": "Withdrawal",
        "status": status,
        "chain_id": "ETH",
        "token_id": "ETH_USDT",
        "source": {
            "source_type": "Org-Controlled",
            "wallet_id": wallet_id,
            "address": "0x2e6a8e5bd1f0b1cc4c06e5f1d6a4c1a3e8b1b0a1",
        },
        "destination": {
            "destination_type": "Address",
            "account_output": {"address": "0x8f3cf7ad23cd3cadbd9735aff958023239c6a063", "amount": "125.5"},
        },
        "fee": {
            "fee_type": "EVM_EIP_1559",
            "token_id": "ETH",
            "max_fee_per_gas": "24000000000",
            "max_priority_fee_per_gas": "1500000000",
            "gas_limit": "65000",
        },
        "initiator": "payouts-service",
        "initiator_type": "API",
        "confirmed_num": 12 if status == "Completed" else 3,
        "confirming_threshold": 12,
        "description": "Payout to Zoë, invoice №42",
        "created_timestamp": now - 90_000,
        "updated_timestamp": now,
    }


def _event_data(event_type: str, now: int) -> dict[str, Any]:
    if event_type in _TRANSACTION_STATUS:
        return {"data_type": "Transaction", **_transaction(_TRANSACTION_STATUS[event_type], now)}
    if event_type.startswith("wallet.token."):
        return {"data_type": "Tokens", "tokens": [dict(_USDT, can_deposit=True, can_withdraw=True)]}
    if event_type.startswith("token.suspended."):
        return {"data_type": "SuspendedToken", "token_ids": "ETH_USDT,TRON_USDT", "operation_type": "Added"}
    if event_type.startswith("wallets.token_listing."):
        return {
            "data_type": "TokenListing",
            "request_id": str(uuid.uuid4()),
            "chain_id": "ETH",
            "contract_address": "0xdac17f958d2ee523a2206206994597c13d831ec7",
            "wallet_type": "MPC",
            "wallet_subtype": "Org-Controlled",
            "token": _USDT,
            "status": "Succeeded" if event_type.endswith("succeeded") else "Failed",
            "created_timestamp": now - 3_600_000,
            "updated_timestamp": now,
        }
    raise ValueError(
        f"no sample data for webhook event type {shown(event_type)}; pass data=..., or use one of: "
        + ", ".join(SAMPLE_EVENT_TYPES)
    )


def _v1_transaction(kind: str, now: int) -> dict[str, Any]:
    """A Custody (v1) callback body: a confirmed USDT deposit, or a withdrawal awaiting approval."""
    withdraw = kind == "v1_withdraw_confirm"
    return {
        "id": f"{now}000{uuid.uuid4().int % 10**12:012d}",
        "coin": "ETH_USDT",
        "display_code": "USDT",
        "description": "Tether USD₮",
        "decimal": 6,
        "address": "0x8f3cf7ad23cd3cadbd9735aff958023239c6a063",
        "memo": "",
        "source_address": "0x2e6a8e5bd1f0b1cc4c06e5f1d6a4c1a3e8b1b0a1",
        "source_address_detail": "0x2e6a8e5bd1f0b1cc4c06e5f1d6a4c1a3e8b1b0a1",
        "side": "withdraw" if withdraw else "deposit",
        "amount": "125500000",
        "abs_amount": "125.5",
        "txid": "" if withdraw else uuid.uuid4().hex + uuid.uuid4().hex,
        "vout_n": 0,
        "request_id": f"withdraw-{uuid.uuid4().hex[:12]}" if withdraw else None,
        "status": "pending" if withdraw else "success",
        "abs_cobo_fee": "0",
        "created_time": now - 90_000,
        "last_time": now,
        "confirmed_num": 0 if withdraw else 12,
        "confirming_threshold": 12,
        "type": "external",
    }


def sample_payload(kind: str, **overrides: Any) -> dict[str, Any]:
    """A realistic body of *kind*, with fresh ids, top-level keys replaced by *overrides*.

    A callback message (``v2_callback``) is a bare ``Transaction`` awaiting approval, as Cobo
    POSTs it (the OpenAPI ``CallbackMessage`` is only Cobo's record of the call). A webhook's
    ``type=`` override (one of `SAMPLE_EVENT_TYPES`) also picks matching ``data`` unless ``data=``
    is given too; any other event type needs ``data=``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown callback kind {shown(kind)}; valid: {', '.join(KINDS)}")
    now = _ms()
    if kind in ("v1_transaction", "v1_withdraw_confirm"):
        return _v1_transaction(kind, now) | overrides
    if kind == "v2_callback":
        return _transaction("PendingAuthorization", now) | overrides
    if "data" in overrides and not isinstance(overrides["data"], dict):
        raise TypeError(f"data must be a dict, got {type(overrides['data']).__name__}")
    event_type = overrides.get("type", "wallets.transaction.succeeded")
    if not isinstance(event_type, str):
        raise TypeError(f"type must be a webhook event type (a str), got {type(event_type).__name__}")
    data = overrides["data"] if "data" in overrides else _event_data(event_type, now)
    body = {
        "event_id": str(uuid.uuid4()),
        "url": "https://example.com/cobo/webhook",
        "created_timestamp": now,
        "type": event_type,
        "data": data,
    }
    return body | overrides


# --- what each fault sends ---------------------------------------------------------------------

_PAYLOAD_FAULTS = ("missing_data_type", "unknown_data_type", "unknown_event_type")
_WHAT: dict[str, tuple[str, ...]] = {
    "valid": ("signed, both header spellings",),
    "hyphen_only": ("signed, Biz-Timestamp/Biz-Resp-Signature only",),
    "underscore_only": ("signed, BIZ_TIMESTAMP/BIZ_RESP_SIGNATURE only",),
    "no_signature": ("no timestamp or signature header",),
    "wrong_key": ("signed by another key",),
    "non_hex": ("a signature header that is not hex",),
    "body_changed": ("a body changed after signing (an amount raised)",),
    "re_serialised": ("the signed compact JSON re-serialised with indentation and sorted keys",),
    "stale": ("validly signed over a timestamp a day old",),
    "raw_bytes": ("validly signed compact JSON with \\u escapes and reverse-sorted keys",),
    "duplicate": ("signed, first delivery", "the same bytes and headers again"),
    "redelivery": ("signed, first delivery", "the same body with a fresh timestamp and signature"),
    "out_of_order": ("the later status first", "then the earlier status of the same transaction"),
    "missing_data_type": ("signed, data without data_type",),
    "unknown_data_type": (f"signed, data_type {UNKNOWN_DATA_TYPE!r}",),
    "unknown_event_type": (f"signed, event type {UNKNOWN_EVENT_TYPE!r}",),
}


def _compact(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _unsorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unsorted(value[k]) for k in sorted(value, reverse=True)}
    if isinstance(value, list):
        return [_unsorted(v) for v in value]
    return value


def _child(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _altered(payload: Mapping[str, Any]) -> dict[str, Any]:
    """*payload* with an amount raised, or else with a field added: a change any parser sees."""
    changed: dict[str, Any] = json.loads(json.dumps(payload))
    data = _child(changed, "data")  # a webhook's transaction; a callback message is one itself
    outputs = [_child(_child(tx, "destination"), "account_output") for tx in (changed, data)]
    for holder in (changed, data, *outputs):
        if isinstance(holder, dict) and isinstance(holder.get("amount"), str):
            holder["amount"] += "000"
            return changed
    changed["altered_after_signing"] = True
    return changed


def _faulted(fault: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(payload)
    if fault == "unknown_event_type":
        body["type"] = UNKNOWN_EVENT_TYPE
    elif fault in ("missing_data_type", "unknown_data_type"):
        data = dict(body.get("data") or {})
        data.pop("data_type", None)
        if fault == "unknown_data_type":
            data = {"data_type": UNKNOWN_DATA_TYPE, **data}
        body["data"] = data
    return body


def _earlier(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The event of the same transaction that came before *payload*: an earlier status."""
    body: dict[str, Any] = json.loads(json.dumps(payload))
    if kind == "v1_transaction":
        body.update(status="pending", confirmed_num=1, last_time=int(body.get("last_time") or 0) - 60_000)
        return body
    data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else {}
    body.update(
        event_id=str(uuid.uuid4()),
        type="wallets.transaction.updated",
        created_timestamp=int(body.get("created_timestamp") or 0) - 60_000,
    )
    data.update(
        status="Confirming", confirmed_num=1, updated_timestamp=int(data.get("updated_timestamp") or 0) - 60_000
    )
    body["data"] = data
    return body
