"""What every handler of Cobo's calls must do, whatever the web framework: the part to copy.

Cobo POSTs four kinds of signed calls to your server: v1 transaction notifications and withdrawal
confirmations (secp256k1), v2 webhook events and callback messages (Ed25519; a callback message
is the ``Transaction`` awaiting approval itself, not wrapped in an envelope). `Inbox.receive`
takes the raw body and a header lookup, and returns the `Answer` Cobo's contract asks for:

1. Read the timestamp and signature from either spelling, ``Biz-Timestamp``/``Biz-Resp-Signature``
   or ``BIZ_TIMESTAMP``/``BIZ_RESP_SIGNATURE``: nginx, gunicorn 22+ and Django's dev server drop
   underscore headers, and the docs name the underscore ones.
2. Verify the signature over the RAW bytes (``body|timestamp``), before parsing anything. Every
   way it can fail, a missing header, a signature that is not hex, a wrong one, is a 401: a
   500 would make Cobo retry a forgery, and hides the refusal in the error log.
3. Refuse a stale timestamp (a replayed call).
4. Act on each event once: Cobo retries until it gets the answer it wants, and events arrive
   duplicated and out of order. The check-and-record is atomic (`Store.lock`); in production
   it is a unique key in the database.
5. Acknowledge what the handler does not know (a new event type, an unknown ``data_type``) with
   200 and do nothing: Cobo adds event types, and a 5xx would only make it retry. An approval
   request the handler cannot read is answered ``deny``, never ``ok``.
6. Answer in the exact form: ``ok`` (v1 notifications, webhooks), ``ok`` or ``deny`` as plain
   text (approval requests: a JSON reply is a documented failure).

`fastapi_handler` and `flask_handler` are thin adapters around this module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

logger = logging.getLogger(__name__)

PATHS: dict[str, str] = {
    "v1_transaction": "/cobo/v1/transaction",
    "v1_withdraw_confirm": "/cobo/v1/withdraw-confirm",
    "v2_webhook": "/cobo/v2/webhook",
    "v2_callback": "/cobo/v2/callback",
}
"""Where each kind of call arrives: the URLs you register with Cobo."""

MAX_AGE = 10 * 60.0
"""Seconds a timestamp stays fresh. Cobo's docs set no window; each retry is signed anew."""

TRANSACTION_EVENTS = frozenset(
    {"wallets.transaction.created", "wallets.transaction.updated", "wallets.transaction.failed",
     "wallets.transaction.succeeded"}
)  # fmt: skip
"""The webhook events this handler acts on; every other one is acknowledged and logged."""

Headers = Callable[[str], "str | None"]
"""A case-insensitive header lookup: ``request.headers.get`` in every framework."""


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


@dataclass
class Store:
    """What the handler did. Tests read `effects`; production code writes rows instead.

    *withdraw_limit*: approval requests for more than this (in whole tokens) are denied.
    """

    withdraw_limit: Decimal = Decimal(1000)
    effects: list[str] = field(default_factory=list)
    """One line per business action, in order: the probe a test hands ``cobo_callbacks.check``."""
    seen: set[str] = field(default_factory=set)
    """The deliveries acted on (event ids, transaction states): a second one is acknowledged only."""
    decisions: dict[str, str] = field(default_factory=dict)
    """Approval requests answered: their id and the answer, repeated to a redelivery."""
    statuses: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Each transaction's newest status and its time: an older one arriving late never overwrites it."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def first_time(self, key: str) -> bool:
        """Whether *key* is new, marking it seen: atomic, so two concurrent retries act once."""
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            return True

    def track(self, transaction_id: str, status: str, updated: int) -> None:
        """Record a transaction's status unless a newer one is already known (out of order)."""
        with self.lock:
            if transaction_id not in self.statuses or self.statuses[transaction_id][0] <= updated:
                self.statuses[transaction_id] = (updated, status)

    def decide(self, request_id: str, decide: Callable[[], str]) -> str:
        """The answer to approval request *request_id*: decided once, then repeated."""
        with self.lock:
            if request_id not in self.decisions:
                self.decisions[request_id] = decide()
                self.effects.append(f"approval {request_id}: {self.decisions[request_id]}")
            return self.decisions[request_id]


