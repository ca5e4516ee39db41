"""The plugin's markers: their names, and the help ``pytest --markers`` shows."""

from __future__ import annotations

__all__ = ["LIVE_MARKER", "MARKERS", "NO_COVERAGE_MARKER", "TRANSPORTS_MARKER"]

TRANSPORTS_MARKER = "cobo_transports"
LIVE_MARKER = "cobo_live"
NO_COVERAGE_MARKER = "cobo_no_coverage"

MARKERS = (
    f"{TRANSPORTS_MARKER}(*names): the HTTP libraries cobo_fault intercepts in this test, "
    "e.g. @pytest.mark.cobo_transports('httpx') or ('httpx', 'requests')",
    f"{LIVE_MARKER}: this test talks to the real Cobo development environment (api.dev.cobo.com) on purpose; "
    "skipped unless --cobo-live is given. Production hosts stay blocked.",
    f"{NO_COVERAGE_MARKER}: leave this test out of --cobo-coverage: neither its @cobo_error_cases cases nor the "
    "answers its faults give nor its callback cases count (the report says how many tests were left out)",
)
