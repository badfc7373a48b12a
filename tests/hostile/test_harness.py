"""The harness itself: a traceback, a wrong exit code and a changed input are each caught."""

from __future__ import annotations

import pytest

from .harness import EXIT_OK, EXIT_USAGE


def test_a_clean_run_passes(case):
    ran = case.run("frameworks", expect=EXIT_OK)
    assert "demo-school" in ran.out


def test_a_wrong_exit_code_fails(case):
    with pytest.raises(AssertionError, match="exit 0"):
        case.run("frameworks", expect=EXIT_USAGE)


def test_a_changed_input_fails(case):
    target = case.file("t.xlsx", b"")
    with pytest.raises(AssertionError, match="changed"):
        case.run("template", "demo-school", "-o", target, expect=EXIT_OK)
