"""The expression language: parsed once with :mod:`ast`, checked against a node whitelist, typed, compiled.

Why not a library: simpleeval and asteval have a record of sandbox escapes through attribute access and
callables (see docs/expressions.md). Here the only nodes that survive are arithmetic, comparisons, boolean logic,
a conditional, names, literals and calls to a fixed set of functions, so those escapes cannot be written.

Semantics that matter for scoring:

* every number is a :class:`~decimal.Decimal` built from its written text (``4.2`` is exactly 4.2);
* ``round`` rounds half up (四舍五入), not to even;
* a missing value is never 0: if a name the expression needs is missing, the result is missing (``None``).
  Inside ``coalesce(...)`` and ``filled(...)`` a name may be missing, and in ``a if c else b`` only the branch
  taken needs its names;
* division by zero is an evaluation error with a message, never a silent null.
"""

from __future__ import annotations

import ast
import keyword
import operator
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    DecimalException,
    InvalidOperation,
    Overflow,
    getcontext,
    localcontext,
)
from typing import Any

MAX_SOURCE = 2000
MAX_NODES = 400
MAX_POWER = 16
PRECISION = 34  # significant digits of every calculation
MAX_PLACES = 34  # the working precision; round() to more places than that means nothing
# Written numbers and constant parts of an expression: beyond 10^20 (or, written, nonzero below 10^-20) no count,
# area, sum of money or rate of a school or county lies, and a value that size cannot be rounded to a framework's
# places within PRECISION digits, so every evaluation would fail. `scoring validate` reports them.
MAX_CONSTANT = Decimal("1e20")
MIN_CONSTANT = Decimal("1e-20")

NUMBER, BOOL, TEXT, DATE, ANY = "number", "boolean", "text", "date", "any"


@dataclass(frozen=True)
class VarInfo:
    """What the type checker knows about a name."""

    type: str
    choices: tuple[str, ...] | None = None
    label: str | None = None


@dataclass(frozen=True)
class ExprIssue:
    column: int  # 0-based character offset in the expression
    zh: str
    en: str
    code: str = "expr"


class ExprError(Exception):
    """One or more problems in one expression; each with its column."""

    def __init__(self, source: str, issues: list[ExprIssue]):
        self.source = source
        self.issues = issues
        super().__init__("; ".join(i.en for i in issues))


