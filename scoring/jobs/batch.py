"""Batch scoring: a folder of submissions → a report per unit, a district summary, and an exact list of failures.

One bad file never stops the batch: every file's outcome is either a scored row or a failure with its reasons.
Work is spread over processes (each compiles the plan once) or, given an :class:`Executor` (``jobs.cluster``),
over a cluster; at most a few files are in flight at a time and only a small row per unit is kept, so memory does
not grow with the number of files.

Before any work the output folder is made, checked and held for the run (``io.files.FolderLock``). A run into a
folder holding results of an earlier one resumes it (``jobs.resume``): an input whose record says its outputs are
whole for the same bytes, framework and options is not scored again (unless ``force``), and the summary is rebuilt
from every input's rows. Every unit's reports get a name unique in the batch (:func:`output_stems`); files of the
folders that are not submissions are listed (``skipped``), and a unit found in more than one file is listed
(``duplicates``) and ranked once.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any, Protocol

from ..engine.plan import Plan, compile_plan
from ..engine.result import Result
from ..engine.rows import Duplicate, FailureRow, SkippedFile, UnitRow, duplicate_groups
from ..engine.score import Options, score, split
from ..engine.submission import Submission
from ..framework.model import Framework
from ..io.files import (
    FolderLock,
    LockInfo,
    OutputError,
    atomic_write,
    make_durable,
    os_reason,
    output_folder,
    unsynced,
)
from ..io.read import read_submission
from ..io.workbook import WORKBOOK_SUFFIXES
from ..problems import Problem, ScoringError
from ..report.explain import explanation_lines
from ..report.issuer import Issuer
from ..report.markdown import markdown
from .resume import Key, Record, all_records, file_digest, forget, options_key, sweep, write_record

SUBMISSION_SUFFIXES = (*WORKBOOK_SUFFIXES, ".json", ".yaml", ".yml")
FORMATS = ("json", "xlsx", "md", "pdf", "docx")
DEFAULT_FORMATS = ("json", "xlsx", "md")
SUMMARY_NAME = "汇总.xlsx"
SUMMARY_PDF = "汇总.pdf"
# the files each format writes per unit: docx is the two documents an office issues
REPORT_SUFFIXES: dict[str, tuple[str, ...]] = {
    "json": (".result.json",),
    "md": (".report.md",),
    "xlsx": (".report.xlsx",),
    "pdf": (".report.pdf",),
    "docx": (".督导意见书.docx", ".整改通知书.docx"),
}
DEFAULT_OPTIONS = Options()
# the documents name their office; without settings (scoring score --issuer) a blank to fill in by hand
DEFAULT_ISSUER = Issuer(office="（发文机关）")


@dataclass(frozen=True)
class Outputs:
    """What a batch writes for each unit: the formats, in FORMATS order, and — for the documents (docx) — the
    office that issues them. It travels to worker processes and cluster workers with the files."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    issuer: Issuer | None = None

    @classmethod
    def of(cls, formats: Iterable[str], issuer: Issuer | None = None) -> Outputs:
        wanted = set(formats)
        return cls(tuple(f for f in FORMATS if f in wanted), issuer)

    def __contains__(self, fmt: object) -> bool:
        return fmt in self.formats

    def __iter__(self) -> Iterator[str]:
        return iter(self.formats)

    def files(self, name: str) -> list[str]:
        """The file names a unit of report name ``name`` gets."""
        return [f"{name}{suffix}" for f in self.formats for suffix in REPORT_SUFFIXES[f]]

    def key(self) -> str:
        """The part of the resume key the documents add: other issuer settings, other documents."""
        if "docx" not in self.formats:
            return ""
        return ";issuer=" + hashlib.sha256(repr(self.issuer).encode()).hexdigest()[:16]


@dataclass
class FileOutcome:
    file: str
    rows: list[UnitRow] = field(default_factory=list)  # one per evaluated unit (a 九年一贯制 row gives two)
    failure: FailureRow | None = None
    outputs: list[str] = field(default_factory=list)
    explained: list[list[str]] = field(default_factory=list)  # per row: the lines of the indicators asked for
    reused: bool = False  # the outputs of an earlier run, whole for the same input, framework and options

    @property
    def row(self) -> UnitRow | None:
        return self.rows[0] if self.rows else None


