"""Rendering figure jobs: the shared style, then HTML and PNG files, atomically.

Each figure is written as interactive HTML and as PNG, all PNGs of a job through one
headless-browser session (:mod:`grokscope.plots.browser`, with its watchdog and retry). The
HTML pages hold no copy of plotly.js: each loads the suite's one copy
(``results/assets/plotly.min.js``, written by the ``assets`` step) by a path relative to the
page, so they work offline, from a copy of ``results/`` and from a static web server. When
the export fails, the figure directory keeps what it held before (everything is written to a
temporary directory that replaces it only when complete).
"""

from __future__ import annotations

import os
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from grokscope.errors import ArtifactError
from grokscope.io import atomic_directory
from grokscope.plots.browser import PngExport
from grokscope.plots.common import Style, palette

Figures = dict[str, go.Figure]


def styled(fig: go.Figure, style: Style) -> go.Figure:
    """Apply the shared style from ``params/figures.yaml`` (template, size, font, palette)."""
    return fig.update_layout(
        template=style["template"],
        width=style["width"],
        height=style["height"],
        font_size=style["font_size"],
        colorway=palette(style),
    )


def script_src(plotly_js: Path, out_dir: Path) -> str:
    """The URL of ``plotly_js`` relative to a page in ``out_dir`` (``../../../assets/...``)."""
    return Path(os.path.relpath(plotly_js, out_dir)).as_posix()


def write_figures(figures: Figures, out_dir: Path, style: Style, plotly_js: Path) -> None:
    """Style and render ``{name: figure}`` to ``out_dir/name.html`` and ``name.png``.

    Every page loads ``plotly_js`` (the shared ``plotly.min.js``) by a relative path.
    Everything is written to a temporary sibling directory that replaces ``out_dir`` only
    once every file is complete. All PNGs go through one browser session, at
    ``width × scale`` by ``height × scale`` pixels, each rendered while the next figure is
    written (:class:`grokscope.plots.browser.PngExport`).
    """
    if not Path(plotly_js).is_file():
        raise ArtifactError(f"{plotly_js}: plotly.js not found (the `assets` step writes it)")
    src = script_src(Path(plotly_js), Path(out_dir))
    opts = {
        "format": "png",
        "width": style["width"],
        "height": style["height"],
        "scale": style["scale"],
    }
    with atomic_directory(out_dir) as tmp, PngExport(out_dir) as export:
        for name, fig in figures.items():
            spec = styled(fig, style).to_dict()  # validated once, here
            # The browser renders the PNG while this process writes the HTML and goes on.
            export.submit({"fig": spec, "path": tmp / f"{name}.png", "opts": opts})
            # The same dict for the page, not validated again. A fixed div id keeps the HTML
            # byte-identical across renders of the same data.
            pio.write_html(
                spec, tmp / f"{name}.html", include_plotlyjs=src, div_id=name, validate=False
            )
