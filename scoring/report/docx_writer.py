"""Word (.docx) renderer of the official documents (``report.documents``): the 督导意见书 and the 整改通知书, laid
out as a Chinese official document after GB/T 9704-2012 《党政机关公文格式》.

Layout only — every sentence comes from the document view. What GB/T 9704 asks and this writer does:

* A4, 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm; body 3号 (16 pt) 仿宋_GB2312, 22 lines a page (fixed line
  spacing 28.95 pt), first line indented two characters;
* 版头: the issuing office (发文机关标志) in red 小标宋, the 文号 (with 签发人 on its right when there is one), a red
  line; 标题 2号 小标宋, centred; 主送 flush left ending with a full-width colon;
* headings: 一、 黑体, （一） 楷体_GB2312, 1. 仿宋 bold;
* 发文机关署名 and 成文日期 (2026年7月1日, 右空四字) at the end, then the 版记 (抄送, 印发机关 and date);
* page numbers "— 1 —" in 4号 半角宋体 at the foot: odd pages on the right, even pages on the left.

Font names follow the standard (仿宋_GB2312, 方正小标宋简体, 楷体_GB2312); each is declared in the document's font
table with the name a current Windows has as its alternate (仿宋, 宋体, 楷体), so Word substitutes one present.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from ..engine.result import Result
from ..io.files import atomic_write
from ..problems import Problem, ScoringError, printable
from .documents import OfficialDocument, Paragraph, notice, opinion
from .issuer import Issuer


class DocxError(ScoringError):
    """A .docx cannot be made here (python-docx is not installed)."""


try:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor
except ImportError:  # pragma: no cover (python-docx is installed with the extra)
    raise DocxError(
        [
            Problem(
                "docx-missing",
                "生成 Word 公文需要 python-docx：请安装 pip install 'duping-scoring[reports]'（或 pip install python-docx）",
                "making a .docx needs python-docx: pip install 'duping-scoring[reports]' (or pip install python-docx)",
            )
        ]
    ) from None

__all__ = ["document_bytes", "notice_docx", "opinion_docx", "write_notice_docx", "write_opinion_docx"]

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
PAGE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
# the name Word looks for when the standard's font is not installed (Windows 10/11 have these)
ALT_NAMES = {BODY_FONT: "仿宋", TITLE_FONT: "宋体", H2_FONT: "楷体", H1_FONT: "SimHei", PAGE_FONT: "SimSun"}

SIZE_3 = 16.0  # 三号
SIZE_2 = 22.0  # 二号
SIZE_4 = 14.0  # 四号
LINE = 28.95  # pt: 22 lines in the 225 mm 版心
RED = "FF0000"


# ------------------------------------------------------------------------------------------------ runs


def _fonts(run: Any, east: str, latin: str = LATIN_FONT) -> None:

    run.font.name = latin
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)


def _run(
    par: Any, text: str, font: str = BODY_FONT, size: float = SIZE_3, *, bold: bool = False, color: str = ""
) -> Any:

    run = par.add_run("\t".join(printable(part) for part in text.split("\t")))  # controls shown as escapes
    _fonts(run, font)
    run.font.size = Pt(size)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    return run


def _par(
    doc: Any, *, align: str = "justify", indent: float = 2, line: float | None = LINE, space: float = 0
) -> Any:
    """A paragraph: ``indent`` characters of first-line indent (3号), fixed line spacing ``line`` pt."""

    par = doc.add_paragraph()
    fmt = par.paragraph_format
    fmt.alignment = {
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
    }[align]
    fmt.first_line_indent = Pt(SIZE_3 * indent) if indent else None
    fmt.space_before = Pt(space)
    fmt.space_after = Pt(0)
    if line:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    return par


def _border(par: Any, side: str, color: str = "000000", size: int = 6) -> None:
    """A rule along one side of ``par`` (the 版头's red line, the 版记's lines)."""

    ppr = par._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(size))
    edge.set(qn("w:space"), "1")
    edge.set(qn("w:color"), color)
    borders.append(edge)


def _tab_right(par: Any, at_pt: float) -> None:

    par.paragraph_format.tab_stops.add_tab_stop(Pt(at_pt), WD_TAB_ALIGNMENT.RIGHT)


def _width(text: str) -> float:
    """A text's width in characters of the body size (digits and Latin letters are half a character)."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


# ------------------------------------------------------------------------------------------------ page


def _page(doc: Any) -> None:

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(21)
    style = doc.styles["Normal"]
    _fonts(style, BODY_FONT)
    style.font.size = Pt(SIZE_3)


def _page_number(par: Any) -> None:
    """ "— n —": the PAGE field between two em dashes, 4号 半角宋体."""

    _run(par, "— ", PAGE_FONT, SIZE_4)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = _run(par, "", PAGE_FONT, SIZE_4)
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
    _run(par, " —", PAGE_FONT, SIZE_4)


def _footers(doc: Any) -> None:

    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align, side in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left"),
    ):
        footer.is_linked_to_previous = False
        par = footer.paragraphs[0]
        par.paragraph_format.alignment = align
        if side == "right":
            par.paragraph_format.right_indent = Pt(SIZE_4)  # 单页码居右空一字
        else:
            par.paragraph_format.left_indent = Pt(SIZE_4)  # 双页码居左空一字
        _page_number(par)


def _font_table(doc: Any) -> None:
    """Declare the standard's fonts with the alternate names Word substitutes when they are missing."""
    part = next(
        (rel.target_part for rel in doc.part.rels.values() if rel.reltype.endswith("/fontTable")), None
    )
    if part is None:
        return
    declared = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'  # 86: GB2312
        f'<w:family w:val="{"script" if name == TITLE_FONT else "modern"}"/>'
        f'<w:pitch w:val="{"variable" if name == TITLE_FONT else "fixed"}"/></w:font>'
        for name, alt in ALT_NAMES.items()
    )
    part._blob = part.blob.replace(b"</w:fonts>", declared.encode("utf-8") + b"</w:fonts>")


