"""Shared machinery for the benchmarks (not a benchmark itself).

Each benchmark writes a generated suite into a temporary directory and compares *variants*:
the same suite run by ``python -m pytest`` with different code and plugins. Variants run
interleaved (A B C A B C ...) after one unrecorded warm-up round, so drift on a busy machine
spreads evenly over all of them, and the median of the rounds is reported.

Every run is timed twice: the wall-clock time of the whole subprocess (what a user waits for),
and, from a tiny plugin loaded into it, the time of the phase the benchmark is about (the
test run, or collection), which leaves out interpreter start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TIMER_PLUGIN = """
import json, os, time

import pytest

_marks = {"start": time.perf_counter()}
_calls = []


def pytest_configure(config):
    _marks["configured"] = time.perf_counter()


def pytest_collection(session):
    _marks["collect_start"] = time.perf_counter()


def pytest_collection_finish(session):
    _marks["collect_end"] = time.perf_counter()
    _marks["items"] = len(session.items)


def pytest_runtest_logstart(nodeid, location):
    _marks.setdefault("run_start", time.perf_counter())
    _marks.setdefault("run_start_cpu", time.process_time())


_MEMORY_AT = int(os.environ.get("BENCH_MEMORY_AT", "0"))  # bench_memory: sample after this many tests
_finished = [0]


def _memory(prefix):
    import gc, sys

    gc.collect()
    _marks[prefix + "_blocks"] = sys.getallocatedblocks()
    _marks[prefix + "_objects"] = len(gc.get_objects())
    _marks[prefix + "_tests"] = _finished[0]


def pytest_runtest_logfinish(nodeid, location):
    _marks["run_end"] = time.perf_counter()
    _marks["run_end_cpu"] = time.process_time()
    _finished[0] += 1
    if _finished[0] == _MEMORY_AT:
        _memory("early")


def pytest_sessionfinish(session):
    if _MEMORY_AT:
        _memory("late")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    finally:
        # a test that counts what it did (Hypothesis examples) keeps the count in a module global
        _marks["examples"] = _marks.get("examples", 0) + getattr(item.module, "EXAMPLES", 0)


def pytest_runtest_logreport(report):
    if report.when == "call":
        _calls.append(report.duration)
    if report.failed:
        _marks["failed"] = _marks.get("failed", 0) + 1


def pytest_unconfigure(config):
    _marks["cpu"] = time.process_time()  # the whole process's CPU time, start-up included
    out = os.environ.get("BENCH_TIMER_OUT")
    if out:
        with open(out, "w") as f:
            json.dump({"marks": _marks, "calls": _calls}, f)
