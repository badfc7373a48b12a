"""The package's layers depend one way (docs/architecture.md): no import runs up a layer, none forms a circle."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "scoring"
LAYERS = ["problems", "version", "framework", "engine", "io", "report", "jobs", "cli", "service", "__init__"]
# cli and service are both top layers (the command line and the HTTP service); only `scoring serve` may start the
# service from the command line, never the other way round
RANK = {
    "problems": 0,
    "version": 0,
    "framework": 1,
    "engine": 2,
    "io": 3,
    "report": 4,
    "jobs": 5,
    "cli": 6,
    "service": 6,
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The package modules ``path`` imports (module-level and inside functions), as dotted names."""
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if not target.startswith("scoring"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if _exists(sub) else target)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("scoring")}
    return out


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


GRAPH = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_every_module_is_in_a_layer():
    assert {_layer(m) for m in GRAPH} <= set(LAYERS)


def test_no_import_runs_up_a_layer_or_through_the_package_face():
    upward = [
        (m, t)
        for m, targets in GRAPH.items()
        if m != "scoring"
        for t in targets
        if t == "scoring" or RANK.get(_layer(t), 99) > RANK.get(_layer(m), 99)
    ]
    assert upward == []


def test_no_import_circle():
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in sorted(GRAPH.get(m, ())):
            if state.get(t) == 1:
                circles.append([*stack[stack.index(t) :], t])
            elif t not in state:
                visit(t, [*stack, t])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])
    assert circles == []


def test_the_service_does_not_import_the_command_line():
    assert [
        (m, t)
        for m, targets in GRAPH.items()
        for t in targets
        if (_layer(m), _layer(t)) == ("service", "cli")
    ] == []


def test_the_check_finds_what_it_looks_for():
    """The graph is read right: known arrows are in it (a reader that saw nothing would pass the tests above)."""
    assert "scoring.framework.rules.kinds" in GRAPH["scoring.framework.check"]
    assert "scoring.engine.plan" in GRAPH["scoring.engine.score"]
    assert "scoring.framework.expr" in GRAPH["scoring.framework.rules.base"]
    assert "scoring.io.read" in GRAPH["scoring.service.work"]
