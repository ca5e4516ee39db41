"""Verify the signature on a request as Cobo verifies it, for the v1 and the v2 API.

A fake Cobo that answers every request, signed or not, lets a client with broken request signing
pass its whole test suite and fail on its first call to the real API. These checks recompute the
string Cobo's server signs from the request *as sent*, verify the ``Biz-Api-Signature`` header
against the ``Biz-Api-Key`` it names, and say what Cobo would answer.

v1 (the official ``cobo-custody`` SDK, ``client/client.py`` ``Client.request``): the signed string
is ``METHOD|path|nonce|urlencode(sorted(params))``, the params taken from the query (GET) or the
form body (POST), so it does not depend on how the client ordered or encoded them; an ECDSA
secp256k1 signature over sha256(sha256(string)), DER, hex. Failures answer 12000 (a header
missing), 1006 (an unknown or malformed key), 12001 (a bad signature), 1005 (a replayed nonce).

v2 (the official ``cobo-waas2`` SDK, ``crypto/signing_helper.py``): the signed string is
``METHOD|/v2/path|nonce|query|body`` with the query string and the body exactly as sent, so a
query re-encoded or a body re-serialised after signing fails. sha256(sha256(string)) is signed
with Ed25519 (a 32-byte API key) or ECDSA secp256k1 (a 33- or 65-byte key), as the SDK offers
both. Every failure answers HTTP 401 with 2024.

The curve arithmetic is the ``cryptography`` package's (the ``signing`` extra), imported when a
signature is checked or made.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

from pytest_cobo_errors.catalog import ERROR_CODES
from pytest_cobo_errors.signing import SigningUnavailableError
from pytest_cobo_errors.transports.contract import mask

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from pytest_cobo_errors.transports.contract import CapturedRequest

__all__ = [
    "NonceBook",
    "RequestCheck",
    "check_request",
    "sign_v1",
    "sign_v2",
    "v1_string_to_sign",
    "v2_string_to_sign",
    "verify_v1",
    "verify_v2",
]

KEY_HEADER = "Biz-Api-Key"
NONCE_HEADER = "Biz-Api-Nonce"
SIGNATURE_HEADER = "Biz-Api-Signature"
_HEADERS = (KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER)
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_V2_CODE = 2024
_V2_STATUS = 401

Api = Literal["v1", "v2"]


@dataclass(frozen=True, slots=True)
class RequestCheck:
    """What Cobo would make of a request's signature: accepted, or the answer it would give.

    ``code`` and ``status`` are None when ``ok``. v1 statuses are the plugin's defaults for each
    code (`ERROR_CODES`: 401 for 12000 and 12001, 400 for 1006 and 1005), so a check's answer is
    what ``error(code)`` sends; Cobo documents none of them. v2 answers 401 with 2024, as
    documented. ``reason`` names what was wrong and, for a signature that does not verify, shows
    the whole string the server signed, to diff with what the client signed.
    """

    ok: bool
    api: Api
    code: int | None
    status: int | None
    reason: str


def _v1_failure(code: int, reason: str) -> RequestCheck:
    return RequestCheck(False, "v1", code, ERROR_CODES[code].default_status, reason)


def _v2_failure(reason: str) -> RequestCheck:
    return RequestCheck(False, "v2", _V2_CODE, _V2_STATUS, reason)


class NonceBook:
    """The nonces seen per API key, so a replayed request is refused (opt-in: Cobo documents no
    freshness window, and a test that sends one request twice on purpose must not fail).

    Memory is bounded: the last *per_key* nonces (10,000 by default) of each of the last
    *max_keys* keys (1,000) are kept; an older nonce is forgotten and would pass again. A test
    suite sends far fewer requests per key than that. Thread-safe: a server answers on many threads.
    """

    def __init__(self, *, per_key: int = 10_000, max_keys: int = 1_000) -> None:
        for name, value in (("per_key", per_key), ("max_keys", max_keys)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self._per_key = per_key
        self._max_keys = max_keys
        self._books: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, api_key: str, nonce: str) -> bool:
        """Whether *nonce* was already used with *api_key*; it is remembered from now on."""
        key = api_key.lower()  # hex: one key, however a client cases it
        with self._lock:
            book = self._books.get(key)
            if book is None:
                if len(self._books) >= self._max_keys:
                    self._books.popitem(last=False)
                book = self._books[key] = OrderedDict()
            else:
                self._books.move_to_end(key)
            if nonce in book:
                return True
            book[nonce] = None
            if len(book) > self._per_key:
                book.popitem(last=False)
            return False

    def clear(self) -> None:
        """Forget every nonce."""
        with self._lock:
            self._books.clear()


# -- the signed strings ------------------------------------------------------------------------------


def v1_string_to_sign(method: str, path: str, nonce: str, params: Mapping[str, object]) -> str:
    """``METHOD|path|nonce|urlencode(sorted(params))``, None values dropped, as ``cobo_custody``'s
    ``Client.request`` builds it (client.py: ``remove_none_value_elements``, ``sort_params``)."""
    kept = sorted(((k, v) for k, v in params.items() if v is not None), key=lambda item: item[0])
    return f"{method.upper()}|{path}|{nonce}|{urlencode(kept)}"


def v2_string_to_sign(method: str, path: str, nonce: str, query: str = "", body: bytes = b"") -> bytes:
    """``METHOD|path|nonce|query|body``, as ``cobo_waas2``'s ``SignHelper._build_unsigned_digest``
    builds it; bytes, because the body is signed as sent, whatever its encoding."""
    head = "|".join((method.upper(), path, nonce, query)).encode("utf-8")
    return head + b"|" + body


def _shown(signed: bytes) -> str:
    return repr(signed.decode("utf-8", "backslashreplace"))


def _double_sha256(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


# -- verifying ---------------------------------------------------------------------------------------


def require_crypto() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError as exc:
        raise SigningUnavailableError(
            "verifying Cobo request signatures needs the 'cryptography' package: "
            "pip install 'pytest-cobo-errors[signing]'"
        ) from exc


def _missing(request: CapturedRequest) -> str | None:
    """The sentence naming the absent (or empty) auth headers, or None if all three are there."""
    absent = [name for name in _HEADERS if not (request.header(name) or "").strip()]
    if not absent:
        return None
    names = " and ".join(absent) if len(absent) < 3 else "Biz-Api-Key, Biz-Api-Nonce and Biz-Api-Signature"
    return f"header{'s' if len(absent) > 1 else ''} {names} missing or empty"


def _known(api_key: str, api_keys: Collection[str] | None) -> bool:
    if api_keys is None:
        return True
    if isinstance(api_keys, str):  # "in" would test for a substring of one key
        raise TypeError("api_keys must be a collection of API keys, not one string")
    return api_key.lower() in {k.lower() for k in api_keys}


def _verify_secp256k1(key: bytes, signature: bytes, digest: bytes) -> bool:
    """ECDSA secp256k1, DER, over *digest* as it is (both APIs sign sha256(sha256(string)))."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), key)
        public_key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_ed25519(key: bytes, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _secp256k1_point(raw: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), raw)
    except ValueError:
        return False
    return True


