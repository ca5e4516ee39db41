"""The plugin's markers: their names, and the help ``pytest --markers`` shows."""

from __future__ import annotations

__all__ = ["MARKERS", "TRANSPORTS_MARKER"]

TRANSPORTS_MARKER = "cobo_transports"

MARKERS = (
    f"{TRANSPORTS_MARKER}(*names): the HTTP libraries cobo_fault intercepts in this test, "
    "e.g. @pytest.mark.cobo_transports('httpx') or ('httpx', 'requests')",
)
