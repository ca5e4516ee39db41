"""Cobo calls you: deliver signed callbacks and webhook events to a handler, and check its answers.

`CoboCallbacks` (the ``cobo_callbacks`` fixture) signs each body as Cobo does (v1 kinds:
secp256k1, v2 kinds: Ed25519, both over sha256(sha256(``body|timestamp``)) with the timestamp in
milliseconds) and POSTs it to an ASGI app or a WSGI app in-process (httpx's transports), or to the
URL of a running server (``urllib.request``, no proxy, no redirects followed). `CoboCallbacks.check`
delivers one `CallbackCase` and asserts Cobo's contract: what a handler must answer, in time, and
which side effects it may have.

In-process WSGI cannot show one thing: httpx's WSGI transport, like every WSGI server, maps
``BIZ_TIMESTAMP`` and ``Biz-Timestamp`` to the same ``HTTP_BIZ_TIMESTAMP``, so header spelling
cases pass a Flask app that reads either; behind nginx or gunicorn 22+ the underscore spelling
never arrives.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_cobo_errors.callback_matrix import (
    _WHAT,
    ANSWERS,
    EVENT_TYPES,
    FAULTS,
    KINDS,
    NOUNS,
    CallbackCase,
    Kind,
    _altered,
    _compact,
    _earlier,
    _faulted,
    _unsorted,
    applies,
    callback_cases,
    cobo_callback_cases,
    sample_payload,
)
from pytest_cobo_errors.catalog import shown
from pytest_cobo_errors.hosts import is_loopback
from pytest_cobo_errors.signing import _ONE_DAY, TestKey, _shared, _timestamp, session_key

if TYPE_CHECKING:
    from pytest_cobo_errors.signing import Spelling

__all__ = [
    "EVENT_TYPES",
    "FAULTS",
    "KINDS",
    "CallbackCase",
    "CoboCallbacks",
    "Delivered",
    "Kind",
    "callback_cases",
    "cobo_callback_cases",
]

_BASE_URL = "http://handler.test"
_WEBHOOK_DEADLINE = 2.0
_RETRIED = {
    "v1_transaction": "makes Cobo push it again, up to 14 times",
    "v1_withdraw_confirm": "makes Cobo push it again",
    "v2_webhook": "makes Cobo retry it 10 times",
    "v2_callback": "makes Cobo retry it up to 30 times",
}
_REFUSALS = {
    "no_signature": "an unsigned delivery",
    "wrong_key": "a bad signature",
    "non_hex": "a bad signature",
    "body_changed": "a body changed after signing",
    "re_serialised": "a body that is not the signed bytes",
    "stale": "a stale timestamp",
    "missing_data_type": "data without a data_type",
    "unknown_data_type": "an unknown data_type",
    "unknown_event_type": "an unknown event type",
}


@dataclass(frozen=True)
class Delivered:
    """One POST to the handler and its answer."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    elapsed: float
    sent: bytes
    sent_headers: Mapping[str, str]
    raised: str = ""
    """What the in-process handler raised (``"ValueError: ..."``), if it raised; "" otherwise."""

    @property
    def text(self) -> str:
        """The answer's body as text."""
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class _Sending:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    what: str


