"""Safe, bounded YAML reading that remembers where every value came from.

PyYAML's ``safe_load`` forgets line numbers, accepts duplicate keys silently, turns ``4.2`` into a binary float
and expands alias bombs without limit. Framework files are untrusted input that must be exact, so we compose
the node graph ourselves and build plain data from it:

* only the YAML core tags are accepted (``!!python/...`` and any custom tag is refused);
* numbers with a fraction become :class:`~decimal.Decimal` from their written text, never ``float``;
* duplicate keys, merge keys, ``.inf``/``.nan`` are errors;
* file size, nesting depth and the number of nodes after alias expansion are bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..problems import FrameworkError, PathPart, Problem, Severity


@dataclass(frozen=True)
class Limits:
    """Bounds for untrusted YAML; raise them deliberately if a real framework needs more."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 200_000  # after alias expansion


DEFAULT_LIMITS = Limits()
MAX_NUMBER_CHARS = 400


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based
    style: str | None = None  # scalar style: None (plain), "'", '"', "|", ">"
    end_line: int | None = None


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of a document stands in its file."""

    file: str
    values: dict[tuple[PathPart, ...], Mark] = field(default_factory=dict)
    keys: dict[tuple[PathPart, ...], Mark] = field(default_factory=dict)

    def find(self, path: tuple[PathPart, ...], *, key: bool = False) -> Mark | None:
        """The mark of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while True:
            if key and p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def problem(
        self,
        path: tuple[PathPart, ...],
        code: str,
        zh: str,
        en: str,
        *,
        severity: Severity = "error",
        key: bool = False,
        column_offset: int | None = None,
        detail: str | None = None,
    ) -> Problem:
        """Make a problem located at ``path`` (at the key itself when ``key``)."""
        mark = self.find(path, key=key)
        line = mark.line if mark else None
        col = mark.column if mark else None
        if (
            mark
            and column_offset is not None
            and mark.style in (None, "'", '"')
            and mark.end_line == mark.line
        ):
            col = mark.column + column_offset + (1 if mark.style in ("'", '"') else 0)
        return Problem(
            code=code,
            message_zh=zh,
            message_en=en,
            severity=severity,
            file=self.file,
            line=line,
            column=col,
            path=tuple(path),
            detail=detail,
        )


_ALLOWED_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}
_BOOL = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


# libyaml's safe loader when PyYAML was built with it: the same events and marks, about 7x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Fail(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def _yaml_problem(file: str, exc: yaml.MarkedYAMLError | yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    ctx = getattr(exc, "context", None)
    detail = None
    if mark is not None and getattr(mark, "buffer", None):
        snippet = mark.get_snippet()
        detail = snippet if snippet else None
    en = f"YAML syntax error: {what}" + (f" ({ctx})" if ctx else "")
    return Problem(
        code="yaml-syntax",
        message_zh=f"YAML 语法错误：{_zh_yaml(what)}" + (f"（{ctx}）" if ctx else ""),
        message_en=en,
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        detail=detail,
    )


def _zh_yaml(what: str) -> str:
    table = {
        "mapping values are not allowed": "此处不能出现映射值（冒号后缺空格，或缩进错误）",
        "could not find expected ':'": "缺少冒号 “:”",
        "found character '\\t' that cannot start any token": "不能用制表符（Tab）缩进",
        "found character that cannot start any token": "出现了不能开始任何记号的字符（常见原因：用制表符 Tab 缩进）",
        "found undefined alias": "引用了未定义的锚点（别名）",
        "expected <block end>, but found '-'": "列表项缩进不一致",
        "did not find expected node content": "缺少值",
        "did not find expected key": "缺少键（缩进不一致？）",
        "did not find expected ',' or ']'": "缺少 “,” 或 “]”",
        "did not find expected ',' or '}'": "缺少 “,” 或 “}”",
    }
    for en, zh in table.items():
        if what and what.startswith(en):
            return zh + f" [{what}]"
    return what


