"""Filling a template from a Submission: for integrators who convert other data into 自评表, for examples and tests."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from ..engine.submission import Submission
from .files import atomic_write
from .layout import COL_EVAL, COL_ID, COL_SELF, SHEET


def _cell_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def fill_template(template: str | Path, submission: Submission, out: str | Path) -> Path:
    """Write ``submission``'s unit, values, evaluator values and manual ratings into a copy of ``template``."""
    wb = load_workbook(template)
    ws = wb[SHEET]
    for row in ws.iter_rows(min_row=1):
        key = row[COL_ID - 1].value
        if not isinstance(key, str):
            continue
        if key.startswith("unit."):
            value = getattr(submission.unit, key[5:], None)
            if value is not None:
                row[COL_SELF - 1].value = value if isinstance(value, dt.date) else str(value)
                if isinstance(value, str):
                    row[COL_SELF - 1].data_type = "s"
        elif key.startswith("manual:"):
            value = submission.manual.get(key[7:])
            if value is not None:
                row[COL_EVAL - 1].value = str(value)
        else:
            if key in submission.values and not row[COL_SELF - 1].protection.locked:  # locked: evaluator-only
                row[COL_SELF - 1].value = _cell_value(submission.values[key])
            if key in submission.evaluator_values and len(row) >= COL_EVAL:
                row[COL_EVAL - 1].value = _cell_value(submission.evaluator_values[key])
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write(out, buf.getvalue())
