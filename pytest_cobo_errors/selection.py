"""Code patterns: the small language of ``--cobo-codes`` and of expectation tables.

``12007`` a code; ``12xxx`` / ``1xxx`` a wildcard (``x`` is one digit, so ``1xxx`` is the
four-digit codes only); ``12000-12016`` an inclusive range; ``http:429`` the bare HTTP status
case (a gateway page, not the codes whose default status is 429); ``*`` everything; ``!term``
excludes. Every term must match at least one documented code or status.
"""

from __future__ import annotations

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
_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)")

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


def parse_pattern(text: str) -> CodePattern:
    """Parse one term (no ``!``); raise `PatternError` naming the valid forms and nearest codes."""
    if not isinstance(text, str):
        raise TypeError(f"a code pattern must be a string such as '12xxx', got {text!r}")
    term = text.strip().lower()
    pattern = _parse(term, text)
    if not any(pattern.matches(entry) for entry in iter_entries()):
        near = ", ".join(map(str, nearest_codes(term.replace("x", "0").split("-")[0])))
        raise PatternError(f"{text!r} matches no documented Cobo code (nearest: {near}); {VALID_FORMS}")
    return pattern


def _parse(term: str, original: str) -> CodePattern:
    if term == "*":
        return CodePattern("*", "all")
    if term.startswith("http:"):
        digits = term[5:].strip()
        if digits.isdigit() and int(digits) in HTTP_STATUSES:
            return CodePattern(f"http:{digits}", "http", int(digits), int(digits))
        valid = ", ".join(str(s) for s in HTTP_STATUSES)
        raise PatternError(f"{original!r}: not a documented HTTP status (documented: {valid}); {VALID_FORMS}")
    if term.isdigit():
        code = int(term)
        if code not in ERROR_CODES:
            near = ", ".join(map(str, nearest_codes(code)))
            raise PatternError(f"{original!r} is not a documented Cobo error code (nearest: {near}); {VALID_FORMS}")
        return CodePattern(term, "code", code, code)
    if _WILDCARD.fullmatch(term):
        return CodePattern(term, "wildcard", regex=re.compile(term.replace("x", "[0-9]")))
    match = _RANGE.fullmatch(term)
    if match:
        low, high = int(match[1]), int(match[2])
        if low > high:
            raise PatternError(f"{original!r}: a range runs from low to high, e.g. {high}-{low}; {VALID_FORMS}")
        return CodePattern(f"{low}-{high}", "range", low, high)
    raise PatternError(f"{original!r} is not a code pattern; {VALID_FORMS}")


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
            raise PatternError(f"empty term in {text!r}; {VALID_FORMS}")
        if term.startswith("!"):
            exclude.append(parse_pattern(term[1:]))
        else:
            include.append(parse_pattern(term))
    result = CodeFilter(tuple(include), tuple(exclude))
    if not any(result.selects(entry) for entry in iter_entries()):
        raise PatternError(f"{text!r} excludes every documented code; {VALID_FORMS}")
    return result