# ------------------------------------------------------------------------------------------------ parts


def _masthead(doc: Any, d: OfficialDocument) -> None:
    """版头: the office in red, the 文号 (and 签发人), the red line."""
    size = max(min(36.0, 430 / max(_width(d.office), 1)), SIZE_2)
    par = _par(doc, align="center", indent=0, line=None, space=0)
    _run(par, d.office, TITLE_FONT, size, color=RED)
    _par(doc, indent=0)  # an empty line
    par = _par(doc, align="left" if d.signatory else "center", indent=1 if d.signatory else 0)
    _run(par, d.number)
    if d.signatory:
        _tab_right(par, 156 / 25.4 * 72 - SIZE_3 * 2)
        _run(par, "\t签发人：")
        _run(par, d.signatory, H2_FONT)
    _border(par, "bottom", RED, 18)
    _par(doc, indent=0)


def _heading_font(lead: str) -> tuple[str, bool]:
    if lead.startswith("（"):
        return H2_FONT, False
    return BODY_FONT, True


def _body(doc: Any, p: Paragraph) -> None:
    par = _par(doc)
    if p.level == 1:
        _run(par, p.text, H1_FONT)
        return
    if p.level == 2:
        _run(par, p.text, H2_FONT)
        return
    if p.level == 3:
        _run(par, p.text, bold=True)
        return
    if p.lead:
        font, bold = _heading_font(p.lead)
        _run(par, p.lead, font, bold=bold)
    _run(par, p.text)


def _signature(doc: Any, d: OfficialDocument) -> None:
    """发文机关署名 centred over the 成文日期, which stands four characters from the right (no seal)."""

    for _ in range(2):
        _par(doc, indent=0).paragraph_format.keep_with_next = True
    date = d.date_text
    right = 4 + max((_width(date) - _width(d.signature)) / 2, 0)
    par = _par(doc, align="right", indent=0)
    par.paragraph_format.right_indent = Pt(SIZE_3 * right)
    par.paragraph_format.keep_with_next = True
    _run(par, d.signature)
    par = _par(doc, align="right", indent=0)
    par.paragraph_format.right_indent = Pt(SIZE_3 * 4)
    _run(par, date)


def _colophon(doc: Any, d: OfficialDocument) -> None:
    """版记: 抄送, then 印发机关 and 印发日期 between rules (4号)."""

    _par(doc, indent=0).paragraph_format.keep_with_next = True
    if d.copy_to:
        par = _par(doc, align="left", indent=0)
        par.paragraph_format.keep_with_next = True
        par.paragraph_format.left_indent = Pt(SIZE_4)
        par.paragraph_format.right_indent = Pt(SIZE_4)
        _border(par, "top", size=8)
        _run(par, f"抄送：{d.copy_to}。", size=SIZE_4)
    par = _par(doc, align="left", indent=0)
    par.paragraph_format.left_indent = Pt(SIZE_4)
    par.paragraph_format.right_indent = Pt(SIZE_4)
    _border(par, "top", size=8 if not d.copy_to else 4)
    _border(par, "bottom", size=8)
    _tab_right(par, 156 / 25.4 * 72 - SIZE_4 * 2)
    _run(par, d.printer, size=SIZE_4)
    _run(par, f"\t{d.date_text}印发", size=SIZE_4)


def document_bytes(d: OfficialDocument) -> bytes:
    """The .docx of an official document view, as bytes."""
    doc = docx.Document()
    _page(doc)
    _footers(doc)
    _font_table(doc)
    _masthead(doc, d)
    par = _par(doc, align="center", indent=0, line=None)
    par.paragraph_format.space_after = 0

    par.paragraph_format.line_spacing = Pt(35)
    _run(par, d.title, TITLE_FONT, SIZE_2)
    _par(doc, indent=0)
    par = _par(doc, align="left", indent=0)
    _run(par, f"{d.addressee}：")
    for p in d.body:
        _body(doc, p)
    if d.contact:
        _run(_par(doc), d.contact)
    _signature(doc, d)
    _colophon(doc, d)
    props = doc.core_properties
    props.title = printable(d.title)
    props.author = printable(d.office)
    props.subject = printable(d.unit)
    props.keywords = printable(d.number)
    stamp = dt.datetime(d.date.year, d.date.month, d.date.day)
    props.created = props.modified = stamp
    props.last_modified_by = printable(d.office)
    props.revision = 1
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def opinion_docx(result: Result, issuer: Issuer, *, today: dt.date | None = None) -> bytes:
    """The 督导意见书 of ``result`` as .docx bytes."""
    return document_bytes(opinion(result, issuer, today=today))


def notice_docx(result: Result, issuer: Issuer, *, today: dt.date | None = None) -> bytes:
    """The 整改通知书 of ``result`` as .docx bytes."""
    return document_bytes(notice(result, issuer, today=today))


def write_opinion_docx(
    result: Result, issuer: Issuer, path: str | Path, *, today: dt.date | None = None
) -> Path:
    """Write the 督导意见书 of ``result`` to ``path`` atomically; returns the path."""
    return atomic_write(path, opinion_docx(result, issuer, today=today))


def write_notice_docx(
    result: Result, issuer: Issuer, path: str | Path, *, today: dt.date | None = None
) -> Path:
    """Write the 整改通知书 of ``result`` to ``path`` atomically; returns the path."""
    return atomic_write(path, notice_docx(result, issuer, today=today))
