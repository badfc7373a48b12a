"""Reading one submission from any format the product accepts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from ..engine.submission import Submission, submission_from_data
from ..problems import Problem, SubmissionError


def read_submission(path: str | Path) -> Submission:
    """Read a submission from a .json or .yaml file; raise SubmissionError with the place of every problem."""
    from ..framework.source import load_yaml_text, read_text

    p = Path(path)
    name = str(p)
    try:
        text = read_text(p)
    except Exception as exc:  # FrameworkError from the shared reader: same problems, other class
        problems = getattr(
            exc, "problems", [Problem("io", f"无法读取：{exc}", f"cannot read: {exc}", file=name)]
        )
        raise SubmissionError(problems) from None
    smap = None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text, parse_float=Decimal)
        else:
            data, smap = load_yaml_text(text, name)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            [
                Problem(
                    "json-syntax",
                    f"JSON 语法错误：{exc.msg}",
                    f"JSON syntax error: {exc.msg}",
                    file=name,
                    line=exc.lineno,
                    column=exc.colno,
                )
            ]
        ) from None
    except Exception as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            raise SubmissionError(problems) from None
        raise
    return submission_from_data(data, name, smap)
