"""Listing wallets through the official ``cobo-waas2`` SDK (WaaS 2.0): the kind of code pytest-cobo-errors is for.

The SDK reports a failure in several shapes, and this module turns them into a few exceptions a
caller can act on:

* Cobo's error: a typed ``ApiException`` per status, whose ``data`` is the parsed envelope only
  when the answer was signed; unsigned, ``data`` is None and the envelope is in ``body``. Both
  become `CoboRefused` (or `AuthenticationFailed`), with Cobo's code and ``error_id``.
* A rate limit (429) or a 503 is retried a bounded number of times, then `CoboUnavailable`.
* Any other gateway page (a 502's HTML) or 5xx: `CoboUnavailable`, not retried.
* A network fault: urllib3's own exceptions, never ``ApiException``. urllib3 already retried
  connection faults three times before raising, so they are not retried again here (that would
  be 4 x 3 requests): `CoboUnavailable`.
* A forged answer: ``ApiException("Invalid resp signature")``, ``ApiException("Missing resp
  signature or timestamp")`` on a 2xx, or PyNaCl's bare ``ValueError`` for a signature that is
  not Ed25519 at all. `ForgedResponse`, never retried: something is tampering with the traffic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from cobo_waas2 import ApiClient, Configuration, WalletsApi, WalletType
from cobo_waas2.exceptions import ApiException
from nacl.exceptions import CryptoError

RETRYABLE_STATUSES = frozenset({429, 503})
_FORGED = ("Invalid resp signature", "Missing resp signature or timestamp")


class CoboRefused(Exception):
    """Cobo answered with an error: its code, message and error_id (quote it to Cobo support)."""

    def __init__(self, status: int, code: int, message: str, error_id: str) -> None:
        super().__init__(f"Cobo error {code} (HTTP {status}): {message} (error_id {error_id})")
        self.status, self.code, self.message, self.error_id = status, code, message, error_id


class AuthenticationFailed(CoboRefused):
    """2024: Cobo did not accept the API key or the request's signature. Check the key, not the code."""


class CoboUnavailable(Exception):
    """No usable answer: network faults, gateway pages, or rate limits after every retry."""


class ForgedResponse(Exception):
    """An answer failed signature verification. Never retried."""


@dataclass(frozen=True)
class Wallet:
    wallet_id: str
    name: str
    wallet_type: str
    wallet_subtype: str


def connect(host: str, api_private_key: str) -> ApiClient:
    """An SDK client for *host* (``https://api.dev.cobo.com/v2``), signing with the Ed25519 *api_private_key*."""
    return ApiClient(Configuration(host=host, api_private_key=api_private_key))


class Wallets:
    """The organisation's wallets, read through the SDK.

    *retries* bounds the extra attempts after a 429 or 503, *backoff* the first pause between
    them (doubling each time), *timeout* each request's (the SDK has none by default).
    """

    def __init__(
        self,
        client: ApiClient,
        *,
        retries: int = 2,
        backoff: float = 0.5,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = WalletsApi(client)
        self.retries, self.backoff, self.timeout, self.sleep = retries, backoff, timeout, sleep

    def list_wallets(self, wallet_type: str | None = None, *, limit: int = 50) -> list[Wallet]:
        """One page of wallets, of *wallet_type* (``"Custodial"``, ``"MPC"``, ``"Exchange"``) or all."""
        kind = WalletType(wallet_type) if wallet_type else None
        page = self._call(lambda: self.api.list_wallets(wallet_type=kind, limit=limit, _request_timeout=self.timeout))
        wallets = []
        for info in page.data or []:
            record = info.to_dict()
            wallets.append(Wallet(record["wallet_id"], record["name"], record["wallet_type"], record["wallet_subtype"]))
        return wallets

    def _call(self, send: Callable[[], Any]) -> Any:
        pause = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return send()
            except ApiException as exc:
                if exc.reason in _FORGED:
                    raise ForgedResponse(exc.reason) from exc
                if exc.status in RETRYABLE_STATUSES and attempt < self.retries:
                    self.sleep(pause)
                    pause *= 2
                    continue
                raise _translated(exc) from exc
            except urllib3.exceptions.HTTPError as exc:
                raise CoboUnavailable(f"no answer from Cobo: {exc}") from exc
            except CryptoError as exc:  # PyNaCl refusing a signature that is not Ed25519-shaped
                raise ForgedResponse(str(exc)) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")


def _translated(exc: ApiException) -> Exception:
    """The caller's exception for an SDK error answer."""
    envelope = _envelope(exc)
    if envelope is None or exc.status in RETRYABLE_STATUSES or (exc.status or 0) >= 500:
        where = f"error {envelope['error_code']}" if envelope else "a page that is not Cobo's"
        return CoboUnavailable(f"HTTP {exc.status} from Cobo ({where})")
    kind = AuthenticationFailed if envelope["error_code"] == 2024 else CoboRefused
    return kind(exc.status or 0, envelope["error_code"], envelope["error_message"], envelope["error_id"])


def _envelope(exc: ApiException) -> dict[str, Any] | None:
    """Cobo's error envelope: the SDK's parse of a signed answer, else the body, if it is one.

    An unsigned error reaches the caller with ``data`` None, as a gateway's page does; its body is
    read for the code only (to report and route it), never to trust a result.
    """
    if exc.data is not None:
        return {
            "error_code": exc.data.error_code,
            "error_message": exc.data.error_message,
            "error_id": exc.data.error_id,
        }
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error_code"), int):
        return {
            "error_code": body["error_code"],
            "error_message": str(body.get("error_message", "")),
            "error_id": str(body.get("error_id", "")),
        }
    return None
