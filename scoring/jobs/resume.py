"""Resuming a batch: what an output folder already holds, and whether it still answers this run.

A batch into a folder holding results of an earlier run does not start again: a province's workbooks take tens of
minutes with every report, and a run cut short (a closed laptop, a killed job, a lost cluster) must not cost them
twice. So every input whose outputs are whole gets a small record, written after its outputs and only then, in the
hidden folder ``.scoring-done`` of the output folder: the content hash (SHA-256) of the input's bytes, the
framework's content hash (``Plan.hash``), how it was scored (``Options``), the formats, the files written with the
size and SHA-256 of each, and the summary rows. A record is the only proof a unit is done: a unit whose writing was
cut short has none and is scored again; a unit whose input, framework or options changed no longer matches its
record and is scored again, its old outputs replaced (the record is removed before they are touched, so a cut in
between never vouches for a mixture).

The outputs and records are not fsync'd one by one (``io.files.unsynced``; the batch syncs once at its end): after
a power cut or a crash of the machine a record may have reached the disk while an output it names did not, or only
in part. So a record vouches only for outputs that are there with the very size and hash it holds
(:meth:`Record.damaged`); any other is the unit's cue to be scored again, and the batch says so. Records of format
2 (written when every file was fsync'd before its record) hold no hashes and are trusted as they were then: their
outputs must be there.

The records carry the rows, so the summary of a resumed run is rebuilt whole without reading any result again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..engine.rows import UnitRow
from ..engine.score import Options
from ..io.files import atomic_write
from ..io.safety import DEFAULT_FILE_LIMITS

RECORDS = ".scoring-done"  # hidden: never read as submissions, never listed as results
_VERSION = 3  # 3: each output's size and SHA-256 (outputs are no longer fsync'd one by one)
_READ = (2, 3)  # 2: rows keep region and first-level scores (the summary groups and averages)
# the temporary files of io.files.atomic_write (mkstemp's eight characters), left where its process was killed
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def file_digest(path: str | Path) -> str | None:
    """``sha256:<hex>`` of the file's bytes; None when it cannot be read or is larger than any submission may be
    (it is refused when read, so it never gets a record)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > DEFAULT_FILE_LIMITS.max_file:
                return None
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        return None
    return "sha256:" + h.hexdigest()


def output_digest(path: str | Path) -> tuple[int, str]:
    """The size and ``sha256:<hex>`` of a file just written (OSError when it cannot be read)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, "sha256:" + h.hexdigest()


def options_key(options: Options) -> str:
    """How a unit was scored, as compared between runs: ``--values self`` gives other results than ``final``."""
    return f"values={options.values};gap={options.gap_threshold};self={options.compare_self}"


@dataclass(frozen=True)
class Key:
    """What a unit's outputs depend on: the input's bytes, the framework and the options."""

    input: str
    framework: str
    options: str


@dataclass
class Record:
    """One input's outputs, whole: written after them (see the module's docstring)."""

    stem: str
    input: str  # the input's absolute path when it was scored
    key: Key
    formats: tuple[str, ...]
    outputs: list[str]  # file names in the output folder
    rows: list[UnitRow] = field(default_factory=list)
    # each output's size and sha256:<hex> as written; None for a record of format 2, which has none
    digests: dict[str, tuple[int, str]] | None = field(default_factory=dict)

    def seal(self, folder: Path) -> None:
        """Take each output's size and hash from the file written (OSError when one cannot be read)."""
        self.digests = {name: output_digest(folder / name) for name in self.outputs}

    def dumps(self) -> str:
        """The record as JSON: format 3, or 2 for one read as 2 (it has no hashes to give)."""
        digests = self.digests
        if digests is not None and set(self.outputs) - set(digests):
            raise ValueError(f"the record of {self.stem} holds no size and hash of some outputs: seal() it")
        data = {
            "version": _VERSION if digests is not None else 2,
            "stem": self.stem,
            "input": self.input,
            "input_sha256": self.key.input,
            "framework_hash": self.key.framework,
            "options": self.key.options,
            "formats": list(self.formats),
            "outputs": (
                list(self.outputs)
                if digests is None
                else [{"name": n, "size": digests[n][0], "sha256": digests[n][1]} for n in self.outputs]
            ),
            "rows": [_row_data(r) for r in self.rows],
        }
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def loads(cls, text: str | bytes) -> Record | None:
        """The record, or None when it is not one this version or the one before wrote whole (it is then not
        trusted, and its unit is scored again)."""
        try:
            d = json.loads(text)
            if d["version"] not in _READ:
                return None
            key = Key(str(d["input_sha256"]), str(d["framework_hash"]), str(d["options"]))
            digests: dict[str, tuple[int, str]] | None = None
            if d["version"] == 2:
                outputs = [str(o) for o in d["outputs"]]
            else:
                outputs = [str(o["name"]) for o in d["outputs"]]
                digests = {}
                for o in d["outputs"]:
                    size, digest = o["size"], str(o["sha256"])
                    if (
                        not isinstance(size, int)
                        or isinstance(size, bool)
                        or not digest.startswith("sha256:")
                    ):
                        return None
                    digests[str(o["name"])] = (size, digest)
            return cls(
                str(d["stem"]),
                str(d["input"]),
                key,
                tuple(str(f) for f in d["formats"]),
                outputs,
                [_row(r) for r in d["rows"]],
                digests,
            )
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError):
            return None

    def damaged(self, folder: Path) -> list[str]:
        """The outputs it lists that are not as it says: missing (removed by hand, or lost with a crash of the
        machine), or — for a record that holds them — of another size or SHA-256 (cut short, lost in part,
        edited). Sizes first: a hash is read only where the size agrees. Empty: the unit is whole."""
        bad = []
        for name in self.outputs:
            path = folder / name
            if self.digests is None:
                if not path.is_file():
                    bad.append(name)
                continue
            want = self.digests.get(name)
            try:
                if want is None or path.stat().st_size != want[0] or output_digest(path) != want:
                    bad.append(name)
            except OSError:
                bad.append(name)
        return bad

    def whole(self, folder: Path) -> bool:
        """Whether every output it lists is there as it says (:meth:`damaged`)."""
        return not self.damaged(folder)