@dataclass
class BatchResult:
    rows: list[UnitRow] = field(default_factory=list)
    failures: list[FailureRow] = field(default_factory=list)
    summary: Path | None = None
    skipped: list[SkippedFile] = field(default_factory=list)  # files in the folders not read, and why
    duplicates: list[Duplicate] = field(default_factory=list)  # units found in more than one file
    earlier: list[str] = field(default_factory=list)  # results of an earlier run found in the output folder
    # … of which this run neither wrote nor reused a file of that name
    kept: list[str] = field(default_factory=list)
    # inputs whose earlier outputs are whole for the same bytes, framework and options: not scored again
    reused: int = 0
    # inputs with earlier outputs for other bytes, framework or options: scored again, those outputs replaced
    changed: int = 0
    # inputs whose record answers this run but whose outputs are not as it says (removed, cut short by a crash of
    # the machine, edited): each input as named, and those outputs; scored again
    damaged: list[tuple[str, list[str]]] = field(default_factory=list)
    taken_over: LockInfo | None = None  # the lock of a run that died, taken over

    @property
    def ok(self) -> bool:
        return not self.failures


# ------------------------------------------------------------------------------------------------ inputs


@dataclass
class Inputs:
    """The files a batch scores, each with its path as found (relative to the folder named, or the folder it is
    in and its name when named itself), and the files of the folders it does not read."""

    files: list[Path] = field(default_factory=list)
    labels: list[tuple[str, ...]] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def add(self, path: Path, label: tuple[str, ...]) -> None:
        self.files.append(path)
        self.labels.append(label)


_KINDS = "、".join(SUBMISSION_SUFFIXES)


def _skip(f: Path) -> SkippedFile | None:
    """Why a file found in a folder is not read (None: it is read)."""
    if not f.is_file():
        return SkippedFile(str(f), "不是普通文件（如管道或设备），未读取", "not a regular file; not read")
    if f.name.startswith("~$"):
        return SkippedFile(
            str(f),
            "Office 打开文件时留下的临时文件（~$ 开头），不是填报数据",
            "an Office lock file (~$…), not a submission",
        )
    if f.suffix.lower() not in SUBMISSION_SUFFIXES:
        kind = f.suffix or "无扩展名"
        return SkippedFile(
            str(f),
            f"不是可评分的文件类型（{kind}），未读取；可评分的是 {_KINDS}",
            f"not a submission file type ({f.suffix or 'no extension'}); read are {', '.join(SUBMISSION_SUFFIXES)}",
        )
    return None


def collect(paths: Iterable[str | Path], exclude: Path | None = None) -> Inputs:
    """The submission files named or found (recursively) in folders, and the files found that are not read.

    Hidden files and folders (``.DS_Store``, ``.git/``) and anything under ``exclude`` (the output folder) are
    passed over without a word; every other file found that is not read is listed with its reason. A file named
    on its own is always read (its content tells its format)."""
    out = Inputs()
    skip = exclude.resolve() if exclude else None
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            out.add(p, (p.parent.name, p.name) if p.parent.name else (p.name,))
            continue
        for f in sorted(p.rglob("*")):
            rel = f.relative_to(p)
            if any(part.startswith(".") for part in rel.parts) or f.is_dir():
                continue
            if skip and (skip == f.resolve() or skip in f.resolve().parents):
                continue
            why = _skip(f)
            if why is not None:
                out.skipped.append(why)
            else:
                out.add(f, rel.parts)
    return out


def expand(paths: Iterable[str | Path], exclude: Path | None = None) -> list[Path]:
    """Submission files named or found (recursively) in folders (:func:`collect`'s files)."""
    return collect(paths, exclude).files


# ------------------------------------------------------------------------------------------ output names

