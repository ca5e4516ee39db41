"""Every error code and HTTP status Cobo documents for WaaS 2.0 (the Cobo Portal API, ``/v2``).

WaaS 2.0 is a different API from the Custody API (v1) in `pytest_cobo_errors.catalog`: its codes
overlap v1's numbers with other meanings (12007, 12009), two codes can share one row of the page
(30012 and 12007 both mean "insufficient balance"), three codes have two meanings (40001-40003,
one for EVM operations and one for transaction categories), and the page has a history: codes were
removed and one changed its meaning. A test that fakes a v2 error must see all of that, so each
entry carries it. Descriptions are copied verbatim from the page; a test compares them line by line
with the published catalog. Like v1, the page gives no HTTP status per code, so
``V2ErrorCode.default_status`` is *this plugin's* convention (see ``_STATUS_BY_MEANING``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Literal

from pytest_cobo_errors.catalog import HttpStatus, UnknownCodeError, _check_int, nearest_codes, number_text

__all__ = [
    "V2_ERROR_CODES",
    "V2_HTTP_STATUSES",
    "V2_REMOVED_CODES",
    "V2_REMOVED_SECTION",
    "V2_SECTIONS",
    "V2ErrorCode",
    "V2HttpStatus",
    "iter_v2_entries",
    "v2_error_code",
]

V2_REMOVED_SECTION = "Removed codes"
"""The ``section`` of a removed code: the page's history does not say which section it was in."""

# -- ids ------------------------------------------------------------------------------------------
# A v2 description is a sentence ("The transfer amount exceeds the wallet's available balance."),
# not v1's short title, so a slug of all of it would make ids too long to read in a test report.
# The slug is the description's first clause (its first sentence, cut at a dash, colon, semicolon
# or a comma that starts a new clause, without a parenthesised aside), in words that carry meaning
# (articles, forms of "be"/"have" and short prepositions dropped), at most 6 of them, with no
# dangling "or"/"not"/"as" at the cut: ``transfer-amount-exceeds-wallets-available-balance``. The code
# in the id keeps ids unique where slugs repeat (30031 and 60010 have the same description).
_SLUG_WORDS = 6
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\s+[–—]\s+|[:;]")
_CLAUSE_END = re.compile(r",\s+(?=(?:so|which|or|and|but)\b)")
_ASIDE = re.compile(r"\s*\([^)]*\)")
_APOSTROPHE = re.compile(r"['’]")
_FILLER = frozenset(
    {"a", "an", "the", "is", "are", "was", "were", "be", "been", "has", "have", "this", "these"}
    | {"of", "for", "to", "in", "on", "by", "from", "with", "at", "into"}
)
_DANGLING = frozenset({"or", "and", "but", "nor", "so", "as", "than", "when", "while", "because", "not", "no"})


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0].strip()


def _v2_slug(text: str) -> str:
    clause = _CLAUSE_END.split(_ASIDE.sub("", _first_sentence(text)), maxsplit=1)[0]
    # a field name (to_wallet_id) is one word, so its "to" is kept
    words = [w for w in re.findall(r"[a-z0-9_]+", _APOSTROPHE.sub("", clause.lower())) if w not in _FILLER]
    words = words[:_SLUG_WORDS]
    while len(words) > 1 and words[-1] in _DANGLING:
        words.pop()
    return "-".join(words).replace("_", "-")


@dataclass(frozen=True, slots=True)
class V2HttpStatus(HttpStatus):
    """A documented WaaS 2.0 HTTP status.

    An `HttpStatus` whose id says which API it belongs to (``v2-http-429-too-many-requests``), so
    that v1 and v2 cases can share one parametrized test, and whose slug is the description's first
    sentence: v2's 500 row goes on about expired Org Access Tokens.
    """

    api: ClassVar[Literal["v1", "v2"]] = "v2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "slug", _v2_slug(self.description))

    @property
    def id(self) -> str:
        """A readable, stable identifier, for test ids: ``v2-http-429-too-many-requests``."""
        return f"v2-http-{self.status}-{self.slug}"


