"""The standalone fake Cobo (``cobo-fault-server``): scenario files, and the command a service in any language drives.

A scenario says in TOML or JSON what the Python API says in calls, and means exactly the same
outcomes; a mistake in it is told with the rule, the key and what is valid. The command serves
it on 127.0.0.1, prints its address, and is driven over HTTP under ``/_cobo/``, as a Go or Node
test suite would: here with ``requests``, against the real command in a subprocess.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pytest
import requests

pytest.importorskip("pytest_httpserver")

from pytest_cobo_errors import CoboServer, TestKey, error, gateway, signed, success
from pytest_cobo_errors.catalog import error_code
from pytest_cobo_errors.outcomes import connection_reset
from pytest_cobo_errors.scenario import ScenarioError, load_scenario, parse_scenario, read_scenario
from pytest_cobo_errors.signing import session_key
from pytest_cobo_errors.transports.contract import mask
from pytest_cobo_errors.transports.loopback import UNANSWERED_HEADER, LoopbackServer

WITHDRAW = "/v1/custody/new_withdraw_request/"
COIN_INFO = "/v1/custody/coin_info/"
KEY = "1f" * 32  # a test key's private half: the client is configured with its public half
COMMAND = [sys.executable, "-m", "pytest_cobo_errors.cli"]
ADDRESS_LINE = re.compile(r"cobo-fault-server: serving on (http://127\.0\.0\.1:\d+) \(control: \1/_cobo/\)\n")

EVERY_ANSWER = """
[[rules]]
method = "POST"
path = "/v1/custody/new_withdraw_request/"
error = 12009
times = 1
delay = 2.5

[[rules]]
path = "/v1/custody/*"
gateway = 503
body = "empty"
optional = true

[[rules]]
network = "connection_reset"
expect_calls = 2

[[rules]]
succeed = {coin = "BTC"}
trickle = 0.1

[[rules]]
path_regex = '/v1/custody/coin_\\w+/'
sequence = [1010, 503, {succeed = {coin = "BTC"}}]
repeat_last = true

[[rules]]
method = "get"
fail_then_succeed = {error = 1010, times = 2, result = {id = 7}}
"""


@pytest.fixture
def faults() -> CoboServer:
    """A fault set of the server's kind, never started: what a scenario declares on it is only read."""
    return CoboServer(server=LoopbackServer())


# -- scenarios ------------------------------------------------------------------------------
def test_each_answer_of_a_scenario_is_the_outcome_the_python_api_declares(faults: CoboServer) -> None:
    rules = load_scenario(faults, parse_scenario(EVERY_ANSWER, "toml"))
    assert [rule.outcomes for rule in rules] == [
        (error(12009),),
        (gateway(503, body="empty"),),
        (connection_reset(),),
        (success({"coin": "BTC"}),),
        (error(1010), gateway(503), success({"coin": "BTC"})),  # an int step is a code, or a status if 100-599
        (error(1010), success({"id": 7})),
    ]
    withdraw, gateway_page, reset, succeed, sequence, retried = rules
    assert (withdraw.method, withdraw.path, withdraw.times, withdraw.delay) == ("POST", WITHDRAW, 1, 2.5)
    assert (gateway_page.path, gateway_page.optional) == ("/v1/custody/*", True)
    assert reset.expect_calls == 2
    assert succeed.trickle == 0.1
    assert isinstance(sequence.path, re.Pattern)
    assert sequence.path.pattern == r"/v1/custody/coin_\w+/"
    assert sequence.repeat
    assert (retried.method, retried.counts) == ("GET", (2, 1))
    assert faults.book.rules == rules


def test_a_json_scenario_reads_as_its_toml_twin(faults: CoboServer) -> None:
    as_json = json.dumps(
        {
            "rules": [
                {"method": "POST", "path": WITHDRAW, "error": 12009, "times": 1, "delay": 2.5},
                {"path": "/v1/custody/*", "gateway": 503, "body": "empty", "optional": True},
                {"network": "connection_reset", "expect_calls": 2},
                {"succeed": {"coin": "BTC"}, "trickle": 0.1},
                {
                    "path_regex": r"/v1/custody/coin_\w+/",
                    "sequence": [1010, 503, {"succeed": {"coin": "BTC"}}],
                    "repeat_last": True,
                },
                {"method": "get", "fail_then_succeed": {"error": 1010, "times": 2, "result": {"id": 7}}},
            ]
        }
    )
    twin = CoboServer(server=faults.server)
    from_toml = load_scenario(faults, parse_scenario(EVERY_ANSWER, "toml"))
    from_json = load_scenario(twin, parse_scenario(as_json, "json"))
    assert [str(rule) for rule in from_json] == [str(rule) for rule in from_toml]


