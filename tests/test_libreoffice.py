"""A template filled and re-saved by LibreOffice (as .xlsx, .ods and legacy .xls) reads back the same.

.ci/run installs LibreOffice, so under CI=true this test must run; elsewhere it is skipped without soffice.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import scoring
from scoring.workbook import read_workbook

from .conftest import ROOT
from .excel import PLAN, filled

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None and os.environ.get("CI") != "true",
    reason="LibreOffice is not installed (.ci/run installs it)",
)


@pytest.mark.parametrize("target", ["xlsx:Calc MS Excel 2007 XML", "ods", "xls:MS Excel 97"])
def test_libreoffice_resave_reads_back_the_same(tmp_path, target):
    assert SOFFICE, "CI must have LibreOffice"
    sub = scoring.read_submission(ROOT / "examples" / "demo-school" / "weak.json")
    original = filled(tmp_path, sub)
    out = tmp_path / "resaved"
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
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
    resaved = out / f"filled.{target.split(':')[0]}"
    a, b = read_workbook(original, PLAN), read_workbook(resaved, PLAN)
    assert (b.unit, b.values, b.evaluator_values, b.manual) == (
        a.unit,
        a.values,
        a.evaluator_values,
        a.manual,
    )
    assert scoring.score(PLAN, b).total == scoring.score(PLAN, a).total
