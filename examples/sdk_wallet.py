"""Withdrawals built on the official ``cobo-custody`` SDK: the kind of code pytest-cobo-errors is for.

The SDK reports failures four different ways: a business error comes back as
``ApiResponse(success=False)``, a bad response signature raises a bare ``Exception``, a
gateway's HTML page raises ``json.JSONDecodeError`` and a network fault raises a ``requests``
exception. This module turns them into a few exceptions a caller can act on, retries what is
safe to retry, and relies on ``request_id`` to make retried withdrawals idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests
from cobo_custody.client import Client
from cobo_custody.client.api_response import ApiResponse

RETRYABLE_CODES = frozenset({1010})  # rate limited
_FORGED = "verify content error"  # the SDK's message when a response signature does not verify


class WithdrawalError(Exception):
    """Cobo refused the withdrawal."""

    def __init__(self, code: int, message: str, error_id: str) -> None:
        super().__init__(f"Cobo error {code}: {message} (error_id {error_id})")
        self.code, self.message, self.error_id = code, message, error_id


class InsufficientFunds(WithdrawalError):
    """12007: the custody wallet cannot cover the amount."""


class CoboUnavailable(Exception):
    """No usable answer after every retry: network faults, gateway pages or rate limits."""


class ForgedResponse(Exception):
    """A response failed signature verification. Never retried: something is tampering with traffic."""


class Withdrawals:
    def __init__(self, client: Client, *, retries: int = 2) -> None:
        self.client = client
        self.retries = retries

    def send(self, coin: str, address: str, amount: int, request_id: str) -> dict[str, Any]:
        """Submit a withdrawal once, however many attempts it takes; return Cobo's record of it."""
        answer = self._call(lambda: self.client.withdraw(coin, address, amount, request_id=request_id))
        if answer.success:
            return dict(answer.result or {})
        code = answer.exception.errorCode
        if code == 12009:
            # Duplicate request_id: an earlier attempt (perhaps one that timed out) went through.
            existing = self._call(lambda: self.client.query_withdraw_info(request_id))
            if existing.success:
                return dict(existing.result or {})
            answer = existing
        error = answer.exception
        raise (InsufficientFunds if error.errorCode == 12007 else WithdrawalError)(
            error.errorCode, error.errorMessage, error.errorId
        )

    def _call(self, send: Callable[[], ApiResponse]) -> ApiResponse:
        last: object = None
        for _ in range(self.retries + 1):
            try:
                answer = send()
            except (requests.exceptions.RequestException, json.JSONDecodeError) as exc:
                last = exc  # a network fault, or a gateway page where Cobo JSON should be
                continue
            except Exception as exc:
                if _FORGED in str(exc):
                    raise ForgedResponse(str(exc)) from exc
                raise
            if not answer.success and answer.exception.errorCode in RETRYABLE_CODES:
                last = f"error {answer.exception.errorCode}"
                continue
            return answer
        raise CoboUnavailable(f"no usable answer after {self.retries + 1} attempts; last: {last!r}")
