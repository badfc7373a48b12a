"""The scoring result: what was scored, how, and what must be rectified. Stable JSON with a published schema.

Results are plain dataclasses (cheap to build hundreds of times per submission); pydantic serialises and
validates them through a TypeAdapter. Decimals are written as strings ("4.20"), so no precision is lost.

Decide eagerly, write lazily: the engine settles every number and status when it scores, but the objects and
text that present them (``Result.indicators`` with each one's ``explanation`` and ``inputs``,
``Result.rectification``, ``Result.total_explanation``) are built the first time they are read — by code, by
``to_json``, by a report, by ``==`` or by pickling. Reading gives the same value whenever it happens: it is
rendered from the scoring call's own outcomes and values, which nothing changes afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Literal

from pydantic import TypeAdapter

from ..framework.expr import PRECISION
from ..framework.rules.base import STATUS_ZH, Status

Scalar = Decimal | bool | str | dt.date | None


class Later(tuple[Any, ...]):
    """A field value still to be written: ``Later((fn, *args))``; ``fn(*args, obj, field)`` gives it, once, on
    first read of the field.

    Passing the owner in (rather than closing over it) keeps results free of reference cycles, so they are
    freed as soon as they are dropped. One Later may stand in several fields of an object: ``field`` says which.
    A tuple, because scoring makes one per indicator and a tuple is built without running Python code.
    """

    __slots__ = ()

    def __call__(self, obj: Any, field: str) -> Any:
        return self[0](*self[1:], obj, field)


class _Deferred:
    """Wraps a slot so that a :class:`Later` in it is replaced by its value when the field is first read.

    Every read of the field passes here (``to_json`` reads two of them per indicator), so the slot's own get and
    set are kept bound and a Later is called in place (as its ``__call__`` would).
    """

    __slots__ = ("get", "name", "put", "slot")

    def __init__(self, slot: Any, name: str):
        self.slot = slot
        self.name = name
        self.get = slot.__get__
        self.put = slot.__set__

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = self.get(obj, owner)
        if type(value) is Later:
            value = value[0](*value[1:], obj, self.name)
            self.put(obj, value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        self.put(obj, value)


def _deferred(*names: str) -> Callable[[type], type]:
    """Make the named fields of a slots dataclass accept a :class:`Later`."""

    def wrap(cls: type) -> type:
        for name in names:
            setattr(cls, name, _Deferred(cls.__dict__[name], name))
        return cls

    return wrap


@_deferred("explanation", "inputs")
@dataclass(slots=True)
class IndicatorResult:
    """One indicator's result. The engine builds it with :func:`indicator_result` (the same fields, faster)."""

    code: str
    name: str
    depth: int
    parent: str | None
    kind: str  # rule kind, or "group" for a parent
    status: Status
    points: Decimal | None = None  # earned; None when not scored (缺报, 待评, 不适用, pass/fail)
    possible: Decimal | None = None
    value: Scalar = None
    standard: str | None = None
    target: Decimal | None = (
        None  # the standard as a number: the bound missed (by most), else the first; a target
    )
    ratio: Decimal | None = None  # value ÷ standard, for thresholds with a lower bound
    gap: Decimal | None = None
    exact: Decimal | None = None  # the value before rounding, where rounding changed it (差异系数 use it)
    unit: str | None = None
    explanation: str = ""
    inputs: dict[str, Scalar] = field(default_factory=dict)
    note: str | None = None
    verified: bool = True  # false: wording or number not confirmed in a source (待核)
    local: bool = False  # a local, not national, indicator
    # the decimals ``value`` was compared and is reported at, where the framework declares them (the rule's
    # precision, else the derived value's or input's); None: shown as given. Reports format by it, never by the
    # Decimal's exponent (a derived 5 at precision 1 reads 5.0).
    precision: int | None = None

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]


_new = object.__new__
_put_explanation = vars(IndicatorResult)["explanation"].slot.__set__  # the slots under the _Deferred wrappers
_put_inputs = vars(IndicatorResult)["inputs"].slot.__set__


def indicator_result(
    node: Any, out: Any, possible: Any, explanation: Any, inputs: Any, precision: int | None = None
) -> IndicatorResult:
    """An IndicatorResult from its plan node and outcome (reading a result builds hundreds at once).

    ``node.fixed``: the fields that do not depend on the submission (code, name, depth, parent, kind, unit, note,
    verified, local), built once per plan; ``explanation`` and ``inputs`` may be :class:`Later`; ``precision``:
    the value's declared decimals (IndicatorResult.precision).
    """
    r = _new(IndicatorResult)
    r.code, r.name, r.depth, r.parent, r.kind, r.unit, r.note, r.verified, r.local = node.fixed
    r.precision = precision
    r.status = out.status
    r.points = out.points
    r.possible = possible
    r.value = out.value
    r.standard = out.standard
    r.target = out.target
    r.ratio = out.ratio
    r.gap = out.gap
    r.exact = out.exact
    _put_explanation(r, explanation)
    _put_inputs(r, inputs)
    return r