class CoboCallbacks:
    """The object behind the ``cobo_callbacks`` fixture: signs Cobo's calls, delivers them, checks the answers.

    v1 kinds are signed with *v1_key* (secp256k1), v2 kinds with *v2_key* (Ed25519); by default
    the session's keys (`session_key`). Give the handler `public_key_hex` where it reads Cobo's
    public key.
    """

    timeout: float = 10.0
    """Seconds to wait for a handler's answer before the delivery fails."""

    def __init__(self, *, v1_key: TestKey | None = None, v2_key: TestKey | None = None) -> None:
        self.v1_key: TestKey = v1_key if v1_key is not None else session_key("secp256k1")
        self.v2_key: TestKey = v2_key if v2_key is not None else session_key("ed25519")
        for name, key, curve in (("v1_key", self.v1_key, "secp256k1"), ("v2_key", self.v2_key, "ed25519")):
            if not isinstance(key, TestKey):
                raise TypeError(f"{name} must be a TestKey, got {type(key).__name__}")
            if key.curve != curve:
                raise ValueError(f"{name} must be a TestKey on {curve}, got one on {key.curve}")

    def __repr__(self) -> str:
        return f"CoboCallbacks(v1_key={self.v1_key!r}, v2_key={self.v2_key!r})"

    # --- what is sent --------------------------------------------------------------------------

    def _key(self, kind: str) -> TestKey:
        _check_kind(kind)
        return self.v1_key if kind.startswith("v1_") else self.v2_key

    def public_key_hex(self, kind: Kind) -> str:
        """The public key the handler of *kind* must verify with (where it reads Cobo's)."""
        return self._key(kind).public_key_hex

    def payload(self, kind: Kind, **overrides: Any) -> dict[str, Any]:
        """A realistic body of *kind*, with fresh ids; *overrides* replace top-level keys.

        v1 kinds: Cobo's v1 callback body (``id``, ``coin``, ``address``, ``amount``, ``side``,
        ``status``, ``request_id``, ...). ``v2_webhook``: an event (``event_id``, ``url``,
        ``created_timestamp``, ``type``, ``data``), ``wallets.transaction.succeeded`` unless
        ``type=`` names another of the transaction or token events. ``v2_callback``: a callback
        message, which is the ``Transaction`` awaiting approval itself (``transaction_id``,
        ``request_id``, ``wallet_id``, ``status``, ``source``, ``destination``, ...), as Cobo POSTs it.
        """
        return sample_payload(kind, **overrides)

    def _signed(
        self,
        kind: str,
        body: bytes,
        *,
        what: str,
        spelling: Spelling = "both",
        stamp: str | None = None,
        key: TestKey | None = None,
        signed_body: bytes | None = None,
    ) -> _Sending:
        signer = key or self._key(kind)
        signed = signed_body if signed_body is not None else body
        headers = signer.signature_headers(signed, timestamp=stamp, spelling=spelling)
        return _Sending(body, (("Content-Type", "application/json"), *headers), what)

    def _first(self, kind: str, fault: str, payload: Mapping[str, Any]) -> _Sending:
        """What *fault* sends first (its only delivery, unless it is a delivery fault)."""
        what = _WHAT[fault][0]
        compact = _compact(payload)
        if fault in ("hyphen_only", "underscore_only"):
            spelling: Spelling = "hyphen" if fault == "hyphen_only" else "underscore"
            return self._signed(kind, compact, what=what, spelling=spelling)
        if fault == "no_signature":
            return _Sending(compact, (("Content-Type", "application/json"),), what)
        if fault == "wrong_key":
            return self._signed(kind, compact, what=what, key=_shared("impostor", self._key(kind).curve))
        if fault == "non_hex":
            return _non_hex(self._signed(kind, compact, what=what))
        if fault == "body_changed":
            return self._signed(kind, _compact(_altered(payload)), what=what, signed_body=compact)
        if fault == "re_serialised":
            pretty = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")
            return self._signed(kind, pretty, what=what, signed_body=compact)
        if fault == "stale":
            return self._signed(kind, compact, what=what, stamp=_timestamp(_ONE_DAY))
        if fault == "raw_bytes":
            raw = json.dumps(_unsorted(payload), separators=(",", ":"), ensure_ascii=True).encode("ascii")
            return self._signed(kind, raw, what=what)
        return self._signed(kind, _compact(_faulted(fault, payload)), what=what)

    def _second(self, kind: str, fault: str, payload: Mapping[str, Any], first: _Sending) -> _Sending | None:
        """What a delivery fault sends after *first*, signed now; None for other faults."""
        if fault == "duplicate":
            return _Sending(first.body, first.headers, _WHAT[fault][1])
        if fault == "redelivery":
            stamp = dict(first.headers)["Biz-Timestamp"]
            return self._signed(kind, first.body, what=_WHAT[fault][1], stamp=_after(stamp))
        if fault == "out_of_order":
            return self._signed(kind, _compact(_earlier(kind, payload)), what=_WHAT[fault][1])
        return None

    # --- delivering ----------------------------------------------------------------------------

    def deliver(
        self,
        target: Any,
        kind: Kind,
        payload: Mapping[str, Any] | None = None,
        *,
        fault: str = "valid",
        path: str = "/",
    ) -> Delivered:
        """POST one signed *kind* call (*payload*, or `payload`'s sample) to *target* with *fault*.

        *target*: an ASGI app (FastAPI, Starlette, an ``async`` callable), a WSGI app (Flask, a
        callable of ``environ, start_response``), or the URL of a running server (*path* is
        appended unless it is ``"/"``). A fault that takes two deliveries (``duplicate``,
        ``redelivery``, ``out_of_order``) sends the first; `check` sends both.
        """
        _check_kind(kind)
        _check_fault(kind, fault)
        if payload is not None and not isinstance(payload, Mapping):
            raise TypeError(f"payload must be a mapping (a JSON object), got {type(payload).__name__}")
        body = dict(payload) if payload is not None else self.payload(kind)
        return self._send(target, self._first(kind, fault, body), path)

    def _send(self, target: Any, sending: _Sending, path: str) -> Delivered:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {shown(path)}")
        if isinstance(target, str):
            return _send_url(target, path, sending, self.timeout)
        if not callable(target):
            raise TypeError(f"target must be an ASGI app, a WSGI app or a URL string, got {type(target).__name__}")
        if _is_asgi(target):
            return _send_asgi(target, path, sending, self.timeout)
        return _send_wsgi(target, path, sending)

    # --- checking ------------------------------------------------------------------------------

    def check(
        self,
        target: Any,
        case: CallbackCase,
        *,
        side_effects: Callable[[], Sequence[object]] | None = None,
        path: str = "/",
    ) -> list[Delivered]:
        """Deliver *case* to *target* and assert what Cobo's contract requires; return the deliveries.

        *side_effects* is your probe: a callable returning the business actions done so far (the
        event ids processed, the rows written). With it, an accepted delivery must add at least one,
        a refused or acknowledged one none, a duplicate or redelivery none the second time. Without
        it only the answers are checked, which cannot see a handler that acts on a forged call and
        then answers 401. Fails with an ``AssertionError`` naming the case, the rule broken, what
        was sent and what came back.
        """
        __tracebackhide__ = True
        if not isinstance(case, CallbackCase):
            raise TypeError(f"case must be a CallbackCase (from callback_cases()), got {type(case).__name__}")
        if side_effects is not None and not callable(side_effects):
            raise TypeError(f"side_effects must be a callable returning a sequence, got {type(side_effects).__name__}")
        _check_kind(case.kind)
        _check_fault(case.kind, case.fault)
        from pytest_cobo_errors.coverage import recorder

        coverage = recorder()
        if coverage is not None:
            coverage.record_callback(case.id)
        probe = _Probe(side_effects)
        done: list[Delivered] = []
        sent: list[str] = []
        adds: list[int | None] = []
        payload = self.payload(case.kind)
        sending: _Sending | None = self._first(case.kind, case.fault, payload)
        step = 0
        while sending is not None:
            done.append(self._send(target, sending, path))
            sent.append(sending.what)
            adds.append(probe.added())
            problem = _judge(case, step, done, adds)
            if problem:
                raise AssertionError(_report(case, problem, done, sent, path))
            sending = self._second(case.kind, case.fault, payload, sending) if step == 0 else None
            step += 1
        return done


