"""cobo_callbacks: Cobo's calls to your server, signed and faulted, and the contract the answers must meet.

A correct handler (FastAPI and Flask) passes every case; each deliberately broken one, breaking
one rule, fails exactly the cases that rule covers, with a message that states it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from fastapi import FastAPI, Request, Response
from flask import Flask, request

import pytest_cobo_errors
from pytest_cobo_errors import CallbackCase, CoboCallbacks, callback_cases, cobo_callback_cases
from pytest_cobo_errors.callback_matrix import EVENT_TYPES, SAMPLE_EVENT_TYPES
from pytest_cobo_errors.signing import TestKey

ROUTES = {
    "v1_transaction": "/v1/transaction",
    "v1_withdraw_confirm": "/v1/withdraw",
    "v2_webhook": "/v2/webhook",
    "v2_callback": "/v2/callback",
}
KNOWN_DATA_TYPES = {"Transaction", "Tokens", "SuspendedToken", "TokenListing"}
ALL = callback_cases()


# --- handlers ------------------------------------------------------------------------------------


def verify(public_hex: str, kind: str, message: bytes, signature: bytes) -> bool:
    """Cobo's signature check, written from the docs: sha256(sha256(body|timestamp)), then ECDSA
    secp256k1 (v1) or Ed25519 (v2) over that digest."""
    digest = hashlib.sha256(hashlib.sha256(message).digest()).digest()
    try:
        if kind.startswith("v1_"):
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), bytes.fromhex(public_hex))
            key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        else:
            ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, digest)
    except InvalidSignature:
        return False
    return True


class Handler:
    """A handler of Cobo's four kinds of calls: correct, unless *flaws* name rules to break."""

    def __init__(self, keys: CoboCallbacks, *flaws: str) -> None:
        self.public = {kind: keys.public_key_hex(kind) for kind in ROUTES}  # type: ignore[arg-type]
        self.flaws = set(flaws)
        self.effects: list[str] = []
        self.answers: dict[str, tuple[int, bytes]] = {}

    def header(self, get: Callable[[str], str | None], hyphen: str, underscore: str) -> str | None:
        if "reads_underscore_only" in self.flaws:
            return get(underscore)
        if "reads_hyphen_only" in self.flaws:
            return get(hyphen)
        return get(hyphen) or get(underscore)

    def handle(self, path: str, get: Callable[[str], str | None], body: bytes) -> tuple[int, bytes]:
        kind = next(k for k, route in ROUTES.items() if route == path)
        stamp = self.header(get, "Biz-Timestamp", "BIZ_TIMESTAMP")
        signature_hex = self.header(get, "Biz-Resp-Signature", "BIZ_RESP_SIGNATURE")
        refusal = None if "no_verification" in self.flaws else self.refusal(kind, stamp, signature_hex, body)
        if refusal is not None:
            if "acts_despite_bad_signature" in self.flaws:  # as the Go v2 demo does
                self.effects.append("forged")
            return 401, refusal
        return self.act(kind, json.loads(body), signature_hex or "")

    def refusal(self, kind: str, stamp: str | None, signature_hex: str | None, body: bytes) -> bytes | None:
        """Why the call is not Cobo's, or None if it is."""
        if not stamp or not signature_hex:
            return b"missing signature"
        if "500_on_non_hex" in self.flaws:
            signature = bytes.fromhex(signature_hex)
        else:
            try:
                signature = bytes.fromhex(signature_hex)
            except ValueError:
                return b"bad signature"
        if "no_stale_check" not in self.flaws and abs(time.time() * 1000 - int(stamp)) > 300_000:
            return b"stale"
        signed = body
        if "re_serialises" in self.flaws:
            signed = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
        if not verify(self.public[kind], kind, signed + b"|" + stamp.encode(), signature):
            return b"bad signature"
        return None

    def act(self, kind: str, event: dict[str, Any], signature: str) -> tuple[int, bytes]:
        if kind == "v2_webhook":
            data = event.get("data") or {}
            key, answer = event["event_id"], (202 if "webhook_202" in self.flaws else 200, b"")
            if "dedupes_on_transaction" in self.flaws:
                key = data.get("transaction_id")
            if "slow_webhook" in self.flaws:
                time.sleep(0.03)
            if data.get("data_type") not in KNOWN_DATA_TYPES or event.get("type") not in EVENT_TYPES:
                if "500_on_unknown_payload" in self.flaws:
                    raise ValueError(f"Failed to lookup data type: {data.get('data_type')!r}")
                return answer
        elif kind == "v2_callback":  # the Transaction itself
            key, answer = event["transaction_id"], (200, b'{"result":"ok"}' if "json_answer" in self.flaws else b"ok")
        else:
            key = f"{event['id']}:{event['status']}:{event['confirmed_num']}"
            if "dedupes_on_transaction" in self.flaws:
                key = event["id"]
            answer = (200, b"success" if "v1_answers_success" in self.flaws else b"ok")
        if "dedupes_on_signature" in self.flaws:
            key = signature
        if key in self.answers and "no_dedupe" not in self.flaws:
            if "inconsistent_answers" in self.flaws and kind in ("v1_withdraw_confirm", "v2_callback"):
                return 200, b"deny"
            return self.answers[key]
        self.effects.append(key)
        self.answers[key] = answer
        return answer


