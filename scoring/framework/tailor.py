"""Tailoring: a framework that ``extends`` another, as a district adapts a national framework.

Modelled on XCCDF tailoring (select/unselect, set-value, refine-rule) and InSpec overlays. The merged
framework is checked as a whole afterwards, so a changed points value that breaks a parent's sum is caught.
Objects keep the source positions of the file they came from, so problems point at the right file.
"""

from __future__ import annotations

from typing import Any

from ..problems import Problem
from . import expr as ex
from .model import Framework, Indicator, Model, Param, Rectify, Tailoring


def _err(obj: Model, sub: tuple[Any, ...], code: str, zh: str, en: str, *, key: bool = False) -> Problem:
    smap, path = obj._src or (None, ())
    if smap is None:
        return Problem(code, zh, en)
    problem: Problem = smap.problem((*path, *sub), code, zh, en, key=key)
    return problem


def apply(parent: Framework, child: Framework) -> tuple[Framework, list[Problem]]:
    """The child framework's view of ``parent``: identity and additions from the child, the rest inherited.

    The steps run in the order a district writes them: parameters, then which indicators are kept, then changes
    to them, then additions, then removals of vetoes, data checks and inputs. Each step reports what it cannot
    find in the extended framework."""
    problems: list[Problem] = []
    t = child.tailor or Tailoring()
    merged = _inherit(parent, child)
    _change_params(merged, t, problems)
    index = _select(merged, parent, child, t, problems)
    _change_indicators(index, t, problems)
    _add_indicators(merged, index, t, problems)
    merged.indicators.extend(child.indicators)
    _regroup(merged, t, problems)
    _change_vetoes(merged, t, problems)
    _remove(merged, parent, child, t, problems)
    merged._src = child._src
    merged._dir = child._dir
    return merged, problems


def _inherit(parent: Framework, child: Framework) -> Framework:
    """A copy of the parent with the child's identity, settings, names and additions laid over it."""
    merged = parent.model_copy(deep=True)
    _copy_sources(parent, merged)

    for field in ("id", "name", "version", "extends", "description"):
        setattr(merged, field, getattr(child, field))
    for field in ("level", "applies_to", "provenance", "scoring", "bonus", "rectify", "units", "cohort"):
        if getattr(child, field) is not None:
            setattr(merged, field, getattr(child, field))
    if child.grades:
        merged.grades = child.grades
    merged.source = [*child.source, *parent.source]
    merged.notes = [*child.notes, *parent.notes]
    merged.scales = {**parent.scales, **child.scales}
    merged.inputs = {**merged.inputs, **child.inputs}
    merged.derived = {**merged.derived, **child.derived}
    merged.params = {**merged.params, **child.params}
    merged.tests = child.tests
    merged.tailor = child.tailor

    return merged


def _change_params(merged: Framework, t: Tailoring, problems: list[Problem]) -> None:
    for name, value in t.params.items():
        if name not in merged.params:
            problems.append(
                _err(
                    t,
                    ("params", name),
                    "tailor-unknown-param",
                    f"被扩展的框架没有参数 “{name}”",
                    f"no parameter '{name}' to change",
                    key=True,
                )
            )
            continue
        old = merged.params[name]
        new = Param(value=value, label=old.label, unit=old.unit, note=old.note)
        new._src = (t._src[0], (*t._src[1], "params", name)) if t._src else None
        merged.params[name] = new


def _select(
    merged: Framework, parent: Framework, child: Framework, t: Tailoring, problems: list[Problem]
) -> dict[str, Indicator]:
    """Keep the selected indicators (with their parents and children), drop the unselected; the index kept."""
    index = {ind.code: ind for ind in merged.walk()}

    for i, code in enumerate(t.unselect):
        if code not in index:
            problems.append(
                _err(
                    t,
                    ("unselect", i),
                    "tailor-unknown-code",
                    f"没有编码为 “{code}” 的指标可以去掉",
                    f"no indicator '{code}' to unselect",
                )
            )
    for i, code in enumerate(t.select):
        if code not in index:
            problems.append(
                _err(
                    t,
                    ("select", i),
                    "tailor-unknown-code",
                    f"没有编码为 “{code}” 的指标可以选用",
                    f"no indicator '{code}' to select",
                )
            )
    _mark_restandardised(merged, set(t.params) | (set(child.derived) & set(parent.derived)))

    drop = set(t.unselect)
    if t.select:
        keep = _with_relatives(merged.indicators, set(t.select))
        drop |= {code for code in index if code not in keep}
    merged.indicators = _prune(merged.indicators, drop)
    index = {ind.code: ind for ind in merged.walk()}

    return index


def _changed(target: Any, change: Model) -> None:
    """Each field ``change`` gives replaces the target's; a rectify overrides key by key."""
    for field in type(change).model_fields:
        value = getattr(change, field)
        if value is not None:
            setattr(target, field, _merged_rectify(target.rectify, value) if field == "rectify" else value)


