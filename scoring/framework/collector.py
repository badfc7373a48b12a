"""Pausing Python's cycle collector while a framework is loaded and compiled.

Loading and compiling build a great many objects and free almost none of them, so the collector's passes over
them find nothing; they cost more than the parsing itself (benchmarks/engine.py: a 300-indicator framework loads
and compiles in about half the time without them). The collector is paused for that work only, and only if it
was running; whatever the work leaves behind is collected afterwards as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    running = gc.isenabled()
    if running:
        gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()
