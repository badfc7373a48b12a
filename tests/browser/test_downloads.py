"""Report downloads in a real Chromium: a school clicks 下载报告 links on its unit page and gets the files the
CLI writes (the workbook with its name, the PDF, the 整改通知书), named in Chinese; a 督学 downloads the project's
汇总 from the project page, which a school does not see — with no request to any other host (the guard)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .conftest import B, Contexts, Live
from .test_workspace import sign_in


def _download(page: Any, selector: str, folder: Path) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.locator(selector).click()
    download = info.value
    target = folder / download.suggested_filename
    download.save_as(str(target))
    return download.suggested_filename, target.read_bytes()


def test_a_school_downloads_its_reports_and_an_inspector_the_summary(
    contexts: Contexts, live: Live, tmp_path: Path
) -> None:
    import openpyxl

    school = sign_in(contexts(), live, "school-b", then=f"/projects/{live.project}/units/{B}")
    block = school.locator("#downloads")
    assert "下载报告" in block.inner_text()
    assert block.locator("a").count() == 6

    name, data = _download(school, "#downloads a[data-kind=xlsx]", tmp_path)
    assert name == "北山中学-评估报告.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    assert any("北山中学" in v for v in cells)

    name, data = _download(school, "#downloads a[data-kind='notice.docx']", tmp_path)
    assert name == "北山中学-整改通知书.docx" and data.startswith(b"PK")
    name, data = _download(school, "#downloads a[data-kind=pdf]", tmp_path)
    assert name == "北山中学-评估报告.pdf" and data.startswith(b"%PDF")
    assert school.url == f"{live.base}/projects/{live.project}/units/{B}"  # still on the page

    # the project page: the 汇总 only for 管理员 and 督学
    school.goto(f"{live.base}/projects/{live.project}")
    assert school.locator("#downloads").count() == 0
    assert school.request.get(f"{live.base}/projects/{live.project}/reports/summary.xlsx").status == 403

    dux = sign_in(contexts(), live, "dux", then=f"/projects/{live.project}")
    name, data = _download(dux, "#downloads a[data-kind='summary.xlsx']", tmp_path)
    assert name == "2026 年春季督评-汇总.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert "北山中学" in [str(v) for row in book.worksheets[0].iter_rows(values_only=True) for v in row if v]
    assert dux.locator("#county-link").count() == 0  # demo-school: no county evaluation