def _fail(file: str, node: Node | Any, code: str, zh: str, en: str, path: tuple[Any, ...]) -> _Fail:
    m = getattr(node, "start_mark", None)
    return _Fail(
        Problem(
            code=code,
            message_zh=zh,
            message_en=en,
            file=file,
            line=m.line + 1 if m else None,
            column=m.column + 1 if m else None,
            path=path,
        )
    )


class _Builder:
    def __init__(self, file: str, limits: Limits):
        self.file = file
        self.limits = limits
        self.count = 0
        self.smap = SourceMap(file)

    def build(self, node: Node, path: tuple[Any, ...], depth: int) -> Any:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise _fail(
                self.file,
                node,
                "yaml-too-large",
                f"展开后节点超过 {self.limits.max_nodes} 个（可能是别名炸弹），已拒绝读取",
                f"more than {self.limits.max_nodes} nodes after alias expansion (an alias bomb?); refused",
                path,
            )
        if depth > self.limits.max_depth:
            raise _fail(
                self.file,
                node,
                "yaml-too-deep",
                f"嵌套超过 {self.limits.max_depth} 层，已拒绝读取",
                f"nesting deeper than {self.limits.max_depth} levels; refused",
                path,
            )
        if node.tag not in _ALLOWED_TAGS:
            raise _fail(
                self.file,
                node,
                "yaml-unsafe-tag",
                f"不允许的 YAML 标签 {node.tag}（只接受标准的字符串、数字、布尔、列表和映射）",
                f"YAML tag {node.tag} is not allowed (only core strings, numbers, booleans, lists, mappings)",
                path,
            )
        sm, em = node.start_mark, node.end_mark
        style = getattr(node, "style", None) or None  # libyaml says '' for plain scalars
        self.smap.values.setdefault(path, Mark(sm.line + 1, sm.column + 1, style, em.line + 1))
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.mapping(node, path, depth)
        raise _fail(self.file, node, "yaml-node", "无法识别的 YAML 节点", "unrecognised YAML node", path)

    def mapping(self, node: MappingNode, path: tuple[Any, ...], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                raise _fail(
                    self.file,
                    knode,
                    "yaml-merge-key",
                    "不支持合并键 “<<”，请直接写出各项",
                    "merge keys (<<) are not supported; write the entries out",
                    path,
                )
            if not isinstance(knode, ScalarNode):
                raise _fail(
                    self.file, knode, "yaml-key", "映射的键必须是简单值", "mapping keys must be scalars", path
                )
            key = self.scalar(knode, path)
            if isinstance(key, Decimal):
                key = str(knode.value)
            if key is None or isinstance(key, bool):
                key = str(knode.value)
            if key in out:
                first = self.smap.keys.get((*path, key))
                where = f"（第 {first.line} 行已出现）" if first else ""
                where_en = f" (first at line {first.line})" if first else ""
                raise _fail(
                    self.file,
                    knode,
                    "yaml-duplicate-key",
                    f"重复的键 “{key}”{where}",
                    f"duplicate key '{key}'{where_en}",
                    (*path, key),
                )
            km = knode.start_mark
            at = (*path, key)
            self.smap.keys[at] = Mark(km.line + 1, km.column + 1)
            out[key] = self.build(vnode, at, depth + 1)
        return out

    def scalar(self, node: ScalarNode, path: tuple[Any, ...]) -> Any:
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:str" or tag == "tag:yaml.org,2002:timestamp":
            return text
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return _BOOL[text.lower()]
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and len(text) > MAX_NUMBER_CHARS:
            # int() refuses more than 4300 digits (ValueError), and a huge hex int cannot be printed later.
            raise _fail(
                self.file,
                node,
                "yaml-number-too-long",
                f"数字超过 {MAX_NUMBER_CHARS} 个字符，已拒绝读取",
                f"a number longer than {MAX_NUMBER_CHARS} characters; refused",
                path,
            )
        if tag == "tag:yaml.org,2002:int":
            cleaned = text.replace("_", "")
            if _INT_RE.match(text):
                return int(cleaned)
            try:
                return int(cleaned, 0)
            except ValueError:
                return text
        if tag == "tag:yaml.org,2002:float":
            cleaned = text.replace("_", "")
            if cleaned.lower().lstrip("+-") in (".inf", ".nan"):
                raise _fail(
                    self.file,
                    node,
                    "yaml-not-finite",
                    f"不接受无穷大或非数值：{text}",
                    f"infinite or NaN numbers are not accepted: {text}",
                    path,
                )
            try:
                return Decimal(cleaned)
            except InvalidOperation:
                return text
        return text


def _oversized(root: Node, max_nodes: int) -> Node | None:
    """The innermost node whose alias-expanded size exceeds ``max_nodes``, or None; linear in the graph's size.

    Aliases share nodes, so sizes are counted once per node (iteratively: the graph may be deep). A node that
    contains itself (a recursive alias) is left to the depth limit of the builder.
    """
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if isinstance(node, SequenceNode):
            kids = list(node.value)
        elif isinstance(node, MappingNode):
            kids = [v for _, v in node.value]  # counted like the builder counts: values, not keys
        else:
            kids = []
        if not expanded:
            if key in busy:
                continue
            busy.add(key)
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes and id(k) not in busy)
            continue
        busy.discard(key)
        size = 1 + sum(sizes.get(id(k), 1) for k in kids)
        if size > max_nodes:
            return node
        sizes[key] = size
    return None