_NAME_LIMIT = (
    150  # bytes of UTF-8: a name with a unit's type, a number and ".report.xlsx" stays a valid file name
)
_UNSAFE_NAME = re.compile(
    '[\x00-\x1f\x7f-\x9f<>:"/\\\\|?*\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]'
)
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def safe_name(text: str) -> str:
    """``text`` as part of a file name on any system: no separators, controls or characters Windows refuses, no
    leading dot or dash, no trailing dot or space, at most 150 bytes; never empty."""
    name = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFC", text)).strip(" .")
    if len(name.encode()) > _NAME_LIMIT:
        name = name.encode()[:_NAME_LIMIT].decode("utf-8", "ignore").rstrip(" .")
    if name.startswith("-"):
        name = "_" + name[1:]
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    return name or "未命名"


def _key(name: str) -> str:
    """Names that one file system (macOS, Windows, a network share) may take for the same file are the same."""
    return unicodedata.normalize("NFC", name).casefold()


def unit_names(stem: str, types: Sequence[str | None]) -> list[str]:
    """The names of a file's reports, one per unit: the file's own for one unit; ``stem-小学``, ``stem-初中`` for a
    school split into units (``stem-小学-2`` where two share a type)."""
    if len(types) <= 1:
        return [stem] * len(types)
    seen: Counter[str] = Counter()
    out = []
    for t in types:
        part = safe_name(t or "单位")
        seen[part] += 1
        out.append(f"{stem}-{part}" if seen[part] == 1 else f"{stem}-{part}-{seen[part]}")
    return out


def output_stems(
    files: Sequence[Path],
    labels: Sequence[tuple[str, ...]] | None = None,
    unit_types: Sequence[str] = (),
) -> list[str]:
    """A report name per file, unique in the batch and never colliding, derived from the file.

    The file's own name without its extension where no other file of the batch has it (``滨江小学``); else its
    path in the folder (``一学区_滨江小学``), with the extension where that is shared too (``一学区_滨江小学.xlsx``),
    numbered only when even that is (``一学区_滨江小学-2``). Names differing only in case count as the same. A
    name claims its units' names too (``unit_types``: the types a school may split into), so ``学校`` split into
    ``学校-小学`` never meets a file called ``学校-小学``.
    """
    labels = labels if labels is not None else [(f.name,) for f in files]
    taken: set[str] = set()

    def claims(name: str) -> set[str]:
        return {_key(n) for n in [name, *unit_names(name, unit_types)]}

    def take(name: str) -> bool:
        wanted = claims(name)
        if wanted & taken:
            return False
        taken.update(wanted)
        return True

    own = [safe_name(f.name.rsplit(".", 1)[0]) for f in files]
    counts = Counter(_key(n) for n in own)
    out: list[str | None] = [n if counts[_key(n)] == 1 and take(n) else None for n in own]
    for i, label in enumerate(labels):
        if out[i] is not None:
            continue
        folders, name = label[:-1], label[-1]
        path = "_".join((*folders, name.rsplit(".", 1)[0]))
        candidates = [safe_name(path), safe_name("_".join((*folders, name)))]
        chosen = next((c for c in candidates if take(c)), None)
        n = 2
        while chosen is None:
            numbered = f"{candidates[0]}-{n}"
            chosen = numbered if take(numbered) else None
            n += 1
        out[i] = chosen
    return [n for n in out if n is not None]


# ------------------------------------------------------------------------------------------------ one file


@dataclass(frozen=True)
class Job:
    """One input of a batch: its absolute path (what a worker, perhaps on another machine, opens), the path as
    found (what messages and rows name) and the name of its reports."""

    path: str
    shown: str
    stem: str


def _problem_reasons(problems: Sequence[Problem]) -> tuple[list[str], list[str]]:
    return [p.format("zh") for p in problems], [p.format("en") for p in problems]


