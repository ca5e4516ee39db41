"""The callback handler demo runs only where FastAPI and Flask are installed.

They are not dependencies of the plugin: ``pip install 'pytest-cobo-errors[examples]'`` brings
them for the demo. Where either is missing, ``pytest examples`` leaves this directory out,
without a skip line, like ``examples/waas2`` where ``cobo-waas2`` is missing.
"""

from __future__ import annotations

import importlib.util

_NEEDED = ("fastapi", "flask", "cryptography")
collect_ignore_glob = [] if all(importlib.util.find_spec(name) for name in _NEEDED) else ["*.py"]