class _Scan:
    """Walk the event stream (produced without recursion), refusing depth, size and extra documents before
    composing anything: a huge or deep text is refused at the event that passes a limit, not after building it.

    Counts the nodes the builder counts (values and items, not mapping keys; an alias as one node, so that only
    an alias can make the built tree larger), and remembers how far it got, so that a parser error can be placed.
    """

    def __init__(self, file: str, limits: Limits):
        self.file = file
        self.limits = limits
        self.depth = 0
        self.docs = 0
        self.aliases = False
        self.nodes = 0
        self.at = 0  # the character index just after the last event read
        # per open collection: for a mapping, whether its next node is a key; None for a sequence
        self.keys: list[bool | None] = []

    def run(self, text: str, loader: type) -> _Scan:
        for event in yaml.parse(text, Loader=loader):
            end = event.end_mark
            self.at = end.index if end is not None else self.at
            if isinstance(event, yaml.NodeEvent):
                self.node(event)
            elif isinstance(event, yaml.CollectionEndEvent):
                self.depth -= 1
                self.keys.pop()
            elif isinstance(event, yaml.DocumentStartEvent):
                self.docs += 1
                if self.docs > 1:
                    raise _fail(
                        self.file,
                        event,
                        "yaml-multi-document",
                        "一个框架文件只能包含一个 YAML 文档（去掉多余的 “---”）",
                        "a framework file holds one YAML document (remove the extra '---')",
                        (),
                    )
        return self

    def node(self, event: yaml.NodeEvent) -> None:
        keys = self.keys
        key = keys[-1] if keys else None
        if key is not None:  # in a mapping: keys and values alternate
            keys[-1] = not key
        if not key:
            self.nodes += 1
            if self.nodes > self.limits.max_nodes:
                raise _too_many(self.file, event, self.limits, self.aliases)
        if isinstance(event, yaml.AliasEvent):
            self.aliases = True
        elif isinstance(event, yaml.CollectionStartEvent):
            self.depth += 1
            if self.depth > self.limits.max_depth:
                raise _too_deep(self.file, event, self.limits)
            keys.append(True if isinstance(event, yaml.MappingStartEvent) else None)