def _read_and_score(
    plan: Plan, path: Path, file: str, options: Options
) -> tuple[list[Result], FailureRow | None]:
    try:
        units = split(plan, read_submission(path, filename=file, plan=plan))
        results = [score(plan, unit, options) for unit in units]
    except ScoringError as err:
        return [], FailureRow(file, *_problem_reasons(err.problems))
    except Exception as exc:
        return [], FailureRow(
            file,
            [f"{file}: 内部错误，无法处理此文件（{type(exc).__name__}: {exc}）"],
            [f"{file}: internal error, the file cannot be processed ({type(exc).__name__}: {exc})"],
        )
    if not results:
        return [], FailureRow(
            file,
            [f"{file}: 没有需要评估的单位（如不足 50 人的教学点）"],
            [f"{file}: no unit to evaluate (such as a 教学点 under 50 pupils)"],
        )
    return results, None


def score_file(
    plan: Plan,
    path: Path,
    outdir: Path | None,
    stem: str,
    formats: Outputs,
    options: Options = DEFAULT_OPTIONS,
    explain: tuple[str, ...] = (),
    shown: str | None = None,
) -> FileOutcome:
    """Read, score and write one file; user mistakes become a failure row, never an exception.

    ``explain``: indicator codes whose arithmetic the outcome carries (the plan has them), written while the
    result is at hand rather than by scoring the file again. ``shown``: how messages and rows name the file
    (a cluster worker opens the absolute path; the batch names it as found). With ``outdir``, the unit's record
    (``jobs.resume``) is written after its outputs, and a file that fails leaves no earlier output of its name
    behind: those were for other bytes or another framework."""
    file = shown if shown is not None else str(path)
    # hashed before reading: should the file change in between, the next run sees other bytes and scores it again
    digest = file_digest(path) if outdir is not None else None
    results, failure = _read_and_score(plan, path, file, options)
    if failure is not None:
        if outdir is not None:
            with contextlib.suppress(OSError):
                forget(outdir, stem)
        return FileOutcome(file, failure=failure)
    names = unit_names(stem, [r.unit.type for r in results])
    rows = [
        UnitRow.of(file, r, name if outdir is not None else None)
        for name, r in zip(names, results, strict=True)
    ]
    outputs: list[str] = []
    if outdir is not None:
        record = (
            Record(
                stem,
                os.path.abspath(path),
                Key(digest, plan.hash, options_key(options) + formats.key()),
                formats.formats,
                [],
                rows,
            )
            if digest
            else None
        )
        try:
            _write_unit(results, outdir, stem, names, formats, record, outputs)
        except OSError as err:
            zh, en = os_reason(err)
            where = err.filename2 or err.filename or outdir  # os.replace names the temporary file first
            return FileOutcome(
                file,
                failure=FailureRow(
                    file, [f"{file}: 无法写入报告 {where}：{zh}"], [f"{file}: cannot write {where}: {en}"]
                ),
                outputs=outputs,
            )
        except ScoringError as err:  # a report this unit's text cannot be rendered in (a glyph no font has)
            return FileOutcome(
                file,
                failure=FailureRow(
                    file,
                    [f"{file}: {p.message('zh')}" for p in err.problems],
                    [f"{file}: {p.message('en')}" for p in err.problems],
                ),
                outputs=outputs,
            )
    explained = [[line for code in explain for line in explanation_lines(r, code)] for r in results]
    return FileOutcome(file, rows, None, outputs, explained if explain else [])


def _write_unit(
    results: list[Result],
    outdir: Path,
    stem: str,
    names: list[str],
    formats: Outputs,
    record: Record | None,
    outputs: list[str],
) -> None:
    """The unit's reports, each atomically, between its old record removed and its new one written: a cut in
    between leaves no record, and the next run scores the file again. Earlier outputs of the name this run does
    not write again (a school once split into two units, now one) go with the old record.

    Nothing is fsync'd here (``io.files.unsynced``): the record holds each output's size and SHA-256, so one lost
    or cut short by a crash of the machine is found by the next run and scored again (``jobs.resume``), and the
    batch makes everything durable once at its end (``io.files.make_durable``)."""
    wanted = [file for name in names for file in formats.files(name)]
    forget(outdir, stem, keep=wanted)
    with unsynced():
        for name, result in zip(names, results, strict=True):
            outputs += _write_reports(result, outdir, name, formats)
        if record is not None:
            record.outputs = [Path(o).name for o in outputs]
            record.seal(outdir)
            write_record(outdir, record)


