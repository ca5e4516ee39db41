"""Which documented codes and statuses a session's tests exercised, and the report of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_cobo_errors.catalog import ERROR_CODES, HTTP_STATUSES, ErrorCode, HttpStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from pytest_cobo_errors.outcomes import NetworkFault, Outcome, Reply

__all__ = ["ErrorCoverage", "recorder", "recording"]

_TOTAL = len(ERROR_CODES) + len(HTTP_STATUSES)


class ErrorCoverage:
    """Codes and statuses seen through ``@cobo_error_cases`` items that ran, or faults that answered."""

    def __init__(self) -> None:
        self.codes: set[int] = set()
        self.statuses: set[int] = set()

    def record_entry(self, entry: ErrorCode | HttpStatus) -> None:
        if isinstance(entry, ErrorCode):
            self.codes.add(entry.code)
        else:
            self.statuses.add(entry.status)

    def record_served(self, outcome: Outcome, reply: Reply | NetworkFault) -> None:
        code = outcome.code
        if code is not None and code in ERROR_CODES:
            self.codes.add(code)
        status: int | None = getattr(reply, "status", None)  # a NetworkFault has none
        if status is not None and status in HTTP_STATUSES:
            self.statuses.add(status)

    def merge(self, data: Mapping[str, Iterable[int]]) -> None:
        """Add what another process (a pytest-xdist worker) saw, as made by `as_dict`."""
        self.codes.update(c for c in data.get("codes", ()) if c in ERROR_CODES)
        self.statuses.update(s for s in data.get("statuses", ()) if s in HTTP_STATUSES)

    def as_dict(self) -> dict[str, list[int]]:
        return {"codes": sorted(self.codes), "statuses": sorted(self.statuses)}

    @property
    def percent(self) -> float:
        """Exercised codes and statuses as a share of the 51 documented ones, 0-100."""
        return 100.0 * (len(self.codes) + len(self.statuses)) / _TOTAL

    def report(self, *, fail_under: float | None = None) -> list[str]:
        """The terminal summary: totals, then what no test exercised, one per line."""
        lines = [
            f"error codes   {len(self.codes):>2}/{len(ERROR_CODES)} exercised" + _families(self.codes),
            f"HTTP statuses {len(self.statuses):>2}/{len(HTTP_STATUSES)} exercised",
            f"total         {self.percent:.1f}% of {_TOTAL} documented codes and statuses"
            + ("" if fail_under is None else f" (required: {fail_under:g}%)"),
        ]
        missing_codes = [e for c, e in ERROR_CODES.items() if c not in self.codes]
        missing_statuses = [e for s, e in HTTP_STATUSES.items() if s not in self.statuses]
        if missing_codes or missing_statuses:
            lines.append("not exercised by any test:")
            lines += [f"  {e.code:>5}  {e.message}" for e in missing_codes]
            lines += [f"  http:{e.status}  {e.description.split(' – ')[0]}" for e in missing_statuses]
        else:
            lines.append("every documented code and status is exercised")
        return lines


def _families(codes: set[int]) -> str:
    ones = sum(1 for e in ERROR_CODES.values() if e.family == "1")
    seen_ones = sum(1 for c in codes if ERROR_CODES[c].family == "1")
    return f" (1xxx: {seen_ones}/{ones}, 12xxx: {len(codes) - seen_ones}/{len(ERROR_CODES) - ones})"


# The session's coverage, while a pytest run with --cobo-coverage is under way. A stack, since
# pytester runs whole sessions inside a session. `cobo_faults()` blocks, which have no fixture to
# reach the config through (Hypothesis examples), report to the innermost one.
_RECORDING: list[ErrorCoverage] = []


def recording(coverage: ErrorCoverage | None) -> None:
    """Start (*coverage*) or stop (None) recording for the innermost session."""
    if coverage is None:
        if _RECORDING:
            _RECORDING.pop()
    else:
        _RECORDING.append(coverage)


def recorder() -> ErrorCoverage | None:
    """The coverage being recorded now, if any."""
    return _RECORDING[-1] if _RECORDING else None
