"""Shipped frameworks, found by id from a checkout or from an installed wheel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # scoring/


def framework_dirs() -> list[Path]:
    """Where shipped frameworks live: inside the wheel (``scoring/_frameworks``) or the checkout's ``frameworks/``."""
    dirs = [_PACKAGE_DIR / "_frameworks", _PACKAGE_DIR.parent / "frameworks"]
    return [d for d in dirs if d.is_dir()]


def framework_files() -> list[Path]:
    seen: dict[str, Path] = {}
    for d in framework_dirs():
        for p in sorted(d.rglob("*.yaml")):
            seen.setdefault(str(p.relative_to(d)), p)
    return list(seen.values())


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    version: str
    source: str
    extends: str | None
    path: Path


def _header(path: Path) -> dict:
    """Read only the identity keys; shipped files are ours, but stay safe and cheap anyway."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def entries() -> list[Entry]:
    out = []
    for path in framework_files():
        h = _header(path)
        if "id" not in h:
            continue
        sources = h.get("source") or []
        first = sources[0] if sources and isinstance(sources[0], dict) else {}
        src = " ".join(str(x) for x in (first.get("title"), first.get("number")) if x)
        out.append(
            Entry(
                str(h["id"]), str(h.get("name", "")), str(h.get("version", "")), src, h.get("extends"), path
            )
        )
    return sorted(out, key=lambda e: e.id)


def find(name: str) -> Path | None:
    """A shipped framework's file by id, or None."""
    for e in entries():
        if e.id == name:
            return e.path
    return None


def resolve(name: str | Path, relative_to: Path | None = None) -> Path | None:
    """A path as given if it exists (relative to ``relative_to`` first), else a shipped framework's id."""
    p = Path(name)
    if relative_to is not None and not p.is_absolute():
        candidate = relative_to / p
        if candidate.is_file():
            return candidate
    if p.is_file():
        return p
    return find(str(name))
