"""The report workbooks' print layout, without a printer: columns narrowed to print at 9 pt or more, row heights
for wrapped text, page breaks that keep a block whole and leave no widow line, the title once (tests/report/
test_print.py prints the real reports through LibreOffice)."""

from __future__ import annotations

from io import BytesIO

import openpyxl

from scoring.io.xlsx import (
    BODY,
    PAGE,
    SECTION,
    Book,
    Col,
    Sheet,
    max_columns_width,
    table_sheet,
    text_width,
)


def _sheet(name: str = "表") -> tuple[Book, Sheet]:
    book = Book()
    return book, book.sheet(name)


def test_wide_text_columns_are_narrowed_until_the_sheet_prints_at_9pt():
    _, sheet = _sheet()
    cols = [Col(f"列{i}", 8, 60, wrap=True) for i in range(6)]
    rows = [["很长的说明文字" * 10] * 6]
    table_sheet(sheet, cols, rows)
    assert sheet.columns_width <= max_columns_width()
    assert PAGE.body_width / sheet.columns_width >= PAGE.min_scale  # printed at 9/11 of 11 pt or more
    assert sheet.columns_width > 0.95 * max_columns_width()  # as wide as the page allows
    widths = sheet.finish(cols)
    assert all(8 <= w < 60 for w in widths) and max(widths) - min(widths) <= 1  # the widest narrowed first


def test_a_wrapped_row_is_as_tall_as_its_lines():
    book, sheet = _sheet()
    table_sheet(sheet, [Col("问题", 10, 10, wrap=True)], [["一" * 40], ["短"]])
    ws = openpyxl.load_workbook(BytesIO(book.data()))["表"]
    assert ws.row_dimensions[2].height >= 16 * 9  # 80 digits' widths in lines of (10 - 1) / 1.1
    assert ws.row_dimensions[3].height in (None, 15)  # one line: Excel's default row (not written)


def test_a_block_that_would_be_cut_starts_a_page_and_the_last_page_has_no_widow():
    _, sheet = _sheet()
    for row in range(1, 61):
        sheet.text(row, 1, f"第{row}行", SECTION if row == 25 else BODY)
    sheet.keep(25, 45)  # 21 rows: cut by the first page's end (about 30 rows)
    sheet.finish([Col("", 10, 10)])
    sheet.print_setup(header="标题")
    breaks = sheet.paginate()
    assert breaks[0] == 25
    last = breaks[-1]
    assert 60 - last + 1 >= 3  # the last page holds three rows or more


def test_the_title_prints_once_in_the_header_not_as_a_row():
    book, sheet = _sheet("汇总")
    sheet.title("某校 评估报告", 3)
    table_sheet(sheet, [Col("甲"), Col("乙"), Col("丙")], [[1, 2, 3]], top=2, header="某校 评估报告")
    ws = openpyxl.load_workbook(BytesIO(book.data()))["汇总"]
    assert ws["A1"].value == "某校 评估报告"
    assert ws.print_area == "'汇总'!$A$2:$C$3" and ws.print_title_rows == "$2:$2"
    assert ws.HeaderFooter.oddHeader.center.text == "某校 评估报告"
    assert ws.page_margins.top - ws.page_margins.header >= 0.45  # the header clear of the body
    assert ws.page_margins.bottom - ws.page_margins.footer >= 0.45


def test_text_stays_text_whatever_it_starts_with():
    book, sheet = _sheet()
    for i, text in enumerate(
        ["=1+1", "+1", "-1", "@SUM(A1)", "#N/A", "http://x", "1,234", "甲\x1b乙"], start=1
    ):
        sheet.text(i, 1, text)
    ws = openpyxl.load_workbook(BytesIO(book.data()))["表"]
    values = [ws.cell(row=i, column=1) for i in range(1, 9)]
    assert all(c.data_type == "s" and c.quotePrefix for c in values)
    assert [c.value for c in values][-1] == "甲\ufffd乙"
    assert text_width("甲A") == 3
