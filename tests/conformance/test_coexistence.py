"""The user's own mocks (respx routers, responses mocks) and cobo_fault work together in either order."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from loopback import Listener

from pytest_cobo_errors import CoboFaults, UnmatchedRequestError

from .conftest import COIN_INFO, DEV, ELSEWHERE, IN_PROCESS, Client, client_fixture

# a user's own respx or responses mock lives in-process; a server has none beside it
client = client_fixture(IN_PROCESS)


@pytest.fixture(params=["theirs first", "ours first"])
def faults_beside_theirs(request: pytest.FixtureRequest, client: Client) -> Iterator[CoboFaults]:
    """A CoboFaults() block and the library's usual mock answering ELSEWHERE, started in either order."""
    theirs, ours = client.user_mock(ELSEWHERE, b"theirs"), CoboFaults(transports=client.transport)
    with contextlib.ExitStack() as stack:
        if request.param == "theirs first":
            stack.enter_context(theirs)
        faults = stack.enter_context(ours)
        if request.param == "ours first":
            stack.enter_context(theirs)
        yield faults


def test_cobo_hosts_go_to_our_rules_and_other_hosts_to_theirs(client: Client, faults_beside_theirs: CoboFaults) -> None:
    rule = faults_beside_theirs.inject(12007, path=COIN_INFO)
    assert client.get(DEV + COIN_INFO).json()["error_code"] == 12007
    assert client.get(ELSEWHERE).content == b"theirs"
    assert rule.call_count == 1


def test_a_request_neither_answers_fails_with_one_message_naming_both(
    client: Client, faults_beside_theirs: CoboFaults
) -> None:
    faults_beside_theirs.inject(12007, path=COIN_INFO, optional=True)
    with faults_beside_theirs.expect_unmatched(), pytest.raises(UnmatchedRequestError) as refused:
        client.get("https://partner.example.org/v1/unmocked")
    message = str(refused.value)
    assert message.startswith("cobo_fault: no rule answers GET https://partner.example.org/v1/unmocked")
    assert f"Your own {client.transport} mock did not answer it either" in message
    assert refused.value.__context__ is None


def test_a_host_the_test_allowed_goes_past_their_mock_to_the_network(
    client: Client, faults_beside_theirs: CoboFaults
) -> None:
    # their mock refuses what it does not know; the test's allow_host is the later, narrower word
    listener = Listener()
    try:
        faults_beside_theirs.allow_host("127.0.0.1")
        answer = client.get(listener.url + "/v1/price")
    finally:
        listener.close()
    assert answer.content == b"escaped"
    assert listener.accepted == 1
    assert client.get(ELSEWHERE).content == b"theirs"  # their routes still answer their hosts


def test_a_request_to_our_own_loopback_server_goes_past_their_mock(
    request: pytest.FixtureRequest, client: Client, faults_beside_theirs: CoboFaults
) -> None:
    # the server is ours: what its rules answer is the answer, whatever the user's mock would say
    from pytest_cobo_errors import CoboServer

    pytest.importorskip("pytest_httpserver")
    server: CoboServer = request.getfixturevalue("cobo_server")
    server.succeed({"ok": True}, path=COIN_INFO)
    assert client.get(server.url + COIN_INFO).json() == {"success": True, "result": {"ok": True}}
    assert client.get(ELSEWHERE).content == b"theirs"
