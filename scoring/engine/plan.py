"""Compiling a checked framework into a plan: expressions compiled, dependency order fixed, rules bound.

A plan is immutable after compilation and shared by every scoring call, in any number of threads. It pickles
(for a process pool or a cluster) as its framework, content hash and check, and is compiled again on arrival.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..framework import expr as ex
from ..framework.check import Checker, checked, keep, kept
from ..framework.collector import collector_paused
from ..framework.model import (
    DataCheck,
    Framework,
    Grade,
    Indicator,
    Input,
    Rectify,
    Veto,
    plausible_range,
)
from ..framework.rules.base import DerivedSpec, LeafRule, RuleContext
from ..framework.rules.kinds import build_rule
from ..framework.text import Template
from ..problems import FrameworkError, Problem


@dataclass(frozen=True, slots=True)
class InputSpec:
    name: str
    kind: str
    label: str
    unit: str | None
    choices: tuple[str, ...] | None
    min: Decimal | None
    max: Decimal | None
    required: bool
    applies_to: frozenset[str] | None
    precision: int | None
    by: str
    help: str | None
    # the plausible range (合理范围, model.plausible_range): outside it a value is reported, or refused
    plausible_min: Decimal | None = None
    plausible_max: Decimal | None = None
    plausible_refuse: bool = False
    adverse: bool = False  # 是 is the unfavourable answer (model.Input.adverse)

    def implausible(self, value: Any) -> bool:
        """Whether a typed number lies outside the plausible range."""
        return (self.plausible_min is not None and value < self.plausible_min) or (
            self.plausible_max is not None and value > self.plausible_max
        )


@dataclass(slots=True)
class Node:
    code: str
    name: str
    depth: int
    parent: str | None
    path: tuple[str, ...]
    points: Decimal | None
    weight: Decimal | None
    applies_to: frozenset[str] | None
    applicable: ex.Expression | None
    rectify: Rectify
    indicator: Indicator
    children: list[Node] = field(default_factory=list)
    rule: LeafRule | None = None
    checks: bool = False  # has applies_to or applicable: scoring asks whether it applies
    index: int = 0  # position in the plan's pre-order list
    # the result fields that do not depend on the submission (result.indicator_result)
    fixed: tuple[Any, ...] = ()
    leaf_possible: Decimal | None = None  # full points when scored by points (None for 达标类)
    # for the engine's common path (no waivers or overrides): the leaf children that always apply, as
    # (index, rule.evaluate, code when the rule reads a manual rating, leaf_possible), their full points
    # together, and the other children
    plain_leaves: tuple[tuple[int, Any, str | None, Decimal | None], ...] = ()
    plain_full: Decimal = Decimal(0)
    other_children: list[Node] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    check: DataCheck
    when: ex.Expression
    shown: tuple[tuple[str, str], ...]  # (name, label) of the values it reads, in the order written


@dataclass(frozen=True, slots=True)
class VetoSpec:
    veto: Veto
    when: ex.Expression
    template: Template
    rectify: Rectify


@dataclass(frozen=True, slots=True)
class BonusSpec:
    code: str
    name: str
    points: ex.Expression
    when: ex.Expression | None


@dataclass(frozen=True, slots=True)
class GradeSpec:
    grade: Grade
    when: ex.Expression | None


@dataclass
class Plan:
    framework: Framework
    hash: str
    method: str
    precision: int
    compare_rounded: bool
    total: Decimal | None
    params: dict[str, Any]
    inputs: dict[str, InputSpec]
    derived: list[DerivedSpec]
    roots: list[Node]
    nodes: list[Node]  # pre-order
    vetoes: list[VetoSpec]
    bonus: list[BonusSpec]
    bonus_cap: Decimal | None
    grades: list[GradeSpec]
    defaults: Rectify
    checks: list[CheckSpec] = field(default_factory=list)  # 数据核查
    total_precision: int = 2  # places of the total, which decides the grade (scoring.total_precision)
    veto_order: tuple[str, ...] = ("downgrade", "cap", "fail")  # the order veto effects apply to the grade
    split_when: list[ex.Expression] = field(default_factory=list)
    index: dict[str, Node] = field(default_factory=dict)  # code → node
    blank: dict[str, None] = field(default_factory=dict)  # every input, unfilled
    # parameters and every input unfilled: a context's start
    base: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # input and derived value id → label
    # the framework's documents, cited (FrameworkRef.sources)
    sources: list[str] = field(default_factory=list)
    grade_names: frozenset[str] = frozenset()  # the names the grades' conditions read
    limited: list[tuple[str, frozenset[str]]] = field(default_factory=list)  # inputs for some unit types only
    # per node, in plan order: the decimals its value is compared and reported at, where the framework says
    value_places: tuple[int | None, ...] = ()
    leaf_indexes: list[int] = field(default_factory=list)  # positions of the leaves in ``nodes``
    other_codes: frozenset[str] = frozenset()  # veto and bonus item codes
    # derived values in order: (spec, name, evaluate, rounding quantum when compared rounded)
    derived_steps: list[tuple[DerivedSpec, str, Any, Decimal | None]] = field(default_factory=list)
    required: list[tuple[str, frozenset[str] | None, str]] = field(
        default_factory=list
    )  # (name, applies_to, by)
    # inputs by kind for the engine's fast path: (n)umber/percent, (i)nteger, (b)oolean, (c)hoice; bounds (the
    # valid range within the plausible one: a value outside takes the slow path, which says why); choices
    plain: dict[str, tuple[str, Decimal | None, Decimal | None, frozenset[str] | None]] = field(
        default_factory=dict
    )
    _required: dict[tuple[str | None, bool], tuple[list[str], frozenset[str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )  # required_for, by (unit type, own)
    # the clean check the plan was compiled from: what a pickled plan carries so that it is not checked again
    checker: Checker | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.index = {n.code: n for n in self.nodes}
        for i, n in enumerate(self.nodes):
            n.index = i
        self.leaf_indexes = [n.index for n in self.nodes if n.rule is not None]
        for n in self.nodes:
            plain = [c for c in n.children if c.rule is not None and not c.checks]
            n.plain_leaves = tuple(
                (c.index, c.rule.evaluate, c.code if c.rule.manual else None, c.leaf_possible)  # type: ignore[union-attr]
                for c in plain
            )
            n.plain_full = sum([c.leaf_possible for c in plain if c.leaf_possible is not None], Decimal(0))
            n.other_children = [c for c in n.children if c.rule is None or c.checks]
        self.other_codes = frozenset([v.veto.code for v in self.vetoes] + [b.code for b in self.bonus])
        self.derived_steps = [
            (
                d,
                d.name,
                d.expr.run,
                Decimal(1).scaleb(-d.precision) if d.precision is not None and self.compare_rounded else None,
            )
            for d in self.derived
        ]
        self.required = [(n, i.applies_to, i.by) for n, i in self.inputs.items() if i.required]
        codes = {"number": "n", "percent": "n", "integer": "i", "boolean": "b", "choice": "c", "level": "c"}
        self.plain = {
            n: (
                codes[i.kind],
                _tighter(i.min, i.plausible_min, max),
                _tighter(i.max, i.plausible_max, min),
                frozenset(i.choices) if i.choices else None,
            )
            for n, i in self.inputs.items()
            if i.kind in codes and ((i.kind != "choice" and i.kind != "level") or i.choices)
        }
        self.blank = dict.fromkeys(self.inputs)
        self.base = {**self.params, **self.blank}
        self.sources = [s.cite() for s in self.framework.source]
        self.grade_names = frozenset(n for g in self.grades if g.when is not None for n in g.when.names)
        self.limited = [(n, i.applies_to) for n, i in self.inputs.items() if i.applies_to is not None]
        self.value_places = self._value_places()
        # what a report calls each input and derived value: texts name them by label, never by id
        self.labels = {
            **{d.name: d.label for d in self.derived},
            **{n: i.label for n, i in self.inputs.items()},
        }

    def _value_places(self) -> tuple[int | None, ...]:
        """The rule's own ``precision`` first (threshold, bands), else that of the derived value or input its
        ``value`` names; None otherwise (a level, a count, an expression's value, a group): reports show such
        values as given. Reports format by this, never by a Decimal's exponent."""
        declared = {d.name: d.precision for d in self.derived}
        declared.update({n: i.precision for n, i in self.inputs.items()})
        found = []
        for node in self.nodes:
            rule = node.indicator.rule
            spec = rule.spec if rule is not None else None
            own = getattr(spec, "precision", None)
            source = getattr(spec, "value", None)
            named = declared.get(source.strip()) if isinstance(source, str) else None
            found.append(own if own is not None else named)
        return tuple(found)

    def node(self, code: str) -> Node:
        return self.index[code]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as what compiling needs, compiled again on arrival (:func:`_arrive`).

        Rules are closures and expressions generated code, which pickle cannot carry; recompiling is cheaper
        than loading (measured in benchmarks/engine.py). The framework travels whole (its source positions
        too, so problems found later still point at the file), with the content hash and the check it passed,
        so the receiving side neither hashes nor checks it again."""
        if self.checker is None:  # not from compile_plan: nothing vouches for the framework
            raise TypeError("only a plan made by compile_plan pickles")
        return (_arrive, (self.framework, self.hash, Carried.of(self.checker)))

    def required_for(self, unit_type: str | None, own: bool) -> tuple[list[str], frozenset[str]]:
        """The inputs a unit of this type must fill (in framework order, and as a set); ``own``: the 自评 only."""
        key = (unit_type, own)
        got = self._required.get(key)
        if got is None:
            foreign = self.foreign_inputs(unit_type)
            names = [
                name
                for name, applies_to, by in self.required
                if (applies_to is None or unit_type in applies_to)
                and (by == "self" or not own)
                and name not in foreign
            ]
            got = self._required[key] = (names, frozenset(names))
        return got

    def foreign_inputs(self, unit_type: str | None) -> frozenset[str]:
        """Inputs read only by indicators (or vetoes) that do not apply to ``unit_type`` (by their own applies_to
        or an ancestor's): a 小学 is not asked for the 区县 part's data, nor counted as having left it out."""
        if unit_type is None:
            return frozenset()
        here: set[str] = set()
        there: set[str] = set()
        for node in self.nodes:
            if node.rule is None:
                continue
            applies = all((t := self.index[c].applies_to) is None or unit_type in t for c in node.path)
            (here if applies else there).update(self.inputs_behind(node.rule.names))
        for spec in self.vetoes:
            applies = not spec.veto.applies_to or unit_type in spec.veto.applies_to
            (here if applies else there).update(self.inputs_behind(spec.when.names))
        for b in self.bonus:
            here.update(self.inputs_behind(b.points.names | (b.when.names if b.when else frozenset())))
        for c in self.checks:
            here.update(self.inputs_behind(c.when.names))
        return frozenset(there - here)

    def inputs_behind(self, names: Iterable[str]) -> set[str]:
        """The inputs ``names`` read, following derived values to the inputs they use."""
        derived = {d.name: d for d in self.derived}
        out: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in derived:
                stack.extend(derived[name].expr.names)
            elif name in self.inputs:
                out.add(name)
        return out


def _tighter(a: Decimal | None, b: Decimal | None, pick: Any) -> Decimal | None:
    """The tighter of two bounds (``pick`` is max for lower bounds, min for upper ones); None is no bound."""
    return b if a is None else a if b is None else pick(a, b)


def framework_hash(fw: Framework) -> str:
    """A content hash of the merged framework: same numbers and rules → same hash, whatever the formatting."""
    data = fw.model_dump(
        mode="json", exclude={"tests"}, exclude_defaults=True
    )  # new optional keys keep old hashes
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _merge_rectify(defaults: Rectify, own: Rectify | None) -> Rectify:
    if own is None:
        return defaults
    data = defaults.model_dump()
    data.update({k: v for k, v in own.model_dump().items() if v is not None})
    return Rectify(**data)


def compile_plan(fw: Framework) -> Plan:
    """Compile a framework (already loaded and checked) into a plan; raise FrameworkError if it has errors."""
    with collector_paused():
        checker = kept(fw)
        if checker is None:  # built in code or changed since loading: check it now
            checker = checked(fw)
            problems = [p for p in checker.problems if p.severity == "error"]
            if problems:
                raise FrameworkError(problems)
        return _compile_plan(fw, checker, framework_hash(fw))


@dataclass(frozen=True, slots=True)
class Carried:
    """The parts of a framework's clean check that compiling reads (and the loader keeps), as plain data that
    pickles: the typed names, the derived values' order, the expressions compiled while checking (they pickle
    as source and type), the warnings and the names used."""

    env: dict[str, ex.VarInfo]
    derived_order: list[str]
    compiled: dict[str, ex.Expression]
    problems: list[Problem]
    used: set[str]

    @classmethod
    def of(cls, checker: Checker) -> Carried:
        return cls(checker.env, checker.derived_order, checker.compiled, checker.problems, checker.used)

    def checker(self, fw: Framework) -> Checker:
        """A Checker over ``fw`` holding this check's findings, without running it again."""
        checker = Checker(fw)
        checker.env = self.env
        checker.derived_order = self.derived_order
        checker.compiled = self.compiled
        checker.problems = self.problems
        checker.used = self.used
        return checker


def _arrive(fw: Framework, digest: str, carried: Carried) -> Plan:
    """A pickled plan compiled again from its framework, with the check and hash that came with it.

    The framework (just unpickled: a copy of its own) keeps that check as if just loaded, so
    compile_plan(plan.framework) or a cohort on the receiving side reuses it too."""
    checker = carried.checker(fw)
    if kept(fw) is None:  # a framework shared with a live plan (copy.copy) keeps the check it has
        keep(fw, checker)
    with collector_paused():
        return _compile_plan(fw, checker, digest)


def _compile_plan(fw: Framework, checker: Checker, digest: str) -> Plan:
    env = checker.env
    settings = fw.settings
    defaults = fw.rectify or Rectify()

    compiled = checker.compiled

    def compile_(source: Any) -> ex.Expression:
        hit = compiled.get(source) if isinstance(source, str) else None
        return hit if hit is not None else ex.compile_expr(source, env)

    inputs = {name: _input_spec(fw, name, i) for name, i in fw.inputs.items()}
    derived = [
        DerivedSpec(
            name=name,
            label=fw.derived[name].label,
            expr=compile_(fw.derived[name].expr),
            template=Template(fw.derived[name].expr),
            precision=fw.derived[name].precision,
            unit=fw.derived[name].unit,
        )
        for name in checker.derived_order
    ]
    precisions = {d.name: d.precision for d in derived}
    precisions.update(
        {
            n: i.precision if i.precision is not None else (0 if i.kind == "integer" else None)
            for n, i in inputs.items()
        }
    )
    units = {d.name: d.unit for d in derived}
    units.update({n: i.unit for n, i in inputs.items()})
    labels = _cohort_labels(fw)
    labels.update({d.name: d.label for d in derived})
    labels.update({n: i.label for n, i in inputs.items()})
    context = RuleContext(
        compile=compile_,
        method=settings.method,
        precision=settings.precision,
        compare_rounded=settings.compare == "rounded",
        precisions=precisions,
        units=units,
        labels=labels,
        derived={d.name: d for d in derived},
        integers=frozenset(n for n, i in inputs.items() if i.kind == "integer"),
    )

    nodes: list[Node] = []  # pre-order
    roots: list[Node] = []
    possible = _possible_points(fw)
    # Depth-first with a stack rather than a recursive closure (which would refer to itself and keep the
    # plan's nodes for the cycle collector).
    stack: list[tuple[Indicator, int, Node | None]] = [(ind, 1, None) for ind in reversed(fw.indicators)]
    while stack:
        ind, depth, parent = stack.pop()
        node = Node(
            code=ind.code,
            name=ind.name,
            depth=depth,
            parent=parent.code if parent else None,
            path=(*(parent.path if parent else ()), ind.code),
            points=possible.get(ind.code),
            weight=ind.weight,
            applies_to=frozenset(ind.applies_to) if ind.applies_to else None,
            applicable=compile_(ind.applicable) if ind.applicable else None,
            rectify=_merge_rectify(defaults, ind.rectify),
            indicator=ind,
        )
        node.checks = node.applies_to is not None or node.applicable is not None
        node.leaf_possible = node.points if settings.method != "pass_fail" else None
        nodes.append(node)
        (parent.children if parent is not None else roots).append(node)
        if ind.children:
            stack.extend((c, depth + 1, node) for c in reversed(ind.children))
        else:
            node.rule = build_rule(ind, context, node.points)
        rule = node.rule
        node.fixed = (
            ind.code,
            ind.name,
            depth,
            node.parent,
            rule.kind if rule else "group",
            rule.unit if rule else None,
            ind.note,
            ind.verified,
            ind.local,
        )
    vetoes = [
        VetoSpec(v, compile_(v.when), Template(v.when), _merge_rectify(defaults, v.rectify))
        for v in fw.vetoes
    ]
    bonus = []
    if fw.bonus:
        for item in fw.bonus.items:
            pts = compile_(item.points) if isinstance(item.points, str) else ex.constant(item.points)
            bonus.append(BonusSpec(item.code, item.name, pts, compile_(item.when) if item.when else None))
    grade_env = checker.grade_env()
    grades = [GradeSpec(g, ex.compile_expr(g.when, grade_env) if g.when else None) for g in fw.grades]
    total = settings.total
    if total is None and settings.method == "points":
        total = sum((r.points or Decimal(0) for r in roots), Decimal(0))
    if total is None and settings.method == "weights":
        total = Decimal(100)
    return Plan(
        framework=fw,
        hash=digest,
        method=settings.method,
        precision=settings.precision,
        total_precision=settings.total_places,
        veto_order=settings.effect_order,
        compare_rounded=settings.compare == "rounded",
        total=total,
        params={k: p.value for k, p in fw.params.items()},
        inputs=inputs,
        derived=derived,
        roots=roots,
        nodes=nodes,
        vetoes=vetoes,
        bonus=bonus,
        bonus_cap=fw.bonus.cap if fw.bonus else None,
        grades=grades,
        defaults=defaults,
        split_when=[compile_(u.when) for u in fw.units.split] if fw.units else [],
        checks=[CheckSpec(c, compile_(c.when), _labelled(fw, Template(c.when).names)) for c in fw.checks],
        checker=checker,
    )


def _cohort_labels(fw: Framework) -> dict[str, str]:
    """A county framework's statistics named after the unit framework's indicators; by code when that framework
    cannot be read (loading the county framework has already reported why)."""
    if fw.cohort is None:
        return {}
    from ..framework.load import unit_framework

    try:
        unit = unit_framework(fw)
    except FrameworkError:
        return fw.cohort.labels({})
    return fw.cohort.labels({i.code: i.name for i in unit.walk()})


def _input_spec(fw: Framework, name: str, i: Input) -> InputSpec:
    low, high, refuse = plausible_range(i, fw.level)
    return InputSpec(
        name=name,
        kind=i.type,
        label=i.label,
        unit=i.unit,
        choices=tuple(fw.scales[i.scale])
        if i.type == "level" and i.scale
        else (tuple(i.choices) if i.choices else None),
        min=i.min,
        max=i.max,
        required=i.required,
        applies_to=frozenset(i.applies_to) if i.applies_to else None,
        precision=i.precision,
        by=i.by,
        help=i.help,
        plausible_min=low,
        plausible_max=high,
        plausible_refuse=refuse,
        adverse=i.adverse,
    )


def _labelled(fw: Framework, names: list[str]) -> tuple[tuple[str, str], ...]:
    """Names with the labels a report shows for them (an input's, derived value's or parameter's)."""
    out = []
    for name in dict.fromkeys(names):
        spec = fw.inputs.get(name) or fw.derived.get(name) or fw.params.get(name)
        out.append((name, (spec.label if spec is not None else None) or name))
    return tuple(out)


def _possible_points(fw: Framework) -> dict[str, Decimal | None]:
    """Every indicator's full points. With weights, a node's share of its parent: parent × weight ÷ Σ weights
    (kept exact, never rounded), so weights and points aggregate the same way."""
    out: dict[str, Decimal | None] = {}
    method = fw.settings.method
    if method == "weights":
        _by_weights(fw.indicators, fw.settings.total if fw.settings.total is not None else Decimal(100), out)
    else:
        for ind in fw.indicators:
            _by_points(ind, method, out)
    return out


def _by_points(ind: Indicator, method: str, out: dict[str, Decimal | None]) -> Decimal | None:
    if ind.children:
        kids = [_by_points(c, method, out) for c in ind.children]
        own = ind.points
        if own is None and method == "points":
            own = sum((k or Decimal(0) for k in kids), Decimal(0))
    else:
        own = ind.points
        manual = ind.rule.manual if ind.rule else None
        if own is None and manual is not None and manual.levels and method != "pass_fail":
            own = max(manual.levels.values())
    out[ind.code] = own
    return own


def _by_weights(siblings: list[Indicator], share: Decimal, out: dict[str, Decimal | None]) -> None:
    total = sum((s.weight or Decimal(0) for s in siblings), Decimal(0))
    for s in siblings:
        pts = share * (s.weight or Decimal(0)) / total if total else Decimal(0)
        out[s.code] = pts
        if s.children:
            _by_weights(s.children, pts, out)