def _write_reports(result: Result, outdir: Path, name: str, formats: Outputs) -> list[str]:
    out = []
    if "json" in formats:
        out.append(str(atomic_write(outdir / f"{name}.result.json", result.to_json())))
    if "md" in formats:
        out.append(str(atomic_write(outdir / f"{name}.report.md", markdown(result))))
    if "xlsx" in formats:
        from ..report.unit_xlsx import write_unit_report

        out.append(str(write_unit_report(result, outdir / f"{name}.report.xlsx")))
    if "pdf" in formats:
        from ..report.pdf import write_unit_pdf

        out.append(str(write_unit_pdf(result, outdir / f"{name}.report.pdf")))
    if "docx" in formats:
        from ..report.docx_writer import write_notice_docx, write_opinion_docx

        issuer = formats.issuer or DEFAULT_ISSUER
        out.append(str(write_opinion_docx(result, issuer, outdir / f"{name}.督导意见书.docx")))
        out.append(str(write_notice_docx(result, issuer, outdir / f"{name}.整改通知书.docx")))
    return out


_WORKER_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan  # pickled as its framework and check, compiled on arrival (Plan.__reduce__)


def _work(
    job: Job,
    outdir: str | None,
    formats: Outputs,
    options: Options,
    explain: tuple[str, ...],
) -> FileOutcome:
    assert _WORKER_PLAN is not None
    out = Path(outdir) if outdir else None
    return score_file(_WORKER_PLAN, Path(job.path), out, job.stem, formats, options, explain, job.shown)


def _parallel(
    plan: Plan,
    jobs: list[Job],
    outdir: Path | None,
    formats: Outputs,
    options: Options,
    workers: int,
    explain: tuple[str, ...],
) -> Iterator[FileOutcome]:
    """``workers`` processes: this one and ``workers - 1`` others. This process scores files too, between taking
    the others' outcomes, rather than wait for them: it starts at once, while the others are still starting
    (a new process imports the package and compiles the plan first, about a third of a second). Each other
    process gets one file until the first outcome comes back, then two at a time: enough to keep it busy, and
    few for this process to wait for at the end."""
    helpers = workers - 1
    todo = iter(jobs)
    first = next(todo, None)
    if first is None:
        return
    # workers start from a clean process (forkserver), never a fork of this one: a fork copies the parent's
    # threads' locks but not the threads (Typst's, after the PDF fonts were checked here), and hangs on them
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        max_workers=helpers, mp_context=context, initializer=_init_worker, initargs=(plan,)
    ) as pool:
        running: set[Future[Any]] = set()
        args = (str(outdir) if outdir else None, formats, options, explain)

        def submit() -> bool:
            job = next(todo, None)
            if job is None:
                return False
            running.add(pool.submit(_work, job, *args))
            return True

        # the first submission starts the fork server, which imports this program's main module before it
        # answers: a thread waits for it, not the files this process could score meanwhile
        starting: _Starting | None = _Starting(pool, first, args)
        window = helpers  # bounded in-flight work keeps memory flat
        while True:
            if starting is not None and starting.done():
                running.add(starting.future())
                starting = None
            if starting is None:
                for fut in [f for f in running if f.done()]:
                    running.discard(fut)
                    window = helpers * 2
                    yield fut.result()
                while len(running) < window and submit():
                    pass
            job = next(todo, None)
            if job is None:
                break
            yield score_file(plan, Path(job.path), outdir, job.stem, formats, options, explain, job.shown)
        if starting is not None:
            running.add(starting.future())
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                running.discard(fut)
                yield fut.result()


class _Starting:
    """The first job submitted to a process pool from a thread of its own (the submission waits for the pool's
    first process to be forked)."""

    def __init__(self, pool: ProcessPoolExecutor, job: Job, args: tuple[Any, ...]) -> None:
        self._future: Future[Any] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._submit, args=(pool, job, args), name="scoring-pool-start", daemon=True
        )
        self._thread.start()

    def _submit(self, pool: ProcessPoolExecutor, job: Job, args: tuple[Any, ...]) -> None:
        try:
            self._future = pool.submit(_work, job, *args)
        except BaseException as exc:  # raised where the outcomes are taken
            self._error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def future(self) -> Future[Any]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._future is not None
        return self._future