def fastapi_app(handler: Handler) -> Any:
    app = FastAPI()

    @app.post("/{route:path}")
    async def receive(route: str, request: Request) -> Response:
        status, body = handler.handle("/" + route, request.headers.get, await request.body())
        return Response(body, status_code=status, media_type="text/plain")

    return app


def flask_app(handler: Handler) -> Any:
    app = Flask("cobo_callbacks_test")

    @app.post("/<path:route>")
    def receive(route: str) -> Any:
        status, body = handler.handle("/" + route, request.headers.get, request.get_data())
        return body, status, {"Content-Type": "text/plain"}

    return app


def failures(callbacks: CoboCallbacks, app: Any, handler: Handler, cases: list[CallbackCase]) -> dict[str, str]:
    """The id and message of every case *app* fails."""
    failed = {}
    for case in cases:
        try:
            callbacks.check(app, case, side_effects=lambda: handler.effects, path=ROUTES[case.kind])
        except AssertionError as exc:
            failed[case.id] = str(exc)
    return failed


# --- a correct handler passes every case --------------------------------------------------------


@cobo_callback_cases()
def test_a_correct_fastapi_handler_passes_every_case(
    cobo_callbacks: CoboCallbacks, cobo_callback: CallbackCase
) -> None:
    handler = Handler(cobo_callbacks)
    delivered = cobo_callbacks.check(
        fastapi_app(handler), cobo_callback, side_effects=lambda: handler.effects, path=ROUTES[cobo_callback.kind]
    )
    assert len(delivered) == (2 if cobo_callback.fault in ("duplicate", "redelivery", "out_of_order") else 1)


@cobo_callback_cases()
def test_a_correct_flask_handler_passes_every_case(cobo_callbacks: CoboCallbacks, cobo_callback: CallbackCase) -> None:
    handler = Handler(cobo_callbacks)
    cobo_callbacks.check(
        flask_app(handler), cobo_callback, side_effects=lambda: handler.effects, path=ROUTES[cobo_callback.kind]
    )


# --- each broken handler fails exactly its cases ------------------------------------------------