def test_a_scenario_file_is_read_as_its_suffix_says(tmp_path: Any) -> None:
    toml_file, json_file, yaml_file = tmp_path / "f.toml", tmp_path / "f.json", tmp_path / "f.yaml"
    toml_file.write_text('[[rules]]\nerror = 12009\npath = "/v1/*"\n')
    json_file.write_text('{"rules": [{"error": 12009, "path": "/v1/*"}]}')
    yaml_file.write_text("rules: []")
    assert read_scenario(toml_file) == read_scenario(json_file) == {"rules": [{"error": 12009, "path": "/v1/*"}]}
    with pytest.raises(ScenarioError) as told:
        read_scenario(yaml_file)
    assert str(told.value) == f"{yaml_file}: unknown scenario format '.yaml'; valid: .toml, .json"


def test_an_errors_body_and_status_are_overridden_as_inject_overrides_them(faults: CoboServer) -> None:
    scenario = """
    [[rules]]
    error = 12009
    status = 200
    message = "dup"
    headers = {X-Trace = "t1"}
    fields = {error_code = "12009"}
    omit = ["error_id"]
    """
    (rule,) = load_scenario(faults, parse_scenario(scenario, "toml"))
    assert rule.outcomes == (
        error(
            12009,
            status=200,
            message="dup",
            headers={"X-Trace": "t1"},
            fields={"error_code": "12009"},
            omit=["error_id"],
        ),
    )


def test_sign_turns_on_signing_with_the_scenarios_key_and_spelling(faults: CoboServer) -> None:
    load_scenario(faults, {"sign": {"key": KEY, "spelling": "hyphen"}})
    assert faults.signer is not None
    assert (faults.signer.private_key_hex, faults.signature_spelling) == (KEY, "hyphen")


def test_sign_true_signs_with_the_processs_test_key(faults: CoboServer) -> None:
    load_scenario(faults, {"sign": True})
    assert (faults.signer, faults.signature_spelling) == (session_key(), "both")


def test_a_rules_signature_forges_what_signed_forges(faults: CoboServer) -> None:
    scenario = {"rules": [{"error": 12001, "signature": "tampered"}, {"succeed": {}, "spelling": "underscore"}]}
    tampered, underscored = load_scenario(faults, scenario)
    assert tampered.outcomes == (signed(error(12001), "tampered"),)
    assert underscored.outcomes == (signed(success({}), spelling="underscore"),)


