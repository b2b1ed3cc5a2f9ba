"""Which plotly.js a figure job's browser loads to draw its PNGs.

Loading plotly.js costs a figure job's browser more than the browser's own start
(benchmarks/README.md, "Figure jobs"). plotly.js's cartesian bundle holds the same code as
plotly's full bundle for the trace types it has, and so draws the same PNGs, at a third of the
size. The set-up installs it beside the venv when npm is available; where it is not, or is of
another plotly.js version than plotly's own, the browser loads the full bundle. A figure with a
trace type the cartesian bundle lacks must go through the full one
(:class:`grokscope.plots.browser.PngExport` switches): the cartesian bundle would leave such a
trace out of the PNG without an error.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

# plotly.js's cartesian bundle (npm's plotly.js-cartesian-dist-min; the set-up puts it here
# when npm is available) and the trace types it registers.
PARTIAL_PLOTLY = Path(sys.prefix) / "share" / "grokscope" / "plotly-cartesian.min.js"
PARTIAL_TRACES = frozenset(
    {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
     "image", "pie", "scatter", "scatterternary", "violin"}
)  # fmt: skip


def plotly_version(script: Path) -> str | None:
    """The version a plotly.js bundle names in its header comment (``* plotly.js v4.1.1``,
    ``* plotly.js (cartesian - minified) v4.1.1``)."""
    with open(script, "rb") as f:
        found = re.search(rb"plotly\.js (?:\([^)]*\) )?v(\S+)", f.read(512))
    return found.group(1).decode() if found else None


def partial_plotly() -> Path | None:
    """The cartesian bundle to load, if installed and of plotly's own plotly.js version (a
    bundle of another version could draw differently); else None: kaleido loads plotly's full
    bundle."""
    spec = importlib.util.find_spec("plotly")  # finds plotly without importing it
    if not PARTIAL_PLOTLY.is_file() or spec is None or spec.origin is None:
        return None
    full = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    if not full.is_file() or plotly_version(PARTIAL_PLOTLY) != plotly_version(full):
        return None
    return PARTIAL_PLOTLY


def drawable(spec: dict[str, Any], plotly_js: Path | None) -> bool:
    """Whether a browser with ``plotly_js`` (None: the full bundle) draws every trace of the
    figure ``spec`` (kaleido's ``fig`` as a dict)."""
    traces = spec.get("data") or []
    return plotly_js is None or all(t.get("type", "scatter") in PARTIAL_TRACES for t in traces)