@dataclass(frozen=True, slots=True)
class V2ErrorCode:
    """A WaaS 2.0 ``error_code``: where the page lists it, what it means, and its default HTTP status.

    The same public surface as `pytest_cobo_errors.catalog.ErrorCode` (``code``, ``description``,
    ``default_status``, ``slug``, ``message``, ``id``, ``str()``), so code that fakes a v1 error can
    fake a v2 one, plus what only v2 has:

    * ``section``: the page's section heading ("Transfer errors"); `V2_REMOVED_SECTION` for a
      removed code, whose section the page's history does not record.
    * ``shares``: the other codes on its row, which mean the same (30012 shares with 12007).
    * ``meanings``: every (section, description) the page gives it, in page order; two for
      40001-40003. ``section`` and ``description`` are the first.
    * ``removed_on`` (and ``removed``): the date the code left the page, for a code an old client
      may still see; ``history``: what else the page's history says about it.
    """

    code: int
    description: str
    default_status: int
    section: str
    shares: tuple[int, ...] = ()
    meanings: tuple[tuple[str, str], ...] = ()
    removed_on: str | None = None
    history: str | None = None
    api: Literal["v2"] = "v2"
    slug: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        first = (self.section, self.description)
        if not self.meanings:
            object.__setattr__(self, "meanings", (first,))
        elif self.meanings[0] != first:
            raise ValueError(f"{self.code}: the first meaning must be (section, description), got {self.meanings[0]}")
        object.__setattr__(self, "slug", _v2_slug(self.description))

    @property
    def removed(self) -> bool:
        """Whether the code has been removed from the page (see ``removed_on``)."""
        return self.removed_on is not None

    @property
    def message(self) -> str:
        """The description's first sentence, used as the default ``error_message``."""
        return _first_sentence(self.description)

    @property
    def id(self) -> str:
        """A readable, stable identifier, for test ids: ``v2-30012-transfer-amount-exceeds-the-wallets-available``."""
        return f"v2-{self.code}-{self.slug}"

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


# -- the page ---------------------------------------------------------------------------------------
# Section by section, row by row, in page order. A row with two codes is one meaning for both.
_Row = tuple[int | tuple[int, int], str]