REFUSE = {c.id for c in ALL if c.verdict == "refuse"}
BROKEN: dict[str, tuple[set[str], str]] = {
    "reads_underscore_only": (
        {c.id for c in ALL if c.fault == "hyphen_only"},
        "v2_webhook-hyphen_only: a webhook must be answered 200 or 201 within 2 seconds, got HTTP 401 'missing signature' (any other status makes Cobo retry it 10 times)",
    ),
    "reads_hyphen_only": (
        {c.id for c in ALL if c.fault == "underscore_only"},
        "v1_transaction-underscore_only: a v1 transaction notification must be answered HTTP 200 with the body 'ok', got HTTP 401 'missing signature' (any other status makes Cobo push it again, up to 14 times)",
    ),
    "500_on_non_hex": (
        {c.id for c in ALL if c.fault == "non_hex"},
        "v2_webhook-non_hex: a bad signature must be refused with a 4xx, got HTTP 500 (a server error makes Cobo retry it 10 times)",
    ),
    "re_serialises": (
        {c.id for c in ALL if c.fault == "raw_bytes"},
        "v2_callback-raw_bytes: a callback message must be answered 200 or 201 with plain text 'ok' or 'deny', got HTTP 401 'bad signature' (any other status makes Cobo retry it up to 30 times)",
    ),
    "no_stale_check": (
        {c.id for c in ALL if c.fault == "stale"},
        "v1_withdraw_confirm-stale: a stale timestamp must be refused with a 4xx, got HTTP 200 'ok' (the handler accepted a call it cannot trust)",
    ),
    "no_verification": (
        REFUSE,
        "v2_webhook-wrong_key: a bad signature must be refused with a 4xx, got HTTP 200 with an empty body (the handler accepted a call it cannot trust)",
    ),
    "acts_despite_bad_signature": (
        REFUSE,
        "v2_webhook-body_changed: a body changed after signing must be refused with no side effect, but 1 side effect was recorded",
    ),
    "no_dedupe": (
        {c.id for c in ALL if c.verdict == "once"},
        "v2_webhook-duplicate: a duplicate must be handled once, but 2 side effects were recorded",
    ),
    "dedupes_on_signature": (
        {c.id for c in ALL if c.fault == "redelivery"},
        "v2_callback-redelivery: a redelivery must be handled once, but 2 side effects were recorded",
    ),
    "dedupes_on_transaction": (
        {c.id for c in ALL if c.fault == "out_of_order"},
        "v2_webhook-out_of_order: an earlier status delivered after a later one is another event and must be handled too, but it added no side effect",
    ),
    "json_answer": (
        {c.id for c in ALL if c.kind == "v2_callback" and c.verdict != "refuse"},
        """v2_callback-valid: a callback message must be answered with plain text 'ok' or 'deny', got '{"result":"ok"}' (a JSON reply is a documented failure)""",
    ),
    "500_on_unknown_payload": (
        {c.id for c in ALL if c.verdict == "acknowledge"},
        "v2_webhook-missing_data_type: data without a data_type must be acknowledged (200 or 201) or refused with a 4xx, never a 5xx, got HTTP 500 (a server error makes Cobo retry it 10 times)",
    ),
    "webhook_202": (
        {c.id for c in ALL if c.kind == "v2_webhook" and c.verdict != "refuse"},
        "v2_webhook-valid: a webhook must be answered 200 or 201 within 2 seconds, got HTTP 202 with an empty body (any other status makes Cobo retry it 10 times)",
    ),
    "v1_answers_success": (
        {c.id for c in ALL if c.kind.startswith("v1_") and c.verdict != "refuse"},
        "v1_transaction-valid: a v1 transaction notification must be answered HTTP 200 with the body 'ok', got HTTP 200 'success' (any other body makes Cobo push it again, up to 14 times)",
    ),
    "inconsistent_answers": (
        {c.id for c in ALL if c.kind in ("v1_withdraw_confirm", "v2_callback") and c.verdict == "once"},
        "v1_withdraw_confirm-duplicate: a duplicate of an approval request must get the same answer, got 'ok' then 'deny'",
    ),
}


@pytest.mark.parametrize("flaw", sorted(BROKEN))
def test_each_broken_handler_fails_exactly_the_cases_of_its_rule(cobo_callbacks: CoboCallbacks, flaw: str) -> None:
    expected, message = BROKEN[flaw]
    handler = Handler(cobo_callbacks, flaw)
    failed = failures(cobo_callbacks, fastapi_app(handler), handler, ALL)
    assert set(failed) == expected
    case_id = message.split(":")[0]
    assert failed[case_id].splitlines()[0] == message


