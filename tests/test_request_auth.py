"""Request signatures checked as Cobo checks them: what a fake Cobo answers a client whose signing is broken.

v1: the requests accepted here are built and signed by the official ``cobo-custody`` SDK (0.46)
itself, sent in-process through cobo_fault and captured; the broken ones are signed by the SDK's
own ``LocalSigner`` over the wrong string. v2: ``cobo-waas2`` (1.46.0) cannot be installed next to
``cobo-custody`` (they pin different ``ecdsa`` versions), so `waas2_request` replicates, line by
line, how it builds, signs and sends a request; the lines followed are cited there.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlparse, urlunparse

import pytest
from cobo_custody.client import Client
from cobo_custody.config import Env
from cobo_custody.signer.local_signer import LocalSigner, generate_new_key, verify_ecdsa_signature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pytest_cobo_errors import CoboFaults, TestKey
from pytest_cobo_errors.request_auth import (
    NonceBook,
    RequestCheck,
    check_request,
    sign_v1,
    sign_v2,
    v1_string_to_sign,
    v2_string_to_sign,
    verify_v1,
    verify_v2,
)
from pytest_cobo_errors.transports.contract import CapturedRequest

DEV = "https://api.dev.cobo.com"
COIN_INFO = "/v1/custody/coin_info/"
ADDRESS_INFO = "/v1/custody/address_info/"
WITHDRAW = "/v1/custody/new_withdraw_request/"
NONCE = "1700000000000000"  # v1: the SDK sends microseconds
NONCE_MS = "1700000000000"  # v2: the SDK sends milliseconds
FORM = "application/x-www-form-urlencoded"
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1's group order

requests_only = pytest.mark.cobo_transports("requests")  # the SDK sends with requests


def without(request: CapturedRequest, header: str) -> CapturedRequest:
    headers = [(k, v) for k, v in request.headers.items() if k.lower() != header.lower()]
    return CapturedRequest(request.method, request.url, headers, request.content, request.transport)


def with_headers(request: CapturedRequest, **changed: str) -> CapturedRequest:
    names = {name.replace("_", "-").lower(): value for name, value in changed.items()}
    headers = [(k, names.pop(k.lower(), v)) for k, v in request.headers.items()]
    return CapturedRequest(request.method, request.url, headers + list(names.items()), request.content)


# == v1 ==============================================================================================


@pytest.fixture
def api_signer() -> LocalSigner:
    private_key, _ = generate_new_key()  # a throwaway API key, made for this test only
    return LocalSigner(private_key)


@pytest.fixture
def client(api_signer: LocalSigner, cobo_signing_key: TestKey, cobo_fault: CoboFaults) -> Client:
    cobo_fault.sign_responses(cobo_signing_key)
    return Client(signer=api_signer, env=Env(host=DEV, coboPub=cobo_signing_key.public_key_hex))


def sent_by_sdk(cobo_fault: CoboFaults, client: Client, call: Callable[[Client], object]) -> CapturedRequest:
    """The request the SDK sent for *call*, as the fake Cobo received it."""
    cobo_fault.succeed()
    call(client)
    return cobo_fault.calls[-1].request


def coin_info(signer: LocalSigner) -> CapturedRequest:
    """``GET /v1/custody/coin_info/?coin=BTC``, correctly signed."""
    return v1_request(signer, "GET", COIN_INFO, "coin=BTC", signs=f"GET|{COIN_INFO}|{NONCE}|coin=BTC")


def v1_request(
    signer: LocalSigner, method: str, path: str, sent: str, *, signs: str, nonce: str = NONCE
) -> CapturedRequest:
    """A v1 request whose params go out as *sent* (the query, or the form body of a POST) but whose
    signature, made by the SDK's own `LocalSigner`, is over *signs*: a client with broken signing."""
    headers = {"Biz-Api-Key": signer.get_public_key(), "Biz-Api-Nonce": nonce, "Biz-Api-Signature": signer.sign(signs)}
    if method == "GET":
        return CapturedRequest("GET", f"{DEV}{path}?{sent}" if sent else DEV + path, headers, transport="requests")
    return CapturedRequest(method, DEV + path, {**headers, "Content-Type": FORM}, sent.encode(), "requests")


