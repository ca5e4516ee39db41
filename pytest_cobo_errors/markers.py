"""The plugin's markers: their names, and the help ``pytest --markers`` shows."""

from __future__ import annotations

__all__ = ["CASE_MARKER", "MARKERS", "TRANSPORTS_MARKER"]

CASE_MARKER = "cobo_error_case"
TRANSPORTS_MARKER = "cobo_transports"

MARKERS = (
    f"{TRANSPORTS_MARKER}(*names): the HTTP libraries cobo_fault intercepts in this test, "
    "e.g. @pytest.mark.cobo_transports('httpx') or ('httpx', 'requests')",
    f"{CASE_MARKER}(key): set by @cobo_error_cases on each case, key '12007' or 'http:503'; "
    "--cobo-codes deselects by it",
)
