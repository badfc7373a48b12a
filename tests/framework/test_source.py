"""Safe, bounded YAML reading: exact numbers, refused constructs, limits, and a position for every value."""

from __future__ import annotations

import os
import time
import tracemalloc
from decimal import Decimal

import pytest

from scoring.framework.source import DEFAULT_LIMITS, Limits, Mark, load_yaml_text, read_text
from scoring.problems import FrameworkError, Problem


def refused(text: str, limits: Limits = DEFAULT_LIMITS) -> Problem:
    """The single problem that refuses ``text``."""
    with pytest.raises(FrameworkError) as info:
        load_yaml_text(text, "f.yaml", limits)
    assert len(info.value.problems) == 1, info.value.problems
    problem = info.value.problems[0]
    assert problem.file == "f.yaml"
    assert problem.severity == "error"
    return problem


def where(problem: Problem) -> tuple[str, int | None, int | None]:
    return problem.code, problem.line, problem.column


def walk(value):
    yield value
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


# ---------------------------------------------------------------------------------------------- numbers


def test_fractions_become_exact_decimals_and_ints_stay_ints():
    data, _ = load_yaml_text("a: 4.2\nb: 3\nc: -0.10\nd: 1_000\ne: 0x1F\nf: 1.5e+3\ng: 0.1\n")
    assert data == {
        "a": Decimal("4.2"),
        "b": 3,
        "c": Decimal("-0.10"),
        "d": 1000,
        "e": 31,
        "f": Decimal("1.5E+3"),
        "g": Decimal("0.1"),
    }
    assert type(data["a"]) is Decimal and str(data["a"]) == "4.2"
    assert str(data["c"]) == "-0.10"  # the written text, trailing zero kept
    assert type(data["b"]) is int and type(data["d"]) is int
    assert data["g"] * 3 == Decimal("0.3")  # not 0.30000000000000004
    assert not any(isinstance(v, float) for v in walk(data))


def test_other_scalars():
    data, _ = load_yaml_text(
        "s: text\nq: '4.2'\nt: true\nn: no\nz: ~\ne:\nd: 2024-01-01\nv: '1.0'\nk: 中文\n"
    )
    assert data == {
        "s": "text",
        "q": "4.2",
        "t": True,
        "n": False,
        "z": None,
        "e": None,
        "d": "2024-01-01",  # timestamps stay text
        "v": "1.0",
        "k": "中文",
    }


def test_non_string_keys_are_text_except_ints():
    data, _ = load_yaml_text("1.5: a\ntrue: b\n~: c\n7: d\n")
    assert data == {"1.5": "a", "true": "b", "~": "c", 7: "d"}


@pytest.mark.parametrize(
    ("text", "column"),
    [("a: .inf", 4), ("a: -.inf", 4), ("a: +.INF", 4), ("a: .nan", 4), ("a: .NaN", 4), ("a: [1, .Inf]", 8)],
)
def test_infinity_and_nan_refused(text, column):
    p = refused("ok: 1\n" + text + "\n")
    assert where(p) == ("yaml-not-finite", 2, column)
    assert "infinite or NaN" in p.message_en
    assert "不接受无穷大或非数值" in p.message_zh


def test_number_longer_than_the_bound_refused_not_a_traceback():
    # int() of more than 4300 digits raises ValueError; a huge hex int could not be printed later.
    for literal in ("1" * 5000, "0x" + "f" * 5000, "1." + "1" * 5000):
        p = refused("ok: 1\nn: " + literal + "\n")
        assert where(p) == ("yaml-number-too-long", 2, 4)
        assert p.path == ("n",)
    assert load_yaml_text("n: " + "1" * 400)[0] == {"n": int("1" * 400)}
    assert load_yaml_text("n: '" + "1" * 5000 + "'")[0] == {"n": "1" * 5000}  # quoted: text


# ---------------------------------------------------------------------------------------------- refused constructs


def test_duplicate_key_points_at_the_second_key():
    p = refused("a: 1\nb: 2\n\na: 3\n")
    assert where(p) == ("yaml-duplicate-key", 4, 1)
    assert p.path == ("a",)
    assert p.message_zh == "重复的键 “a”（第 1 行已出现）"
    assert p.message_en == "duplicate key 'a' (first at line 1)"