@requests_only
@pytest.mark.parametrize(
    ("call", "query_sent", "server_signs"),
    [
        pytest.param(
            lambda c: c.get_coin_info("BTC"),
            "coin=BTC",
            "GET|/v1/custody/coin_info/|{nonce}|coin=BTC",
            id="GET: a None param (amount) is neither sent nor signed",
        ),
        pytest.param(
            lambda c: c.verify_deposit_address("XRP", "rAddr 1+/x"),
            "coin=XRP&address=rAddr+1%2B%2Fx",
            "GET|/v1/custody/address_info/|{nonce}|address=rAddr+1%2B%2Fx&coin=XRP",
            id="GET: sent in the caller's order, signed sorted",
        ),
        pytest.param(
            lambda c: c.get_account_info(),
            "",
            "GET|/v1/custody/org_info/|{nonce}|",
            id="GET: no params, the string ends with |",
        ),
        pytest.param(
            lambda c: c.new_deposit_address("BTC", native_segwit=True),
            "",
            "POST|/v1/custody/new_address/|{nonce}|coin=BTC&native_segwit=True",
            id="POST: form params, a bool as Python spells it",
        ),
        pytest.param(
            lambda c: c.withdraw("ETH", "0x" + "ab" * 20, 10**18, request_id="w-1", memo=None),
            "",
            f"POST|{WITHDRAW}|{{nonce}}|address=0x{'ab' * 20}&amount={10**18}&coin=ETH&request_id=w-1",
            id="POST: None params (memo, remark, force_*) dropped",
        ),
    ],
)
def test_v1_requests_the_official_sdk_signs_are_accepted(
    cobo_fault: CoboFaults,
    client: Client,
    call: Callable[[Client], object],
    query_sent: str,
    server_signs: str,
) -> None:
    request = sent_by_sdk(cobo_fault, client, call)
    assert request.query == query_sent
    nonce = request.headers["Biz-Api-Nonce"]
    check = verify_v1(request, api_keys={client.api_signer.get_public_key()})
    assert check == RequestCheck(True, "v1", None, None, check.reason)
    assert repr(server_signs.format(nonce=nonce)) in check.reason
    assert check_request(request, nonces=NonceBook()).ok


@pytest.mark.parametrize(
    ("target", "sent", "client_signs", "server_signs"),
    [
        pytest.param(
            f"GET {COIN_INFO}", "coin=BTC",
            f"GET|/v1/custody/coin_info|{NONCE}|coin=BTC",
            f"GET|/v1/custody/coin_info/|{NONCE}|coin=BTC",
            id="another path: trailing slash dropped",
        ),
        pytest.param(
            f"GET {COIN_INFO}", "coin=BTC",
            f"get|{COIN_INFO}|{NONCE}|coin=BTC",
            f"GET|{COIN_INFO}|{NONCE}|coin=BTC",
            id="method signed in lower case",
        ),
        pytest.param(
            f"GET {ADDRESS_INFO}", "coin=BTC&address=3Abc",
            f"GET|{ADDRESS_INFO}|{NONCE}|coin=BTC&address=3Abc",
            f"GET|{ADDRESS_INFO}|{NONCE}|address=3Abc&coin=BTC",
            id="params signed unsorted",
        ),
        pytest.param(
            f"GET {COIN_INFO}", "coin=BTC&amount=1",
            f"GET|{COIN_INFO}|{NONCE}|coin=BTC",
            f"GET|{COIN_INFO}|{NONCE}|amount=1&coin=BTC",
            id="param added after signing",
        ),
        pytest.param(
            f"GET {COIN_INFO}", "coin=BTC",
            f"GET|{COIN_INFO}|{NONCE}|amount=None&coin=BTC",
            f"GET|{COIN_INFO}|{NONCE}|coin=BTC",
            id="None signed but not sent",
        ),
        pytest.param(
            f"GET {ADDRESS_INFO}", "address=a%20b&coin=XRP",
            f"GET|{ADDRESS_INFO}|{NONCE}|address=a%20b&coin=XRP",
            f"GET|{ADDRESS_INFO}|{NONCE}|address=a+b&coin=XRP",
            id="value signed with %20 where urlencode writes +",
        ),
        pytest.param(
            f"GET {COIN_INFO}", "coin=BTC",
            f"GET|{COIN_INFO}|1700000000000001|coin=BTC",
            f"GET|{COIN_INFO}|{NONCE}|coin=BTC",
            id="nonce changed after signing",
        ),
        pytest.param(
            f"POST {WITHDRAW}", "amount=2&coin=ETH",
            f"POST|{WITHDRAW}|{NONCE}|amount=1&coin=ETH",
            f"POST|{WITHDRAW}|{NONCE}|amount=2&coin=ETH",
            id="form body changed after signing",
        ),
    ],
)  # fmt: skip
def test_v1_a_signature_over_another_string_answers_12001_showing_the_string_cobo_signs(
    api_signer: LocalSigner, target: str, sent: str, client_signs: str, server_signs: str
) -> None:
    method, path = target.split()
    check = verify_v1(v1_request(api_signer, method, path, sent, signs=client_signs))
    assert (check.ok, check.api, check.code, check.status) == (False, "v1", 12001, 401)
    assert check.reason.startswith("Biz-Api-Signature is not Biz-Api-Key ")
    source = "the form body" if method == "POST" else "the query"
    assert check.reason.endswith(
        f"signature of the string {server_signs!r} (METHOD|path|nonce|urlencode(sorted(params)), params from "
        f"{source}; ECDSA secp256k1 over sha256(sha256(string)), DER, hex)"
    )


