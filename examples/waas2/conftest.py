"""The WaaS 2.0 demo runs only where the official ``cobo-waas2`` SDK is installed.

``cobo-waas2`` and ``cobo-custody`` (the v1 demo's SDK, in the ``examples`` extra) pin incompatible
versions of ``ecdsa``, so they never share an environment: ``pytest examples`` in the README's
environment leaves this directory out, without a skip line, and tox's ``waas2`` environment
(``tox run -e waas2``) runs it.
"""

from __future__ import annotations

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("cobo_waas2") else ["test_*.py"]
