"""Sign injected responses as Cobo signs its own, and forge the signatures clients must reject.

Cobo's v1 API signs its responses: header ``BIZ_TIMESTAMP``, and header ``BIZ_RESP_SIGNATURE``, an
ECDSA secp256k1 signature over sha256(sha256(body + "|" + timestamp)), DER-encoded, in hex. A client
checks it against the Cobo public key it is configured with. A test configures the client with the
public half of a `TestKey` instead, so responses that key signs pass, and forged ones must fail.

The curve arithmetic is the ``cryptography`` package's (the ``signing`` extra), imported only
when a key is made.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, get_args

from pytest_cobo_errors.catalog import shown
from pytest_cobo_errors.envelopes import check_text
from pytest_cobo_errors.outcomes import (
    ComputedAnswer,
    GatewayPage,
    LostAnswer,
    NetworkFault,
    Outcome,
    OutcomeLike,
    RawAnswer,
    Reply,
    as_outcome,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

__all__ = [
    "CURVES",
    "HYPHEN_SIGNATURE_HEADER",
    "HYPHEN_TIMESTAMP_HEADER",
    "SIGNATURE_FAULTS",
    "SIGNATURE_HEADER",
    "SPELLINGS",
    "TIMESTAMP_HEADER",
    "Curve",
    "SignatureFault",
    "SignedOutcome",
    "Signers",
    "SigningUnavailableError",
    "Spelling",
    "TestKey",
    "render_signed",
    "session_key",
    "signed",
]

TIMESTAMP_HEADER = "BIZ_TIMESTAMP"
SIGNATURE_HEADER = "BIZ_RESP_SIGNATURE"
"""The underscore spellings, which the official Python, Java, JS and PHP v1 SDKs read."""
HYPHEN_TIMESTAMP_HEADER = "Biz-Timestamp"
HYPHEN_SIGNATURE_HEADER = "Biz-Resp-Signature"
"""The hyphen spellings, which the Go v1 SDK and the Python v2 SDK read."""
_SIGNATURE_HEADERS = frozenset(
    h.lower() for h in (TIMESTAMP_HEADER, SIGNATURE_HEADER, HYPHEN_TIMESTAMP_HEADER, HYPHEN_SIGNATURE_HEADER)
)

Spelling = Literal["both", "underscore", "hyphen"]
SPELLINGS: tuple[str, ...] = get_args(Spelling)
"""Which signature headers a signed answer carries: Cobo's servers send both spellings; each one
alone is the fault for a client that reads only the other."""

Signers = Mapping[str, "TestKey"]
"""The keys a fault set signs with, by curve (``"secp256k1"`` for v1 answers, ``"ed25519"`` for v2)."""

SignatureFault = Literal["valid", "tampered", "wrong", "missing", "stale"]
SIGNATURE_FAULTS: tuple[str, ...] = get_args(SignatureFault)

Curve = Literal["secp256k1", "ed25519"]
CURVES: tuple[str, ...] = get_args(Curve)
"""secp256k1 signs the Custody API's (v1) answers, Ed25519 WaaS 2.0's."""

_INSTALL = "pip install 'pytest-cobo-errors[signing]'"
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_ONE_DAY = 86400.0
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class SigningUnavailableError(ImportError):
    """Signing responses needs the ``cryptography`` package, which is not installed."""


def _timestamp(age: float = 0.0) -> str:
    # The format is not documented; the official SDKs treat the value as an opaque string.
    return str(int((time.time() - age) * 1000))


class TestKey:
    """A key pair that signs injected responses the way Cobo signs real ones.

    ``curve="secp256k1"`` (the default) signs as the Custody API (v1) does: hand a client
    ``key.public_key_hex`` where it takes Cobo's public key (the SDK's ``Env(host, coboPub)``).
    ``curve="ed25519"`` signs as WaaS 2.0 does (the ``cobo-waas2`` SDK's ``resp_pubkey``). Made
    from *private_key_hex* (64 hex digits) or freshly generated.
    """

    __test__ = False  # a library class whose name starts with "Test", not a test class to collect

    def __init__(self, private_key_hex: str | None = None, *, curve: Curve = "secp256k1") -> None:
        if curve not in CURVES:
            raise ValueError(f"unknown curve {shown(curve)}; valid: {', '.join(CURVES)}")
        self.curve: Curve = curve
        try:
            from cryptography.hazmat.primitives.asymmetric import ec, ed25519
        except ImportError as exc:
            raise SigningUnavailableError(
                f"signing Cobo responses needs the 'cryptography' package: {_INSTALL}"
            ) from exc
        # int(x, 16) alone would also take "0x", "_", signs and spaces
        well_formed = isinstance(private_key_hex, str) and _HEX64.fullmatch(private_key_hex) is not None
        if curve == "ed25519":
            if private_key_hex is None:
                self._ed: ed25519.Ed25519PrivateKey = ed25519.Ed25519PrivateKey.generate()
            elif not well_formed:
                raise ValueError("private_key_hex must be 64 hex digits naming an Ed25519 private key (its seed)")
            else:
                self._ed = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_key_hex))
            return
        if private_key_hex is None:
            self._key: EllipticCurvePrivateKey = ec.generate_private_key(ec.SECP256K1())
            return
        value = int(private_key_hex, 16) if well_formed else 0
        if not 0 < value < _CURVE_ORDER:
            raise ValueError("private_key_hex must be 64 hex digits naming a secp256k1 private key (1 to n-1)")
        self._key = ec.derive_private_key(value, ec.SECP256K1())

    @property
    def private_key_hex(self) -> str:
        """The private key, 64 hex digits (the form ``LocalSigner`` and this class take)."""
        if self.curve == "ed25519":
            from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

            return self._ed.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
        return self._key.private_numbers().private_value.to_bytes(32, "big").hex()

    @property
    def public_key_hex(self) -> str:
        """The public key in hex: compressed secp256k1, 66 digits (what ``Env(host, coboPub)`` takes),
        or the raw Ed25519 key, 64 digits (what ``cobo-waas2``'s ``resp_pubkey`` holds)."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        if self.curve == "ed25519":
            return self._ed.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        return self._key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint).hex()

    def sign(self, content: bytes | str) -> str:
        """Sign *content* as Cobo does, over sha256(sha256(content)), in hex: ECDSA DER on
        secp256k1, or an Ed25519 signature of the 32-byte digest."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        data = content.encode("utf-8") if isinstance(content, str) else content
        if self.curve == "ed25519":
            return self._ed.sign(hashlib.sha256(hashlib.sha256(data).digest()).digest()).hex()
        # ECDSA(SHA256) hashes once more, so the signed digest is sha256(sha256(content)).
        return self._key.sign(hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256())).hex()

    def verify(self, content: bytes | str, signature_hex: str) -> bool:
        """Whether *signature_hex* is this key's signature of *content* (as `sign` makes them)."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        data = content.encode("utf-8") if isinstance(content, str) else content
        try:
            signature = bytes.fromhex(signature_hex)
            if self.curve == "ed25519":
                self._ed.public_key().verify(signature, hashlib.sha256(hashlib.sha256(data).digest()).digest())
            else:
                self._key.public_key().verify(signature, hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True

    def signature_headers(
        self, body: bytes, *, timestamp: str | None = None, spelling: Spelling = "both"
    ) -> tuple[tuple[str, str], ...]:
        """The timestamp and signature headers that sign *body* (now, unless given): ``BIZ_TIMESTAMP``
        and ``BIZ_RESP_SIGNATURE``, ``Biz-Timestamp`` and ``Biz-Resp-Signature``, or both pairs."""
        stamp = _timestamp() if timestamp is None else timestamp
        return _spelled(stamp, self.sign(body + b"|" + stamp.encode("utf-8")), spelling)

    def __repr__(self) -> str:
        curve = "" if self.curve == "secp256k1" else f", curve={self.curve!r}"
        return f"TestKey(public_key_hex={self.public_key_hex!r}{curve})"


def _spelled(stamp: str, signature: str | None, spelling: Spelling) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    if spelling != "hyphen":
        pairs.append((TIMESTAMP_HEADER, stamp))
        if signature is not None:
            pairs.append((SIGNATURE_HEADER, signature))
    if spelling != "underscore":
        pairs.append((HYPHEN_TIMESTAMP_HEADER, stamp))
        if signature is not None:
            pairs.append((HYPHEN_SIGNATURE_HEADER, signature))
    return tuple(pairs)


def check_spelling(spelling: object) -> Spelling:
    if spelling not in SPELLINGS:
        raise ValueError(f"unknown spelling {shown(spelling)}; valid: {', '.join(SPELLINGS)}")
    return spelling  # type: ignore[return-value]


_lock = threading.Lock()
_keys: dict[tuple[str, Curve], TestKey] = {}


def _shared(name: str, curve: Curve = "secp256k1") -> TestKey:
    with _lock:
        if (name, curve) not in _keys:
            _keys[name, curve] = TestKey(curve=curve)
        return _keys[name, curve]


def session_key(curve: Curve = "secp256k1") -> TestKey:
    """The test process's signing key on *curve*, made on first use (each pytest-xdist worker has its own)."""
    return _shared("session", curve)


def _curve_of(outcome: Outcome) -> Curve:
    inner = outcome.inner if isinstance(outcome, SignedOutcome) and outcome.inner is not None else outcome
    return "ed25519" if getattr(inner, "api", "v1") == "v2" else "secp256k1"


def render_signed(outcome: Outcome, signers: Signers | None, spelling: Spelling = "both") -> Reply | NetworkFault:
    """*outcome* rendered once, as a fault set with *signers* (a key per curve, or none) sends it,
    signature headers spelled as *spelling* says.

    A WaaS 2.0 answer is signed with the Ed25519 key, a Custody API answer with the secp256k1 one.
    Gateway pages stay unsigned (proxies do not sign), as do network faults and replies whose
    headers already carry a signature header; a `signed` outcome gets its own signature fault,
    with its own key or else the set's key for its curve. A `LostAnswer`'s inner answer is
    rendered (and signed) as Cobo sent it, then lost. A `Computed` answer must be resolved first.
    """
    if isinstance(outcome, LostAnswer) and outcome.inner is not None:  # signed as sent, then lost on the way
        return outcome.lose(render_signed(outcome.inner, signers, spelling))
    curve = _curve_of(outcome)
    if isinstance(outcome, SignedOutcome):
        return outcome.render_with(outcome.key or (signers or {}).get(curve) or session_key(curve))
    reply = outcome.render()
    if signers is None or isinstance(outcome, GatewayPage) or isinstance(reply, NetworkFault):
        return reply
    if any(name.lower() in _SIGNATURE_HEADERS for name, _ in reply.headers):
        return reply
    signer = signers.get(curve) or session_key(curve)
    return replace(reply, headers=reply.headers + signer.signature_headers(reply.body, spelling=spelling))


def _tamper_default(body: bytes) -> bytes:
    # JSON ignores trailing whitespace, so the body still parses to the same value:
    # only a client that checks the signature over the exact bytes can notice.
    return body + b" "


@dataclass(frozen=True, slots=True, repr=False)
class SignedOutcome(RawAnswer):
    """An outcome sent with a chosen signature: valid, or one of the faults a client must reject.

    A `RawAnswer` so every rule accepts it; it renders *inner* and signs it with *key*, or with
    the key `CoboFaults.sign_responses` turned on, or else with `session_key`.
    """

    inner: Outcome | None = None
    signature: SignatureFault = "valid"
    age: float = _ONE_DAY
    tamper: Callable[[bytes], bytes] = _tamper_default
    key: TestKey | None = None
    spelling: Spelling = "both"

    @property
    def label(self) -> str:
        what = {
            "valid": "validly signed",
            "tampered": "body changed after signing",
            "wrong": "signed by the wrong key",
            "missing": "signature header missing",
            "stale": f"validly signed with a timestamp {self.age:g}s old",
        }[self.signature]
        spelled = "" if self.spelling == "both" else f" ({self.spelling} headers only)"
        return f"{self.inner.label if self.inner else '?'}, {what}{spelled}"

    def render(self) -> Reply:
        return self.render_with(self.key or session_key(_curve_of(self)))

    def render_with(self, key: TestKey) -> Reply:
        """Render *inner*, signed by *key* as this outcome's signature fault says."""
        assert self.inner is not None
        assert not isinstance(self.inner, NetworkFault)
        reply = self.inner.render()
        body = reply.body
        kept = tuple((k, v) for k, v in reply.headers if k.lower() not in _SIGNATURE_HEADERS)
        spelling = self.spelling
        if self.signature == "wrong":
            added = _shared("impostor", key.curve).signature_headers(body, spelling=spelling)
        elif self.signature == "stale":
            added = key.signature_headers(body, timestamp=_timestamp(self.age), spelling=spelling)
        elif self.signature == "missing":
            added = _spelled(_timestamp(), None, spelling)
        else:
            added = key.signature_headers(body, spelling=spelling)
            if self.signature == "tampered":
                body = self.tamper(body)
        return Reply(reply.status, kept + added, body, reply.drop_after)

    def __repr__(self) -> str:
        spelled = "" if self.spelling == "both" else f", spelling={self.spelling!r}"
        return f"signed({self.inner!r}, signature={self.signature!r}{spelled})"


def signed(
    fault: OutcomeLike,
    signature: SignatureFault = "valid",
    *,
    age: float | None = None,
    tamper: bytes | str | Callable[[bytes], bytes] | None = None,
    key: TestKey | None = None,
    spelling: Spelling = "both",
) -> SignedOutcome:
    """*fault* (an error code, a success, any outcome with a body) sent with a chosen signature.

    ``signature`` is ``"valid"``; or a fault a client must reject: ``"tampered"`` (the body
    changes after signing; by default only in a way JSON ignores, or to ``tamper``: bytes, str
    or a function of the signed body), ``"wrong"`` (signed by another key), ``"missing"``
    (the timestamp sent, the signature not) or ``"stale"`` (a valid signature over a timestamp
    ``age`` seconds old, one day by default). Gateway pages and network faults have no Cobo
    signature to forge, so they are refused.

    ``spelling`` says which headers carry it: ``"both"`` (``BIZ_TIMESTAMP``/``BIZ_RESP_SIGNATURE``
    and ``Biz-Timestamp``/``Biz-Resp-Signature``, as Cobo sends them), or ``"underscore"`` or
    ``"hyphen"`` alone: the fault for a client that reads only the other spelling (the Python v1
    SDK reads underscores; the Go v1 and Python v2 SDKs read hyphens).
    """
    check_spelling(spelling)
    if signature not in SIGNATURE_FAULTS:
        raise ValueError(f"unknown signature {signature!r}; valid: {', '.join(SIGNATURE_FAULTS)}")
    if tamper is not None and signature != "tampered":
        raise TypeError("tamper= changes the body of signature='tampered' only")
    if age is not None and signature != "stale":
        raise TypeError("age= sets the timestamp of signature='stale' only")
    # one comparison refuses nan, inf and ages before 1970 too: a timestamp could not be written for them
    oldest = time.time() - 1.0
    if age is not None and (isinstance(age, bool) or not isinstance(age, (int, float)) or not 0 < age <= oldest):
        raise ValueError(
            f"age must be a positive number of seconds, at most {oldest:.0f} (the timestamp cannot precede "
            f"1970), got {shown(age)}"
        )
    if key is not None and not isinstance(key, TestKey):
        raise TypeError(f"key must be a TestKey, got {type(key).__name__}")
    inner = as_outcome(fault)
    if isinstance(inner, SignedOutcome):
        raise TypeError(f"{inner!r} is already signed")
    if isinstance(inner, (GatewayPage, NetworkFault)):
        raise TypeError(
            f"{inner.label} carries no Cobo signature (a proxy's page is never signed, a failed connection "
            "sends nothing); sign a Cobo answer instead, such as an error code or success(...)"
        )
    if isinstance(inner, ComputedAnswer):
        raise TypeError(
            f"{inner.label} is computed per request: sign what it returns instead, "
            "e.g. lambda request: signed(success({...}), 'tampered')"
        )
    if key is None:
        session_key()  # fail now, not mid-request, if the signing extra is missing
    if isinstance(tamper, str):
        tamper = check_text(tamper, "tamper").encode("utf-8")
    if isinstance(tamper, bytes):
        forged = tamper
        change: Callable[[bytes], bytes] = lambda _signed: forged  # noqa: E731
    elif tamper is None:
        change = _tamper_default
    elif callable(tamper):
        change = tamper
    else:
        raise TypeError(f"tamper must be bytes, str or a function of the signed body, got {type(tamper).__name__}")
    return SignedOutcome(
        inner.status,
        code=inner.code,
        inner=inner,
        signature=signature,
        age=_ONE_DAY if age is None else float(age),
        tamper=change,
        key=key,
        spelling=spelling,
    )