def test_v1_post_params_are_read_from_the_form_body_not_the_query(api_signer: LocalSigner) -> None:
    """As the SDK sends them (``requests.post(url, data=params)``): params in a POST's query are not signed."""
    signed = v1_request(api_signer, "POST", WITHDRAW, "", signs=f"POST|{WITHDRAW}|{NONCE}|amount=1&coin=ETH")
    check = verify_v1(CapturedRequest("POST", f"{DEV}{WITHDRAW}?amount=1&coin=ETH", signed.headers))
    assert check.code == 12001
    assert f"signature of the string 'POST|{WITHDRAW}|{NONCE}|' (" in check.reason


def test_v1_a_signature_by_another_key_than_the_one_named_answers_12001(api_signer: LocalSigner) -> None:
    impostor = LocalSigner(generate_new_key()[0])
    signs = f"GET|{COIN_INFO}|{NONCE}|coin=BTC"
    request = with_headers(
        v1_request(api_signer, "GET", COIN_INFO, "coin=BTC", signs=signs), biz_api_signature=impostor.sign(signs)
    )
    check = verify_v1(request)
    assert (check.code, check.status) == (12001, 401)
    key = api_signer.get_public_key()
    assert f"is not Biz-Api-Key {key[:4]}…(66 chars)'s signature of the string {signs!r}" in check.reason
    assert key not in check.reason  # the key is masked as everywhere in the plugin's messages


def hashed_once(private_key: str, string: str) -> str:
    """Plain ECDSA-SHA256 over the string: one sha256 short of what Cobo verifies."""
    key = ec.derive_private_key(int(private_key, 16), ec.SECP256K1())
    return key.sign(string.encode(), ec.ECDSA(hashes.SHA256())).hex()


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(hashed_once, id="ECDSA over sha256(string), not sha256(sha256(string))"),
        pytest.param(lambda key, string: LocalSigner(key).sign(string)[:-2], id="DER truncated"),
        pytest.param(lambda key, string: "zz", id="not hex"),
    ],
)
def test_v1_a_malformed_or_single_hashed_signature_answers_12001(forge: Callable[[str, str], str]) -> None:
    private_key, public_key = generate_new_key()
    signs = f"GET|{COIN_INFO}|{NONCE}|coin=BTC"
    headers = {"Biz-Api-Key": public_key, "Biz-Api-Nonce": NONCE, "Biz-Api-Signature": forge(private_key, signs)}
    check = verify_v1(CapturedRequest("GET", f"{DEV}{COIN_INFO}?coin=BTC", headers))
    assert (check.code, check.status) == (12001, 401)
    assert f"signature of the string {signs!r}" in check.reason


def test_v1_a_high_s_signature_is_accepted_as_the_sdk_makes_half_of_them(api_signer: LocalSigner) -> None:
    """``LocalSigner`` encodes with ``sigencode_der``, which does not make S low (v2's signer does)."""
    request = coin_info(api_signer)
    r, s = decode_dss_signature(bytes.fromhex(request.headers["Biz-Api-Signature"]))
    for s_value in (min(s, N - s), max(s, N - s)):
        flipped = with_headers(request, biz_api_signature=encode_dss_signature(r, s_value).hex())
        assert verify_v1(flipped).ok


