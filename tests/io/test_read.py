"""read_submission from a path, bytes or a binary file object: the format by content, the safety checks on the
bytes before any parser, and every problem still naming the file (or the upload placeholder)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

import scoring
from scoring.io import read as read_module
from scoring.io import workbook
from scoring.io.layout import SHEET
from scoring.io.read import UPLOAD_NAME
from scoring.io.safety import FileLimits

from ..conftest import ROOT
from ..excel import PLAN, zip_bomb
from .test_libreoffice import SOFFICE, _resave

DEMO = ROOT / "examples" / "demo-school"
STRONG_XLSX = DEMO / "strong.xlsx"
NEEDS_SOFFICE = pytest.mark.skipif(
    SOFFICE is None and os.environ.get("CI") != "true",
    reason="LibreOffice is not installed (.ci/run installs it); it makes the .xls and .ods copies",
)


@pytest.fixture(scope="module")
def resaved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """strong.xlsx saved by LibreOffice as legacy .xls and as .ods, once for the module."""
    assert SOFFICE, "CI must have LibreOffice"
    tmp = tmp_path_factory.mktemp("resaved")
    return {
        "xls": _resave(STRONG_XLSX, "xls:MS Excel 97", tmp),
        "ods": _resave(STRONG_XLSX, "ods", tmp),
    }


def _example(fmt: str, resaved: dict[str, Path] | None) -> Path:
    if fmt in ("xls", "ods"):
        assert resaved is not None
        return resaved[fmt]
    return {"xlsx": STRONG_XLSX, "json": DEMO / "weak.json", "yaml": DEMO / "strong.yaml"}[fmt]


FORMATS = [
    "xlsx",
    pytest.param("xls", marks=NEEDS_SOFFICE),
    pytest.param("ods", marks=NEEDS_SOFFICE),
    "json",
    "yaml",
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_path_its_bytes_and_its_file_object_read_the_same(fmt: str, request: pytest.FixtureRequest) -> None:
    path = _example(fmt, request.getfixturevalue("resaved") if fmt in ("xls", "ods") else None)
    from_path = scoring.read_submission(path, plan=PLAN)
    from_bytes = scoring.read_submission(path.read_bytes(), filename=str(path), plan=PLAN)
    with open(path, "rb") as fh:
        from_file = scoring.read_submission(fh, plan=PLAN)
    assert from_path == from_bytes == from_file
    assert from_path.source == str(path)
    if fmt in ("json", "yaml"):  # a JSON/YAML submission needs no plan
        assert scoring.read_submission(path) == from_path


@NEEDS_SOFFICE
def test_the_xls_and_ods_copies_hold_the_xlsx_values(resaved: dict[str, Path]) -> None:
    """Guards the test above: the LibreOffice copies are real workbooks with the example's values."""
    original = scoring.read_submission(STRONG_XLSX, plan=PLAN)
    for path in resaved.values():
        got = scoring.read_submission(path.read_bytes(), plan=PLAN)
        assert (got.unit, got.values, got.evaluator_values, got.manual) == (
            original.unit,
            original.values,
            original.evaluator_values,
            original.manual,
        ), path.name


def test_the_content_decides_not_the_name(tmp_path: Path) -> None:
    disguised = tmp_path / "strong.json"
    disguised.write_bytes(STRONG_XLSX.read_bytes())
    expected = scoring.read_submission(STRONG_XLSX, plan=PLAN)
    assert scoring.read_submission(disguised, plan=PLAN) == expected.model_copy(
        update={"source": str(disguised)}
    )
    yaml_as_xlsx = tmp_path / "strong.xlsx"
    yaml_as_xlsx.write_bytes((DEMO / "strong.yaml").read_bytes())
    assert (
        scoring.read_submission(yaml_as_xlsx).values == scoring.read_submission(DEMO / "strong.yaml").values
    )
    json_as_yaml = scoring.read_submission((DEMO / "weak.json").read_bytes(), filename="weak.yaml")
    assert json_as_yaml.values == scoring.read_submission(DEMO / "weak.json").values


def test_bytes_without_a_name_carry_the_upload_placeholder() -> None:
    sub = scoring.read_submission(STRONG_XLSX.read_bytes(), plan=PLAN)
    assert sub.source == UPLOAD_NAME
    assert scoring.read_submission(io.BytesIO((DEMO / "strong.yaml").read_bytes())).source == UPLOAD_NAME


