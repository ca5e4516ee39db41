"""A FastAPI (ASGI) handler for Cobo's calls that keeps every part of Cobo's contract.

``make_app({"v1": cobo_v1_public_key, "v2": cobo_v2_public_key}, Store())`` serves the four
URLs in `callback_inbox.PATHS`. The route reads the body with ``await request.body()``, the raw
bytes Cobo signed, never ``request.json()`` or a Pydantic model, and hands it to
`callback_inbox.Inbox`, which verifies, acts once and chooses the answer. Every answer is plain
text: ``ok``/``deny`` where Cobo reads the body, a short reason with a 401.

Run it with ``uvicorn 'fastapi_handler:make_app' --factory`` after wiring in your keys and store.
"""

from __future__ import annotations

from collections.abc import Mapping

from callback_inbox import PATHS, Inbox, Store
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse


def make_app(public_keys: Mapping[str, str], store: Store, *, max_age: float | None = None) -> FastAPI:
    """The app: one POST route per kind of Cobo call, all answered by one `Inbox`."""
    inbox = Inbox(public_keys, store) if max_age is None else Inbox(public_keys, store, max_age=max_age)
    app = FastAPI(title="Cobo callbacks", docs_url=None, redoc_url=None, openapi_url=None)

    def route(kind: str) -> None:
        async def receive(request: Request) -> PlainTextResponse:
            raw = await request.body()  # the exact bytes Cobo signed
            # Starlette's headers are case-insensitive and keep underscores: both spellings reach here
            answer = inbox.receive(kind, raw, request.headers.get)
            return PlainTextResponse(answer.text, status_code=answer.status)

        app.add_api_route(PATHS[kind], receive, methods=["POST"], name=kind)

    for kind in PATHS:
        route(kind)
    return app
