"""Batches on a Dask distributed cluster: the same jobs as the local process pool, the same outcomes.

A province's workbooks outgrow one machine's two cores; a Dask scheduler with workers on several machines takes
the same work items. The compiled plan travels to each worker once (scattered to all of them; it pickles as its
framework and check and is compiled on arrival, ``Plan.__reduce__``), then tasks of a few files each stream through
a bounded window, so neither the scheduler nor this process holds more than a few dozen tasks at a time. A task of
one file would cost the scheduler about as much as the file costs a worker (benchmarks/cluster.py), hence the
few. Inputs and outputs are paths every worker can reach (a shared folder; object storage goes through
``jobs.storage``): a worker reads the file and writes its reports and record itself (``jobs.resume``), and only the small outcome comes back. A worker that dies takes no file
with it: the scheduler gives its tasks to another worker, whose atomic writes replace whatever the first one left.

Dask is an optional extra (``pip install 'duping-scoring[cluster]'``), imported only when a cluster is asked for
(through ``importlib``, so the package type-checks where it is not installed).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..engine.plan import Plan
from ..engine.rows import FailureRow
from ..engine.score import Options
from ..engine.submission import Submission
from ..io.files import make_durable
from ..io.read import read_submission
from ..problems import Problem, ScoringError
from .batch import FileOutcome, Job, Outputs, score_file

CONNECT_TIMEOUT = 20.0  # seconds to reach the scheduler
CHUNK = 16  # files per task at most (chunk_size)


class ClusterError(ScoringError):
    """No cluster to score on: Dask is not installed, or the scheduler cannot be reached."""


def distributed() -> Any:
    """The ``distributed`` module, or :class:`ClusterError` saying how to install it."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise ClusterError(
            [
                Problem(
                    "cluster-unavailable",
                    "未安装 Dask distributed，不能使用 --scheduler：请先安装集群扩展"
                    "（pip install 'duping-scoring[cluster]'），或去掉 --scheduler 在本机评分",
                    "Dask distributed is not installed, so --scheduler cannot be used: install the cluster extra"
                    " (pip install 'duping-scoring[cluster]'), or leave out --scheduler to score on this machine",
                )
            ]
        ) from None


def _task(
    plan: Plan,
    jobs: list[Job],
    outdir: str | None,
    formats: Outputs,
    options: Options,
    explain: tuple[str, ...],
) -> list[FileOutcome]:
    """A few files on a worker (``plan`` is the worker's own copy of the scattered plan). Their files are not
    fsync'd one by one (``jobs.resume``): the worker, perhaps on another machine than the batch, makes them durable
    before it answers."""
    out = Path(outdir) if outdir else None
    done = [score_file(plan, Path(j.path), out, j.stem, formats, options, explain, j.shown) for j in jobs]
    if out is not None:
        make_durable(o for outcome in done for o in outcome.outputs)
    return done


def _read(plan: Plan, jobs: list[Job]) -> list[Submission | list[Problem]]:
    """A few files read on a worker: each one's submission, or the problems that refused it."""
    out: list[Submission | list[Problem]] = []
    for job in jobs:
        try:
            out.append(read_submission(job.path, filename=job.shown, plan=plan))
        except ScoringError as err:
            out.append(err.problems)
    return out


