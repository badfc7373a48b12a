"""The unit report in Markdown: what a 督学 reads and sends back — summary, every indicator with its explanation,
the 整改清单.
"""

from __future__ import annotations

from ..engine.result import Result
from ..framework.text import fmt, half_up


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(r: Result) -> str:
    """A report a 督学 can read and send back: summary, every indicator with its explanation, 整改清单."""
    lines = [f"# {r.unit.name} 评估报告", ""]
    lines += [
        f"- 框架：{r.framework.name}（{r.framework.id} {r.framework.version}，{r.framework.hash}）",
        *([f"- 评估依据：{_cell('；'.join(r.framework.sources))}"] if r.framework.sources else []),
        f"- 单位类型：{r.unit.type or '—'}；评估日期：{r.unit.date.isoformat() if r.unit.date else '—'}",
    ]
    if r.total is not None:
        lines.append(
            f"- **总分：{fmt(r.total)} / {fmt(r.possible)}**"
            + (f"（含加分 {fmt(r.bonus_total)}）" if r.bonus_total else "")
        )
        if r.total_explanation:
            lines.append(f"- 总分计算：{_cell(r.total_explanation)}")
    if r.self_total is not None:
        lines.append(f"- 自评得分：{fmt(r.self_total)}（以上总分按督评数据计算）")
    if r.grade:
        changed = f"（否决前：{r.grade_before_vetoes}）" if r.grade_before_vetoes != r.grade else ""
        lines.append(f"- **等级：{r.grade}**{changed}")
    if r.passed is not None:
        lines.append(f"- 认定结论：{'通过' if r.passed else '不通过'}")
    c = r.completeness
    lines.append(
        f"- 填报完整度：{c.filled}/{c.required}（{fmt(half_up(c.ratio * 100, 1))}%）"
        + (f"，缺报：{'、'.join(c.missing_inputs)}" if c.missing_inputs else "")
    )
    if r.provisional:
        lines.append("- 注意：有缺报或待评的指标，结果为暂定。")
    lines.append("")
    vetoed = [v for v in r.vetoes if v.triggered is not False]
    if vetoed:
        lines += ["## 一票否决", "", "| 编码 | 事项 | 效果 | 结论 |", "|---|---|---|---|"]
        for v in vetoed:
            marks = ("（地方）" if v.local else "") + ("（待核）" if not v.verified else "")
            lines.append(
                f"| {v.code} | {_cell(v.reason)}{marks} | {v.detail} | {'触发' if v.triggered else '无法判断（缺报）'} |"
            )
        lines.append("")
    lines += [
        "## 指标得分",
        "",
        "| 编码 | 指标 | 状态 | 得分 | 满分 | 计算过程 |",
        "|---|---|---|---|---|---|",
    ]
    for ind in r.indicators:
        indent = "　" * (ind.depth - 1)
        marks = ("（地方）" if ind.local else "") + ("（待核）" if not ind.verified else "")
        lines.append(
            f"| {ind.code} | {indent}{_cell(ind.name)}{marks} | {ind.status_zh} | {fmt(ind.points) if ind.points is not None else '—'} "
            f"| {fmt(ind.possible) if ind.possible is not None else '—'} | {_cell(ind.explanation.split('：', 1)[-1])} |"
        )
    lines.append("")
    if r.bonus:
        lines += (
            ["## 加分", ""]
            + [f"- {_cell(b.explanation)}" for b in r.bonus]
            + [f"- 加分合计：{fmt(r.bonus_total)}", ""]
        )
    if r.data_warnings:
        lines += (
            ["## 数据核查（请核实）", ""]
            + [f"- {w.code} {_cell(w.message)}（填报：{_cell(w.detail)}）" for w in r.data_warnings]
            + [""]
        )
    if r.gap_flags:
        lines += (
            ["## 自评与督评差异较大（自评虚高）", ""]
            + [f"- {g.label}：{g.difference}" for g in r.gap_flags]
            + [""]
        )
    if r.changes:
        lines += (
            ["## 豁免与改判", ""]
            + [
                f"- {ch.indicator}：{ch.old} → {ch.new}（{ch.by}{'，' + ch.at.isoformat() if ch.at else ''}：{ch.reason}）"
                for ch in r.changes
            ]
            + [""]
        )
    if r.evidence:
        names = {i.code: i.name for i in r.indicators}
        lines += (
            ["## 佐证材料", ""]
            + [
                f"- {code}{' ' + names[code] if code in names else ''}：{_cell('、'.join(refs))}"
                for code, refs in r.evidence.items()
            ]
            + [""]
        )
    lines += ["## 整改清单", ""]
    if not r.rectification:
        lines.append("无需整改。")
    else:
        lines += [
            "| 序号 | 指标 | 问题 | 整改要求 | 依据 | 责任部门 | 完成时限 | 优先级 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for it in r.rectification:
            lines.append(
                f"| {it.no} | {it.code} | {_cell(it.problem)} | {_cell(it.requirement or '—')} | {_cell(it.basis or '—')} "
                f"| {_cell(it.owner or '—')} | {it.deadline.isoformat() if it.deadline else '—'} | {it.priority} |"
            )
    lines.append("")
    lines.append(f"<sub>{r.engine}</sub>")
    return "\n".join(lines) + "\n"
