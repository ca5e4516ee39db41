"""The README's WaaS 2.0 example runs, exactly as written, against the real SDK."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_waas2_example_passes(pytester: pytest.Pytester) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**The `cobo-waas2` SDK** sends with urllib3") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the WaaS 2.0 section lost its example"
    pytester.makepyfile(test_readme_waas2=match[1])
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
