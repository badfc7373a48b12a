"""Batches from and into object storage (``s3://bucket/inbox/`` → ``s3://bucket/out/``) through fsspec.

The same batch as :func:`jobs.batch.score_batch` — the same reports, records, resume and summary — when inputs and
outputs are object-storage URLs rather than a shared folder. Inputs are listed and read through fsspec as bytes
(refused by size before they are fetched, then checked by ``io.safety.check_bytes``); each unit is scored into a
private temporary folder by :func:`jobs.batch.score_file` (the very code of a local run), and its files are then
uploaded one object each: reports first, the record (``jobs.resume``) last, so a record again proves its unit done.
An S3 ``PUT`` of one object is atomic (a reader sees the old object or the new one, never a part; files this size
go up in one request, not multipart), so there are no temporary objects to sweep. The summary is written last.

The output prefix is held for the run by ``.scoring.lock``, created with a conditional write (``If-None-Match: *``):
of two runs starting together exactly one creates it. S3 gives no lease: a lock left by a run that died is never
taken over (whether it ended cannot be told); the message names it, to delete once sure. A store without
conditional writes refuses the lock, never pretends to hold it.

Where to find the store (an endpoint other than AWS, credentials) is fsspec's own configuration, on this machine
and every cluster worker: environment variables such as ``FSSPEC_S3_ENDPOINT_URL`` and ``AWS_ACCESS_KEY_ID``, or
``~/.config/fsspec/s3.json``. fsspec and s3fs are imported only when a URL is used.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any

from ..engine.plan import Plan, compile_plan
from ..engine.rows import FailureRow, SkippedFile
from ..engine.score import Options
from ..framework.model import Framework
from ..io.files import LOCK_NAME, OutputError
from ..io.safety import DEFAULT_FILE_LIMITS, MiB, UnsafeFile, check_bytes
from ..problems import Problem
from ..report.explain import explanation_lines
from ..report.issuer import Issuer
from . import batch as b
from .resume import RECORDS, Key, Record, options_key

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_url(path: object) -> bool:
    """Whether ``path`` names object storage (``s3://…``, any fsspec protocol but ``file://``) rather than a path."""
    text = str(path)
    return bool(_URL.match(text)) and not text.startswith("file://")


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and its path there (``bucket/key``), with fsspec's configuration."""
    try:
        core = importlib.import_module("fsspec.core")
        fs, path = core.url_to_fs(url)
    except ImportError as err:
        raise OutputError(
            [
                Problem(
                    "storage-unavailable",
                    f"无法使用 {url}：未安装对象存储支持（pip install fsspec s3fs；{err}）",
                    f"cannot use {url}: object storage support is not installed (pip install fsspec s3fs; {err})",
                )
            ]
        ) from None
    return fs, str(path).rstrip("/")


def join(url: str, name: str) -> str:
    return url.rstrip("/") + "/" + name


# ------------------------------------------------------------------------------------------------ inputs


@dataclass
class RemoteInputs:
    """The objects under a prefix a batch scores (their URLs and paths under it), and those it does not read."""

    files: list[str] = field(default_factory=list)  # URLs
    labels: list[tuple[str, ...]] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def collect(url: str, exclude: str | None = None) -> RemoteInputs:
    """The submissions under the prefix ``url`` (hidden names and anything under ``exclude`` passed over)."""
    fs, root = filesystem(url)
    protocol = url.split("://", 1)[0]
    fs.invalidate_cache()
    skip = filesystem(exclude)[1] + "/" if exclude else None
    out = RemoteInputs()
    for key in sorted(fs.find(root)):
        rel = tuple(key[len(root) + 1 :].split("/"))
        if any(part.startswith(".") for part in rel) or (skip and key.startswith(skip)):
            continue
        name = rel[-1]
        if name.startswith("~$") or not name.lower().endswith(b.SUBMISSION_SUFFIXES):
            out.skipped.append(
                SkippedFile(
                    f"{protocol}://{key}", "不是可评分的文件，未读取", "not a submission file; not read"
                )
            )
            continue
        out.files.append(f"{protocol}://{key}")
        out.labels.append(rel)
    return out


def read_bytes(url: str) -> bytes:
    """The object's bytes, refused before they are fetched when larger than any submission may be, then checked
    as a local file is (``io.safety.check_bytes``: a zip bomb is refused by its directory)."""
    fs, path = filesystem(url)
    size = fs.size(path)
    limit = DEFAULT_FILE_LIMITS.max_file
    if size is not None and size > limit:
        raise UnsafeFile(
            f"文件 {size // MiB} MiB，超过 {limit // MiB} MiB 的上限", f"file larger than {limit // MiB} MiB"
        )
    data: bytes = fs.cat_file(path)
    check_bytes(data)
    return data


# ------------------------------------------------------------------------------------------------ one unit


def score_object(
    plan: Plan, job: b.Job, outdir: str, formats: b.Outputs, options: Options, explain: tuple[str, ...]
) -> b.FileOutcome:
    """One input object scored as :func:`jobs.batch.score_file` scores a file, its outputs uploaded whole."""
    fs, out = filesystem(outdir)
    name = job.path.rsplit("/", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="scoring-") as tmp:
        local = Path(tmp) / "in" / name
        local.parent.mkdir()
        try:
            local.write_bytes(read_bytes(job.path))
        except UnsafeFile as err:
            return _failed(fs, out, job, [f"{job.shown}: {err.zh}"], [f"{job.shown}: {err.en}"])
        except OSError as err:
            return _failed(
                fs, out, job, [f"{job.shown}: 无法读取（{err}）"], [f"{job.shown}: cannot read ({err})"]
            )
        staged = Path(tmp) / "out"
        outcome = b.score_file(plan, local, staged, job.stem, formats, options, explain, job.shown)
        if outcome.failure is not None:
            return _failed(fs, out, job, outcome.failure.reasons, outcome.failure.reasons_en)
        try:
            outcome.outputs = _upload(fs, out, staged, job)
        except OSError as err:
            zh, en = (
                [f"{job.shown}: 无法写入 {outdir}（{err}）"],
                [f"{job.shown}: cannot write {outdir} ({err})"],
            )
            return _failed(fs, out, job, zh, en)
    outcome.outputs = [join(outdir, n) for n in outcome.outputs]
    return outcome


def _upload(fs: Any, out: str, staged: Path, job: b.Job) -> list[str]:
    """The unit's files, whole objects each: the old record removed, old outputs not written again removed, the
    reports put, the record (naming the input's URL) put last. The names of the reports."""
    record = Record.loads((staged / RECORDS / f"{job.stem}.json").read_bytes())  # written: the unit is whole
    if record is None:
        raise OSError(f"no record of {job.stem}")
    _forget(fs, out, job.stem, keep=record.outputs)
    for name in record.outputs:
        fs.put_file(str(staged / name), f"{out}/{name}")
    fs.pipe_file(f"{out}/{RECORDS}/{job.stem}.json", replace(record, input=job.path).dumps().encode())
    return record.outputs


def _failed(fs: Any, out: str, job: b.Job, zh: list[str], en: list[str]) -> b.FileOutcome:
    """A failure; the unit's earlier outputs (for other bytes or another framework) go (record first)."""
    with contextlib.suppress(OSError):
        _forget(fs, out, job.stem)
    return b.FileOutcome(job.shown, failure=FailureRow(job.shown, zh, en))


def _record(fs: Any, out: str, stem: str) -> Record | None:
    try:
        return Record.loads(fs.cat_file(f"{out}/{RECORDS}/{stem}.json"))
    except OSError:
        return None


def _forget(fs: Any, out: str, stem: str, keep: Iterable[str] = ()) -> None:
    """``jobs.resume.forget`` in the store: the record first, then the outputs it listed not in ``keep``."""
    rec = _record(fs, out, stem)
    with contextlib.suppress(FileNotFoundError):
        fs.rm_file(f"{out}/{RECORDS}/{stem}.json")
    kept = set(keep)
    for name in rec.outputs if rec else []:
        if name not in kept and "/" not in name:
            with contextlib.suppress(FileNotFoundError):
                fs.rm_file(f"{out}/{name}")


def _task(
    plan: Plan, jobs: list[b.Job], outdir: str, formats: b.Outputs, options: Options, explain: tuple[str, ...]
) -> list[b.FileOutcome]:
    """A few objects on a cluster worker (``jobs.cluster.Cluster``)."""
    return [score_object(plan, j, outdir, formats, options, explain) for j in jobs]


# ------------------------------------------------------------------------------------------------ the lock


@dataclass
class ObjectLock:
    """The output prefix held for one run: ``.scoring.lock`` created only if absent (a conditional PUT)."""

    fs: Any
    path: str

    @classmethod
    def acquire(cls, outdir: str) -> ObjectLock:
        fs, out = filesystem(outdir)
        path = f"{out}/{LOCK_NAME}"
        info = {"host": socket.gethostname(), "pid": os.getpid()}
        try:
            fs.pipe_file(path, json.dumps(info).encode(), mode="create")
        except FileExistsError:
            raise _held(outdir, fs, path) from None
        except (TypeError, NotImplementedError, OSError) as err:  # no conditional writes: no lock to trust
            raise OutputError(
                [
                    Problem(
                        "output-not-writable",
                        f"无法在 {outdir} 建立锁（{err}）：该存储可能不支持条件写入（If-None-Match）",
                        f"cannot lock {outdir} ({err}): the store may not support conditional writes"
                        " (If-None-Match)",
                        file=outdir,
                    )
                ]
            ) from None
        return cls(fs, path)

    def release(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.path)


def _held(outdir: str, fs: Any, path: str) -> OutputError:
    try:
        d = json.loads(fs.cat_file(path))
        who = f"{d['host']} 进程 {d['pid']}", f"{d['host']} process {d['pid']}"
    except (OSError, ValueError, KeyError, TypeError):
        who = "未知的运行", "an unknown run"
    lock = join(outdir, LOCK_NAME)
    return OutputError(
        [
            Problem(
                "output-in-use",
                f"输出位置 {outdir} 正由另一次评分使用（{who[0]}）；若确认它已结束，删除 {lock} 后再运行",
                f"the output {outdir} is in use by another run ({who[1]}); once sure it has ended, delete {lock}",
                file=outdir,
            )
        ]
    )


# ------------------------------------------------------------------------------------------------ the batch


def score_batch(
    framework: Framework | Plan,
    inputs: str | RemoteInputs,
    outdir: str,
    *,
    formats: Iterable[str] = b.DEFAULT_FORMATS,
    options: Options = b.DEFAULT_OPTIONS,
    on_file: Callable[[b.FileOutcome], None] | None = None,
    explain: Iterable[str] = (),
    force: bool = False,
    on_start: Callable[[b.BatchResult], None] | None = None,
    executor: Any = None,
    issuer: Issuer | None = None,
    workers: int | None = None,
) -> b.BatchResult:
    """:func:`jobs.batch.score_batch` from the objects under the prefix ``inputs`` into the prefix ``outdir``,
    here or on ``executor`` (a ``jobs.cluster.Cluster``), with the same arguments. ``workers`` is not used: without
    a cluster the units are scored one after another on this machine."""
    del workers
    fmts = formats if isinstance(formats, b.Outputs) else b.Outputs.of(formats, issuer)
    codes = tuple(explain)
    plan = framework if isinstance(framework, Plan) else compile_plan(framework)
    found = inputs if isinstance(inputs, RemoteInputs) else collect(inputs, exclude=outdir)
    types = [part.type for part in plan.framework.units.split] if plan.framework.units else []
    stems = b.output_stems([Path(u.split("://", 1)[1]) for u in found.files], found.labels, types)
    jobs = [b.Job(u, u, s) for u, s in zip(found.files, stems, strict=True)]
    batch = b.BatchResult(skipped=list(found.skipped))
    b._renderers_ready(fmts)
    fs, out = filesystem(outdir)
    lock = ObjectLock.acquire(outdir)
    try:
        fs.invalidate_cache()
        present = {k[len(out) + 1 :] for k in fs.find(out)}
        batch.earlier = sorted(n for n in present if "/" not in n and _result_name(n))
        todo, reused = _resume(plan, jobs, fs, out, outdir, present, fmts, options, codes, force, batch)
        if on_start:
            on_start(batch)
        if executor is not None:
            from .cluster import _outcomes

            streamed = executor._stream(plan, todo, _task, outdir, fmts, options, codes)
            outcomes: Iterator[b.FileOutcome] = (o for chunk, fut in streamed for o in _outcomes(fut, chunk))
        else:
            outcomes = (score_object(plan, j, outdir, fmts, options, codes) for j in todo)
        written = b._run(chain(reused, outcomes), jobs, batch, on_file)
        batch.duplicates = b._duplicates(batch.rows)
        written |= _summaries(plan, batch, fs, out, fmts)
        batch.kept = [f for f in batch.earlier if f not in written]
    finally:
        lock.release()
    return batch


def _result_name(name: str) -> bool:
    suffixes = tuple(x for group in b.REPORT_SUFFIXES.values() for x in group)
    return name in (b.SUMMARY_NAME, b.SUMMARY_PDF) or (name.endswith(suffixes) and not name.startswith("."))


def _summaries(plan: Plan, batch: b.BatchResult, fs: Any, out: str, fmts: b.Outputs) -> set[str]:
    """The summary (and its PDF) written here, then put whole: last, once every unit is in."""
    written = set()
    with tempfile.TemporaryDirectory(prefix="scoring-") as tmp:
        staged = Path(tmp)
        if "xlsx" in fmts:
            written.add(b._summary(plan.framework, batch, staged).name)
        if "pdf" in fmts:
            written.add(b._summary_pdf(plan.framework, batch, staged).name)
        for name in sorted(written):
            fs.put_file(str(staged / name), f"{out}/{name}")
    if b.SUMMARY_NAME in written:
        batch.summary = Path(b.SUMMARY_NAME)  # its name; the object is in the output prefix
    return written


def _resume(
    plan: Plan,
    jobs: list[b.Job],
    fs: Any,
    out: str,
    outdir: str,
    present: set[str],
    fmts: b.Outputs,
    options: Options,
    codes: tuple[str, ...],
    force: bool,
    batch: b.BatchResult,
) -> tuple[list[b.Job], list[b.FileOutcome]]:
    """``jobs.batch._resume`` against the store: the jobs to score, and the outcomes of those whose records
    answer this run (same bytes, framework, options; formats written; every listed object there)."""
    records: dict[str, Record] = {}
    for key in sorted(n for n in present if n.startswith(f"{RECORDS}/") and n.endswith(".json")):
        with contextlib.suppress(OSError):
            rec = Record.loads(fs.cat_file(f"{out}/{key}"))
            if rec is not None and key == f"{RECORDS}/{rec.stem}.json":
                records[rec.stem] = rec
    stems, urls = {j.stem for j in jobs}, {j.path for j in jobs}
    for stale in records.values():
        if stale.stem not in stems and stale.input in urls:
            _forget(fs, out, stale.stem)
    opts = options_key(options) + fmts.key()
    todo: list[b.Job] = []
    reused: list[b.FileOutcome] = []
    for job in jobs:
        rec = records.get(job.stem)
        outcome = None
        if rec is not None and not force and _answers(rec, job, present, fmts, Key("", plan.hash, opts)):
            outcome = _reused(rec, job, fs, out, outdir, codes)
        if outcome is not None:
            reused.append(outcome)
            continue
        batch.changed += rec is not None and not force
        todo.append(job)
    batch.reused = len(reused)
    return todo, reused


def _answers(rec: Record, job: b.Job, present: set[str], fmts: b.Outputs, key: Key) -> bool:
    same = (rec.key.framework, rec.key.options) == (key.framework, key.options)
    if not same or not set(fmts) <= set(rec.formats) or not set(rec.outputs) <= present:
        return False
    try:
        data = read_bytes(job.path)
    except (OSError, UnsafeFile):
        return False
    return rec.key.input == "sha256:" + hashlib.sha256(data).hexdigest()


def _reused(
    rec: Record, job: b.Job, fs: Any, out: str, outdir: str, codes: tuple[str, ...]
) -> b.FileOutcome | None:
    from ..engine.result import result_from_json

    rows = [replace(row, file=job.shown) for row in rec.rows]
    explained: list[list[str]] = []
    if codes:
        try:
            for row in rows:
                result = result_from_json(fs.cat_file(f"{out}/{row.report}.result.json"))
                explained.append([line for code in codes for line in explanation_lines(result, code)])
        except (OSError, ValueError, KeyError):
            return None
    outputs = [join(outdir, name) for name in rec.outputs]
    return b.FileOutcome(job.shown, rows, None, outputs, explained, reused=True)