def _too_many(file: str, at: Any, limits: Limits, aliases: bool) -> _Fail:
    """More nodes than the bound: after alias expansion (an alias bomb?), or in the text itself."""
    if aliases:
        return _fail(
            file,
            at,
            "yaml-too-large",
            f"展开后节点超过 {limits.max_nodes} 个（可能是别名炸弹），已拒绝读取",
            f"more than {limits.max_nodes} nodes after alias expansion (an alias bomb?); refused",
            (),
        )
    return _fail(
        file,
        at,
        "yaml-too-large",
        f"节点（值）超过 {limits.max_nodes} 个，已拒绝读取",
        f"more than {limits.max_nodes} nodes (values); refused",
        (),
    )


def _too_deep(file: str, at: Any, limits: Limits) -> _Fail:
    return _fail(
        file,
        at,
        "yaml-too-deep",
        f"嵌套超过 {limits.max_depth} 层，已拒绝读取",
        f"nesting deeper than {limits.max_depth} levels; refused",
        (),
    )


# libyaml 0.2.6 (bundled from PyYAML 6.0.4) refuses more than 1000 nested levels while its scanner looks ahead
# for a simple key, so on one long line of "[" it fails before the events reach our own, lower depth limit.
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"

# The pure-Python parser words errors better and shows the line, but reads ~1 MB/s (flow style ~0.2 MB/s): it
# re-reads the text only up to an error within this many characters, and never more than this.
REPARSE_CHARS = 64 * 1024


def _syntax_problem(text: str, file: str, limits: Limits, exc: yaml.YAMLError, scan: _Scan) -> Problem:
    """Word a parser error: with the pure-Python parser's clearer text and snippet when the error is near the
    start of the text, else libyaml's, with a snippet of the line.

    A libyaml nesting refusal means our own, lower depth limit was passed first, on a line of flow collections
    after the last event read (libyaml looks at most about 1024 characters ahead): counting the brackets from
    there finds the level our limit refuses and its position.
    """
    mark = getattr(exc, "problem_mark", None)
    if mark is not None and getattr(exc, "problem", None) == _LIBYAML_TOO_DEEP:
        found = _flow_too_deep(text, file, limits, scan, mark.index)
        return found or _at_index(text, file, mark.index, _too_deep(file, None, limits).problem)
    pure = _pure_problem(text, file, None if mark is None else mark.index)
    if pure is not None:
        return pure
    problem = _yaml_problem(file, exc)
    if problem.detail is None and mark is not None:
        problem = replace(problem, detail=_snippet(text, mark.index))
    return problem


def _pure_problem(text: str, file: str, index: int | None) -> Problem | None:
    """The pure-Python parser's wording of the error libyaml found at ``index``, when it is early in the text;
    re-read only up to the end of the line after it. None when it is too far in, or the shortened text does
    not reproduce it."""
    if index is None:
        if len(text) > REPARSE_CHARS:
            return None
        cut = len(text)
    else:
        if index > REPARSE_CHARS:
            return None
        cut = text.find("\n", index)
        cut = -1 if cut < 0 else text.find("\n", cut + 1)
        cut = min(len(text) if cut < 0 else cut + 1, index + 2048)
    prefix = text[:cut]
    try:
        for _ in yaml.parse(prefix, Loader=yaml.SafeLoader):
            pass
    except yaml.YAMLError as pure:
        where = getattr(pure, "problem_mark", None)
        if cut == len(text) or (where is not None and where.index < cut):
            return _yaml_problem(file, pure)
    return None


def _snippet(text: str, index: int) -> str:
    """The line around ``index`` (at most ~70 characters of it) and a caret under it, as PyYAML shows one."""
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    end = len(text) if end < 0 else end
    head = tail = ""
    if index - start > 36:
        start, head = index - 33, " ... "
    if end - index > 36:
        end, tail = index + 33, " ... "
    return f"{head}{text[start:end]}{tail}\n{' ' * (index - start + len(head))}^"


