"""No workbook shows a reader the machine's names: every cell of every report workbook of the demo-school examples
(the unit reports, the batch summary, the 整改台账) and of the county example (县域评估.xlsx) is scanned for an
input's or a derived value's id (``homework_minutes``, ``L1_小学_cv``, ``passed_all``) and for an expression's
`` if `` / `` else ``."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

import scoring
from scoring.engine.cohort import needed_inputs, score_cohort
from scoring.engine.rows import UnitRow
from scoring.io.table import read_table
from scoring.report.cohort import write_workbook
from scoring.report.ledger import write_ledger
from scoring.report.summary_xlsx import write_batch_summary
from scoring.report.unit_xlsx import write_unit_report

from ..conftest import ROOT

DEMO = ROOT / "examples" / "demo-school"
COUNTY = ROOT / "examples" / "ysjh-2017"


def _ids(*frameworks: scoring.Framework) -> set[str]:
    """The names a framework gives its inputs, derived values and parameters (those a reader never typed)."""
    names: set[str] = set()
    for fw in frameworks:
        names |= set(fw.inputs) | set(fw.derived or {}) | set(fw.params or {})
    return {n for n in names if re.search(r"[a-z_]", n)}  # L1, R3: codes a reader also sees; keep word names


def _offences(path: Path, ids: set[str]) -> list[str]:
    found = []
    pattern = re.compile(
        r"(?<![A-Za-z0-9_])("
        + "|".join(map(re.escape, sorted(ids, key=len, reverse=True)))
        + r")(?![A-Za-z0-9_])"
    )
    for ws in openpyxl.load_workbook(path, read_only=True):
        for row in ws.iter_rows(values_only=True):
            for value in row:
                if not isinstance(value, str):
                    continue
                hit = pattern.search(value)
                if hit or " if " in value or " else " in value:
                    found.append(
                        f"{path.name}!{ws.title}: {hit.group(0) if hit else 'if/else'} in {value[:80]!r}"
                    )
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[list[Path], set[str]]:
    out = tmp_path_factory.mktemp("scan")
    plan = scoring.compile_plan(scoring.load_framework("demo-school"))
    results = {p.name: scoring.score(plan, scoring.read_submission(p)) for p in sorted(DEMO.glob("*.y*ml"))}
    results |= {p.name: scoring.score(plan, scoring.read_submission(p)) for p in sorted(DEMO.glob("*.json"))}
    paths = [write_unit_report(r, out / f"{name}.xlsx") for name, r in results.items()]
    rows = [UnitRow.of(name, r) for name, r in results.items()]
    paths.append(write_batch_summary(rows, [], out / "汇总.xlsx", framework_name=plan.framework.name))
    paths.append(write_ledger(results["strong.yaml"], results["strong-round2.yaml"], out / "台账.xlsx"))
    county = scoring.load_framework("ysjh-2017")
    school = scoring.compile_plan(scoring.load_framework("ysjh-2017-school"))
    subs, failures = read_table(COUNTY / "schools.csv", school, needed=needed_inputs(county, school))
    cohort = score_cohort(county, subs, failures=failures)
    paths.append(write_workbook(cohort, out / "县域评估.xlsx"))
    return paths, _ids(plan.framework, county, school.framework)


def test_the_scan_knows_the_names_it_looks_for(written):
    _, ids = written
    assert {"homework_minutes", "has_boarding"} <= ids


def test_no_workbook_shows_an_id_or_an_expression(written):
    paths, ids = written
    found = [line for path in paths for line in _offences(path, ids)]
    assert found == []