def _hex(value: str) -> bytes | None:
    # bytes.fromhex alone would also take spaces between the bytes
    return bytes.fromhex(value) if _HEX.fullmatch(value) else None


def verify_v1(
    request: CapturedRequest, *, api_keys: Collection[str] | None = None, nonces: NonceBook | None = None
) -> RequestCheck:
    """Check *request* as Cobo's v1 API checks it.

    With *api_keys* None any well-formed key is taken, and only the signature is checked against
    the key the request names; with a collection, the key must be in it (else 1006). With
    *nonces*, a nonce the key used before answers 1005; a nonce is recorded only once the
    signature verifies, so a forged request cannot use up a client's nonces. A param repeated in
    the query or form counts once, with its last value (the SDK never repeats one).
    """
    require_crypto()
    missing = _missing(request)
    if missing:
        return _v1_failure(12000, f"{missing}: Cobo answers 12000 unless all of {', '.join(_HEADERS)} are sent")
    api_key = request.headers[KEY_HEADER].strip()
    nonce = request.headers[NONCE_HEADER]
    shown_key = f"{KEY_HEADER} {mask(KEY_HEADER, api_key)}"
    if not _known(api_key, api_keys):
        return _v1_failure(1006, f"{shown_key} is not one of the {len(api_keys or ())} accepted API keys (api_keys)")
    raw_key = _hex(api_key)
    if raw_key is None or len(raw_key) not in (33, 65) or not _secp256k1_point(raw_key):
        return _v1_failure(1006, f"{shown_key} is not a secp256k1 public key in hex (66 hex digits compressed, or 130)")

    post = request.method.upper() == "POST"
    params = request.form if post else request.params
    signed = v1_string_to_sign(request.method, request.path, nonce, params)
    signature = _hex(request.headers[SIGNATURE_HEADER].strip())
    if signature is None or not _verify_secp256k1(raw_key, signature, _double_sha256(signed.encode())):
        source = "the form body" if post else "the query"
        return _v1_failure(
            12001,
            f"{SIGNATURE_HEADER} is not {shown_key}'s signature of the string {signed!r} "
            f"(METHOD|path|nonce|urlencode(sorted(params)), params from {source}; "
            "ECDSA secp256k1 over sha256(sha256(string)), DER, hex)",
        )
    if nonces is not None and nonces.seen(api_key, nonce):
        return _v1_failure(1005, f"{NONCE_HEADER} {nonce!r} was already used with {shown_key}: a replayed request")
    return RequestCheck(True, "v1", None, None, f"signed by {shown_key} over {signed!r}")