def _flow_too_deep(text: str, file: str, limits: Limits, scan: _Scan, stop: int) -> Problem | None:
    """Where the flow collections after the last event read pass the depth limit."""
    at = _bracket_depth(text, scan.at, scan.depth, min(len(text), stop + 1), limits.max_depth)
    return None if at is None else _at_index(text, file, at, _too_deep(file, None, limits).problem)


def _bracket_depth(text: str, i: int, depth: int, end: int, limit: int) -> int | None:
    """The index in ``text[i:end]`` of the bracket that opens level ``limit + 1``, counting from ``depth``: quoted
    text and comments skipped (in flow style and JSON a plain scalar cannot hold a bracket); None if none does."""
    quote = ""
    while i < end:
        ch = text[i]
        if quote:
            if (quote == '"' and ch == "\\") or (quote == "'" and text.startswith("''", i)):
                i += 1  # an escaped character, or a quote written twice
            elif ch == quote:
                quote = ""
        elif ch in "\"'" and (i == 0 or text[i - 1] in "[{,: \t\r\n"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\r\n"):
            newline = text.find("\n", i)
            i = end if newline < 0 else newline
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return i
        elif ch in "]}":
            depth -= 1
        i += 1
    return None


def _at_index(text: str, file: str, index: int, problem: Problem) -> Problem:
    """``problem`` placed at the character ``index`` of ``text`` (1-based line and column)."""
    line_start = text.rfind("\n", 0, index) + 1
    return replace(problem, file=file, line=text.count("\n", 0, index) + 1, column=index - line_start + 1)


def load_yaml_text(
    text: str, file: str = "<input>", limits: Limits = DEFAULT_LIMITS
) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data plus its source map; raise FrameworkError with the position."""
    if len(text.encode("utf-8", errors="ignore")) > limits.max_bytes:
        raise FrameworkError(
            [
                Problem(
                    "yaml-too-large",
                    f"文件超过 {_size(limits.max_bytes)} 的上限，已拒绝读取",
                    f"file is larger than the {_size(limits.max_bytes)} limit; refused",
                    file=file,
                )
            ]
        )
    scan = _Scan(file, limits)
    try:
        scan.run(text, _LOADER)
        root = yaml.compose(text, Loader=_LOADER)
    except _Fail as f:
        raise FrameworkError([f.problem]) from None
    except yaml.YAMLError as exc:
        raise FrameworkError([_syntax_problem(text, file, limits, exc, scan)]) from None
    if root is None:
        return None, SourceMap(file)
    # The scan counted the nodes of the text (at most max_nodes): only an alias can make the graph grow.
    bomb = _oversized(root, limits.max_nodes) if scan.aliases else None
    if bomb is not None:
        # Refuse an alias bomb from the node graph, before expanding anything.
        raise FrameworkError([_too_many(file, bomb, limits, True).problem])
    builder = _Builder(file, limits)
    try:
        data = builder.build(root, (), 0)
    except _Fail as f:
        raise FrameworkError([f.problem]) from None
    return data, builder.smap


def _size(n: int) -> str:
    """A byte count for a message: whole KiB, or bytes below 1 KiB (a small limit must not read "0 KiB")."""
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def read_text(path: Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """Read a UTF-8 file (BOM allowed) with a size bound; raise FrameworkError on any I/O or decoding fault."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise FrameworkError(
                [
                    Problem(
                        "yaml-too-large",
                        f"文件 {_size(size)}，超过 {_size(limits.max_bytes)} 的上限，已拒绝读取",
                        f"file is {_size(size)}, over the {_size(limits.max_bytes)} limit; refused",
                        file=name,
                    )
                ]
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise FrameworkError(
            [Problem("io", f"无法读取文件：{exc.strerror or exc}", f"cannot read file: {exc}", file=name)]
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FrameworkError(
            [
                Problem(
                    "encoding",
                    "文件不是 UTF-8 编码（请另存为 UTF-8）",
                    "file is not UTF-8 encoded (save it as UTF-8)",
                    file=name,
                    line=line,
                )
            ]
        ) from None
