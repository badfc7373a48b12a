"""督评 scoring: indicator frameworks in YAML and a rules engine for education-supervision evaluations.

>>> import scoring
>>> plan = scoring.compile_plan(scoring.load_framework("demo-school"))
>>> result = scoring.score(plan, scoring.read_submission("examples/demo-school/strong.yaml"))
>>> result.total, result.grade
(Decimal('97.85'), '优秀')

The names below are imported when first used (``import scoring`` alone loads no model, engine or reader), so
the command line starts quickly; ``_PUBLIC`` says where each one lives.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:  # the same names, for type checkers and IDEs; at run time they come from __getattr__
    from .engine.cohort import CohortResult, score_cohort
    from .engine.diff import RoundDiff, diff
    from .engine.plan import Plan, compile_plan
    from .engine.result import IndicatorResult, RectificationItem, Result, result_from_json, result_to_json
    from .engine.score import Options, score, split
    from .engine.submission import Submission, submission_from_data
    from .framework.load import load_framework, load_text, validate_path
    from .framework.model import Framework
    from .framework.validate import validate
    from .io.read import read_submission
    from .jobs.cases import run_cases
    from .problems import FrameworkError, Problem, ScoringError, SubmissionError

# public name → the submodule (relative to this package) that defines it
_PUBLIC: dict[str, str] = {
    "CohortResult": ".engine.cohort",
    "score_cohort": ".engine.cohort",
    "RoundDiff": ".engine.diff",
    "diff": ".engine.diff",
    "Plan": ".engine.plan",
    "compile_plan": ".engine.plan",
    "IndicatorResult": ".engine.result",
    "RectificationItem": ".engine.result",
    "Result": ".engine.result",
    "result_from_json": ".engine.result",
    "result_to_json": ".engine.result",
    "Options": ".engine.score",
    "score": ".engine.score",
    "split": ".engine.score",
    "Submission": ".engine.submission",
    "submission_from_data": ".engine.submission",
    "load_framework": ".framework.load",
    "load_text": ".framework.load",
    "validate_path": ".framework.load",
    "Framework": ".framework.model",
    "validate": ".framework.validate",
    "read_submission": ".io.read",
    "run_cases": ".jobs.cases",
    "FrameworkError": ".problems",
    "Problem": ".problems",
    "ScoringError": ".problems",
    "SubmissionError": ".problems",
}

__all__ = [
    "CohortResult",
    "Framework",
    "FrameworkError",
    "IndicatorResult",
    "Options",
    "Plan",
    "Problem",
    "RectificationItem",
    "Result",
    "RoundDiff",
    "ScoringError",
    "Submission",
    "SubmissionError",
    "__version__",
    "compile_plan",
    "diff",
    "load_framework",
    "load_text",
    "read_submission",
    "result_from_json",
    "result_to_json",
    "run_cases",
    "score",
    "score_cohort",
    "split",
    "submission_from_data",
    "validate",
    "validate_path",
]


def __getattr__(name: str) -> Any:
    """Import a public name's submodule on first use and keep the name here (later reads skip this)."""
    where = _PUBLIC.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
