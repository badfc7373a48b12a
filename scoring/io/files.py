"""Writing results: atomic files (a crash never leaves half a report); an output folder checked before any work
and held by one run at a time (:class:`FolderLock`)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from ..problems import Lang, Problem, ScoringError

_UNSYNCED: ContextVar[bool] = ContextVar("scoring_unsynced", default=False)


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write to a temporary file beside ``path``, flush it to the disk (fsync), then rename over it.

    Within :func:`unsynced` the fsync is left out: the rename is still atomic (a reader sees the old file or the
    new one, never a part), but after a power cut the new name may hold fewer bytes than were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            if not _UNSYNCED.get():
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def unsynced() -> Iterator[None]:
    """Atomic writes in this block (this thread or task) are not fsync'd one by one.

    For a writer that can tell afterwards whether what it wrote survived — a batch's resume record holds each
    output's size and SHA-256, and a unit whose outputs no longer match is scored again (``jobs.resume``) — and
    that makes its writes durable once, at its end (:func:`make_durable`). An fsync per file costs 0.3–1 ms, more
    than reading a 自评表."""
    token = _UNSYNCED.set(True)
    try:
        yield
    finally:
        _UNSYNCED.reset(token)


def make_durable(paths: Iterable[str | Path] = ()) -> None:
    """Everything written so far on the disk, in one step: ``os.sync()`` where there is one (POSIX).

    Why ``sync`` and not an fsync of each file written, or of their folders: the files of a batch are written by
    worker processes (the parent only knows their names), an fsync of a folder makes its names durable but not
    the files' contents, and one ``sync`` costs about what one fsync does whatever the number of files (Python
    has no ``syncfs``, which would limit it to the output's file system; ``sync`` also flushes other writers'
    data, which is harmless). Where there is no ``os.sync`` (Windows), each of ``paths`` is fsync'd instead."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for p in paths:  # pragma: no cover (Windows)
        with contextlib.suppress(OSError), open(p, "rb+") as fh:
            os.fsync(fh.fileno())


# ------------------------------------------------------------------------------------------- output folder

LOCK_NAME = ".scoring.lock"  # hidden: batches never read it as a submission
_STARTING = 30.0  # seconds: a lock file still empty this long after it was made is not being written any more


class OutputError(ScoringError):
    """An output folder cannot be used: it cannot be created or written, or another run holds it."""


def _problem(code: str, folder: Path, zh: str, en: str) -> OutputError:
    return OutputError([Problem(code, zh, en, file=str(folder))])


# what went wrong, in words a 督学 reads (the system's own words in English)
_REASONS = {
    errno.EACCES: "没有写入权限",
    errno.EPERM: "不允许写入（文件夹可能被设为只读或不可修改）",
    errno.EROFS: "所在的磁盘或分区是只读的",
    errno.ENOENT: "这个位置不能创建文件夹",
    errno.ENOTDIR: "路径中有一部分是文件，不是文件夹",
    errno.ENOSPC: "磁盘已满",
    getattr(errno, "EDQUOT", -1): "磁盘配额已用完",
    errno.ENAMETOOLONG: "路径太长",
    errno.EISDIR: "这里是一个文件夹",
}


def os_reason(err: OSError) -> tuple[str, str]:
    """Why an operating-system call failed: (Chinese, English)."""
    en = err.strerror or type(err).__name__
    return _REASONS.get(err.errno or 0, en), en


