"""Testing your own code built on the official ``cobo-waas2`` SDK (WaaS 2.0), with cobo_server.

The SDK sends with urllib3, which no in-process mock reaches, so the client is pointed at the
fake Cobo on 127.0.0.1 (``pip install 'pytest-cobo-errors[server,signing]' cobo-waas2``).
``cobo_waas2_trust`` makes the SDK verify answers with the session's Ed25519 test key and
``cobo_server.sign_responses()`` signs them, so injected answers are signed and verified for real.
Rules on a ``/v2`` path answer with WaaS 2.0's envelope; ``@cobo_error_cases`` is v1-only for now,
so the v2 codes below are a plain parametrize.
"""

from __future__ import annotations

import json

import pytest
from cobo_waas2.crypto.local_ed25519_signer import LocalEd25519Signer
from wallets import AuthenticationFailed, CoboRefused, CoboUnavailable, ForgedResponse, Wallet, Wallets, connect

from pytest_cobo_errors import CoboServer, TestKey, signed, success

WALLETS = "/v2/wallets"
TREASURY = {
    "wallet_id": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "wallet_type": "Custodial",
    "wallet_subtype": "Asset",
    "name": "Treasury",
    "org_id": "org-1",
}
PAGE = {"data": [TREASURY], "pagination": {"before": "", "after": "", "total_count": 1}}


def wallets_at(cobo_server: CoboServer, pauses: list[float]) -> Wallets:
    api_key, _ = LocalEd25519Signer.generate_key_pair()  # a throwaway API key: never a real one in a test
    return Wallets(connect(cobo_server.url + "/v2", api_key), retries=2, timeout=1.0, sleep=pauses.append)


@pytest.fixture
def pauses() -> list[float]:
    """The pauses the client slept between retries (recorded, not slept)."""
    return []


@pytest.fixture
def wallets(cobo_server: CoboServer, cobo_waas2_trust: TestKey, pauses: list[float]) -> Wallets:
    cobo_server.sign_responses()  # sign every answer with the key the SDK now trusts
    return wallets_at(cobo_server, pauses)


def test_the_wallets_come_back_as_records(cobo_server: CoboServer, wallets: Wallets) -> None:
    rule = cobo_server.succeed(PAGE, method="GET", path=WALLETS)
    assert wallets.list_wallets("Custodial", limit=10) == [
        Wallet("f47ac10b-58cc-4372-a567-0e02b2c3d479", "Treasury", "Custodial", "Asset")
    ]
    assert rule.calls[0].request.params == {"wallet_type": "Custodial", "limit": "10"}


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        pytest.param(2006, 400, CoboRefused, id="2006-invalid-parameter"),
        pytest.param(2024, 401, AuthenticationFailed, id="2024-api-key-authentication-failed"),
        pytest.param(2025, 403, CoboRefused, id="2025-forbidden"),
        pytest.param(2028, 404, CoboRefused, id="2028-not-found"),
    ],
)
def test_cobos_refusal_reaches_the_caller_once_with_its_details(
    cobo_server: CoboServer, wallets: Wallets, code: int, status: int, raised: type[CoboRefused]
) -> None:
    rule = cobo_server.inject(code, path=WALLETS, expect_calls=1)  # a refusal is never retried
    with pytest.raises(raised) as excinfo:
        wallets.list_wallets()
    assert type(excinfo.value) is raised
    assert (excinfo.value.code, excinfo.value.status) == (code, status)
    assert excinfo.value.error_id == json.loads(rule.calls[0].reply.body)["error_id"]


def test_an_unsigned_error_still_names_its_code(cobo_server: CoboServer, cobo_waas2_trust: TestKey) -> None:
    # No sign_responses(): the SDK hands its caller e.data None for an unsigned error, as for a
    # gateway's page, so the client reads the code from the body.
    cobo_server.inject(2006, path=WALLETS)
    with pytest.raises(CoboRefused) as excinfo:
        wallets_at(cobo_server, []).list_wallets()
    assert excinfo.value.code == 2006


@pytest.mark.parametrize("busy", [2026, 503], ids=["2026-rate-limited", "503-gateway-page"])
def test_a_rate_limit_or_a_503_is_retried_until_it_succeeds(
    cobo_server: CoboServer, wallets: Wallets, pauses: list[float], busy: int
) -> None:
    rule = cobo_server.sequence([busy, busy, success(PAGE, api="v2")], path=WALLETS)
    assert [w.name for w in wallets.list_wallets()] == ["Treasury"]
    assert len(rule.calls) == 3
    assert pauses == [0.5, 1.0]  # doubling


def test_rate_limiting_gives_up_after_the_retry_budget(cobo_server: CoboServer, wallets: Wallets) -> None:
    cobo_server.inject(2026, path=WALLETS, expect_calls=3)  # one attempt and two retries
    with pytest.raises(CoboUnavailable, match=r"HTTP 429 from Cobo \(error 2026\)"):
        wallets.list_wallets()


def test_a_502_gateway_page_is_reported_not_retried(cobo_server: CoboServer, wallets: Wallets) -> None:
    cobo_server.gateway(502, path=WALLETS, expect_calls=1)
    with pytest.raises(CoboUnavailable, match="HTTP 502 from Cobo \\(a page that is not Cobo's\\)"):
        wallets.list_wallets()


@pytest.mark.parametrize(
    ("signature", "spelling"),
    [("tampered", "both"), ("wrong", "both"), ("missing", "both"), ("valid", "underscore")],
    ids=["tampered", "wrong-key", "missing", "underscore-only"],
)
def test_a_forged_answer_is_never_trusted_nor_retried(
    cobo_server: CoboServer, wallets: Wallets, signature: str, spelling: str
) -> None:
    forged = signed(success(PAGE, api="v2"), signature, spelling=spelling)  # type: ignore[arg-type]
    cobo_server.inject(forged, path=WALLETS, expect_calls=1)
    with pytest.raises(ForgedResponse):
        wallets.list_wallets()


def test_a_connection_reset_is_unavailable_after_urllib3s_own_retries(
    cobo_server: CoboServer, wallets: Wallets
) -> None:
    cobo_server.network("connection_reset", path=WALLETS, expect_calls=4)  # urllib3 retried 3 times; we add none
    with pytest.raises(CoboUnavailable, match="no answer from Cobo"):
        wallets.list_wallets()


def test_a_slow_cobo_times_out_instead_of_hanging(cobo_server: CoboServer, wallets: Wallets) -> None:
    wallets.timeout = 0.2
    cobo_server.succeed(PAGE, path=WALLETS, delay=1.5)
    with pytest.raises(CoboUnavailable, match="Read timed out"):
        wallets.list_wallets()