ERROR_KEYS = "error, status, message, headers, fields, omit, signature, spelling, method, path, path_regex, times, delay, trickle, optional, expect_calls, params, form, json, request_headers"
ANSWER_KEYS = "error, gateway, network, succeed, sequence, fail_then_succeed"
BAD_SCENARIOS = {
    "a typo": (
        {"rules": [{"error": 12009}, {"error": 12009}, {"error": 12009, "pathh": "/v1/*"}]},
        f"rules[2].pathh: unknown key (did you mean path?); valid: {ERROR_KEYS}",
    ),
    "a key of another answer": (
        {"rules": [{"sequence": [1010], "times": 2}]},
        "rules[0].times: not valid in a sequence rule; valid: sequence, repeat_last, method, path, path_regex, delay, trickle, optional, expect_calls, params, form, json, request_headers",
    ),
    "no answer": ({"rules": [{"path": "/v1/*"}]}, f"rules[0]: no answer; give exactly one of: {ANSWER_KEYS}"),
    "two answers": (
        {"rules": [{"error": 12009, "gateway": 503}]},
        f"rules[0]: error and gateway both given; give exactly one of: {ANSWER_KEYS}",
    ),
    "an undocumented code": (
        {"rules": [{"error": 12999}]},
        "rules[0].error: 12999 is not a documented Cobo error code; nearest documented: 12201, 12202, 12203 (41 codes: 1000-1070 and 12000-12203)",
    ),
    "a code as text": (
        {"rules": [{"error": "12009"}]},
        "rules[0].error: must be a documented Cobo error code such as 12009, got '12009'",
    ),
    "a status out of range": (
        {"rules": [{"gateway": 999}]},
        "rules[0].gateway: must be an HTTP status 100-599 such as 503, got 999",
    ),
    "an unknown network fault": (
        {"rules": [{"network": "timeout"}]},
        "rules[0].network: must be one of: connect_timeout, read_timeout, connect_error, connection_reset, no_response, truncated_response, got 'timeout'",
    ),
    "a network fault the server cannot give": (
        {"rules": [{"network": "connect_timeout"}]},
        "rules[0]: the server transport cannot produce a 'connect_timeout' network fault (it can: connection_reset, no_response, truncated_response); "
        "a server cannot refuse or stall a connection it has accepted; for a timeout, declare delay= longer than the client's own timeout",
    ),
    "a method HTTP lacks": (
        {"rules": [{"error": 12009, "method": "FETCH"}]},
        "rules[0].method: must be one of: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, got 'FETCH'",
    ),
    "a relative path": (
        {"rules": [{"error": 12009, "path": "v1/custody/*"}]},
        "rules[0].path: must start with '/', e.g. '/v1/custody/coin_info/' or '/v1/*', got 'v1/custody/*'",
    ),
    "a broken regex": (
        {"rules": [{"error": 12009, "path_regex": "/v1/(custody"}]},
        "rules[0].path_regex: not a regular expression: missing ), unterminated subpattern at position 4",
    ),
    "both path and path_regex": (
        {"rules": [{"error": 12009, "path": "/v1/*", "path_regex": "/v1/.*"}]},
        "rules[0]: path and path_regex both given; give one",
    ),
    "a negative delay": (
        {"rules": [{"error": 12009, "delay": -1}]},
        "rules[0].delay: must be a non-negative number of seconds, got -1",
    ),
    "times zero": ({"rules": [{"error": 12009, "times": 0}]}, "rules[0].times: must be a positive int, got 0"),
    "optional as text": (
        {"rules": [{"error": 12009, "optional": "yes"}]},
        "rules[0].optional: must be true or false, got 'yes'",
    ),
    "a header that would inject another": (
        {"rules": [{"error": 12009, "headers": {"X-Trace": "a\r\nSet-Cookie: x"}}]},
        "rules[0].headers: the value of 'X-Trace' holds '\\r' at position 1, which would end the header and start another "
        "(header injection); valid: latin-1 text without control characters other than tab, e.g. 'café'",
    ),
    "a gateway page signed": (
        {"rules": [{"gateway": 503, "signature": "valid"}]},
        "rules[0].signature: not valid in a gateway rule; valid: gateway, body, headers, method, path, path_regex, times, delay, trickle, optional, expect_calls, params, form, json, request_headers",
    ),
    "an unknown signature fault": (
        {"rules": [{"error": 12009, "signature": "forged"}]},
        "rules[0].signature: must be one of: valid, tampered, wrong, missing, stale, got 'forged'",
    ),
    "a bad sequence step": (
        {"rules": [{"sequence": [1010, "connection_reset"]}]},
        "rules[0].sequence[1]: must be an error code or status (int) or a table such as {error = 1010}, got 'connection_reset'",
    ),
    "a bad key inside a step": (
        {"rules": [{"sequence": [1010, {"succeed": {}, "body": "x"}]}]},
        "rules[0].sequence[1].body: unknown key; valid: succeed, status, headers, signature, spelling",
    ),
    "an empty sequence": (
        {"rules": [{"sequence": []}]},
        "rules[0].sequence: must be a non-empty list of steps, got []",
    ),
    "fail_then_succeed failing no times": (
        {"rules": [{"fail_then_succeed": {"error": 1010, "times": 0}}]},
        "rules[0].fail_then_succeed.times: must be a positive int, got 0",
    ),
    "a result JSON cannot carry": (
        {"rules": [{"succeed": {"amount": float("nan")}}]},
        "rules[0].succeed: result['amount'] is nan, which is not JSON (JSON has no NaN or Infinity); valid: dict, list, str, int, finite float, bool, None",
    ),
    "rules as one table": (
        {"rules": {"error": 12009}},
        "rules: must be a list of tables ([[rules]] in TOML), got {'error': 12009}",
    ),
    "a rule that is not a table": ({"rules": [12009]}, "rules[0]: must be a table (a JSON object), got 12009"),
    "an unknown top-level key": ({"rule": []}, "rule: unknown key (did you mean rules?); valid: rules, sign"),
    "a signing key that is not one": (
        {"sign": {"key": "not hex"}},
        "sign.key: must be 64 hex digits naming a secp256k1 private key (1 to n-1)",
    ),
    "sign as text": ({"sign": "yes"}, "sign: must be true, false or a table {key = ..., spelling = ...}, got 'yes'"),
    "not a table at all": ([{"error": 12009}], "the scenario: must be a table (a JSON object), got [{'error': 12009}]"),
}


