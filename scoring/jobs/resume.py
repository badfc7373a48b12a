"""Resuming a batch: what an output folder already holds, and whether it still answers this run.

A batch into a folder holding results of an earlier run does not start again: a province's workbooks take tens of
minutes with every report, and a run cut short (a closed laptop, a killed job, a lost cluster) must not cost them
twice. So every input whose outputs are whole gets a small record, written after its outputs and only then, in the
hidden folder ``.scoring-done`` of the output folder: the content hash (SHA-256) of the input's bytes, the
framework's content hash (``Plan.hash``), how it was scored (``Options``), the formats and files written and the
summary rows. A record is the only proof a unit is done: a unit whose writing was cut short has none and is scored
again; a unit whose input, framework or options changed no longer matches its record and is scored again, its old
outputs replaced (the record is removed before they are touched, so a cut in between never vouches for a mixture).

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
_VERSION = 2  # 2: rows keep region and first-level scores (the summary groups and averages)
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

    def dumps(self) -> str:
        data = {
            "version": _VERSION,
            "stem": self.stem,
            "input": self.input,
            "input_sha256": self.key.input,
            "framework_hash": self.key.framework,
            "options": self.key.options,
            "formats": list(self.formats),
            "outputs": self.outputs,
            "rows": [_row_data(r) for r in self.rows],
        }
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def loads(cls, text: str | bytes) -> Record | None:
        """The record, or None when it is not one this version wrote whole (it is then not trusted)."""
        try:
            d = json.loads(text)
            if d["version"] != _VERSION:
                return None
            key = Key(str(d["input_sha256"]), str(d["framework_hash"]), str(d["options"]))
            return cls(
                str(d["stem"]),
                str(d["input"]),
                key,
                tuple(str(f) for f in d["formats"]),
                [str(o) for o in d["outputs"]],
                [_row(r) for r in d["rows"]],
            )
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError):
            return None

    def whole(self, folder: Path) -> bool:
        """Whether every output it lists is still there (a file removed by hand means the unit is not done)."""
        return all((folder / name).is_file() for name in self.outputs)


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