def verify_v2(
    request: CapturedRequest, *, api_keys: Collection[str] | None = None, nonces: NonceBook | None = None
) -> RequestCheck:
    """Check *request* as Cobo's v2 API checks it: every failure is HTTP 401 with 2024.

    The signed string is rebuilt from the raw query string and body bytes as sent, never from
    parsed values: Cobo verifies what arrived, and SDKs in other languages encode differently.
    A 32-byte key is Ed25519; a 33- or 65-byte one secp256k1 (DER; high S is accepted too, as
    Cobo documents no low-S rule). *api_keys* and *nonces* work as in `verify_v1`.
    """
    require_crypto()
    missing = _missing(request)
    if missing:
        return _v2_failure(f"{missing}: Cobo answers 2024 unless all of {', '.join(_HEADERS)} are sent")
    api_key = request.headers[KEY_HEADER].strip()
    nonce = request.headers[NONCE_HEADER]
    shown_key = f"{KEY_HEADER} {mask(KEY_HEADER, api_key)}"
    if not _known(api_key, api_keys):
        return _v2_failure(f"{shown_key} is not one of the {len(api_keys or ())} accepted API keys (api_keys)")
    raw_key = _hex(api_key)
    if raw_key is None or len(raw_key) not in (32, 33, 65) or (len(raw_key) != 32 and not _secp256k1_point(raw_key)):
        return _v2_failure(
            f"{shown_key} is neither an Ed25519 public key (64 hex digits) nor a secp256k1 one (66 or 130)"
        )

    signed = v2_string_to_sign(request.method, request.path, nonce, request.query, request.content)
    digest = _double_sha256(signed)
    signature = _hex(request.headers[SIGNATURE_HEADER].strip())
    curve = "Ed25519" if len(raw_key) == 32 else "ECDSA secp256k1, DER"
    if signature is None or not (
        _verify_ed25519(raw_key, signature, digest)
        if len(raw_key) == 32
        else _verify_secp256k1(raw_key, signature, digest)
    ):
        return _v2_failure(
            f"{SIGNATURE_HEADER} is not {shown_key}'s {curve} signature of sha256(sha256(string)) for the "
            f"string {_shown(signed)} (METHOD|path|nonce|query|body, the query and body exactly as sent)"
        )
    if nonces is not None and nonces.seen(api_key, nonce):
        return _v2_failure(f"{NONCE_HEADER} {nonce!r} was already used with {shown_key}: a replayed request")
    return RequestCheck(True, "v2", None, None, f"signed ({curve}) by {shown_key} over {_shown(signed)}")