@dataclass
class _Probe:
    read: Callable[[], Sequence[object]] | None
    seen: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.seen = self._count()

    def _count(self) -> int:
        if self.read is None:
            return -1
        effects = self.read()
        if isinstance(effects, (str, bytes)) or not isinstance(effects, Iterable):
            raise TypeError(f"side_effects must return the actions done so far (a list), got {type(effects).__name__}")
        return len(list(effects))

    def added(self) -> int | None:
        """Side effects recorded since the last call, or None without a probe."""
        if self.read is None:
            return None
        now = self._count()
        added, self.seen = now - self.seen, now
        return added


def _after(stamp: str) -> str:
    return str(max(int(_timestamp()), int(stamp) + 1))


def _non_hex(sending: _Sending) -> _Sending:
    bad = "not-hex:" + "zz" * 32
    headers = tuple((k, bad if "signature" in k.lower() else v) for k, v in sending.headers)
    return _Sending(sending.body, headers, sending.what)


def _check_kind(kind: object) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown callback kind {shown(kind)}; valid: {', '.join(KINDS)}")


def _check_fault(kind: str, fault: object) -> None:
    if fault not in FAULTS:
        raise ValueError(f"unknown callback fault {shown(fault)}; valid: {', '.join(FAULTS)}")
    if not applies(kind, str(fault)):
        valid = [f for f in FAULTS if applies(kind, f)]
        raise ValueError(f"fault {fault!r} does not apply to {kind}; valid: {', '.join(valid)}")


# --- the contract ----------------------------------------------------------------------------------


def _got(d: Delivered) -> str:
    return f"HTTP {d.status} {_quoted(d.body)}" if d.body else f"HTTP {d.status} with an empty body"


