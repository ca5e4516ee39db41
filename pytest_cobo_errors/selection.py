"""Code patterns: the small language of ``--cobo-codes`` and of expectation tables.

``12007`` a code; ``12xxx`` / ``1xxx`` a wildcard (``x`` is one digit, so ``1xxx`` is the
four-digit codes only); ``12000-12016`` an inclusive range; ``http:429`` the bare HTTP status
case (a gateway page, not the codes whose default status is 429); ``*`` everything; ``!term``
excludes. Every term must match at least one documented code or status.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pytest_cobo_errors.catalog import ERROR_CODES, HTTP_STATUSES, ErrorCode, HttpStatus, iter_entries, nearest_codes

__all__ = ["CodeFilter", "CodePattern", "PatternError", "parse_filter", "parse_pattern"]

VALID_FORMS = (
    "valid forms: 12007 (a code), 12xxx or 1xxx (x is any digit), 12000-12016 (a range), "
    "http:429 (a bare-status case), * (everything), !1070 (exclude); separate terms with commas"
)

_WILDCARD = re.compile(r"[0-9x]*x[0-9x]*")
# [0-9], not \d or str.isdigit(): those accept digits such as '²' that int() refuses
_NUMBER = re.compile(r"[0-9]+")
_RANGE = re.compile(r"([0-9]+)\s*-\s*([0-9]+)")
# Documented codes have 4 or 5 digits; the bound keeps int() far from Python's 4300-digit limit
_MAX_DIGITS = 9

Entry = ErrorCode | HttpStatus


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

    def matches(self, entry: Entry) -> bool:
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


def _code_lengths() -> str:
    lengths = sorted({len(str(code)) for code in ERROR_CODES})
    return ", ".join(map(str, lengths[:-1])) + f" or {lengths[-1]}" if len(lengths) > 1 else str(lengths[0])


def _matches_a_code(wildcard: str) -> bool:
    regex = re.compile(wildcard.replace("x", "[0-9]"))
    return any(regex.fullmatch(str(code)) for code in ERROR_CODES)


def _nearest_wildcards(term: str, n: int = 3) -> list[str]:
    """Wildcards that match, closest to *term* first (a lowercase wildcard that matches nothing).

    Its own digits are kept when they can be: an x run grown or shrunk to a documented length
    (``12xx`` -> ``12xxx``), else its x's laid over the documented codes of its length (``13xxx``
    -> ``12xxx``), else each length's family (``10xx``, ``12xxx``).
    """
    by_length: dict[int, list[str]] = {}
    for code in ERROR_CODES:
        by_length.setdefault(len(str(code)), []).append(str(code))
    runs = [match.span() for match in re.finditer("x+", term)][::-1]  # the last run first: 12xx is "12, then digits"
    found: list[str] = []
    for length in sorted(by_length, key=lambda length: (abs(length - len(term)), length)):
        change = length - len(term)
        for start, end in runs:
            if change and end - start + change >= 1:
                candidate = term[:start] + "x" * (end - start + change) + term[end:]
                if candidate not in found and _matches_a_code(candidate):
                    found.append(candidate)
    if not found and len(term) in by_length:
        overlays = {
            "".join(d if t != "x" else "x" for t, d in zip(term, code, strict=True)) for code in by_length[len(term)]
        }
        target = int(term.replace("x", "0"))
        found = sorted(overlays, key=lambda wildcard: (abs(int(wildcard.replace("x", "0")) - target), wildcard))
    if not found:
        for length, codes in sorted(by_length.items()):
            shared = itertools.takewhile(lambda column: len(set(column)) == 1, zip(*codes, strict=True))
            found.append("".join(column[0] for column in shared).ljust(length, "x"))
    return found[:n]


def parse_pattern(text: str) -> CodePattern:
    """Parse one term (no ``!``); raise `PatternError` naming the valid forms and nearest codes."""
    if not isinstance(text, str):
        raise TypeError(f"a code pattern must be a string such as '12xxx', got {text!r}")
    term = text.strip().lower()
    pattern = _parse(term, text)
    if not any(pattern.matches(entry) for entry in iter_entries()):
        if pattern.kind == "wildcard":
            why = f"x is one digit and documented codes have {_code_lengths()} digits; "
            near = ", ".join(_nearest_wildcards(term))
        else:
            why, near = "", ", ".join(map(str, nearest_codes(pattern.low)))
        raise PatternError(f"{shown(text)} matches no documented Cobo code ({why}nearest: {near}); {VALID_FORMS}")
    return pattern


def _number(digits: str, original: str) -> int:
    if len(digits) > _MAX_DIGITS:
        raise PatternError(
            f"{shown(original)}: {len(digits)} digits is too many for a code "
            f"(documented codes have {_code_lengths()} digits); {VALID_FORMS}"
        )
    return int(digits)


def _parse(term: str, original: str) -> CodePattern:
    if term == "*":
        return CodePattern("*", "all")
    if term.startswith("http:"):
        digits = term[5:].strip()
        if _NUMBER.fullmatch(digits) and len(digits) <= _MAX_DIGITS and int(digits) in HTTP_STATUSES:
            return CodePattern(f"http:{digits}", "http", int(digits), int(digits))
        valid = ", ".join(str(s) for s in HTTP_STATUSES)
        raise PatternError(f"{shown(original)}: not a documented HTTP status (documented: {valid}); {VALID_FORMS}")
    if _NUMBER.fullmatch(term):
        code = _number(term, original)
        if code not in ERROR_CODES:
            near = ", ".join(map(str, nearest_codes(code)))
            raise PatternError(
                f"{shown(original)} is not a documented Cobo error code (nearest: {near}); {VALID_FORMS}"
            )
        return CodePattern(term, "code", code, code)
    if _WILDCARD.fullmatch(term):
        return CodePattern(term, "wildcard", regex=re.compile(term.replace("x", "[0-9]")))
    match = _RANGE.fullmatch(term)
    if match:
        low, high = _number(match[1], original), _number(match[2], original)
        if low > high:
            raise PatternError(f"{shown(original)}: a range runs from low to high, e.g. {high}-{low}; {VALID_FORMS}")
        return CodePattern(f"{low}-{high}", "range", low, high)
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
    if not any(result.selects(entry) for entry in iter_entries()):
        raise PatternError(f"{shown(_joined(text))} excludes every documented code; {VALID_FORMS}")
    return result


def _joined(text: str | Iterable[str]) -> str:
    return text if isinstance(text, str) else ",".join(map(str, text))
