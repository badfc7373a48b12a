"""Properties of the readers (issue 13): whatever the bytes — random, a real workbook damaged, a JSON value of any
shape — ``read_submission`` gives a Submission or a SubmissionError whose every problem names the file and says
what is wrong in both languages; never another exception, a hang or an abort of the process.

The damaged workbooks are damaged two ways: the file's bytes (what a broken upload is: the zip's checks refuse
almost all of them), and one member's inflated XML re-zipped with true sizes (so the XML parsers themselves
meet the damage); a minimal .xls has its BIFF records damaged inside a sound compound file. Each property keeps
its examples few: the file runs in a few seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scoring
from scoring.io.read import UPLOAD_NAME

from ..conftest import ROOT
from ..excel import PLAN
from .forge import STRONG_XLSX, biff, ole, record

NAMES = [None, "s.xlsx", "s.xls", "s.ods", "s.json", "s.yaml", "s.yml", "s.txt", "无后缀"]
WEAK = (ROOT / "examples" / "demo-school" / "weak.json").read_text("utf-8")
STRONG = STRONG_XLSX.read_bytes()
with zipfile.ZipFile(io.BytesIO(STRONG)) as _zf:
    MEMBERS = {info.filename: _zf.read(info) for info in _zf.infolist()}
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def read_or_refuse(
    data: bytes, name: str | None, plan: scoring.Plan | None = PLAN
) -> scoring.Submission | None:
    """The property: a Submission, or a SubmissionError whose every problem names the file and has a message
    in Chinese and in English (any other exception fails the test)."""
    try:
        return scoring.read_submission(data, filename=name, plan=plan)
    except scoring.SubmissionError as err:
        assert err.problems
        for p in err.problems:
            assert p.file == (name or UPLOAD_NAME), p
            assert p.message_zh.strip() and p.message_en.strip(), p
            assert "内部错误" not in p.message_zh and "Traceback" not in p.message_en
        return None


# ------------------------------------------------------------------------------------------------ any bytes

_PREFIXES = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"{",
    b"[",
    b'{"unit": {"name": "',
    b"unit:\n  name: ",
    b"---\n",
]
any_bytes = st.one_of(
    st.binary(max_size=600),
    st.builds(lambda p, rest: p + rest, st.sampled_from(_PREFIXES), st.binary(max_size=600)),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
)


@settings(SETTINGS, max_examples=300)
@given(data=any_bytes, name=st.sampled_from(NAMES), with_plan=st.booleans())
def test_any_bytes_give_a_submission_or_located_problems(
    data: bytes, name: str | None, with_plan: bool
) -> None:
    read_or_refuse(data, name, PLAN if with_plan else None)


# ----------------------------------------------------------------------------------- damaged real workbooks


@st.composite
def damaged(draw: st.DrawFn, original: bytes, max_edits: int = 6) -> bytes:
    """``original`` with a few bits flipped, bytes inserted or removed, or cut short."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, max_edits))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "set"]))
        if edit == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "truncate":
            del data[at:]
        else:
            data[at] = draw(st.sampled_from(b"\x00\xff<>&\"'=/0123456789"))
    return bytes(data)


@settings(SETTINGS, max_examples=100)
@given(data=damaged(STRONG), name=st.sampled_from(["strong.xlsx", "strong.json", None]))
def test_a_damaged_workbook_file_gives_located_problems(data: bytes, name: str | None) -> None:
    read_or_refuse(data, name)


# Texts that reach the parsers' odd corners: entities, formulas, numbers too long for a float, far cells, cell
# types, repeated ODS cells, a control character.
_SNIPPETS = [
    b"&e;",
    b"&#0;",
    b"&#x1b;",
    b"<f>SUM(1)</f>",
    b"<v>1e400</v>",
    b"<v>0.5</v>",
    b't="s"',
    b't="b"',
    b't="e"',
    b't="d"',
    b'r="XFD1048576"',
    b'r="A0"',
    b' s="9999"',
    b"<row>",
    b"</row>",
    b"<c><v>1</v></c>",
    b"\x01",
    b"]]>",
]


