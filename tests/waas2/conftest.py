"""The official ``cobo-waas2`` SDK's tests: collected only where the SDK is installed.

``cobo-waas2`` cannot share an environment with ``cobo-custody`` (the test extra's v1 SDK): they
pin incompatible versions of ``ecdsa``. So these tests run in tox's ``waas2`` environment
(``tox run -e waas2``), and the main suite, which collects all of ``tests/``, leaves them out.
Left out, not skipped: a skip per test would add a line to every run's summary that asks for
nothing, and a module-level ``importorskip`` would still report the module as skipped. Where the
SDK is missing, ``pytest tests/waas2`` collects nothing (exit status 5).
"""

from __future__ import annotations

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("cobo_waas2") else ["test_*.py"]
