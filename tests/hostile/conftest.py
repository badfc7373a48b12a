from __future__ import annotations

from .harness import case  # noqa: F401 (the fixture every hostile case uses)
