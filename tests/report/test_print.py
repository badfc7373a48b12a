"""Every report workbook printed by LibreOffice (``soffice --convert-to pdf``), read back with pypdf: the page
header and footer on every page and not cut, the title printed once per page, no page holding a line or two, type
no smaller than 9 pt, each chart on one page (its title and its axis on the same page).

.ci/run installs LibreOffice and the fonts (Carlito, a CJK font); without them (or without pypdf) these tests are
skipped, saying why, except under CI=true. One soffice run converts every workbook (about 3 s).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import scoring
from scoring.engine.cohort import needed_inputs, score_cohort
from scoring.engine.rows import UnitRow
from scoring.io.table import read_table
from scoring.report.cohort import write_workbook
from scoring.report.ledger import write_ledger
from scoring.report.summary_xlsx import write_batch_summary
from scoring.report.unit_xlsx import write_unit_report

from ..conftest import ROOT

pypdf = pytest.importorskip("pypdf", reason="pypdf reads the printed pages (pip install pypdf)")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None and os.environ.get("CI") != "true",
    reason="LibreOffice is not installed (.ci/run installs it)",
)
EXAMPLES = ROOT / "examples" / "demo-school"
COUNTY = ROOT / "examples" / "ysjh-2017"
MIN_POINTS = 9.0
MIN_LINES = 3  # a page holds more than its header, its footer and a line or two


@dataclass
class Page:
    text: str
    lines: list[str]
    sizes: list[float]  # the printed size of each run of text, in points


def _pages(pdf: Path) -> list[Page]:
    pages = []
    for page in pypdf.PdfReader(pdf).pages:
        sizes: list[float] = []

        def visit(text, cm, tm, font, size, sizes=sizes):
            # the text's height on the page: the length of its y unit through the text and current matrices
            # (LibreOffice condenses a chart's labels sideways, which changes the x unit only)
            height = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
            if text.strip() and size and height:
                sizes.append(size * height)

        text = page.extract_text(visitor_text=visit)
        pages.append(Page(text, [ln for ln in text.splitlines() if ln.strip()], sizes))
    return pages


def _county(folder: Path) -> Path:
    """县域评估.xlsx of the county example (17 schools, 19 units)."""
    county = scoring.load_framework("ysjh-2017")
    school = scoring.compile_plan(scoring.load_framework("ysjh-2017-school"))
    subs, failures = read_table(COUNTY / "schools.csv", school, needed=needed_inputs(county, school))
    own = scoring.read_submission(COUNTY / "county.yaml")
    return write_workbook(score_cohort(county, subs, own, failures=failures), folder / "县域评估.xlsx")


def _missing_fonts() -> list[str]:
    """The fonts LibreOffice needs to print as Excel does: Carlito (Calibri's metrics: the workbooks' default font
    sizes the columns) and a CJK font."""
    fc = shutil.which("fc-list")
    if fc is None:
        return ["fontconfig (fc-list)"]
    families = subprocess.run([fc, ":", "family"], capture_output=True, text=True, check=False).stdout
    wanted = {"fonts-crosextra-carlito": ("Carlito",), "fonts-wqy-microhei": ("WenQuanYi", "Noto Sans CJK")}
    return [pkg for pkg, names in wanted.items() if not any(n in families for n in names)]


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, list[Page]]:
    assert SOFFICE, "CI must have LibreOffice"
    missing = _missing_fonts()
    if missing:
        message = f"fonts missing for LibreOffice to print as Excel does: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (.ci/run installs them)")
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("print")
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    results = {
        name: scoring.score(plan, scoring.read_submission(EXAMPLES / name))
        for name in ("strong.yaml", "weak.json", "strong-round2.yaml")
    }
    books = [
        write_unit_report(results["strong.yaml"], folder / "strong.xlsx"),
        write_unit_report(results["weak.json"], folder / "weak.xlsx"),
        write_batch_summary(
            [UnitRow.of(name, r) for name, r in results.items()],
            [],
            folder / "汇总.xlsx",
            framework_name=plan.framework.name,
            precision=2,
        ),
        write_ledger(results["strong.yaml"], results["strong-round2.yaml"], folder / "台账.xlsx"),
        _county(folder),
    ]
    subprocess.run(
        [
            SOFFICE,  # type: ignore[list-item]
            f"-env:UserInstallation=file://{folder / 'lo-profile'}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder / "pdf"),
            *map(str, books),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return {book.stem: _pages(folder / "pdf" / f"{book.stem}.pdf") for book in books}


def _flat(text: str) -> str:
    return "".join(text.split())  # wrapped cells print their text over several lines


def _common(pages: list[Page], headers: list[str], first: int = 1, n: int = 0) -> None:
    n = n or len(pages)
    for i, (page, header) in enumerate(zip(pages, headers, strict=True), start=first):
        assert page.lines[0] == header, (i, page.lines[:2])  # the header, whole, at the top
        assert f"第 {i} 页，共 {n} 页" in page.text  # the footer
        assert len(page.lines) - 2 >= MIN_LINES, (i, page.lines)
        assert page.text.count(header) == 1, i  # the title once
        assert min(page.sizes) >= MIN_POINTS - 0.05, (i, sorted(page.sizes)[:3])


def test_school_report_prints(printed):
    for stem, name, pages_of in (("strong", "滨江实验小学", (3, 2, 1)), ("weak", "北山中学", (3, 2, 2))):
        pages = printed[stem]
        # 汇总 on three pages, 指标得分 on two, 整改清单 on one or two
        headers = [f"{name} 评估报告"] * pages_of[0] + [f"{name} 指标得分"] * pages_of[1]
        headers += [f"{name} 整改清单"] * pages_of[2]
        assert len(pages) == len(headers), stem
        _common(pages, headers)
        # the chart of first-level scores on one page with its table: title, categories, legend, data labels
        # (the line alone: 总分计算 also says 一级指标得分)
        (chart,) = [p.text for p in pages if "一级指标得分与满分" in p.lines]
        assert all(x in chart for x in ("一级指标得分", "办学条件", "学生发展", "得分 满分"))
        assert "duping-scoring" in pages[2].text  # the version line with the section before it, not alone


def test_batch_summary_prints(printed):
    pages = printed["汇总"]
    caption = "中小学办学质量考评（演示） 评估结果汇总"
    # units; 分组统计, 一级指标得分率 and 等级分布 each with its chart; 失分最多的指标, its chart on a page of its own
    assert len(pages) == 6
    _common(pages[:1], [f"{caption}（已评 3 个单位，无法读取 0 个文件）"], n=6)
    _common(pages[1:], [caption] * 5, first=2, n=6)
    assert "全部文件均已读取" not in "".join(p.text for p in pages)  # 无法读取 is hidden when empty
    groups, tops, grades, _, worst = (p.text for p in pages[1:])
    # each chart whole on its page, below its table: its title with its categories and its values' axis
    assert all(x in groups for x in ("按学段、区域统计", "平均总分", "小学", "初中", "示范区"))
    assert all(x in tops for x in ("一级指标平均得分率", "办学条件", "学生发展", "小学平均得分率"))
    assert "初中平均得分率 小学平均得分率" in tops.splitlines()  # the chart's legend, a series per 学段
    assert all(x in grades for x in ("等级分布", "单位数", "优秀", "不合格"))
    assert all(x in worst for x in ("失分最多的指标", "德育工作", "未达标或部分达标单位数"))


def test_ledger_prints_on_one_landscape_page_at_9pt(printed):
    (page,) = printed["台账"]
    _common([page], ["滨江实验小学 整改台账（2026-06-15 → 2027-06-15）"])
    assert "整改措施与进展（学校填写）" in _flat(page.text) and "核查结论（督学填写）" in _flat(page.text)
    assert "###" not in page.text  # every date fits its column


def test_county_workbook_prints(printed):
    pages = printed["县域评估"]
    title = "某县 县域义务教育优质均衡发展督导评估：不予认定"
    sheets = [
        (title, 1),  # the verdict, its facts and reasons
        ("表Ⅱ-2 学校资源配置指标", 3),  # 19 units, every indicator: one page wide at 9 pt
        ("表Ⅲ 全县平均值与差异系数（差异系数按在校生数加权，保留三位小数）", 1),
        ("某县 县级指标", 5),
        ("学校整改清单", 1),
        ("县域整改清单", 1),
        ("不参评（按框架的评估单位规则）", 1),
    ]
    headers = [header for header, n in sheets for _ in range(n)]
    assert len(pages) == len(headers)
    _common(pages, headers)
    assert "19个（一贯制学校按学段拆分）；达标17个" in _flat(pages[0].text)
