"""Which documented codes and statuses a session's tests exercised, and the report of it.

The Custody API (v1) and WaaS 2.0 are scored apart, each against its own catalog; the total is
over the APIs the session touched, so a v1 suite scores as it always did and a v2 suite is not
charged for the v1 codes it never meant to send. Callback cases (``cobo_callbacks.check``) are
listed under their own heading and never count towards the percentage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_cobo_errors.catalog import ERROR_CODES, HTTP_STATUSES, HttpStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from pytest_cobo_errors.outcomes import NetworkFault, Outcome, Reply

__all__ = ["ErrorCoverage", "recorder", "recording"]


def _v2_catalog() -> tuple[Mapping[int, Any], Mapping[int, Any]]:
    from pytest_cobo_errors.catalog_v2 import V2_ERROR_CODES, V2_HTTP_STATUSES  # only once v2 is seen

    return V2_ERROR_CODES, V2_HTTP_STATUSES


class ErrorCoverage:
    """Codes and statuses seen through ``@cobo_error_cases`` items that ran, or faults that answered;
    and the callback cases ``cobo_callbacks.check`` delivered."""

    def __init__(self) -> None:
        self.codes: set[int] = set()
        self.statuses: set[int] = set()
        self.v2_codes: set[int] = set()
        self.v2_statuses: set[int] = set()
        self.callbacks: set[str] = set()

    def record_callback(self, case_id: str) -> None:
        """Note that the callback case *case_id* (``"v2_webhook-wrong_key"``) was checked."""
        self.callbacks.add(case_id)

    def record_entry(self, entry: Any) -> None:
        v2 = getattr(entry, "api", "v1") == "v2"
        if isinstance(entry, HttpStatus):
            (self.v2_statuses if v2 else self.statuses).add(entry.status)
        elif not getattr(entry, "removed", False):  # a removed v2 code is outside "every documented code"
            (self.v2_codes if v2 else self.codes).add(entry.code)

    def record_served(self, outcome: Outcome, reply: Reply | NetworkFault) -> None:
        code = outcome.code
        status: int | None = getattr(reply, "status", None)  # a NetworkFault has none
        answered = getattr(outcome, "inner", None) or outcome  # a signed(...) answer is its inner one's
        if getattr(answered, "api", "v1") == "v2":
            codes, statuses = _v2_catalog()
            if code is not None and code in codes:
                self.v2_codes.add(code)
            if status is not None and status in statuses:
                self.v2_statuses.add(status)
            return
        if code is not None and code in ERROR_CODES:
            self.codes.add(code)
        if status is not None and status in HTTP_STATUSES:
            self.statuses.add(status)

    def merge(self, data: Mapping[str, Iterable[Any]]) -> None:
        """Add what another process (a pytest-xdist worker) saw, as made by `as_dict`."""
        self.callbacks.update(c for c in data.get("callbacks", ()) if isinstance(c, str))
        self.codes.update(c for c in data.get("codes", ()) if c in ERROR_CODES)
        self.statuses.update(s for s in data.get("statuses", ()) if s in HTTP_STATUSES)
        if data.get("v2_codes") or data.get("v2_statuses"):
            codes, statuses = _v2_catalog()
            self.v2_codes.update(c for c in data.get("v2_codes", ()) if c in codes)
            self.v2_statuses.update(s for s in data.get("v2_statuses", ()) if s in statuses)

    def as_dict(self) -> dict[str, list[int] | list[str]]:
        data: dict[str, list[int] | list[str]] = {"codes": sorted(self.codes), "statuses": sorted(self.statuses)}
        if self.v2_touched:
            data |= {"v2_codes": sorted(self.v2_codes), "v2_statuses": sorted(self.v2_statuses)}
        if self.callbacks:
            data["callbacks"] = sorted(self.callbacks)
        return data

    @property
    def v2_touched(self) -> bool:
        return bool(self.v2_codes or self.v2_statuses)

    def _scored(self) -> list[tuple[int, int]]:
        """(exercised, documented) per API the session touched: v1 unless only v2 was."""
        scores = []
        if not self.v2_touched or self.codes or self.statuses:
            scores.append((len(self.codes) + len(self.statuses), len(ERROR_CODES) + len(HTTP_STATUSES)))
        if self.v2_touched:
            codes, statuses = _v2_catalog()
            scores.append((len(self.v2_codes) + len(self.v2_statuses), len(codes) + len(statuses)))
        return scores

    @property
    def percent(self) -> float:
        """Exercised codes and statuses as a share of the documented ones of the APIs touched, 0-100."""
        scores = self._scored()
        return 100.0 * sum(seen for seen, _ in scores) / sum(total for _, total in scores)

    def report(self, *, fail_under: float | None = None) -> list[str]:
        """The terminal summary: totals, then what no test exercised, one per line."""
        total = sum(documented for _, documented in self._scored())
        lines = [
            f"error codes   {len(self.codes):>2}/{len(ERROR_CODES)} exercised" + _families(self.codes),
            f"HTTP statuses {len(self.statuses):>2}/{len(HTTP_STATUSES)} exercised",
        ]
        if self.v2_touched:
            codes, statuses = _v2_catalog()
            lines += [
                f"WaaS 2.0 error codes   {len(self.v2_codes):>3}/{len(codes)} exercised",
                f"WaaS 2.0 HTTP statuses {len(self.v2_statuses):>3}/{len(statuses)} exercised",
            ]
        lines.append(
            f"total         {self.percent:.1f}% of {total} documented codes and statuses"
            + ("" if fail_under is None else f" (required: {fail_under:g}%)")
        )
        missing_codes = [e for c, e in ERROR_CODES.items() if c not in self.codes]
        missing_statuses = [e for s, e in HTTP_STATUSES.items() if s not in self.statuses]
        v2_missing: list[str] = []
        if self.v2_touched:
            codes, statuses = _v2_catalog()
            v2_missing = [f"v2:{c}" for c in codes if c not in self.v2_codes]
            v2_missing += [f"v2:http:{s}" for s in statuses if s not in self.v2_statuses]
        if missing_codes or missing_statuses or v2_missing:
            lines.append("not exercised by any test:")
            if not self.v2_touched or self.codes or self.statuses:
                lines += [f"  {e.code:>5}  {e.message}" for e in missing_codes]
                lines += [f"  http:{e.status}  {e.description.split(' – ')[0]}" for e in missing_statuses]
            lines += _wrapped(v2_missing)
        else:
            lines.append("every documented code and status is exercised")
        return lines + self._callback_lines()

    def _callback_lines(self) -> list[str]:
        """The callbacks heading: how many of the callback cases were checked, and which were not."""
        if not self.callbacks:
            return []
        from pytest_cobo_errors.callback_matrix import callback_cases  # only once a callback case was checked

        every = [case.id for case in callback_cases()]
        checked = self.callbacks.intersection(every)
        lines = [f"callback cases {len(checked):>2}/{len(every)} checked"]
        missing = [case_id for case_id in every if case_id not in checked]
        if missing:
            lines.append("callback cases not checked:")
            lines += _wrapped(missing)
        else:
            lines.append("every callback case is checked")
        return lines


def _wrapped(terms: list[str], width: int = 96) -> list[str]:
    """WaaS 2.0's missing codes, several a line: 126 of them would be a page of their own."""
    lines: list[str] = []
    for term in terms:
        if lines and len(lines[-1]) + len(term) + 2 <= width:
            lines[-1] += f", {term}"
        else:
            lines.append(f"  {term}")
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