@dataclass(slots=True)
class VetoResult:
    code: str
    reason: str
    effect: str  # fail | downgrade | cap
    detail: str  # e.g. "降低 1 个等次", "不得高于 良好"
    triggered: bool | None  # None: cannot tell (缺报)
    explanation: str = ""
    local: bool = False  # a local, not national, rule
    verified: bool = True  # false: wording not confirmed in a source (待核)


@dataclass(slots=True)
class BonusResult:
    code: str
    name: str
    points: Decimal | None
    explanation: str = ""


@dataclass(slots=True)
class RectificationItem:
    no: int
    code: str
    name: str
    kind: Literal["veto", "indicator", "missing"]
    problem: str
    requirement: str | None
    basis: str | None
    owner: str | None
    deadline: dt.date | None
    priority: Literal["高", "中", "低"]
    points_recoverable: Decimal | None
    path: list[str] = field(default_factory=list)
    # 问责 measures the framework lists should the item be still open after its deadline or at the next round
    accountability: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DataWarning:
    """A doubt about the submitted data, for the 督学 to verify (not scored): a 数据核查 condition of the framework
    (severity warning) the values do not meet, or a doubt found while reading them (Submission.notes)."""

    code: str
    message: str
    detail: str  # the values it read, e.g. "专职宿管 是，寄宿制 否", or where the doubt is (自评表!F12)


@dataclass(slots=True)
class GapFlag:
    """A self-assessed value well above the evaluator's (自评虚高)."""

    input: str
    label: str
    self_value: Scalar
    evaluator_value: Scalar
    difference: str


@dataclass(slots=True)
class Completeness:
    filled: int
    required: int
    ratio: Decimal
    missing_inputs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AppliedChange:
    """A waiver or override, with who, when, why and old → new."""

    kind: Literal["waiver", "override"]
    indicator: str
    by: str
    at: dt.date | None
    reason: str
    old: str
    new: str


@dataclass(slots=True)
class FrameworkRef:
    id: str
    name: str
    version: str
    hash: str
    extends: str | None = None
    # the official documents it encodes, cited: 国务院教育督导委员会《…办法》（教督〔2017〕6号）；（待核） when unverified
    sources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class UnitRef:
    name: str
    code: str | None = None
    type: str | None = None
    region: str | None = None
    date: dt.date | None = None


@_deferred("indicators", "rectification", "total_explanation")
@dataclass(slots=True)
class Result:
    framework: FrameworkRef
    engine: str
    unit: UnitRef
    method: str
    total: Decimal | None
    possible: Decimal | None
    grade: str | None
    grade_before_vetoes: str | None
    passed: bool | None  # 认定 / pass: False when vetoed out or (pass/fail) the top level is not met
    provisional: bool  # True when some indicators are 缺报 / 待评: the total may change
    counts: dict[str, int]
    completeness: Completeness
    indicators: list[IndicatorResult]
    vetoes: list[VetoResult] = field(default_factory=list)
    bonus: list[BonusResult] = field(default_factory=list)
    bonus_total: Decimal | None = None
    rectification: list[RectificationItem] = field(default_factory=list)
    self_total: Decimal | None = None  # when evaluator values exist: the score on the unit's own values
    gap_flags: list[GapFlag] = field(default_factory=list)
    data_warnings: list[DataWarning] = field(default_factory=list)  # 数据核查 conditions not met (warnings)
    changes: list[AppliedChange] = field(default_factory=list)
    source: str | None = None
    total_explanation: str | None = None  # how the total was reached (first-level points, rescaling, bonus)
    evidence: dict[str, list[str]] = field(
        default_factory=dict
    )  # 佐证材料 as submitted, by indicator or input
    # the decimals points are reported at (the framework's scoring.precision): totals, earned, bonus and
    # recoverable points. None in results written before it was recorded: their points are shown as written.
    precision: int | None = None
    # the decimals of the total (and self_total): scoring.total_precision, else precision. None in results
    # written before it was recorded.
    total_precision: int | None = None
    # what each input and derived value is called (id → label), so that texts built from the result — an
    # indicator's inputs, the 缺报 list — name them as the 自评表 does. Empty in results written before.
    labels: dict[str, str] = field(default_factory=dict)

    def indicator(self, code: str) -> IndicatorResult:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)

    def to_json(self, indent: int | None = 2) -> str:
        return result_to_json(self, indent)


_ADAPTER: TypeAdapter[Result] = TypeAdapter(Result)


def result_to_json(result: Result, indent: int | None = 2) -> str:
    """The result as JSON, written at the scoring call's precision (PRECISION digits).

    Writing it writes every text still to be written, hundreds of them: each one computes at PRECISION digits
    whatever the caller's context (``at_precision``). Set here once, the context is what each finds already; a
    copy of the caller's with only ``prec`` set, it is the context each text would have entered on its own.
    """
    with localcontext() as ctx:
        ctx.prec = PRECISION
        # 6x faster than json.dumps of a dump
        return _ADAPTER.dump_json(result, indent=indent).decode("utf-8")


def result_from_json(text: str | bytes) -> Result:
    return _ADAPTER.validate_json(text)


def result_schema() -> dict[str, Any]:
    return _ADAPTER.json_schema(mode="serialization")
