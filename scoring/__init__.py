"""督评 scoring: indicator frameworks in YAML and a rules engine for education-supervision evaluations.

>>> import scoring
>>> plan = scoring.compile_plan(scoring.load_framework("demo-school"))
>>> result = scoring.score(plan, scoring.read_submission("examples/demo-school/strong.yaml"))
>>> result.total, result.grade
(Decimal('97.85'), '优秀')
"""

from __future__ import annotations

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
from .version import __version__

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