@pytest.mark.parametrize(("scenario", "message"), BAD_SCENARIOS.values(), ids=BAD_SCENARIOS)
def test_a_bad_scenario_names_the_rule_the_key_and_what_is_valid(
    faults: CoboServer, scenario: object, message: str
) -> None:
    with pytest.raises(ScenarioError) as told:
        load_scenario(faults, scenario)
    assert str(told.value) == message


def test_a_scenario_with_one_bad_rule_declares_nothing(faults: CoboServer) -> None:
    before = faults.inject(12009)
    scenario = {"sign": True, "rules": [{"error": 1010}, {"network": "connect_timeout"}]}  # refused when declared
    with pytest.raises(ScenarioError, match=r"^rules\[1\]: the server transport cannot produce"):
        load_scenario(faults, scenario)
    assert faults.book.rules == [before]
    assert faults.signer is None


@pytest.mark.parametrize(
    ("text", "form", "message"),
    [
        (
            '[[rules]]\nerror = 12009\npath = "/v1/*\n',
            "toml",
            r"^the scenario: not valid TOML: .*\(at line 3, column \d+\)$",
        ),
        ('{"rules": [{"error": 12009,}]}', "json", r"^the scenario: not valid JSON: .*line 1 column 28 \(char 27\)$"),
        ("[[rules]]", "yaml", r"^the scenario: unknown scenario format 'yaml'; valid: toml, json$"),
    ],
)
def test_text_that_does_not_parse_is_told_with_where(text: str, form: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text, form)


# -- the command ----------------------------------------------------------------------------
def _first_line(process: subprocess.Popen[str], timeout: float = 20) -> str:
    """The first line the command prints, waiting at most *timeout* seconds for it."""
    lines: list[str] = []
    stdout = process.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        process.kill()
        _, errors = process.communicate()
        pytest.fail(f"the command printed no address line; stderr: {errors}")
    return lines[0]


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    """The command started with *args*, and the base URL its address line names."""
    process = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = _first_line(process)
    found = ADDRESS_LINE.fullmatch(line)
    assert found is not None, line
    return process, found.group(1)


def _stop(process: subprocess.Popen[str], how: signal.Signals = signal.SIGTERM) -> tuple[int, str, str]:
    process.send_signal(how)
    out, errors = process.communicate(timeout=5)
    return process.returncode, out, errors


@dataclass
class Fake:
    """The running command, driven over HTTP as a test suite in another language drives it."""

    url: str

    def control(self, method: str, name: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.url}/_cobo/{name}", timeout=5, **kwargs)

    def put(self, scenario: dict[str, Any]) -> dict[str, Any]:
        answer = self.control("PUT", "scenario", json=scenario)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def calls(self) -> dict[str, Any]:
        return dict(self.control("GET", "calls").json())


@pytest.fixture(scope="module")
def running() -> Iterator[Fake]:
    """One command for the module's tests (each starts from an empty scenario)."""
    process, url = _start("--quiet")
    yield Fake(url)
    code, _, errors = _stop(process)
    assert (code, errors) == (0, "")


@pytest.fixture
def fake(running: Fake) -> Fake:
    assert running.control("DELETE", "scenario").json() == {"rules": [], "public_key": None}
    return running


def test_an_injected_error_arrives_as_cobos_envelope_at_its_status(fake: Fake) -> None:
    fake.put({"rules": [{"method": "POST", "path": WITHDRAW, "error": 12009}]})
    answer = requests.post(fake.url + WITHDRAW, data={"request_id": "w-1"}, timeout=5)
    assert answer.status_code == error_code(12009).default_status == 400
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body.pop("error_id"))
    assert body == {
        "success": False,
        "error_code": 12009,
        "error_message": "Duplicate withdraw request id",
        "error_description": "Duplicate withdraw request id",
    }