def _quoted(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace")
    return repr(text) + ("…" if len(body) > 200 else "")


def _answer_problem(kind: str, d: Delivered) -> str:
    """Why *d* is not an answer Cobo takes as delivered ("" if it is)."""
    noun, retried = NOUNS[kind], _RETRIED[kind]
    rule = f"{noun} must be answered {ANSWERS[kind]}"
    if 300 <= d.status < 400:
        return f"{rule}, got HTTP {d.status} (Cobo follows no redirects: a redirect {retried})"
    if kind.startswith("v1_"):
        words = (b"ok", b"deny") if kind == "v1_withdraw_confirm" else (b"ok",)
        if d.status != 200:
            return f"{rule}, got {_got(d)} ({_failure(d.status)} {retried})"
        if d.body not in words:
            return f"{rule}, got {_got(d)} (any other body {retried})"
        return ""
    if d.status not in (200, 201):
        return f"{rule}, got {_got(d)} ({_failure(d.status)} {retried})"
    if kind == "v2_webhook" and d.elapsed > _WEBHOOK_DEADLINE:
        return f"{rule}; it took {d.elapsed:.1f} s (Cobo stops waiting and retries)"
    if kind == "v2_callback" and d.body not in (b"ok", b"deny"):
        return (
            f"{noun} must be answered with plain text 'ok' or 'deny', got {_quoted(d.body)} "
            f"({'a JSON reply is a documented failure' if _is_json(d.body) else f'any other body {retried}'})"
        )
    return ""


def _failure(status: int) -> str:
    return "a server error" if status >= 500 else "any other status"


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _effects(n: int) -> str:
    return f"{n} side effect{'s' if n != 1 else ''} {'were' if n != 1 else 'was'} recorded"


def _refusal(case: CallbackCase, d: Delivered, added: int | None) -> str:
    what = _REFUSALS[case.fault]
    rule = f"{what} must be refused with a 4xx"
    if d.status >= 500:
        return f"{rule}, got HTTP {d.status} (a server error {_RETRIED[case.kind]})"
    if 200 <= d.status < 300:
        return f"{rule}, got {_got(d)} (the handler accepted a call it cannot trust)"
    if not 400 <= d.status < 500:
        return f"{rule}, got {_got(d)}"
    if added:
        return f"{what} must be refused with no side effect, but {_effects(added)}"
    return ""


def _acknowledgement(case: CallbackCase, d: Delivered, added: int | None) -> str:
    """The payload faults, of webhooks only: a callback message (a bare Transaction) has none."""
    kind, what = case.kind, _REFUSALS[case.fault]
    ack = ANSWERS[kind].split(" within")[0]
    if 200 <= d.status < 300:
        problem = _answer_problem(kind, d)
        if problem:
            return f"{what} must be acknowledged ({ack}) or refused with a 4xx: " + problem
    elif not 400 <= d.status < 500:
        rule = f"{what} must be acknowledged ({ack}) or refused with a 4xx, never a 5xx"
        if d.status >= 500:
            return f"{rule}, got HTTP {d.status} (a server error {_RETRIED[kind]})"
        return f"{rule}, got {_got(d)}"
    if added:
        return f"{what} must be acknowledged with no side effect, but {_effects(added)}"
    return ""


_AGAIN = {"duplicate": "a duplicate", "redelivery": "a redelivery", "out_of_order": "an earlier status"}


def _judge(case: CallbackCase, step: int, done: list[Delivered], adds: list[int | None]) -> str:
    """What delivery *step* of *case* did wrong, or "": *done* are the deliveries so far, *adds* the
    side effects each added (None without a probe)."""
    d, added = done[step], adds[step]
    if case.verdict == "refuse":
        return _refusal(case, d, added)
    if case.verdict == "acknowledge":
        return _acknowledgement(case, d, added)
    problem = _answer_problem(case.kind, d)
    if problem:
        return f"{_AGAIN[case.fault]} must be answered as accepted too: {problem}" if step else problem
    if (
        step
        and case.verdict == "once"
        and case.kind in ("v1_withdraw_confirm", "v2_callback")
        and d.body != done[0].body
    ):
        return (
            f"{_AGAIN[case.fault]} of an approval request must get the same answer, got {_quoted(done[0].body)} "
            f"then {_quoted(d.body)}"
        )
    if added is None:
        return ""
    if step == 0 and added < 1:
        return (
            "a valid delivery must be acted on, but the side_effects probe recorded nothing "
            "(is it wired to the handler?)"
        )
    if step and case.verdict == "once" and added > 0:
        return f"{_AGAIN[case.fault]} must be handled once, but {_effects(sum(a or 0 for a in adds))}"
    if step and case.fault == "out_of_order" and added < 1:
        return (
            "an earlier status delivered after a later one is another event and must be handled too, "
            "but it added no side effect"
        )
    return ""


def _report(case: CallbackCase, problem: str, done: list[Delivered], sent: list[str], path: str) -> str:
    lines = [f"{case.id}: {problem}", f"  contract: {case.why}"]
    for n, (d, what) in enumerate(zip(done, sent, strict=True), 1):
        prefix = f"{n}. " if len(done) > 1 else ""
        names = ", ".join(k for k in d.sent_headers if k.lower() != "content-type") or "none"
        lines += [
            f"  {prefix}sent:     POST {path}, {what}; headers {names}; body ({len(d.sent)} bytes) {_quoted(d.sent)}",
            f"  {prefix}answered: {_got(d)} in {d.elapsed:.3f} s",
        ]
        if d.raised:
            lines.append(f"  {prefix}raised:   {d.raised}")
    return "\n".join(lines)


# --- transports --------------------------------------------------------------------------------


def _is_asgi(app: Any) -> bool:
    """An ASGI app is a coroutine function of (scope, receive, send), or an object whose __call__ is."""
    if inspect.iscoroutinefunction(app):
        return True
    if not (inspect.isfunction(app) or inspect.ismethod(app)):
        call = getattr(type(app), "__call__", None)  # noqa: B004
        if call is not None and inspect.iscoroutinefunction(call):
            return True
    try:
        parameters = [
            p for p in inspect.signature(app).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]  # fmt: skip
    except (TypeError, ValueError):
        return False
    return len(parameters) == 3


def _delivered(
    sending: _Sending, started: float, *, status: int, body: bytes, headers: Mapping[str, str], raised: list[str]
) -> Delivered:
    elapsed = time.perf_counter() - started
    return Delivered(status, body, headers, elapsed, sending.body, dict(sending.headers), "; ".join(raised))


def _send_asgi(app: Any, path: str, sending: _Sending, timeout: float) -> Delivered:
    import httpx

    raised: list[str] = []

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except Exception as exc:
            raised.append(f"{type(exc).__name__}: {exc}")
            raise

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=guarded, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=_BASE_URL) as client:
            return await asyncio.wait_for(
                client.post(path, content=sending.body, headers=list(sending.headers)), timeout
            )

    started = time.perf_counter()
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            response = asyncio.run(post())
        else:  # called from a coroutine (an async test): its loop is busy, so the app runs on another
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                response = pool.submit(asyncio.run, post()).result()
    except (asyncio.TimeoutError, TimeoutError):
        raise AssertionError(f"the handler did not answer within {timeout:g} s") from None
    return _delivered(
        sending, started, status=response.status_code, body=response.content, headers=response.headers, raised=raised
    )


