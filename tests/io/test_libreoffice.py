"""A template filled and re-saved by LibreOffice (as .xlsx, .ods and legacy .xls) reads back the same.

.ci/run installs LibreOffice, so under CI=true this test must run; elsewhere it is skipped without soffice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

import scoring
from scoring.io.workbook import read_workbook

from ..conftest import ROOT
from ..excel import PLAN, filled

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None and os.environ.get("CI") != "true",
    reason="LibreOffice is not installed (.ci/run installs it)",
)


def _resave(original: Path, target: str, tmp_path: Path) -> Path:
    """``original`` converted by LibreOffice to ``target`` (e.g. "ods"), in a throwaway profile."""
    out = tmp_path / "resaved"
    subprocess.run(
        [
            SOFFICE,  # type: ignore[list-item]
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(original),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out / f"{original.stem}.{target.split(':')[0]}"


@pytest.mark.parametrize("target", ["xlsx:Calc MS Excel 2007 XML", "ods", "xls:MS Excel 97"])
def test_libreoffice_resave_reads_back_the_same(tmp_path, target):
    assert SOFFICE, "CI must have LibreOffice"
    sub = scoring.read_submission(ROOT / "examples" / "demo-school" / "weak.json")
    original = filled(tmp_path, sub)
    resaved = _resave(original, target, tmp_path)
    a, b = read_workbook(original, PLAN), read_workbook(resaved, PLAN)
    assert (b.unit, b.values, b.evaluator_values, b.manual) == (
        a.unit,
        a.values,
        a.evaluator_values,
        a.manual,
    )
    assert scoring.score(PLAN, b).total == scoring.score(PLAN, a).total


def _with_percentages(tmp_path: Path) -> Path:
    """The weak example's workbook with 96% typed into a percent field (stored 0.96, formatted as a percentage)
    and 0.5 typed as a plain number into another."""
    from openpyxl import load_workbook

    from scoring.io.layout import SHEET

    original = filled(tmp_path, scoring.read_submission(ROOT / "examples" / "demo-school" / "weak.json"))
    wb = load_workbook(original)
    rows = {r[0].value: r for r in wb[SHEET].iter_rows() if r[0].value}
    rows["after_school_rate"][5].value = 0.96
    rows["after_school_rate"][5].number_format = "0%"
    rows["pe_pass_rate"][5].value = 0.5  # 0.5 written as a plain number: 0.5 %, as written
    wb.save(original)
    return original


@pytest.mark.parametrize("target", ["xlsx:Calc MS Excel 2007 XML", "ods", "xls:MS Excel 97"])
def test_a_percentage_typed_in_a_percent_field_survives_a_resave(tmp_path, target):
    """96% typed into a percent field is stored as 0.96 formatted as a percentage; after LibreOffice re-saves the
    workbook the reader still takes 96 (from the .xlsx or .xls number format, or the .ods value type)."""
    assert SOFFICE, "CI must have LibreOffice"
    original = _with_percentages(tmp_path)
    for path in (original, _resave(original, target, tmp_path)):
        got = read_workbook(path, PLAN).values
        assert (got["after_school_rate"], got["pe_pass_rate"]) == (96, Decimal("0.5")), path.name


def test_an_xls_whose_cell_formats_cannot_be_read_asks_for_the_number(tmp_path, monkeypatch):
    """When the .xls formats cannot be read, 0.96 in a percent field could be 0.96 % or 96 %: the reader says so
    at the cell instead of guessing."""
    from scoring.io import workbook
    from scoring.io.layout import SHEET
    from scoring.problems import SubmissionError

    assert SOFFICE, "CI must have LibreOffice"
    resaved = _resave(_with_percentages(tmp_path), "xls:MS Excel 97", tmp_path)

    def unreadable(path, wanted):
        raise ValueError("corrupt formatting records")

    monkeypatch.setattr(workbook, "_xls_percentages", unreadable)
    with pytest.raises(SubmissionError) as err:
        read_workbook(resaved, PLAN)
    rate, pe = err.value.problems  # both 0 < v ≤ 1 in a percent field
    assert rate.cell is not None and rate.cell.startswith(f"{SHEET}!F") and "课后服务" in rate.cell
    assert "分不清是 0.96% 还是 96%" in rate.message_zh and "如 96" in rate.message_zh
    assert "分不清是 0.5% 还是 50%" in pe.message_zh
