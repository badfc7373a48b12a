"""督评 scoring: indicator frameworks in YAML and a rules engine for education-supervision evaluations."""

from __future__ import annotations

__version__ = "0.1.0"

from .load import load_framework, load_text, validate_path
from .model import Framework
from .problems import FrameworkError, Problem, ScoringError, SubmissionError

__all__ = [
    "Framework",
    "FrameworkError",
    "Problem",
    "ScoringError",
    "SubmissionError",
    "__version__",
    "load_framework",
    "load_text",
    "validate_path",
]
