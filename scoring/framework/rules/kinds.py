"""The rule kinds, in one table: the YAML key of each kind, the check run when a framework is loaded, and the
builder that compiles a leaf's rule for the plan.

A new rule kind is one module beside these (its ``check`` and ``build``), its model in ``framework/model.py``
(a field of ``Rule``) and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..model import Indicator
from . import bands, boolean, checklist, deduction, expression, levels, manual, proportional, threshold
from .base import CheckContext, LeafRule, RuleContext


@dataclass(frozen=True, slots=True)
class RuleKind:
    check: Callable[[CheckContext, Indicator, Any], None]
    build: Callable[[Indicator, Any, RuleContext, Decimal | None], LeafRule]


KINDS: dict[str, RuleKind] = {
    "threshold": RuleKind(threshold.check, threshold.build),
    "bands": RuleKind(bands.check, bands.build),
    "levels": RuleKind(levels.check, levels.build),
    "checklist": RuleKind(checklist.check, checklist.build),
    "boolean": RuleKind(boolean.check, boolean.build),
    "deduction": RuleKind(deduction.check, deduction.build),
    "proportional": RuleKind(proportional.check, proportional.build),
    "expression": RuleKind(expression.check, expression.build),
    "manual": RuleKind(manual.check, manual.build),
}


def build_rule(ind: Indicator, ctx: RuleContext, possible: Decimal | None) -> LeafRule:
    """Compile a leaf's rule; ``possible`` is its full points (derived from weights where the framework uses them)."""
    assert ind.rule is not None
    return KINDS[ind.rule.kind].build(ind, ind.rule.spec, ctx, possible)
