"""Round-over-round change (web/change.py), exactly: each unit's totals in both rounds and the difference, how
many rose, fell or held, the mean change rounded half-up at the total's precision, first-level 得分率 over the
units scored in both rounds only, and the numbers as a 督学 writes them (+1.50, −2.00, 四舍五入 percentages)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from scoring.engine.plan import compile_plan
from scoring.engine.result import Result
from scoring.engine.score import score, split
from scoring.framework.load import load_framework
from scoring.io.read import read_submission
from scoring.service.models import Project, Unit
from scoring.service.web.change import compare, mean_change, percent, signed

from .conftest import EXAMPLES, A, B

PLAN = compile_plan(load_framework(EXAMPLES.parents[1] / "frameworks" / "demo-school.yaml"))


def _result(name: str) -> Result:
    data = (EXAMPLES / name).read_bytes()
    (unit,) = split(PLAN, read_submission(data, filename=name, plan=PLAN))
    return score(PLAN, unit)


def test_the_change_of_each_unit_and_of_the_means_over_the_same_units() -> None:
    a, b = Unit(code=A, name="滨江实验小学"), Unit(code=B, name="北山中学")
    before_a, before_b, after_a = _result("strong.yaml"), _result("weak.json"), _result("strong-round2.yaml")
    assert before_a.total is not None and after_a.total is not None
    found = compare(Project(id=1, round=1), [(a, before_a), (b, before_b)], [(a, after_a)], (16, 3), 2)
    assert [(c.code, c.delta) for c in found.units] == [(A, after_a.total - before_a.total)]
    delta = after_a.total - before_a.total
    assert (found.rose, found.fell, found.held) == (
        (1, 0, 0) if delta > 0 else (0, 1, 0) if delta < 0 else (0, 0, 1)
    )
    assert found.mean == signed(delta.quantize(Decimal("0.01")))
    assert (found.items, found.closed) == (16, 3)

    # 得分率 of 滨江实验小学 alone in both rounds: 北山中学 (not in the new round yet) moves no mean
    def rates(r: Result) -> dict[str, Decimal]:
        return {
            i.code: i.points / i.possible
            for i in r.indicators
            if i.parent is None and i.points is not None and i.possible
        }

    old, new = rates(before_a), rates(after_a)
    assert {i.code: (i.before, i.after) for i in found.indicators} == {
        c: (old[c], new[c]) for c in new if c in old
    }
    falls = [i.after - i.before for i in found.indicators]
    assert falls == sorted(falls)  # the largest fall first


def test_numbers_are_written_as_a_reader_expects() -> None:
    assert [signed(Decimal(x)) for x in ("1.50", "-2.00", "0.00")] == ["+1.50", "−2.00", "0.00"]
    # 四舍五入 at one decimal: 0.25 % → 0.3 % (Python's format would give 0.2 %, half to even)
    assert percent(Decimal("0.0025")) == "0.3%"
    assert percent(Decimal("0.12345")) == "12.3%"
    assert percent(Decimal(1)) == "100.0%"


@given(st.lists(st.decimals(min_value=-100, max_value=100, places=2), max_size=30), st.integers(0, 3))
def test_the_mean_change_is_the_half_up_mean_of_the_differences(deltas: list[Decimal], places: int) -> None:
    """For any changes: sum ÷ n rounded half-up at the total's precision, with its sign; none is "—"."""
    shown = mean_change(deltas, places)
    if not deltas:
        assert shown == "—"
        return
    exact = sum(deltas, Decimal(0)) / len(deltas)
    value = Decimal(shown.replace("−", "-").lstrip("+"))
    assert value.as_tuple().exponent == -places
    assert abs(value - exact) <= Decimal(1).scaleb(-places) / 2  # the nearest at that precision …
    if abs(value - exact) == Decimal(1).scaleb(-places) / 2:
        assert abs(value) > abs(exact)  # … and a half away from zero (四舍五入)
    assert shown.startswith("+") == (value > 0) and shown.startswith("−") == (value < 0)