@pytest.mark.parametrize(
    ("dropped", "reason"),
    [
        pytest.param("Biz-Api-Key", "header Biz-Api-Key missing or empty", id="key"),
        pytest.param("Biz-Api-Nonce", "header Biz-Api-Nonce missing or empty", id="nonce"),
        pytest.param("Biz-Api-Signature", "header Biz-Api-Signature missing or empty", id="signature"),
        pytest.param(
            ("Biz-Api-Nonce", "Biz-Api-Signature"),
            "headers Biz-Api-Nonce and Biz-Api-Signature missing or empty",
            id="two",
        ),
        pytest.param(
            ("Biz-Api-Key", "Biz-Api-Nonce", "Biz-Api-Signature"),
            "headers Biz-Api-Key, Biz-Api-Nonce and Biz-Api-Signature missing or empty",
            id="all three",
        ),
    ],
)
def test_v1_a_missing_header_answers_12000_naming_it(
    api_signer: LocalSigner, dropped: str | tuple[str, ...], reason: str
) -> None:
    request = coin_info(api_signer)
    assert verify_v1(request).ok
    for name in (dropped,) if isinstance(dropped, str) else dropped:
        request = without(request, name)
    check = verify_v1(request)
    assert check == RequestCheck(
        False,
        "v1",
        12000,
        401,
        f"{reason}: Cobo answers 12000 unless all of Biz-Api-Key, Biz-Api-Nonce, Biz-Api-Signature are sent",
    )


def test_v1_an_empty_header_counts_as_missing(api_signer: LocalSigner) -> None:
    request = coin_info(api_signer)
    check = verify_v1(with_headers(request, biz_api_nonce=" "))
    assert (check.code, check.reason.split(":")[0]) == (12000, "header Biz-Api-Nonce missing or empty")


def test_v1_a_key_not_among_api_keys_answers_1006(api_signer: LocalSigner) -> None:
    request = coin_info(api_signer)
    others = {generate_new_key()[1], generate_new_key()[1]}
    check = verify_v1(request, api_keys=others)
    key = api_signer.get_public_key()
    assert check == RequestCheck(
        False, "v1", 1006, 400, f"Biz-Api-Key {key[:4]}…(66 chars) is not one of the 2 accepted API keys (api_keys)"
    )
    assert verify_v1(request, api_keys=others | {key.upper()}).ok  # hex: a key is the same key in any case
    assert verify_v1(request, api_keys=None).ok  # None: any well-formed key, only the signature is checked


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("02" + "00" * 32, id="not a point on the curve"),
        pytest.param("03ab", id="too short"),
        pytest.param("not hex at all", id="not hex"),
        pytest.param(
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", id="32 bytes: an Ed25519 size"
        ),
    ],
)
def test_v1_a_malformed_key_answers_1006(key: str) -> None:
    request = CapturedRequest(
        "GET", f"{DEV}{COIN_INFO}", {"Biz-Api-Key": key, "Biz-Api-Nonce": NONCE, "Biz-Api-Signature": "3006"}
    )
    check = verify_v1(request)
    assert (check.code, check.status) == (1006, 400)
    assert check.reason.endswith("is not a secp256k1 public key in hex (66 hex digits compressed, or 130)")


def test_api_keys_must_be_a_collection_not_one_key(api_signer: LocalSigner) -> None:
    request = coin_info(api_signer)
    with pytest.raises(TypeError, match="not one string"):
        verify_v1(request, api_keys=api_signer.get_public_key())


@requests_only
def test_v1_a_replayed_nonce_answers_1005_with_a_nonce_book(
    cobo_fault: CoboFaults, client: Client, api_signer: LocalSigner
) -> None:
    request = sent_by_sdk(cobo_fault, client, lambda c: c.get_coin_info("BTC"))
    nonces = NonceBook()
    assert verify_v1(request, nonces=nonces).ok
    check = verify_v1(request, nonces=nonces)
    nonce = request.headers["Biz-Api-Nonce"]
    key = api_signer.get_public_key()
    assert check == RequestCheck(
        False,
        "v1",
        1005,
        400,
        f"Biz-Api-Nonce {nonce!r} was already used with Biz-Api-Key {key[:4]}…(66 chars): a replayed request",
    )
    assert verify_v1(request).ok  # without a nonce book, a replay is not looked for


def test_v1_a_forged_request_does_not_use_up_the_nonce(api_signer: LocalSigner) -> None:
    signs = f"GET|{COIN_INFO}|{NONCE}|coin=BTC"
    forged = v1_request(api_signer, "GET", COIN_INFO, "coin=BTC&amount=1", signs=signs)
    genuine = v1_request(api_signer, "GET", COIN_INFO, "coin=BTC", signs=signs)
    nonces = NonceBook()
    assert verify_v1(forged, nonces=nonces).code == 12001  # checked before the nonce is recorded
    assert verify_v1(genuine, nonces=nonces).ok
    other = LocalSigner(generate_new_key()[0])  # nonces are per key: another key may use the same one
    assert verify_v1(v1_request(other, "GET", COIN_INFO, "coin=BTC", signs=signs), nonces=nonces).ok


