"""Transports that wait for their library: started when it is imported, not when a fault set starts.

A library nobody has imported yet sends no requests, so its transport has nothing to intercept
until it is. Importing it anyway would cost every test process that has it installed without
using it (``requests``, with urllib3 and charset_normalizer, takes about 30 ms), and that is the
default: ``--cobo-transports=auto`` chooses every installed library. So while such a transport is
started, a finder on ``sys.meta_path`` watches for the library's import; when the library's
module has run, before the code that imported it gets it back, the transport is started for
real. A transport whose library is already imported starts at once, without this module.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_cobo_errors.transports.contract import Handler, Transport

__all__ = ["Deferred"]

_lock = threading.Lock()  # guards _waiting and the finder's place on sys.meta_path
_waiting: dict[str, list[Deferred]] = {}  # a library's top-level module -> the transports waiting for it


class Deferred:
    """A transport whose library is not imported yet: *make* builds the real one once it is."""

    def __init__(self, name: str, library: str, make: Callable[[], Transport]) -> None:
        self.name = name
        self.library = library
        self._make = make
        self._handler: Handler | None = None
        self._started: Transport | None = None
        self._lock = threading.Lock()

    def start(self, handler: Handler) -> None:
        self._handler = handler
        _watch(self)
        if self.library in sys.modules:  # imported between the registry's look and the watch
            _unwatch(self)
            self.library_imported()

    def library_imported(self) -> None:
        # Made with no lock of ours held: making it may wait for another thread's import of the
        # library, and that import ends by calling this method, which takes the lock.
        transport = self._make()
        with self._lock:
            if self._handler is None or self._started is not None:  # stopped meanwhile, or started already
                return
            transport.start(self._handler)
            self._started = transport

    def stop(self) -> None:
        _unwatch(self)
        with self._lock:
            started, self._started, self._handler = self._started, None, None
            if started is not None:
                started.stop()


def _watch(transport: Deferred) -> None:
    with _lock:
        _waiting.setdefault(transport.library, []).append(transport)
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)


def _unwatch(transport: Deferred) -> None:
    with _lock:
        waiting = _waiting.get(transport.library, [])
        if transport in waiting:
            waiting.remove(transport)
        if not waiting:
            _waiting.pop(transport.library, None)
        if not _waiting and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)


def _imported(library: str) -> None:
    with _lock:
        waiting = _waiting.pop(library, [])
        if not _waiting and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
    for transport in waiting:
        transport.library_imported()


class _Announcing(importlib.abc.Loader):
    """A watched library's own loader, which reports the library imported once its module has run."""

    def __init__(self, loader: Any, library: str) -> None:
        self.loader = loader
        self.library = library

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        # the module keeps its own loader, as if it had never been watched (reload, get_source)
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        _imported(self.library)

    def __getattr__(self, name: str) -> Any:
        if name in ("loader", "library"):  # not set yet (a copy being built): no endless recursion
            raise AttributeError(name)
        return getattr(self.loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds a watched library with the finders after it, and hands back its spec with an announcing loader."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in _waiting:  # every import while a transport waits comes here: one look
            return None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None) if finder is not self else None
            spec: ModuleSpec | None = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Announcing(spec.loader, fullname)
                return spec
        return None


_FINDER = _Finder()
