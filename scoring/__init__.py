"""督评 scoring: indicator frameworks in YAML and a rules engine for education-supervision evaluations.

>>> import scoring
>>> plan = scoring.compile_plan(scoring.load_framework("demo-school"))
>>> result = scoring.score(plan, scoring.read_submission("examples/demo-school/strong.yaml"))
>>> result.total, result.grade
(Decimal('97.85'), '优秀')
"""

from __future__ import annotations

__version__ = "0.1.0"

from .cases import run_cases
from .cohort import CohortResult, score_cohort
from .diff import RoundDiff, diff
from .engine import Options, score, split
from .load import load_framework, load_text, validate_path
from .model import Framework
from .plan import Plan, compile_plan
from .problems import FrameworkError, Problem, ScoringError, SubmissionError
from .result import IndicatorResult, RectificationItem, Result, result_from_json, result_to_json
from .submission import Submission, read_submission, submission_from_data
from .validate import validate

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
