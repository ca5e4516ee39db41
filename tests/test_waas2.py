"""WaaS 2.0 beside the Custody API: its envelope, its bare successes, its Ed25519 signatures, its cases.

A rule on a ``/v2`` path (or under a base URL ending in ``/v2``) answers as WaaS 2.0 does; every
other rule answers as the Custody API (v1) always did. The catalog itself is in test_catalog_v2.py.
"""

from __future__ import annotations

import hashlib

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pytest_cobo_errors import CoboFaults, SequenceExhaustedError, TestKey, build_envelope, error, signed, success
from pytest_cobo_errors.cases import build_cases

DEV = "https://api.dev.cobo.com"
V2_FIELDS = {"error_code", "error_message", "error_id"}
pytestmark = pytest.mark.cobo_transports("httpx")


def waas2_sdk_accepts(response: httpx.Response, public_key_hex: str) -> bool:
    """What ``cobo_waas2``'s ``SignHelper.verify`` does: Ed25519 over sha256(sha256(body|timestamp))."""
    content = f"{response.text}|{response.headers['biz-timestamp']}".encode()
    digest = hashlib.sha256(hashlib.sha256(content).digest()).digest()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(
            bytes.fromhex(response.headers["biz-resp-signature"]), digest
        )
    except InvalidSignature:
        return False
    return True


@pytest.mark.parametrize(("code", "status"), [(2024, 401), (2025, 403), (4001, 403), (2006, 400), (2026, 429)])
def test_a_v2_code_on_a_v2_path_is_waas2s_three_field_envelope(cobo_fault: CoboFaults, code: int, status: int) -> None:
    cobo_fault.inject(code, path="/v2/wallets")
    response = httpx.get(DEV + "/v2/wallets")
    assert response.status_code == status  # the ties the docs state, and our convention for the rest
    assert set(response.json()) == V2_FIELDS  # no success, no error_description
    assert response.json()["error_code"] == code


def test_a_code_both_apis_document_answers_as_the_api_of_the_path(cobo_fault: CoboFaults) -> None:
    cobo_fault.inject(12007, path="/v2/transactions/transfer")
    cobo_fault.inject(12007, path="/v1/custody/new_withdraw_request/")
    v2 = httpx.get(DEV + "/v2/transactions/transfer").json()
    v1 = httpx.get(DEV + "/v1/custody/new_withdraw_request/").json()
    assert (set(v2), v2["error_message"]) == (V2_FIELDS, "The transfer amount exceeds the wallet's available balance")
    assert (v1["success"], v1["error_message"]) == (False, "Insufficient balance")


def test_a_base_url_ending_in_v2_makes_its_rules_waas2s(cobo_fault: CoboFaults) -> None:
    cobo_fault.succeed({"id": "w-1"}, base_url=DEV + "/v2", path="/wallets/w-1")
    cobo_fault.inject(30012, base_url=DEV + "/v2", path="/transactions/transfer")
    assert httpx.get(DEV + "/v2/wallets/w-1").json() == {"id": "w-1"}  # the bare object: no wrapper
    assert httpx.get(DEV + "/v2/transactions/transfer").json()["error_code"] == 30012