def _send_wsgi(app: Any, path: str, sending: _Sending) -> Delivered:
    import httpx

    raised: list[str] = []

    def guarded(environ: Any, start_response: Any) -> Iterable[bytes]:
        # a WSGI server answers 500 when the app raises; httpx's transport would raise it instead
        try:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:
            raised.append(f"{type(exc).__name__}: {exc}")
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            return [b"Internal Server Error"]

    transport = httpx.WSGITransport(app=guarded, raise_app_exceptions=False)
    started = time.perf_counter()
    with httpx.Client(transport=transport, base_url=_BASE_URL) as client:
        response = client.post(path, content=sending.body, headers=list(sending.headers))
    return _delivered(
        sending, started, status=response.status_code, body=response.content, headers=response.headers, raised=raised
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # Cobo follows no redirects: the 3xx is the answer


def _send_url(url: str, path: str, sending: _Sending, timeout: float) -> Delivered:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"a target URL must start with http:// or https://, got {shown(url)}")
    host = urllib.parse.urlsplit(url).hostname or ""
    if not is_loopback(host):  # test deliveries never leave the machine
        raise ValueError(f"a target URL must be on loopback (127.0.0.1, localhost, ::1), got {shown(url)}")
    full = url if path == "/" else url.rstrip("/") + path
    request = urllib.request.Request(full, data=sending.body, method="POST")
    for name, value in sending.headers:
        request.add_unredirected_header(name, value)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())
    started = time.perf_counter()
    try:
        with opener.open(request, timeout=timeout) as response:
            status, body, headers = response.status, response.read(), dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        with exc:
            status, body, headers = exc.code, exc.read(), dict(exc.headers.items())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AssertionError(f"could not deliver to {full}: {reason}") from None
    return _delivered(sending, started, status=status, body=body, headers=headers, raised=[])