_PAGE: tuple[tuple[str, tuple[_Row, ...]], ...] = (
    ("General errors", (
        (1000, "Internal Server Error. This error can be caused by several issues including expired Org Access "
               "Tokens."),
        ((1003, 2003), "One or more required parameters are missing in the request."),
        ((1006, 2006), "One or more parameters are in an invalid format or contain unsupported values."),
        (2000, "Internal error occurred during processing."),
        (2021, "The requested API endpoint is not implemented or is currently unavailable."),
        (2024, "API key authentication failed."),
        ((2025, 4001), "Forbidden access to the requested resource."),
        (2026, "Too many requests."),
        (2028, "The requested resource was not found."),
        (2029, "The value provided for the status parameter is not one of the allowed values."),
        (10000, "This organization has read-only permissions in Cobo Portal."),
    )),
    ("Pricing plan errors", (
        (2050, "No pricing plan is active for this organization, so billable API operations are blocked."),
        (2051, "The organization's pricing plan has expired, so billable operations are blocked until it is renewed."),
        (2052, "The organization has exceeded the usage quota included in its current pricing plan."),
        (2053, "The current pricing plan does not include the entitlement required for this operation."),
        (2054, "Payment for the current pricing plan is overdue (the organization is in arrears), "
               "so the plan is suspended."),
    )),
    ("Wallet configuration errors", (
        (2101, "The wallet name exceeds the maximum allowed character length."),
        (2102, "The wallet name contains invalid characters."),
        (2103, "A wallet with this name already exists in the organization."),
        (2104, "The specified chain is not enabled for this organization's pricing plan."),
        (2105, "For UTXO-based tokens (such as BTC), all available UTXOs are currently locked by a pending "
               "transaction or a transaction pending KYT screening. A new transfer cannot proceed until those "
               "UTXOs are released."),
    )),
    ("Transfer errors", (
        (30000, "Unauthorized. You do not have permission to perform this transfer."),
        ((30001, 12009), "The request_id has already been used."),
        (30002, "The specified token is not supported for this operation or organization."),
        (30003, "The wallet type does not support this transfer operation."),
        (30004, "The source wallet ID is invalid or the wallet does not exist."),
        (30005, "The source address format is invalid or not compatible with the token."),
        (30006, "The source address encoding format is not supported."),
        (30007, "Invalid amount. The value is not a valid number or does not meet the required format or range."),
        (30008, "The abs_amount value must be greater than 0."),
        (30009, "The amount cannot be less than zero."),
        (30010, "The withdrawal amount is below the minimum threshold for this token and cannot be processed."),
        (30011, "The deposit amount is below the minimum deposit threshold for this token."),
        ((30012, 12007), "The transfer amount exceeds the wallet's available balance."),
        (30013, "The fee token balance is insufficient to cover the transaction fee."),
        (30014, "The destination address is invalid or not compatible with the token."),
        (30015, "The destination wallet ID is invalid or the wallet does not exist."),
        (30016, "The number of transaction categories exceeds the maximum of 5."),
        (30017, "The category name exceeds the maximum of 30 characters."),
        (30018, "The description exceeds the maximum of 100 characters."),
        (30022, "An invalid trading account type was specified as the transfer source for an Exchange Wallet."),
        (30023, "An invalid trading account type was specified as the transfer destination for an Exchange Wallet."),
        (30024, "Neither to_wallet_id nor to_address was provided."),
        (30025, "Withdrawals are currently unavailable for this wallet or token."),
        (30026, "Transfers are currently unavailable for this wallet."),
        (30027, "Deposits into the destination wallet are currently unavailable."),
        (30028, "The request_id parameter is missing or invalid."),
        (30029, "Trading account sub-wallets cannot initiate withdrawal transactions in an Exchange Wallet."),
        (30030, "The deposit or withdrawal operation cannot proceed because Cobo has temporarily suspended deposit "
                "or withdrawal processing for this token. The platform rejects the related operation until the "
                "suspension is lifted."),
        (30031, "The specified token has not been enabled for this organization."),
        (30032, "No key share holder group is available for signing in this MPC Wallet."),
        (30033, "The recipient address does not belong to Cobo, or Cobo Loop has been disabled for these wallets."),
        (30035, "The Exchange Wallet is connected in Observation mode, which is read-only and does not support "
                "withdrawals."),
        (30036, "The Fee Station balance is insufficient. Transactions cannot proceed until it is recharged."),
        (30037, "The source and destination wallets are not eligible for Cobo Loop transactions."),
        (30038, "The Fee Station token balance is insufficient to cover the transaction fee."),
        (30039, "Cobo's Fee Station balance is insufficient to pay for gas."),
    )),
    ("Token and balance errors", (
        (12002, "The specified token is not supported by Cobo."),
        (12025, "The UTXOs specified in included_utxos or excluded_utxos are invalid."),
        (60010, "The specified token has not been enabled for this organization."),
        (60020, "The specified address is not enabled for the given token and wallet combination."),
    )),
    ("Transaction management errors", (
        (60001, "The specified organization was not found."),
        (60002, "The transaction type is invalid."),
        (60003, "The transaction fee could not be estimated."),
        (60004, "The transaction could not be found for the requested action."),
        (60005, "The transaction cannot be canceled because it is in a state that does not allow cancellation."),
        (60006, "The transaction cannot be dropped."),
        (60007, "The transaction cannot be sped up."),
    )),
    ("MPC wallet errors", (
        (50000, "The MPC Vault does not have backed-up key shares for the Main Group."),
    )),
    ("Smart contract and EVM errors", (
        (5001, "The contract ABI is invalid or cannot be parsed."),
        (5002, "One or more parameters passed to the EVM operation are invalid."),
        (5003, "The transaction calldata is invalid or improperly encoded."),
        (5004, "The requested EVM resource was not found."),
        (40001, "The external data source (such as a block explorer) rate limit has been reached."),
        (40002, "The contract source code is not verified on the block explorer."),
        (40003, "The specified chain is not supported for this EVM operation."),
    )),
    ("MFA errors", (
        (40201, "The Cobo Guard key provided is invalid or has expired."),
        (40202, "The Cobo Guard request is still pending and has not been completed."),
        (40203, "The Cobo Guard request has no approval or rejection result yet."),
        (40204, "The user performing this operation must be the same user who initiated the Guard request."),
    )),
    ("Transaction category errors", (
        (40000, "The category name exceeds 30 characters."),
        (40001, "The specified organization was not found."),
        (40002, "The number of transaction categories has reached the maximum limit."),
        (40003, "A category with this name already exists in the organization."),
        (40004, "The category name contains invalid characters."),
    )),
    ("Compliance and KYT errors", (
        (40101, "The compliance request for the specified transaction_id was not found."),
        (40102, "The compliance request cannot be retried because it is not in a failed state."),
        (40103, "This transaction does not support the requested operation (it is not an EOA/Web3 transaction, "
                "or it does not have an on-chain transaction ID)."),
        (40104, "The KYT disposal type provided is invalid."),
        (40105, "The specified KYT request was not found."),
        (40106, "A disposal request for this KYT screening already exists."),
        (40107, "A withdrawal request for this KYT disposal already exists."),
        (40108, "The status filter value provided when querying the KYT audit list is invalid."),
        (40109, "No KYT screening request was found for the specified transaction_id."),
        (40110, "No KYT screening request was found for the specified screening_request_id."),
        (40111, "The transaction's current status does not allow a disposal action."),
        (40112, "The disposal parameters provided are invalid for this transaction."),
        (40113, "The KYT request is already being disposed of or has already been disposed of, so a new disposal "
                "action cannot be initiated."),
        (40114, "The transaction's current status does not allow an unfreeze action."),
        (40115, "The disposal fee for the KYT request is invalid."),
        (40116, "The disposal fee for the screening request is invalid."),
        (40117, "The fee payment method for the KYT disposal is invalid."),
        (40118, "The destination address for the KYT disposal is invalid."),
        (40119, "An error occurred during the KYT disposal process."),
        (40120, "The disposal amount for the screening request is invalid."),
        (40121, "The disposal amount for the KYT request is invalid."),
        (40122, "The wallet balance is insufficient to cover the estimated transaction fee for the disposal."),
        (40123, "A disposal action cannot be initiated because the transaction is not currently frozen."),
        (40124, "No compliance request was found for the specified transaction hash."),
        (40125, "The app check request for the specified transaction_id was not found."),
        (40126, "The KYT screening completion result is invalid or malformed."),
    )),
    ("Travel Rule errors", (
        (70001, "A general Travel Rule error occurred."),
        (70002, "The originator KYC information is invalid or incomplete."),
        (70003, "The Travel Rule vendor code is invalid."),
        (70004, "The originator's natural person entity information is missing or incomplete."),
        (70005, "The originator's legal entity information is missing or incomplete."),
        (70006, "The originator information is missing or incomplete."),
        (70007, "An error occurred while entering the sender information."),
        (70008, "This Travel Rule operation is not supported for self-custody wallets."),
        (70009, "Originator information has already been submitted for this record."),
        (70010, "The self-custody wallet signature verification failed."),
        (70011, "The legal entity information is incomplete — required fields are missing."),
        (70012, "The natural person entity information is incomplete — required fields are missing."),
        (70013, "This address has already been verified."),
    )),
)  # fmt: skip