def output_folder(path: str | Path) -> Path:
    """The folder ``path``, created if missing; :class:`OutputError` when it is a file or cannot be made."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise _problem(
            "output-not-folder",
            folder,
            f"输出位置 {folder} 是一个文件，不是文件夹：请给出一个文件夹（不存在时会新建）",
            f"the output {folder} is a file, not a folder: give a folder (it is created when missing)",
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        zh, en = os_reason(err)
        raise _problem(
            "output-not-creatable",
            folder,
            f"无法创建输出文件夹 {folder}：{zh}",
            f"cannot create the output folder {folder}: {en}",
        ) from None
    return folder


@dataclass(frozen=True)
class LockInfo:
    """Who holds an output folder: the process, its host and when it started."""

    pid: int
    host: str
    started: str

    def text(self, lang: Lang = "zh") -> str:
        if lang == "zh":
            return f"进程 {self.pid}，主机 {self.host}，开始于 {self.started}"
        return f"process {self.pid} on {self.host}, started {self.started}"

    def dumps(self) -> bytes:
        return json.dumps({"pid": self.pid, "host": self.host, "started": self.started}).encode()

    @classmethod
    def loads(cls, data: bytes) -> LockInfo | None:
        try:
            raw = json.loads(data.decode("utf-8"))
            return cls(int(raw["pid"]), str(raw["host"]), str(raw["started"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    @classmethod
    def mine(cls) -> LockInfo:
        return cls(os.getpid(), socket.gethostname(), time.strftime("%Y-%m-%d %H:%M:%S"))


def _flock(fd: int, wait: bool = False) -> bool | None:
    """Hold an exclusive advisory lock on ``fd``: True when held, False when another process holds it, None where
    there are no such locks (Windows, some network file systems)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows: the pid in the file decides)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError:  # a file system without flock: the pid in the file decides
        return None
    return True


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (where it cannot be told, it is taken to run)."""
    if os.name == "nt":  # pragma: no cover (os.kill would end it)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
    except OSError:
        return False


class FolderLock:
    """An output folder held by one run: the file ``.scoring.lock`` in it, made atomically (``O_EXCL``), holding
    the run's pid, host and start time, locked with ``flock`` while the run lasts and removed at its end.

    A second run refuses (:class:`OutputError`) and names the holder. A lock left by a run that died on this host
    — nothing holds the file's flock, or where there is no flock its process no longer exists — is taken over
    (``taken_over`` says whose it was); one from another host, or that cannot be read, is never taken over: the
    message says how to remove it.
    """

    def __init__(self, folder: Path, fd: int, taken_over: LockInfo | None) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self.taken_over = taken_over
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, folder: str | Path) -> FolderLock:
        folder = Path(folder)
        path = folder / LOCK_NAME
        for _ in range(20):  # the holder may end between our steps: look again
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
            except FileExistsError:
                lock = cls._take_over(folder, path)
                if lock is not None:
                    return lock
                continue
            except OSError as err:
                zh, en = os_reason(err)
                raise _problem(
                    "output-not-writable",
                    folder,
                    f"无法写入输出文件夹 {folder}：{zh}",
                    f"cannot write to the output folder {folder}: {en}",
                ) from None
            _flock(fd, wait=True)  # at once: another run may only be reading the new file
            _write(fd, LockInfo.mine())
            return cls(folder, fd, None)
        raise _problem(  # pragma: no cover (the lock came and went twenty times)
            "output-locked",
            folder,
            f"输出文件夹 {folder} 正被另一次评分反复使用，请稍后再试",
            f"the output folder {folder} is being used by other runs; try again later",
        )

    @classmethod
    def _take_over(cls, folder: Path, path: Path) -> FolderLock | None:
        """The lock file exists: take it over when its run is gone; None to look again; else OutputError."""
        try:
            fd = os.open(path, os.O_RDWR | _NOFOLLOW)
        except FileNotFoundError:
            return None  # its run just ended
        except OSError as err:
            zh, en = os_reason(err)
            raise _stuck(folder, path, None, f"无法打开（{zh}）", f"cannot be opened ({en})") from None
        try:
            held = _flock(fd)
            if held is not False and not _same_file(fd, path):
                os.close(fd)
                return None  # removed (and perhaps made again) while we opened it
            info = LockInfo.loads(os.pread(fd, 4096, 0))
            here = socket.gethostname()
            # a run holds its lock file's flock while it lasts: free, the run is gone (where there is no flock, a
            # process of this host with its pid tells)
            if held is False or (
                held is None and info is not None and info.host == here and _alive(info.pid)
            ):
                raise _in_use(folder, info)
            if info is None:
                if time.time() - os.fstat(fd).st_mtime < _STARTING:
                    raise _in_use(folder, None)  # a run is writing it right now
                raise _stuck(folder, path, None, "内容无法识别", "cannot be read")
            if info.host != here:
                raise _stuck(
                    folder,
                    path,
                    info,
                    f"它来自另一台电脑（{info.host}），无法确认那次评分是否已结束",
                    f"it comes from another computer ({info.host}); whether that run has ended cannot be told",
                )
        except BaseException:
            os.close(fd)
            raise
        _write(fd, LockInfo.mine())  # its process is gone and nothing holds the file: ours now
        return cls(folder, fd, info)

    def release(self) -> None:
        """Remove the lock file (if it is still ours) and let go of it."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if _same_file(fd, self.path):
                self.path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # a lock file that is a link is never written through


def _write(fd: int, info: LockInfo) -> None:
    data = info.dumps()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def _in_use(folder: Path, info: LockInfo | None) -> OutputError:
    who_zh = f"（{info.text('zh')}）" if info else ""
    who_en = f" ({info.text('en')})" if info else ""
    return _problem(
        "output-locked",
        folder,
        f"输出文件夹 {folder} 正被另一次评分使用{who_zh}：请等它结束，或换一个输出文件夹（-o）",
        f"the output folder {folder} is in use by another run{who_en}: wait for it to end, or choose another"
        " output folder (-o)",
    )


def _stuck(folder: Path, path: Path, info: LockInfo | None, why_zh: str, why_en: str) -> OutputError:
    who_zh = f"（{info.text('zh')}）" if info else ""
    who_en = f" ({info.text('en')})" if info else ""
    return _problem(
        "output-lock-stale",
        folder,
        f"输出文件夹 {folder} 有另一次评分留下的锁文件 {path}{who_zh}，{why_zh}：确认没有评分在使用这个文件夹后，"
        f"删除 {path} 再运行",
        f"the output folder {folder} holds the lock file {path} of another run{who_en}; {why_en}: once sure no"
        f" run uses the folder, delete {path} and run again",
    )
