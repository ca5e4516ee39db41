"""A deliberately naive FastAPI handler for Cobo's calls: do NOT copy it.

It is how such handlers are often written from the docs' snippets, and it works for the happy
path a developer tries by hand. Each flaw is marked ``FLAW``; `test_callback_handlers` runs
every case of the fault matrix against it and shows what each one costs. Compare
`fastapi_handler`, which keeps Cobo's contract.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from callback_inbox import PATHS, Store
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse


def _verify(generation: str, public_key_hex: str, signature_hex: str, message: str) -> bool:
    digest = hashlib.sha256(hashlib.sha256(message.encode()).digest()).digest()
    # FLAW (non-hex signature): bytes.fromhex raises ValueError outside the try, so a signature
    # that is not hex is a 500, not a 401, and Cobo, or an attacker, is told to try again.
    signature = bytes.fromhex(signature_hex)
    try:
        if generation == "v1":
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), bytes.fromhex(public_key_hex))
            key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        else:
            ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(signature, digest)
    except InvalidSignature:
        return False
    return True


def make_app(public_keys: Mapping[str, str], store: Store) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    async def verified(request: Request, generation: str) -> dict[str, Any]:
        # FLAW (header spelling): only BIZ_TIMESTAMP/BIZ_RESP_SIGNATURE, the names the docs give.
        # Behind nginx or gunicorn 22+ they never arrive, and a request with only the hyphenated
        # names, or none, makes the string concatenation below raise TypeError: a 500.
        timestamp = request.headers.get("BIZ_TIMESTAMP")
        signature = request.headers.get("BIZ_RESP_SIGNATURE")
        # FLAW (re-serialising): parses the body, then verifies what json.dumps makes of it. That
        # matches Cobo's bytes only while Cobo's JSON happens to look like json.dumps's output:
        # other key order, escapes or spacing and a genuine call is refused.
        body = await request.json()
        message = json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "|" + timestamp
        if not _verify(generation, public_keys[generation], signature, message):
            raise HTTPException(status_code=401, detail="Signature verification failed")
        # FLAW (replay): the timestamp is never compared with the clock, so a call recorded
        # yesterday is accepted today.
        return body

    def act(kind: str, body: dict[str, Any]) -> None:
        # FLAW (duplicates): no record of what was already handled, so Cobo's retries and
        # duplicate deliveries are acted on again (a deposit credited twice).
        store.effects.append(f"{kind} {body.get('event_id') or body.get('id') or body.get('transaction_id')}")

    @app.post(PATHS["v1_transaction"], response_class=PlainTextResponse)
    async def v1_transaction(request: Request) -> str:
        act("v1_transaction", await verified(request, "v1"))
        return "ok"

    @app.post(PATHS["v1_withdraw_confirm"], response_class=PlainTextResponse)
    async def v1_withdraw_confirm(request: Request) -> str:
        act("v1_withdraw_confirm", await verified(request, "v1"))
        return "ok"

    # FLAW (unknown data): dispatches on data.data_type with a plain dict lookup, so a missing or
    # new data_type raises KeyError (a 500, retried 10 times), and never looks at the event type,
    # so an event it was not written for is acted on as if it were a transaction.
    on_data: dict[str, Any] = {"Transaction": act, "Tokens": act, "SuspendedToken": act, "TokenListing": act}

    @app.post(PATHS["v2_webhook"])
    async def v2_webhook(request: Request) -> dict[str, str]:
        body = await verified(request, "v2")
        on_data[body["data"]["data_type"]]("v2_webhook", body)
        return {"result": "ok"}

    @app.post(PATHS["v2_callback"])
    async def v2_callback(request: Request) -> dict[str, str]:
        act("v2_callback", await verified(request, "v2"))  # the body is the Transaction itself
        # FLAW (answer format): FastAPI's habit of answering JSON. Cobo reads the body as plain text
        # and wants exactly "ok" or "deny"; {"result": "ok"} is a documented failure, retried
        # up to 30 times, and the withdrawal never goes through.
        return {"result": "ok"}

    return app