# The page's history (the git log of its source): code, its description then (lower case, as the
# history gives it; None where it gives none), and the date it left the page.
_REMOVED: tuple[tuple[int, str | None, str], ...] = (
    (2002, "unsupported HTTP method", "2026-02-02"),
    (2010, "rate limit exceeded", "2026-02-02"),
    (2022, "missing required headers", "2026-02-02"),
    (2023, "missing or invalid API signature", "2026-02-02"),
    (2040, "duplicate key", "2026-02-02"),
    (30019, None, "2026-08-14"),
    (30020, None, "2026-08-14"),
    (30021, None, "2026-08-14"),
    (30034, None, "2026-08-14"),
)
_FIRST_PUBLISHED = "2025-04-10"
_HISTORY = {
    30001: (
        f"In the page's first version ({_FIRST_PUBLISHED}) 30001 meant "
        '"pricing plan does not support this feature"; it now means, with 12009, '
        "that the request_id has already been used."
    ),
}

_STATUSES = (
    (200, "OK."),
    (400, "Bad request."),
    (401, "Unauthorized."),
    (403, "Forbidden."),
    (404, "Not Found."),
    (405, "Method Not Allowed."),
    (406, "Not Acceptable."),
    (429, "Too Many Requests."),
    (500, "Internal Server Error. This error can be caused by several issues including expired Org Access Tokens."),
    (502, "Bad Gateway."),
    (503, "Service Unavailable."),
)

