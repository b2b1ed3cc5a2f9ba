"""The one copy of plotly.js that every figure page of the suite loads (offline)."""

from __future__ import annotations

from typing import Any

from plotly.offline import get_plotlyjs

from grokscope.io import write_atomic
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """outputs: ``plotly`` (``plotly.min.js``, the bundle of the installed plotly)."""
    script = get_plotlyjs()  # holds non-ASCII characters: write UTF-8 whatever the locale
    write_atomic(outputs["plotly"], lambda tmp: tmp.write_text(script, encoding="utf-8"))
