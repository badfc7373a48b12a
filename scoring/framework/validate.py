"""Validating framework files and folders, as ``scoring validate`` and CI do."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..problems import Problem, Report
from .load import validate_path
from .source import DEFAULT_LIMITS, Limits


def framework_paths(paths: Iterable[str | Path]) -> tuple[list[Path | str], list[Problem]]:
    """Expand folders to the YAML files inside; names that are neither files nor folders stay (shipped ids)."""
    out: list[Path | str] = []
    missing: list[Problem] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")])
            out.extend(f for f in found if not any(part.startswith(".") for part in f.parts))
        elif p.is_file():
            out.append(p)
        else:
            out.append(str(raw))
    return out, missing


def validate(paths: Iterable[str | Path], *, limits: Limits = DEFAULT_LIMITS) -> tuple[Report, int]:
    """All problems of every framework under ``paths``; the number of frameworks checked."""
    report = Report()
    files, problems = framework_paths(paths)
    report.extend(problems)
    for f in files:
        _, found = validate_path(f, limits=limits)
        report.extend(found)
    return report, len(files)
