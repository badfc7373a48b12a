"""Batch scoring: a folder of submissions → a report per unit, a district summary, and an exact list of failures.

One bad file never stops the batch: every file's outcome is either a scored row or a failure with its reasons.
Work is spread over processes (each compiles the plan once); at most a few files are in flight at a time and only
a small row per unit is kept, so memory does not grow with the number of files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.plan import Plan, compile_plan
from ..engine.rows import FailureRow, UnitRow
from ..engine.score import Options, score, split
from ..framework.model import Framework
from ..io.files import atomic_write
from ..io.read import read_submission
from ..io.workbook import WORKBOOK_SUFFIXES
from ..problems import ScoringError
from ..report.explain import explanation_lines
from ..report.markdown import markdown

SUBMISSION_SUFFIXES = (*WORKBOOK_SUFFIXES, ".json", ".yaml", ".yml")
FORMATS = ("json", "xlsx", "md")
SUMMARY_NAME = "汇总.xlsx"
DEFAULT_OPTIONS = Options()


@dataclass
class FileOutcome:
    file: str
    rows: list[UnitRow] = field(default_factory=list)  # one per evaluated unit (a 九年一贯制 row gives two)
    failure: FailureRow | None = None
    outputs: list[str] = field(default_factory=list)
    explained: list[list[str]] = field(default_factory=list)  # per row: the lines of the indicators asked for

    @property
    def row(self) -> UnitRow | None:
        return self.rows[0] if self.rows else None


@dataclass
class BatchResult:
    rows: list[UnitRow] = field(default_factory=list)
    failures: list[FailureRow] = field(default_factory=list)
    summary: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def expand(paths: Iterable[str | Path], exclude: Path | None = None) -> list[Path]:
    """Submission files named or found (recursively) in folders; Office lock files and hidden files skipped."""
    out: list[Path] = []
    skip = exclude.resolve() if exclude else None
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file() or f.suffix.lower() not in SUBMISSION_SUFFIXES:
                    continue
                if f.name.startswith(("~$", ".")) or any(
                    part.startswith(".") for part in f.relative_to(p).parts
                ):
                    continue
                if skip and skip in f.resolve().parents:
                    continue
                out.append(f)
        else:
            out.append(p)
    return out


def output_stems(files: list[Path]) -> list[str]:
    """A distinct output name per file: its stem, with -2, -3 … where two folders hold the same name."""
    seen: dict[str, int] = {}
    out = []
    for f in files:
        stem = f.name.rsplit(".", 1)[0]
        n = seen.get(stem, 0) + 1
        seen[stem] = n
        out.append(stem if n == 1 else f"{stem}-{n}")
    return out


def score_file(
    plan: Plan,
    path: Path,
    outdir: Path | None,
    stem: str,
    formats: tuple[str, ...],
    options: Options = DEFAULT_OPTIONS,
    explain: tuple[str, ...] = (),
) -> FileOutcome:
    """Read, score and write one file; user mistakes become a failure row, never an exception.

    ``explain``: indicator codes whose arithmetic the outcome carries (the plan has them), written while the
    result is at hand rather than by scoring the file again."""
    file = str(path)
    try:
        units = split(plan, read_submission(path, plan=plan))
        results = [score(plan, unit, options) for unit in units]
    except ScoringError as err:
        return FileOutcome(file, failure=FailureRow(file, [p.format("zh") for p in err.problems]))
    except Exception as exc:
        return FileOutcome(
            file,
            failure=FailureRow(file, [f"{file}: 内部错误，无法处理此文件（{type(exc).__name__}: {exc}）"]),
        )
    if not results:
        return FileOutcome(
            file, failure=FailureRow(file, [f"{file}: 没有需要评估的单位（如不足 50 人的教学点）"])
        )
    outputs: list[str] = []
    for result in results:
        name = stem if len(results) == 1 else f"{stem}-{result.unit.type}"
        if outdir is not None:
            if "json" in formats:
                outputs.append(str(atomic_write(outdir / f"{name}.result.json", result.to_json())))
            if "md" in formats:
                outputs.append(str(atomic_write(outdir / f"{name}.report.md", markdown(result))))
            if "xlsx" in formats:
                from ..report.unit_xlsx import write_unit_report

                outputs.append(str(write_unit_report(result, outdir / f"{name}.report.xlsx")))
    explained = [[line for code in explain for line in explanation_lines(r, code)] for r in results]
    return FileOutcome(
        file, [UnitRow.of(file, r) for r in results], None, outputs, explained if explain else []
    )


_WORKER_PLAN: Plan | None = None


def _init_worker(framework: Framework) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = compile_plan(framework)


def _work(
    path: str,
    outdir: str | None,
    stem: str,
    formats: tuple[str, ...],
    options: Options,
    explain: tuple[str, ...],
) -> FileOutcome:
    assert _WORKER_PLAN is not None
    out = Path(outdir) if outdir else None
    return score_file(_WORKER_PLAN, Path(path), out, stem, formats, options, explain)


def _parallel(
    framework: Framework,
    jobs: list[tuple[Path, str]],
    outdir: Path | None,
    formats: tuple[str, ...],
    options: Options,
    workers: int,
    explain: tuple[str, ...],
) -> Iterator[FileOutcome]:
    window = workers * 4  # bounded in-flight work keeps memory flat
    todo = iter(jobs)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(framework,)) as pool:
        running: set[Future[Any]] = set()

        def submit() -> bool:
            job = next(todo, None)
            if job is None:
                return False
            running.add(
                pool.submit(
                    _work, str(job[0]), str(outdir) if outdir else None, job[1], formats, options, explain
                )
            )
            return True

        while len(running) < window and submit():
            pass
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                running.discard(fut)
                yield fut.result()
                submit()


def score_batch(
    framework: Framework,
    paths: Iterable[str | Path],
    outdir: str | Path | None = None,
    *,
    formats: Iterable[str] = FORMATS,
    workers: int | None = None,
    options: Options = DEFAULT_OPTIONS,
    on_file: Callable[[FileOutcome], None] | None = None,
    explain: Iterable[str] = (),
) -> BatchResult:
    """Score every submission under ``paths``; write per-unit reports and the summary workbook into ``outdir``."""
    fmts = tuple(formats)
    codes = tuple(explain)
    out = Path(outdir) if outdir is not None else None
    files = expand(paths, exclude=out)
    jobs = list(zip(files, output_stems(files), strict=True))
    n = workers if workers is not None else min(os.cpu_count() or 1, 2)
    batch = BatchResult()
    if n <= 1 or len(jobs) <= 1:
        plan = compile_plan(framework)
        outcomes: Iterable[FileOutcome] = (
            score_file(plan, f, out, stem, fmts, options, codes) for f, stem in jobs
        )
    else:
        outcomes = _parallel(framework, jobs, out, fmts, options, n, codes)
    order = {str(f): i for i, (f, _) in enumerate(jobs)}
    for outcome in outcomes:
        batch.rows.extend(outcome.rows)
        if outcome.failure is not None:
            batch.failures.append(outcome.failure)
        if on_file:
            on_file(outcome)
    batch.rows.sort(key=lambda r: order.get(r.file, 0))
    batch.failures.sort(key=lambda r: order.get(r.file, 0))
    if out is not None and "xlsx" in fmts:
        from ..report.summary_xlsx import write_batch_summary

        batch.summary = write_batch_summary(
            batch.rows,
            batch.failures,
            out / SUMMARY_NAME,
            framework_name=framework.name,
            precision=framework.settings.precision,
        )
    return batch
