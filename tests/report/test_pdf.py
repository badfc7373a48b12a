"""The PDF reports (unit report, batch summary, county report), made by Typst and read back with pypdf: the text
a 督学 reads is there (school, total, grade, every 整改 item), every font is embedded and none is Type 3, A4 pages
with page numbers, the title once, tables that break across pages repeat their header row, the chart of
first-level scores on one page, text from a submission printed as text, and a clear Chinese error without a
Chinese font."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

import scoring
from scoring.engine.cohort import needed_inputs, score_cohort
from scoring.engine.rows import FailureRow, UnitRow
from scoring.io.table import read_table
from scoring.report import pdf
from scoring.report.unit_view import unit_view

from ..conftest import ROOT

pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF back (pip install pypdf)")
pytest.importorskip("typst", reason="the PDF renderer needs typst (pip install 'duping-scoring[reports]')")

EXAMPLES = ROOT / "examples"
A4 = (595.28, 841.89)  # points


def _cjk_font_or_skip() -> None:
    """Skip without a Chinese font, except under CI (.ci/run installs fonts-noto-cjk): there it must be there."""
    try:
        pdf.choose_fonts()
    except pdf.PdfError as err:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Chinese font installed (Debian: fonts-noto-cjk): {err}")


@pytest.fixture(scope="module")
def plan() -> scoring.Plan:
    return scoring.compile_plan(scoring.load_framework("demo-school"))


@pytest.fixture(scope="module")
def weak(plan) -> scoring.Result:
    return scoring.score(plan, scoring.read_submission(EXAMPLES / "demo-school" / "weak.json"))


@pytest.fixture(scope="module")
def strong(plan) -> scoring.Result:
    return scoring.score(plan, scoring.read_submission(EXAMPLES / "demo-school" / "strong.yaml"))


@pytest.fixture(scope="module")
def unit_pdf(weak, tmp_path_factory) -> Path:
    _cjk_font_or_skip()
    return pdf.write_unit_pdf(weak, tmp_path_factory.mktemp("pdf") / "北山中学.report.pdf")


def squeezed(text: str) -> str:
    """Text without the spaces and line breaks a PDF's layout puts into it."""
    return re.sub(r"\s+", "", text)


def page_texts(path: Path) -> list[str]:
    return [squeezed(page.extract_text()) for page in pypdf.PdfReader(path).pages]


def fonts_of(path: Path) -> list[tuple[str, str, bool]]:
    """Every font the pages use: (name, subtype, embedded) — for a composite font, of its descendant."""
    seen = {}
    for page in pypdf.PdfReader(path).pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font", {}) if resources else {}
        for ref in fonts.get_object().values():
            font = ref.get_object()
            subtype = font["/Subtype"]
            target = font["/DescendantFonts"][0].get_object() if subtype == "/Type0" else font
            descriptor = target.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            seen[str(font.get("/BaseFont"))] = (str(font.get("/BaseFont")), str(subtype), embedded)
    return list(seen.values())


def page_size(path: Path, i: int = 0) -> tuple[float, float]:
    box = pypdf.PdfReader(path).pages[i].mediabox
    return round(float(box.width), 2), round(float(box.height), 2)


# ------------------------------------------------------------------------------------------- unit report


def test_unit_pdf_says_the_school_total_grade_and_every_item(unit_pdf, weak):
    pages = page_texts(unit_pdf)
    text = "".join(pages)
    assert 2 <= len(pages) <= 6
    assert "北山中学" in text and "23.00" in text and "不合格" in text
    assert text.count("北山中学评估报告") == 1  # the title once, not on every page
    for item in weak.rectification:
        assert squeezed(item.problem) in text, item.code  # a row is never split between pages
        assert item.deadline is not None and item.deadline.isoformat() in text
    for i, page in enumerate(pages, start=1):  # page numbers on every page
        assert f"第{i}页，共{len(pages)}页" in page


def test_unit_pdf_is_a4_with_every_font_embedded(unit_pdf):
    reader = pypdf.PdfReader(unit_pdf)
    assert all(page_size(unit_pdf, i) in (A4, A4[::-1]) for i in range(len(reader.pages)))
    fonts = fonts_of(unit_pdf)
    assert any("CJK" in name for name, _, _ in fonts), fonts  # the Chinese text is set in a CJK font
    for name, subtype, embedded in fonts:
        assert subtype != "/Type3", name
        assert embedded, f"{name} is not embedded"


def test_tables_repeat_their_header_on_every_page_they_reach(weak, strong, tmp_path):
    _cjk_font_or_skip()
    rows = [
        replace(UnitRow.of(f"{i}.json", weak if i % 2 else strong), name=f"第{i}号学校", code=f"C{i}")
        for i in range(1, 61)
    ]
    path = pdf.write_summary_pdf(rows, [], tmp_path / "汇总.pdf", framework_name="演示框架", precision=2)
    pages = page_texts(path)
    holding = [p for p in pages if "号学校" in p]
    assert len(holding) >= 2, "60 units take more than a page (or the test no longer tests a break)"
    for page in holding:
        assert "序号单位名称代码类型总分" in page  # its header row, again on every page it reaches
    text = "".join(pages)
    assert all(f"第{i}号学校C{i}" in text for i in range(1, 61))  # every row whole, on one page