def test_nested_duplicate_key():
    p = refused("x:\n  a: 1\n  b: 2\n  a: 3\n")
    assert where(p) == ("yaml-duplicate-key", 4, 3)
    assert p.path == ("x", "a")
    assert "first at line 2" in p.message_en


def test_duplicate_key_in_flow_mapping():
    p = refused("x: {a: 1, a: 2}\n")
    assert where(p) == ("yaml-duplicate-key", 1, 11)


def test_python_tag_refused_and_nothing_runs(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    p = refused('x: !!python/object/apply:os.system ["echo"]\n')
    assert where(p) == ("yaml-unsafe-tag", 1, 4)
    assert p.path == ("x",)
    assert "python/object/apply:os.system" in p.message_en
    assert "不允许的 YAML 标签" in p.message_zh
    assert calls == []


@pytest.mark.parametrize(
    ("text", "line", "column", "tag"),
    [
        ("a: 1\nb: !!python/name:os.system\n", 2, 4, "python/name:os.system"),
        ("a: 1\nb:\n  - !!python/object:os.Popen {}\n", 3, 5, "python/object:os.Popen"),
        ("a: !custom 1\n", 1, 4, "!custom"),
        ("- !!binary aGVsbG8=\n", 1, 3, "binary"),
        ("a: !!set {x, y}\n", 1, 4, "set"),
        ("a: !!omap [x: 1]\n", 1, 4, "omap"),
        ("a: !!float 1\n", None, None, None),  # a core tag: allowed
    ],
)
def test_only_core_tags(text, line, column, tag):
    if tag is None:
        assert load_yaml_text(text)[0] == {"a": Decimal("1")}
        return
    p = refused(text)
    assert where(p) == ("yaml-unsafe-tag", line, column)
    assert tag in p.message_en


def test_merge_key_refused():
    p = refused("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n")
    assert where(p) == ("yaml-merge-key", 3, 3)
    assert p.path == ("c",)
    assert "“<<”" in p.message_zh


def test_multi_document_refused():
    p = refused("a: 1\n---\nb: 2\n")
    assert where(p) == ("yaml-multi-document", 2, 1)
    assert "---" in p.message_en


def test_one_explicit_document_is_fine():
    assert load_yaml_text("---\na: 1\n...\n")[0] == {"a": 1}


def test_empty_document():
    data, smap = load_yaml_text("# only a comment\n", "e.yaml")
    assert data is None
    assert smap.file == "e.yaml" and smap.values == {} and smap.keys == {}


# ---------------------------------------------------------------------------------------------- syntax


@pytest.mark.parametrize(
    ("text", "line", "column", "zh"),
    [
        ("a: b: c\n", 1, 5, "此处不能出现映射值"),
        ("a: [1, 2\nb: 3\n", 2, 2, "expected ',' or ']'"),
        ("x:\n\t- 1\n", 2, 1, "不能用制表符（Tab）缩进"),
        ("a: 1\nb: *nope\n", 2, 4, "引用了未定义的锚点（别名）"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "expected <block end>"),
    ],
)
def test_syntax_errors_have_line_and_column(text, line, column, zh):
    p = refused(text)
    assert where(p) == ("yaml-syntax", line, column)
    assert p.message_zh.startswith("YAML 语法错误：")
    assert zh in p.message_zh
    assert p.message_en.startswith("YAML syntax error: ")


# ---------------------------------------------------------------------------------------------- limits


def _alias_bomb() -> str:
    """Billion laughs: 9 levels of lists of 9 aliases (9**9 strings once expanded)."""
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


def test_alias_bomb_refused_quickly_and_small():
    tracemalloc.start()
    start = time.perf_counter()
    try:
        p = refused(_alias_bomb())
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The sizes 10, 91, 820, 7381, 66430, 597871 … : the list on line 6 (f) is the first over 200 000.
    assert where(p) == ("yaml-too-large", 6, 4)
    assert "200000" in p.message_en and "alias" in p.message_en
    assert "别名炸弹" in p.message_zh
    assert elapsed < 1.0
    assert peak < 20 * 1024 * 1024


def test_shared_aliases_within_the_bound_are_expanded():
    text = "a: &a [1, 2]\nb: [*a, *a]\n"
    # Values counted after expansion: root 1 + a 3 + b 7 = 11.
    assert load_yaml_text(text, limits=Limits(max_nodes=11))[0] == {"a": [1, 2], "b": [[1, 2], [1, 2]]}
    p = refused(text, Limits(max_nodes=10))
    assert where(p) == ("yaml-too-large", 1, 1)
    assert "10 nodes" in p.message_en
    p = refused(text, Limits(max_nodes=6))
    assert where(p) == ("yaml-too-large", 2, 9)  # the text itself has 7 nodes: refused at the 7th, unexpanded
    text = "a: &a [1, 2, 3, 4]\nb: [*a, *a]\n"  # 9 nodes written; a 5, b 11, the root 17 expanded
    p = refused(text, Limits(max_nodes=10))
    assert where(p) == ("yaml-too-large", 2, 4)  # b's list (11) is the innermost over 10
    assert "alias" in p.message_en


def test_recursive_alias_refused_without_recursion_error():
    p = refused("a: &a [*a]\n")
    assert where(p) == ("yaml-too-deep", 1, 4)
    p = refused("a: &a {b: *a}\n")
    assert where(p) == ("yaml-too-deep", 1, 4)


def test_deep_flow_nesting_refused_without_recursion_error():
    p = refused("[" * 200 + "]" * 200)
    assert where(p) == ("yaml-too-deep", 1, 65)
    assert p.message_en == "nesting deeper than 64 levels; refused"
    assert p.message_zh == "嵌套超过 64 层，已拒绝读取"
    start = time.perf_counter()
    p = refused("x: " + "[" * 20000 + "]" * 20000)
    assert where(p) == ("yaml-too-deep", 1, 67)  # the mapping is level 1; the 64th "[" opens level 65
    assert time.perf_counter() - start < 2.0


def test_deep_block_nesting_refused():
    text = "".join("  " * i + "k:\n" for i in range(100)) + "  " * 100 + "v\n"
    p = refused(text)
    assert where(p) == ("yaml-too-deep", 65, 129)  # the 65th mapping starts on line 65


def test_depth_boundary():
    deepest: list = []
    for _ in range(63):
        deepest = [deepest]
    assert load_yaml_text("[" * 64 + "]" * 64)[0] == deepest
    assert where(refused("[" * 65 + "]" * 65)) == ("yaml-too-deep", 1, 65)
    assert load_yaml_text("a: [[1]]", limits=Limits(max_depth=3))[0] == {"a": [[1]]}
    assert where(refused("a: [[[1]]]", Limits(max_depth=3))) == ("yaml-too-deep", 1, 6)


def test_alias_nesting_counts_towards_depth():
    inner = "[" * 40 + "1" + "]" * 40
    text = f"a: &a {inner}\nb: {'[' * 40}*a{']' * 40}\n"
    p = refused(text)
    # Each part is 41 levels deep in the text, together 81: refused inside a's lists, where level 65 starts.
    assert where(p) == ("yaml-too-deep", 1, 31)
    assert len(p.path) == 65 and p.path[:2] == ("b", 0)


def test_text_over_max_bytes_refused():
    p = refused("- 1\n" * 30, Limits(max_bytes=100))  # 120 bytes
    assert where(p) == ("yaml-too-large", None, None)
    assert p.message_en == "file is larger than the 100 B limit; refused"
    assert p.message_zh == "文件超过 100 B 的上限，已拒绝读取"
    assert load_yaml_text("- 1\n" * 25, limits=Limits(max_bytes=100))[0] == [1] * 25  # exactly 100 bytes


def test_max_bytes_counts_utf8_bytes_not_characters():
    text = "k: " + "中" * 40 + "\n"  # 44 characters, 124 bytes
    assert len(text) < 100
    assert refused(text, Limits(max_bytes=100)).code == "yaml-too-large"


def test_file_over_max_bytes_refused_before_reading(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("a: 1\n" * 500, encoding="utf-8")  # 2500 bytes
    with pytest.raises(FrameworkError) as info:
        read_text(big, Limits(max_bytes=1024))
    [p] = info.value.problems
    assert (p.code, p.file, p.line) == ("yaml-too-large", str(big), None)
    assert p.message_en == "file is 2 KiB, over the 1 KiB limit; refused"
    assert p.message_zh == "文件 2 KiB，超过 1 KiB 的上限，已拒绝读取"
    assert read_text(big, Limits(max_bytes=2500)) == "a: 1\n" * 500


def test_a_large_text_is_refused_at_the_node_limit_before_it_is_built():
    start = time.perf_counter()
    p = refused("- 1\n" * 1_000_000)  # 4 MB, a million values
    assert where(p) == ("yaml-too-large", 200_000, 3)  # the 200 001st value: the root list is the first
    assert p.message_zh == "节点（值）超过 200000 个，已拒绝读取"
    assert "alias" not in p.message_en
    assert time.perf_counter() - start < 1.5


def test_mapping_keys_do_not_count_towards_the_node_limit():
    entries = "".join(f"k{i}: {i}\n" for i in range(99))  # 99 keys, 99 values + the root: 100 values
    assert len(load_yaml_text(entries, limits=Limits(max_nodes=100))[0]) == 99
    p = refused(entries + "k99: 99\n", Limits(max_nodes=100))
    assert where(p) == ("yaml-too-large", 100, 6)  # the value on line 100 is the 101st


def _long_lines(size: int) -> str:
    """A valid text of about ``size`` bytes in few values (long lines): slow to re-read, quick to count."""
    line = "k0000: " + "长" * 1000 + "\n"
    return "".join(f"k{i:04}: " + "长" * 1000 + "\n" for i in range(size // len(line.encode())))


@pytest.mark.parametrize(
    ("tail", "line_shift", "column", "zh"),
    [
        ("x: [\n", 1, 1, "缺少值"),
        ("y:\n\t- 1\n", 1, 1, "出现了不能开始任何记号的字符（常见原因：用制表符 Tab 缩进）"),
        ("a: b: c\n", 0, 5, "此处不能出现映射值"),
        ("z: " + "[" * 3000, 0, 67, "嵌套超过 64 层"),
        ("z: " + "['a[', " * 200, 0, 445, "嵌套超过 64 层"),  # brackets in quotes do not count
    ],
)
def test_a_syntax_error_late_in_a_large_text_is_found_quickly_and_placed(tail, line_shift, column, zh):
    body = _long_lines(4 * 1024 * 1024 - 8192)
    start = time.perf_counter()
    p = refused(body + tail)
    assert time.perf_counter() - start < 1.0
    assert (p.line, p.column) == (body.count("\n") + 1 + line_shift, column)
    assert zh in p.message_zh
    if p.code == "yaml-syntax":
        assert p.detail and p.detail.splitlines()[-1].endswith("^")  # the line, a caret under the fault


def test_an_early_syntax_error_keeps_the_pure_python_wording():
    p = refused("a:\n\t- 1\n" + _long_lines(200_000))
    assert where(p) == ("yaml-syntax", 2, 1)
    assert "不能用制表符（Tab）缩进 [found character '\\t' that cannot start any token]" in p.message_zh


# ---------------------------------------------------------------------------------------------- files


def test_non_utf8_file_gives_encoding_problem_with_line(tmp_path):
    f = tmp_path / "gbk.yaml"
    f.write_bytes("id: x\nname: 中文\nnote: ".encode() + "督导".encode("gbk") + b"\n")
    with pytest.raises(FrameworkError) as info:
        read_text(f)
    [p] = info.value.problems
    assert (p.code, p.file, p.line, p.column) == ("encoding", str(f), 3, None)
    assert "UTF-8" in p.message_zh and "UTF-8" in p.message_en


def test_utf16_file_is_an_encoding_problem(tmp_path):
    f = tmp_path / "u16.yaml"
    f.write_bytes("id: x\n".encode("utf-16"))
    with pytest.raises(FrameworkError) as info:
        read_text(f)
    assert [(p.code, p.line) for p in info.value.problems] == [("encoding", 1)]


def test_bom_is_allowed(tmp_path):
    f = tmp_path / "bom.yaml"
    f.write_bytes("\ufeffid: x\nname: 名称\n".encode())
    text = read_text(f)
    assert text == "id: x\nname: 名称\n"
    assert load_yaml_text(text)[0] == {"id": "x", "name": "名称"}


def test_unreadable_path_is_an_io_problem(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(FrameworkError) as info:
        read_text(missing)
    [p] = info.value.problems
    assert (p.code, p.file) == ("io", str(missing))
    assert p.message_zh.startswith("无法读取文件：")
    with pytest.raises(FrameworkError) as info:
        read_text(tmp_path)  # a folder
    assert info.value.problems[0].code == "io"


# ---------------------------------------------------------------------------------------------- source map

NESTED = """\
top:
  list:
    - a: 1
      b: 'x'
    - plain
  k: "v"
  flow: {p: [10, 20], q: 中文}
"""


def test_source_map_values_and_keys():
    data, smap = load_yaml_text(NESTED, "n.yaml")
    assert data == {
        "top": {"list": [{"a": 1, "b": "x"}, "plain"], "k": "v", "flow": {"p": [10, 20], "q": "中文"}}
    }
    v, k = smap.values, smap.keys
    assert smap.file == "n.yaml"
    assert v[()] == Mark(1, 1, None, 8)
    assert (k[("top",)].line, k[("top",)].column) == (1, 1)
    assert (v[("top",)].line, v[("top",)].column) == (2, 3)
    assert (k[("top", "list")].line, k[("top", "list")].column) == (2, 3)
    assert (v[("top", "list")].line, v[("top", "list")].column) == (3, 5)
    assert (v[("top", "list", 0)].line, v[("top", "list", 0)].column) == (3, 7)
    assert (k[("top", "list", 0, "a")].line, k[("top", "list", 0, "a")].column) == (3, 7)
    assert v[("top", "list", 0, "a")] == Mark(3, 10, None, 3)
    assert v[("top", "list", 0, "b")] == Mark(4, 10, "'", 4)
    assert v[("top", "list", 1)] == Mark(5, 7, None, 5)
    assert v[("top", "k")] == Mark(6, 6, '"', 6)
    assert (k[("top", "flow", "p")].line, k[("top", "flow", "p")].column) == (7, 10)
    assert (v[("top", "flow", "p", 1)].line, v[("top", "flow", "p", 1)].column) == (7, 18)
    assert (k[("top", "flow", "q")].line, k[("top", "flow", "q")].column) == (7, 23)
    assert (v[("top", "flow", "q")].line, v[("top", "flow", "q")].column) == (7, 26)  # characters, not bytes


def test_source_map_find_falls_back_to_the_nearest_ancestor():
    _, smap = load_yaml_text(NESTED)
    mark = smap.find(("top", "list", 0, "missing", "deeper"))
    assert (mark.line, mark.column) == (3, 7)
    assert smap.find(("top", "k"), key=True) == smap.keys[("top", "k")]
    assert (
        smap.find(("top", "list", 0), key=True) == smap.values[("top", "list", 0)]
    )  # list items have no key


def test_source_map_problem_locations():
    text = "a: b + c\nq: 'b + c'\nd: \"b + c\"\nf: >-\n  b + c\nm: b +\n  c\n"
    _, smap = load_yaml_text(text, "p.yaml")
    p = smap.problem(("a",), "x", "中", "en", column_offset=4)
    assert (p.file, p.line, p.column, p.path, p.severity) == ("p.yaml", 1, 8, ("a",), "error")
    assert smap.problem(("q",), "x", "中", "en", column_offset=4).column == 9  # after the quote
    assert smap.problem(("d",), "x", "中", "en", column_offset=4).column == 9
    assert smap.problem(("f",), "x", "中", "en", column_offset=4).column == 4  # folded: the value start
    assert smap.problem(("m",), "x", "中", "en", column_offset=4).column == 4  # spans two lines
    key = smap.problem(("q",), "x", "中", "en", key=True, severity="warning")
    assert (key.line, key.column, key.severity) == (2, 1, "warning")
    nowhere = smap.problem(("zz", 3), "x", "中", "en")
    assert (nowhere.line, nowhere.column, nowhere.path) == (1, 1, ("zz", 3))  # the document root
