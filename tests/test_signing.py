"""Signed responses: a test key signs injected answers as Cobo signs real ones, and forges what clients must reject.

Signatures are checked with the official SDK's own `verify_ecdsa_signature`, which is built on
the ``ecdsa`` package: an implementation independent of the ``cryptography`` package that signs.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time

import httpx
import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest
import requests
from cobo_custody.signer.local_signer import verify_ecdsa_signature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from pytest_cobo_errors import (
    CoboFaults,
    SigningUnavailableError,
    TestKey,
    connect_timeout,
    error,
    gateway,
    respond,
    signed,
    success,
)
from pytest_cobo_errors import signing as signing_module
from pytest_cobo_errors.outcomes import Reply
from pytest_cobo_errors.signing import SIGNATURE_FAULTS

DEV = "https://api.dev.cobo.com"
COIN_INFO = "/v1/custody/coin_info/"
G_COMPRESSED = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"  # secp256k1's generator

requests_only = pytest.mark.cobo_transports("requests")


def content_of(reply: Reply | requests.Response) -> str:
    """What a Cobo client verifies: ``body|timestamp``."""
    if isinstance(reply, Reply):
        body, timestamp = reply.body.decode(), reply.header("BIZ_TIMESTAMP")
    else:
        body, timestamp = reply.content.decode(), reply.headers["BIZ_TIMESTAMP"]
    return f"{body}|{timestamp}"


def sdk_accepts(response: requests.Response, key: TestKey) -> bool:
    return bool(
        verify_ecdsa_signature(content_of(response), response.headers["BIZ_RESP_SIGNATURE"], key.public_key_hex)
    )


# -- the key -------------------------------------------------------------------------------------------


def test_a_key_shows_its_public_half_in_the_compressed_form_the_sdk_takes() -> None:
    key = TestKey()
    assert len(key.public_key_hex) == 66
    assert key.public_key_hex[:2] in ("02", "03")
    assert len(key.private_key_hex) == 64
    assert TestKey(key.private_key_hex).public_key_hex == key.public_key_hex
    assert key.private_key_hex not in repr(key)


def test_a_known_private_key_gives_the_known_public_key() -> None:
    assert TestKey("00" * 31 + "01").public_key_hex == G_COMPRESSED  # 1·G = G


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "zz" * 32,
        "00" * 32,
        "ff" * 32,
        "01" * 31,
        "01" * 33,
        "0x" + "01" * 31,
        " " + "01" * 31 + "1",
        "+" + "01" * 31 + "1",
        "_".join(["01" * 16] * 2)[:64],
    ],
)
def test_a_private_key_must_be_64_hex_digits_within_the_curve_order(bad: str) -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        TestKey(bad)


def test_signatures_are_hex_der_over_the_double_sha256_and_the_sdk_verifies_them() -> None:
    key = TestKey()
    content = '{"success": true, "result": {}}|1700000000000'
    signature = key.sign(content)
    assert bytes.fromhex(signature)[0] == 0x30  # a DER SEQUENCE
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), bytes.fromhex(key.public_key_hex))
    double = hashlib.sha256(hashlib.sha256(content.encode()).digest()).digest()
    public.verify(bytes.fromhex(signature), double, ec.ECDSA(Prehashed(hashes.SHA256())))  # raises if not
    assert verify_ecdsa_signature(content, signature, key.public_key_hex)
    assert not verify_ecdsa_signature(content + " ", signature, key.public_key_hex)
    assert not verify_ecdsa_signature(content, signature, TestKey().public_key_hex)
    assert key.verify(content, signature)
    assert not key.verify(content, "zz")


def test_the_cobo_signing_key_fixture_is_one_key_for_the_session(cobo_signing_key: TestKey) -> None:
    assert cobo_signing_key is signing_module.session_key()


# -- signing every answer --------------------------------------------------------------------------------


@requests_only
def test_sign_responses_signs_every_cobo_answer_and_the_sdk_accepts_it(
    cobo_fault: CoboFaults, cobo_signing_key: TestKey
) -> None:
    assert cobo_fault.sign_responses() is cobo_signing_key
    cobo_fault.sequence([12007, success({"coin": "ETH"}), respond(200, b'{"raw": true}')])
    before = int(time.time() * 1000)
    answers = [requests.get(DEV + COIN_INFO) for _ in range(3)]
    for response in answers:
        assert sdk_accepts(response, cobo_signing_key)
        assert before <= int(response.headers["BIZ_TIMESTAMP"]) <= time.time() * 1000
    assert answers[0].json()["error_code"] == 12007


@pytest.mark.cobo_transports("httpx")
def test_signing_is_the_same_over_httpx(cobo_fault: CoboFaults) -> None:
    key = cobo_fault.sign_responses(TestKey())
    cobo_fault.succeed({"coin": "ETH"})
    response = httpx.get(DEV + COIN_INFO)
    content = f"{response.text}|{response.headers['BIZ_TIMESTAMP']}"
    assert verify_ecdsa_signature(content, response.headers["BIZ_RESP_SIGNATURE"], key.public_key_hex)


@requests_only
def test_gateway_pages_are_never_signed_because_proxies_do_not_sign(cobo_fault: CoboFaults) -> None:
    cobo_fault.sign_responses()
    cobo_fault.gateway(502)
    response = requests.get(DEV + COIN_INFO)
    assert "BIZ_TIMESTAMP" not in response.headers
    assert "BIZ_RESP_SIGNATURE" not in response.headers


@requests_only
def test_signature_headers_given_by_the_test_are_left_alone(cobo_fault: CoboFaults) -> None:
    cobo_fault.sign_responses()
    cobo_fault.inject(respond(200, b"{}", headers={"BIZ_TIMESTAMP": "1", "BIZ_RESP_SIGNATURE": "3000"}))
    response = requests.get(DEV + COIN_INFO)
    assert (response.headers["BIZ_TIMESTAMP"], response.headers["BIZ_RESP_SIGNATURE"]) == ("1", "3000")


UNDERSCORE = ("BIZ_TIMESTAMP", "BIZ_RESP_SIGNATURE")
HYPHEN = ("Biz-Timestamp", "Biz-Resp-Signature")


@requests_only
def test_a_signed_answer_carries_both_header_spellings_as_cobo_sends_them(
    cobo_fault: CoboFaults, cobo_signing_key: TestKey
) -> None:
    # the Python v1 SDK reads the underscore pair, the Go v1 and Python v2 SDKs the hyphen pair
    cobo_fault.sign_responses(cobo_signing_key)
    cobo_fault.succeed({"coin": "ETH"})
    response = requests.get(DEV + COIN_INFO)
    (stamp, signature), (hyphen_stamp, hyphen_signature) = (
        [response.headers[h] for h in pair] for pair in (UNDERSCORE, HYPHEN)
    )
    assert (hyphen_stamp, hyphen_signature) == (stamp, signature)
    assert verify_ecdsa_signature(f"{response.text}|{hyphen_stamp}", hyphen_signature, cobo_signing_key.public_key_hex)


@requests_only
@pytest.mark.parametrize(
    ("spelling", "sent", "absent"), [("underscore", UNDERSCORE, HYPHEN), ("hyphen", HYPHEN, UNDERSCORE)]
)
def test_each_spelling_alone_is_the_fault_for_a_client_that_reads_the_other(
    cobo_fault: CoboFaults, cobo_signing_key: TestKey, spelling: str, sent: tuple[str, str], absent: tuple[str, str]
) -> None:
    cobo_fault.sign_responses(cobo_signing_key, spelling=spelling)  # type: ignore[arg-type]
    cobo_fault.inject(signed(12009, spelling=spelling), path="/v1/custody/new_withdraw_request/", method="POST")  # type: ignore[arg-type]
    cobo_fault.succeed(path=COIN_INFO)
    for response in (requests.get(DEV + COIN_INFO), requests.post(DEV + "/v1/custody/new_withdraw_request/")):
        assert all(h in response.headers for h in sent)
        assert not any(h in response.headers for h in absent)  # requests looks names up case-insensitively
        assert verify_ecdsa_signature(
            f"{response.text}|{response.headers[sent[0]]}", response.headers[sent[1]], cobo_signing_key.public_key_hex
        )


def test_signature_faults_follow_the_spelling(cobo_signing_key: TestKey) -> None:
    missing = signed(12007, "missing", spelling="hyphen").render_with(cobo_signing_key)
    assert [k for k, _ in missing.headers if k.lower().startswith("biz")] == ["Biz-Timestamp"]
    wrong = signed(12007, "wrong").render_with(cobo_signing_key)
    assert [k for k, _ in wrong.headers if k.lower().startswith("biz")] == [*UNDERSCORE, *HYPHEN]
    assert "hyphen headers only" in signed(12007, spelling="hyphen").label
    assert repr(signed(12007, spelling="underscore")).endswith("spelling='underscore')")


def test_an_unknown_spelling_names_the_valid_ones(cobo_fault: CoboFaults) -> None:
    with pytest.raises(ValueError, match="unknown spelling 'dash'; valid: both, underscore, hyphen"):
        signed(12007, spelling="dash")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown spelling 'Hyphen'; valid: both, underscore, hyphen"):
        cobo_fault.sign_responses(spelling="Hyphen")  # type: ignore[arg-type]


def test_sign_responses_takes_only_a_test_key(cobo_fault: CoboFaults) -> None:
    with pytest.raises(TypeError, match="TestKey"):
        cobo_fault.sign_responses("02" + "ab" * 32)  # type: ignore[arg-type]


# -- forged signatures -----------------------------------------------------------------------------------


def test_signed_renders_each_signature_fault(cobo_signing_key: TestKey) -> None:
    now_ms = time.time() * 1000
    valid = signed(12007).render()
    assert verify_ecdsa_signature(
        content_of(valid), valid.header("BIZ_RESP_SIGNATURE"), cobo_signing_key.public_key_hex
    )

    tampered = signed(12007, "tampered").render()
    sent, signature = tampered.body.decode(), tampered.header("BIZ_RESP_SIGNATURE")
    assert json.loads(sent) == json.loads(sent.rstrip())  # same JSON value: only the signature can tell
    assert not verify_ecdsa_signature(content_of(tampered), signature, cobo_signing_key.public_key_hex)
    signed_content = f"{sent.rstrip()}|{tampered.header('BIZ_TIMESTAMP')}"
    assert verify_ecdsa_signature(signed_content, signature, cobo_signing_key.public_key_hex)

    wrong = signed(12007, "wrong").render()
    assert not verify_ecdsa_signature(
        content_of(wrong), wrong.header("BIZ_RESP_SIGNATURE"), cobo_signing_key.public_key_hex
    )
    assert bytes.fromhex(wrong.header("BIZ_RESP_SIGNATURE") or "")[0] == 0x30  # a well-formed signature, wrong key

    missing = signed(12007, "missing").render()
    assert missing.header("BIZ_TIMESTAMP") is not None
    assert missing.header("BIZ_RESP_SIGNATURE") is None

    stale = signed(12007, "stale", age=3600).render()
    assert verify_ecdsa_signature(
        content_of(stale), stale.header("BIZ_RESP_SIGNATURE"), cobo_signing_key.public_key_hex
    )
    assert now_ms - int(stale.header("BIZ_TIMESTAMP") or 0) == pytest.approx(3600_000, abs=60_000)


@pytest.mark.parametrize(
    ("tamper", "sent"),
    [
        (b'{"success": true, "result": {"amount": "1000000"}}', b'{"success": true, "result": {"amount": "1000000"}}'),
        ('{"success": true}', b'{"success": true}'),
        (lambda body: body.replace(b'"1"', b'"9"'), b'{"success": true, "result": {"amount": "9"}}'),
    ],
)
def test_tamper_chooses_the_forged_body(tamper: object, sent: bytes, cobo_signing_key: TestKey) -> None:
    reply = signed(success({"amount": "1"}), "tampered", tamper=tamper).render()  # type: ignore[arg-type]
    assert reply.body == sent
    original = f'{{"success": true, "result": {{"amount": "1"}}}}|{reply.header("BIZ_TIMESTAMP")}'
    assert verify_ecdsa_signature(original, reply.header("BIZ_RESP_SIGNATURE"), cobo_signing_key.public_key_hex)


@requests_only
def test_signed_outcomes_follow_the_key_signing_was_turned_on_with(cobo_fault: CoboFaults) -> None:
    own, explicit = TestKey(), TestKey()
    cobo_fault.sign_responses(own)
    cobo_fault.sequence([signed(1000), signed(1000, key=explicit)])
    first, second = requests.get(DEV + COIN_INFO), requests.get(DEV + COIN_INFO)
    assert sdk_accepts(first, own)
    assert sdk_accepts(second, explicit)


@requests_only
def test_signed_outcomes_work_in_any_rule_and_keep_their_code(cobo_fault: CoboFaults) -> None:
    rule = cobo_fault.fail_then_succeed(signed(12007, "wrong"), result={"ok": True})
    requests.get(DEV + COIN_INFO)
    requests.get(DEV + COIN_INFO)
    assert cobo_fault.served_codes() == [12007]
    assert "signed by the wrong key" in rule.calls[0].outcome.label
    failed, succeeded = (call.reply for call in rule.calls)
    assert isinstance(failed, Reply)
    assert isinstance(succeeded, Reply)
    assert failed.header("BIZ_RESP_SIGNATURE") is not None
    assert succeeded.header("BIZ_RESP_SIGNATURE") is None  # signing is off: the success is plain


def test_signed_refuses_what_has_no_cobo_signature_and_bad_options() -> None:
    with pytest.raises(TypeError, match="a proxy's page is never signed"):
        signed(gateway(502))
    with pytest.raises(TypeError, match="connect timeout carries no Cobo signature"):
        signed(connect_timeout())
    with pytest.raises(ValueError, match="valid: valid, tampered, wrong, missing, stale"):
        signed(12007, "forged")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tamper="):
        signed(12007, "wrong", tamper=b"{}")
    with pytest.raises(TypeError, match="age="):
        signed(12007, age=10)
    with pytest.raises(ValueError, match="positive"):
        signed(12007, "stale", age=0)
    with pytest.raises(TypeError, match="already signed"):
        signed(signed(12007))
    assert SIGNATURE_FAULTS == ("valid", "tampered", "wrong", "missing", "stale")
    assert signed(error(12007, status=200)).status == 200


# -- the extra missing ----------------------------------------------------------------------------------


@pytest.fixture
def without_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``cryptography`` unimportable, as Python does for a module set to None in sys.modules."""
    for name in [n for n in sys.modules if n == "cryptography" or n.startswith("cryptography.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(signing_module, "_keys", {})  # no key made before the extra "went missing"


@pytest.mark.usefixtures("without_cryptography")
def test_without_the_extra_signing_says_what_to_install(cobo_fault: CoboFaults) -> None:
    hint = r"pip install 'pytest-cobo-errors\[signing\]'"
    with pytest.raises(SigningUnavailableError, match=hint):
        TestKey()
    with pytest.raises(ImportError, match=hint):  # an ImportError, as a missing extra usually is
        cobo_fault.sign_responses()
    with pytest.raises(SigningUnavailableError, match=hint):
        signed(12007, "tampered")  # at declaration, not mid-request


@pytest.mark.usefixtures("without_cryptography")
def test_without_the_extra_the_fixture_fails_cleanly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_key(cobo_signing_key): pass")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert (
        "signing Cobo responses needs the 'cryptography' package: pip install 'pytest-cobo-errors[signing]'"
        in result.stdout.lines
    )
