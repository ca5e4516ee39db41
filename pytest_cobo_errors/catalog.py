"""Every HTTP status and error code Cobo documents for the Custody API (v1).

The descriptions are copied verbatim from Cobo's error-code page; a test compares them
line by line with the published catalog. Cobo documents no HTTP status per error code, so
``ErrorCode.default_status`` is *this plugin's* convention (see the README), always overridable.
"""

from __future__ import annotations

import difflib
import math
import re
import reprlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Literal

__all__ = [
    "ERROR_CODES",
    "HTTP_STATUSES",
    "ErrorCode",
    "Family",
    "HttpStatus",
    "UnknownCodeError",
    "error_code",
    "http_status",
    "nearest_codes",
]

Family = Literal["1", "12"]

_TITLE_SEPARATORS = re.compile(r"\s+[–—]\s+")


def _slug(text: str) -> str:
    title = _TITLE_SEPARATORS.split(text, maxsplit=1)[0]
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class HttpStatus:
    """A documented HTTP status, such as ``429 Too Many Requests``."""

    status: int
    description: str
    slug: str = field(init=False, repr=False, compare=False)
    api: ClassVar[Literal["v1", "v2"]] = "v1"
    """The API whose status table this is (WaaS 2.0's say ``"v2"``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "slug", _slug(self.description))

    @property
    def id(self) -> str:
        """A readable, stable identifier, for test ids: ``http-429-too-many-requests``."""
        return f"http-{self.status}-{self.slug}"

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.description}"


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """A documented Cobo ``error_code`` with its family and default HTTP status."""

    code: int
    description: str
    default_status: int
    slug: str = field(init=False, repr=False, compare=False)
    api: ClassVar[Literal["v1"]] = "v1"
    """The API whose catalog this is: the Custody API (v1); WaaS 2.0's entries say ``"v2"``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "slug", _slug(self.description))

    @property
    def family(self) -> Family:
        """``"12"`` for the 12xxx codes, ``"1"`` for the 1xxx codes."""
        return "12" if self.code >= 10000 else "1"

    @property
    def message(self) -> str:
        """The description's title, used as the default ``error_message``."""
        return _TITLE_SEPARATORS.split(self.description, maxsplit=1)[0]

    @property
    def id(self) -> str:
        """A readable, stable identifier, for test ids: ``12007-insufficient-balance``."""
        return f"{self.code}-{self.slug}"

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class UnknownCodeError(ValueError, LookupError):
    """A code or status that Cobo does not document."""


