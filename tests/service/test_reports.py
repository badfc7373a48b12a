"""Report downloads (issues #16, #17): every file ``scoring score`` writes, for a unit's current result and a
project's 汇总, on SQLite and PostgreSQL — compared with what the CLI writes for the same workbook (JSON and
Markdown byte for byte, the .docx documents paragraph for paragraph with the same issuer), the workbook and the
PDF read back (openpyxl, pypdf) for the school's name and total; and who may download what."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from scoring.cli import main

from .conftest import EXAMPLES, A, B, World, service_of

MEDIA = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "opinion.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "notice.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
NAMES = {
    "json": "滨江实验小学-评分结果.json",
    "md": "滨江实验小学-评估报告.md",
    "xlsx": "滨江实验小学-评估报告.xlsx",
    "pdf": "滨江实验小学-评估报告.pdf",
    "opinion.docx": "滨江实验小学-督导意见书.docx",
    "notice.docx": "滨江实验小学-整改通知书.docx",
}
ISSUER = "发文机关: 教育督导室\n"  # the service's default office, given to the CLI as --issuer


def _pdf_ready() -> None:
    from scoring.problems import ScoringError
    from scoring.report.pdf import choose_fonts

    try:
        choose_fonts()
    except ScoringError as err:
        pytest.skip(f"PDF 无法生成：{err.problems[0].message_zh}")


def _upload(w: World, code: str, name: str, who: dict[str, str]) -> None:
    r = w.c.post(
        w.unit_path(code, "/submissions"), files={"file": (name, (EXAMPLES / name).read_bytes())}, headers=who
    )
    assert r.status_code == 201, r.text


def _filename(disposition: str) -> str:
    assert disposition.startswith("attachment; ")
    return unquote(disposition.split("filename*=UTF-8''", 1)[1])


def _cli_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """``scoring score demo-school <name> --reports json,md,xlsx,pdf,docx --issuer …`` run where the file is, so
    the result names it as the upload does (its ``source``)."""
    folder = tmp_path / "cli"
    folder.mkdir()
    (folder / name).write_bytes((EXAMPLES / name).read_bytes())
    (folder / "issuer.yaml").write_text(ISSUER, encoding="utf-8")
    monkeypatch.chdir(folder)
    ran = CliRunner().invoke(
        main,
        [
            "score",
            "demo-school",
            name,
            "-o",
            "out",
            "--reports",
            "json,md,xlsx,pdf,docx",
            "--issuer",
            "issuer.yaml",
        ],
    )
    assert ran.exit_code == 0, ran.output
    return folder / "out"


def _has_number(cells: list[str], total: str) -> bool:
    """Whether a cell holds the number ``total`` (a workbook keeps 23.00 as the number 23.0)."""
    for v in cells:
        try:
            if Decimal(v) == Decimal(total):
                return True
        except ArithmeticError:
            continue
    return False


def _docx_text(data: bytes) -> list[str]:
    import docx

    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages).replace(" ", "")


def _cells(data: bytes) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [
        str(v)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for v in row
        if v is not None
    ]


def test_every_report_of_a_unit_is_what_the_cli_writes(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pdf_ready()
    w = world
    _upload(w, A, "strong.xlsx", w.school_a)
    cli = _cli_reports(tmp_path, monkeypatch, "strong.xlsx")
    got = {}
    for kind in MEDIA:
        r = w.c.get(w.unit_path(A, f"/reports/{kind}"), headers=w.school_a)
        assert r.status_code == 200, (kind, r.text)
        assert r.headers["content-type"] == MEDIA[kind]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert _filename(r.headers["content-disposition"]) == NAMES[kind]
        got[kind] = r.content
    result = json.loads(got["json"])
    total, grade = result["total"], result["grade"]
    assert (total, grade) == ("97.85", "优秀")
    # the result and the Markdown report: byte for byte what the CLI writes
    assert got["json"] == (cli / "strong.result.json").read_bytes()
    assert got["md"] == (cli / "strong.report.md").read_bytes()
    # the report workbook: the school's name and total, and the same cells as the CLI's
    cells = _cells(got["xlsx"])
    assert any("滨江实验小学" in v for v in cells) and _has_number(cells, total)
    assert cells == _cells((cli / "strong.report.xlsx").read_bytes())
    # the PDF
    assert got["pdf"].startswith(b"%PDF")
    text = _pdf_text(got["pdf"])
    assert "滨江实验小学" in text and total in text
    # the documents: the same paragraphs as the CLI's with the same office
    item = result["rectification"][0]
    for kind, suffix in (("opinion.docx", ".督导意见书.docx"), ("notice.docx", ".整改通知书.docx")):
        paragraphs = _docx_text(got[kind])
        assert paragraphs == _docx_text((cli / f"strong{suffix}").read_bytes())
        body = "\n".join(paragraphs)
        assert "滨江实验小学" in body and "教育督导室" in body and item["problem"] in body
    opinion = "\n".join(_docx_text(got["opinion.docx"]))
    assert total in opinion and grade in opinion


def test_the_documents_name_the_office_of_issuer_yaml_in_the_data_folder(world: World) -> None:
    w = world
    _upload(w, B, "weak.xlsx", w.inspector)
    folder = Path(service_of(w.c).settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)  # with PostgreSQL the service writes nothing there
    (folder / "issuer.yaml").write_text(
        "发文机关: 示范区人民政府教育督导室\n发文字号: 示教督\n编号: 12\n", encoding="utf-8"
    )
    r = w.c.get(w.unit_path(B, "/reports/notice.docx"), headers=w.inspector)
    assert r.status_code == 200, r.text
    body = "\n".join(_docx_text(r.content))
    assert "示范区人民政府教育督导室" in body and "北山中学" in body
    assert _filename(r.headers["content-disposition"]) == "北山中学-整改通知书.docx"
    (folder / "issuer.yaml").write_text("发文机关: [不是文字]\n", encoding="utf-8")
    r = w.c.get(w.unit_path(B, "/reports/opinion.docx"), headers=w.inspector)
    assert r.status_code == 503 and r.json()["error"] == "report-unavailable"
    assert r.json()["message"].startswith("无法生成报告")


def test_the_project_summary_is_the_cli_summary_of_the_current_results(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pdf_ready()
    w = world
    _upload(w, A, "strong.xlsx", w.admin)
    _upload(w, B, "weak.xlsx", w.admin)
    totals = {}
    for code in (A, B):
        r = w.c.get(w.unit_path(code, "/result"), headers=w.admin)
        totals[code] = r.json()["results"][0]["total"]
    for who in (w.admin, w.inspector):
        r = w.c.get(f"/api/v1/projects/{w.project}/reports/summary.xlsx", headers=who)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == MEDIA["xlsx"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert _filename(r.headers["content-disposition"]) == "2026 年春季督评-汇总.xlsx"
        cells = _cells(r.content)
        for name, code in (("滨江实验小学", A), ("北山中学", B)):
            assert name in cells
            assert _has_number(cells, totals[code]), totals[code]
    # the CLI's 汇总 of the same two workbooks has the same 汇总 rows (less its 报告名 column)
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("strong.xlsx", "weak.xlsx"):
        (folder / name).write_bytes((EXAMPLES / name).read_bytes())
    monkeypatch.chdir(folder)
    ran = CliRunner().invoke(main, ["score", "demo-school", "strong.xlsx", "weak.xlsx", "-o", "out"])
    assert ran.exit_code == 0, ran.output
    import openpyxl

    theirs = openpyxl.load_workbook(folder / "out" / "汇总.xlsx", read_only=True)
    ours = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    assert ours.sheetnames == theirs.sheetnames
    for sheet in ours.sheetnames[1:]:
        assert list(ours[sheet].values) == list(theirs[sheet].values), sheet
    r = w.c.get(f"/api/v1/projects/{w.project}/reports/summary.pdf", headers=w.inspector)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    text = _pdf_text(r.content)
    assert "滨江实验小学" in text and "北山中学" in text and totals[A] in text


def test_a_school_downloads_only_its_own_reports(world: World) -> None:
    w = world
    _upload(w, A, "strong.xlsx", w.admin)
    _upload(w, B, "weak.xlsx", w.admin)
    assert w.c.get(w.unit_path(A, "/reports/xlsx"), headers=w.school_a).status_code == 200
    # another school's unit: 404, as one that does not exist
    for kind in ("json", "xlsx", "notice.docx"):
        r = w.c.get(w.unit_path(B, f"/reports/{kind}"), headers=w.school_a)
        assert r.status_code == 404 and r.json()["message"] == f"找不到单位 {B}"
        unknown = w.c.get(w.unit_path("9999999999", f"/reports/{kind}"), headers=w.school_a)
        assert unknown.status_code == 404 and unknown.json()["message"] == "找不到单位 9999999999"
    # the project's summary holds every unit: 403 for a school, 404 for a project it does not see
    r = w.c.get(f"/api/v1/projects/{w.project}/reports/summary.xlsx", headers=w.school_a)
    assert r.status_code == 403 and "学校" in r.json()["message"]
    assert w.c.get("/api/v1/projects/999/reports/summary.xlsx", headers=w.school_a).status_code == 404
    assert w.c.get(w.unit_path(A, "/reports/xlsx")).status_code == 401


def test_a_unit_without_a_scored_result_and_an_unknown_kind_are_404_in_chinese(world: World) -> None:
    w = world
    r = w.c.get(w.unit_path(A, "/reports/pdf"), headers=w.inspector)
    assert r.status_code == 404
    assert r.json()["message"] == f"单位 {A}（滨江实验小学）还没有已评分的填报数据，没有可下载的报告"
    _upload(w, A, "strong.xlsx", w.inspector)
    r = w.c.get(w.unit_path(A, "/reports/exe"), headers=w.inspector)
    assert (
        r.status_code == 404
        and "可下载：json、md、xlsx、pdf、opinion.docx、notice.docx" in r.json()["message"]
    )
    assert w.c.get(w.unit_path(A, "/reports/json?part=1"), headers=w.inspector).status_code == 404
    r = w.c.get(f"/api/v1/projects/{w.project}/reports/summary.docx", headers=w.inspector)
    assert r.status_code == 404


def test_the_downloads_are_in_the_openapi_document(world: World) -> None:
    paths = world.c.get("/api/v1/openapi.json").json()["paths"]
    unit = paths["/api/v1/projects/{project_id}/units/{code}/reports/{kind}"]["get"]
    assert all(k in unit["summary"] for k in MEDIA)
    kinds = next(p for p in unit["parameters"] if p["name"] == "kind")
    assert kinds["schema"]["enum"] == list(MEDIA)
    summary = paths["/api/v1/projects/{project_id}/reports/{kind}"]["get"]
    assert "summary.xlsx" in summary["summary"] and "summary.pdf" in summary["summary"]


def test_pdfs_are_made_a_few_at_a_time_and_a_request_waits_only_so_long(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scoring.service import reports

    w = world
    _upload(w, A, "strong.xlsx", w.admin)
    monkeypatch.setattr(reports, "RENDER_WAIT", 0.05)
    held = 0
    try:
        while reports._RENDERING.acquire(blocking=False):  # every slot taken, as by slow renderings
            held += 1
        assert held == reports.RENDER_SLOTS
        r = w.c.get(w.unit_path(A, "/reports/pdf"), headers=w.admin)
        assert r.status_code == 503 and r.json()["message"] == "正在生成的 PDF 报告较多，请稍后再试"
        assert w.c.get(w.unit_path(A, "/reports/xlsx"), headers=w.admin).status_code == 200  # no PDF, no wait
    finally:
        for _ in range(held):
            reports._RENDERING.release()