def test_a_sequence_answers_in_order_and_refuses_a_request_past_its_end(fake: Fake) -> None:
    fake.put({"rules": [{"path": COIN_INFO, "sequence": [1010, 503, {"succeed": {"coin": "BTC"}}]}]})
    answers = [requests.get(fake.url + COIN_INFO, timeout=5) for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 503, 200, 500]
    assert answers[0].json()["error_code"] == 1010
    assert answers[1].headers["Content-Type"] == "text/html"  # a gateway's page, no Cobo JSON
    assert answers[2].json() == {"success": True, "result": {"coin": "BTC"}}
    assert answers[3].json()["error_code"] == 1000
    assert answers[3].headers[UNANSWERED_HEADER] == "exhausted"


def test_a_scenarios_matchers_choose_the_rule_as_the_python_apis_do(fake: Fake) -> None:
    fake.put(
        {
            "rules": [
                {"method": "POST", "path": WITHDRAW, "json": {"request_id": "w-1"}, "succeed": {"id": 1}, "times": 1},
                {"method": "POST", "path": WITHDRAW, "json": {"request_id": "w-1"}, "error": 12009},
                {"path": COIN_INFO, "params": {"coin": "ETH"}, "request_headers": {"biz-api-key": "k"}, "gateway": 503},
                {"path": COIN_INFO, "succeed": {"coin": "BTC"}, "optional": True},
            ]
        }
    )
    first, replay = (requests.post(fake.url + WITHDRAW, json={"request_id": "w-1"}, timeout=5) for _ in range(2))
    other = requests.post(fake.url + WITHDRAW, json={"request_id": "w-2"}, timeout=5)
    eth = requests.get(fake.url + COIN_INFO, params={"coin": "ETH"}, headers={"Biz-Api-Key": "k"}, timeout=5)
    eth_unsigned = requests.get(fake.url + COIN_INFO, params={"coin": "ETH"}, timeout=5)
    assert [first.status_code, replay.status_code, eth.status_code, eth_unsigned.status_code] == [200, 400, 503, 200]
    assert replay.json()["error_code"] == 12009
    assert other.headers[UNANSWERED_HEADER] == "unmatched"
    assert "json: $.request_id is 'w-2', expected 'w-1'" in other.json()["error_message"]


def test_a_bad_matcher_in_a_scenario_names_its_rule(faults: CoboServer) -> None:
    with pytest.raises(ScenarioError, match=r"^rules\[0\]: params takes a dict of names to str values"):
        load_scenario(faults, {"rules": [{"params": ["coin"], "error": 12009}]})
    assert faults.book.rules == []


def test_a_delay_makes_the_clients_own_read_timeout_fire(fake: Fake) -> None:
    fake.put({"rules": [{"path": COIN_INFO, "succeed": {}, "delay": 1.5}]})
    started = time.perf_counter()
    with pytest.raises(requests.ReadTimeout):
        requests.get(fake.url + COIN_INFO, timeout=0.3)
    assert time.perf_counter() - started < 1.2


def test_a_reset_breaks_the_connection_under_the_client(fake: Fake) -> None:
    fake.put({"rules": [{"network": "connection_reset"}]})
    with pytest.raises(requests.ConnectionError):
        requests.get(fake.url + COIN_INFO, timeout=5)
    assert fake.calls()["calls"][0]["answer"] == {
        "kind": "network",
        "label": "connection reset",
        "status": None,
        "code": None,
        "network": "connection_reset",
    }


