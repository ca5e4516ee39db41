"""The ``cobo-waas2`` SDK's own webhook and callback demo (``cobo_waas2/server_demo.py``) against the fault matrix.

The demo is a FastAPI app that Cobo's docs point to as the way to receive webhook events and
callback messages. Every v2 case of ``callback_cases`` is delivered to it in-process, with the
demo's public key (a module global, ``pubkey``) replaced by the session's Ed25519 test key, and
the failures are recorded here as a table: which cases it fails, and the heart of each message.
The demo's business logic is its ``logger.info(event)`` (``logger.info(tx)`` for callbacks), so
the side-effect probe counts those log records.

What the table shows (cobo-waas2 1.46):

* a missing header, headers in the underscore spelling only (``Header(None)`` reads only
  ``biz-timestamp``), or a signature that is not hex give 500, not 401: ``bytes.fromhex`` raises;
* a wrong key or a changed body give 401, and it never looks at the timestamp, so a call a day
  old is accepted;
* it keeps no record of what it handled: a duplicate or a redelivery is acted on twice;
* an event whose ``data_type`` is missing is a 500 (``WebhookEvent.from_dict`` raises
  ``ValueError``); an unknown ``data_type`` or event type is acted on all the same;
* a callback message, which is the ``Transaction`` itself, is parsed (``Transaction.from_dict``)
  and logged before the signature is checked: a valid one is answered ``ok`` in plain text, but
  a forged or altered one is acted on before the 401 (the last test).

Runs in tox's ``waas2`` environment (``tox run -e waas2``), where ``cobo-waas2`` brings FastAPI;
see ``conftest.py`` beside this file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType

import pytest

from pytest_cobo_errors import CoboCallbacks, callback_cases

PATHS = {"v2_webhook": "/api/webhook", "v2_callback": "/api/callback"}

_ACTED_ON_FORGERY = "must be refused with no side effect, but 1 side effect was recorded"
_ACTED_TWICE = "must be handled once, but 2 side effects were recorded"
DEMO_FAILURES: dict[str, str] = {
    # Header(None) reads only the hyphen spelling; bytes.fromhex(None) and bytes.fromhex("not-hex") raise
    "v2_webhook-underscore_only": "a webhook must be answered 200 or 201 within 2 seconds, got HTTP 500",
    "v2_webhook-no_signature": "an unsigned delivery must be refused with a 4xx, got HTTP 500",
    "v2_webhook-non_hex": "a bad signature must be refused with a 4xx, got HTTP 500",
    # no timestamp check, no record of what was handled
    "v2_webhook-stale": "a stale timestamp must be refused with a 4xx, got HTTP 200",
    "v2_webhook-duplicate": "a duplicate " + _ACTED_TWICE,
    "v2_webhook-redelivery": "a redelivery " + _ACTED_TWICE,
    # WebhookEvent.from_dict: ValueError without a data_type, actual_instance=None for an unknown one
    "v2_webhook-missing_data_type": "data without a data_type must be acknowledged (200 or 201) or refused with a 4xx, never a 5xx, got HTTP 500",
    "v2_webhook-unknown_data_type": "an unknown data_type must be acknowledged with no side effect, but 1 side effect was recorded",
    "v2_webhook-unknown_event_type": "an unknown event type must be acknowledged with no side effect, but 1 side effect was recorded",
    # the same for callback messages
    "v2_callback-underscore_only": "a callback message must be answered 200 or 201 with plain text 'ok' or 'deny', got HTTP 500",
    "v2_callback-no_signature": "an unsigned delivery must be refused with a 4xx, got HTTP 500",
    "v2_callback-non_hex": "a bad signature must be refused with a 4xx, got HTTP 500",
    "v2_callback-stale": "a stale timestamp must be refused with a 4xx, got HTTP 200 'ok'",
    "v2_callback-duplicate": "a duplicate " + _ACTED_TWICE,
    "v2_callback-redelivery": "a redelivery " + _ACTED_TWICE,
    # Transaction.from_dict(body) and logger.info(tx) before the signature check: a forgery is acted on
    "v2_callback-wrong_key": "a bad signature " + _ACTED_ON_FORGERY,
    "v2_callback-body_changed": "a body changed after signing " + _ACTED_ON_FORGERY,
    "v2_callback-re_serialised": "a body that is not the signed bytes " + _ACTED_ON_FORGERY,
}
"""Every v2 case the demo fails, with the heart of the message it fails with."""


@pytest.fixture
def server_demo(cobo_callbacks: CoboCallbacks, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The demo module, trusting the session's Ed25519 test key instead of Cobo's production key.

    Imported inside a test: at import it calls ``logging.basicConfig(level=INFO)``, which does
    nothing while pytest's log handlers are installed."""
    from cobo_waas2 import server_demo

    monkeypatch.setattr(server_demo, "pubkey", cobo_callbacks.public_key_hex("v2_webhook"))
    return server_demo


@pytest.fixture
def acted_on(server_demo: ModuleType, caplog: pytest.LogCaptureFixture) -> Callable[[], list[object]]:
    """The probe: what the demo logged as its business logic, one parsed event or transaction each."""
    from cobo_waas2 import Transaction, WebhookEvent

    caplog.set_level(logging.INFO, logger=server_demo.logger.name)

    def probe() -> list[object]:
        return [r.msg for r in caplog.records if isinstance(r.msg, (WebhookEvent, Transaction))]

    return probe


def test_the_sdk_demo_fails_exactly_the_cases_in_the_table(
    cobo_callbacks: CoboCallbacks, server_demo: ModuleType, acted_on: Callable[[], list[object]]
) -> None:
    failures: dict[str, str] = {}
    for case in callback_cases(kinds=["v2_webhook", "v2_callback"]):
        try:
            cobo_callbacks.check(server_demo.app, case, side_effects=acted_on, path=PATHS[case.kind])
        except AssertionError as failure:
            failures[case.id] = str(failure)
    assert sorted(failures) == sorted(DEMO_FAILURES)
    for case_id, message in failures.items():
        assert message.startswith(f"{case_id}: ")
        assert DEMO_FAILURES[case_id] in message.splitlines()[0], message


def test_the_demo_approves_a_valid_callback_message_it_reads_as_a_transaction(
    cobo_callbacks: CoboCallbacks, server_demo: ModuleType, acted_on: Callable[[], list[object]]
) -> None:
    from cobo_waas2 import Transaction

    tx = cobo_callbacks.payload("v2_callback")
    assert Transaction.from_dict(tx).to_dict() == tx  # every field is the SDK's, none lost or added
    delivered = cobo_callbacks.deliver(server_demo.app, "v2_callback", tx, path=PATHS["v2_callback"])
    assert (delivered.status, delivered.text, delivered.raised) == (200, "ok", "")
    assert [(t.transaction_id, t.status.value) for t in acted_on()] == [(tx["transaction_id"], "PendingAuthorization")]


def test_the_callback_handler_acts_on_a_forged_transaction_before_refusing_it(
    cobo_callbacks: CoboCallbacks, server_demo: ModuleType, acted_on: Callable[[], list[object]]
) -> None:
    forged = cobo_callbacks.payload("v2_callback")
    delivered = cobo_callbacks.deliver(
        server_demo.app, "v2_callback", forged, fault="wrong_key", path=PATHS["v2_callback"]
    )
    assert delivered.status == 401  # refused, but only after
    assert [tx.transaction_id for tx in acted_on()] == [forged["transaction_id"]]
