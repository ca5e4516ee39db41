"""Cobo calls you: proving callback and webhook handlers keep Cobo's contract, with cobo_callbacks.

``@cobo_callback_cases()`` runs a test once per case of the fault matrix (a kind of call, a fault,
a verdict), and ``cobo_callbacks.check`` delivers the case, signed with the session's test keys,
and fails with a message naming the rule the handler broke. The handlers are apps built by a
factory, so each test hands in ``cobo_callbacks.public_key_hex(...)`` where production code reads
Cobo's public keys, and a fresh `Store` whose ``effects`` is the side-effect probe: without it a
handler that acts on a forged call and then answers 401 would pass.

``pip install 'pytest-cobo-errors[examples]'`` (FastAPI and Flask), then ``pytest examples``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import fastapi_handler
import flask_handler
import naive_handler
import pytest
from callback_inbox import PATHS, Store

from pytest_cobo_errors import CallbackCase, CoboCallbacks, callback_cases, cobo_callback_cases


def cobo_public_keys(cobo_callbacks: CoboCallbacks) -> dict[str, str]:
    """What production reads from settings: Cobo's v1 (secp256k1) and v2 (Ed25519) public keys."""
    return {"v1": cobo_callbacks.public_key_hex("v1_transaction"), "v2": cobo_callbacks.public_key_hex("v2_webhook")}


@pytest.fixture
def store() -> Store:
    return Store(withdraw_limit=Decimal(1000))


def check(cobo_callbacks: CoboCallbacks, app: Any, case: CallbackCase, store: Store) -> None:
    cobo_callbacks.check(app, case, side_effects=lambda: store.effects, path=PATHS[case.kind])


# --- handlers that keep the contract: every case passes ----------------------------------------


@cobo_callback_cases()
def test_the_fastapi_handler_keeps_cobos_contract(
    cobo_callbacks: CoboCallbacks, cobo_callback: CallbackCase, store: Store
) -> None:
    check(cobo_callbacks, fastapi_handler.make_app(cobo_public_keys(cobo_callbacks), store), cobo_callback, store)


@cobo_callback_cases()
def test_the_flask_handler_keeps_cobos_contract(
    cobo_callbacks: CoboCallbacks, cobo_callback: CallbackCase, store: Store
) -> None:
    check(cobo_callbacks, flask_handler.make_app(cobo_public_keys(cobo_callbacks), store), cobo_callback, store)


@pytest.mark.parametrize("handler", [fastapi_handler, flask_handler], ids=["fastapi", "flask"])
def test_withdrawals_over_the_limit_are_denied_in_plain_text(
    cobo_callbacks: CoboCallbacks, store: Store, handler: Any
) -> None:
    app = handler.make_app(cobo_public_keys(cobo_callbacks), store)
    small = cobo_callbacks.payload("v2_callback")
    large = cobo_callbacks.payload("v2_callback")
    large["destination"]["account_output"]["amount"] = "5000"
    v1_large = cobo_callbacks.payload("v1_withdraw_confirm", abs_amount="5000")

    assert cobo_callbacks.deliver(app, "v2_callback", small, path=PATHS["v2_callback"]).text == "ok"
    denied = cobo_callbacks.deliver(app, "v2_callback", large, path=PATHS["v2_callback"])
    assert (denied.status, denied.text, denied.headers["content-type"]) == (200, "deny", "text/plain; charset=utf-8")
    assert (
        cobo_callbacks.deliver(app, "v1_withdraw_confirm", v1_large, path=PATHS["v1_withdraw_confirm"]).text == "deny"
    )
    assert len(store.effects) == 3  # each decision recorded once


def test_an_earlier_status_arriving_late_never_overwrites_the_newer_one(
    cobo_callbacks: CoboCallbacks, store: Store
) -> None:
    app = fastapi_handler.make_app(cobo_public_keys(cobo_callbacks), store)
    later = cobo_callbacks.payload("v2_webhook", type="wallets.transaction.succeeded")
    earlier = cobo_callbacks.payload("v2_webhook", type="wallets.transaction.updated", data=dict(later["data"]))
    earlier["data"].update(status="Confirming", updated_timestamp=later["data"]["updated_timestamp"] - 60_000)

    for payload in (later, earlier):
        assert cobo_callbacks.deliver(app, "v2_webhook", payload, path=PATHS["v2_webhook"]).status == 200
    assert len(store.effects) == 2  # both events handled
    assert store.statuses[later["data"]["transaction_id"]][1] == "Completed"  # the newest status stands


# --- a running server, reached by URL ----------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # no access log on stderr