def test_a_slow_webhook_handler_fails_every_case_it_must_answer(
    cobo_callbacks: CoboCallbacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pytest_cobo_errors.callbacks._WEBHOOK_DEADLINE", 0.01)  # the handler sleeps 0.03 s
    handler = Handler(cobo_callbacks, "slow_webhook")
    failed = failures(cobo_callbacks, fastapi_app(handler), handler, callback_cases("v2_webhook"))
    assert set(failed) == {c.id for c in callback_cases("v2_webhook") if c.verdict != "refuse"}
    first = failed["v2_webhook-valid"].splitlines()[0]
    assert first.startswith("v2_webhook-valid: a webhook must be answered 200 or 201 within 2 seconds; it took 0.0")
    assert first.endswith(" s (Cobo stops waiting and retries)")


def test_a_failure_names_the_case_the_contract_what_was_sent_and_what_came_back(cobo_callbacks: CoboCallbacks) -> None:
    handler = Handler(cobo_callbacks, "no_dedupe")
    [case] = callback_cases("v2_webhook", faults=["duplicate"])
    message = failures(cobo_callbacks, fastapi_app(handler), handler, [case])[case.id]
    lines = message.splitlines()
    assert lines[0] == "v2_webhook-duplicate: a duplicate must be handled once, but 2 side effects were recorded"
    assert lines[1] == f"  contract: {case.why}"
    assert lines[2].startswith(
        "  1. sent:     POST /v2/webhook, signed, first delivery; headers BIZ_TIMESTAMP, BIZ_RESP_SIGNATURE, "
        "Biz-Timestamp, Biz-Resp-Signature; body ("
    )
    assert 'bytes) \'{"event_id":' in lines[2]
    assert lines[3].startswith("  1. answered: HTTP 200 with an empty body in 0.")
    assert lines[4].startswith("  2. sent:     POST /v2/webhook, the same bytes and headers again; headers")
    assert lines[5].startswith("  2. answered: HTTP 200 with an empty body in ")


def test_without_a_probe_only_the_answers_are_checked(cobo_callbacks: CoboCallbacks) -> None:
    handler = Handler(cobo_callbacks, "acts_despite_bad_signature")
    app = fastapi_app(handler)
    for case in callback_cases(faults=["wrong_key", "valid"]):
        cobo_callbacks.check(app, case, path=ROUTES[case.kind])  # the forged side effects go unseen
    assert handler.effects.count("forged") == 4


def test_a_probe_that_sees_nothing_is_reported(cobo_callbacks: CoboCallbacks) -> None:
    app = fastapi_app(Handler(cobo_callbacks))
    [case] = callback_cases("v2_webhook", faults=["valid"])
    with pytest.raises(AssertionError) as caught:
        cobo_callbacks.check(app, case, side_effects=list, path="/v2/webhook")
    assert str(caught.value).splitlines()[0] == (
        "v2_webhook-valid: a valid delivery must be acted on, but the side_effects probe recorded nothing "
        "(is it wired to the handler?)"
    )


# --- targets -----------------------------------------------------------------------------------


@pytest.fixture
def server(cobo_callbacks: CoboCallbacks) -> Iterator[tuple[str, Handler]]:
    """A real HTTP server on 127.0.0.1 running the correct handler, with a redirect at /moved."""
    handler = Handler(cobo_callbacks)

    class Requests(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/moved":
                status, answer = 302, b""
            else:
                status, answer = handler.handle(self.path, self.headers.get, body)
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/v2/webhook")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Requests)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_a_running_server_is_reached_by_its_url(cobo_callbacks: CoboCallbacks, server: tuple[str, Handler]) -> None:
    url, handler = server
    for case in callback_cases(
        ["v2_webhook", "v1_transaction"], faults=["valid", "underscore_only", "non_hex", "duplicate"]
    ):
        cobo_callbacks.check(url + ROUTES[case.kind], case, side_effects=lambda: handler.effects)
    delivered = cobo_callbacks.deliver(url, "v2_callback", path="/v2/callback")
    assert (delivered.status, delivered.text) == (200, "ok")
    assert delivered.headers["Content-Type"] == "text/plain"
    assert json.loads(delivered.sent)["status"] == "PendingAuthorization"


def test_a_redirect_is_not_followed(cobo_callbacks: CoboCallbacks, server: tuple[str, Handler]) -> None:
    url, handler = server
    [case] = callback_cases("v2_webhook", faults=["valid"])
    with pytest.raises(AssertionError) as caught:
        cobo_callbacks.check(url, case, path="/moved")
    assert str(caught.value).splitlines()[0] == (
        "v2_webhook-valid: a webhook must be answered 200 or 201 within 2 seconds, got HTTP 302 "
        "(Cobo follows no redirects: a redirect makes Cobo retry it 10 times)"
    )
    assert handler.effects == []


def test_an_unreachable_url_fails_with_the_reason(cobo_callbacks: CoboCallbacks) -> None:
    with socket.socket() as bound:  # bound but never listening: connections to it are refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}/hook"
        with pytest.raises(AssertionError, match=rf"could not deliver to {url}: "):
            cobo_callbacks.deliver(url, "v2_webhook")


def test_cobo_fault_in_the_same_test_leaves_deliveries_alone(cobo_fault: Any, cobo_callbacks: CoboCallbacks) -> None:
    handler = Handler(cobo_callbacks)
    for case in callback_cases("v2_webhook", faults=["valid", "wrong_key"]):
        cobo_callbacks.check(fastapi_app(handler), case, side_effects=lambda: handler.effects, path="/v2/webhook")
    assert len(handler.effects) == 1


def test_asgi_and_wsgi_apps_are_told_apart(cobo_callbacks: CoboCallbacks) -> None:
    async def bare_asgi(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    class AsgiObject:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await bare_asgi(scope, receive, send)

    def bare_wsgi(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"o", b"k"]

    for app in (
        bare_asgi,
        AsgiObject(),
        bare_wsgi,
        fastapi_app(Handler(cobo_callbacks)),
        flask_app(Handler(cobo_callbacks)),
    ):
        delivered = cobo_callbacks.deliver(app, "v2_callback", path="/v2/callback")
        assert (delivered.status, delivered.body) == (200, b"ok"), app
    with pytest.raises(TypeError, match="target must be an ASGI app, a WSGI app or a URL string, got int"):
        cobo_callbacks.deliver(42, "v2_webhook")
    with pytest.raises(ValueError, match="a target URL must start with http:// or https://"):
        cobo_callbacks.deliver("127.0.0.1:8000", "v2_webhook")
    with pytest.raises(ValueError, match=r"a target URL must be on loopback \(127\.0\.0\.1, localhost, ::1\)"):
        cobo_callbacks.deliver("https://hooks.example.com/cobo", "v2_webhook")  # never leaves the machine
    with pytest.raises(ValueError, match="path must start with '/'"):
        cobo_callbacks.deliver(bare_asgi, "v2_webhook", path="hook")


def test_what_a_handler_raises_is_reported(cobo_callbacks: CoboCallbacks) -> None:
    def crashing_wsgi(environ: Any, start_response: Any) -> list[bytes]:
        raise KeyError("BIZ_TIMESTAMP")

    async def crashing_asgi(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("non-hexadecimal number found in fromhex() arg at position 0")

    [case] = callback_cases("v2_webhook", faults=["non_hex"])
    for app, raised in ((crashing_wsgi, "KeyError: 'BIZ_TIMESTAMP'"), (crashing_asgi, "ValueError: non-hexadecimal")):
        with pytest.raises(AssertionError) as caught:
            cobo_callbacks.check(app, case)
        lines = str(caught.value).splitlines()
        assert (
            lines[0]
            == case.id
            + ": a bad signature must be refused with a 4xx, got HTTP 500 (a server error makes Cobo retry it 10 times)"
        )
        assert lines[-1].startswith(f"  raised:   {raised}")


def test_an_async_test_can_deliver(cobo_callbacks: CoboCallbacks) -> None:
    app = fastapi_app(Handler(cobo_callbacks))

    async def from_a_coroutine() -> int:
        return cobo_callbacks.deliver(app, "v2_webhook", path="/v2/webhook").status  # its loop is running

    assert asyncio.run(from_a_coroutine()) == 200


# --- what is sent ------------------------------------------------------------------------------


def captured(cobo_callbacks: CoboCallbacks, kind: str, fault: str = "valid") -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def capture(environ: Any, start_response: Any) -> list[bytes]:
        seen["body"] = environ["wsgi.input"].read()
        seen["environ"] = environ
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    delivered = cobo_callbacks.deliver(capture, kind, fault=fault)  # type: ignore[arg-type]
    seen["delivered"] = delivered
    return seen


@pytest.mark.parametrize("kind", ["v1_transaction", "v1_withdraw_confirm", "v2_webhook", "v2_callback"])
def test_signatures_verify_with_independent_code(cobo_callbacks: CoboCallbacks, kind: str) -> None:
    seen = captured(cobo_callbacks, kind)
    delivered, environ = seen["delivered"], seen["environ"]
    headers = delivered.sent_headers
    assert headers["BIZ_TIMESTAMP"] == headers["Biz-Timestamp"] == environ["HTTP_BIZ_TIMESTAMP"]
    assert headers["BIZ_RESP_SIGNATURE"] == headers["Biz-Resp-Signature"]
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["REQUEST_METHOD"] == "POST"
    stamp = headers["Biz-Timestamp"]
    assert len(stamp) == 13
    assert abs(int(stamp) - time.time() * 1000) < 60_000
    assert seen["body"] == delivered.sent
    message = delivered.sent + b"|" + stamp.encode()
    public = cobo_callbacks.public_key_hex(kind)  # type: ignore[arg-type]
    assert verify(public, kind, message, bytes.fromhex(headers["Biz-Resp-Signature"]))
    assert not verify(public, kind, message + b" ", bytes.fromhex(headers["Biz-Resp-Signature"]))
    assert len(public) == (66 if kind.startswith("v1_") else 64)


def test_each_fault_sends_what_it_says(cobo_callbacks: CoboCallbacks) -> None:
    sent = {fault: captured(cobo_callbacks, "v2_webhook", fault)["delivered"] for fault in
            ("hyphen_only", "underscore_only", "no_signature", "non_hex", "re_serialised", "raw_bytes", "stale",
             "body_changed", "missing_data_type", "unknown_data_type", "unknown_event_type")}  # fmt: skip
    assert set(sent["hyphen_only"].sent_headers) == {"Content-Type", "Biz-Timestamp", "Biz-Resp-Signature"}
    assert set(sent["underscore_only"].sent_headers) == {"Content-Type", "BIZ_TIMESTAMP", "BIZ_RESP_SIGNATURE"}
    assert set(sent["no_signature"].sent_headers) == {"Content-Type"}
    assert sent["non_hex"].sent_headers["Biz-Resp-Signature"].startswith("not-hex:")
    assert sent["re_serialised"].sent.startswith(b'{\n  "created_timestamp": ')
    raw = sent["raw_bytes"].sent
    assert raw.startswith(b'{"url":')
    assert b"\\u00eb" in raw
    assert b'": ' not in raw
    assert int(sent["stale"].sent_headers["Biz-Timestamp"]) < time.time() * 1000 - 86_000_000
    assert json.loads(sent["body_changed"].sent)["data"]["destination"]["account_output"]["amount"] == "125.5000"
    assert "data_type" not in json.loads(sent["missing_data_type"].sent)["data"]
    assert json.loads(sent["unknown_data_type"].sent)["data"]["data_type"] == "FutureEventData"
    assert json.loads(sent["unknown_event_type"].sent)["type"] == "wallets.future_event.created"
    changed = json.loads(captured(cobo_callbacks, "v2_callback", "body_changed")["delivered"].sent)
    assert changed["destination"]["account_output"]["amount"] == "125.5000"  # the Transaction's own amount
    for fault in ("unknown_event_type", "missing_data_type", "unknown_data_type"):
        with pytest.raises(ValueError, match=f"fault '{fault}' does not apply to v2_callback; valid: valid, "):
            cobo_callbacks.deliver(flask_app(Handler(cobo_callbacks)), "v2_callback", fault=fault)
    with pytest.raises(ValueError, match="unknown callback fault 'tampered'; valid: valid, hyphen_only, "):
        cobo_callbacks.deliver(flask_app(Handler(cobo_callbacks)), "v2_callback", fault="tampered")


def test_deliver_sends_the_first_of_two_deliveries(cobo_callbacks: CoboCallbacks) -> None:
    handler = Handler(cobo_callbacks)
    app = flask_app(handler)
    payload = cobo_callbacks.payload("v1_transaction", amount="42")
    for fault in ("duplicate", "redelivery", "out_of_order"):
        delivered = cobo_callbacks.deliver(app, "v1_transaction", payload, fault=fault, path="/v1/transaction")
        assert (delivered.status, delivered.text, json.loads(delivered.sent)) == (200, "ok", payload)
    assert len(handler.effects) == 1


def test_payloads_are_realistic_and_fresh(cobo_callbacks: CoboCallbacks) -> None:
    one, two = cobo_callbacks.payload("v2_webhook"), cobo_callbacks.payload("v2_webhook")
    assert one["event_id"] != two["event_id"]
    assert one["data"]["transaction_id"] != two["data"]["transaction_id"]
    assert list(one) == ["event_id", "url", "created_timestamp", "type", "data"]
    assert (one["type"], one["data"]["data_type"], one["data"]["status"]) == (
        "wallets.transaction.succeeded",
        "Transaction",
        "Completed",
    )
    assert set(SAMPLE_EVENT_TYPES) <= set(EVENT_TYPES)
    assert len(EVENT_TYPES) == 60
    data_types = {t: cobo_callbacks.payload("v2_webhook", type=t)["data"]["data_type"] for t in SAMPLE_EVENT_TYPES}
    assert data_types["wallets.transaction.failed"] == "Transaction"
    assert data_types["wallet.token.enabled"] == "Tokens"
    assert data_types["token.suspended.withdraw"] == "SuspendedToken"
    assert data_types["wallets.token_listing.succeeded"] == "TokenListing"
    with pytest.raises(ValueError, match=r"no sample data for webhook event type 'mpc_vaults\.created'; pass data="):
        cobo_callbacks.payload("v2_webhook", type="mpc_vaults.created")
    assert cobo_callbacks.payload("v2_webhook", type="mpc_vaults.created", data={"data_type": "MPCVault"})["data"] == {
        "data_type": "MPCVault"
    }
    tx, other = cobo_callbacks.payload("v2_callback"), cobo_callbacks.payload("v2_callback", description="")
    assert tx["transaction_id"] != other["transaction_id"]
    assert {"transaction_id", "cobo_id", "request_id", "wallet_id", "source", "destination", "fee"} <= set(tx)
    assert (tx["type"], tx["status"], other["description"]) == ("Withdrawal", "PendingAuthorization", "")
    assert not {"data", "data_type", "id", "url"} & set(tx)  # the Transaction itself, not a record of the call
    assert cobo_callbacks.payload("v2_callback", data={"x": 1})["data"] == {"x": 1}  # a top-level key like any
    deposit, withdrawal = cobo_callbacks.payload("v1_transaction"), cobo_callbacks.payload("v1_withdraw_confirm")
    assert (deposit["side"], deposit["status"]) == ("deposit", "success")
    assert (withdrawal["side"], withdrawal["status"]) == ("withdraw", "pending")
    assert cobo_callbacks.payload("v1_transaction", coin="BTC")["coin"] == "BTC"
    with pytest.raises(ValueError, match="unknown callback kind 'v3_webhook'; valid: v1_transaction, "):
        cobo_callbacks.payload("v3_webhook")  # type: ignore[arg-type]


def test_keys_can_be_given(cobo_callbacks: CoboCallbacks) -> None:
    v1, v2 = TestKey(), TestKey(curve="ed25519")
    own = CoboCallbacks(v1_key=v1, v2_key=v2)
    assert own.public_key_hex("v1_withdraw_confirm") == v1.public_key_hex
    assert own.public_key_hex("v2_callback") == v2.public_key_hex
    assert cobo_callbacks.public_key_hex("v2_webhook") != v2.public_key_hex
    with pytest.raises(ValueError, match="v2_key must be a TestKey on ed25519, got one on secp256k1"):
        CoboCallbacks(v2_key=v1)
    with pytest.raises(TypeError, match="v1_key must be a TestKey, got str"):
        CoboCallbacks(v1_key=v1.public_key_hex)  # type: ignore[arg-type]


# --- the cases ---------------------------------------------------------------------------------


def test_case_ids_are_stable_and_sorted() -> None:
    ids = [case.id for case in ALL]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids)) == 53
    assert ids[:14] == [
        "v1_transaction-body_changed",
        "v1_transaction-duplicate",
        "v1_transaction-hyphen_only",
        "v1_transaction-no_signature",
        "v1_transaction-non_hex",
        "v1_transaction-out_of_order",
        "v1_transaction-raw_bytes",
        "v1_transaction-re_serialised",
        "v1_transaction-redelivery",
        "v1_transaction-stale",
        "v1_transaction-underscore_only",
        "v1_transaction-valid",
        "v1_transaction-wrong_key",
        "v1_withdraw_confirm-body_changed",
    ]
    assert [c.id for c in callback_cases("v2_callback", faults=["valid", "unknown_data_type", "duplicate"])] == [
        "v2_callback-duplicate",
        "v2_callback-valid",
    ]
    assert [c.id for c in callback_cases("v2_callback")] == [
        "v2_callback-body_changed",
        "v2_callback-duplicate",
        "v2_callback-hyphen_only",
        "v2_callback-no_signature",
        "v2_callback-non_hex",
        "v2_callback-raw_bytes",
        "v2_callback-re_serialised",
        "v2_callback-redelivery",
        "v2_callback-stale",
        "v2_callback-underscore_only",
        "v2_callback-valid",
        "v2_callback-wrong_key",
    ]
    verdicts = {c.id: c.verdict for c in ALL}
    assert verdicts["v2_webhook-underscore_only"] == "accept"
    assert verdicts["v2_webhook-stale"] == "refuse"
    assert verdicts["v1_transaction-redelivery"] == "once"
    assert verdicts["v2_webhook-unknown_event_type"] == "acknowledge"
    assert {c.kind for c in ALL if c.fault == "out_of_order"} == {"v1_transaction", "v2_webhook"}
    assert {c.kind for c in ALL if c.verdict == "acknowledge"} == {"v2_webhook"}  # a callback message has no data_type
    assert "replay protection: our recommendation" in next(c.why for c in ALL if c.fault == "stale")
    assert all("\n" not in c.why for c in ALL)
    assert repr(ALL[0]) == "CallbackCase(v1_transaction-body_changed: refuse)"


def test_callback_cases_refuses_bad_arguments() -> None:
    with pytest.raises(
        ValueError,
        match="unknown callback kind 'webhook'; valid: v1_transaction, v1_withdraw_confirm, v2_webhook, v2_callback",
    ):
        callback_cases("webhook")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match="unknown callback fault 'tampered'; valid: valid, hyphen_only, underscore_only, "
    ):
        callback_cases(faults=["valid", "tampered"])
    with pytest.raises(
        ValueError,
        match="no callback case has kind v1_transaction and fault unknown_event_type: unknown_event_type applies to v2_webhook",
    ):
        callback_cases("v1_transaction", faults=["unknown_event_type"])
    with pytest.raises(
        ValueError,
        match="no callback case has kind v2_callback and fault missing_data_type: missing_data_type applies to v2_webhook",
    ):
        callback_cases("v2_callback", faults=["missing_data_type"])
    with pytest.raises(ValueError, match="no callback faults chosen"):
        callback_cases(faults=[])
    with pytest.raises(TypeError, match="kinds must be a string or an iterable of strings, got int"):
        callback_cases(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="argname must name a test argument"):
        cobo_callback_cases(argname="not a name")
    mark = cobo_callback_cases(kinds=["v2_callback"], faults=["valid"], argname="case")
    assert mark.args[0] == "case"
    assert mark.kwargs["ids"] == ["v2_callback-valid"]


def test_the_package_exports_the_callback_api() -> None:
    for name in ("CoboCallbacks", "CallbackCase", "cobo_callback_cases", "callback_cases"):
        assert name in pytest_cobo_errors.__all__
        assert getattr(pytest_cobo_errors, name) is not None


# --- the fixture and the coverage report -------------------------------------------------------

INNER = """
from pytest_cobo_errors import callback_cases, cobo_callback_cases

async def accept_all(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})

@cobo_callback_cases(kinds="v2_webhook", faults=["valid", "wrong_key"])
def test_hook(cobo_callbacks, cobo_callback):
    cobo_callbacks.check(accept_all, cobo_callback)

def test_key(cobo_callbacks, cobo_waas2_signing_key):
    assert cobo_callbacks.public_key_hex("v2_webhook") == cobo_waas2_signing_key.public_key_hex
"""


def test_the_fixture_checks_cases_and_fails_with_the_rule(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(INNER)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * AssertionError: v2_webhook-wrong_key: a bad signature must be refused with a 4xx, got HTTP 200 with an empty body (the handler accepted a call it cannot trust)",
            "E *   contract: a delivery signed by another key is refused with a 4xx and no side effect",
        ]
    )
    assert "callback cases" not in result.stdout.str()


def test_checked_cases_have_their_own_coverage_heading(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(INNER)
    result = pytester.runpytest("--cobo-coverage")
    result.stdout.fnmatch_lines(
        [
            "*= cobo error coverage =*",
            "error codes    0/41 exercised*",
            "callback cases  2/53 checked",
            "callback cases not checked:",
            "  v1_transaction-body_changed, v1_transaction-duplicate, *",
        ]
    )
    assert "v2_webhook-valid," not in result.stdout.str()


def test_coverage_of_callbacks_merges_across_workers() -> None:
    from pytest_cobo_errors.coverage import ErrorCoverage

    worker, controller = ErrorCoverage(), ErrorCoverage()
    for case in ALL:
        worker.record_callback(case.id)
    controller.merge(worker.as_dict())
    assert controller.callbacks == {c.id for c in ALL}
    assert controller.percent == 0.0  # callbacks never count towards the codes' percentage
    assert controller.report()[-2:] == ["callback cases 53/53 checked", "every callback case is checked"]
    assert "callbacks" not in ErrorCoverage().as_dict()
