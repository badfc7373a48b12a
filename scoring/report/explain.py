"""The arithmetic behind chosen indicators, as a 督学 checks it: each one's explanation and those of everything
under it, with the values each read, indented by depth (``scoring explain``, ``scoring score --explain``)."""

from __future__ import annotations

from ..engine.result import Result
from ..framework.text import fmt


def explanation_lines(result: Result, code: str) -> list[str]:
    """The lines for indicator ``code`` and its subtree; KeyError when the result has no such indicator."""
    indicators = result.indicators
    start = next((i for i, ind in enumerate(indicators) if ind.code == code), None)
    if start is None:
        raise KeyError(code)
    root = indicators[start]
    lines = []
    for ind in indicators[start:]:
        if ind is not root and ind.depth <= root.depth:
            break
        indent = "  " * (ind.depth - root.depth)
        lines.append(indent + ind.explanation)
        lines.extend(
            f"{indent}    · {result.labels.get(name, name)} = {fmt(value)}"
            for name, value in ind.inputs.items()
        )
    return lines