def _unknown(t: Tailoring, key: str, code: str, what: str, en: str) -> Problem:
    return _err(
        t,
        (key, code),
        "tailor-unknown-code",
        f"没有编码为 “{code}” 的{what}可以修改",
        f"no {en} '{code}' to change",
        key=True,
    )


def _change_indicators(index: dict[str, Indicator], t: Tailoring, problems: list[Problem]) -> None:
    for code, change in t.change.items():
        ind = index.get(code)
        if ind is None:
            problems.append(_unknown(t, "change", code, "指标", "indicator"))
            continue
        _changed(ind, change)
        if change.weight is not None:
            ind.points = None
        if change.points is not None:
            ind.weight = None
        if change.local is None and any(getattr(change, f) is not None for f in _SCORING_FIELDS):
            ind.local = True  # scored differently from the framework it extends: a local variant


def _add_indicators(
    merged: Framework, index: dict[str, Indicator], t: Tailoring, problems: list[Problem]
) -> None:
    for i, add in enumerate(t.add):
        if add.indicator.code in index:
            problems.append(
                _err(
                    add,
                    ("indicator", "code"),
                    "tailor-duplicate-code",
                    f"新增指标的编码 “{add.indicator.code}” 已存在",
                    f"added indicator code '{add.indicator.code}' exists",
                )
            )
            continue
        if add.parent is None:
            merged.indicators.append(add.indicator)
        elif add.parent not in index:
            problems.append(
                _err(
                    t,
                    ("add", i, "parent"),
                    "tailor-unknown-code",
                    f"没有编码为 “{add.parent}” 的上级指标",
                    f"no parent indicator '{add.parent}'",
                )
            )
            continue
        else:
            parent_ind = index[add.parent]
            if parent_ind.rule is not None:
                problems.append(
                    _err(
                        t,
                        ("add", i, "parent"),
                        "tailor-leaf-parent",
                        f"“{add.parent}” 是末级指标，不能在其下添加",
                        f"'{add.parent}' is a leaf",
                    )
                )
                continue
            parent_ind.children = [*(parent_ind.children or []), add.indicator]
        for ind in add.indicator.walk():
            if "local" not in ind.model_fields_set:
                ind.local = True  # an addition to the framework it extends
        index.update({ind.code: ind for ind in add.indicator.walk()})


def _regroup(merged: Framework, t: Tailoring, problems: list[Problem]) -> None:
    """Each new group takes the place of its first member, if that was a first-level indicator (else it goes
    last); its members leave their parents and keep everything else."""
    for i, group in enumerate(t.group):
        index = {ind.code: ind for ind in merged.walk()}
        parents = _parents(merged.indicators)
        members = _members(group, i, index, t, problems)
        if members is None:
            continue
        first = members[0]
        slot = next((n for n, ind in enumerate(merged.indicators) if ind is first), len(merged.indicators))
        for ind in members:
            above = parents[ind.code]
            siblings = above.children if above is not None else merged.indicators
            assert siblings is not None
            siblings.remove(ind)
        made = Indicator(
            code=group.code,
            name=group.name,
            points=group.points,
            weight=group.weight,
            children=members,
            basis=group.basis,
            note=group.note,
            local=group.local,
            verified=group.verified,
        )
        merged.indicators.insert(min(slot, len(merged.indicators)), made)
        emptied = [
            p.code for p in {id(p): p for p in parents.values() if p is not None}.values() if not p.children
        ]
        for code in emptied:
            problems.append(
                _err(
                    t,
                    ("group", i, "members"),
                    "tailor-empty-parent",
                    f"指标 “{code}” 的下级全部移入 “{group.code}”，它自己没有下级了：请一并移入或去掉（unselect）",
                    f"'{code}' is left without children",
                )
            )


def _members(
    group: Any,
    i: int,
    index: dict[str, Indicator],
    t: Tailoring,
    problems: list[Problem],
) -> list[Indicator] | None:
    """The indicators a group takes, or None (with the problems) when its code exists already, or a member is
    unknown, named twice, or inside another member."""
    found = len(problems)
    if group.code in index:
        problems.append(
            _err(
                t,
                ("group", i, "code"),
                "tailor-duplicate-code",
                f"新分组的编码 “{group.code}” 已存在",
                f"group code '{group.code}' exists",
            )
        )
    named = [code for code in group.members if code in index]
    for j, code in enumerate(group.members):
        if code not in index:
            zh, en, kind = f"没有编码为 “{code}” 的指标", f"no indicator '{code}'", "tailor-unknown-code"
        elif group.members.index(code) != j or any(
            other != code and code in {x.code for x in index[other].walk()} for other in named
        ):
            zh, en, kind = (
                f"“{code}” 在这个分组里出现了两次（或在它的另一个成员之下）",
                f"'{code}' is in the group twice (or under another member)",
                "tailor-group-twice",
            )
        else:
            continue
        problems.append(_err(t, ("group", i, "members", j), kind, zh, en))
    if len(problems) > found:
        return None
    return [index[code] for code in group.members]


