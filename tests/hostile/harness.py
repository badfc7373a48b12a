"""The hostile-input suite's harness: run the real ``scoring`` command on a bad input, in its own process, and
hold it to the promises every case shares (README "What happens with bad input"):

* the exit code is the documented one (0 clean, 1 findings or refused files, 2 usage or I/O);
* no traceback and no "内部错误" reaches the user; the message names the place (file, and sheet and cell, row, or
  YAML line and column) and says what was expected;
* nothing outside the output folder changes, and no input is modified;
* the case ends within its time bound.

A case builds its inputs under ``tmp_path`` (the fixture ``case``), runs ``case.run(*args)`` and then asserts on
what it is about; ``case.run`` has already checked the shared promises.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..conftest import ROOT

TRACEBACK_MARKERS = ("Traceback (most recent call last)", "内部错误", "Error:\n  File ")
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@dataclass
class Ran:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def text(self) -> str:
        return self.out + self.err


def _snapshot(root: Path, skip: Path | None) -> dict[str, str]:
    """Every file under ``root`` (but ``skip``) with the hash of its bytes."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not (skip is not None and (p == skip or skip in p.parents)):
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@dataclass
class Case:
    """One hostile case: its folder (inputs and, under ``out``, outputs) and a runner of the command."""

    root: Path
    out: Path = field(init=False)

    def __post_init__(self) -> None:
        self.out = self.root / "out"

    def file(self, name: str, content: str | bytes) -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return p

    def run(self, *args: str | Path, expect: int, timeout: float = 30.0, lang: str | None = None) -> Ran:
        """Run ``scoring ARGS`` (in the case's folder) and check the promises every case shares."""
        before = _snapshot(self.root, self.out)
        argv = [str(a) for a in args] + (["--lang", lang] if lang else [])
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-c", "from scoring.cli import main; main()", *argv],
                cwd=self.root,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"scoring {' '.join(argv)} ran past {timeout} s")
        ran = Ran(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)
        shown = f"scoring {' '.join(argv)} → exit {ran.code}\n{ran.text[-3000:]}"
        assert not any(m in ran.text for m in TRACEBACK_MARKERS), shown
        assert ran.code == expect, shown
        assert _snapshot(self.root, self.out) == before, (
            "an input or a file outside the output folder changed"
        )
        return ran


@pytest.fixture
def case(tmp_path: Path) -> Case:
    return Case(tmp_path)