def record_path(folder: Path, stem: str) -> Path:
    return folder / RECORDS / f"{stem}.json"


def read_record(folder: Path, stem: str) -> Record | None:
    try:
        return Record.loads(record_path(folder, stem).read_bytes())
    except OSError:
        return None


def all_records(folder: Path) -> list[Record]:
    """Every record in ``folder`` (in name order), the unreadable ones passed over."""
    try:
        paths = sorted((folder / RECORDS).glob("*.json"))
    except OSError:
        return []
    found = []
    for p in paths:
        try:
            rec = Record.loads(p.read_bytes())
        except OSError:
            continue
        if rec is not None and p.name == f"{rec.stem}.json":
            found.append(rec)
    return found


def write_record(folder: Path, record: Record) -> None:
    atomic_write(record_path(folder, record.stem), record.dumps())


def forget(folder: Path, stem: str, keep: Iterable[str] = ()) -> list[str]:
    """Remove ``stem``'s record, then the outputs it listed that are not in ``keep``; the names removed.

    The record goes first: from then on nothing says the unit is done, whatever happens next."""
    rec = read_record(folder, stem)
    path = record_path(folder, stem)
    path.unlink(missing_ok=True)
    if rec is None:
        return []
    kept = set(keep)
    removed = []
    for name in rec.outputs:
        if name not in kept and "/" not in name and name not in (".", ".."):
            (folder / name).unlink(missing_ok=True)
            removed.append(name)
    return removed


def sweep(folder: Path) -> None:
    """Remove the temporary files of writes cut short (a killed process or worker) from the output folder and its
    records; only while the folder is held, when no write of another run can be under way."""
    for where in (folder, folder / RECORDS):
        try:
            names = [p for p in where.iterdir() if _TEMPORARY.match(p.name) and p.is_file()]
        except OSError:
            continue
        for p in names:
            p.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------- the rows


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _row_data(row: UnitRow) -> dict[str, Any]:
    return {
        "file": row.file,
        "name": row.name,
        "code": row.code,
        "type": row.type,
        "total": _dec(row.total),
        "grade": row.grade,
        "passed": row.passed,
        "provisional": row.provisional,
        "completeness": str(row.completeness),
        "vetoes": row.vetoes,
        "shortfalls": [list(s) for s in row.shortfalls],
        "rectification_items": row.rectification_items,
        "data_warnings": row.data_warnings,
        "report": row.report,
        "region": row.region,
        "tops": [[code, name, _dec(points), _dec(full)] for code, name, points, full in row.tops],
    }


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _row(d: dict[str, Any]) -> UnitRow:
    passed = d["passed"]
    if passed is not None and not isinstance(passed, bool):
        raise TypeError("passed")
    return UnitRow(
        file=str(d["file"]),
        name=str(d["name"]),
        code=_opt(d["code"]),
        type=_opt(d["type"]),
        total=None if d["total"] is None else Decimal(d["total"]),
        grade=_opt(d["grade"]),
        passed=passed,
        provisional=bool(d["provisional"]),
        completeness=Decimal(d["completeness"]),
        vetoes=[str(v) for v in d["vetoes"]],
        shortfalls=[(str(c), str(n)) for c, n in d["shortfalls"]],
        rectification_items=int(d["rectification_items"]),
        data_warnings=[str(w) for w in d["data_warnings"]],
        report=_opt(d["report"]),
        region=_opt(d.get("region")),
        tops=[(str(c), str(n), _decimal(p), _decimal(f)) for c, n, p, f in d.get("tops", [])],
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