def _parents(indicators: list[Indicator]) -> dict[str, Indicator | None]:
    """Each indicator's parent by code (None at the first level)."""
    out: dict[str, Indicator | None] = {}
    stack: list[tuple[Indicator, Indicator | None]] = [(ind, None) for ind in indicators]
    while stack:
        ind, parent = stack.pop()
        out[ind.code] = parent
        stack.extend((child, ind) for child in ind.children or ())
    return out


def _change_vetoes(merged: Framework, t: Tailoring, problems: list[Problem]) -> None:
    """Replace the fields a tailoring gives of inherited vetoes; a veto changed in its effect or condition is
    a local rule unless the tailoring says otherwise."""
    by_code = {v.code: v for v in merged.vetoes}
    for code, change in t.change_vetoes.items():
        veto = by_code.get(code)
        if veto is None:
            problems.append(_unknown(t, "change_vetoes", code, "否决项", "veto"))
            continue
        _changed(veto, change)
        if change.local is None and (change.when is not None or change.effect is not None):
            veto.local = True


def _remove(
    merged: Framework, parent: Framework, child: Framework, t: Tailoring, problems: list[Problem]
) -> None:
    removed = _removed(
        t, "remove_vetoes", {v.code for v in merged.vetoes}, "编码为 “{}” 的否决项", "veto", problems
    )
    merged.vetoes = [v for v in merged.vetoes if v.code not in removed] + list(child.vetoes)
    removed = _removed(
        t, "remove_checks", {c.code for c in merged.checks}, "编码为 “{}” 的数据核查", "check", problems
    )
    merged.checks = [c for c in merged.checks if c.code not in removed] + list(child.checks)
    # an input still used is then an unknown name where it is used (checked with the merged framework)
    removed = _removed(t, "remove_inputs", set(parent.inputs), "名为 “{}” 的填报项", "input", problems)
    merged.inputs = {name: spec for name, spec in merged.inputs.items() if name not in removed}


def _removed(t: Tailoring, key: str, known: set[str], zh: str, en: str, problems: list[Problem]) -> set[str]:
    """What ``tailor.<key>`` removes; each one the extended framework does not have is a problem."""
    codes: list[str] = getattr(t, key)
    for i, code in enumerate(codes):
        if code not in known:
            problems.append(
                _err(
                    t,
                    (key, i),
                    "tailor-unknown-code",
                    f"没有{zh.format(code)}",
                    f"no {en} '{code}' to remove",
                )
            )
    return set(codes)


_SCORING_FIELDS = ("points", "weight", "rule", "applies_to", "require")


def _mark_restandardised(fw: Framework, changed: set[str]) -> None:
    """Mark as local the leaves whose rule or applicability reads a parameter the tailoring changed or a derived
    value it redefined, directly or through other derived values: their standard is no longer the original's."""
    if not changed:
        return
    reads = {name: _names(d.expr) for name, d in fw.derived.items()}
    grew = True
    while grew:  # derived values computed from changed names are changed too
        more = {name for name, names in reads.items() if names & changed} - changed
        changed |= more
        grew = bool(more)
    for ind in fw.walk():
        if ind.rule is None:
            continue
        texts = _strings(ind.rule.model_dump(mode="json", exclude_none=True))
        if ind.applicable:
            texts.append(ind.applicable)
        if any(_names(text) & changed for text in texts):
            ind.local = True


def _names(text: Any) -> set[str]:
    """The names an expression reads; none for text that is not an expression (a label, a guidance note)."""
    try:
        return ex.parse(text).names
    except ex.ExprError:
        return set()


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


def _copy_sources(src: Framework, dst: Framework) -> None:
    """``model_copy(deep=True)`` copies private state too, but keep it explicit for lists of models."""
    dst._src = src._src


def _merged_rectify(old: Rectify | None, new: Rectify) -> Rectify:
    """A tailoring's rectify over the inherited one, key by key (as the top-level defaults are): changing the
    owner to 区县人民政府 does not restate the problem and requirement texts."""
    if old is None:
        return new
    return old.model_copy(update={k: getattr(new, k) for k in new.model_fields_set})


def _with_relatives(indicators: list[Indicator], codes: set[str]) -> set[str]:
    keep: set[str] = set()
    stack: list[tuple[Indicator, list[str]]] = [(ind, []) for ind in indicators]
    while stack:  # a stack, not a recursive closure (which would wait for the cycle collector)
        ind, ancestors = stack.pop()
        if ind.code in codes:
            keep.update(ancestors)
            keep.update(i.code for i in ind.walk())
        stack.extend((child, [*ancestors, ind.code]) for child in ind.children or ())
    return keep


def _prune(indicators: list[Indicator], drop: set[str]) -> list[Indicator]:
    out = []
    for ind in indicators:
        if ind.code in drop:
            continue
        if ind.children:
            ind.children = _prune(ind.children, drop)
            if not ind.children:
                continue
        out.append(ind)
    return out
