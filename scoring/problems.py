"""Problems: every user-facing finding, with where it is and a message in Chinese and English.

A problem is data, not an exception: validation collects all of them in one run. The exceptions below carry
a list of problems for the places where work must stop (a file that cannot be parsed at all).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
Lang = Literal["zh", "en"]
PathPart = str | int


# What untrusted text (a unit's name, a file's name, a value quoted in a reason) must not carry into a terminal or
# a Markdown file: C0 and C1 controls (BEL, BS, ESC, CR, LF, TAB, DEL …), the bidi controls that reorder what a
# reader sees (U+061C, U+200E/F, U+202A–E, U+2066–9) and the Unicode line and paragraph separators.
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def printable(text: str) -> str:
    """``text`` with every control character shown as a visible escape (ESC → ``\\x1b``, LF → ``\\n``, U+202E →
    ``\\u202e``), so untrusted text can neither move a terminal's cursor, ring its bell, start a line of its own nor
    reorder what is shown around it. Text without controls comes back as it is."""
    return CONTROLS.sub(_escape, text) if CONTROLS.search(text) else text


def format_path(path: Sequence[PathPart]) -> str:
    """Render a data path the way a framework author reads it: ``indicators[2].rule.bands[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Problem:
    """One finding: what is wrong, where, and how bad."""

    code: str
    message_zh: str
    message_en: str
    severity: Severity = "error"
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    path: tuple[PathPart, ...] = ()
    detail: str | None = None  # e.g. an expression with a caret line under the fault
    cell: str | None = None  # in a workbook: "自评表!F12 (填报值 · 生均教学仪器设备值)"

    def message(self, lang: Lang = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en

    @property
    def location(self) -> str:
        if self.cell:
            return f"{self.file or '<input>'} — {self.cell}"
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def format(self, lang: Lang = "zh") -> str:
        sev = {"zh": {"error": "错误", "warning": "警告"}, "en": {"error": "error", "warning": "warning"}}[
            lang
        ]
        where = f" ({format_path(self.path)})" if self.path else ""
        text = f"{self.location}: {sev[self.severity]} [{self.code}]{where}: {self.message(lang)}"
        if self.detail:
            text += "\n" + "\n".join("    " + line for line in self.detail.splitlines())
        return text

    def to_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": format_path(self.path),
            "severity": self.severity,
            "code": self.code,
            "message": self.message(lang),
            "detail": self.detail,
            "cell": self.cell,
        }

    def github(self, lang: Lang = "zh") -> str:
        """A GitHub Actions workflow command, so the problem shows on the file's line in a pull request."""
        kind = "error" if self.severity == "error" else "warning"
        props = []
        if self.file:
            props.append(f"file={_gh_escape_prop(self.file)}")
        if self.line is not None:
            props.append(f"line={self.line}")
        if self.column is not None:
            props.append(f"col={self.column}")
        props.append(f"title={_gh_escape_prop(self.code)}")
        msg = self.message(lang)
        if self.path:
            msg = f"{format_path(self.path)}: {msg}"
        if self.detail:
            msg += "\n" + self.detail
        return f"::{kind} {','.join(props)}::{_gh_escape_data(msg)}"


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


@dataclass
class Report:
    """Problems from one or more files, in the order found."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.file or "", p.line or 0, p.column or 0))

    def to_json(self, lang: Lang = "zh") -> str:
        return json.dumps(
            {
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "problems": [p.to_dict(lang) for p in self.sorted()],
            },
            ensure_ascii=False,
            indent=2,
        )


class ScoringError(Exception):
    """Base of every error this package raises for a user mistake; carries the problems found."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(p.format("zh") for p in self.problems))


class FrameworkError(ScoringError):
    """A framework file could not be loaded: syntax, schema, semantics or expressions."""


class SubmissionError(ScoringError):
    """A submission could not be read or does not fit its framework."""
