"""Reading one submission from any format the product accepts, from a path, bytes or a binary file object.

The format comes from the content, never from the name alone: people rename files, and an upload or an HTTP
body may have no name at all. A zip is an .xlsx or .ods workbook (by its members), an OLE2 compound file a
legacy .xls; anything else is text — JSON when it starts like JSON, else YAML. The name (``filename=`` or the
path's) is a hint: every problem carries it, and it breaks ties (flow-style YAML that is no JSON, a broken JSON
file). The safety checks run on the bytes before any parser opens them.

JSON is held to what the YAML reader holds YAML to: a key once per object, nesting at most ``max_depth`` levels,
numbers within the bounds of ``framework.values`` and finite. ``json.loads`` reads the common, clean file at C
speed; when it meets one of those (or recurses too deep), a walk over the text's tokens finds each with its line
and column. The same walk places schema problems (a misspelt key) in a JSON file.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

from ..engine.plan import Plan
from ..engine.submission import Submission, submission_from_data
from ..framework.source import DEFAULT_LIMITS as TEXT_LIMITS
from ..framework.source import Mark, SourceMap, load_yaml_text
from ..framework.values import english, number_bounds, number_out_of_bounds, read_number_text
from ..problems import FrameworkError, PathPart, Problem, SubmissionError
from .safety import DEFAULT_FILE_LIMITS, FileLimits, FileSource, read_checked
from .workbook import WORKBOOK_SUFFIXES, not_a_workbook, read_workbook_bytes, workbook_format

UPLOAD_NAME = "<上传的文件>"
"""The name problems carry when the submission came as bytes or a stream without a name."""

_FORMAT_NAMES = {"xlsx": "Excel (.xlsx)", "xls": "Excel 97-2003 (.xls)", "ods": "OpenDocument (.ods)"}


def read_submission(
    source: FileSource,
    *,
    filename: str | None = None,
    plan: Plan | None = None,
    limits: FileLimits = DEFAULT_FILE_LIMITS,
) -> Submission:
    """Read a submission from a path, the file's bytes or a binary file object (``open(path, "rb")``, an upload).

    Accepts filled 自评表 workbooks (.xlsx, .xlsm, .xls, .ods), which need the compiled ``plan`` they are
    matched against, and JSON/YAML submissions, which need none. ``filename`` names the file in problems (a
    path or a file object's ``.name`` does it otherwise). Raise SubmissionError with the place of every problem.
    """
    file = _display_name(source, filename)
    hint = "" if file == UPLOAD_NAME else PurePath(file).suffix.lower()
    code = "workbook-unsafe" if hint in WORKBOOK_SUFFIXES else "file-unsafe"
    data = read_checked(source, file, limits, code=code)
    kind = workbook_format(data, hint)
    if kind is None:
        return _read_text(data, file, hint)
    if plan is None:
        raise SubmissionError([_needs_plan(file, _FORMAT_NAMES[kind])])
    return read_workbook_bytes(data, kind, plan, file)


def _display_name(source: FileSource, filename: str | None) -> str:
    """The name problems and ``Submission.source`` carry: as given, the path, a file object's name, or a placeholder."""
    if filename is not None:
        return filename
    name: Any = source
    if not isinstance(source, (str, os.PathLike)):
        name = getattr(source, "name", None)  # open(path, "rb") keeps the path; BytesIO has none
    if isinstance(name, (str, os.PathLike)):
        return str(Path(name))
    return UPLOAD_NAME


def _needs_plan(file: str, what: str) -> Problem:
    return Problem(
        "workbook-needs-plan",
        f"读取 Excel 自评表需要指定框架（plan=…）：这个文件是 {what} 工作簿，不是 JSON/YAML 填报数据",
        f"reading a workbook needs the framework (plan=…): this file is an {what} workbook, not JSON/YAML",
        file=file,
    )


def _read_text(data: bytes, file: str, hint: str) -> Submission:
    """A JSON/YAML submission. A file named as a workbook whose content is no submission either is reported as
    a broken workbook: that is what its owner meant to send, and "not UTF-8" would only confuse."""
    if hint not in WORKBOOK_SUFFIXES:
        parsed, smap = _parse(_decode(data, file), file, hint)
        return submission_from_data(parsed, file, smap)
    try:
        parsed, smap = _parse(_decode(data, file), file, hint)
    except SubmissionError:
        raise SubmissionError([not_a_workbook(file)]) from None
    if not isinstance(parsed, dict):
        raise SubmissionError([not_a_workbook(file)])
    return submission_from_data(parsed, file, smap)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF8, "utf-8"),
)