class Verifier:
    """Cobo's public key for one API generation, loaded once: a bad key fails at start-up."""

    def __init__(self, generation: str, public_key_hex: str) -> None:
        raw = bytes.fromhex(public_key_hex)
        self._verify: Callable[[bytes, bytes], None]
        if generation == "v1":  # secp256k1, compressed or uncompressed point; ECDSA, DER
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), raw)
            self._verify = lambda sig, digest: point.verify(sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        elif generation == "v2":  # Ed25519, the raw 32-byte key
            key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            self._verify = key.verify
        else:
            raise ValueError(f"unknown API generation {generation!r}: 'v1' or 'v2'")

    def valid(self, content: bytes, signature_hex: str) -> bool:
        """Whether *signature_hex* signs sha256(sha256(*content*)). Never raises on bad input."""
        try:
            signature = bytes.fromhex(signature_hex)  # ValueError on non-hex: a refusal, not a 500
            self._verify(signature, hashlib.sha256(hashlib.sha256(content).digest()).digest())
        except (ValueError, InvalidSignature):
            return False
        return True


def _header(headers: Headers, hyphen: str, underscore: str) -> str | None:
    """One header in either spelling. A WSGI server folds both into one variable (wsgiref joins
    them with a comma): equal values are one value, different ones none at all."""
    values = {part.strip() for name in (hyphen, underscore) for part in (headers(name) or "").split(",")} - {""}
    return values.pop() if len(values) == 1 else None


class Inbox:
    """Receives Cobo's calls for a handler: verify, then act once, then answer as Cobo expects.

    *public_keys*: ``{"v1": ..., "v2": ...}``, Cobo's public keys in hex (each from Cobo's web
    console; a key left out refuses that generation's calls).
    """

    def __init__(
        self,
        public_keys: Mapping[str, str],
        store: Store,
        *,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifiers = {generation: Verifier(generation, key) for generation, key in public_keys.items()}
        self.store = store
        self.max_age = max_age
        self.clock = clock

    def receive(self, kind: str, raw: bytes, headers: Headers) -> Answer:
        """The answer to one call of *kind*: *raw* is the body exactly as it arrived."""
        refusal = self._refusal(kind, raw, headers)
        if refusal:
            logger.warning("refused %s: %s", kind, refusal)
            return Answer(401, refusal)
        try:  # only now is the body worth parsing: Cobo signed it
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._unreadable(kind, "the body is not a JSON object")
        return {
            "v1_transaction": self._v1_transaction,
            "v1_withdraw_confirm": self._v1_withdraw_confirm,
            "v2_webhook": self._v2_webhook,
            "v2_callback": self._v2_callback,
        }[kind](body)

    def _refusal(self, kind: str, raw: bytes, headers: Headers) -> str:
        stamp = _header(headers, "Biz-Timestamp", "BIZ_TIMESTAMP")
        signature = _header(headers, "Biz-Resp-Signature", "BIZ_RESP_SIGNATURE")
        if not stamp or not signature:
            return "missing timestamp or signature"
        verifier = self.verifiers.get(kind[:2])
        if verifier is None or not verifier.valid(raw + b"|" + stamp.encode(), signature):
            return "invalid signature"
        if not (stamp.isascii() and stamp.isdigit()) or abs(self.clock() - int(stamp) / 1000) > self.max_age:
            return "stale timestamp"
        return ""

    def _unreadable(self, kind: str, why: str) -> Answer:
        """Signed by Cobo but not understood: stop the retries, do nothing, and tell a human."""
        logger.warning("acknowledged %s without acting on it: %s", kind, why)
        approval = kind in ("v1_withdraw_confirm", "v2_callback")
        return Answer(200, "deny" if approval else "ok")

    # --- v1 -----------------------------------------------------------------------------------

    def _v1_transaction(self, body: dict[str, Any]) -> Answer:
        # one notification per state of a transaction: an id alone would drop the confirmations
        txid, status = body.get("id"), body.get("status")
        if not txid or not isinstance(status, str):
            return self._unreadable("v1_transaction", "no id or status")
        state = f"v1 {txid} {status} {body.get('confirmed_num')}"
        if self.store.first_time(state):
            self.store.track(str(txid), status, _int(body.get("last_time")))
            self.store.effects.append(f"{body.get('side')} {state}")
        return Answer(200, "ok")

    def _v1_withdraw_confirm(self, body: dict[str, Any]) -> Answer:
        request_id = body.get("request_id")  # "id" is empty until Cobo creates the transaction
        if not request_id or body.get("side") != "withdraw":
            return self._unreadable("v1_withdraw_confirm", "no request_id, or not a withdrawal")
        return Answer(200, self.store.decide(f"v1 {request_id}", lambda: self._approve(body.get("abs_amount"))))

    # --- v2 -----------------------------------------------------------------------------------

    def _v2_webhook(self, body: dict[str, Any]) -> Answer:
        event_id, event_type, data = body.get("event_id"), body.get("type"), body.get("data")
        if event_type not in TRANSACTION_EVENTS:
            return self._unreadable("v2_webhook", f"event type {event_type!r} is not handled here")
        if not event_id or not isinstance(data, dict) or data.get("data_type") != "Transaction":
            data_type = data.get("data_type") if isinstance(data, dict) else None
            return self._unreadable("v2_webhook", f"{event_type} with data_type {data_type!r}")
        if self.store.first_time(f"event {event_id}"):
            txid, status = str(data.get("transaction_id")), str(data.get("status"))
            self.store.track(txid, status, _int(data.get("updated_timestamp")))
            self.store.effects.append(f"event {event_id}: {event_type} {txid} {status}")
        return Answer(200, "ok")

    def _v2_callback(self, tx: dict[str, Any]) -> Answer:
        # the body is the Transaction itself; Cobo asks again with the same transaction_id
        txid = tx.get("transaction_id")
        if not txid or not isinstance(txid, str):
            return self._unreadable("v2_callback", "no transaction_id")
        destination = tx.get("destination")
        output = destination.get("account_output") if isinstance(destination, dict) else None
        amount = output.get("amount") if isinstance(output, dict) else None
        return Answer(200, self.store.decide(f"v2 {txid}", lambda: self._approve(amount)))

    def _approve(self, amount: object) -> str:
        """Your risk rules go here: this one denies amounts over the limit, or unreadable ones."""
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            return "deny"
        return "ok" if value.is_finite() and 0 < value <= self.store.withdraw_limit else "deny"


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