class Executor(Protocol):
    """Somewhere else to score a batch's files (``jobs.cluster.Cluster``): the same jobs in, the same outcomes out,
    one per job in any order; a file it cannot score is a failure outcome, never an exception."""

    def outcomes(
        self,
        plan: Plan,
        jobs: list[Job],
        outdir: Path | None,
        formats: Outputs,
        options: Options,
        explain: tuple[str, ...],
    ) -> Iterator[FileOutcome]: ...


def score_batch(
    framework: Framework | Plan,
    paths: Iterable[str | Path] | Inputs,
    outdir: str | Path | None = None,
    *,
    formats: Iterable[str] = DEFAULT_FORMATS,
    workers: int | None = None,
    options: Options = DEFAULT_OPTIONS,
    on_file: Callable[[FileOutcome], None] | None = None,
    explain: Iterable[str] = (),
    force: bool = False,
    on_start: Callable[[BatchResult], None] | None = None,
    executor: Executor | None = None,
    issuer: Issuer | None = None,
) -> BatchResult:
    """Score every submission under ``paths``; write per-unit reports and the summary workbook into ``outdir``.

    Before any scoring the output folder is made if missing and held for this run (:class:`FolderLock`):
    :class:`OutputError` when it cannot be made or written, or when another run holds it. Results of an earlier
    run in it are resumed: an input whose outputs are whole for the same bytes, framework and options is not
    scored again (``reused``; all are scored again with ``force``), its outcome comes from its record (passed to
    ``on_file`` first, with ``reused`` set) and its rows are in the summary; outputs for other bytes or another
    framework are replaced (``changed``). ``kept`` lists result files of the folder this run neither wrote nor
    reused (not in its summary). ``on_start`` is called once the folder is held, before the first file
    (``earlier``, ``reused``, ``changed``, ``taken_over`` are set). ``executor``: score elsewhere (a cluster)
    instead of on ``workers`` local processes. Units found in more than one file are listed in ``duplicates``
    and ranked once (see :func:`_duplicates`).
    """
    fmts = formats if isinstance(formats, Outputs) else Outputs.of(formats, issuer)
    codes = tuple(explain)
    out = Path(outdir) if outdir is not None else None
    plan = framework if isinstance(framework, Plan) else compile_plan(framework)
    inputs = paths if isinstance(paths, Inputs) else collect(paths, exclude=out)
    types = [part.type for part in plan.framework.units.split] if plan.framework.units else []
    stems = output_stems(inputs.files, inputs.labels, types)
    jobs = [Job(os.path.abspath(f), str(f), stem) for f, stem in zip(inputs.files, stems, strict=True)]
    batch = BatchResult(skipped=list(inputs.skipped))
    if out is not None:
        _renderers_ready(fmts)
    lock = _hold(out, batch) if out is not None else None
    written: set[str] = set()
    try:
        todo, reused = (
            (jobs, []) if out is None else _resume(plan, jobs, out, fmts, options, codes, force, batch)
        )
        if on_start:
            on_start(batch)
        outcomes = _outcomes(plan, todo, out, fmts, options, workers, codes, executor)
        written |= _run(chain(reused, outcomes), jobs, batch, on_file)
        batch.duplicates = _duplicates(batch.rows)
        if out is not None:
            if "xlsx" in fmts:
                batch.summary = _summary(plan.framework, batch, out)
                written.add(batch.summary.name)
            if "pdf" in fmts:
                written.add(_summary_pdf(plan.framework, batch, out).name)
            sweep(out)  # what workers killed in the middle of a write left
            batch.kept = [f for f in batch.earlier if f not in written and (out / f).exists()]
    finally:
        if lock is not None:
            try:  # the units' files were not fsync'd one by one (jobs.resume)
                make_durable(lock.folder / name for name in written)
            finally:
                lock.release()
    return batch