def chunk_size(files: int, threads: int) -> int:
    """Files per task: enough that the scheduler's few milliseconds per task hardly count (measured in
    benchmarks/cluster.py), few enough that every worker thread gets eight tasks or more, so a slow worker or a
    lost one holds up little."""
    return max(1, min(CHUNK, files // (threads * 8)))


class Cluster:
    """A connection to a Dask scheduler that scores a batch's jobs (a ``jobs.batch.Executor``)."""

    def __init__(self, client: Any, address: str) -> None:
        self.client = client
        self.address = address

    @classmethod
    def connect(cls, address: str, timeout: float = CONNECT_TIMEOUT) -> Cluster:
        """Connected to the scheduler at ``address`` (``tcp://host:8786``), or :class:`ClusterError` saying why not."""
        d = distributed()
        try:
            client = d.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            why = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ClusterError(
                [
                    Problem(
                        "cluster-unreachable",
                        f"无法连接 Dask 调度器 {address}（{why}）：请确认调度器已启动（dask scheduler），地址和端口"
                        "正确，且本机能访问它",
                        f"cannot reach the Dask scheduler at {address} ({why}): check that it runs (dask scheduler),"
                        " that the address and port are right and that this machine can reach it",
                    )
                ]
            ) from None
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            client.close()
            raise ClusterError(
                [
                    Problem(
                        "cluster-no-workers",
                        f"Dask 调度器 {address} 上没有工作节点（等了 {timeout:g} 秒）：请在各台电脑上启动"
                        f"（dask worker {address} --nworkers 2 --nthreads 1）",
                        f"the Dask scheduler at {address} has no workers (waited {timeout:g} s): start them on each"
                        f" machine (dask worker {address} --nworkers 2 --nthreads 1)",
                    )
                ]
            ) from None
        return cls(client, address)

    def threads(self) -> int:
        """Task slots of the workers connected now."""
        return sum(self.client.nthreads().values()) or 1

    def outcomes(
        self,
        plan: Plan,
        jobs: list[Job],
        outdir: Path | None,
        formats: Outputs,
        options: Options,
        explain: tuple[str, ...],
    ) -> Iterator[FileOutcome]:
        """One outcome per job, as their tasks finish."""
        out = str(Path(outdir).absolute()) if outdir is not None else None
        for chunk, fut in self._stream(plan, jobs, _task, out, formats, options, explain):
            yield from _outcomes(fut, chunk)

    def read(self, plan: Plan, files: Sequence[Path]) -> Iterator[tuple[Path, Submission | list[Problem]]]:
        """Each file read on a worker (``scoring cohort`` over a folder of workbooks), in the order given: the
        submission, or the problems that refused it. The county needs every school at once, so the caller holds
        them all; only the reading is spread."""
        jobs = [Job(os.path.abspath(f), str(f), str(i)) for i, f in enumerate(files)]
        done: dict[int, Submission | list[Problem]] = {}
        following = 0
        for chunk, fut in self._stream(plan, jobs, _read):
            for job, got in zip(chunk, _read_outcomes(fut, chunk), strict=True):
                done[int(job.stem)] = got
            while following in done:  # in file order, each as soon as those before it are in
                yield files[following], done.pop(following)
                following += 1

    def _stream(
        self, plan: Plan, jobs: Sequence[Job], fn: Any, *args: Any, size: int | None = None
    ) -> Iterator[tuple[list[Job], Any]]:
        """``fn(plan, chunk, *args)`` for every chunk of jobs on the workers, the plan sent to each worker once;
        each chunk with its finished future, in the order they finish, a few tasks per worker thread in flight.
        ``size``: jobs per chunk (default :func:`chunk_size`)."""
        if not jobs:
            return
        d = distributed()
        [shared] = self.client.scatter([plan], broadcast=True, hash=False)
        threads = self.threads()
        size = size or chunk_size(len(jobs), threads)
        chunks = (list(jobs[i : i + size]) for i in range(0, len(jobs), size))
        running = d.as_completed(loop=self.client.loop)
        waiting: dict[str, list[Job]] = {}

        def submit() -> None:
            chunk = next(chunks, None)
            if chunk is not None:
                fut = self.client.submit(fn, shared, chunk, *args, pure=False)
                waiting[fut.key] = chunk
                running.add(fut)

        for _ in range(max(8, 4 * threads)):
            submit()
        try:
            for fut in running:
                yield waiting.pop(fut.key), fut
                fut.release()
                submit()
        finally:
            shared.release()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_outcomes(fut: Any, chunk: list[Job]) -> list[Submission | list[Problem]]:
    try:
        got: list[Submission | list[Problem]] = fut.result()
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        return [
            [
                Problem(
                    "cluster-task-failed",
                    f"集群未能读取此文件（{why}）",
                    f"the cluster could not read this file ({why})",
                    file=job.shown,
                )
            ]
            for job in chunk
        ]
    return got


def _outcomes(fut: Any, chunk: list[Job]) -> list[FileOutcome]:
    """The task's outcomes; a task the cluster could not run (its workers died again and again, the scheduler went
    away) is a failure of each of its files, and the batch goes on."""
    try:
        outcomes: list[FileOutcome] = fut.result()
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        return [
            FileOutcome(
                job.shown,
                failure=FailureRow(
                    job.shown,
                    [f"{job.shown}: 集群未能完成此文件（{why}）；再次运行同一命令会补做"],
                    [
                        f"{job.shown}: the cluster could not finish this file ({why}); run the same command again"
                    ],
                ),
            )
            for job in chunk
        ]
    return outcomes
