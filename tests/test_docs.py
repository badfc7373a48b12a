"""The README's and the package docstring's examples run as written."""

from __future__ import annotations

import doctest
import os

import scoring

from .conftest import ROOT


def test_readme_examples(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(
        str(ROOT / "README.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0 and result.failed == 0


def test_package_docstring(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(scoring, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
    assert os.getcwd() == str(ROOT)