def test_sign_v1_makes_the_headers_the_sdk_makes() -> None:
    private_key, public_key = generate_new_key()
    headers = sign_v1("GET", COIN_INFO, {"coin": "BTC", "amount": None}, private_key, nonce=NONCE)
    assert (headers["Biz-Api-Key"], headers["Biz-Api-Nonce"]) == (public_key, NONCE)
    signs = f"GET|{COIN_INFO}|{NONCE}|coin=BTC"
    assert v1_string_to_sign("get", COIN_INFO, NONCE, {"coin": "BTC", "amount": None}) == signs
    # the SDK's own ECDSA check (the ``ecdsa`` package, not ``cryptography``) takes it
    assert verify_ecdsa_signature(signs, headers["Biz-Api-Signature"], public_key)
    assert verify_v1(CapturedRequest("GET", f"{DEV}{COIN_INFO}?coin=BTC", headers)).ok
    assert sign_v1("GET", COIN_INFO, {}, private_key)["Biz-Api-Nonce"].isdigit()


# == v2 ==============================================================================================

V2_HOST = "https://api.dev.cobo.com/v2"  # cobo_waas2/configuration.py line 71: the host ends in /v2


class Ed25519Signer:
    """cobo_waas2/crypto/local_ed25519_signer.py lines 7-16: a 32-byte seed; the API key is the raw
    public key in hex; ``sign`` signs the 32-byte digest as the message (PyNaCl; Ed25519 is
    deterministic, so ``cryptography`` makes the very same signature)."""

    def __init__(self, seed_hex: str | None = None) -> None:
        key = (
            Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex)) if seed_hex else Ed25519PrivateKey.generate()
        )
        self.key = key
        self.private_hex = key.private_bytes_raw().hex()
        self.api_key = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, digest: bytes) -> str:
        return self.key.sign(digest).hex()


