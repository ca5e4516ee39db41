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
    assert len(_examples()) == 5  # the first test, a shared module block, the server, Hypothesis, the official SDK


@pytest.mark.parametrize(
    "code", _examples(), ids=["first-test", "shared-module-block", "any-client", "hypothesis", "official-sdk"]
)
def test_a_readme_example_passes(pytester: pytest.Pytester, code: str) -> None:
    if "cobo_custody" in code:
        pytest.importorskip("cobo_custody")
    if "cobo_server" in code:
        pytest.importorskip("pytest_httpserver")
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest("-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1
    assert not {"failed", "errors", "error", "skipped"} & set(outcomes), result.stdout.str()
