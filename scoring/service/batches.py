"""Batch uploads: many submissions of one project in one request (a zip of workbooks, JSON or YAML, or several
files of a multipart form), each matched to its unit by the unit code inside it, scored in worker processes and
stored as that unit's next version — with progress in the ``batches`` table, readable while it runs.

How the work is shared:

- **The request** only reads the files (the body bounded as for any upload; a zip checked by ``io.safety`` —
  size, member count, declared sizes and ratios, every member inflated once against its entry — before a member
  is taken out), writes the batch with one line per file (排队中), queues it and answers 202.
- **One driver thread per app** takes the queued batches one at a time (a second batch waits as 排队中), so at
  most ``workers`` scoring processes run whatever the number of batches. It never runs on the event loop.
- **Scoring runs in worker processes**: a ``ProcessPoolExecutor`` with the ``forkserver`` context (as
  ``jobs.batch``: a clean process, never a fork of a server with threads), each worker given the project's plan
  once, at most ``2 × workers`` files in flight. A worker returns the results (small, pickled) or the problems.
- **Storing runs in the server process**, in the driver thread, through ``submitting.save_upload`` — the one
  store path of an upload (bytes, SHA-256, next version, results, 整改 items, audit row). Workers never open the
  database: SQLite takes one writer at a time, and a write transaction that started by reading fails at once
  (``SQLITE_BUSY_SNAPSHOT``, no busy wait) when another process wrote in between, so several processes writing
  would fail uploads; one writer thread per app adds one writer, which the busy timeout and the version retry
  already handle, on SQLite and PostgreSQL alike.

Every file sent has a line: scored (已评分: unit, version, total, grade), kept but not scorable (未通过: the
version and its problems, as a single upload keeps it), or not stored (失败: no unit code, a code not in the
project, several units in one file — with the problems found while reading it).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import multiprocessing
import threading
import time
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..engine.plan import Plan
from ..engine.result import Result
from ..io.read import UPLOAD_NAME, read_submission
from ..io.safety import FileLimits, UnsafeFile, check_bytes, is_zip
from ..problems import Problem, ScoringError
from .access import Actor
from .audit import record
from .errors import ApiError
from .models import ADMIN, INSPECTOR, Batch, Unit, User, now
from .rounds import require_open
from .schemas import ResultSummary, SubmissionOut
from .state import Service
from .submitting import save_upload
from .work import score_bytes

log = logging.getLogger("scoring.service")

# a batch's state (and 排队中 for a file not done yet)
QUEUED, RUNNING, FINISHED = "排队中", "进行中", "已完成"
SCORED, REFUSED, FAILED = "已评分", "未通过", "失败"  # a file's outcome
MAX_FILES = 2_000  # files in one batch (a zip's members are also bounded by the safety checks)
MAX_QUEUED = 8  # batches waiting with their bytes in memory (each at most the inflated limit): then 503
FLUSH_SECONDS = 0.5  # progress is written at most this often (and at the end)
ROLES = (ADMIN, INSPECTOR)


def workers_of(svc: Service) -> int:
    """The number of scoring processes (``Settings.limits.batch_workers``; at least one)."""
    return max(1, svc.settings.limits.batch_workers)


# ---------------------------------------------------------------------------------------------------- files


@dataclass
class Item:
    """One file of a batch: its name as sent (a zip member's path) and its bytes (dropped once stored)."""

    name: str
    data: bytes | None


def items_of(files: list[tuple[str | None, bytes]], limits: FileLimits) -> list[Item]:
    """The files a request carries: a zip that is not itself a workbook gives its members (after the safety
    checks); anything else is one file. 422 for an unsafe zip or no file; 413 for too many files."""
    out: list[Item] = []
    for name, data in files:
        if is_zip(data) and not _workbook(data):
            out.extend(_members(name or UPLOAD_NAME, data, limits))
        else:
            out.append(Item(name or UPLOAD_NAME, data))
        if len(out) > MAX_FILES:
            raise ApiError(
                413,
                "too-many-files",
                f"一次批量上传最多 {MAX_FILES} 个文件，已拒绝",
                f"at most {MAX_FILES} files in one batch",
            )
    if not out:
        raise ApiError(422, "upload-missing", "批量上传中没有任何文件", "the batch holds no file")
    return out


def _workbook(data: bytes) -> bool:
    """Whether a zip is a workbook (.xlsx, .ods) rather than a zip of files."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except Exception:
        return False
    return "[Content_Types].xml" in names or "mimetype" in names


def _members(name: str, data: bytes, limits: FileLimits) -> Iterator[Item]:
    try:
        check_bytes(data, limits)
    except UnsafeFile as exc:
        raise ApiError(
            422,
            "batch-unsafe",
            f"压缩包 {name} 未通过安全检查，已拒绝，没有保存任何文件：{exc.zh}",
            f"the zip {name} failed the safety checks; nothing stored: {exc.en}",
            [Problem("zip-unsafe", exc.zh, exc.en, file=name, cell=exc.place)],
        ) from None
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            with zf.open(info) as fh:  # checked above: inflates to exactly its declared size
                yield Item(_member_name(info), fh.read(info.file_size + 1))


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's path; a name zipped on Chinese Windows without the UTF-8 flag is GBK, not cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _plain(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1][:200] or UPLOAD_NAME


# ------------------------------------------------------------------------------------------------- workers


@dataclass
class Scored:
    """What a worker found in one file: the unit code it names (if it could be read that far), the results of
    its units, or the problems that stop it."""

    code: str | None
    results: list[Result] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


_WORKER_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan  # compiled on arrival (Plan.__reduce__), once per worker


def _score(data: bytes, filename: str, limits: FileLimits) -> Scored:
    """Scored as a single upload is (``work.score_bytes``); a file that cannot be scored is read once more only
    to find the unit it names, so that it is kept with that unit as 未通过."""
    plan = _WORKER_PLAN
    assert plan is not None
    try:
        results = score_bytes(plan, data, filename, limits)
    except ScoringError as err:
        try:
            code = read_submission(data, filename=filename, plan=plan, limits=limits).unit.code
        except ScoringError:
            code = None
        return Scored(code, [], err.problems)
    codes = [r.unit.code for r in results if r.unit.code]
    return Scored(codes[0] if codes else None, results)


# ---------------------------------------------------------------------------------------------- the runner


@dataclass
class Job:
    batch_id: int
    project_id: int
    actor: Actor
    plan: Plan
    items: list[Item]
    reason: str


class Batches:
    """The batches of one app: queued, then run one at a time by a driver thread (started when there is work,
    gone when there is none)."""

    def __init__(self, svc: Service, workers: int):
        self.svc, self.workers = svc, workers
        self._queue: deque[Job] = deque()
        self._lock = threading.Lock()
        self._driver: threading.Thread | None = None

    def start(self, actor: Actor, project_id: int, items: list[Item], reason: str | None) -> int:
        """Write the batch (every file a line, 排队中) and queue it; its id."""
        svc = self.svc
        with self._lock:
            waiting = len(self._queue)
        if waiting >= MAX_QUEUED:
            raise ApiError(
                503,
                "busy",
                f"已有 {waiting} 批文件在排队，请稍后再提交",
                f"{waiting} batches are waiting; try again later",
            )
        with svc.sessions() as session:
            project = actor.project(session, project_id)
        require_open(project)
        plan = svc.project_plan(project)
        lines = [_line(item.name) for item in items]
        with svc.transaction() as session:
            row = Batch(
                project_id=project_id, state=QUEUED, files=lines, reason=reason or "", created_by=actor.id
            )
            session.add(row)
            session.flush()
            record(session, actor.id, "batch", "batch", row.id, new={"files": len(items)}, reason=reason)
            batch_id = row.id
        job = Job(batch_id, project_id, actor, plan, items, reason or f"批量上传 #{batch_id}")
        with self._lock:
            self._queue.append(job)
            if self._driver is None:
                self._driver = threading.Thread(target=self._drive, name="scoring-batches", daemon=True)
                self._driver.start()
        return batch_id

    def _drive(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._driver = None
                    return
                job = self._queue.popleft()
            try:
                _Run(self.svc, job, self.workers).run()
            except Exception:
                log.exception("batch %s failed", job.batch_id)


class _Run:
    """One batch: files to the workers (bounded in flight), each result stored as it comes back, progress
    written every :data:`FLUSH_SECONDS` and at the end. Whatever happens, the batch ends 已完成 with every file
    accounted for."""

    def __init__(self, svc: Service, job: Job, workers: int):
        self.svc, self.job, self.workers = svc, job, workers
        self.lines = [_line(item.name) for item in job.items]
        self.flushed = 0.0

    def run(self) -> None:
        self.flush(RUNNING)
        try:
            self._score_all()
        except Exception as exc:  # a worker died (BrokenProcessPool) or the pool could not start
            log.exception("batch %s stopped", self.job.batch_id)
            for i, line in enumerate(self.lines):
                if line["state"] == QUEUED:
                    self.lines[i] = _failed(
                        line["file"],
                        [
                            Problem(
                                "batch-internal",
                                f"评分进程出错（{type(exc).__name__}），未处理",
                                "worker failed",
                            )
                        ],
                    )
        finally:
            self.flush(FINISHED, force=True)

    def _score_all(self) -> None:
        """Every file through the workers; when a worker dies (BrokenProcessPool: killed, out of memory) the
        files not done yet go to a new pool once more, then fail with their line."""
        pending = list(range(len(self.job.items)))
        for attempt in range(2):
            try:
                self._through_pool(pending)
                return
            except BrokenProcessPool:
                if attempt == 1:
                    raise
                log.warning(
                    "batch %s: a worker died; the files not done yet are scored again", self.job.batch_id
                )
                pending = [i for i in pending if self.lines[i]["state"] == QUEUED]

    def _through_pool(self, indices: list[int]) -> None:
        job, limits = self.job, self.svc.file_limits
        context = multiprocessing.get_context("forkserver")
        window = self.workers * 2
        todo = iter(indices)
        with ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_init_worker, initargs=(job.plan,)
        ) as pool:
            running: dict[Future[Scored], int] = {}

            def submit() -> bool:
                i = next(todo, None)
                if i is None:
                    return False
                item = job.items[i]
                assert item.data is not None
                running[pool.submit(_score, item.data, _plain(item.name), limits)] = i
                return True

            while len(running) < window and submit():
                pass
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = running.pop(fut)
                    self.lines[i] = self._store(job.items[i], fut.result())
                    job.items[i].data = None
                    self.flush(RUNNING)
                    submit()

    def _store(self, item: Item, scored: Scored) -> dict[str, Any]:
        try:
            return self._keep(item, scored)
        except ApiError as err:  # too many versions, …
            return _failed(item.name, [Problem(err.code, err.zh, err.en, file=item.name), *scored.problems])
        except Exception:
            log.exception("batch %s: storing %s", self.job.batch_id, item.name)
            return _failed(
                item.name, [Problem("batch-internal", "保存时服务内部错误，已记录", "internal error")]
            )

    def _keep(self, item: Item, scored: Scored) -> dict[str, Any]:
        job, name = self.job, item.name
        found = {r.unit.code for r in scored.results if r.unit.code}
        codes = sorted(found or ({scored.code} if scored.code else set()))
        if not codes:
            why = Problem(
                "batch-no-unit", "填报数据中没有单位代码，无法确定所属单位", "no unit code", file=name
            )
            return _failed(name, scored.problems or [why])
        if len(codes) > 1:
            return _failed(
                name,
                [
                    Problem(
                        "batch-units",
                        f"一个文件含有多个单位（{'、'.join(codes)}）",
                        "several units",
                        file=name,
                    )
                ],
            )
        code = codes[0]
        with self.svc.sessions() as session:
            unit = session.scalars(
                select(Unit).where(Unit.project_id == job.project_id, Unit.code == code)
            ).first()
        if unit is None:
            why = Problem(
                "batch-unit-unknown",
                f"单位代码 {code} 不在本评估项目的单位名单中，未保存",
                f"unit code {code} is not a unit of this project; not stored",
                file=name,
            )
            return _failed(name, [why, *scored.problems], unit=code)
        assert item.data is not None
        try:
            out = self._save(unit, item, scored)
        except ApiError as err:
            if err.code != "problems":
                raise
            return _line(name, REFUSED, unit, err.extra.get("version"), err.problems)
        return _line(name, SCORED, unit, out.version, results=out.results)

    def _save(self, unit: Unit, item: Item, scored: Scored) -> SubmissionOut:
        assert item.data is not None
        job = self.job
        for attempt in range(5):
            try:
                return save_upload(
                    self.svc,
                    job.actor,
                    unit,
                    item.data,
                    _plain(item.name),
                    scored.results,
                    scored.problems,
                    job.reason,
                )
            except IntegrityError:  # another upload took the version number: take the next
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def flush(self, state: str, force: bool = False) -> None:
        moment = time.monotonic()
        if not force and state == RUNNING and moment - self.flushed < FLUSH_SECONDS and self.flushed:
            return
        self.flushed = moment
        with self.svc.transaction() as session:
            row = session.get(Batch, self.job.batch_id)
            assert row is not None
            row.files = list(self.lines)
            row.state = state
            if state == FINISHED:
                row.finished_at = now()


def _line(
    name: str,
    state: str = QUEUED,
    unit: Unit | None = None,
    version: int | None = None,
    problems: list[Problem] | None = None,
    results: list[ResultSummary] | None = None,
) -> dict[str, Any]:
    first = results[0] if results else None
    return {
        "file": name,
        "state": state,
        "unit": unit.code if unit else None,
        "unit_name": unit.name if unit else None,
        "version": version,
        "total": first.total if first else None,
        "grade": first.grade if first else None,
        "results": [r.model_dump(mode="json") for r in results or []],
        "problems": [p.to_dict("zh") for p in problems or []],
    }


def _failed(name: str, problems: list[Problem], unit: str | None = None) -> dict[str, Any]:
    line = _line(name, FAILED, problems=problems)
    line["unit"] = unit
    return line


# ------------------------------------------------------------------------------------------------ answers


class BatchFileOut(BaseModel):
    file: str
    state: str  # 排队中, 已评分, 未通过 (kept, with its problems), 失败 (not stored)
    unit: str | None = None
    unit_name: str | None = None
    version: int | None = None
    total: str | None = None
    grade: str | None = None
    results: list[ResultSummary] = []
    problems: list[dict[str, object]] = []


class BatchOut(BaseModel):
    id: int
    project: int
    state: str
    total: int
    done: int
    failed: int
    created_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    files: list[BatchFileOut]


def batch_out(row: Batch, who: User | None) -> BatchOut:
    files = [BatchFileOut.model_validate(line) for line in row.files]
    return BatchOut(
        id=row.id,
        project=row.project_id,
        state=row.state,
        total=len(files),
        done=sum(f.state != QUEUED for f in files),
        failed=sum(f.state in (REFUSED, FAILED) for f in files),
        created_by=who.name if who else "",
        created_at=row.created_at,
        finished_at=row.finished_at,
        files=files,
    )
