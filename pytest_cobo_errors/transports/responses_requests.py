"""The requests transport: a `responses` mock whose one catch-all response asks the fault handler.

The official ``cobo-custody`` SDK sends with ``requests``, which respx cannot see; ``responses``
patches ``requests``' adapters instead, so the same rules answer both libraries.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import requests
import responses

from pytest_cobo_errors.hosts import CapturedRequest
from pytest_cobo_errors.outcomes import NetworkFault, Reply
from pytest_cobo_errors.transports import PASS_THROUGH, Decision, Handler

if TYPE_CHECKING:
    from requests import PreparedRequest

_FAULTS: dict[str, type[requests.exceptions.RequestException]] = {
    "connect_timeout": requests.exceptions.ConnectTimeout,
    "read_timeout": requests.exceptions.ReadTimeout,
    "connect_error": requests.exceptions.ConnectionError,
}
_ANY_URL = re.compile(r".*")
_DECISION = "_cobo_fault_decision"


def _content(request: PreparedRequest) -> bytes:
    body: Any = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes):
        return body
    # a streamed upload: read it once, and keep the bytes so a passed-through request still has them
    joined = b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)
    request.body = joined
    return joined


def to_callback_result(reply: Reply) -> tuple[int, list[tuple[str, str]], bytes]:
    """A `Reply` as a ``responses`` callback answers: (status, headers, body)."""
    headers = list(reply.headers)
    if reply.drop_after is None:
        return reply.status, headers, reply.body
    # Announce the whole body, send only its start: urllib3 then fails the read exactly as it does
    # when a real peer closes mid-body, and requests raises ChunkedEncodingError("Connection broken: ...").
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(reply.body))))
    return reply.status, headers, reply.body[: reply.drop_after]


class _AskHandler(responses.CallbackResponse):
    """Matches every request the handler answers, whatever its method or URL.

    The handler decides in `matches`, not in the callback: a request that no registered
    response matches is the only one ``responses`` passes through (with the session's own
    adapter and send arguments), so a PASS_THROUGH decision must surface as "no match".
    """

    def __init__(self, handler: Handler) -> None:
        super().__init__("GET", _ANY_URL, self._answer, content_type=None)
        self.handler = handler

    def matches(self, request: PreparedRequest) -> tuple[bool, str]:
        captured = CapturedRequest(
            str(request.method), str(request.url), dict(request.headers), _content(request), transport="requests"
        )
        decision = self.handler(captured)  # CoboFaultError propagates to the caller unchanged
        setattr(request, _DECISION, decision)
        if decision is PASS_THROUGH:
            return False, "let through by cobo_fault.allow_host"
        return True, ""

    def _answer(self, request: PreparedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        decision: Decision = getattr(request, _DECISION)
        if isinstance(decision, NetworkFault):
            raise _FAULTS[decision.kind](f"{decision.label} (injected by cobo_fault)", request=request)
        assert isinstance(decision, Reply)
        return to_callback_result(decision)


class ResponsesRequestsTransport:
    name = "requests"

    def __init__(self) -> None:
        self._mock: responses.RequestsMock | None = None

    def start(self, handler: Handler) -> None:
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        mock.add(_AskHandler(handler))
        # Reached only by requests the handler let through: every other request matches above.
        mock.add_passthru(_ANY_URL)
        mock.start()
        self._mock = mock

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop(allow_assert=False)
            self._mock.reset()
            self._mock = None


def make() -> ResponsesRequestsTransport:
    return ResponsesRequestsTransport()