# -- default HTTP statuses ------------------------------------------------------------------------
# The page gives no status per code; the docs tie only 2024 to 401, 2025/4001 to 403 and 2006 to 400
# in prose. The rest follow the meaning, always within the statuses the v2 table documents (so no
# 409, 402 or 501), and anything not listed here is 400, as in v1:
# * 401 only for the API's own request authentication (2024; the removed 2022 and 2023). 70010
#   (a self-custody wallet's signature) and 40201 (a Cobo Guard key) are about the operation, so 400.
# * 403 for forbidden, permission and read-only codes, and for pricing-plan blocks (2050-2054, and
#   2104: a chain the plan does not enable). 30000 says "Unauthorized" but means "no permission".
# * 404 for codes that mean only "not found". 2021 (endpoint not implemented or unavailable) is
#   what a wrong path, method or trailing slash answers, so 404 rather than the undocumented 501.
#   30004 and 30015 ("ID is invalid or the wallet does not exist") name a wallet in the request
#   body, so 400.
# * 405 for the removed 2002 (unsupported HTTP method).
# * 429 for rate limits: 2026, the removed 2010, and 40001, whose first meaning (an external data
#   source's rate limit) is the one ``description`` shows; in its transaction-category meaning
#   (organization not found) it would be 404, so override the status when faking that one.
# * 500 only for the two internal errors, 1000 and 2000. Vague business failures ("an error
#   occurred during the KYT disposal process", "a general Travel Rule error") stay 400, and
#   business suspensions (30025-30027, 30030) stay 400, not 503: retrying them will not help.
_STATUS_BY_MEANING: Mapping[int, frozenset[int]] = MappingProxyType({
    401: frozenset({2024, 2022, 2023}),
    403: frozenset({2025, 4001, 10000, 2050, 2051, 2052, 2053, 2054, 2104, 30000, 30035, 40204}),
    404: frozenset({2021, 2028, 5004, 60001, 60004, 40101, 40105, 40109, 40110, 40124, 40125}),
    405: frozenset({2002}),
    429: frozenset({2026, 2010, 40001}),
    500: frozenset({1000, 2000}),
})  # fmt: skip
_DEFAULT_STATUS = 400


def _default_status(code: int) -> int:
    return next((status for status, codes in _STATUS_BY_MEANING.items() if code in codes), _DEFAULT_STATUS)