def _renderers_ready(fmts: Outputs) -> None:
    """What the formats need, there before any file is scored: a missing Chinese font or package is one clear
    refusal (OutputError: exit 2), not the same failure for every file."""
    try:
        if "pdf" in fmts:
            from ..report.pdf import choose_fonts

            choose_fonts()
        if "docx" in fmts:
            from ..report import docx_writer  # noqa: F401  (its import says what is missing)
    except ScoringError as err:
        raise OutputError(err.problems) from None


def _hold(out: Path, batch: BatchResult) -> FolderLock:
    """The output folder made, writable and held for this run; its earlier results noted."""
    folder = output_folder(out)
    lock = FolderLock.acquire(folder)
    batch.taken_over = lock.taken_over
    batch.earlier = earlier_results(folder)
    return lock


def earlier_results(folder: Path) -> list[str]:
    """Names of the files in ``folder`` a batch writes (reports, results, the summary): an earlier run's."""
    suffixes = tuple(x for group in REPORT_SUFFIXES.values() for x in group)
    try:
        return sorted(
            f.name
            for f in folder.iterdir()
            if (f.name in (SUMMARY_NAME, SUMMARY_PDF) or f.name.endswith(suffixes))
            and not f.name.startswith(".")
        )
    except OSError:
        return []


def _resume(
    plan: Plan,
    jobs: list[Job],
    out: Path,
    fmts: Outputs,
    options: Options,
    codes: tuple[str, ...],
    force: bool,
    batch: BatchResult,
) -> tuple[list[Job], list[FileOutcome]]:
    """The jobs to score and the outcomes of those done already (see ``jobs.resume``).

    An input of this run whose outputs were written under another name (the names are unique in a batch, so a
    file of the same name added elsewhere renames it) loses those: they would be a second, stale copy."""
    sweep(out)
    records = {r.stem: r for r in all_records(out)}
    stems = {j.stem for j in jobs}
    paths = {j.path for j in jobs}
    for stale in records.values():
        if stale.stem not in stems and stale.input in paths:
            forget(out, stale.stem)
    opts = options_key(options) + fmts.key()
    todo: list[Job] = []
    reused: list[FileOutcome] = []
    for job in jobs:
        rec = records.get(job.stem)
        outcome = None
        if rec is not None and not force and _answers(rec, job, fmts, Key("", plan.hash, opts)):
            damaged = rec.damaged(out)
            if damaged:
                batch.damaged.append((job.shown, damaged))
                todo.append(job)
                continue
            outcome = _reused(rec, job, out, codes)
        if outcome is not None:
            reused.append(outcome)
            continue
        batch.changed += rec is not None and not force
        todo.append(job)
    batch.reused = len(reused)
    return todo, reused


def _answers(rec: Record, job: Job, fmts: Outputs, key: Key) -> bool:
    """Whether a record answers this run: the formats asked for, and the same framework, options and input bytes
    (hashed last: it reads the file). Whether its outputs are whole is asked next (``Record.damaged``)."""
    same = (rec.key.framework, rec.key.options) == (key.framework, key.options)
    if not same or not set(fmts) <= set(rec.formats):
        return False
    return rec.key.input == file_digest(job.path)


def _reused(rec: Record, job: Job, out: Path, codes: tuple[str, ...]) -> FileOutcome | None:
    """An input's outcome from its record; the lines ``--explain`` asks for from its results (None: they cannot
    be read, so the file is scored again)."""
    from ..engine.result import result_from_json

    rows = [replace(row, file=job.shown) for row in rec.rows]
    explained: list[list[str]] = []
    if codes:
        try:
            for row in rows:
                result = result_from_json((out / f"{row.report}.result.json").read_bytes())
                explained.append([line for code in codes for line in explanation_lines(result, code)])
        except (OSError, ValueError, KeyError):
            return None
    outputs = [str(out / name) for name in rec.outputs]
    return FileOutcome(job.shown, rows, None, outputs, explained, reused=True)


