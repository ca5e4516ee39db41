"""The conformance suite: every behaviour of the transport contract, written once, run against every client.

Each test here takes the ``client`` fixture and runs once per entry of `CLIENTS`: httpx sync,
httpx async and requests. A new transport joins by adding its client here (one entry); its tests
are then the same tests every other transport passes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
import requests
import responses
import respx

from pytest_cobo_errors.transports import TRANSPORTS, available

DEV = "https://api.dev.cobo.com"
COIN_INFO = "/v1/custody/coin_info/"
WITHDRAW = "/v1/custody/new_withdraw_request/"
ELSEWHERE = "https://partner.example.org/v1/price"


@dataclass(frozen=True)
class Answer:
    """A response as every client's test sees it."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return requests.models.complexjson.loads(self.content)


class Client:
    """One HTTP library, driven the same way by every conformance test."""

    name: ClassVar[str]
    transport: ClassVar[str]
    errors: ClassVar[dict[str, type[BaseException]]]
    """The exception the library raises for each network fault (``dropped``: reading the body)."""

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        raise NotImplementedError

    def get(self, url: str, **kwargs: Any) -> Answer:
        return self.send("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Answer:
        return self.send("POST", url, **kwargs)

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        """GET *url* reading the body in chunks: the status, the bytes that arrived, and what broke."""
        raise NotImplementedError

    def user_mock(self, url: str, body: bytes) -> contextlib.AbstractContextManager[object]:
        """The library's usual mock, answering GET *url* with *body*, as a user would start it."""
        raise NotImplementedError


class HttpxSync(Client):
    name, transport = "httpx-sync", "httpx"
    errors: ClassVar[dict[str, type[BaseException]]] = {
        "connect_timeout": httpx.ConnectTimeout,
        "read_timeout": httpx.ReadTimeout,
        "connect_error": httpx.ConnectError,
        "dropped": httpx.RemoteProtocolError,
    }

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        with httpx.Client(trust_env=False) as client:
            response = client.request(method, url, **kwargs)
        return Answer(response.status_code, response.headers, response.content)

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        received = bytearray()
        with httpx.Client(trust_env=False) as client, client.stream("GET", url) as response:
            try:
                for chunk in response.iter_bytes():
                    received += chunk
            except httpx.HTTPError as error:
                return response.status_code, bytes(received), error
        return response.status_code, bytes(received), None

    @contextlib.contextmanager
    def user_mock(self, url: str, body: bytes) -> Iterator[object]:
        with respx.mock(assert_all_called=False) as router:
            router.get(url).mock(return_value=httpx.Response(200, content=body))
            yield router


class HttpxAsync(HttpxSync):
    name = "httpx-async"

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        async def go() -> Answer:
            async with httpx.AsyncClient(trust_env=False) as client:
                response = await client.request(method, url, **kwargs)
            return Answer(response.status_code, response.headers, response.content)

        return asyncio.run(go())

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        async def go() -> tuple[int, bytes, BaseException | None]:
            received = bytearray()
            async with httpx.AsyncClient(trust_env=False) as client, client.stream("GET", url) as response:
                try:
                    async for chunk in response.aiter_bytes():
                        received += chunk
                except httpx.HTTPError as error:
                    return response.status_code, bytes(received), error
            return response.status_code, bytes(received), None

        return asyncio.run(go())


class Requests(Client):
    name, transport = "requests", "requests"
    errors: ClassVar[dict[str, type[BaseException]]] = {
        "connect_timeout": requests.exceptions.ConnectTimeout,
        "read_timeout": requests.exceptions.ReadTimeout,
        "connect_error": requests.exceptions.ConnectionError,
        "dropped": requests.exceptions.ChunkedEncodingError,
    }

    def send(self, method: str, url: str, **kwargs: Any) -> Answer:
        with requests.Session() as session:
            session.trust_env = False
            response = session.request(method, url, **kwargs)
        return Answer(response.status_code, response.headers, response.content)

    def stream(self, url: str) -> tuple[int, bytes, BaseException | None]:
        received = bytearray()
        with requests.get(url, stream=True) as response:
            try:
                for chunk in response.iter_content(8):
                    received += chunk
            except requests.RequestException as error:
                return response.status_code, bytes(received), error
        return response.status_code, bytes(received), None

    @contextlib.contextmanager
    def user_mock(self, url: str, body: bytes) -> Iterator[object]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(responses.GET, url, body=body)
            yield mock


CLIENTS: list[Client] = [HttpxSync(), HttpxAsync(), Requests()]
assert {c.transport for c in CLIENTS} == set(TRANSPORTS), "every registered transport needs a client here"


@pytest.fixture(
    params=[
        pytest.param(
            client,
            id=client.name,
            marks=[
                pytest.mark.cobo_transports(client.transport),
                pytest.mark.skipif(client.transport not in available(), reason=f"{client.transport} not installed"),
            ],
        )
        for client in CLIENTS
    ]
)
def client(request: pytest.FixtureRequest) -> Client:
    """The HTTP library under test; ``cobo_fault`` intercepts only its transport."""
    chosen: Client = request.param
    return chosen