def _decode(data: bytes, file: str) -> str:
    """UTF-8 text, or UTF-16/32 with its BOM (Windows Notepad's "Unicode"), within the size bound the YAML
    reader has for untrusted text."""
    if len(data) > TEXT_LIMITS.max_bytes:
        raise SubmissionError(
            [
                Problem(
                    "yaml-too-large",
                    f"文件 {_kib(len(data))}，超过 {_kib(TEXT_LIMITS.max_bytes)} 的上限，已拒绝读取",
                    f"file is {_kib(len(data))}, over the {_kib(TEXT_LIMITS.max_bytes)} limit; refused",
                    file=file,
                )
            ]
        )
    encoding, bom = "utf-8", b""
    for mark, name in _BOMS:
        if data.startswith(mark):
            encoding, bom = name, mark
            break
    try:
        return data[len(bom) :].decode(encoding)
    except UnicodeDecodeError as exc:
        good = data[len(bom) : len(bom) + exc.start].decode(encoding)
        line = good.count("\n") + 1
        column = len(good) - good.rfind("\n")
        raise SubmissionError(
            [
                Problem(
                    "encoding",
                    f"文件不是 {_ENCODING_NAMES[encoding]} 编码（第 {line} 行第 {column} 列的字节无法解码）："
                    "请另存为 UTF-8（如 GBK/GB2312 编码的文件）",
                    f"file is not valid {_ENCODING_NAMES[encoding]} (cannot decode the bytes at line {line}, "
                    f"column {column}): save it as UTF-8",
                    file=file,
                    line=line,
                    column=column,
                )
            ]
        ) from None


_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "utf-32-le": "UTF-32",
    "utf-32-be": "UTF-32",
}


def _kib(n: int) -> str:
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def _parse(text: str, file: str, hint: str) -> tuple[Any, SourceMap | _JsonMap]:
    """Plain data and, for YAML, where each value stands.

    Text that starts like JSON is JSON; if it is no valid JSON, it is read as YAML when the name says .yaml or
    when it is valid (flow-style) YAML, else its JSON syntax error is reported. Other text is YAML, unless the
    name says .json: then the JSON syntax error (with its line) says more than a YAML reading would."""
    if not text.lstrip().startswith(("{", "[")):
        return _json(text, file) if hint == ".json" else _yaml(text, file)
    try:
        return _load_json(text, file)
    except json.JSONDecodeError as exc:
        json_error = _json_problem(exc, file)
    if hint in (".yaml", ".yml"):
        return _yaml(text, file)
    if hint != ".json":
        try:
            return _yaml(text, file)
        except SubmissionError:
            pass
    raise SubmissionError([json_error])


def _json(text: str, file: str) -> tuple[Any, _JsonMap]:
    try:
        return _load_json(text, file)
    except json.JSONDecodeError as exc:
        raise SubmissionError([_json_problem(exc, file)]) from None


def _json_problem(exc: json.JSONDecodeError, file: str) -> Problem:
    return Problem(
        "json-syntax",
        f"JSON 语法错误：{exc.msg}",
        f"JSON syntax error: {exc.msg}",
        file=file,
        line=exc.lineno,
        column=exc.colno,
    )


def _yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """YAML through the framework reader (exact decimals, no duplicate keys, bounded); its problems become a
    submission's."""
    try:
        data, smap = load_yaml_text(text, file)
    except FrameworkError as exc:
        raise SubmissionError(exc.problems) from None
    problems = _yaml_numbers(data, smap)
    if problems:
        raise SubmissionError(problems)
    return data, smap