def test_a_code_only_waas2_documents_is_waas2s_wherever_the_rule_applies(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.inject(30012)  # no v1 client could mean 30012
    assert set(httpx.get(DEV + "/v2/anything").json()) == V2_FIELDS
    assert "WaaS 2.0 error 30012" in str(rule)


def test_a_v2_sequence_and_retry_answer_in_waas2s_forms(cobo_fault: CoboFaults) -> None:
    cobo_fault.fail_then_succeed(2026, result={"wallets": []}, path="/v2/wallets")
    cobo_fault.sequence([2028, success({"id": "t"}, api="v2")], path="/v2/transactions/t")
    retried = [httpx.get(DEV + "/v2/wallets") for _ in range(2)]
    assert [r.status_code for r in retried] == [429, 200]
    assert retried[1].json() == {"wallets": []}
    with cobo_fault.expect_unmatched(), pytest.raises(SequenceExhaustedError):
        httpx.get(DEV + "/v2/wallets")  # a client retrying once too often is caught, as on v1
    answers = [httpx.get(DEV + "/v2/transactions/t") for _ in range(2)]
    assert [a.status_code for a in answers] == [404, 200]
    assert answers[1].json() == {"id": "t"}


def test_the_outcome_builders_take_the_api() -> None:
    assert set(build_envelope(2024, api="v2")) == V2_FIELDS
    assert error(2024, api="v2").render().status == 401
    assert (
        success({"a": 1}, api="v2").render().body == b'{"a":1}'
        or success({"a": 1}, api="v2").render().body == b'{"a": 1}'
    )
    with pytest.raises(TypeError, match=r"WaaS 2\.0's envelope has no error_description"):
        build_envelope(2024, api="v2", description="x")
    with pytest.raises(ValueError, match="valid: error_code, error_message, error_id"):
        build_envelope(2024, api="v2", omit=["success"])
    with pytest.raises(ValueError, match="api must be 'v1' or 'v2'"):
        success(api="v3")  # type: ignore[arg-type]


def test_waas2_answers_are_signed_with_ed25519_and_v1_answers_with_secp256k1(
    cobo_fault: CoboFaults, cobo_waas2_signing_key: TestKey, cobo_signing_key: TestKey
) -> None:
    cobo_fault.sign_responses()
    cobo_fault.succeed({"id": "w-1"}, path="/v2/wallets/w-1")
    cobo_fault.succeed(path="/v1/custody/coin_info/")
    v2 = httpx.get(DEV + "/v2/wallets/w-1")
    v1 = httpx.get(DEV + "/v1/custody/coin_info/")
    assert cobo_waas2_signing_key.curve == "ed25519"
    assert waas2_sdk_accepts(v2, cobo_waas2_signing_key.public_key_hex)
    assert cobo_signing_key.verify(f"{v1.text}|{v1.headers['BIZ_TIMESTAMP']}", v1.headers["BIZ_RESP_SIGNATURE"])


@pytest.mark.parametrize("signature", ["tampered", "wrong", "stale"])
def test_forged_waas2_signatures_fail_the_sdks_check_or_are_old(
    cobo_fault: CoboFaults, cobo_waas2_signing_key: TestKey, signature: str
) -> None:
    cobo_fault.sign_responses()
    cobo_fault.inject(signed(success({"id": "w-1"}, api="v2"), signature))  # type: ignore[arg-type]
    response = httpx.get(DEV + "/v2/wallets/w-1")
    accepted = waas2_sdk_accepts(response, cobo_waas2_signing_key.public_key_hex)
    assert accepted is (signature == "stale")  # a stale one verifies: only its timestamp is old


def test_an_ed25519_key_from_a_known_seed_gives_the_rfc_8032_public_key() -> None:
    # RFC 8032, section 7.1, test 1
    key = TestKey("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", curve="ed25519")
    assert key.public_key_hex == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert key.verify("body|1", key.sign("body|1"))
    with pytest.raises(ValueError, match="unknown curve 'p256'; valid: secp256k1, ed25519"):
        TestKey(curve="p256")  # type: ignore[arg-type]


def test_waas2_cases_run_over_its_catalog_with_their_own_ids() -> None:
    cases = build_cases(api="v2")
    assert len(cases) == 126
    assert cases[0].id == "v2-1000-internal-server-error"
    assert len(build_cases(api="v2", removed=True)) == 126 + 9
    assert [c.code for c in build_cases(api="v2", codes="3001x")] == list(range(30010, 30019))
    assert {c.id for c in build_cases(api="v2", statuses=True)} >= {"v2-http-401-unauthorized"}
    with pytest.raises(ValueError, match="family= chooses among the Custody API's"):
        build_cases(api="v2", family="12")
    with pytest.raises(ValueError, match="needs api='v2'"):
        build_cases(removed=True)


def test_cobo_codes_selects_waas2_cases_with_a_v2_prefix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_cobo_errors import cobo_error_cases

        @cobo_error_cases(api="v2", codes=["2024", "30xxx"])
        def test_v2(cobo_error):
            assert cobo_error.outcome().render().status == cobo_error.status

        @cobo_error_cases(codes=[12007, 12009])
        def test_v1(cobo_error):
            pass
        """
    )
    selected = pytester.runpytest("-p", "no:randomly", "--cobo-codes=v2:2024,12009")
    selected.assert_outcomes(passed=2, deselected=37)  # 36 30xxx codes and 12007 left out
    selected.stdout.fnmatch_lines(
        ["cobo-errors: --cobo-codes=v2:2024,12009 selects 2 of 188 documented Custody API and WaaS 2.0 cases"]
    )
    unknown = pytester.runpytest("-p", "no:randomly", "--cobo-codes=v2:12015")
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR
    unknown.stderr.fnmatch_lines(["*'v2:12015' is not a documented Cobo WaaS 2.0 error code (nearest: v2:*"])
    misplaced = pytester.runpytest("-p", "no:randomly", "--cobo-codes=30012")
    misplaced.stderr.fnmatch_lines(
        ["*'30012' is not a documented Cobo error code (nearest: *; v2:30012 is a Cobo WaaS 2.0 code)*"]
    )


def test_the_coverage_report_scores_waas2_apart(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest

        @pytest.mark.cobo_transports("httpx")
        def test_v2(cobo_fault):
            cobo_fault.inject(2024, path="/v2/wallets")
            httpx.get("https://api.dev.cobo.com/v2/wallets")
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--cobo-coverage")
    result.stdout.fnmatch_lines(
        [
            "WaaS 2.0 error codes     1/126 exercised",
            "WaaS 2.0 HTTP statuses   1/11 exercised",
            "total         1.5% of 137 documented codes and statuses",  # a v2-only suite is scored on v2
        ]
    )


def test_outcomes_built_without_an_api_take_the_rules(cobo_fault: CoboFaults, cobo_waas2_signing_key: TestKey) -> None:
    cobo_fault.sign_responses()
    cobo_fault.inject(signed(2028), path="/v2/wallets/gone")  # a code only WaaS 2.0 documents
    cobo_fault.inject(signed(error(1000, message="busy")), path="/v2/wallets/busy")  # both document 1000
    cobo_fault.sequence([2026, success({"id": "w"}, status=201)], method="POST", path="/v2/wallets")
    gone, busy = httpx.get(DEV + "/v2/wallets/gone"), httpx.get(DEV + "/v2/wallets/busy")
    assert (gone.status_code, set(gone.json())) == (404, V2_FIELDS)
    assert (busy.status_code, busy.json()["error_message"], set(busy.json())) == (500, "busy", V2_FIELDS)
    assert all(waas2_sdk_accepts(r, cobo_waas2_signing_key.public_key_hex) for r in (gone, busy))
    created = [httpx.post(DEV + "/v2/wallets") for _ in range(2)]
    assert [(r.status_code, r.json()) for r in created][1] == (201, {"id": "w"})
    assert error(1000).render().status == 500  # outside a rule: the Custody API's form
    assert "success" in error(1000).render().body.decode()


def test_a_code_waas2_does_not_document_on_a_v2_rule_names_the_nearest(cobo_fault: CoboFaults) -> None:
    with pytest.raises(ValueError, match=r"12015 is not a documented Cobo WaaS 2\.0 error code"):
        cobo_fault.inject(12015, path="/v2/addresses")


def test_cobo_waas2_trust_without_the_sdk_says_what_to_install(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import sys\nsys.modules['cobo_waas2'] = None  # as if not installed")
    pytester.makepyfile("def test_trusting(cobo_waas2_trust):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cobo_waas2_trust: the cobo-waas2 SDK is not installed: pip install cobo-waas2*"])


def test_an_error_made_for_v1_that_waas2_cannot_carry_stays_v1_on_a_v2_path(cobo_fault: CoboFaults) -> None:
    # omit= names a field only the v1 envelope has: converting it would fail at request time
    cobo_fault.inject(error(1000, omit=("error_description",)), path="/v2/wallets")
    body = httpx.get(DEV + "/v2/wallets").json()
    assert body["success"] is False
    assert "error_description" not in body


def test_waas2_cases_exclude_with_a_bang_as_v1_cases_do() -> None:
    every = build_cases(api="v2", codes="30xxx")
    fewer = build_cases(api="v2", codes="30xxx,!30001")
    assert [c.code for c in every if c.code != 30001] == [c.code for c in fewer]
    assert [c.code for c in build_cases(api="v2", codes=["30xxx", "!30001"])] == [c.code for c in fewer]


def test_a_signed_waas2_error_counts_as_waas2_in_the_coverage_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest
        from pytest_cobo_errors import signed

        @pytest.mark.cobo_transports("httpx")
        def test_v2(cobo_fault):
            cobo_fault.inject(signed(2024, "wrong"), path="/v2/wallets")
            httpx.get("https://api.dev.cobo.com/v2/wallets")
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--cobo-coverage")
    result.stdout.fnmatch_lines(["error codes    0/41 exercised*", "WaaS 2.0 error codes     1/126 exercised"])
