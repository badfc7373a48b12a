"""The layout of the 自评表 workbook, shared by the template writer and the workbook reader: sheet names, the
columns and their headers, the unit fields. A template and the reader agree because both read these.
"""

from __future__ import annotations

SHEET = "自评表"

META = "_meta"

LISTS = "_lists"

TEMPLATE_FORMAT = "1"

ID_HEADER = "id"

COL_ID, COL_NO, COL_GROUP, COL_LABEL, COL_UNIT, COL_SELF, COL_EVAL, COL_HELP = range(1, 9)

HEADERS = {
    COL_ID: ID_HEADER,
    COL_NO: "序号",
    COL_GROUP: "指标",
    COL_LABEL: "填报项",
    COL_UNIT: "单位",
    COL_SELF: "填报值（自评）",
    COL_EVAL: "督评值",
    COL_HELP: "填报说明 / 标准",
}

UNIT_FIELDS = [
    ("unit.name", "单位名称", "必填"),
    ("unit.code", "单位代码", "如学校标识码"),
    ("unit.type", "单位类型", "从下拉列表选择"),
    ("unit.region", "所在区域", ""),
    ("unit.date", "评估日期", "如 2026-06-15；整改期限从此日起算"),
]

BOOL_CHOICES = ("是", "否")
