"""Code patterns: the small language of ``--cobo-codes`` and of expectation tables.

``12007`` a code; ``12xxx`` / ``1xxx`` a wildcard (``x`` is one digit, so ``1xxx`` is the
four-digit codes only); ``12000-12016`` an inclusive range; ``http:429`` the bare HTTP status
case (a gateway page, not the codes whose default status is 429); ``*`` everything; ``!term``
excludes. Every term must match at least one documented code or status.

A term names the Custody API's (v1) catalog; prefixed with ``v2:`` it names WaaS 2.0's
(``v2:30xxx``, ``v2:2024``, ``v2:http:401``, ``v2:*``), so v1 patterns mean what they always did.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from pytest_cobo_errors.catalog import ERROR_CODES, HTTP_STATUSES, ErrorCode, HttpStatus, iter_entries, nearest_codes

__all__ = [
    "Catalog",
    "CodeFilter",
    "CodePattern",
    "PatternError",
    "all_entries",
    "catalog_of",
    "parse_filter",
    "parse_pattern",
]

VALID_FORMS = (
    "valid forms: 12007 (a code), 12xxx or 1xxx (x is any digit), 12000-12016 (a range), "
    "http:429 (a bare-status case), * (everything), !1070 (exclude), each prefixed with v2: for "
    "WaaS 2.0 (v2:30xxx); separate terms with commas"
)
_V2 = "v2:"

_WILDCARD = re.compile(r"[0-9x]*x[0-9x]*")
# [0-9], not \d or str.isdigit(): those accept digits such as '²' that int() refuses
_NUMBER = re.compile(r"[0-9]+")
_RANGE = re.compile(r"([0-9]+)\s*-\s*([0-9]+)")
# Documented codes have 4 or 5 digits; the bound keeps int() far from Python's 4300-digit limit
_MAX_DIGITS = 9

Entry = ErrorCode | HttpStatus  # or a WaaS 2.0 entry: anything with an `api`, and a `code` or `status`


class Catalog(NamedTuple):
    """One API's documented codes and statuses (WaaS 2.0's loaded only when asked for)."""

    api: str
    name: str
    codes: Mapping[int, object]
    statuses: Mapping[int, object]

    def entries(self) -> Iterator[Any]:
        yield from self.codes.values()
        yield from self.statuses.values()


def catalog_of(api: str) -> Catalog:
    if api == "v2":
        from pytest_cobo_errors.catalog_v2 import V2_ERROR_CODES, V2_HTTP_STATUSES  # only when v2 is named

        return Catalog("v2", "Cobo WaaS 2.0", V2_ERROR_CODES, V2_HTTP_STATUSES)
    return Catalog("v1", "Cobo", ERROR_CODES, HTTP_STATUSES)


def all_entries() -> Iterator[Any]:
    """Every documented code and status of both APIs: what a filter may select."""
    yield from iter_entries()
    yield from catalog_of("v2").entries()


class PatternError(ValueError):
    """A code pattern that is malformed, or that matches no documented code or status."""


@dataclass(frozen=True, slots=True)
class CodePattern:
    """One parsed term, such as ``12xxx`` or ``http:429``."""

    text: str
    kind: str
    low: int = 0
    high: int = 0
    regex: re.Pattern[str] | None = None
    api: str = "v1"

    def matches(self, entry: Entry) -> bool:
        if entry.api != self.api:
            return False
        if self.kind == "all":
            return True
        if self.kind == "http":
            return isinstance(entry, HttpStatus) and entry.status == self.low
        if isinstance(entry, HttpStatus):
            return False
        if self.regex is not None:
            return bool(self.regex.fullmatch(str(entry.code)))
        return self.low <= entry.code <= self.high

    @property
    def specificity(self) -> int:
        """Exact codes beat statuses, which beat ranges and wildcards, which beat ``*``."""
        return {"code": 3, "http": 2, "range": 1, "wildcard": 1, "all": 0}[self.kind]

    def __str__(self) -> str:
        return self.text


def shown(text: str, limit: int = 20) -> str:
    """*text* quoted for a message, cut short when long: a message names a value, not 5,000 digits of it."""
    if len(text) <= limit + 4:
        return repr(text)
    return f"{text[:limit] + '…'!r} ({len(text)} characters)"


def _code_lengths(codes: Mapping[int, object] = ERROR_CODES) -> str:
    lengths = sorted({len(str(code)) for code in codes})
    return ", ".join(map(str, lengths[:-1])) + f" or {lengths[-1]}" if len(lengths) > 1 else str(lengths[0])


def _matches_a_code(wildcard: str, codes: Mapping[int, object] = ERROR_CODES) -> bool:
    regex = re.compile(wildcard.replace("x", "[0-9]"))
    return any(regex.fullmatch(str(code)) for code in codes)


def _nearest_wildcards(term: str, n: int = 3, codes: Mapping[int, object] = ERROR_CODES) -> list[str]:
    """Wildcards that match, closest to *term* first (a lowercase wildcard that matches nothing).

    Its own digits are kept when they can be: an x run grown or shrunk to a documented length
    (``12xx`` -> ``12xxx``), else its x's laid over the documented codes of its length (``13xxx``
    -> ``12xxx``), else each length's family (``10xx``, ``12xxx``).
    """
    by_length: dict[int, list[str]] = {}
    for code in codes:
        by_length.setdefault(len(str(code)), []).append(str(code))
    runs = [match.span() for match in re.finditer("x+", term)][::-1]  # the last run first: 12xx is "12, then digits"
    found: list[str] = []
    for length in sorted(by_length, key=lambda length: (abs(length - len(term)), length)):
        change = length - len(term)
        for start, end in runs:
            if change and end - start + change >= 1:
                candidate = term[:start] + "x" * (end - start + change) + term[end:]
                if candidate not in found and _matches_a_code(candidate, codes):
                    found.append(candidate)
    if not found and len(term) in by_length:
        overlays = {
            "".join(d if t != "x" else "x" for t, d in zip(term, code, strict=True)) for code in by_length[len(term)]
        }
        target = int(term.replace("x", "0"))
        found = sorted(overlays, key=lambda wildcard: (abs(int(wildcard.replace("x", "0")) - target), wildcard))
    if not found:
        for length, spelled in sorted(by_length.items()):
            shared = itertools.takewhile(lambda column: len(set(column)) == 1, zip(*spelled, strict=True))
            found.append("".join(column[0] for column in shared).ljust(length, "x"))
    return found[:n]


def parse_pattern(text: str) -> CodePattern:
    """Parse one term (no ``!``); raise `PatternError` naming the valid forms and nearest codes."""
    if not isinstance(text, str):
        raise TypeError(f"a code pattern must be a string such as '12xxx', got {text!r}")
    term = text.strip().lower()
    catalog = catalog_of("v2" if term.startswith(_V2) else "v1")
    if catalog.api == "v2":
        term = term[len(_V2) :].strip()
    pattern = _parse(term, text, catalog)
    if not any(pattern.matches(entry) for entry in catalog.entries()):
        if pattern.kind == "wildcard":
            why = f"x is one digit and documented codes have {_code_lengths(catalog.codes)} digits; "
            near = ", ".join(_prefixed(w, catalog) for w in _nearest_wildcards(term, codes=catalog.codes))
        else:
            why = ""
            near = ", ".join(_prefixed(str(c), catalog) for c in nearest_codes(pattern.low, among=catalog.codes))
        raise PatternError(
            f"{shown(text)} matches no documented {catalog.name} code ({why}nearest: {near}); {VALID_FORMS}"
        )
    return pattern


def _prefixed(term: str, catalog: Catalog) -> str:
    return _V2 + term if catalog.api == "v2" else term


def _number(digits: str, original: str, catalog: Catalog) -> int:
    if len(digits) > _MAX_DIGITS:
        raise PatternError(
            f"{shown(original)}: {len(digits)} digits is too many for a code "
            f"(documented codes have {_code_lengths(catalog.codes)} digits); {VALID_FORMS}"
        )
    return int(digits)


def _parse(term: str, original: str, catalog: Catalog) -> CodePattern:
    api = catalog.api
    if term == "*":
        return CodePattern(_prefixed("*", catalog), "all", api=api)
    if term.startswith("http:"):
        digits = term[5:].strip()
        if _NUMBER.fullmatch(digits) and len(digits) <= _MAX_DIGITS and int(digits) in catalog.statuses:
            return CodePattern(_prefixed(f"http:{digits}", catalog), "http", int(digits), int(digits), api=api)
        valid = ", ".join(str(s) for s in catalog.statuses)
        raise PatternError(
            f"{shown(original)}: not a documented {'WaaS 2.0 ' if api == 'v2' else ''}HTTP status "
            f"(documented: {valid}); {VALID_FORMS}"
        )
    if _NUMBER.fullmatch(term):
        code = _number(term, original, catalog)
        if code not in catalog.codes:
            near = ", ".join(_prefixed(str(c), catalog) for c in nearest_codes(code, among=catalog.codes))
            other = catalog_of("v1" if api == "v2" else "v2")
            elsewhere = f"; {_prefixed(term, other)} is a {other.name} code" if code in other.codes else ""
            raise PatternError(
                f"{shown(original)} is not a documented {catalog.name} error code (nearest: {near}{elsewhere}); "
                f"{VALID_FORMS}"
            )
        return CodePattern(_prefixed(term, catalog), "code", code, code, api=api)
    if _WILDCARD.fullmatch(term):
        return CodePattern(_prefixed(term, catalog), "wildcard", regex=re.compile(term.replace("x", "[0-9]")), api=api)
    match = _RANGE.fullmatch(term)
    if match:
        low, high = _number(match[1], original, catalog), _number(match[2], original, catalog)
        if low > high:
            raise PatternError(f"{shown(original)}: a range runs from low to high, e.g. {high}-{low}; {VALID_FORMS}")
        return CodePattern(_prefixed(f"{low}-{high}", catalog), "range", low, high, api=api)
    if any(char.isdigit() and not char.isascii() for char in term):
        raise PatternError(f"{shown(original)} is not a code pattern: write digits as 0-9; {VALID_FORMS}")
    raise PatternError(f"{shown(original)} is not a code pattern; {VALID_FORMS}")


@dataclass(frozen=True, slots=True)
class CodeFilter:
    """Comma-separated terms: an entry is selected if it matches an inclusion (or there are
    none) and no exclusion."""

    include: tuple[CodePattern, ...]
    exclude: tuple[CodePattern, ...]

    def selects(self, entry: Entry) -> bool:
        included = not self.include or any(p.matches(entry) for p in self.include)
        return included and not any(p.matches(entry) for p in self.exclude)

    def select(self, entries: Iterable[Entry]) -> list[Entry]:
        return [e for e in entries if self.selects(e)]

    def __str__(self) -> str:
        return ",".join([*(str(p) for p in self.include), *(f"!{p}" for p in self.exclude)])


def parse_filter(text: str | Iterable[str]) -> CodeFilter:
    """Parse ``"12xxx,!12009,http:429"`` (or a list of terms) into a `CodeFilter`."""
    if not isinstance(text, (str, list, tuple)):
        raise TypeError(f"code patterns must be a string such as '12xxx,!12009' or a list of them, got {text!r}")
    terms = text.split(",") if isinstance(text, str) else list(text)
    include: list[CodePattern] = []
    exclude: list[CodePattern] = []
    for raw in terms:
        if not isinstance(raw, str):
            raise TypeError(f"code patterns must be strings, got {raw!r}")
        term = raw.strip()
        if not term:
            raise PatternError(f"empty term in {shown(_joined(text))}; {VALID_FORMS}")
        if term == "!":
            raise PatternError(f"'!' needs a pattern after it, e.g. !1070; {VALID_FORMS}")
        if term.startswith("!"):
            exclude.append(parse_pattern(term[1:]))
        else:
            include.append(parse_pattern(term))
    result = CodeFilter(tuple(include), tuple(exclude))
    if not any(result.selects(entry) for entry in all_entries()):
        raise PatternError(f"{shown(_joined(text))} excludes every documented code; {VALID_FORMS}")
    return result


def _joined(text: str | Iterable[str]) -> str:
    return text if isinstance(text, str) else ",".join(map(str, text))