def _yaml_numbers(data: Any, smap: SourceMap) -> list[Problem]:
    """The numbers of a YAML document beyond the bounds (the YAML reader refuses only the overlong ones)."""
    problems: list[Problem] = []
    stack: list[tuple[tuple[PathPart, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))
        elif isinstance(value, int | Decimal) and not isinstance(value, bool) and number_out_of_bounds(value):
            why = number_bounds(str(value))
            problems.append(smap.problem(path, "number-bounds", why, english(why)))
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


# ----------------------------------------------------------------------------------------------------- JSON


class _Doubt(Exception):
    """Raised by a ``json.loads`` hook: the text holds something the walk over its tokens must place."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Doubt
    return out


def _int(text: str) -> int:
    _, why = read_number_text(text)
    if why is not None:
        raise _Doubt
    return int(text)  # within the bounds: at most a few digits


def _float(text: str) -> Decimal:
    value, why = read_number_text(text)
    if value is None or why is not None:
        raise _Doubt
    return value


def _constant(text: str) -> Any:
    raise _Doubt  # NaN, Infinity, -Infinity: not JSON, and no value


def _load_json(text: str, file: str) -> tuple[Any, _JsonMap]:
    """JSON with exact decimals, each key once per object, within the depth and number bounds; and a map that
    places a value when a problem needs it (built only then). A syntax error is ``json.JSONDecodeError``."""
    try:
        data = json.loads(
            text, parse_float=_float, parse_int=_int, parse_constant=_constant, object_pairs_hook=_pairs
        )
    except (_Doubt, RecursionError):
        data = _Doubt
    if data is _Doubt or _deeper(data, TEXT_LIMITS.max_depth):
        walk = _JsonWalk(text, file).run()
        raise SubmissionError(walk.problems or [_unplaced(file)])
    return data, _JsonMap(text, file)


def _unplaced(file: str) -> Problem:
    return Problem(
        "json-unreadable",
        "无法读取 JSON 文件：数据超出了读取的限制（嵌套层数、键或数值），且无法确定位置",
        "cannot read the JSON file: it passes a bound (nesting, keys or numbers) at a place not found",
        file=file,
    )


def _deeper(data: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than ``limit`` levels (the outermost is level 1); iteratively."""
    stack = [(data, 1)] if isinstance(data, list | dict) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        items = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in items if isinstance(v, list | dict))
    return False


class _JsonMap:
    """Where the values of a JSON text stand, found by walking its tokens on first use (a schema problem)."""

    def __init__(self, text: str, file: str):
        self.text, self.file = text, file
        self.smap: SourceMap | None = None

    def find(self, path: tuple[PathPart, ...], *, key: bool = False) -> Mark | None:
        if self.smap is None:
            self.smap = _JsonWalk(self.text, self.file).run().smap
        return self.smap.find(path, key=key)


_TOKEN = re.compile(
    r'[ \t\n\r]*(?:(?P<string>"[^"\\]*(?:\\.[^"\\]*)*")|(?P<punct>[{}\[\]:,])'
    r"|(?P<number>-?(?:Infinity|[0-9][0-9.eE+-]*))|(?P<word>NaN|true|false|null))",
    re.S,
)
_MAX_PROBLEMS = 100


@dataclass
class _Open:
    """An object or array the walk is inside: its path, and where its next value goes."""

    path: tuple[PathPart, ...]
    is_object: bool
    index: int = 0
    key: str = ""
    expect_key: bool = True
    keys: dict[str, Mark] = field(default_factory=dict)

    def here(self) -> tuple[PathPart, ...]:
        return (*self.path, self.key if self.is_object else self.index)