@pytest.fixture(scope="module")
def flask_server(cobo_callbacks_keys: dict[str, str]) -> Iterator[tuple[str, Store]]:
    """The Flask handler behind the stdlib's WSGI server on 127.0.0.1, on a free port, in a thread."""
    store = Store(withdraw_limit=Decimal(1000))
    server: WSGIServer = make_server(
        "127.0.0.1", 0, flask_handler.make_app(cobo_callbacks_keys, store), handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="flask-handler", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", store
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def cobo_callbacks_keys() -> dict[str, str]:
    # the cobo_callbacks fixture is function-scoped; its keys are the session's, the same every test
    return cobo_public_keys(CoboCallbacks())


@cobo_callback_cases(kinds=["v2_webhook", "v1_transaction"])
def test_a_running_server_keeps_the_contract_over_http(
    cobo_callbacks: CoboCallbacks, cobo_callback: CallbackCase, flask_server: tuple[str, Store]
) -> None:
    # wsgiref passes both header spellings on, joined into one "value,value": the handler reads it as one
    url, store = flask_server
    cobo_callbacks.check(url, cobo_callback, side_effects=lambda: store.effects, path=PATHS[cobo_callback.kind])


# --- the naive handler: what the suite shows when a handler breaks the contract ------------------

NAIVE_FAILURES: dict[str, str] = {
    # reads only BIZ_TIMESTAMP/BIZ_RESP_SIGNATURE: no header, no signature check, a TypeError
    "v1_transaction-hyphen_only": "must be answered HTTP 200 with the body 'ok', got HTTP 500",
    "v1_withdraw_confirm-hyphen_only": "must be answered HTTP 200 with 'ok' (approve) or 'deny' (reject), got HTTP 500",
    "v2_webhook-hyphen_only": "a webhook must be answered 200 or 201 within 2 seconds, got HTTP 500",
    "v2_callback-hyphen_only": "a callback message must be answered 200 or 201 with plain text 'ok' or 'deny', got HTTP 500",
    "v1_transaction-no_signature": "an unsigned delivery must be refused with a 4xx, got HTTP 500",
    "v1_withdraw_confirm-no_signature": "an unsigned delivery must be refused with a 4xx, got HTTP 500",
    "v2_webhook-no_signature": "an unsigned delivery must be refused with a 4xx, got HTTP 500",
    "v2_callback-no_signature": "an unsigned delivery must be refused with a 4xx, got HTTP 500",
    # bytes.fromhex outside the try
    "v1_transaction-non_hex": "a bad signature must be refused with a 4xx, got HTTP 500",
    "v1_withdraw_confirm-non_hex": "a bad signature must be refused with a 4xx, got HTTP 500",
    "v2_webhook-non_hex": "a bad signature must be refused with a 4xx, got HTTP 500",
    "v2_callback-non_hex": "a bad signature must be refused with a 4xx, got HTTP 500",
    # verifies json.dumps(parsed) instead of the raw bytes: a genuine call in other JSON is refused
    "v1_transaction-raw_bytes": "must be answered HTTP 200 with the body 'ok', got HTTP 401",
    "v1_withdraw_confirm-raw_bytes": "must be answered HTTP 200 with 'ok' (approve) or 'deny' (reject), got HTTP 401",
    "v2_webhook-raw_bytes": "a webhook must be answered 200 or 201 within 2 seconds, got HTTP 401",
    "v2_callback-raw_bytes": "must be answered 200 or 201 with plain text 'ok' or 'deny', got HTTP 401",
    # no freshness check
    "v1_transaction-stale": "a stale timestamp must be refused with a 4xx, got HTTP 200",
    "v1_withdraw_confirm-stale": "a stale timestamp must be refused with a 4xx, got HTTP 200",
    "v2_webhook-stale": "a stale timestamp must be refused with a 4xx, got HTTP 200",
    "v2_callback-stale": "a stale timestamp must be refused with a 4xx, got HTTP 200",
    # no record of what was handled
    "v1_transaction-duplicate": "a duplicate must be handled once, but 2 side effects were recorded",
    "v1_transaction-redelivery": "a redelivery must be handled once, but 2 side effects were recorded",
    "v1_withdraw_confirm-duplicate": "a duplicate must be handled once, but 2 side effects were recorded",
    "v1_withdraw_confirm-redelivery": "a redelivery must be handled once, but 2 side effects were recorded",
    "v2_webhook-duplicate": "a duplicate must be handled once, but 2 side effects were recorded",
    "v2_webhook-redelivery": "a redelivery must be handled once, but 2 side effects were recorded",
    # dispatch on data.data_type with a dict lookup: KeyError; the event type never looked at
    "v2_webhook-missing_data_type": "data without a data_type must be acknowledged (200 or 201) or refused with a 4xx, never a 5xx, got HTTP 500",
    "v2_webhook-unknown_data_type": "an unknown data_type must be acknowledged (200 or 201) or refused with a 4xx, never a 5xx, got HTTP 500",
    "v2_webhook-unknown_event_type": "an unknown event type must be acknowledged with no side effect, but 1 side effect was recorded",
    # answers {"result": "ok"}
    "v2_callback-valid": "a callback message must be answered with plain text 'ok' or 'deny', got '{\"result\":\"ok\"}' (a JSON reply is a documented failure)",
    "v2_callback-underscore_only": 'got \'{"result":"ok"}\' (a JSON reply is a documented failure)',
    "v2_callback-duplicate": 'got \'{"result":"ok"}\' (a JSON reply is a documented failure)',
    "v2_callback-redelivery": 'got \'{"result":"ok"}\' (a JSON reply is a documented failure)',
}
"""Every case the naive handler fails, with the heart of the message it fails with."""


@cobo_callback_cases()
def test_the_naive_handler_fails_exactly_the_cases_in_the_table(
    cobo_callbacks: CoboCallbacks, cobo_callback: CallbackCase, store: Store
) -> None:
    app = naive_handler.make_app(cobo_public_keys(cobo_callbacks), store)
    expected = NAIVE_FAILURES.get(cobo_callback.id)
    if expected is None:
        check(cobo_callbacks, app, cobo_callback, store)  # the naive handler gets this case right
        return
    with pytest.raises(AssertionError, match=re.escape(expected)) as failure:
        check(cobo_callbacks, app, cobo_callback, store)
    assert str(failure.value).startswith(f"{cobo_callback.id}: ")  # the message names the case


def test_the_naive_failure_table_names_only_real_cases() -> None:
    assert set(NAIVE_FAILURES) <= {case.id for case in callback_cases()}
