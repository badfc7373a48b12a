"""The library calls the endpoints make, the way the command line makes them: read a submission (bytes, checked
for safety first), split it into the units the framework evaluates, score each; validate a framework file and
report every problem. Nothing here decides a number."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Literal

from ..engine.plan import Plan
from ..engine.result import Result
from ..engine.score import Options, score, split
from ..framework import registry
from ..framework.load import validate_path
from ..framework.source import load_yaml_text
from ..io.read import read_submission
from ..io.safety import FileLimits
from ..problems import FrameworkError, Problem, Report, SubmissionError

Values = Literal["final", "self", "evaluator"]


def score_bytes(
    plan: Plan, data: bytes, filename: str | None, limits: FileLimits, values: Values = "final"
) -> list[Result]:
    """The results of one submission's units (a 九年一贯制 row may be two); SubmissionError says why not."""
    units = split(plan, read_submission(data, filename=filename, plan=plan, limits=limits))
    if not units:
        raise SubmissionError(
            [
                Problem(
                    "no-unit",
                    "没有需要评估的单位（如不足 50 人的教学点）",
                    "no unit to evaluate (such as a 教学点 under 50 pupils)",
                    file=filename,
                )
            ]
        )
    options = Options(values=values)
    return [score(plan, unit, options) for unit in units]


def results_json(results: list[Result]) -> str:
    """``{"results": [...]}``, each element exactly the ``<unit>.result.json`` that ``scoring score`` writes."""
    return documents_json([r.to_json() for r in results])


def documents_json(documents: list[str]) -> str:
    """``{"results": [...]}`` around result JSON documents, each kept as it is (byte for byte)."""
    return '{"results": [\n' + ",\n".join(documents) + "\n]}\n"


def validate_bytes(data: bytes, filename: str) -> Report:
    """Every problem of an uploaded framework file, as ``scoring validate`` reports them. It may extend only a
    shipped framework (by id): a path in ``extends`` would read a file on the server."""
    problems = _extends_problems(data, filename)
    if problems is not None:
        return Report(problems)
    with tempfile.TemporaryDirectory(prefix="scoring-validate-") as folder:
        path = Path(folder) / filename
        path.write_bytes(data)
        _, found = validate_path(path)
        here = path.resolve()
        named = [replace(p, file=filename) if p.file and Path(p.file).resolve() == here else p for p in found]
    return Report(named)


def _extends_problems(data: bytes, filename: str) -> list[Problem] | None:
    """None when the file may be validated as it is; else the problems that stop it (text that is no YAML is
    left to the validator, which reports it with its place)."""
    try:
        parsed, smap = load_yaml_text(data.decode("utf-8-sig"), filename)
    except (UnicodeDecodeError, FrameworkError):
        return None
    if not isinstance(parsed, dict) or "extends" not in parsed:
        return None
    parent = parsed["extends"]
    if isinstance(parent, str) and registry.find(parent) is not None:
        return None
    known = "、".join(e.id for e in registry.entries())
    return [
        smap.problem(
            ("extends",),
            "extends-not-shipped",
            f"上传的框架只能扩展内置框架（extends: 框架 id），不能引用服务器上的文件；已内置：{known}",
            "an uploaded framework may extend a shipped framework by id only, not a file on the server",
        )
    ]


def framework_name(filename: str | None) -> str:
    """The name an uploaded framework is validated under: its own (folders dropped), as a .yaml file."""
    name = (filename or "framework.yaml").replace("\\", "/").rsplit("/", 1)[-1][:200]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*') or "framework.yaml"
    return name if name.lower().endswith((".yaml", ".yml")) else name + ".yaml"