class _JsonWalk:
    """One pass over a JSON text's tokens (no recursion): the position of every value and key, and each problem
    ``json.loads`` cannot place: a key repeated in its object, nesting past the limit, a number beyond the
    bounds, NaN or Infinity. The text is valid JSON up to the problems (``json.loads`` got that far); the walk
    stops at the first token it cannot read, or at the depth limit."""

    def __init__(self, text: str, file: str, max_depth: int = TEXT_LIMITS.max_depth):
        self.text, self.file, self.max_depth = text, file, max_depth
        self.smap = SourceMap(file)
        self.problems: list[Problem] = []
        self._line, self._line_start, self._at = 1, 0, 0

    def mark(self, index: int) -> Mark:
        """The 1-based line and column of ``index`` (the walk asks in order, so counting is incremental)."""
        if index < self._at:
            self._line, self._line_start, self._at = 1, 0, 0
        newlines = self.text.count("\n", self._at, index)
        if newlines:
            self._line += newlines
            self._line_start = self.text.rfind("\n", self._at, index) + 1
        self._at = index
        return Mark(self._line, index - self._line_start + 1)

    def problem(self, code: str, zh: str, en: str, at: Mark, path: tuple[PathPart, ...]) -> None:
        self.problems.append(Problem(code, zh, en, file=self.file, line=at.line, column=at.column, path=path))

    def run(self) -> _JsonWalk:
        text, stack, pos = self.text, list[_Open](), 0
        while len(self.problems) < _MAX_PROBLEMS:
            m = _TOKEN.match(text, pos)
            if m is None or m.lastgroup is None:
                break
            pos, kind = m.end(), m.lastgroup
            token, start = m.group(kind), m.start(kind)
            top = stack[-1] if stack else None
            if kind == "punct":
                if not self.punct(token, start, top, stack):
                    break
            elif kind == "string" and top is not None and top.is_object and top.expect_key:
                self.key(top, token, start)
            else:
                path = top.here() if top is not None else ()
                at = self.mark(start)
                self.smap.values.setdefault(path, at)
                if kind == "number" or token == "NaN":
                    self.number(token, at, path)
        return self

    def punct(self, token: str, start: int, top: _Open | None, stack: list[_Open]) -> bool:
        """Follow one of ``{}[]:,``; False where the walk ends (past the depth limit, or the document closed)."""
        if token in "{[":
            path = top.here() if top is not None else ()
            at = self.mark(start)
            self.smap.values.setdefault(path, at)
            if len(stack) >= self.max_depth:
                self.problem(
                    "json-too-deep",
                    f"嵌套超过 {self.max_depth} 层，已拒绝读取（填报数据只有几层）",
                    f"nesting deeper than {self.max_depth} levels; refused (a submission has only a few)",
                    at,
                    (),
                )
                return False
            stack.append(_Open(path, token == "{"))
        elif token in "}]":
            if stack:
                stack.pop()
            return bool(stack)
        elif token == "," and top is not None:
            if top.is_object:
                top.expect_key = True
            else:
                top.index += 1
        return True

    def key(self, top: _Open, token: str, start: int) -> None:
        try:
            key = json.loads(token)
        except ValueError:
            key = token[1:-1]
        at = self.mark(start)
        top.key, top.expect_key = key, False
        path = (*top.path, key)
        first = top.keys.get(key)
        if first is None:
            top.keys[key] = at
            self.smap.keys.setdefault(path, at)
            return
        shown = key if len(key) <= 40 else key[:40] + "…"
        self.problem(
            "json-duplicate-key",
            f"重复的键 “{shown}”（第 {first.line} 行第 {first.column} 列已出现）：同一对象中每个键只能写一次",
            f"duplicate key '{shown}' (first at line {first.line}, column {first.column}): "
            "a key may appear once in an object",
            at,
            path,
        )

    def number(self, token: str, at: Mark, path: tuple[PathPart, ...]) -> None:
        if token == "NaN" or token.lstrip("-") == "Infinity":
            self.problem(
                "json-not-finite",
                f"JSON 中不能写 {token}：应填有限的数值",
                f"{token} is not JSON: expected a finite number",
                at,
                path,
            )
            return
        _, why = read_number_text(token)
        if why is not None:
            self.problem("number-bounds", why, english(why), at, path)
