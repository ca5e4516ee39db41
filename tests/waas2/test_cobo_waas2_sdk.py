"""The official ``cobo-waas2`` SDK (WaaS 2.0), end to end through ``cobo_server``: what it really raises.

The SDK sends with urllib3, which no in-process mock reaches, so every test here talks to the
fake Cobo on 127.0.0.1 over a real socket: ``Configuration(host=cobo_server.url + "/v2")``.
``cobo_waas2_trust`` makes the SDK verify answers with the session's Ed25519 test key, and
``cobo_server.sign_responses()`` signs them with it, as Cobo signs its own.

Each table reads as documentation of the SDK (cobo-waas2 1.46): which exception a caller meets
for each answer, what ``status``, ``data`` and ``body`` it carries, and how many requests went out.
What these tests found, in short:

* a Cobo error is a typed ``ApiException`` per status (400, 401, 403, 404, 5xx; 429 has no
  subclass), and ``e.data`` is the parsed envelope **only when the answer was signed**: an unsigned
  error is taken for a gateway's and ``e.data`` is None (the envelope is still in ``e.body``);
* a tampered or wrongly signed answer is ``ApiException("Invalid resp signature")`` with no status
  at all, even for an error; a 2xx without a (hyphen-spelled) signature is
  ``ApiException("Missing resp signature or timestamp")``; a stale timestamp is accepted;
* network faults are urllib3's own exceptions, never ``ApiException``: urllib3's default
  ``Retry(total=3)`` sends a GET four times before ``MaxRetryError``.

Runs in tox's ``waas2`` environment (``tox run -e waas2``); see ``conftest.py`` beside this file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import NamedTuple

import pytest
import urllib3
from cobo_waas2 import (
    ApiClient,
    Configuration,
    CreateCustodialWalletParams,
    CreatedWalletInfo,
    CreateWalletParams,
    CustodialWalletInfo,
    ErrorResponse,
    ListWallets200Response,
    WalletsApi,
    WalletSubtype,
    WalletType,
)
from cobo_waas2.crypto.local_ed25519_signer import LocalEd25519Signer
from cobo_waas2.exceptions import (
    ApiException,
    BadRequestException,
    ForbiddenException,
    NotFoundException,
    ServiceException,
    UnauthorizedException,
)

from pytest_cobo_errors import CoboServer, TestKey, error, gateway, signed, success

WALLETS = "/v2/wallets"
WALLET = {
    "wallet_id": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "wallet_type": "Custodial",
    "wallet_subtype": "Asset",
    "name": "Treasury",
    "org_id": "org-1",
}
PAGE = {"data": [WALLET], "pagination": {"before": "", "after": "", "total_count": 1}}
INVALID = "Invalid resp signature"
MISSING = "Missing resp signature or timestamp"


class Raised(NamedTuple):
    """What the SDK raised: the exception's exact class, its HTTP status and reason, whether its
    ``data`` holds the parsed envelope, and after how many requests."""

    exception: type[Exception]
    status: int | None = None
    reason: str | None = None
    parsed: bool = False
    requests: int = 1

    @classmethod
    def of(cls, e: ApiException) -> Raised:
        """*e* as a row of a table: its reason only where it is the SDK's own, not HTTP's phrase."""
        return cls(type(e), e.status, e.reason if e.reason in (INVALID, MISSING) else None, e.data is not None)


@pytest.fixture(scope="module")
def api_key() -> tuple[str, str]:
    """A throwaway Ed25519 API key, ``(private, public)`` in hex: never a real key in a test."""
    private, public = LocalEd25519Signer.generate_key_pair()
    return private, public


def sdk(cobo_server: CoboServer, private_key: str, *, retries: object = None) -> Iterator[WalletsApi]:
    config = Configuration(host=cobo_server.url + "/v2", api_private_key=private_key)
    if retries is not None:
        config.retries = retries  # the SDK hands it to urllib3; None keeps urllib3's Retry(total=3)
    with ApiClient(config) as client:
        yield WalletsApi(client)


@pytest.fixture
def wallets(cobo_server: CoboServer, cobo_waas2_trust: TestKey, api_key: tuple[str, str]) -> Iterator[WalletsApi]:
    """The SDK's ``WalletsApi``, sending to cobo_server and trusting the session's test key."""
    yield from sdk(cobo_server, api_key[0])


@pytest.fixture
def wallets_without_retries(
    cobo_server: CoboServer, cobo_waas2_trust: TestKey, api_key: tuple[str, str]
) -> Iterator[WalletsApi]:
    """The same, with ``Configuration.retries = False``: urllib3 sends each request once."""
    yield from sdk(cobo_server, api_key[0], retries=False)


def custodial_wallet_params() -> CreateWalletParams:
    return CreateWalletParams(
        actual_instance=CreateCustodialWalletParams(
            name="Treasury", wallet_type=WalletType.CUSTODIAL, wallet_subtype=WalletSubtype.ASSET
        )
    )


# -- successes -------------------------------------------------------------------------------------


def test_a_signed_success_returns_the_model(cobo_server: CoboServer, wallets: WalletsApi) -> None:
    cobo_server.sign_responses()
    rule = cobo_server.succeed(PAGE, method="GET", path=WALLETS)  # v2 answers the bare result
    page = wallets.list_wallets(wallet_type=WalletType.CUSTODIAL, limit=10)
    assert isinstance(page, ListWallets200Response)
    assert page.pagination is not None
    assert page.pagination.total_count == 1
    assert page.data is not None
    assert page.data[0].actual_instance == CustodialWalletInfo.from_dict(WALLET)
    assert rule.calls[0].request.query == "wallet_type=Custodial&limit=10"


@pytest.mark.parametrize(
    ("status", "returned"),
    [
        pytest.param(201, CreatedWalletInfo, id="201-the-documented-status-gives-the-model"),
        pytest.param(200, type(None), id="200-no-type-for-it-so-None-silently"),
    ],
)
def test_a_create_is_read_only_at_the_status_its_operation_documents(
    cobo_server: CoboServer, wallets: WalletsApi, status: int, returned: type
) -> None:
    # create_wallet maps only 201 to a model; `succeed()` answers 200, so give the status yourself
    cobo_server.sign_responses()
    cobo_server.inject(success(WALLET, status=status, api="v2"), method="POST", path=WALLETS)
    assert type(wallets.create_wallet(create_wallet_params=custodial_wallet_params())) is returned


def test_an_error_envelope_at_200_returns_an_empty_model(cobo_server: CoboServer, wallets: WalletsApi) -> None:
    # Nothing in the SDK looks for error_code in a 2xx body: the caller gets a page of nothing.
    cobo_server.sign_responses()
    cobo_server.inject(2028, status=200, path=WALLETS)
    assert wallets.list_wallets() == ListWallets200Response(data=None, pagination=None)


# -- request signatures: the fake verifies what the SDK signs ---------------------------------------


def test_the_sdks_request_signatures_verify(
    cobo_server: CoboServer, wallets: WalletsApi, api_key: tuple[str, str]
) -> None:
    cobo_server.sign_responses()
    cobo_server.authenticate_requests([api_key[1]])  # the SDK's Ed25519 public key is its API key
    listed = cobo_server.succeed(PAGE, method="GET", path=WALLETS)
    created = cobo_server.inject(success(WALLET, status=201, api="v2"), method="POST", path=WALLETS)
    wallets.list_wallets(limit=10)  # signed over the query string
    wallets.create_wallet(create_wallet_params=custodial_wallet_params())  # and over the JSON body
    assert listed.calls[0].request.header("Biz-Api-Key") == api_key[1]
    assert created.calls[0].request.json() == {
        "name": "Treasury",
        "wallet_type": "Custodial",
        "wallet_subtype": "Asset",
    }


def test_an_api_key_cobo_does_not_know_gets_2024_at_401(cobo_server: CoboServer, wallets: WalletsApi) -> None:
    cobo_server.sign_responses()
    cobo_server.authenticate_requests([LocalEd25519Signer.generate_key_pair()[1]])  # some other key
    with cobo_server.expect_unmatched(), pytest.raises(UnauthorizedException) as raised:
        wallets.list_wallets()
    assert (raised.value.status, raised.value.data.error_code) == (401, 2024)


# -- Cobo's errors: one exception class per status family ------------------------------------------

STATUS_FAMILIES = [
    # code,  HTTP status, the SDK's exception (exactly this class)
    pytest.param(2006, 400, BadRequestException, id="2006-400-BadRequestException"),
    pytest.param(30012, 400, BadRequestException, id="30012-400-BadRequestException"),
    pytest.param(2024, 401, UnauthorizedException, id="2024-401-UnauthorizedException"),
    pytest.param(2025, 403, ForbiddenException, id="2025-403-ForbiddenException"),
    pytest.param(4001, 403, ForbiddenException, id="4001-403-ForbiddenException"),
    pytest.param(2028, 404, NotFoundException, id="2028-404-NotFoundException"),
    pytest.param(2026, 429, ApiException, id="2026-429-ApiException-no-subclass-for-429"),
    pytest.param(1000, 500, ServiceException, id="1000-500-ServiceException"),
    pytest.param(2000, 500, ServiceException, id="2000-500-ServiceException"),
]


@pytest.mark.parametrize(("code", "status", "exception"), STATUS_FAMILIES)
def test_a_signed_error_raises_its_status_familys_exception_with_the_envelope_as_data(
    cobo_server: CoboServer, wallets: WalletsApi, code: int, status: int, exception: type[ApiException]
) -> None:
    cobo_server.sign_responses()
    cobo_server.inject(code, path=WALLETS, expect_calls=1)  # the SDK itself never retries an answer
    with pytest.raises(ApiException) as raised:
        wallets.list_wallets()
    e = raised.value
    assert type(e) is exception
    assert e.status == status
    sent = json.loads(e.body)
    assert set(sent) == {"error_code", "error_message", "error_id"}  # v2's three-field envelope
    assert e.data == ErrorResponse.from_dict(sent)
    assert e.data.error_code == code


@pytest.mark.parametrize(("code", "status", "exception"), STATUS_FAMILIES)
def test_an_unsigned_error_is_taken_for_a_gateways_and_its_data_is_none(
    cobo_server: CoboServer, wallets: WalletsApi, code: int, status: int, exception: type[ApiException]
) -> None:
    # No sign_responses(): the SDK parses an error body only when the answer is signed. A client
    # that reads e.data.error_code meets None here; the envelope is still in e.body.
    cobo_server.inject(code, path=WALLETS)
    with pytest.raises(ApiException) as raised:
        wallets.list_wallets()
    e = raised.value
    assert (type(e), e.status, e.data) == (exception, status, None)
    assert json.loads(e.body)["error_code"] == code


GATEWAY_PAGES = [
    # a proxy's page: no Cobo JSON, never signed
    pytest.param(gateway(502), ServiceException, id="502-html-ServiceException"),
    pytest.param(gateway(503, body="empty"), ServiceException, id="503-empty-ServiceException"),
    pytest.param(gateway(504), ServiceException, id="504-html-ServiceException"),
    pytest.param(gateway(429), ApiException, id="429-html-ApiException"),
]


@pytest.mark.parametrize(("page", "exception"), GATEWAY_PAGES)
def test_an_unsigned_gateway_page_raises_the_typed_exception_with_no_data(
    cobo_server: CoboServer, wallets: WalletsApi, page: object, exception: type[ApiException]
) -> None:
    cobo_server.sign_responses()  # gateway pages stay unsigned: a proxy does not sign
    rule = cobo_server.inject(page, path=WALLETS)
    with pytest.raises(ApiException) as raised:
        wallets.list_wallets()
    e = raised.value
    assert (type(e), e.status, e.data) == (exception, rule.calls[0].reply.status, None)
    assert e.body == rule.calls[0].reply.body.decode()


# -- response signatures ---------------------------------------------------------------------------

RETURNS = "returns the model"
# api="v2" said here, not left to the rule's /v2 path: signed() builds its answer before any rule sees it
SUCCESS = success(PAGE, api="v2")
ERROR = error(2006, api="v2")  # at 400

SIGNED_SUCCESSES = [
    # the answer,                                      what list_wallets() does
    pytest.param(signed(SUCCESS), RETURNS, id="valid"),
    pytest.param(signed(SUCCESS, spelling="hyphen"), RETURNS, id="hyphen-only"),
    pytest.param(signed(SUCCESS, "stale"), RETURNS, id="stale-no-freshness-check"),
    pytest.param(signed(SUCCESS, "tampered"), Raised(ApiException, reason=INVALID), id="tampered"),
    pytest.param(signed(SUCCESS, "wrong"), Raised(ApiException, reason=INVALID), id="wrong-key"),
    pytest.param(
        signed(SUCCESS, "tampered", spelling="hyphen"), Raised(ApiException, reason=INVALID), id="tampered-hyphen"
    ),
    pytest.param(signed(SUCCESS, "missing"), Raised(ApiException, 200, MISSING), id="missing"),
    pytest.param(signed(SUCCESS, spelling="underscore"), Raised(ApiException, 200, MISSING), id="underscore-only"),
]


@pytest.mark.parametrize(("answer", "outcome"), SIGNED_SUCCESSES)
def test_a_success_is_returned_only_with_a_valid_hyphen_spelled_signature(
    cobo_server: CoboServer, wallets: WalletsApi, answer: object, outcome: str | Raised
) -> None:
    cobo_server.inject(answer, path=WALLETS)  # type: ignore[arg-type]
    if outcome == RETURNS:
        assert wallets.list_wallets() == ListWallets200Response.from_dict(PAGE)
        return
    with pytest.raises(ApiException) as raised:
        wallets.list_wallets()
    assert Raised.of(raised.value) == outcome


def test_an_unsigned_success_is_missing_its_signature(cobo_server: CoboServer, wallets: WalletsApi) -> None:
    cobo_server.succeed(PAGE, path=WALLETS)  # no sign_responses()
    with pytest.raises(ApiException) as raised:
        wallets.list_wallets()
    assert Raised.of(raised.value) == Raised(ApiException, 200, MISSING)


SIGNED_ERRORS = [
    # the answer (2006 at 400),            what list_wallets() raises
    pytest.param(signed(ERROR), Raised(BadRequestException, 400, parsed=True), id="valid-parsed"),
    pytest.param(signed(ERROR, "stale"), Raised(BadRequestException, 400, parsed=True), id="stale-parsed"),
    pytest.param(signed(ERROR, "tampered"), Raised(ApiException, reason=INVALID), id="tampered-status-lost"),
    pytest.param(signed(ERROR, "wrong"), Raised(ApiException, reason=INVALID), id="wrong-key-status-lost"),
    pytest.param(signed(ERROR, "missing"), Raised(BadRequestException, 400), id="missing-as-a-gateways"),
    pytest.param(signed(ERROR, spelling="underscore"), Raised(BadRequestException, 400), id="underscore-as-a-gateways"),
]


@pytest.mark.parametrize(("answer", "outcome"), SIGNED_ERRORS)
def test_a_forged_signature_on_an_error_hides_its_status(
    cobo_server: CoboServer, wallets: WalletsApi, answer: object, outcome: Raised
) -> None:
    cobo_server.inject(answer, path=WALLETS)  # type: ignore[arg-type]
    with pytest.raises(ApiException) as raised:
        wallets.list_wallets()
    assert Raised.of(raised.value) == outcome
    if outcome.status is None:  # nothing of the answer survives, not even its status
        assert (raised.value.body, raised.value.headers) == (None, None)
    if outcome.parsed:
        assert raised.value.data.error_code == 2006


def test_a_signature_that_is_not_ed25519_escapes_as_a_bare_value_error(
    cobo_server: CoboServer, wallets: WalletsApi, cobo_signing_key: TestKey
) -> None:
    # Signed with the v1 curve (secp256k1, DER): PyNaCl refuses the length before verifying, and
    # the SDK catches only BadSignatureError, so no ApiException: a client must catch ValueError.
    cobo_server.inject(signed(SUCCESS, key=cobo_signing_key), path=WALLETS)
    with pytest.raises(ValueError, match="The signature must be exactly 64 bytes long"):
        wallets.list_wallets()


# -- network faults: urllib3's exceptions, after urllib3's own retries -----------------------------

MaxRetryError, ProtocolError = urllib3.exceptions.MaxRetryError, urllib3.exceptions.ProtocolError
ReadTimeoutError = urllib3.exceptions.ReadTimeoutError

NETWORK_FAULTS = [
    # fault,        urllib3's retries, what the SDK raises, after how many requests
    pytest.param("connection_reset", "default", Raised(MaxRetryError, requests=4), id="reset-4-requests-MaxRetryError"),
    pytest.param("no_response", "default", Raised(MaxRetryError, requests=4), id="no-response-4-MaxRetryError"),
    pytest.param("truncated_response", "default", Raised(ProtocolError, requests=1), id="dropped-body-1-ProtocolError"),
    pytest.param("connection_reset", "off", Raised(ProtocolError, requests=1), id="reset-retries-off-1-ProtocolError"),
]


@pytest.mark.parametrize(("fault", "retries", "outcome"), NETWORK_FAULTS)
def test_a_network_fault_is_urllib3s_exception_not_an_api_exception(
    request: pytest.FixtureRequest, cobo_server: CoboServer, fault: str, retries: str, outcome: Raised
) -> None:
    client: WalletsApi = request.getfixturevalue("wallets" if retries == "default" else "wallets_without_retries")
    rule = cobo_server.network(fault, path=WALLETS)  # type: ignore[arg-type]
    with pytest.raises(outcome.exception) as raised:
        client.list_wallets()
    assert type(raised.value) is outcome.exception
    if outcome.exception is MaxRetryError:
        assert isinstance(raised.value.reason, ProtocolError)  # type: ignore[attr-defined]
    # a body cut short breaks while the SDK reads it, with urllib3's retries behind it
    assert len(rule.calls) == outcome.requests


@pytest.mark.parametrize(
    ("retries", "outcome"),
    [
        pytest.param("default", Raised(MaxRetryError, requests=4), id="default-retries-4-requests-MaxRetryError"),
        pytest.param("off", Raised(ReadTimeoutError, requests=1), id="retries-off-1-request-ReadTimeoutError"),
    ],
)
def test_a_delay_past_the_request_timeout_is_urllib3s_read_timeout(
    request: pytest.FixtureRequest, cobo_server: CoboServer, retries: str, outcome: Raised
) -> None:
    # The SDK has no timeout of its own: pass _request_timeout, or a slow Cobo hangs the caller.
    client: WalletsApi = request.getfixturevalue("wallets" if retries == "default" else "wallets_without_retries")
    cobo_server.sign_responses()
    rule = cobo_server.succeed(PAGE, path=WALLETS, delay=1.5)
    with pytest.raises(outcome.exception) as raised:
        client.list_wallets(_request_timeout=0.2)
    timeout = raised.value.reason if outcome.exception is MaxRetryError else raised.value  # type: ignore[attr-defined]
    assert isinstance(timeout, ReadTimeoutError)
    assert len(rule.calls) == outcome.requests  # urllib3 retries a GET that timed out: 4 x the timeout
