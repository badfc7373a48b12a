"""A compiled plan travels: ``pickle.loads(pickle.dumps(plan))`` is a real, independent plan that scores every
shipped example exactly as the original does (results ``==`` and their JSON equal), also through a process pool.

The plan pickles as its framework, content hash and check, and is compiled again on arrival (Plan.__reduce__);
these tests hold that recompiling to the original's numbers, texts, workbooks read and county results.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import scoring
from scoring.engine.cohort import score_cohort
from scoring.engine.result import result_to_json
from scoring.framework import expr as ex
from scoring.framework.check import kept
from scoring.framework.registry import entries
from scoring.io.table import read_table
from scoring.io.workbook import read_workbook
from scoring.jobs.cases import _submission

from ..conftest import ROOT

EXAMPLES = ROOT / "examples"
# as tests/test_examples.py finds them: every JSON/YAML submission beside its workbook (the county example of
# ysjh-2017 is a table and a cohort, covered below; tailoring holds a framework, not a submission)
SOURCES = sorted(
    p
    for p in [*EXAMPLES.glob("*/*.yaml"), *EXAMPLES.glob("*/*.json")]
    if p.parent.name not in ("tailoring", "ysjh-2017")
)
YSJH = EXAMPLES / "ysjh-2017"
FRAMEWORK_IDS = [e.id for e in entries()]
PROTOCOLS = [5, pickle.DEFAULT_PROTOCOL]


@cache
def _plan(framework_id: str) -> scoring.Plan:
    """One original plan per shipped framework (loading by id reads the registry: not once per test)."""
    return scoring.compile_plan(scoring.load_framework(framework_id))


def _travelled(plan: scoring.Plan, protocol: int) -> scoring.Plan:
    return pickle.loads(pickle.dumps(plan, protocol=protocol))


def _assert_same(got: scoring.Result, expected: scoring.Result) -> None:
    """Equal as objects and as the JSON a report writes (every text included)."""
    assert got == expected
    assert result_to_json(got) == result_to_json(expected)


def _context(context: dict[str, Any]) -> dict[str, Any]:
    """A case's county statistics as run_cases gives them to the engine (numbers as decimals)."""
    return {
        k: Decimal(str(v)) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in context.items()
    }


def _score_all(plan: scoring.Plan, sub: scoring.Submission) -> list[scoring.Result]:
    """The submission scored as the batch does: split into its units first."""
    return [scoring.score(plan, unit) for unit in scoring.split(plan, sub)]


# ------------------------------------------------------------------------------------ every framework


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_every_framework_arrives_as_an_independent_plan(framework_id, protocol):
    plan = _plan(framework_id)
    back = _travelled(plan, protocol)
    assert back.hash == plan.hash == scoring.engine.plan.framework_hash(back.framework)
    assert back.framework == plan.framework and back.framework is not plan.framework
    assert kept(back.framework) is back.checker  # the check came with it: compiling it again checks nothing
    assert [n.code for n in back.nodes] == [n.code for n in plan.nodes]
    assert all(
        b.rule is not o.rule for b, o in zip(back.nodes, plan.nodes, strict=True) if o.rule is not None
    )
    assert [d.expr for d in back.derived] == [d.expr for d in plan.derived]  # same source, type and names
    assert scoring.compile_plan(back.framework).hash == plan.hash


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_every_frameworks_own_cases_score_the_same(framework_id, protocol):
    """The cases written beside each framework (county statistics given as context) score alike."""
    plan = _plan(framework_id)
    back = _travelled(plan, protocol)
    for case in plan.framework.tests:
        sub = _submission(case)
        extra = _context(case.context)
        try:
            expected = scoring.score(plan, sub, extra=extra)
        except scoring.ScoringError as err:
            with pytest.raises(scoring.ScoringError) as got:
                scoring.score(back, sub, extra=extra)
            assert got.value.problems == err.problems
            continue
        _assert_same(scoring.score(back, sub, extra=extra), expected)