"""

# Plugins a variant can switch off, by their pytest11 entry-point names.
COBO = "cobo_errors"
PYTEST_HTTPX = "pytest_httpx"


@dataclass(frozen=True)
class Variant:
    """One way of running the suite: its label, extra pytest arguments, plugins it disables."""

    label: str
    args: tuple[str, ...]
    disable: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def command(self) -> list[str]:
        disabled = [arg for name in self.disable for arg in ("-p", f"no:{name}")]
        return [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "_bench_timer",
            *disabled,
            *self.args,
        ]


@dataclass
class Sample:
    wall: float
    marks: dict[str, float]
    calls: list[float]

    def phase(self, start: str, end: str) -> float:
        return self.marks[end] - self.marks[start]


@dataclass
class Measured:
    variant: Variant
    samples: list[Sample] = field(default_factory=list)

    def median(self, what: str) -> float:
        return statistics.median(self.value(s, what) for s in self.samples)

    def minimum(self, what: str) -> float:
        return min(self.value(s, what) for s in self.samples)

    def paired_ratio(self, base: Measured, what: str) -> float:
        """The median over rounds of this variant's figure over the baseline's in the same round.

        Runs of one round are adjacent in time, so each ratio compares like with like even when
        the machine's load drifts between rounds.
        """
        return statistics.median(
            self.value(a, what) / self.value(b, what) for a, b in zip(self.samples, base.samples, strict=True)
        )

    @staticmethod
    def value(sample: Sample, what: str) -> float:
        if what == "wall":
            return sample.wall
        if what == "run":
            return sample.phase("run_start", "run_end")
        if what == "run_cpu":  # CPU time: what another process on a shared machine takes is not counted
            return sample.phase("run_start_cpu", "run_end_cpu")
        if what == "cpu":
            return float(sample.marks["cpu"])
        if what in ("blocks", "objects"):  # retained per test between the early and the late sample
            m = sample.marks
            return (m[f"late_{what}"] - m[f"early_{what}"]) / (m["late_tests"] - m["early_tests"])
        if what == "collect":
            return sample.phase("collect_start", "collect_end")
        if what == "calls":
            return sum(sample.calls)
        if what == "rate":
            return sample.marks["examples"] / sum(sample.calls)
        raise ValueError(what)


class Workspace:
    """A temporary directory holding a generated suite, the timer plugin and a bytecode cache.

    Bytecode (including pytest's rewritten test modules) goes to a private cache, as it would
    on a developer machine, even where the environment sets PYTHONDONTWRITEBYTECODE; the
    warm-up round fills it, and nothing is written into the project or the virtualenv.
    """

    def __init__(self, name: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"cobo-bench-{name}-")
        self.path = Path(self._tmp.name)
        (self.path / "suite").mkdir()
        (self.path / "plugins").mkdir()
        (self.path / "plugins" / "_bench_timer.py").write_text(TIMER_PLUGIN)
        (self.path / "suite" / "pytest.ini").write_text("[pytest]\n")  # pins rootdir: no project config applies

    def write(self, files: Mapping[str, str]) -> None:
        for name, text in files.items():
            target = self.path / "suite" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def env(self, variant: Variant) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.path / "plugins"), os.environ.get("PYTHONPATH")]))
        env["PYTHONPYCACHEPREFIX"] = str(self.path / "pycache")
        env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # the installed plugins are what is measured
        env.update(variant.env)
        return env

    def run(self, variant: Variant, *, timeout: float = 300) -> Sample:
        out = self.path / "timer.json"
        out.unlink(missing_ok=True)
        env = self.env(variant)
        env["BENCH_TIMER_OUT"] = str(out)
        start = time.perf_counter()
        proc = subprocess.run(
            variant.command(),
            cwd=self.path / "suite",
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(
                f"{variant.label}: pytest exited {proc.returncode}\n$ {' '.join(variant.command())}\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        data = json.loads(out.read_text())
        if data["marks"].get("failed"):
            raise RuntimeError(f"{variant.label}: {data['marks']['failed']} test(s) failed\n{proc.stdout[-3000:]}")
        return Sample(wall, data["marks"], data["calls"])

    def close(self) -> None:
        self._tmp.cleanup()


def interleave(workspace: Workspace, variants: Sequence[Variant], rounds: int, *, log: bool = True) -> list[Measured]:
    """Run every variant once to warm up, then *rounds* times, interleaved: A B C A B C ..."""
    for variant in variants:
        workspace.run(variant)
    measured = [Measured(v) for v in variants]
    for r in range(rounds):
        for m in measured:
            m.samples.append(workspace.run(m.variant))
        if log:
            print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return measured


@dataclass(frozen=True)
class Row:
    """One printed line: a variant's figure, and its ratio to the baseline."""

    benchmark: str
    variant: str
    figure: str
    ratio: float | None
    target: str = ""
    verdict: str = ""
    min_ratio: float | None = None


def ratio_row(
    benchmark: str,
    m: Measured,
    base: Measured,
    what: str,
    *,
    unit: str,
    scale: float = 1.0,
    target: float | None = None,
    higher_is_better: bool = False,
) -> Row:
    value = m.median(what)
    ratio = m.paired_ratio(base, what)
    best = max if higher_is_better else min
    best_ratio = best(m.value(s, what) for s in m.samples) / best(base.value(s, what) for s in base.samples)
    figure = f"{value * scale:,.2f} {unit}"
    if target is None or m is base:
        return Row(benchmark, m.variant.label, figure, ratio, min_ratio=best_ratio)
    ok = ratio >= target if higher_is_better else ratio <= target
    sign = ">=" if higher_is_better else "<="
    verdict = "ok" if ok else "MISSED"
    return Row(benchmark, m.variant.label, figure, ratio, f"{sign} {target:.2f}x", verdict, best_ratio)


def print_table(rows: Iterable[Row]) -> None:
    rows = list(rows)
    headers = ("benchmark", "variant", "median", "ratio", "best/best", "target", "verdict")
    cells = [
        (
            r.benchmark,
            r.variant,
            r.figure,
            "" if r.ratio is None else f"{r.ratio:.3f}x",
            "" if r.min_ratio is None else f"{r.min_ratio:.3f}x",
            r.target,
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) + " |")


def main(doc: str, run: Callable[[int], Iterable[Row]], *, rounds: int = 5) -> int:
    """The command line every ``bench_*.py`` shares: ``--rounds N``, then the table."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    args = parser.parse_args()
    print_table(run(args.rounds))
    return 0