class Secp256k1Signer:
    """cobo_waas2/crypto/local_secp256k1_signer.py lines 11-23: the API key is the compressed public
    key in hex; ``sign_digest(digest, sigencode=sigencode_der_canonize)``: ECDSA over the digest as
    it is, DER, S made low."""

    def __init__(self, *, high_s: bool = False) -> None:
        self.key = ec.generate_private_key(ec.SECP256K1())
        self.private_hex = self.key.private_numbers().private_value.to_bytes(32, "big").hex()
        self.api_key = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint).hex()
        self.high_s = high_s  # not the SDK: for the test that a high S passes too

    def sign(self, digest: bytes) -> str:
        r, s = decode_dss_signature(self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
        s = max(s, N - s) if self.high_s else min(s, N - s)
        return encode_dss_signature(r, s).hex()


V2Signer = Ed25519Signer | Secp256k1Signer


def waas2_request(
    signer: V2Signer,
    method: str,
    resource_path: str,
    *,
    query: dict[str, Any] | None = None,
    body: Any = None,
    nonce: str = NONCE_MS,
    signed_path: str | None = None,
) -> CapturedRequest:
    """The request ``cobo_waas2`` 1.46.0 sends, built as its code builds it (*signed_path* replaces
    the path in the signed string: a broken client)."""
    # api_client.py lines 180-186 (param_serialize): host + resource_path, then "?" and the query
    # from parameters_to_url_query (lines 467-507): bools lower-cased, each value quote()d
    url = V2_HOST + resource_path
    if query:
        url += "?" + "&".join(
            f"{k}={quote(str(v).lower() if isinstance(v, bool) else str(v))}" for k, v in query.items()
        )
    # api_client.py lines 214-218 (call_api): the query is parsed again, empty values dropped, and
    # re-encoded with urlencode; that string is both sent and signed
    parts = urlparse(url)
    params = {k: v for k, v in dict(parse_qsl(parts.query)).items() if v}
    parts = parts._replace(query=urlencode(params))
    # api_client.py line 221: the body signed is json.dumps(body), or b"" for none
    signed_body = json.dumps(body).encode("utf-8") if body else b""
    # crypto/signing_helper.py lines 19-27 (_build_unsigned_digest) and 55 (the nonce, milliseconds)
    str_to_sign = "|".join(
        (method.upper(), signed_path or parts.path, nonce, urlencode(params), str(signed_body, "utf-8", "strict"))
    )
    digest = hashlib.sha256(hashlib.sha256(str_to_sign.encode()).digest()).digest()
    headers = {
        "Content-Type": "application/json",
        # crypto/signing_helper.py lines 65-69
        "Biz-Api-Key": signer.api_key,
        "Biz-Api-Nonce": nonce,
        "Biz-Api-Signature": signer.sign(digest),
    }
    # rest.py lines 176-178: the body sent is json.dumps(body) again, for any body that is not None
    content = json.dumps(body).encode("utf-8") if body is not None else b""
    return CapturedRequest(method, urlunparse(parts), headers, content, transport="urllib3")


SIGNERS = [pytest.param(Ed25519Signer, id="Ed25519"), pytest.param(Secp256k1Signer, id="secp256k1")]
WALLET = {"name": "My wallet", "wallet_type": "Custodial", "wallet_subtype": "Asset"}
WALLET_JSON = '{"name": "My wallet", "wallet_type": "Custodial", "wallet_subtype": "Asset"}'


@pytest.mark.parametrize("make_signer", SIGNERS)
@pytest.mark.parametrize(
    ("target", "query", "body", "server_signs"),
    [
        pytest.param(
            "GET /wallets", {"wallet_type": "Custodial", "limit": 10, "after": ""}, None,
            f"GET|/v2/wallets|{NONCE_MS}|wallet_type=Custodial&limit=10|",
            id="GET: the query as sent, in its order, an empty value dropped",
        ),
        pytest.param(
            "GET /wallets", {"name": "my wallet/1", "enabled": True}, None,
            f"GET|/v2/wallets|{NONCE_MS}|name=my+wallet%2F1&enabled=true|",
            id="GET: quote()d, then re-encoded by urlencode before signing",
        ),
        pytest.param(
            "POST /wallets", None, WALLET,
            f"POST|/v2/wallets|{NONCE_MS}||{WALLET_JSON}",
            id="POST: the JSON body as sent",
        ),
        pytest.param(
            "PUT /wallets/w-1", {"x": "1"}, {"name": "Renamed ✓"},
            f'PUT|/v2/wallets/w-1|{NONCE_MS}|x=1|{{"name": "Renamed \\u2713"}}',
            id="PUT: query and body, non-ASCII escaped by json.dumps",
        ),
    ],
)  # fmt: skip
def test_v2_requests_built_as_the_official_sdk_builds_them_are_accepted(
    make_signer: Callable[[], V2Signer],
    target: str,
    query: dict[str, Any] | None,
    body: Any,
    server_signs: str,
) -> None:
    signer = make_signer()
    method, path = target.split()
    request = waas2_request(signer, method, path, query=query, body=body)
    check = verify_v2(request, api_keys=[signer.api_key], nonces=NonceBook())
    assert check == RequestCheck(True, "v2", None, None, check.reason)
    assert repr(server_signs) in check.reason
    assert check_request(request).api == "v2"


def test_v2_a_high_s_secp256k1_signature_is_accepted_too() -> None:
    """The SDK always sends a low S; Cobo documents no rule refusing a high one, so neither do we."""
    signer = Secp256k1Signer(high_s=True)
    request = waas2_request(signer, "GET", "/wallets", query={"limit": 1})
    assert decode_dss_signature(bytes.fromhex(request.headers["Biz-Api-Signature"]))[1] > N // 2
    assert verify_v2(request).ok


def _compact_body(r: CapturedRequest) -> CapturedRequest:
    compact = json.dumps(json.loads(r.content), separators=(",", ":")).encode()
    return CapturedRequest(r.method, r.url, r.headers, compact)


def _url(r: CapturedRequest, url: str) -> CapturedRequest:
    return CapturedRequest(r.method, url, r.headers, r.content)


@pytest.mark.parametrize("make_signer", SIGNERS)
@pytest.mark.parametrize(
    ("build", "change", "server_signs"),
    [
        pytest.param(
            lambda s: waas2_request(s, "POST", "/wallets", body=WALLET),
            _compact_body,
            f'POST|/v2/wallets|{NONCE_MS}||{{"name":"My wallet","wallet_type":"Custodial","wallet_subtype":"Asset"}}',
            id="body re-serialised after signing (no spaces)",
        ),
        pytest.param(
            lambda s: waas2_request(s, "GET", "/wallets", query={"name": "my wallet"}),
            lambda r: _url(r, r.url.replace("+", "%20")),
            f"GET|/v2/wallets|{NONCE_MS}|name=my%20wallet|",
            id="query re-encoded after signing (%20 for +)",
        ),
        pytest.param(
            lambda s: waas2_request(s, "GET", "/wallets", query={"wallet_type": "Custodial", "limit": 10}),
            lambda r: _url(r, f"{V2_HOST}/wallets?limit=10&wallet_type=Custodial"),
            f"GET|/v2/wallets|{NONCE_MS}|limit=10&wallet_type=Custodial|",
            id="query re-ordered after signing",
        ),
        pytest.param(
            lambda s: waas2_request(s, "GET", "/wallets", query={"limit": 10}, signed_path="/wallets"),
            None,
            f"GET|/v2/wallets|{NONCE_MS}|limit=10|",
            id="signed /wallets instead of /v2/wallets",
        ),
        pytest.param(
            lambda s: waas2_request(s, "GET", "/wallets", query={"limit": 10}, nonce="1"),
            lambda r: with_headers(r, biz_api_nonce=NONCE_MS),
            f"GET|/v2/wallets|{NONCE_MS}|limit=10|",
            id="nonce changed after signing",
        ),
        pytest.param(
            lambda s: waas2_request(s, "POST", "/wallets", body={}),
            None,
            f"POST|/v2/wallets|{NONCE_MS}||{{}}",
            id="an empty JSON object: the SDK signs no body but sends {}",
        ),
    ],
)  # fmt: skip
def test_v2_a_request_changed_after_signing_answers_2024_at_401_showing_the_string_cobo_signs(
    make_signer: Callable[[], V2Signer],
    build: Callable[[V2Signer], CapturedRequest],
    change: Callable[[CapturedRequest], CapturedRequest] | None,
    server_signs: str,
) -> None:
    request = build(make_signer())
    if change is not None:
        request = change(request)
    check = verify_v2(request)
    assert (check.ok, check.api, check.code, check.status) == (False, "v2", 2024, 401)
    assert f"signature of sha256(sha256(string)) for the string {server_signs!r}" in check.reason
    assert check.reason.endswith("(METHOD|path|nonce|query|body, the query and body exactly as sent)")


@pytest.mark.parametrize("make_signer", SIGNERS)
def test_v2_a_signature_by_another_key_than_the_one_named_answers_2024(
    make_signer: Callable[[], V2Signer],
) -> None:
    named, impostor = make_signer(), make_signer()
    signed_by_impostor = waas2_request(impostor, "GET", "/wallets", query={"limit": 10})
    request = with_headers(signed_by_impostor, biz_api_key=named.api_key)
    check = verify_v2(request)
    curve = "Ed25519" if isinstance(named, Ed25519Signer) else "ECDSA secp256k1, DER"
    assert (check.code, check.status) == (2024, 401)
    assert check.reason.startswith(f"Biz-Api-Signature is not Biz-Api-Key {named.api_key[:4]}…")
    assert f"'s {curve} signature of" in check.reason


@pytest.mark.parametrize("dropped", ["Biz-Api-Key", "Biz-Api-Nonce", "Biz-Api-Signature"])
def test_v2_a_missing_header_answers_2024_naming_it(dropped: str) -> None:
    request = without(waas2_request(Ed25519Signer(), "GET", "/wallets"), dropped)
    assert verify_v2(request) == RequestCheck(
        False,
        "v2",
        2024,
        401,
        f"header {dropped} missing or empty: Cobo answers 2024 unless all of Biz-Api-Key, Biz-Api-Nonce, "
        "Biz-Api-Signature are sent",
    )


def test_v2_an_unknown_or_malformed_key_answers_2024() -> None:
    signer = Ed25519Signer()
    request = waas2_request(signer, "GET", "/wallets")
    unknown = verify_v2(request, api_keys=[Ed25519Signer().api_key])
    assert (unknown.code, unknown.status) == (2024, 401)
    assert (
        unknown.reason
        == f"Biz-Api-Key {signer.api_key[:4]}…(64 chars) is not one of the 1 accepted API keys (api_keys)"
    )
    malformed = verify_v2(with_headers(request, biz_api_key="ab" * 20))
    assert (malformed.code, malformed.status) == (2024, 401)
    assert malformed.reason.endswith("is neither an Ed25519 public key (64 hex digits) nor a secp256k1 one (66 or 130)")


def test_v2_a_replayed_nonce_answers_2024_with_a_nonce_book() -> None:
    request = waas2_request(Secp256k1Signer(), "POST", "/wallets", body=WALLET)
    nonces = NonceBook()
    assert verify_v2(request, nonces=nonces).ok
    replay = check_request(request, nonces=nonces)
    assert (replay.api, replay.code, replay.status) == ("v2", 2024, 401)
    assert replay.reason.startswith(f"Biz-Api-Nonce {NONCE_MS!r} was already used with Biz-Api-Key ")


@pytest.mark.parametrize("curve", ["ed25519", "secp256k1"])
def test_sign_v2_makes_the_headers_the_sdk_makes(curve: Literal["ed25519", "secp256k1"]) -> None:
    signer = Ed25519Signer() if curve == "ed25519" else Secp256k1Signer()
    body = json.dumps(WALLET).encode()
    headers = sign_v2("POST", "/v2/wallets", signer.private_hex, query="a=1", body=body, nonce=NONCE_MS, curve=curve)
    sdk = waas2_request(signer, "POST", "/wallets", query={"a": "1"}, body=WALLET)
    assert headers["Biz-Api-Key"] == sdk.headers["Biz-Api-Key"]
    if curve == "ed25519":  # deterministic: the very signature the SDK makes
        assert headers["Biz-Api-Signature"] == sdk.headers["Biz-Api-Signature"]
    else:  # low S, as sigencode_der_canonize makes it
        assert decode_dss_signature(bytes.fromhex(headers["Biz-Api-Signature"]))[1] <= N // 2
    assert verify_v2(CapturedRequest("POST", f"{V2_HOST}/wallets?a=1", headers, body)).ok
    assert (
        v2_string_to_sign("post", "/v2/wallets", NONCE_MS, "a=1", body)
        == f"POST|/v2/wallets|{NONCE_MS}|a=1|".encode() + body
    )


def test_the_signing_helpers_refuse_an_unknown_curve_and_a_bad_private_key() -> None:
    with pytest.raises(ValueError, match="curve must be"):
        sign_v2("GET", "/v2/wallets", "00" * 32, curve="p256")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="64 hex digits: an Ed25519 seed"):
        sign_v2("GET", "/v2/wallets", "00" * 31)
    for bad in ("00" * 32, f"{N:064x}", "0x" + "11" * 31, "zz" * 32):  # 0 and n are not private keys
        with pytest.raises(ValueError, match="64 hex digits naming a secp256k1 private key"):
            sign_v1("GET", COIN_INFO, {}, bad)
        with pytest.raises(ValueError, match="64 hex digits naming a secp256k1 private key"):
            sign_v2("GET", "/v2/wallets", bad, curve="secp256k1")


