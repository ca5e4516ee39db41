"""The README's complete examples run, exactly as written, so the documentation stays true."""

from __future__ import annotations

import re
from pathlib import Path

import hypothesis  # noqa: F401  # imported once here, not again by every pytester run's Hypothesis plugin
import pytest

README = Path(__file__).parents[1] / "README.md"
_BLOCK = re.compile(r"<!-- tested(?P<continues>: continues)? -->\n```python\n(?P<code>.*?)```", re.S)


def _examples() -> list[str]:
    examples: list[str] = []
    for match in _BLOCK.finditer(README.read_text(encoding="utf-8")):
        if match["continues"]:
            examples[-1] += "\n\n" + match["code"]
        else:
            examples.append(match["code"])
    return examples


def test_the_readme_marks_its_complete_examples() -> None:
    # the first test, a shared module block, Hypothesis, the official SDK, the server, and the
    # "Coming from" test written with respx, pytest-httpx, responses and cobo_fault
    assert len(_examples()) == 9


_IDS = [
    "first-test",
    "shared-module-block",
    "hypothesis",
    "official-sdk",
    "any-client",
    "coming-from-respx",
    "coming-from-pytest-httpx",
    "coming-from-responses",
    "coming-from-cobo-fault",
]


@pytest.mark.parametrize("code", _examples(), ids=_IDS)
def test_a_readme_example_passes(pytester: pytest.Pytester, code: str) -> None:
    if "cobo_custody" in code:
        pytest.importorskip("cobo_custody")
    if "cobo_server" in code:
        pytest.importorskip("pytest_httpserver")
    if "httpx_mock" in code:
        pytest.importorskip("pytest_httpx")  # the bench extra's, not the test extra's
    if "import responses" in code:
        pytest.importorskip("responses")
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest("-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1
    assert not {"failed", "errors", "error", "skipped"} & set(outcomes), result.stdout.str()


def test_the_readmes_scenario_file_declares_what_it_says() -> None:
    pytest.importorskip("pytest_httpserver")
    from pytest_cobo_errors import CoboServer
    from pytest_cobo_errors.scenario import load_scenario, parse_scenario
    from pytest_cobo_errors.transports.loopback import LoopbackServer

    (toml,) = re.findall(r"```toml\n(# faults\.toml.*?)```", README.read_text(encoding="utf-8"), re.S)
    rules = load_scenario(CoboServer(server=LoopbackServer()), parse_scenario(toml, "toml"))
    assert [rule.kind for rule in rules] == ["inject", "sequence", "inject"]
    assert rules[0].form == (("request_id", "w-1"),)
    assert rules[2].delay == 1.5