_STATUSES = [
    (400, "Bad request"),
    (401, "Unauthorized – API key, signature, or timestamp is incorrect"),
    (403, "Forbidden – No access allowed"),
    (404, "Not Found – Requested resources not found"),
    (405, "Method Not Allowed – HTTP methods used not applicable to the requested resources"),
    (406, "Not Acceptable – Requested content format is not JSON"),
    (429, "Too Many Requests – Requests are limited, please reduce the request frequency"),
    (500, "Internal Server Error – Internal server error, please try again later"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable – Service unavailable, please try again later"),
]

# Our default statuses (cobo-facts.md): signature/key errors are 401, permission-like errors
# 403, rate limiting 429, the unknown internal error 500, the node API error 502, the rest 400.
_UNAUTHORIZED = {1001, 12000, 12001, 12005}
_FORBIDDEN = {1007, 1030, 1031, 12003, 12006}
_SPECIAL = {1010: 429, 1000: 500, 12022: 502}

_CODES = [
    (1000, "Unknown internal error – Please contact Cobo"),
    (1001, "Signature missing, format error, or mismatch"),
    (1002, "Unsupported ‘method’ parameter"),
    (1003, "API params is missing or null"),
    (1004, "Unexpected parameters were provided"),
    (1005, "The nonce value is invalid"),
    (1006, "The parameter format or value is invalid"),
    (1007, "The current user lacks the necessary permissions"),
    (1010, "The request is too frequent"),
    (1011, "Invalid page_index value"),
    (1012, "Error request in the production environment"),
    (1013, "The hash passed by the API is inconsistent with the one calculated locally"),
    (1030, "Blacklisted user"),
    (1031, "Unsupported region"),
    (1040, "Errors related to access tokens"),
    (1050, "Deprecated API"),
    (1060, "No enough balance"),
    (1070, "cobo card kyc status"),
    (12000, "Signature headers missing – API signature header is missing"),
    (12001, "Signature verification failed – API signature verification fail"),
    (12002, "Coin not supported"),
    (12003, "Permission denied"),
    (12004, "Transaction does not exist"),
    (12005, "Signature permission denied — API key does not have access"),
    (12006, "IP not in whitelist"),
    (12007, "Insufficient balance"),
    (12008, "Coin is suspended temporarily"),
    (12009, "Duplicate withdraw request id"),
    (12010, "Account has been frozen"),
    (12011, "Amount below coin dust"),
    (12012, "Invalid address"),
    (12013, "Address not in whitelist"),
    (12014, "Transaction fee invalid"),
    (12015, "Address does not exist"),
    (12016, "Insufficient Credit"),
    (12021, "duplicated signature"),
    (12022, "blockchain node API call error"),
    (12200, "staking product not exist"),
    (12201, "invalid staking amount"),
    (12202, "invalid staking status"),
    (12203, "Unsupported transfer from staking wallet"),
]


def _default_status(code: int) -> int:
    if code in _UNAUTHORIZED:
        return 401
    if code in _FORBIDDEN:
        return 403
    return _SPECIAL.get(code, 400)


HTTP_STATUSES: Mapping[int, HttpStatus] = MappingProxyType(
    {status: HttpStatus(status, text) for status, text in _STATUSES}
)
"""The 10 documented HTTP statuses, in ascending order."""

ERROR_CODES: Mapping[int, ErrorCode] = MappingProxyType(
    {code: ErrorCode(code, text, _default_status(code)) for code, text in _CODES}
)
"""The 41 documented error codes, in ascending order."""


# -- text for messages ----------------------------------------------------------------------
# Here, in the module every other one imports, so that no message anywhere grows with what it
# shows: a repr, a count and a number stay short and cheap however large the value.
_LONG_INT_BITS = 99  # about 30 decimal digits; past that a number is shown by its size


def number_text(value: int) -> str:
    """*value* in decimal, or its size for a huge one (``an int of about 5001 digits``).

    Formatting a huge int in full is slow, and past 4300 digits CPython refuses to.
    """
    if abs(value).bit_length() <= _LONG_INT_BITS:
        return str(value)
    sign = "a negative" if value < 0 else "an"
    return f"{sign} int of about {math.floor(math.log10(abs(value))) + 1} digits"


def count_text(value: int) -> str:
    """A count of requests or repetitions: ``100000000``, or ``about 10^5000`` for a huge one."""
    if abs(value).bit_length() <= _LONG_INT_BITS:
        return str(value)
    return f"about 10^{math.floor(math.log10(abs(value)))}"


class _BoundedRepr(reprlib.Repr):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.maxstring = self.maxother = limit
        self.maxlevel = 3
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 4

    def repr_int(self, x: int, level: int) -> str:
        return number_text(x)

    def repr_bytes(self, x: bytes, level: int) -> str:
        # reprlib would repr a body of any size in full before cutting it
        return repr(x) if len(x) <= self.maxstring else f"{x[: self.maxstring]!r}… ({len(x)} bytes)"


def shown(value: object, limit: int = 60) -> str:
    """*value*'s repr for a message: a few dozen characters, whatever *value* is or holds."""
    return _BoundedRepr(limit).repr(value)


def clipped(text: str, limit: int = 80) -> str:
    """*text*, cut to about *limit* characters with its length noted."""
    return text if len(text) <= limit else f"{text[: limit - 20]}… ({len(text)} characters)"


def nearest_codes(value: object, *, among: Mapping[int, object] = ERROR_CODES, n: int = 3) -> list[int]:
    """The documented codes closest to *value*: numerically, then by spelling."""
    keys = list(among)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        try:
            number = int(str(value))
        except ValueError:
            close = difflib.get_close_matches(str(value), [str(k) for k in keys], n=n, cutoff=0.0)
            return [int(k) for k in close]
    # a huge number has no documented code of its length; str() of it could fail, too
    digits = len(str(abs(number))) if abs(number).bit_length() <= _LONG_INT_BITS else 0
    same_length = [k for k in keys if len(str(k)) == digits] or keys
    return sorted(sorted(same_length, key=lambda k: (abs(k - number), k))[:n])


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__} {shown(value)}")
    return value


def error_code(code: int | ErrorCode) -> ErrorCode:
    """The documented error code *code*; raise `UnknownCodeError` naming the nearest ones."""
    if isinstance(code, ErrorCode):
        return code
    _check_int(code, "an error code")
    try:
        return ERROR_CODES[code]
    except KeyError:
        near = ", ".join(str(c) for c in nearest_codes(code))
        raise UnknownCodeError(
            f"{number_text(code)} is not a documented Cobo error code; nearest documented: {near} "
            f"(41 codes: 1000-1070 and 12000-12203)"
        ) from None


def http_status(status: int | HttpStatus) -> HttpStatus:
    """The documented HTTP status *status*; raise `UnknownCodeError` listing the valid ones."""
    if isinstance(status, HttpStatus):
        return status
    _check_int(status, "an HTTP status")
    try:
        return HTTP_STATUSES[status]
    except KeyError:
        valid = ", ".join(str(s) for s in HTTP_STATUSES)
        raise UnknownCodeError(
            f"{number_text(status)} is not a documented Cobo HTTP status; documented: {valid}"
        ) from None


def iter_entries() -> Iterator[ErrorCode | HttpStatus]:
    """Every documented error code, then every documented status."""
    yield from ERROR_CODES.values()
    yield from HTTP_STATUSES.values()
