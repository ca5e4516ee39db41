"""A Flask (WSGI) handler for Cobo's calls that keeps every part of Cobo's contract.

``make_app({"v1": cobo_v1_public_key, "v2": cobo_v2_public_key}, Store())`` serves the four
URLs in `callback_inbox.PATHS`, like `fastapi_handler`. The route reads ``request.get_data()``,
the raw bytes Cobo signed, never ``request.get_json()`` (verifying ``json.dumps`` of it would
check other bytes), and hands them to `callback_inbox.Inbox`.

WSGI itself maps ``Biz-Timestamp`` and ``BIZ_TIMESTAMP`` to one ``HTTP_BIZ_TIMESTAMP``, and
``request.headers.get`` finds it under either name. What arrives depends on the server in front:
gunicorn 22+ and nginx (by default) drop the underscore spelling, and the stdlib's wsgiref joins
both into one comma-separated value, which `callback_inbox` reads as one when they agree.
"""

from __future__ import annotations

from collections.abc import Mapping

from callback_inbox import PATHS, Inbox, Store
from flask import Flask, Response, request


def make_app(public_keys: Mapping[str, str], store: Store, *, max_age: float | None = None) -> Flask:
    """The app: one POST route per kind of Cobo call, all answered by one `Inbox`."""
    inbox = Inbox(public_keys, store) if max_age is None else Inbox(public_keys, store, max_age=max_age)
    app = Flask(__name__)

    def route(kind: str) -> None:
        def receive() -> Response:
            raw = request.get_data(cache=False)  # the exact bytes Cobo signed
            answer = inbox.receive(kind, raw, request.headers.get)
            return Response(answer.text, status=answer.status, mimetype="text/plain")

        app.add_url_rule(PATHS[kind], endpoint=kind, view_func=receive, methods=["POST"])

    for kind in PATHS:
        route(kind)
    return app
