"""The plugin's options, read once from the command line and ini file, validated as usage errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

from pytest_cobo_errors.transports import TRANSPORTS, available, parse_transports

if TYPE_CHECKING:
    from pytest_cobo_errors.hosts import BaseUrl
    from pytest_cobo_errors.selection import CodeFilter

__all__ = ["OPTIONS", "Settings", "add_options", "read_settings"]

# (flag, ini name, ini type, metavar, help); the ini twin is used when the flag is absent.
IniType = Literal["string", "linelist", "bool"]
OPTIONS: tuple[tuple[str, str, IniType, str, str], ...] = (
    ("--cobo-base-url", "cobo_base_url", "linelist", "URL",
     "base URL(s) cobo_fault rules answer for by default (repeatable); default: the Cobo hosts"),
    ("--cobo-transports", "cobo_transports", "string", "NAMES",
     "HTTP libraries to intercept: 'auto' (every installed one), 'httpx', 'requests' or 'httpx,requests'"),
    ("--cobo-codes", "cobo_codes", "string", "PATTERNS",
     "run only the @cobo_error_cases cases matching PATTERNS, e.g. '12xxx', '1000-1011', '!1070', 'http:429'"),
    ("--cobo-coverage", "cobo_coverage", "bool", "",
     "report which documented codes and statuses the tests exercised (-v: and by which tests); "
     "answers given inside Hypothesis tests are not counted, so the figure is the same for every seed"),
    ("--cobo-coverage-fail-under", "cobo_coverage_fail_under", "string", "PERCENT",
     "fail the run if fewer than PERCENT of documented codes and statuses were exercised"),
    ("--cobo-coverage-json", "cobo_coverage_json", "string", "PATH",
     "also write the coverage report as JSON to PATH, for CI dashboards (in the ini file: relative to it)"),
    ("--cobo-live", "cobo_live", "bool", "",
     "run the tests marked @pytest.mark.cobo_live, letting them reach Cobo's development host (off by default)"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    base_urls: tuple[BaseUrl, ...] | None
    transports: tuple[str, ...]
    codes: CodeFilter | None
    coverage: bool
    fail_under: float | None
    live: bool = False
    coverage_json: Path | None = None


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("cobo", "Cobo error testing (pytest-cobo-errors)")
    for flag, ini, kind, metavar, text in OPTIONS:
        if kind == "bool":
            group.addoption(flag, action="store_true", default=None, dest=ini, help=text)
        else:
            action = "append" if kind == "linelist" else "store"
            group.addoption(flag, action=action, default=None, dest=ini, metavar=metavar, help=text)
        parser.addini(ini, help=text, type=kind, default=None if kind != "bool" else False)
        if flag == "--cobo-coverage":
            group.addoption(
                "--no-cobo-coverage",
                action="store_false",
                dest=ini,
                help="no coverage report, threshold or JSON this run, whatever the ini file or an earlier "
                "--cobo-coverage asks (the last of --cobo-coverage and --no-cobo-coverage wins)",
            )


# ASCII digits only, no exponent, no underscores: float() alone would take '５０', '1_0' and '1e1'
# (a string, compiled on first use: this module loads into every pytest run)
_PERCENT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*%?"


def _left_out(name: str) -> str:
    """What leaving option *name* out does, and what to give instead."""
    return {
        "cobo_base_url": "leave the option out for the Cobo hosts, or give a base URL such as https://api.dev.cobo.com",
        "cobo_transports": "leave the option out (or give 'auto') for every installed library, or name them: "
        + ", ".join(available() or TRANSPORTS),
        "cobo_codes": "leave the option out (or give '*') to run every case, or give patterns such as 12xxx or !1070",
        "cobo_coverage_fail_under": "leave the option out for no minimum, or give a percentage such as 80",
        "cobo_coverage_json": "leave the option out for no JSON report, or give a file path such as coverage.json",
    }[name]


def _value(config: pytest.Config, name: str) -> object:
    given = config.getoption(name)
    flag = next(flag for flag, ini, *_ in OPTIONS if ini == name)
    if given is None:
        try:
            # an empty ini value (`cobo_codes =`) is unset, as a blank `addopts =` is for pytest
            return config.getini(name)
        except (ValueError, pytest.UsageError) as exc:
            # a bool that is not one: pytest 8 raises ValueError (an INTERNALERROR), 9 a UsageError naming no option
            raise pytest.UsageError(
                f"{flag} / {name}: {exc}; valid: true or false (also yes/no, on/off, 1/0)"
            ) from None
    # an empty command-line value is refused: it reads as "none", so silently meaning "all" misleads
    if any(isinstance(value, str) and not value.strip() for value in (given if isinstance(given, list) else [given])):
        raise pytest.UsageError(f"{flag} / {name}: given empty on the command line; {_left_out(name)}")
    return given


def read_settings(config: pytest.Config) -> Settings:
    """Validate every option now, so a bad value is a usage error (exit 4), not a traceback."""
    # hosts and selection are imported only when their option is used: every pytest run loads this
    raw_bases = _value(config, "cobo_base_url") or []
    bases = None
    if raw_bases:
        from pytest_cobo_errors.hosts import parse_base_url

        try:
            bases = tuple(parse_base_url(b) for b in raw_bases)  # type: ignore[attr-defined]
        except (TypeError, ValueError) as exc:
            raise pytest.UsageError(f"--cobo-base-url / cobo_base_url: {exc}") from None
    try:
        transports = parse_transports(_value(config, "cobo_transports") or "auto")
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"--cobo-transports / cobo_transports: {exc}") from None
    codes_text = _value(config, "cobo_codes")
    codes = None
    if codes_text:
        from pytest_cobo_errors.selection import PatternError, parse_filter

        try:
            codes = parse_filter(str(codes_text))
        except (PatternError, TypeError) as exc:
            raise pytest.UsageError(f"--cobo-codes / cobo_codes: {exc}") from None
    fail_under_text = _value(config, "cobo_coverage_fail_under")
    fail_under = None
    if fail_under_text not in (None, ""):
        text = str(fail_under_text).strip()
        # + 0.0: '-0' is 0, not a -0.0 that reports as "required: -0%"
        fail_under = float(text.rstrip("%")) + 0.0 if re.fullmatch(_PERCENT, text) else -1.0
        if not 0 <= fail_under <= 100:
            from pytest_cobo_errors.selection import shown

            raise pytest.UsageError(
                f"--cobo-coverage-fail-under / cobo_coverage_fail_under: expected a percentage from 0 to 100, "
                f"got {shown(str(fail_under_text))}"
            )
    coverage_json = _json_path(config)
    if config.getoption("cobo_coverage") is False:  # --no-cobo-coverage (last on the line): everything off
        fail_under = coverage_json = None
    coverage = bool(_value(config, "cobo_coverage")) or fail_under is not None or coverage_json is not None
    live = bool(_value(config, "cobo_live"))
    return Settings(bases, transports, codes, coverage, fail_under, live=live, coverage_json=coverage_json)


def _json_path(config: pytest.Config) -> Path | None:
    """--cobo-coverage-json: relative to the current directory; cobo_coverage_json: to the ini file."""
    text = _value(config, "cobo_coverage_json")
    if text in (None, ""):
        return None
    from_ini = config.getoption("cobo_coverage_json") is None
    base = (config.inipath.parent if config.inipath else config.rootpath) if from_ini else config.invocation_params.dir
    raw = str(text).strip()
    path = base / raw.replace("\x00", "")
    problem = ""
    try:
        parent = next((p for p in path.parents if p.exists()), None)
        if "\x00" in raw:
            problem = "a path cannot hold a NUL character"
        elif path.is_dir() or raw.endswith(("/", "\\")):
            problem = "is a directory; give a file path such as coverage.json"
        elif parent is not None and not parent.is_dir():
            problem = f"{parent} is a file, not a directory"
    except OSError as exc:  # a name too long, a directory that cannot be read
        problem = exc.strerror or str(exc)
    if problem:
        from pytest_cobo_errors.selection import shown

        raise pytest.UsageError(f"--cobo-coverage-json / cobo_coverage_json: {shown(raw)}: {problem}")
    return path