def test_calls_lists_each_request_the_rule_that_answered_and_its_answer(fake: Fake) -> None:
    fake.put({"rules": [{"method": "GET", "error": 12002}, {"method": "POST", "succeed": {"id": 1}}]})
    api_key = "02" + "ab" * 32
    requests.get(fake.url + COIN_INFO, params={"coin": "DOGE"}, headers={"Biz-Api-Key": api_key}, timeout=5)
    requests.post(fake.url + WITHDRAW, data={"coin": "BTC", "amount": "1"}, timeout=5)
    coin_info, withdraw = fake.calls()["calls"]
    assert {k: coin_info[k] for k in ("method", "url", "path", "query", "params", "form", "body", "rule")} == {
        "method": "GET",
        "url": f"{fake.url}{COIN_INFO}?coin=DOGE",
        "path": COIN_INFO,
        "query": "coin=DOGE",
        "params": {"coin": "DOGE"},
        "form": {},
        "body": "",
        "rule": 0,
    }
    assert coin_info["headers"]["Biz-Api-Key"] == mask("Biz-Api-Key", api_key)  # credentials never shown whole
    assert api_key not in json.dumps(coin_info)
    assert coin_info["answer"] == {
        "kind": "error",
        "label": "error 12002 (Coin not supported) as HTTP 400",
        "status": 400,
        "code": 12002,
    }
    assert (withdraw["method"], withdraw["form"], withdraw["body"]) == (
        "POST",
        {"coin": "BTC", "amount": "1"},
        "coin=BTC&amount=1",
    )
    assert (withdraw["rule"], withdraw["answer"]["kind"], withdraw["answer"]["status"]) == (1, "succeed", 200)


def test_a_toml_scenario_is_put_as_application_toml(fake: Fake) -> None:
    scenario = '[[rules]]\npath = "/v1/custody/*"\ngateway = 502\nbody = "empty"\n'
    answer = fake.control("PUT", "scenario", data=scenario, headers={"Content-Type": "application/toml"})
    assert answer.json() == {
        "rules": [
            f"cobo_server.inject: HTTP 502 gateway page (empty body) (every time), for any method /v1/custody/* on {fake.url}"
        ],
        "public_key": None,
    }
    gateway_page = requests.get(fake.url + COIN_INFO, timeout=5)
    assert (gateway_page.status_code, gateway_page.content) == (502, b"")


def test_a_bad_scenario_is_refused_with_400_and_the_one_before_stays(fake: Fake) -> None:
    fake.put({"rules": [{"error": 1006}]})
    refused = fake.control("PUT", "scenario", json={"rules": [{"error": 1006, "pathh": "/v1/*"}]})
    assert refused.status_code == 400
    assert refused.json() == {"error": f"rules[0].pathh: unknown key (did you mean path?); valid: {ERROR_KEYS}"}
    not_json = fake.control("PUT", "scenario", data="[[rules]]\nerror = 1006\n")  # TOML, sent without saying so
    assert not_json.status_code == 400
    assert not_json.json()["error"].startswith("the JSON body: not valid JSON: ")
    assert requests.get(fake.url + COIN_INFO, timeout=5).json()["error_code"] == 1006


def test_delete_forgets_the_rules_and_the_calls(fake: Fake) -> None:
    fake.put({"rules": [{"error": 1006}]})
    requests.get(fake.url + COIN_INFO, timeout=5)
    assert len(fake.calls()["calls"]) == 1
    assert fake.control("DELETE", "scenario").json() == {"rules": [], "public_key": None}
    assert fake.calls() == {"calls": [], "unmatched": []}
    unanswered = requests.get(fake.url + COIN_INFO, timeout=5)
    assert (unanswered.status_code, unanswered.headers[UNANSWERED_HEADER]) == (500, "unmatched")


def test_problems_lists_unused_rules_and_unanswered_requests(fake: Fake) -> None:
    fake.put(
        {
            "rules": [
                {"path": COIN_INFO, "succeed": {}},
                {"path": "/v1/custody/address_info/", "gateway": 503},
                {"path": "/v1/custody/address_history/", "error": 1011, "optional": True},
            ]
        }
    )
    requests.get(fake.url + COIN_INFO, timeout=5)
    requests.get(fake.url + "/v1/custody/unknown/", timeout=5)
    assert fake.control("GET", "problems").json() == {
        "problems": [
            f"request answered by no rule: GET {fake.url}/v1/custody/unknown/: no rule matches; "
            "declare e.g. cobo_server.succeed(path='/v1/custody/unknown/')",
            "cobo_server.inject: HTTP 503 gateway page (html body) (every time), for any method "
            f"/v1/custody/address_info/ on {fake.url} was never called (pass optional=True if that is fine)",
        ]
    }
    assert fake.calls()["unmatched"][0]["reason"].startswith("no rule matches")