def _outcomes(
    plan: Plan,
    jobs: list[Job],
    out: Path | None,
    fmts: Outputs,
    options: Options,
    workers: int | None,
    codes: tuple[str, ...],
    executor: Executor | None,
) -> Iterator[FileOutcome]:
    if executor is not None:
        return executor.outcomes(plan, jobs, out, fmts, options, codes)
    n = workers if workers is not None else min(os.cpu_count() or 1, 2)
    if n <= 1 or len(jobs) <= 1:
        return (score_file(plan, Path(j.path), out, j.stem, fmts, options, codes, j.shown) for j in jobs)
    return _parallel(plan, jobs, out, fmts, options, n, codes)


def _run(
    outcomes: Iterable[FileOutcome],
    jobs: list[Job],
    batch: BatchResult,
    on_file: Callable[[FileOutcome], None] | None,
) -> set[str]:
    """The outcomes into ``batch`` (rows and failures in file order); the names of the files written or reused."""
    order = {j.shown: i for i, j in enumerate(jobs)}
    written: set[str] = set()
    for outcome in outcomes:
        batch.rows.extend(outcome.rows)
        written.update(Path(o).name for o in outcome.outputs)
        if outcome.failure is not None:
            batch.failures.append(outcome.failure)
        if on_file:
            on_file(outcome)
    batch.rows.sort(key=lambda r: order.get(r.file, 0))
    batch.failures.sort(key=lambda r: order.get(r.file, 0))
    return written


def read_files(plan: Plan, files: Iterable[Path]) -> Iterator[tuple[Path, Submission | list[Problem]]]:
    """Each file read here, in order: the submission, or the problems that refused it (``scoring cohort`` over a
    folder; ``jobs.cluster.Cluster.read`` is the same on a cluster)."""
    for f in files:
        try:
            yield f, read_submission(f, plan=plan)
        except ScoringError as err:
            yield f, err.problems


def _modified(file: str) -> int:
    try:
        return os.stat(file).st_mtime_ns
    except OSError:
        return 0


def _duplicates(rows: list[UnitRow]) -> list[Duplicate]:
    """Units found in more than one file (the same 单位代码, or without one the same name and type).

    Every row is kept and shown; only the copy in the most recently modified file is ranked and counted (the
    first in file order when they were modified at the same time): a school that sent its workbook again sent
    the later one last. The others are marked with that file (``UnitRow.duplicate_of``)."""
    found = []
    for group in duplicate_groups(rows):
        files = list(dict.fromkeys(rows[i].file for i in group))
        ranked = max(files, key=lambda f: (_modified(f), -files.index(f)))
        for i in group:
            row = rows[i]
            row.same_unit = [f for f in files if f != row.file]
            row.duplicate_of = None if row.file == ranked else ranked
        first = rows[group[0]]
        found.append(Duplicate(first.name, first.code, first.type, tuple(files), ranked))
    return found


def _summary_pdf(framework: Framework, batch: BatchResult, out: Path) -> Path:
    from ..report.pdf import write_summary_pdf

    try:
        return write_summary_pdf(
            batch.rows,
            batch.failures,
            out / SUMMARY_PDF,
            framework_name=framework.name,
            precision=framework.settings.total_places,
            skipped=batch.skipped,
        )
    except OSError as err:
        zh, en = os_reason(err)
        raise OutputError(
            [
                Problem(
                    "output-not-writable",
                    f"无法写入汇总表 {out / SUMMARY_PDF}：{zh}",
                    f"cannot write the summary {out / SUMMARY_PDF}: {en}",
                    file=str(out),
                )
            ]
        ) from None


def _summary(framework: Framework, batch: BatchResult, out: Path) -> Path:
    from ..report.summary_xlsx import write_batch_summary

    try:
        return write_batch_summary(
            batch.rows,
            batch.failures,
            out / SUMMARY_NAME,
            framework_name=framework.name,
            precision=framework.settings.total_places,  # the summary shows totals
            skipped=batch.skipped,
        )
    except OSError as err:
        zh, en = os_reason(err)
        raise OutputError(
            [
                Problem(
                    "output-not-writable",
                    f"无法写入汇总表 {out / SUMMARY_NAME}：{zh}",
                    f"cannot write the summary {out / SUMMARY_NAME}: {en}",
                    file=str(out),
                )
            ]
        ) from None
