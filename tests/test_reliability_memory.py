"""Memory stays flat: fault sets started, used and stopped by the ten thousand leave nothing behind.

A suite of 10,000 tests starts 10,000 fault sets. Whatever one start keeps (a respx call
snapshot, a patcher, a record of a call) is multiplied by that; an earlier version kept about
2.2 KB per start. Live objects and allocated memory are compared after a warm-up (first uses
fill caches), so that what remains is growth per start.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest
import requests

from pytest_cobo_errors import CoboFaults

URL = "https://api.dev.cobo.com/v1/custody/org_info/"


@pytest.fixture
def clients() -> Iterator[tuple[httpx.Client, requests.Session]]:
    with httpx.Client() as client, requests.Session() as session:
        yield client, session


def _start_use_stop(clients: tuple[httpx.Client, requests.Session], starts: int, *, send_every: int = 1) -> None:
    client, session = clients
    for i in range(starts):
        with CoboFaults(transports=["httpx", "requests"]) as faults:
            faults.inject(12007, path="/v1/custody/org_info/", optional=True)
            if i % send_every == 0:  # each library in turn; both transports start and stop every time
                response = client.get(URL) if i // send_every % 2 else session.get(URL)
                assert response.status_code == 400


def _live() -> tuple[int, int]:
    gc.collect()
    return len(gc.get_objects()), sys.getallocatedblocks()


def test_ten_thousand_starts_keep_live_objects_and_memory_flat(clients: tuple[httpx.Client, requests.Session]) -> None:
    _start_use_stop(clients, 300)
    objects, blocks = _live()
    _start_use_stop(clients, 10_000, send_every=10)  # a request costs more than a start: 1,000 of them
    objects_after, blocks_after = _live()
    # a leak of one object a start (or a request) would be 10,000 (1,000); allow a little churn
    assert objects_after - objects < 100
    assert blocks_after - blocks < 1_000


def test_traced_memory_stays_flat_across_a_thousand_starts(clients: tuple[httpx.Client, requests.Session]) -> None:
    tracemalloc.start()
    try:
        _start_use_stop(clients, 300)  # warmed up under tracing: what is traced first is not growth
        gc.collect()
        before = tracemalloc.take_snapshot()
        _start_use_stop(clients, 1_000)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename") if stat.size_diff > 0)
    # 2.2 KB a start would be 2.2 MB here; mock.patch's cache churn was about 90 KB. httpx's own
    # re.finditer accounts for up to ~18 KB under a loaded machine: allow 40 bytes a start
    assert grown < 40_000, "\n".join(str(s) for s in after.compare_to(before, "lineno")[:10])
