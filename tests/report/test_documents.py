"""The 督导意见书 and the 整改通知书: the content view (every sentence decided once, problems in order of priority)
and the .docx laid out as a Chinese official document (GB/T 9704), read back with python-docx — and one printed by
LibreOffice to show it opens elsewhere than in Word."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import scoring
from scoring.report.documents import chinese_date, notice, numeral, opinion
from scoring.report.issuer import Issuer, IssuerError, Wording, issuer_from_yaml, load_issuer

from ..conftest import ROOT

docx = pytest.importorskip(
    "docx", reason="python-docx writes the documents (pip install 'duping-scoring[reports]')"
)
from scoring.report.docx_writer import write_notice_docx, write_opinion_docx  # noqa: E402

EXAMPLES = ROOT / "examples" / "demo-school"
ISSUER_YAML = """\
发文机关: 示范区人民政府教育督导室
发文字号: 示教督
编号: 12
签发人: 张明
成文日期: 2026-07-01
主送: "{单位}"
抄送: 示范区教育局
联系人: 李华
联系电话: 0571-00000000
"""
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="module")
def weak() -> scoring.Result:
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    return scoring.score(plan, scoring.read_submission(EXAMPLES / "weak.json"))


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return issuer_from_yaml(ISSUER_YAML, "issuer.yaml")


def texts(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


# ----------------------------------------------------------------------------------------------- issuer


def test_issuer_settings_are_read_from_yaml_with_chinese_keys(tmp_path):
    path = tmp_path / "issuer.yaml"
    path.write_text(ISSUER_YAML + "措辞:\n  意见书标题: 关于{单位}综合督导的意见\n", "utf-8")
    issuer = load_issuer(path)
    assert issuer.office == "示范区人民政府教育督导室"
    assert issuer.document_number(dt.date(2026, 7, 1)) == "示教督〔2026〕12号"
    assert issuer.numbered(13).document_number(dt.date(2026, 7, 1)) == "示教督〔2026〕13号"
    assert Issuer("某室", prefix="某督").document_number(dt.date(2027, 1, 5)) == "某督〔2027〕　　号"
    assert (issuer.signatory, issuer.date, issuer.contact) == ("张明", dt.date(2026, 7, 1), "李华")
    assert issuer.wording.opinion_title == "关于{单位}综合督导的意见"
    assert issuer.wording.notice_title == Wording().notice_title


def test_a_bad_issuer_file_names_every_fault_with_its_line():
    with pytest.raises(IssuerError) as err:
        issuer_from_yaml("发文单位: 某室\n成文日期: 七月一日\n", "issuer.yaml")
    text = str(err.value)
    assert "issuer.yaml:1:1" in text and "未知的设置 “发文单位”" in text
    assert "issuer.yaml:2:" in text and "应是日期" in text
    assert "缺少“发文机关”" in text


# ------------------------------------------------------------------------------------------------- view


def test_problems_come_in_order_of_priority_then_the_lists_order(weak, issuer):
    doc = opinion(weak, issuer)
    order = {"高": 0, "中": 1, "低": 2}
    assert [p.priority for p in doc.problems] == sorted((p.priority for p in doc.problems), key=order.get)
    assert doc.problems[0].code == "A3.3"  # the one 高 item first, though the 清单 lists it third
    rest = [it.code for it in weak.rectification if it.priority == "中"]
    assert [p.code for p in doc.problems if p.priority == "中"] == rest
    assert [p.no for p in doc.problems] == list(range(1, len(weak.rectification) + 1))


def test_the_opinion_says_the_result_each_first_level_indicator_and_the_report_back_date(weak, issuer):
    doc = opinion(weak, issuer)
    body = "\n".join(p.lead + p.text for p in doc.body)
    assert doc.title == "关于北山中学督导评估的意见书"
    assert doc.addressee == "北山中学" and doc.number == "示教督〔2026〕12号"
    assert "总分23.00分（满分100分），等级为“不合格”" in body
    assert "（一）办学条件。得0.00分（满分30分，得分率0.0%），未达标。" in body
    assert "（四）学生发展。" in body
    assert doc.report_by == max(it.deadline for it in weak.rectification if it.deadline)
    assert f"并于{chinese_date(doc.report_by)}前将整改情况书面报送示范区人民政府教育督导室" in body
    assert "约谈、督导通报" in body  # the accountability measures the items carry
    assert doc.date_text == "2026年7月1日" and doc.contact == "（联系人：李华，联系电话：0571-00000000）"


def test_numerals_and_dates_are_written_as_official_documents_write_them():
    assert [numeral(n) for n in (1, 9, 10, 11, 20, 23)] == ["一", "九", "十", "十一", "二十", "二十三"]
    assert chinese_date(dt.date(2026, 7, 1)) == "2026年7月1日"


# ------------------------------------------------------------------------------------------------- docx


@pytest.fixture(scope="module")
def opinion_docx(weak, issuer, tmp_path_factory) -> Path:
    return write_opinion_docx(weak, issuer, tmp_path_factory.mktemp("docx") / "北山中学.督导意见书.docx")


@pytest.fixture(scope="module")
def notice_docx(weak, issuer, tmp_path_factory) -> Path:
    return write_notice_docx(
        weak, issuer.numbered(13), tmp_path_factory.mktemp("docx") / "北山中学.整改通知书.docx"
    )


def test_opinion_docx_has_masthead_number_title_addressee_and_signature(opinion_docx, weak):
    paras = texts(opinion_docx)
    assert paras[0] == "示范区人民政府教育督导室"  # 发文机关标志
    assert "示教督〔2026〕12号" in paras[2] and "签发人：张明" in paras[2]
    title = paras.index("关于北山中学督导评估的意见书")
    assert paras[title + 2] == "北山中学："  # 主送 after a blank line
    tail = [p for p in paras if p.strip()][-4:]
    assert tail[0] == "示范区人民政府教育督导室" and tail[1] == "2026年7月1日"  # 署名, 成文日期
    assert tail[2] == "抄送：示范区教育局。" and tail[3].endswith("2026年7月1日印发")


def test_docx_items_come_in_priority_order_with_deadlines(notice_docx, weak, issuer):
    paras = texts(notice_docx)
    assert "关于北山中学限期整改的通知书" in paras and "示教督〔2026〕13号\t签发人：张明" in paras
    items = [p for p in paras if re.match(r"\d+\. ", p)]
    expected = [p.code for p in notice(weak, issuer).problems]
    assert [re.search(r"（([A-Z][\d.]+)，", p).group(1) for p in items] == expected
    assert items[0].startswith("1. 安全与规范（A3.3，优先级：高）")
    assert "完成时限：2026年7月15日前。" in items[0]
    assert any("并于2027年6月15日前将整改情况书面报送示范区人民政府教育督导室" in p for p in paras)


def test_docx_follows_the_official_document_format(opinion_docx):
    d = docx.Document(str(opinion_docx))
    section = d.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.top_margin.mm), round(section.left_margin.mm)) == (37, 28)
    qn = docx.oxml.ns.qn

    def east(run):
        return run._element.rPr.rFonts.get(qn("w:eastAsia"))

    title = next(p for p in d.paragraphs if p.text.endswith("意见书"))
    assert (east(title.runs[0]), title.runs[0].font.size.pt) == ("方正小标宋简体", 22)  # 二号 小标宋
    body = next(p for p in d.paragraphs if p.text.startswith("根据"))
    assert (east(body.runs[0]), body.runs[0].font.size.pt) == ("仿宋_GB2312", 16)  # 三号 仿宋
    h1 = next(p for p in d.paragraphs if p.text == "一、总体评价")
    assert east(h1.runs[0]) == "黑体"
    footer = section.footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —")
    assert "PAGE" in footer._p.xml and section.even_page_footer.paragraphs[0].text.startswith("— ")
    table = next(r.target_part for r in d.part.rels.values() if r.reltype.endswith("/fontTable"))
    assert "仿宋_GB2312" in table.blob.decode() and 'w:altName w:val="仿宋"' in table.blob.decode()
    assert d.core_properties.title == "关于北山中学督导评估的意见书"


def test_control_characters_from_a_submission_are_shown_as_escapes(issuer, tmp_path):
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    data = json.loads((EXAMPLES / "weak.json").read_text("utf-8"))
    data["unit"]["name"] = "北山\x1b[31m中学\u202e"
    result = scoring.score(plan, scoring.read_submission(json.dumps(data).encode()))
    paras = texts(write_notice_docx(result, issuer, tmp_path / "x.docx"))
    assert "北山\\x1b[31m中学\\u202e：" in paras  # 主送, visible and harmless


def _writer_installed() -> bool:
    """LibreOffice with its Writer module (Debian: libreoffice-writer-nogui), which opens .docx."""
    if not SOFFICE:
        return False
    program = Path(SOFFICE).resolve().parent
    return any(program.glob("libswlo.so*")) or any(program.glob("*swlo*"))


@pytest.mark.skipif(
    not _writer_installed(), reason="LibreOffice Writer is not installed (Debian: libreoffice-writer-nogui)"
)
def test_libreoffice_opens_the_notice_and_prints_the_school(notice_docx, tmp_path):
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the printed PDF")
    src = tmp_path / "notice.docx"
    shutil.copy(notice_docx, src)
    subprocess.run(
        [
            str(SOFFICE),
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    reader = pypdf.PdfReader(tmp_path / "notice.pdf")
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert "北山中学" in text and "限期整改" in text
    assert 2 <= len(reader.pages) <= 8
    assert "—1—" in text  # the page number at the foot
