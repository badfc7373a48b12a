"""Loading a framework file: YAML → data with positions → models → (tailoring) → semantic checks.

Every layer reports problems with file, line, column and YAML path; all problems of a file come back in one
run. ``load_framework`` raises :class:`FrameworkError` when there is any error; ``validate_path`` returns
the problems instead, for ``scoring validate``.
"""

from __future__ import annotations

import difflib
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..problems import FrameworkError, PathPart, Problem
from . import expr as ex
from . import registry
from .check import checked, kept
from .collector import collector_paused
from .model import Framework, attach_sources
from .source import DEFAULT_LIMITS, Limits, SourceMap, load_yaml_text, read_text

MAX_EXTENDS_DEPTH = 8


def load_framework(name: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> Framework:
    """Load, merge and check a framework by path or shipped id; raise FrameworkError listing every error."""
    fw, problems = _load(name, limits, chain=())
    errors = [p for p in problems if p.severity == "error"]
    if errors or fw is None:
        raise FrameworkError(errors or problems)
    return fw


def validate_path(
    name: str | Path, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[Framework | None, list[Problem]]:
    """All problems (errors and warnings) of one framework file; the framework if it has no errors."""
    fw, problems = _load(name, limits, chain=())
    if any(p.severity == "error" for p in problems):
        return None, problems
    return fw, problems


def load_text(text: str, file: str = "<input>", *, limits: Limits = DEFAULT_LIMITS) -> Framework:
    """Load a framework from YAML text (no ``extends`` to a relative path)."""
    fw, problems = _from_text(text, file, limits, base_dir=None, chain=())
    errors = [p for p in problems if p.severity == "error"]
    if errors or fw is None:
        raise FrameworkError(errors or problems)
    return fw


Chain = tuple[tuple[str, str | None], ...]  # the frameworks being loaded: (id, resolved file or None)


def _load(
    name: str | Path, limits: Limits, chain: Chain, relative_to: Path | None = None
) -> tuple[Framework | None, list[Problem]]:
    path = registry.resolve(name, relative_to)
    if path is None:
        known = ", ".join(e.id for e in registry.entries())
        return None, [
            Problem(
                "not-found",
                f"找不到框架文件或框架 id “{name}”（已内置：{known}）",
                f"no framework file or shipped id '{name}' (shipped: {known})",
                file=str(name),
            )
        ]
    try:
        text = read_text(path, limits)
    except FrameworkError as exc:
        return None, exc.problems
    return _from_text(
        text, _display(path), limits, base_dir=path.parent, chain=chain, key=str(path.resolve())
    )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _from_text(
    text: str, file: str, limits: Limits, base_dir: Path | None, chain: Chain, key: str | None = None
) -> tuple[Framework | None, list[Problem]]:
    """``key``: the resolved file, when the text is one (a cycle is the same file met again, not the same id)."""
    with collector_paused():
        return _from_text_unpaused(text, file, limits, base_dir, chain, key)


def _from_text_unpaused(
    text: str, file: str, limits: Limits, base_dir: Path | None, chain: Chain, key: str | None
) -> tuple[Framework | None, list[Problem]]:
    try:
        data, smap = load_yaml_text(text, file, limits)
    except FrameworkError as exc:
        return None, exc.problems
    if not isinstance(data, dict):
        return None, [
            Problem(
                "not-mapping",
                "框架文件的顶层必须是映射（键: 值）",
                "the top level must be a mapping",
                file=file,
                line=1,
            )
        ]
    fw, problems = _validated(data, smap)
    if problems:
        return None, problems
    assert fw is not None
    attach_sources(fw, smap, ())
    fw._dir = str(base_dir) if base_dir else None
    if fw.extends:
        fw, tailored = _extended(fw, smap, limits, base_dir, chain, key)
        if fw is None:
            return None, tailored
        problems.extend(tailored)
    elif fw.tailor is not None:
        problems.append(
            smap.problem(
                ("tailor",),
                "tailor-without-extends",
                "tailor 只能与 extends 一起使用",
                "tailor needs extends",
            )
        )
        return None, problems
    _add_semantic_problems(fw, smap, problems)
    return fw, problems


def _validated(data: dict[Any, Any], smap: SourceMap) -> tuple[Framework | None, list[Problem]]:
    """The framework, or None and the problems of data that does not fit the model. Validated once: the
    errors are translated only when there are any."""
    try:
        fw = Framework.model_validate(data)
    except ValidationError as exc:
        problems = _translate(Framework, exc, data, smap)
        return None, _with_repaired_problems(data, smap, problems) if problems else problems
    return fw, []


def _with_repaired_problems(data: dict[Any, Any], smap: SourceMap, problems: list[Problem]) -> list[Problem]:
    """``problems`` and, where the data can be repaired to a valid shape, its semantic problems too: one run
    then reports them all, not the shape first and the meaning on the next run."""
    from . import check

    repaired = repair(Framework, data)
    if repaired is None:
        return problems
    fw = Framework.model_validate(repaired)
    attach_sources(fw, smap, ())
    if fw.extends:
        return problems
    return problems + [p for p in check.check(fw) if p.code != "unused-input"]


def _extended(
    fw: Framework, smap: SourceMap, limits: Limits, base_dir: Path | None, chain: Chain, key: str | None
) -> tuple[Framework | None, list[Problem]]:
    """``fw`` applied to the framework it extends, with the tailoring's warnings; or None and the problems.

    ``chain`` is the frameworks already being loaded, so a cycle (or a runaway depth) stops at the extends
    that closes it instead of recursing for ever."""
    from . import tailor

    assert fw.extends is not None  # only called for a framework that extends another
    ids = [i for i, _ in chain]
    if (key is not None and key in [k for _, k in chain]) or len(chain) >= MAX_EXTENDS_DEPTH:
        return None, [
            smap.problem(
                ("extends",),
                "extends-cycle",
                f"extends 形成循环：{' → '.join((*ids, fw.id))}",
                f"extends forms a cycle: {' -> '.join((*ids, fw.id))}",
            )
        ]
    parent, parent_problems = _load(fw.extends, limits, (*chain, (fw.id, key)), relative_to=base_dir)
    if parent is None:
        return None, _parent_problems(fw, smap, parent_problems)
    if parent.id == fw.id:
        return None, [
            smap.problem(
                ("id",),
                "extends-same-id",
                f"框架 id “{fw.id}” 与它 extends 的框架相同：本地化的框架需要自己的 id（如 {fw.id}-local）",
                f"id '{fw.id}' is the id of the framework it extends: a tailored framework needs its own id",
            )
        ]
    tailored, tailor_problems = tailor.apply(parent, fw)
    if any(p.severity == "error" for p in tailor_problems):
        return None, tailor_problems
    return tailored, tailor_problems


def _parent_problems(fw: Framework, smap: SourceMap, parent_problems: list[Problem]) -> list[Problem]:
    """Why the framework named by extends could not be loaded, told at this file's extends; then the parent's
    problems that are located in a file of their own, since that is where the fix is."""
    if any(p.code == "extends-cycle" for p in parent_problems):
        return parent_problems  # already located at the extends that closes the cycle
    located = [
        smap.problem(
            ("extends",),
            "extends-invalid",
            f"extends 引用的框架 “{fw.extends}” 无法加载：{p.message_zh}",
            f"the framework named by extends, '{fw.extends}', cannot be loaded: {p.message_en}",
        )
        for p in parent_problems
        if p.severity == "error"
    ][:1]
    return located + [p for p in parent_problems if p.file not in (None, str(fw.extends))]


def _add_semantic_problems(fw: Framework, smap: SourceMap, problems: list[Problem]) -> None:
    """Add the semantic check's problems (and the cohort's) to ``problems``. A framework without errors keeps
    its check: compile_plan reuses the checked names and order instead of checking again."""
    from . import check

    checker = check.checked(fw)
    problems.extend(checker.problems)
    if not any(p.severity == "error" for p in problems):
        check.keep(fw, checker)
    if fw.cohort is not None and not any(p.severity == "error" for p in problems):
        problems.extend(_cohort_problems(fw, smap))


def _cohort_problems(fw: Framework, smap: SourceMap) -> list[Problem]:
    """The cohort section checked against the unit framework it names (located at the cohort section)."""
    from ..problems import FrameworkError as _FE

    try:
        unit = unit_framework(fw)
    except _FE as err:
        return [
            smap.problem(("cohort", "framework"), p.code, p.message_zh, p.message_en) for p in err.problems
        ]
    return [
        smap.problem(("cohort",), p.code, p.message_zh, p.message_en, detail=p.detail)
        for p in check_cohort(fw, unit)
    ]


# ------------------------------------------------------------------------------- pydantic → problems

_ZH = {
    "missing": "缺少必填项 “{field}”",
    "extra_forbidden": "未知的键 “{field}”{hint}",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数（不能有小数）",
    "decimal_type": "应为数值",
    "decimal_parsing": "应为数值",
    "float_type": "应为数值",
    "bool_type": "应为是/否（true / false）",
    "bool_parsing": "应为是/否（true / false）",
    "list_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "literal_error": "取值无效，应为 {expected}",
    "enum": "取值无效，应为 {expected}",
    "too_short": "至少需要 {min_length} 项",
    "greater_than": "必须大于 {gt}",
    "greater_than_equal": "必须大于或等于 {ge}",
    "less_than_equal": "必须小于或等于 {le}",
    "string_pattern_mismatch": "格式不对：只能用字母、数字、点、下划线和连字符，且以字母或数字开头",
    "rule_kind": "一条规则必须恰好有一种类型（{kinds}），这里是：{found}",
    "threshold_bound": "阈值规则需要给出标准：at_least（≥，以上/不低于）、above（>）、at_most（≤）、below（<，低于）或 equals",
    "threshold_equals": "equals 不能和其他界限同时使用",
    "indicator_shape": "指标要么有规则（rule），要么有下级指标（children），且只能二选一",
    "indicator_weight": "分值（points）和权重（weight）只能给一个",
    "indicator_require": "组条件（require）只能用于有下级指标的指标",
    "veto_effect": "否决效果应为 fail（不予认定）、{{downgrade: 1}}（降低等次）或 {{cap: 等级}}（不得评为高于该等级）",
    "veto_order_twice": "veto_order 中每种效果只能写一次：{twice}",
    "bound_type": "应为数值、表达式（参数名）或按学校类型的映射，如 {{小学: 4.2, 初中: 5.3}}",
}


def _field_names(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at the mapping that holds ``loc[-1]``, for a did-you-mean hint."""
    current: Any = model
    for part in loc[:-1]:
        current = _unwrap(current, part)
        if current is None:
            return []
    current = _unwrap_plain(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap_plain(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _unwrap(tp: Any, part: Any) -> Any:
    tp = _unwrap_plain(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field else None
    origin = typing.get_origin(tp)
    if origin is list:
        return typing.get_args(tp)[0]
    if origin is dict:
        return typing.get_args(tp)[1]
    return None


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[PathPart, ...]:
    """Drop the parts of a pydantic location that are not keys of the data (union and validator tags)."""
    path: list[PathPart] = []
    current = data
    for part in loc:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        ):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and part not in current:
            path.append(part)  # a missing key: reported at its parent
            current = None
        else:
            continue
    return tuple(path)


_FILLABLE = {"name", "label", "title", "reason"}  # required texts that no semantic check depends on
_STAND_INS = {("id",): "invalid-id", ("version",): "0"}  # required top-level values no semantic check reads


def repair(model: type[BaseModel], data: Any, rounds: int = 6) -> Any:
    """A copy of ``data`` with faulty optional keys removed and broken rules replaced, or None.

    Only used to run the semantic checks after schema errors, so one run reports every mistake. Paths are
    kept stable (list items are never removed) so that source positions still apply.
    """
    import copy

    fixed = copy.deepcopy(data)
    for _ in range(rounds):
        try:
            model.model_validate(fixed)
            return fixed
        except ValidationError as exc:
            changed = False
            for err in exc.errors(include_url=False):
                path = _data_path(fixed, tuple(err["loc"]))
                if err["type"] == "missing" and "rule" not in path:
                    # A missing descriptive text does not change the semantics: stand in an empty one.
                    holder = _get(fixed, path[:-1])
                    if path and path[-1] in _FILLABLE and isinstance(holder, dict) and path[-1] not in holder:
                        holder[path[-1]] = ""
                        changed = True
                        continue
                    return None
                if "rule" in path:
                    i = path.index("rule")
                    holder = _get(fixed, path[:i])
                    if isinstance(holder, dict) and holder.get("rule") != {"manual": {}}:
                        holder["rule"] = {"manual": {}}
                        holder.pop("children", None)
                        changed = True
                    continue
                if path in _STAND_INS and isinstance(fixed, dict) and fixed.get(path[0]) != _STAND_INS[path]:
                    fixed[path[0]] = _STAND_INS[
                        path
                    ]  # a bad id or version: check the rest of the file anyway
                    changed = True
                    continue
                if path and isinstance(path[-1], str):
                    holder = _get(fixed, path[:-1])
                    if isinstance(holder, dict) and path[-1] in holder:
                        del holder[path[-1]]
                        changed = True
            if not changed:
                return None
    return None


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _expected(ctx: dict[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace("'", "")


def _translate(model: type[BaseModel], exc: ValidationError, data: Any, smap: SourceMap) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        etype = err["type"]
        ctx = {k: (str(v) if not isinstance(v, Decimal) else v) for k, v in (err.get("ctx") or {}).items()}
        path = _data_path(data, loc)
        # Union members each report the same place; keep the first error per place.
        key = (path, etype if etype in ("missing", "extra_forbidden") else "")
        if key in seen:
            continue
        seen.add(key)
        field = path[-1] if path else ""
        hint_zh = hint_en = ""
        if etype == "extra_forbidden":
            names = _field_names(model, loc)
            near = difflib.get_close_matches(str(field), names, n=1, cutoff=0.6)
            if near:
                hint_zh, hint_en = f"，是不是 “{near[0]}”？", f"; did you mean '{near[0]}'?"
            elif names:
                hint_zh = f"（可用的键：{', '.join(names)}）"
                hint_en = f" (allowed: {', '.join(names)})"
        fmt = {**ctx, "field": field, "hint": hint_zh, "expected": _expected(ctx)}
        zh_t = _ZH.get(etype)
        try:
            zh = zh_t.format(**fmt) if zh_t else err["msg"]
        except (KeyError, IndexError):
            zh = err["msg"]
        en = err["msg"] + (hint_en if etype == "extra_forbidden" else "")
        if etype == "missing":
            en = f"missing required key '{field}'"
            problem = smap.problem(path[:-1], "schema-missing", zh, en)
            problem = Problem(**{**problem.__dict__, "path": path})
        elif etype == "extra_forbidden":
            en = f"unknown key '{field}'{hint_en}"
            problem = smap.problem(path, "schema-unknown-key", zh, en, key=True)
        else:
            got = err.get("input")
            if etype not in ("rule_kind", "indicator_shape") and not isinstance(got, dict | list):
                zh += f"（实际为：{got!r}）" if got is not None else ""
            problem = smap.problem(path, f"schema-{etype.replace('_', '-')}", zh, en)
        out.append(problem)
    return out


def unit_framework(fw: Framework) -> Framework:
    """The unit-level framework a county framework's cohort names, resolved beside the county file or by id."""
    assert fw.cohort is not None
    base = Path(fw._dir) if fw._dir else None
    path = registry.resolve(fw.cohort.framework, relative_to=base)
    if path is None:
        raise FrameworkError(
            [
                Problem(
                    "cohort-framework",
                    f"找不到 cohort.framework “{fw.cohort.framework}”",
                    f"cohort framework '{fw.cohort.framework}' not found",
                )
            ]
        )
    return load_framework(path)


def check_cohort(fw: Framework, unit: Framework) -> list[Problem]:
    """The cohort section against the unit framework: known indicators and groups, a numeric weight."""
    c = fw.cohort
    assert c is not None
    out: list[Problem] = []
    codes = {i.code for i in unit.walk()}
    for code in [*c.indicators, *([c.passing] if c.passing else [])]:
        if code not in codes:
            out.append(
                Problem(
                    "cohort-indicator",
                    f"单位框架 {unit.id} 中没有指标 “{code}”",
                    f"unit framework {unit.id} has no indicator '{code}'",
                )
            )
    for g in c.groups:
        if unit.applies_to and g not in unit.applies_to:
            out.append(
                Problem(
                    "cohort-group",
                    f"“{g}” 不是单位框架 {unit.id} 的单位类型",
                    f"'{g}' is not a unit type of {unit.id}",
                )
            )
    try:
        ex.compile_expr(c.weight, unit_names(unit))
    except ex.ExprError as err:
        out.extend(
            Problem(
                "cohort-weight",
                f"cohort.weight：{i.zh}",
                f"cohort.weight: {i.en}",
                detail=ex.caret(c.weight, i.column),
            )
            for i in err.issues
        )
    return out


def unit_names(unit: Framework) -> dict[str, ex.VarInfo]:
    """The unit framework's typed names: from the loader's check when it ran, else checked now."""
    return (kept(unit) or checked(unit)).env