def test_the_wide_rectification_table_stands_on_landscape_pages(unit_pdf, weak):
    reader = pypdf.PdfReader(unit_pdf)
    turned = [i for i, page in enumerate(page_texts(unit_pdf)) if "可挽回分值" in page]
    assert turned and all(page_size(unit_pdf, i) == (A4[1], A4[0]) for i in turned)
    assert page_size(unit_pdf, 0) == A4
    assert "数据来源" in page_texts(unit_pdf)[-1] and len(reader.pages) - 1 in turned  # the note goes with it


def test_the_chart_of_first_level_scores_stays_on_one_page(unit_pdf, weak):
    view = unit_view(weak)
    assert view.chart is not None
    names = [row.cells[1] for row in view.overview.rows]
    chart_pages = [p for p in page_texts(unit_pdf) if view.chart.title in p]
    assert len(chart_pages) == 1
    labels = chart_pages[0].split(view.chart.title, 1)[1]
    for name in names:  # every bar's category and its label after the chart's title, on that page
        assert name in labels
    assert "6.00/15" in labels  # the last bar's label: earned / full


def test_text_from_a_submission_is_printed_as_text_never_as_markup_or_controls(plan, tmp_path):
    _cjk_font_or_skip()
    data = json.loads((EXAMPLES / "demo-school" / "weak.json").read_text("utf-8"))
    data["unit"]["name"] = '#panic("注入") *甲校* $x$ <l> @r \x1b中学\u202e'
    result = scoring.score(plan, scoring.read_submission(json.dumps(data, ensure_ascii=False).encode()))
    text = "".join(page_texts(pdf.write_unit_pdf(result, tmp_path / "x.pdf")))
    assert squeezed('#panic("注入")*甲校*$x$<l>@r\\x1b中学\\u202e') in text  # controls shown as escapes


# -------------------------------------------------------------------------------- summary, county report


def test_summary_pdf_lists_every_unit_on_a4_landscape(weak, strong, tmp_path):
    _cjk_font_or_skip()
    rows = [UnitRow.of("weak.json", weak), UnitRow.of("strong.yaml", strong)]
    failures = [FailureRow("坏.xlsx", ["坏.xlsx — Sheet1!C12 (在校生数): 应填数值"])]
    path = pdf.write_summary_pdf(
        rows, failures, tmp_path / "汇总.pdf", framework_name="演示框架", precision=2
    )
    text = "".join(page_texts(path))
    assert page_size(path) == (A4[1], A4[0])
    assert text.count("演示框架评估结果汇总") == 1
    for row in rows:
        assert row.name in text
    assert "23.00" in text and "97.85" in text and "不合格" in text and "优秀" in text
    assert "坏.xlsx" in text and "应填数值" in text
    assert all(embedded for _, _, embedded in fonts_of(path))


def test_cohort_pdf_has_the_verdict_tables_and_school_items(tmp_path):
    _cjk_font_or_skip()
    county = scoring.load_framework("ysjh-2017")
    school = scoring.compile_plan(scoring.load_framework("ysjh-2017-school"))
    table = EXAMPLES / "ysjh-2017" / "schools.csv"
    subs, failures = read_table(table, school, needed=needed_inputs(county, school))
    result = score_cohort(
        county, subs, scoring.read_submission(EXAMPLES / "ysjh-2017" / "county.yaml"), failures=failures
    )
    path = pdf.write_cohort_pdf(result, tmp_path / "县域评估.pdf")
    pages = page_texts(path)
    text = "".join(pages)
    assert page_size(path) == (A4[1], A4[0])
    assert result.county.unit.name in text
    assert ("通过认定" if result.passed else "不予认定") in text
    assert "表Ⅱ-2" in text and "表Ⅲ" in text and "学校整改清单" in text
    assert all(squeezed(u.school)[:4] in text for u in result.units)
    assert f"共{len(pages)}页" in pages[-1]


# ------------------------------------------------------------------------------------------------ fonts


def test_without_a_chinese_font_it_says_what_to_install_and_writes_nothing(weak, tmp_path):
    with pytest.raises(pdf.PdfError) as err:
        pdf.render(pdf.unit_document(unit_view(weak)), system_fonts=False)
    message = str(err.value)
    assert "中文字体" in message and "fonts-noto-cjk" in message and "SCORING_FONT_PATH" in message
    assert not list(tmp_path.iterdir())


def test_a_font_folder_given_is_used(weak, tmp_path):
    _cjk_font_or_skip()
    typst = pytest.importorskip("typst")
    choice, _ = pdf.choose_fonts()
    [folder, *_] = {Path(f.path).parent for f in typst.Fonts().fonts() if f.family == choice.body and f.path}
    data = pdf.render(pdf.unit_document(unit_view(weak)), [folder], system_fonts=False)  # that folder alone
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    assert "北山中学" in "".join(page_texts(path))
    assert any(choice.body.replace(" ", "").lower() in name.lower() for name, _, _ in fonts_of(path))


def test_a_character_the_fonts_lack_is_refused_by_name_not_printed_as_a_box(plan, tmp_path):
    _cjk_font_or_skip()
    data = json.loads((EXAMPLES / "demo-school" / "weak.json").read_text("utf-8"))
    data["unit"]["name"] = "\U0003134a山中学"  # CJK Extension G: in no font of fonts-noto-cjk (2022)
    result = scoring.score(plan, scoring.read_submission(json.dumps(data, ensure_ascii=False).encode()))
    with pytest.raises(pdf.PdfError) as err:
        pdf.write_unit_pdf(result, tmp_path / "x.pdf")
    assert "\U0003134a" in str(err.value) and "方框" in str(err.value)
    assert not list(tmp_path.iterdir())