def _build_page() -> tuple[dict[int, V2ErrorCode], tuple[str, ...]]:
    meanings: dict[int, list[tuple[str, str]]] = {}
    shares: dict[int, tuple[int, ...]] = {}
    for section, rows in _PAGE:
        for codes, description in rows:
            row = codes if isinstance(codes, tuple) else (codes,)
            for code in row:
                meanings.setdefault(code, []).append((section, description))
                shares[code] = tuple(c for c in row if c != code)
    entries = {
        code: V2ErrorCode(
            code=code,
            description=found[0][1],
            default_status=_default_status(code),
            section=found[0][0],
            shares=shares[code],
            meanings=tuple(found),
            history=_HISTORY.get(code),
        )
        for code, found in meanings.items()
    }
    return entries, tuple(section for section, _ in _PAGE)


def _build_removed() -> dict[int, V2ErrorCode]:
    entries = {}
    for code, was, date in _REMOVED:
        if was is None:
            description = f"Removed from the docs on {date}; its meaning was not recorded."
            history = f"Removed from the page on {date}; the page's history does not record what it meant."
        else:
            description = was
            history = f'Listed from the page\'s first version ({_FIRST_PUBLISHED}) as "{was}"; removed on {date}.'
        entries[code] = V2ErrorCode(
            code=code,
            description=description,
            default_status=_default_status(code),
            section=V2_REMOVED_SECTION,
            removed_on=date,
            history=history,
        )
    return entries


_CURRENT, _SECTIONS = _build_page()

V2_SECTIONS: tuple[str, ...] = _SECTIONS
"""The page's error-code section headings, in page order (the HTTP status table is not one)."""

V2_ERROR_CODES: Mapping[int, V2ErrorCode] = MappingProxyType(_CURRENT)
"""The documented WaaS 2.0 error codes, current ones only, in page order (first appearance)."""

V2_REMOVED_CODES: Mapping[int, V2ErrorCode] = MappingProxyType(_build_removed())
"""Codes the page once listed and no longer does, in ascending order: an old client may still meet them."""

V2_HTTP_STATUSES: Mapping[int, HttpStatus] = MappingProxyType(
    {status: V2HttpStatus(status, text) for status, text in _STATUSES}
)
"""The 11 HTTP statuses the v2 page documents (200 included), in ascending order."""


def _code_range(codes: Mapping[int, object]) -> str:
    return f"{len(codes)} codes, {min(codes)}-{max(codes)}"


def v2_error_code(code: int | V2ErrorCode, *, removed: bool = False) -> V2ErrorCode:
    """The documented WaaS 2.0 error code *code*; raise `UnknownCodeError` naming the nearest ones.

    A code removed from the page is refused unless *removed* is true, so that a test does not fake
    an error Cobo no longer documents by accident; the message says when it was removed.
    """
    if isinstance(code, V2ErrorCode):
        return code
    _check_int(code, "a WaaS 2.0 error code")
    if code in V2_ERROR_CODES:
        return V2_ERROR_CODES[code]
    among: Mapping[int, object] = V2_ERROR_CODES
    if code in V2_REMOVED_CODES:
        gone = V2_REMOVED_CODES[code]
        if removed:
            return gone
        near = ", ".join(str(c) for c in nearest_codes(code, among=among))
        raise UnknownCodeError(
            f"{code} was removed from Cobo's WaaS 2.0 error-code page on {gone.removed_on}; "
            f"ask for it with v2_error_code({code}, removed=True); nearest documented: {near}"
        )
    if removed:
        among = {**V2_ERROR_CODES, **V2_REMOVED_CODES}
    near = ", ".join(str(c) for c in nearest_codes(code, among=among))
    what = "documented or removed" if removed else "documented"
    raise UnknownCodeError(
        f"{number_text(code)} is not a {what} Cobo WaaS 2.0 error code; nearest {what}: {near} ({_code_range(among)})"
    )


def iter_v2_entries(*, removed: bool = False) -> Iterator[V2ErrorCode | HttpStatus]:
    """Every documented v2 error code, then (with *removed*) every removed one, then every status."""
    yield from V2_ERROR_CODES.values()
    if removed:
        yield from V2_REMOVED_CODES.values()
    yield from V2_HTTP_STATUSES.values()