@st.composite
def damaged_member(draw: st.DrawFn) -> bytes:
    """strong.xlsx with one member's XML damaged (bytes edited, or an odd snippet inserted), re-zipped true."""
    name = draw(st.sampled_from(sorted(MEMBERS)))
    body = bytearray(draw(damaged(MEMBERS[name], 4)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(body)))
        body[at:at] = draw(st.sampled_from(_SNIPPETS))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, content in MEMBERS.items():
            zf.writestr(member, bytes(body) if member == name else content)
    return out.getvalue()


@settings(SETTINGS, max_examples=150)
@given(data=damaged_member())
def test_a_workbook_with_damaged_xml_gives_located_problems(data: bytes) -> None:
    sub = read_or_refuse(data, "strong.xlsx")
    if sub is not None:  # what was read is scored or refused, never more
        with contextlib.suppress(scoring.SubmissionError):
            scoring.score(PLAN, sub)


_RECORDS = [
    record(0x00FC, b"\x01\x00\x00\x00\x01\x00\x00\x00\x03\x00abc"),  # SST
    record(0x00FD, b"\x02\x00\x02\x00\x00\x00\x00\x00\x00\x00"),  # LabelSst
    record(0x027E, b"\x03\x00\x00\x00\x00\x00\x00\x00\xf0\x3f"),  # RK
    record(0x00BD, b"\x04\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x03\x00\x00\x00\x01\x00"),  # MulRk
    record(0x0204, b"\x05\x00\x00\x00\x00\x00\x03\x00\x00abc"),  # Label
]


@st.composite
def damaged_xls(draw: st.DrawFn) -> bytes:
    """A minimal .xls whose BIFF stream is damaged, in a sound compound file (so calamine's BIFF reader meets
    the damage)."""
    stream = biff()
    stream = stream[:-4] + b"".join(draw(st.lists(st.sampled_from(_RECORDS), max_size=4))) + stream[-4:]
    return ole(draw(damaged(stream, 6))[:4000])


@settings(SETTINGS, max_examples=150)
@given(data=damaged_xls())
def test_a_damaged_xls_gives_located_problems(data: bytes) -> None:
    read_or_refuse(data, "导出.xls")


# -------------------------------------------------------------------------------------- any JSON value tree

_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers().map(lambda n: n * 10**400),  # longer than any bound
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["\x00", "\x1b[31m", "\u202e", "1E+999999999", "9" * 5000, "95%", "是", "", " "]),
)
json_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(SETTINGS, max_examples=200)
@given(tree=json_trees, where=st.sampled_from(["root", "values", "unit", "manual", "students", "waivers"]))
def test_any_json_value_tree_gives_a_submission_or_located_problems(tree: Any, where: str) -> None:
    if where == "root":
        document: Any = tree
    else:
        document = json.loads(WEAK)
        target = {
            "values": ("values",),
            "unit": ("unit",),
            "manual": ("manual",),
            "waivers": ("waivers",),
        }.get(where, ("values", "students"))
        holder = document
        for key in target[:-1]:
            holder = holder[key]
        holder[target[-1]] = tree
    text = json.dumps(document, ensure_ascii=False)
    for name in ("s.json", None):
        sub = read_or_refuse(text.encode("utf-8"), name, None)
        if sub is not None:
            with contextlib.suppress(scoring.SubmissionError):
                scoring.score(PLAN, sub)


@settings(SETTINGS, max_examples=60)
@given(tree=json_trees)
def test_any_tree_written_as_yaml_gives_a_submission_or_located_problems(tree: Any) -> None:
    import yaml

    try:
        text = yaml.safe_dump({"unit": {"name": "甲"}, "values": {"students": tree}}, allow_unicode=True)
    except yaml.YAMLError:
        return
    read_or_refuse(text.encode("utf-8"), "s.yaml", None)