# ------------------------------------------------------------------------------------- every example


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_and_its_workbook_score_the_same(source: Path, protocol: int):
    sub = scoring.read_submission(source)
    plan = _plan(sub.framework or source.parent.name)
    back = _travelled(plan, protocol)
    for got, expected in zip(_score_all(back, sub), _score_all(plan, sub), strict=True):
        _assert_same(got, expected)
    workbook = source.with_suffix(".xlsx")
    read = read_workbook(workbook, plan)
    assert read_workbook(workbook, back) == read  # the travelled plan reads the workbook alike
    for got, expected in zip(_score_all(back, read), _score_all(plan, read), strict=True):
        _assert_same(got, expected)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_county_example_scores_the_same(protocol):
    """ysjh-2017: every school of the table through the school plan, and the county through score_cohort on
    the framework a travelled plan brought (its check kept) and through the travelled county plan."""
    school, county = _plan("ysjh-2017-school"), _plan("ysjh-2017")
    school_back, county_back = _travelled(school, protocol), _travelled(county, protocol)
    subs, failures = read_table(YSJH / "schools.csv", school)
    assert (subs, failures) == read_table(YSJH / "schools.csv", school_back) and failures == []
    for sub in subs:
        for got, expected in zip(_score_all(school_back, sub), _score_all(school, sub), strict=True):
            _assert_same(got, expected)
    county_sub = scoring.read_submission(YSJH / "county.yaml")
    cohort = score_cohort(county.framework, subs, county_sub)
    cohort_back = score_cohort(county_back.framework, subs, county_sub)
    assert cohort_back == cohort and cohort_back.to_json() == cohort.to_json()
    _assert_same(
        scoring.score(county_back, county_sub, extra=cohort.names),
        scoring.score(county, county_sub, extra=cohort.names),
    )


# ------------------------------------------------------------------------------------- the pieces


def test_unpickling_does_not_check_or_hash_again(monkeypatch):
    plan = _plan("demo-school")
    blob = pickle.dumps(plan)

    def refuse(*_: object) -> None:
        raise AssertionError("checked or hashed again on arrival")

    monkeypatch.setattr(scoring.engine.plan, "checked", refuse)
    monkeypatch.setattr(scoring.engine.plan, "framework_hash", refuse)
    assert pickle.loads(blob).hash == plan.hash


def test_a_plan_not_made_by_compile_plan_does_not_pickle():
    plan = dataclasses.replace(_plan("demo-school"), checker=None)
    with pytest.raises(TypeError, match="compile_plan"):
        pickle.dumps(plan)


@pytest.mark.parametrize(
    "source", ["a / b * 100", "  coalesce(a, 0) + 1.10 ", "a", "'小学'", "True", "round(a / 3, 2) >= 1.5"]
)
def test_an_expression_pickles_as_its_source_and_type(source):
    env = {"a": ex.VarInfo(ex.NUMBER), "b": ex.VarInfo(ex.NUMBER)}
    compiled = ex.compile_expr(source, env)
    back = pickle.loads(pickle.dumps(compiled))
    assert back == compiled and back.function is not compiled.function
    values = {"a": Decimal(7), "b": Decimal(3)}
    assert back.evaluate(values) == compiled.evaluate(values)
    assert back.evaluate({}) == compiled.evaluate({})


# ------------------------------------------------------------------------------------- a real pool


def test_a_plan_sent_to_spawned_processes_scores_the_same():
    """Through a real ProcessPoolExecutor (spawn: nothing inherited, the plan arrives by pickle only)."""
    plan = _plan("demo-school")
    subs = [scoring.read_submission(p) for p in SOURCES if p.parent.name == "demo-school"]
    assert subs
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(scoring.score, plan, sub) for sub in subs]
        got = [f.result() for f in futures]
    for result, sub in zip(got, subs, strict=True):
        _assert_same(result, scoring.score(plan, sub))
