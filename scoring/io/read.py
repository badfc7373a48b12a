"""Reading one submission from any format the product accepts, from a path, bytes or a binary file object.

The format comes from the content, never from the name alone: people rename files, and an upload or an HTTP
body may have no name at all. A zip is an .xlsx or .ods workbook (by its members), an OLE2 compound file a
legacy .xls; anything else is text — JSON when it starts like JSON, else YAML. The name (``filename=`` or the
path's) is a hint: every problem carries it, and it breaks ties (flow-style YAML that is no JSON, a broken JSON
file). The safety checks run on the bytes before any parser opens them.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

from ..engine.plan import Plan
from ..engine.submission import Submission, submission_from_data
from ..framework.source import DEFAULT_LIMITS as TEXT_LIMITS
from ..framework.source import SourceMap, load_yaml_text
from ..problems import FrameworkError, Problem, SubmissionError
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
        parsed, smap = None, None
    if not isinstance(parsed, dict):
        raise SubmissionError([not_a_workbook(file)])
    return submission_from_data(parsed, file, smap)


def _decode(data: bytes, file: str) -> str:
    """UTF-8 text (a BOM allowed), within the size bound the YAML reader has for untrusted text."""
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
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SubmissionError(
            [
                Problem(
                    "encoding",
                    "文件不是 UTF-8 编码（请另存为 UTF-8）",
                    "file is not UTF-8 encoded (save it as UTF-8)",
                    file=file,
                    line=line,
                )
            ]
        ) from None


def _kib(n: int) -> str:
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def _parse(text: str, file: str, hint: str) -> tuple[Any, SourceMap | None]:
    """Plain data and, for YAML, where each value stands.

    Text that starts like JSON is JSON; if it is no valid JSON, it is read as YAML when the name says .yaml or
    when it is valid (flow-style) YAML, else its JSON syntax error is reported. Other text is YAML, unless the
    name says .json: then the JSON syntax error (with its line) says more than a YAML reading would."""
    if not text.lstrip().startswith(("{", "[")):
        return (_json(text, file), None) if hint == ".json" else _yaml(text, file)
    try:
        return json.loads(text, parse_float=Decimal), None
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


def _json(text: str, file: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
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
        return load_yaml_text(text, file)
    except FrameworkError as exc:
        raise SubmissionError(exc.problems) from None
