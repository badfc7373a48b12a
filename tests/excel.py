"""Making workbooks for tests: templates, filled copies, broken files and zip bombs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import scoring
from scoring.io.fill import fill_template
from scoring.io.template import write_template

PLAN = scoring.compile_plan(scoring.load_framework("demo-school"))


def filled(
    tmp: Path, submission: scoring.Submission, name: str = "filled.xlsx", evaluator: bool = True
) -> Path:
    tpl = write_template(PLAN, tmp / f"_template_{evaluator}.xlsx", evaluator=evaluator)
    return fill_template(tpl, submission, tmp / name)


def zip_bomb(path: Path, mib: int = 60) -> Path:
    """A file named .xlsx whose one member inflates to ``mib`` MiB of zeros (about 1000:1)."""
    chunk = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh,
    ):
        for _ in range(mib):
            fh.write(chunk)
    return path