def test_a_zip_bomb_given_as_bytes_is_refused_before_any_parser(tmp_path: Path, monkeypatch) -> None:
    data = zip_bomb(tmp_path / "bomb.xlsx").read_bytes()

    def parser(*args: object) -> None:
        raise AssertionError("a parser opened the bomb")

    monkeypatch.setattr(read_module, "workbook_format", parser)
    monkeypatch.setattr(read_module, "read_workbook_bytes", parser)
    monkeypatch.setattr(workbook, "_open", parser)
    for plan in (PLAN, None):  # refused before the missing plan is even noticed
        for source, name in ((data, None), (io.BytesIO(data), None), (data, "假装.json")):
            with pytest.raises(scoring.SubmissionError) as err:
                scoring.read_submission(source, filename=name, plan=plan)
            (problem,) = err.value.problems
            assert "疑似压缩炸弹" in problem.message_zh and problem.file == (name or UPLOAD_NAME)


def test_a_stream_is_read_no_further_than_the_size_limit() -> None:
    class Endless:
        """A body that never ends, a few bytes at a time (as a socket gives them)."""

        def __init__(self) -> None:
            self.given = 0

        def read(self, size: int = -1, /) -> bytes:
            n = min(size, 7) if size >= 0 else 7
            self.given += n
            return b"a" * n

    body = Endless()
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.read_submission(body, limits=FileLimits(max_file=1024 * 1024))
    assert err.value.problems[0].message_zh == "文件 1 MiB，超过 1 MiB 的上限"
    assert body.given == 1024 * 1024 + 1


def test_a_workbook_without_a_plan_says_it_needs_the_framework(tmp_path: Path) -> None:
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.read_submission(STRONG_XLSX)
    (problem,) = err.value.problems
    assert problem.code == "workbook-needs-plan" and problem.file == str(STRONG_XLSX)
    assert problem.message_zh.startswith("读取 Excel 自评表需要指定框架（plan=…）")
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as zf:  # an .ods shows itself by its mimetype member
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.read_submission(ods.getvalue(), filename="自评表.ods")
    (problem,) = err.value.problems
    assert problem.format() == (
        "自评表.ods: 错误 [workbook-needs-plan]: 读取 Excel 自评表需要指定框架（plan=…）："
        "这个文件是 OpenDocument (.ods) 工作簿，不是 JSON/YAML 填报数据"
    )


def test_bad_cells_name_the_file_or_the_upload_the_sheet_and_the_cell(tmp_path: Path) -> None:
    path = tmp_path / "filled.xlsx"
    wb = load_workbook(STRONG_XLSX)
    rows = {r[0].value: r for r in wb[SHEET].iter_rows() if r[0].value}
    rows["students"][5].value = "很多"
    wb.save(path)
    row = rows["students"][5].row
    cell = f"自评表!F{row} (填报值（自评） · 在校生数): 错误 [bad-value]: 应填数值，这里是 “很多”"
    for source, name, shown in (
        (path, None, str(path)),
        (path.read_bytes(), "第一小学.xlsx", "第一小学.xlsx"),
        (io.BytesIO(path.read_bytes()), None, UPLOAD_NAME),
    ):
        with pytest.raises(scoring.SubmissionError) as err:
            scoring.read_submission(source, filename=name, plan=PLAN)
        assert [p.format() for p in err.value.problems] == [f"{shown} — {cell}"]


def test_text_problems_keep_their_line_and_name() -> None:
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.read_submission(b'{\n  "unit": {"name": "x"}\n  "values": {}\n}')  # no YAML either
    assert (
        err.value.problems[0].format()
        == f"{UPLOAD_NAME}:3:3: 错误 [json-syntax]: JSON 语法错误：Expecting ',' delimiter"
    )
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.read_submission("unit: 甲校\n".encode("gbk") + b"\xff", filename="s.yaml")
    assert (err.value.problems[0].code, err.value.problems[0].file) == ("encoding", "s.yaml")
    flow = scoring.read_submission("{unit: {name: 甲校, type: 小学}, values: {students: 500}}".encode())
    assert flow.values == {"students": 500}  # starts like JSON, is flow-style YAML


def test_a_workbook_name_on_other_content_is_a_broken_workbook_not_an_encoding_fault() -> None:
    for data in (b"\xff\xfe\x00garbage", b"<html><table><tr><td>1</td></tr></table></html>"):
        with pytest.raises(scoring.SubmissionError) as err:
            scoring.read_submission(data, filename="导出.xls", plan=PLAN)
        (problem,) = err.value.problems
        assert problem.code == "workbook-corrupt" and "不是 Excel/WPS 工作簿" in problem.message_zh


def test_a_text_mode_file_is_a_programming_error() -> None:
    with open(DEMO / "strong.yaml", encoding="utf-8") as fh, pytest.raises(TypeError, match="binary"):
        scoring.read_submission(fh)  # type: ignore[arg-type]