# == choosing the API, and the nonce book ===========================================================


def test_check_request_chooses_the_api_by_path(api_signer: LocalSigner) -> None:
    v1 = coin_info(api_signer)
    assert check_request(v1) == verify_v1(v1)
    assert check_request(v1).api == "v1"
    v2 = waas2_request(Ed25519Signer(), "GET", "/wallets")
    assert check_request(v2).api == "v2"
    assert check_request(_url(v2, f"{DEV}/v20/wallets")).api == "v1"  # /v20 is not /v2


def test_the_nonce_book_forgets_the_oldest_nonce_of_a_key_past_per_key() -> None:
    book = NonceBook(per_key=2)
    assert [book.seen("k", n) for n in ("1", "2", "1", "3")] == [False, False, True, False]
    assert book.seen("K", "2")  # the same key in another case
    assert not book.seen("k", "1")  # "1" was the oldest of three: forgotten, so it passes again


def test_the_nonce_book_forgets_the_least_recent_key_past_max_keys() -> None:
    book = NonceBook(max_keys=2)
    book.seen("a", "1")
    book.seen("b", "1")
    assert book.seen("a", "1")  # "a" is now the most recent key
    book.seen("c", "1")  # a third key: "b" goes
    assert (book.seen("a", "1"), book.seen("b", "1")) == (True, False)
    book.clear()
    assert not book.seen("a", "1")


def test_the_nonce_book_lets_one_of_many_concurrent_uses_of_a_nonce_through() -> None:
    book = NonceBook()
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def use() -> None:
        barrier.wait()
        results.append(book.seen("k", "n"))

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] + [True] * 15


@pytest.mark.parametrize("options", [{"per_key": 0}, {"max_keys": -1}, {"per_key": True}, {"per_key": 1.5}], ids=repr)
def test_the_nonce_book_refuses_a_bound_that_is_not_a_positive_int(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be a positive int"):
        NonceBook(**options)