def test_signed_answers_verify_with_the_public_half_of_the_scenarios_key(fake: Fake) -> None:
    described = fake.put({"sign": {"key": KEY}, "rules": [{"succeed": {"coin": "BTC"}}]})
    key = TestKey(KEY)
    assert described["public_key"] == key.public_key_hex
    answer = requests.get(fake.url + COIN_INFO, timeout=5)
    for timestamp, signature in (("BIZ_TIMESTAMP", "BIZ_RESP_SIGNATURE"), ("Biz-Timestamp", "Biz-Resp-Signature")):
        content = answer.content + b"|" + answer.headers[timestamp].encode()
        assert key.verify(content, answer.headers[signature])
    assert fake.control("GET", "scenario").json()["public_key"] == key.public_key_hex


@pytest.mark.parametrize(
    ("method", "name", "status", "message"),
    [
        ("GET", "nothing", 404, "no control endpoint GET /_cobo/nothing"),
        ("POST", "scenario", 405, "/_cobo/scenario takes GET, PUT, DELETE, not POST"),
    ],
)
def test_a_wrong_control_request_lists_the_endpoints(
    fake: Fake, method: str, name: str, status: int, message: str
) -> None:
    answer = fake.control(method, name)
    assert answer.status_code == status
    assert answer.json() == {
        "error": message,
        "endpoints": [
            "GET /_cobo/health",
            "GET /_cobo/scenario",
            "PUT /_cobo/scenario",
            "DELETE /_cobo/scenario",
            "GET /_cobo/calls",
            "GET /_cobo/problems",
        ],
    }


def test_health_answers_once_serving(fake: Fake) -> None:
    answer = fake.control("GET", "health")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok", "url": fake.url})


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_command_serves_its_scenario_file_until_signalled(tmp_path: Any, how: signal.Signals) -> None:
    scenario = tmp_path / "faults.toml"
    scenario.write_text(f'[[rules]]\nmethod = "POST"\npath = "{WITHDRAW}"\nerror = 12009\n')
    process, url = _start("--scenario", str(scenario))
    assert requests.post(url + WITHDRAW, timeout=5).json()["error_code"] == 12009
    started = time.perf_counter()
    code, out, errors = _stop(process, how)
    assert (code, out) == (0, "")  # one line on stdout, its address; nothing more
    assert time.perf_counter() - started < 2
    assert errors.splitlines() == [
        f"cobo-fault-server: 1 rule(s) from {scenario}:",
        f"  rules[0]: cobo_server.inject: error 12009 (Duplicate withdraw request id) as HTTP 400 (every time), for POST {WITHDRAW} on {url}",
    ]


def _refused(*args: str, command: list[str] = COMMAND) -> tuple[int, str, str]:
    done = subprocess.run([*command, *args], check=False, capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout, done.stderr


def test_a_bad_scenario_file_exits_2_with_one_line_naming_it(tmp_path: Any) -> None:
    scenario = tmp_path / "faults.toml"
    scenario.write_text('[[rules]]\nerror = 12009\npathh = "/v1/*"\n')
    assert _refused("--scenario", str(scenario)) == (
        2,
        "",
        f"cobo-fault-server: {scenario}: rules[0].pathh: unknown key (did you mean path?); valid: {ERROR_KEYS}\n",
    )


def test_a_busy_port_is_named_in_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, out, errors = _refused("--port", str(port))
    assert (code, out) == (2, "")
    assert errors == (
        f"cobo-fault-server: cannot listen on 127.0.0.1:{port}: Address already in use; is another server on port "
        f"{port}? Stop it, or choose another --port (0 picks a free one)\n"
    )


def test_a_host_off_this_machine_is_refused() -> None:
    assert _refused("--host", "0.0.0.0") == (
        2,
        "",
        "cobo-fault-server: --host must be a loopback address such as 127.0.0.1, ::1 or localhost "
        "(the fake Cobo serves this machine only), got '0.0.0.0'\n",
    )


def test_without_the_server_extra_it_says_what_to_install() -> None:
    hidden = "import sys; sys.modules['pytest_httpserver'] = None; from pytest_cobo_errors.cli import main; sys.exit(main([]))"
    assert _refused(command=[sys.executable, "-c", hidden]) == (
        2,
        "",
        "cobo-fault-server: the standalone server needs pytest-httpserver: pip install 'pytest-cobo-errors[server]'\n",
    )


def test_the_command_is_installed_as_cobo_fault_server() -> None:
    (script,) = entry_points(group="console_scripts", name="cobo-fault-server")
    assert script.value == "pytest_cobo_errors.cli:main"
