"""A small Cobo custody client built on httpx: the kind of code pytest-cobo-errors is for.

It maps Cobo's error codes to exceptions, retries what is worth retrying (rate limits,
gateway errors, timeouts) and refuses to guess on anything else.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

RETRYABLE_STATUSES = frozenset({429, 502, 503})
RETRYABLE_CODES = frozenset({1010})


class CoboError(Exception):
    """Base of every error this client raises."""


class CoboApiError(CoboError):
    """Cobo answered with an error envelope."""

    def __init__(self, code: int, message: str, error_id: str, status: int) -> None:
        super().__init__(f"Cobo error {code}: {message} (error_id {error_id}, HTTP {status})")
        self.code, self.message, self.error_id, self.status = code, message, error_id, status


class InsufficientBalance(CoboApiError):
    """12007: the custody wallet cannot cover the withdrawal."""


class DuplicateWithdrawal(CoboApiError):
    """12009: this request_id was already used; the withdrawal may already exist."""


class RateLimited(CoboApiError):
    """1010: still too frequent after every retry."""


class CoboUnavailable(CoboError):
    """No usable answer: timeouts, dropped connections or gateway pages, after every retry."""


_BY_CODE: dict[int, type[CoboApiError]] = {12007: InsufficientBalance, 12009: DuplicateWithdrawal, 1010: RateLimited}


class CoboClient:
    def __init__(
        self,
        base_url: str = "https://api.dev.cobo.com",
        *,
        api_key: str = "demo-key",
        retries: int = 2,
        backoff: float = 0.0,
        timeout: float = 5.0,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.Client(base_url=base_url, timeout=timeout, headers={"Biz-Api-Key": api_key})

    def coin_info(self, coin: str) -> dict[str, Any]:
        return self._request("GET", "/v1/custody/coin_info/", params={"coin": coin})

    def withdraw(self, coin: str, address: str, amount: int, request_id: str) -> dict[str, Any]:
        form = {"coin": coin, "address": address, "amount": str(amount), "request_id": request_id}
        return self._request("POST", "/v1/custody/new_withdraw_request/", data=form)

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http.request(method, path, **kwargs)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                last = exc
                continue
            body = _json(response)
            if body is None:
                if response.status_code in RETRYABLE_STATUSES or response.status_code >= 500:
                    last = CoboUnavailable(f"HTTP {response.status_code} without a Cobo body")
                    continue
                raise CoboUnavailable(f"HTTP {response.status_code} without a Cobo body")
            if body.get("success") is True:
                result: dict[str, Any] = body.get("result", {})
                return result
            error = _error(body, response.status_code)
            if error.code in RETRYABLE_CODES:
                last = error
                continue
            raise error
        if isinstance(last, CoboApiError):
            raise last
        raise CoboUnavailable(f"{method} {path} failed after {self.retries + 1} attempts: {last}") from last


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _error(body: dict[str, Any], status: int) -> CoboApiError:
    code = body.get("error_code")
    if not isinstance(code, int) or isinstance(code, bool):
        return CoboApiError(-1, f"malformed error body: {body!r:.200}", "", status)
    message = body.get("error_message") or body.get("error_description") or ""
    return _BY_CODE.get(code, CoboApiError)(code, str(message), str(body.get("error_id", "")), status)