class EvalError(Exception):
    """An expression failed while evaluating (e.g. division by zero)."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(en)


def arithmetic_error(exc: BaseException) -> EvalError:
    """The evaluation error an arithmetic fault stands for, in words a framework author can act on."""
    if isinstance(exc, EvalError):
        return exc
    # decimal's DivisionByZero; 0 ÷ 0 signals InvalidOperation with [DivisionUndefined] as its argument
    if isinstance(exc, ZeroDivisionError) or (isinstance(exc, DecimalException) and "Division" in str(exc)):
        return EvalError("除数为零", "division by zero")
    if isinstance(exc, Overflow):
        return EvalError(
            "数值过大，超出可计算的范围（溢出）", "a number too large to compute with (overflow)"
        )
    if isinstance(exc, InvalidOperation):  # e.g. rounding a value of more digits than the precision holds
        return EvalError(
            f"数值过大，超出 {PRECISION} 位有效数字的计算精度",
            f"a number beyond {PRECISION} significant digits",
        )
    if isinstance(exc, DecimalException):
        return EvalError("数值运算无效", f"invalid arithmetic: {type(exc).__name__}")
    return EvalError(f"计算失败：{exc}", f"evaluation failed: {exc}")


def caret(source: str, column: int) -> str:
    """The expression and a caret under ``column``; CJK characters take two columns in a terminal."""
    pad = "".join(
        "　" if unicodedata.east_asian_width(ch) in ("W", "F") else ("\t" if ch == "\t" else " ")
        for ch in source[:column]
    )
    return f"{source}\n{pad}^"


# ---------------------------------------------------------------------------------------------- functions


def _half_up(x: Decimal, places: Decimal | int = 0) -> Decimal:
    # Bound the places before int(): int(Decimal("1e99999999")) would build a hundred-million-digit integer.
    if not -MAX_PLACES <= places <= MAX_PLACES:
        raise EvalError(
            f"round 的小数位数必须在 {-MAX_PLACES} 到 {MAX_PLACES} 之间，这里是 {places}",
            f"round() takes places from {-MAX_PLACES} to {MAX_PLACES}, got {places}",
        )
    p = int(places)
    return x.quantize(Decimal(1).scaleb(-p), rounding=ROUND_HALF_UP)


def _ceil(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=ROUND_CEILING)


def _floor(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=ROUND_FLOOR)


def _flatten(args: tuple[Any, ...]) -> tuple[Any, ...] | list[Any]:
    for a in args:
        if type(a) is tuple or type(a) is list:
            break
    else:
        return args  # no list among them: the usual min(a, b)
    out: list[Any] = []
    for a in args:
        if isinstance(a, list | tuple):
            out.extend(a)
        else:
            out.append(a)
    return out


def _min(*args: Any) -> Any:
    return min(_flatten(args))


def _max(*args: Any) -> Any:
    return max(_flatten(args))


def _sum(*args: Any) -> Decimal:
    return sum(_flatten(args), Decimal(0))


def _count(*args: Any) -> Decimal:
    return Decimal(sum(1 for v in _flatten(args) if v is True))


class _MissingValue(Exception):
    """A name needed by the branch being evaluated has no value."""


def _need(value: Any) -> Any:
    if value is None:
        raise _MissingValue
    return value


def _coalesce(*thunks: Callable[[], Any]) -> Any:
    for thunk in thunks:
        try:
            value = thunk()
        except (TypeError, KeyError, _MissingValue):
            continue
        if value is not None:
            return value
    return None


def _filled(thunk: Callable[[], Any]) -> bool:
    try:
        return thunk() is not None
    except (TypeError, KeyError, _MissingValue):
        return False


def _sqrt(x: Decimal) -> Decimal:
    if x < 0:
        raise EvalError("不能对负数开平方", "square root of a negative number")
    return x.sqrt()


def _pow(base: Decimal, exp: Decimal) -> Decimal:
    if base == 0 and exp < 0:
        raise EvalError("除数为零（0 的负数次方）", "division by zero (0 to a negative power)")
    return base ** int(exp)


def _mod(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:  # Decimal signals InvalidOperation here, not DivisionByZero
        raise ZeroDivisionError
    return a % b


@dataclass(frozen=True)
class _Fn:
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    arg_type: str  # type every argument must have; ANY: same type for all
    returns: str  # ANY: the arguments' type
    lenient: bool = False  # arguments may be missing; compiled as thunks
    zh: str = ""


FUNCTIONS: dict[str, _Fn] = {
    "min": _Fn(_min, 1, None, NUMBER, NUMBER, zh="最小值"),
    "max": _Fn(_max, 1, None, NUMBER, NUMBER, zh="最大值"),
    "abs": _Fn(abs, 1, 1, NUMBER, NUMBER, zh="绝对值"),
    "round": _Fn(_half_up, 1, 2, NUMBER, NUMBER, zh="四舍五入"),
    "ceil": _Fn(_ceil, 1, 1, NUMBER, NUMBER, zh="向上取整"),
    "floor": _Fn(_floor, 1, 1, NUMBER, NUMBER, zh="向下取整"),
    "sqrt": _Fn(_sqrt, 1, 1, NUMBER, NUMBER, zh="平方根"),
    "sum": _Fn(_sum, 1, None, NUMBER, NUMBER, zh="求和"),
    "count": _Fn(_count, 1, None, BOOL, NUMBER, zh="计数（为真的个数）"),
    "coalesce": _Fn(_coalesce, 2, None, ANY, ANY, lenient=True, zh="取第一个已填写的值"),
    "filled": _Fn(_filled, 1, 1, ANY, BOOL, lenient=True, zh="是否已填写"),
}

LIST_FUNCTIONS = ("min", "max", "sum", "count")
RESERVED = frozenset(FUNCTIONS) | frozenset(keyword.kwlist) | {"True", "False", "None", "true", "false"}

_BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "×",
    ast.Div: "÷",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)


def valid_name(name: str) -> bool:
    """Can ``name`` be written in an expression as itself? (Python identifiers, NFKC-stable, not reserved.)"""
    return (
        isinstance(name, str)
        and name.isidentifier()
        and unicodedata.normalize("NFKC", name) == name
        and name not in RESERVED
        and not name.startswith("_")
    )


# ---------------------------------------------------------------------------------------------- parsing


@dataclass
class Parsed:
    """A syntactically valid, whitelisted expression; names known, types not yet checked."""

    source: str
    tree: ast.Expression
    names: set[str] = field(default_factory=set)
    strict_names: set[str] = field(default_factory=set)  # needed outside coalesce/filled
    lead: int = 0  # characters of leading whitespace stripped before parsing; the tree's offsets exclude them

    @property
    def text(self) -> str:
        """The source the tree was parsed from (without the leading whitespace)."""
        return self.source[self.lead :]

    def column(self, node: ast.AST) -> int:
        return self.lead + _char_col(self.text, getattr(node, "col_offset", 0))


def _char_col(source: str, byte_col: int) -> int:
    return len(source.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def parse(source: Any) -> Parsed:
    """Parse and whitelist; raise :class:`ExprError` with the column of the first fault."""
    if isinstance(source, bool) or not isinstance(source, str | int | Decimal | float):
        raise ExprError(str(source), [ExprIssue(0, "表达式必须是文本", "an expression must be a string")])
    source = str(source)
    if not source.strip():
        raise ExprError(source, [ExprIssue(0, "表达式为空", "empty expression")])
    if len(source) > MAX_SOURCE:
        raise ExprError(
            source,
            [
                ExprIssue(
                    0, f"表达式超过 {MAX_SOURCE} 个字符", f"expression longer than {MAX_SOURCE} characters"
                )
            ],
        )
    text = source.strip()
    lead = len(source) - len(source.lstrip())
    try:
        with warnings.catch_warnings():
            # e.g. "invalid decimal literal" for 1if (a SyntaxWarning; a DeprecationWarning before 3.11)
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        # SyntaxError offsets are 1-based characters; 0 means "at the end of the input".
        col = exc.offset - 1 if exc.offset else len(text)
        if exc.lineno and exc.lineno > 1:
            col = len(text.splitlines()[0])
        msg = {"invalid syntax": "无效的语法"}.get(exc.msg, exc.msg)
        raise ExprError(
            source,
            [
                ExprIssue(
                    lead + min(col, len(text)),
                    f"表达式语法错误：{msg}",
                    f"syntax error: {exc.msg}",
                    "expr-syntax",
                )
            ],
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExprError(source, [ExprIssue(0, f"表达式无法解析：{exc}", f"cannot parse: {exc}")]) from None
    parsed = Parsed(source, tree, lead=lead)
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExprError(
            source,
            [
                ExprIssue(
                    0,
                    f"表达式过于复杂（超过 {MAX_NODES} 个节点）",
                    f"expression too complex (>{MAX_NODES} nodes)",
                )
            ],
        )
    _Whitelist(parsed).visit(tree.body)
    return parsed


class _Whitelist:
    """Refuse every node that is not part of the language; collect names on the way."""

    def __init__(self, parsed: Parsed):
        self.p = parsed
        self.lenient_depth = 0

    def fail(self, node: ast.AST, zh: str, en: str, code: str = "expr-not-allowed") -> ExprError:
        return ExprError(self.p.source, [ExprIssue(self.p.column(node), zh, en, code)])

    def visit(self, node: ast.AST) -> None:
        """Check one node by its type (the table below); a node type not in the table is not in the language."""
        check = _ALLOWED.get(type(node))
        if check is None:
            raise self.refused(node)
        check(self, node)

    def constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, bool | str | int | float):
            raise self.fail(node, f"不支持的常量 {node.value!r}", f"constant {node.value!r} is not allowed")

    def name(self, node: ast.Name) -> None:
        if node.id in ("True", "False"):
            return
        if node.id in FUNCTIONS:
            raise self.fail(node, f"函数 {node.id} 需要带括号调用", f"function {node.id} must be called")
        self.p.names.add(node.id)
        if not self.lenient_depth:
            self.p.strict_names.add(node.id)

    def binop(self, node: ast.BinOp) -> None:
        if type(node.op) not in _BINOPS:
            raise self.refused(node)
        if isinstance(node.op, ast.Pow):
            exp = node.right
            val = exp.operand if isinstance(exp, ast.UnaryOp) and isinstance(exp.op, ast.USub) else exp
            if not (isinstance(val, ast.Constant) and type(val.value) is int and val.value <= MAX_POWER):
                raise self.fail(
                    node.right,
                    f"乘方的指数必须是不超过 {MAX_POWER} 的整数常量",
                    f"the exponent of ** must be an integer constant of at most {MAX_POWER}",
                )
        self.visit(node.left)
        self.visit(node.right)

    def unaryop(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise self.refused(node)
        self.visit(node.operand)

    def boolop(self, node: ast.BoolOp) -> None:
        for v in node.values:
            self.visit(v)

    def compare(self, node: ast.Compare) -> None:
        for op in node.ops:
            if not isinstance(op, _CMPOPS):
                raise self.fail(node, "不支持的比较运算（is / is not）", "comparison operator not allowed")
        self.visit(node.left)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                self.constant_list(comp)
            else:
                self.visit(comp)

    def constant_list(self, comp: ast.expr) -> None:
        """The right of ``in``: a list of constants, each an allowed one (no None, bytes …)."""
        if not isinstance(comp, ast.List | ast.Tuple) or not all(
            isinstance(e, ast.Constant) for e in comp.elts
        ):
            raise self.fail(
                comp, 'in 后面必须是常量列表，如 ["小学", "初中"]', "'in' needs a list of constants"
            )
        for e in comp.elts:
            self.visit(e)

    def ifexp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        # A branch's names are needed only when that branch is taken: missing there → the result is missing.
        self.lenient_depth += 1
        self.visit(node.body)
        self.visit(node.orelse)
        self.lenient_depth -= 1

    def call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            known = "、".join(FUNCTIONS)
            raise self.fail(
                node,
                f"未知函数 {name}（可用：{known}）",
                f"unknown function {name} (available: {', '.join(FUNCTIONS)})",
                "expr-unknown-function",
            )
        if node.keywords:
            raise self.fail(node, "函数不接受关键字参数", "functions take no keyword arguments")
        lenient = FUNCTIONS[node.func.id].lenient
        self.lenient_depth += lenient
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail(arg, "不支持 * 展开参数", "starred arguments are not allowed")
            for e in arg.elts if isinstance(arg, ast.List | ast.Tuple) else (arg,):
                self.visit(e)
        self.lenient_depth -= lenient

    def refused(self, node: ast.AST) -> ExprError:
        what = type(node).__name__
        hint = _REFUSED_ZH.get(what, f"不允许的语法 {what}")
        return self.fail(node, hint, f"{what} is not allowed in expressions")


# The language, one entry per node type: a node type that is not here is refused (with _REFUSED_ZH's reason).
_ALLOWED: dict[type, Callable[[_Whitelist, Any], None]] = {
    ast.Constant: _Whitelist.constant,
    ast.Name: _Whitelist.name,
    ast.BinOp: _Whitelist.binop,
    ast.UnaryOp: _Whitelist.unaryop,
    ast.BoolOp: _Whitelist.boolop,
    ast.Compare: _Whitelist.compare,
    ast.IfExp: _Whitelist.ifexp,
    ast.Call: _Whitelist.call,
}
_REFUSED_ZH = {
    "Attribute": "不允许访问属性（“.”）",
    "Subscript": "不允许下标访问（“[]”）",
    "Lambda": "不允许 lambda",
    "ListComp": "不允许推导式",
    "GeneratorExp": "不允许生成器表达式",
    "JoinedStr": "不允许 f-字符串",
    "NamedExpr": "不允许赋值表达式",
    "List": "列表只能作为 sum/count/min/max 的参数",
    "Tuple": "元组只能作为 sum/count/min/max 的参数",
}


# ---------------------------------------------------------------------------------------------- types


_CMP_SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class _Typer:
    """Give every node its type and collect every type issue, so one run reports them all."""

    def __init__(self, parsed: Parsed, env: Mapping[str, VarInfo], names_hint: str):
        self.p = parsed
        self.env = env
        self.issues: list[ExprIssue] = []
        self.hint = names_hint
        # the values of constant parts, by node (None: not constant, or failed and reported)
        self.folded: dict[int, Decimal | None] = {}

    def issue(self, node: ast.AST, zh: str, en: str, code: str = "expr-type") -> str:
        self.issues.append(ExprIssue(self.p.column(node), zh, en, code))
        return ANY

    def want(self, node: ast.AST, have: str, want: str, what_zh: str, what_en: str) -> None:
        if have not in (want, ANY) and want != ANY:
            self.issue(
                node,
                f"{what_zh}需要{_TYPE_ZH[want]}，这里是{_TYPE_ZH[have]}",
                f"{what_en} needs a {want}, got a {have}",
            )

    def type(self, node: ast.AST) -> str:
        """Type one node by its node type (the table below, the shape of the whitelist's): a reader finds the
        rule for a node in one short method. The whitelist lets no other node type through; ANY is a guard."""
        typer = _TYPES.get(type(node))
        return ANY if typer is None else typer(self, node)

    def constant(self, node: ast.Constant) -> str:
        if isinstance(node.value, bool):
            return BOOL
        if isinstance(node.value, int | float):
            self.fold(node)  # a written number beyond the range is reported here
            return NUMBER
        return TEXT

    def name(self, node: ast.Name) -> str:
        if node.id in ("True", "False"):
            return BOOL
        info = self.env.get(node.id)
        if info is None:
            return self.unknown_name(node)
        return info.type

    def unknown_name(self, node: ast.Name) -> str:
        """Report a name the environment lacks, with the nearest known one: usually a typo of an id."""
        import difflib

        near = difflib.get_close_matches(node.id, list(self.env), n=1)
        tip_zh = f"；是不是 “{near[0]}”？" if near else ""
        tip_en = f"; did you mean '{near[0]}'?" if near else ""
        return self.issue(
            node,
            f"未知名称 “{node.id}”{tip_zh}（{self.hint}）",
            f"unknown name '{node.id}'{tip_en}",
            "expr-unknown-name",
        )

    def binop(self, node: ast.BinOp) -> str:
        lt, rt = self.type(node.left), self.type(node.right)
        sym = _BINOPS[type(node.op)]
        self.want(node.left, lt, NUMBER, f"运算 {sym} ", f"operator {sym}")
        self.want(node.right, rt, NUMBER, f"运算 {sym} ", f"operator {sym}")
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and self.fold(node.right) == 0:
            self.folded[id(node)] = None  # reported once, here
            self.issue(
                node.right,
                f"除数是常数 0：运算 {sym} 每次都会出错（无法计算）",
                f"the divisor is the constant 0: {sym} fails on every submission",
                "expr-zero-division",
            )
        self.fold(node)
        return NUMBER

    def unaryop(self, node: ast.UnaryOp) -> str:
        t = self.type(node.operand)
        if isinstance(node.op, ast.Not):
            self.want(node.operand, t, BOOL, "not ", "not")
            return BOOL
        self.want(node.operand, t, NUMBER, "正负号", "unary sign")
        return NUMBER

    def boolop(self, node: ast.BoolOp) -> str:
        word = "and" if isinstance(node.op, ast.And) else "or"
        for v in node.values:
            self.want(v, self.type(v), BOOL, f"{word} ", word)
        return BOOL

    def compare(self, node: ast.Compare) -> str:
        left = node.left
        lt = self.type(left)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                assert isinstance(comp, ast.List | ast.Tuple)  # the parser allows only a list after in
                for e in comp.elts:
                    self._compare(left, lt, e, self.type(e), op)
                continue
            ct = self.type(comp)
            self._compare(left, lt, comp, ct, op)
            left, lt = comp, ct
        return BOOL

    def ifexp(self, node: ast.IfExp) -> str:
        self.want(node.test, self.type(node.test), BOOL, "条件（if 后）", "condition")
        bt, ot = self.type(node.body), self.type(node.orelse)
        if ANY not in (bt, ot) and bt != ot:
            self.issue(
                node,
                f"条件表达式两个分支类型不同（{_TYPE_ZH[bt]} 与 {_TYPE_ZH[ot]}）",
                f"branches of the conditional differ ({bt} vs {ot})",
            )
            return ANY
        return bt if bt != ANY else ot

    def _compare(self, left: ast.AST, lt: str, right: ast.AST, rt: str, op: ast.cmpop) -> None:
        if ANY in (lt, rt):
            return
        if lt != rt:
            self.issue(
                right,
                f"不能比较{_TYPE_ZH[lt]}和{_TYPE_ZH[rt]}",
                f"cannot compare a {lt} with a {rt}",
            )
            return
        if lt in (TEXT, BOOL) and not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
            self.issue(
                right, f"{_TYPE_ZH[lt]}只能用 == 或 != 比较", f"a {lt} can only be compared with == or !="
            )
            return
        # A text constant compared with a choice input must be one of its choices.
        for name_node, const in ((left, right), (right, left)):
            if (
                isinstance(name_node, ast.Name)
                and isinstance(const, ast.Constant)
                and isinstance(const.value, str)
            ):
                info = self.env.get(name_node.id)
                if info and info.choices and const.value not in info.choices:
                    self.issue(
                        const,
                        f"“{const.value}” 不是 {name_node.id} 的可选值（{'、'.join(info.choices)}）",
                        f"'{const.value}' is not a choice of {name_node.id} ({', '.join(info.choices)})",
                        "expr-choice",
                    )

    def call(self, node: ast.Call) -> str:
        assert isinstance(node.func, ast.Name)  # the parser allows only calls of named functions
        name = node.func.id
        fn = FUNCTIONS[name]
        args: list[ast.AST] = []
        for a in node.args:
            if isinstance(a, ast.List | ast.Tuple) and name not in LIST_FUNCTIONS:
                self.issue(
                    a,
                    f"只有 {'、'.join(LIST_FUNCTIONS)} 接受列表参数",
                    f"only {', '.join(LIST_FUNCTIONS)} take a list",
                )
            args.extend(a.elts if isinstance(a, ast.List | ast.Tuple) else [a])
        n = len(args)
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            want = (
                f"{fn.min_args}"
                if fn.max_args == fn.min_args
                else (f"{fn.min_args}–{fn.max_args}" if fn.max_args else f"至少 {fn.min_args}")
            )
            want_en = want.replace("至少 ", "at least ")
            self.issue(
                node,
                f"函数 {name}（{fn.zh}）需要 {want} 个参数，这里有 {n} 个",
                f"{name}() takes {want_en} arguments, got {n}",
                "expr-arity",
            )
        types = [self.type(a) for a in args]
        if name == "round" and len(args) == 2:
            self.round_places(node, args[1])
        self.fold(node)
        if fn.arg_type != ANY:
            for arg, t in zip(args, types, strict=True):
                self.want(arg, t, fn.arg_type, f"函数 {name} 的参数", f"argument of {name}()")
            return fn.returns
        concrete = [t for t in types if t != ANY]
        if fn.returns == ANY:
            if len(set(concrete)) > 1:
                self.issue(
                    node, f"函数 {name} 的参数类型必须一致", f"arguments of {name}() must have one type"
                )
                return ANY
            return concrete[0] if concrete else ANY
        return fn.returns

    def round_places(self, node: ast.Call, places: ast.AST) -> None:
        """round()'s places, when written as a constant, must be a whole number within ±MAX_PLACES."""
        p = self.fold(places)
        if p is not None and (p != p.to_integral_value() or abs(p) > MAX_PLACES):
            self.folded[id(node)] = None  # reported once, here
            self.issue(
                places,
                f"round 的小数位数必须是 {-MAX_PLACES} 到 {MAX_PLACES} 之间的整数，这里是 {brief(p)}",
                f"round() takes whole places from {-MAX_PLACES} to {MAX_PLACES}, got {brief(p)}",
                "expr-range",
            )

    # -- constant parts: computed once here, so that one that always fails is reported by `scoring validate`

    def fold(self, node: ast.AST) -> Decimal | None:
        """The value of a constant numeric part (numbers, signs, arithmetic and number functions of constants);
        None when it depends on a name, or fails (reported where it fails, once)."""
        key = id(node)
        if key in self.folded:
            return self.folded[key]
        self.folded[key] = None
        value = self._fold(node)
        self.folded[key] = value
        return value

    def _fold(self, node: ast.AST) -> Decimal | None:
        if isinstance(node, ast.Constant):
            return self.number(node) if type(node.value) in (int, float) else None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = self.fold(node.operand)
            return None if v is None else (v.copy_negate() if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.BinOp) and type(node.op) in _FOLD_OPS:
            left, right = self.fold(node.left), self.fold(node.right)
            if left is None or right is None:
                return None
            return self.compute(node, _FOLD_OPS[type(node.op)], left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FOLD_FUNCTIONS:
            args = [e for a in node.args for e in (a.elts if isinstance(a, ast.List | ast.Tuple) else [a])]
            values: list[Decimal] = []
            for a in args:
                v = self.fold(a)
                if v is None:
                    return None
                values.append(v)
            return self.compute(node, FUNCTIONS[node.func.id].impl, *values) if values else None
        return None

    def number(self, node: ast.Constant) -> Decimal | None:
        """A written number as the compiled expression reads it (from its text), within the range."""
        value = _decimal(self.p.text, node)
        size = value.copy_abs()  # abs() would round to the context, and overflow on 1e9999999
        if size > MAX_CONSTANT or (size and size < MIN_CONSTANT):
            self.issue(
                node,
                f"常数 {brief(value)} 超出可计算的范围（绝对值须在 10^-20 到 10^20 之间，或为 0）",
                f"the constant {brief(value)} is out of range (from 10^-20 to 10^20 in size, or 0)",
                "expr-range",
            )
            return None
        return value

    def compute(self, node: ast.AST, fn: Callable[..., Any], *args: Decimal) -> Decimal | None:
        """A constant part's value, as evaluation computes it; a fault or a value beyond the range is reported."""
        try:
            with localcontext() as ctx:
                ctx.prec = PRECISION
                value = fn(*args)
        except TypeError:  # the wrong number of arguments: reported by call()
            return None
        except (ArithmeticError, ValueError, EvalError) as exc:
            err = arithmetic_error(exc)
            code = "expr-zero-division" if err.zh.startswith("除数为零") else "expr-constant"
            self.issue(node, f"这一部分总是无法计算：{err.zh}", f"this part always fails: {err.en}", code)
            return None
        if not isinstance(value, Decimal):
            return None
        if value.copy_abs() > MAX_CONSTANT:
            self.issue(
                node,
                f"常数部分的值 {brief(value)} 超出可计算的范围（绝对值不超过 10^20）",
                f"this constant part is {brief(value)}, out of range (at most 10^20 in size)",
                "expr-range",
            )
            return None
        return value


def _decimal(text: str, node: ast.Constant) -> Decimal:
    """A number constant from its written text (4.2 is exactly 4.2; 1e400 is no float infinity)."""
    written = ast.get_source_segment(text, node) or repr(node.value)
    try:
        return Decimal(written.replace("_", ""))
    except (ArithmeticError, ValueError):
        return Decimal(int(node.value)) if type(node.value) is int else Decimal(repr(node.value))


def brief(value: Decimal) -> str:
    """A number for a message: as written when short, else in scientific form (1E+400, not 401 digits)."""
    text = format(value, "f") if -12 <= value.adjusted() <= 12 else ""
    if text and len(text) <= 24:
        return text
    mantissa, exponent = f"{value:.3E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"


_FOLD_OPS: dict[type, Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: _mod,
    ast.Pow: _pow,
}
_FOLD_FUNCTIONS = frozenset(("min", "max", "abs", "round", "ceil", "floor", "sqrt", "sum"))


# The typing rules, one entry per node type the whitelist allows (the same keys as _ALLOWED).
_TYPES: dict[type, Callable[[_Typer, Any], str]] = {
    ast.Constant: _Typer.constant,
    ast.Name: _Typer.name,
    ast.BinOp: _Typer.binop,
    ast.UnaryOp: _Typer.unaryop,
    ast.BoolOp: _Typer.boolop,
    ast.Compare: _Typer.compare,
    ast.IfExp: _Typer.ifexp,
    ast.Call: _Typer.call,
}
_TYPE_ZH = {NUMBER: "数值", BOOL: "是/否", TEXT: "文本", DATE: "日期", ANY: "任意值"}


def check(parsed: Parsed, env: Mapping[str, VarInfo], names_hint: str = "检查输入项和计算项的 id") -> str:
    """Type-check against ``env``; return the expression's type or raise :class:`ExprError` with every issue."""
    typer = _Typer(parsed, env, names_hint)
    result = typer.type(parsed.tree.body)
    if typer.issues:
        raise ExprError(parsed.source, typer.issues)
    return result


# ---------------------------------------------------------------------------------------------- compiling


class _Rewrite(ast.NodeTransformer):
    """Numbers become Decimal constants from their written text; lenient calls get thunks; ** is bounded."""

    def __init__(self, source: str):
        self.source = source
        self.consts: dict[str, Any] = {}
        self.lenient = 0  # inside a conditional branch or a lenient call: names may be missing

    def _const(self, value: Any) -> ast.Name:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return ast.Name(id=name, ctx=ast.Load())

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, bool | str):
            return node
        text = ast.get_source_segment(self.source, node) or repr(node.value)
        try:
            value = Decimal(text.replace("_", ""))
        except Exception:
            value = Decimal(repr(node.value))
        return ast.copy_location(self._const(value), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        assert isinstance(node.func, ast.Name)  # the parser allows only calls of named functions
        name = node.func.id
        fn = FUNCTIONS[name]
        if not fn.lenient:
            node.args = [self.visit(a) for a in node.args]
        node.func = ast.copy_location(ast.Name(id=f"_f_{name}", ctx=ast.Load()), node.func)
        if fn.lenient:
            self.lenient += 1
            node.args = [self.visit(a) for a in node.args]
            self.lenient -= 1
            node.args = [
                ast.Lambda(
                    args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
                    body=a,
                )
                for a in node.args
            ]
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in ("True", "False"):
            return ast.copy_location(ast.Constant(node.id == "True"), node)
        lookup: ast.expr = ast.Subscript(
            value=ast.Name(id="_v", ctx=ast.Load()), slice=ast.Constant(node.id), ctx=ast.Load()
        )
        if self.lenient:  # may be missing here: raise rather than let None reach == or not
            lookup = ast.Call(func=ast.Name(id="_f_need", ctx=ast.Load()), args=[lookup], keywords=[])
        return ast.copy_location(lookup, node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        node.test = self.visit(node.test)
        self.lenient += 1
        node.body = self.visit(node.body)
        node.orelse = self.visit(node.orelse)
        self.lenient -= 1
        return node

    def visit_List(self, node: ast.List) -> ast.AST:
        self.generic_visit(node)
        return ast.Tuple(elts=node.elts, ctx=ast.Load())

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow | ast.Mod):
            name = "_f_pow" if isinstance(node.op, ast.Pow) else "_f_mod"
            return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[node.left, node.right], keywords=[])
        return node


_BASE_GLOBALS: dict[str, Any] = {"__builtins__": {}, "_f_pow": _pow, "_f_mod": _mod, "_f_need": _need}
_BASE_GLOBALS.update({f"_f_{k}": v.impl for k, v in FUNCTIONS.items()})


def at_precision(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` computed at PRECISION significant digits, whatever the caller's decimal context."""
    if getcontext().prec == PRECISION:
        return fn(*args)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return fn(*args)


@dataclass(frozen=True)
class Expression:
    """A compiled expression: evaluate it many times over a mapping of values."""

    source: str
    type: str
    names: frozenset[str]
    strict_names: tuple[str, ...]
    function: Callable[[Mapping[str, Any]], Any] = field(repr=False, compare=False)
    bare: str | None = None  # the name, when the expression is just a name (read directly, the common case)
    # evaluate(), for callers that already run at PRECISION digits (the engine, once per scoring call)
    run: Callable[[Mapping[str, Any]], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "run", _runner(self.function, self.strict_names, self.bare))

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The value, or ``None`` when a needed name is missing; :class:`EvalError` on arithmetic faults."""
        return at_precision(self.run, values)

    def __reduce__(self) -> tuple[Callable[[str, str], Expression], tuple[str, str]]:
        """Pickled as its source and type, compiled again on arrival: the function is generated code (a lambda
        from ``eval``) that pickle cannot carry. The type was checked where the expression was first compiled,
        against names the receiving side may not have (a grade's or a derived value's own environment), so it
        travels with the source instead of being checked again."""
        return (_recompile, (self.source, self.type))


def _recompile(source: str, rtype: str) -> Expression:
    """An expression compiled again from its source, with the type it was checked to have (unpickling)."""
    return _compile(parse(source), rtype)


def _runner(
    function: Callable[[Mapping[str, Any]], Any], strict: tuple[str, ...], bare: str | None
) -> Callable[[Mapping[str, Any]], Any]:
    if bare is not None:
        return lambda values: values.get(bare)

    def run(values: Mapping[str, Any]) -> Any:
        for name in strict:
            if values.get(name) is None:
                return None
        try:
            return function(values)
        except (TypeError, KeyError, _MissingValue):
            # A name missing in the branch taken (or escaping a lenient call): the result is missing.
            return None
        except (ArithmeticError, ValueError, MemoryError, RecursionError) as exc:
            raise arithmetic_error(exc) from None

    return run


def compile_expr(
    source: Any, env: Mapping[str, VarInfo], names_hint: str = "检查输入项和计算项的 id"
) -> Expression:
    """Parse, whitelist, type-check and compile; raise :class:`ExprError` listing every issue found."""
    parsed = parse(source)
    rtype = check(parsed, env, names_hint)
    return _compile(parsed, rtype)


def _locate(tree: ast.AST) -> None:
    """Give the nodes our rewrites made a position, which compile() requires. (ast.fix_missing_locations does it
    with a recursive closure, which leaves garbage for the cycle collector on every expression compiled.)"""
    for node in ast.walk(tree):
        if "lineno" in node._attributes:
            for attr, default in (("lineno", 1), ("col_offset", 0), ("end_lineno", 1), ("end_col_offset", 0)):
                if getattr(node, attr, None) is None:
                    setattr(node, attr, default)


def _compile(parsed: Parsed, rtype: str) -> Expression:
    text = parsed.source
    node = parsed.tree.body
    if isinstance(node, ast.Name) and node.id not in ("True", "False"):  # a bare name: no code to compile
        return Expression(
            source=text.strip(),
            type=rtype,
            names=frozenset(parsed.names),
            strict_names=tuple(sorted(parsed.strict_names)),
            function=operator.itemgetter(node.id),
            bare=node.id,
        )
    rewrite = _Rewrite(parsed.text)  # the tree's positions are relative to the stripped text
    body = rewrite.visit(parsed.tree.body)
    args = ast.arguments(posonlyargs=[], args=[ast.arg("_v")], kwonlyargs=[], kw_defaults=[], defaults=[])
    tree = ast.Expression(body=ast.Lambda(args=args, body=body))
    _locate(tree)
    glb = dict(_BASE_GLOBALS)
    glb.update(rewrite.consts)
    # The tree holds only whitelisted nodes plus our own rewrites; no builtins are reachable.
    function = eval(compile(tree, "<expr>", "eval"), glb)
    return Expression(
        source=text.strip(),
        type=rtype,
        names=frozenset(parsed.names),
        strict_names=tuple(sorted(parsed.strict_names)),
        function=function,
    )


def constant(value: Decimal | int | bool | str) -> Expression:
    """An expression that is just a literal (used where a framework writes a number instead of a formula)."""
    if isinstance(value, bool):
        src = "True" if value else "False"
    elif isinstance(value, str):
        src = repr(value)
    else:
        src = str(value)
    parsed = parse(src)
    return _compile(parsed, BOOL if isinstance(value, bool) else TEXT if isinstance(value, str) else NUMBER)


def is_number(value: Any) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


__all__ = [
    "ANY",
    "BOOL",
    "DATE",
    "FUNCTIONS",
    "NUMBER",
    "TEXT",
    "EvalError",
    "ExprError",
    "ExprIssue",
    "Expression",
    "Parsed",
    "VarInfo",
    "brief",
    "caret",
    "check",
    "compile_expr",
    "constant",
    "parse",
    "valid_name",
]
