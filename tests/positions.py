"""Helpers for the framework-language tests: where a fragment stands in a text, and what was found there."""

from __future__ import annotations

from pathlib import Path

from scoring.framework.load import validate_path
from scoring.problems import Problem

HEADER = 'id: t\nname: 测试\nversion: "1"\n'


def line_col(text: str, marker: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and character column where ``marker`` starts (its ``occurrence``-th time)."""
    start = -1
    for _ in range(occurrence):
        start = text.index(marker, start + 1)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, column


def at(code: str, text: str, marker: str, occurrence: int = 1, shift: int = 0) -> tuple[str, int, int]:
    """(code, line, column) of a problem expected at ``marker`` (plus ``shift`` characters)."""
    line, column = line_col(text, marker, occurrence)
    return code, line, column + shift


def located(problems: list[Problem]) -> set[tuple[str, int | None, int | None]]:
    return {(p.code, p.line, p.column) for p in problems}


def by_code(problems: list[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, (code, [(p.code, p.line, p.column) for p in problems])
    return found[0]


def problems_in(directory: Path, text: str, name: str = "f.yaml") -> list[Problem]:
    """Write ``text`` to ``directory/name`` and return every problem ``scoring validate`` would report."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    _, problems = validate_path(path)
    assert all(p.file == str(path) for p in problems), [(p.code, p.file) for p in problems]
    return problems