def check_request(
    request: CapturedRequest, *, api_keys: Collection[str] | None = None, nonces: NonceBook | None = None
) -> RequestCheck:
    """`verify_v2` for a path under ``/v2/``, else `verify_v1`."""
    path = request.path
    v2 = path == "/v2" or path.startswith("/v2/")
    return (verify_v2 if v2 else verify_v1)(request, api_keys=api_keys, nonces=nonces)


# -- signing, for tests that need a correctly signed request ------------------------------------------


def _sign_secp256k1(private_key_hex: str, digest: bytes) -> tuple[str, str]:
    """The compressed public key and a low-S DER signature of *digest* as it is, both in hex.

    Low S always: ``cobo_waas2`` canonizes (``sigencode_der_canonize``) and ``cobo_custody`` does
    not, but a low-S signature is as valid as the other, and verifiers strict about S accept it.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = _hex(private_key_hex)
    value = int.from_bytes(raw, "big") if raw is not None and len(raw) == 32 else 0
    if not 0 < value < _CURVE_ORDER:
        raise ValueError("private_key_hex must be 64 hex digits naming a secp256k1 private key (1 to n-1)")
    key = ec.derive_private_key(value, ec.SECP256K1())
    r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    signature = encode_dss_signature(r, min(s, _CURVE_ORDER - s)).hex()
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint).hex(), signature


def sign_v1(
    method: str, path: str, params: Mapping[str, object], private_key_hex: str, *, nonce: str | None = None
) -> dict[str, str]:
    """The three headers ``cobo_custody``'s ``Client`` sends for this request, made with the
    secp256k1 *private_key_hex* (64 hex digits, as ``LocalSigner`` takes it); the nonce is the
    SDK's (microseconds now) unless given. Send *params* as the query (GET) or form body (POST)."""
    require_crypto()
    nonce = str(int(time.time() * 1_000_000)) if nonce is None else nonce
    signed = v1_string_to_sign(method, path, nonce, params).encode("utf-8")
    api_key, signature = _sign_secp256k1(private_key_hex, _double_sha256(signed))
    return {KEY_HEADER: api_key, NONCE_HEADER: nonce, SIGNATURE_HEADER: signature}


def sign_v2(
    method: str,
    path: str,
    private_key_hex: str,
    *,
    query: str = "",
    body: bytes = b"",
    nonce: str | None = None,
    curve: Literal["ed25519", "secp256k1"] = "ed25519",
) -> dict[str, str]:
    """The three headers ``cobo_waas2`` sends for a request to *path* (the whole path, ``/v2/...``)
    with this raw *query* and *body*, made as its ``LocalEd25519Signer`` (a 32-byte seed, hex) or
    ``LocalSecp256k1Signer`` (low-S DER) does; the nonce is the SDK's (milliseconds now) unless given."""
    if curve not in ("ed25519", "secp256k1"):
        raise ValueError(f"curve must be 'ed25519' or 'secp256k1', got {curve!r}")
    require_crypto()
    nonce = str(int(time.time() * 1000)) if nonce is None else nonce
    digest = _double_sha256(v2_string_to_sign(method, path, nonce, query, body))
    if curve == "secp256k1":
        api_key, signature = _sign_secp256k1(private_key_hex, digest)
        return {KEY_HEADER: api_key, NONCE_HEADER: nonce, SIGNATURE_HEADER: signature}

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    seed = _hex(private_key_hex)
    if seed is None or len(seed) != 32:
        raise ValueError("private_key_hex must be 64 hex digits: an Ed25519 seed")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    api_key = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    signature = key.sign(digest).hex()  # the digest is the message Ed25519 signs
    return {KEY_HEADER: api_key, NONCE_HEADER: nonce, SIGNATURE_HEADER: signature}
