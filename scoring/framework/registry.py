"""Shipped frameworks, found by id from a checkout or from an installed wheel.

Listing them must not load them: ``scoring frameworks`` and every look-up by id need only each file's identity
(``id``, ``name``, ``version``, ``source``, ``extends``). The frameworks folder carries an index of those, written
by :func:`write_index` (``python -m scoring.framework.registry``) and shipped with it: ``index.json`` holds, per
file, its identity and the SHA-256 of the bytes it was read from. An entry is taken from the index only while
the file still has those bytes; a file that is new or changed since (a framework edited in a checkout) is read
with the safe reader every framework goes through (:func:`~scoring.framework.source.load_yaml_text`: core tags
only, bounded size, depth and alias expansion), and one it refuses, or without an id, is not listed. So the index
makes listing quick and can never make it wrong; a test keeps the shipped index current.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # scoring/
INDEX_NAME = "index.json"
INDEX_FORMAT = 1


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


def _identity(data: Any, path: Path) -> Entry | None:
    """The entry a framework file's data (or its index record) gives; None without an id."""
    if not isinstance(data, dict) or data.get("id") is None:
        return None
    extends = data.get("extends")
    return Entry(
        str(data["id"]),
        str(data.get("name", "")),
        str(data.get("version", "")),
        _cited(data.get("source")),
        None if extends is None else str(extends),
        path,
    )


def _cited(sources: Any) -> str:
    """The first source as listed: its title and number (an index holds this text already)."""
    if isinstance(sources, str):
        return sources
    first = sources[0] if isinstance(sources, list) and sources and isinstance(sources[0], dict) else {}
    return " ".join(str(x) for x in (first.get("title"), first.get("number")) if x)


def _read(path: Path) -> Entry | None:
    """The entry read from the file itself, by the safe reader; None when it refuses the file."""
    from ..problems import FrameworkError
    from .source import load_yaml_text, read_text

    try:
        data, _ = load_yaml_text(read_text(path), str(path))
    except FrameworkError:
        return None
    return _identity(data, path)


def _index(directory: Path) -> dict[str, dict[str, Any]]:
    """The folder's index by file name (relative, with "/"); empty when there is none or it is unreadable."""
    try:
        data = json.loads((directory / INDEX_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        return {}
    files = data.get("frameworks")
    return files if isinstance(files, dict) else {}


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _entry(path: Path, directory: Path, index: dict[str, dict[str, Any]]) -> Entry | None:
    """From the index while the file has the bytes it was indexed from, else read from the file."""
    known = index.get(path.relative_to(directory).as_posix())
    if known is not None and known.get("sha256") == _digest(path):
        return _identity(known, path)
    return _read(path)


def entries() -> list[Entry]:
    """Every shipped framework with an id, sorted by id (see the module's docstring for what is read)."""
    out: dict[str, Entry] = {}
    for d in framework_dirs():
        index = _index(d)
        for p in sorted(d.rglob("*.yaml")):
            rel = p.relative_to(d).as_posix()
            if rel not in out and (entry := _entry(p, d, index)) is not None:
                out[rel] = entry
    return sorted(out.values(), key=lambda e: e.id)


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


def index_of(directory: Path) -> dict[str, Any]:
    """What ``index.json`` must hold for ``directory``: every framework file the safe reader accepts."""
    files: dict[str, Any] = {}
    for p in sorted(directory.rglob("*.yaml")):
        entry = _read(p)
        if entry is not None:
            fields = asdict(entry)
            del fields["path"]
            files[p.relative_to(directory).as_posix()] = {"sha256": _digest(p), **fields}
    return {"format": INDEX_FORMAT, "frameworks": files}


def write_index(directory: Path) -> Path:
    """Write ``directory``'s index (after adding or changing a shipped framework)."""
    text = json.dumps(index_of(directory), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    path = directory / INDEX_NAME
    partial = path.with_name(f".{INDEX_NAME}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # whole or not at all
    return path


if __name__ == "__main__":  # python -m scoring.framework.registry [FOLDER]: rewrite the index
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else _PACKAGE_DIR.parent / "frameworks"
    print(write_index(folder))
