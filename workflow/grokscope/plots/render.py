"""Rendering figure jobs: the shared style, then HTML and PNG files, atomically.

Each figure is written as interactive HTML (sharing one ``plotly.min.js`` in its directory,
so pages work offline) and as PNG, all PNGs of a job through one headless-browser session.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from grokscope.io import atomic_directory
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


def write_figures(figures: Figures, out_dir: Path, style: Style) -> None:
    """Style and render ``{name: figure}`` to ``out_dir/name.html`` and ``name.png``.

    Everything is written to a temporary sibling directory that replaces ``out_dir`` only
    once every file is complete. All PNGs go through one browser session (one
    ``plotly.io.write_images`` call), at ``width × scale`` by ``height × scale`` pixels.
    """
    figures = {name: styled(fig, style) for name, fig in figures.items()}
    with atomic_directory(out_dir) as tmp:
        for name, fig in figures.items():
            # A fixed div id keeps the HTML byte-identical across renders of the same data.
            fig.write_html(tmp / f"{name}.html", include_plotlyjs="directory", div_id=name)
        pio.write_images(
            list(figures.values()),
            [tmp / f"{name}.png" for name in figures],
            width=style["width"],
            height=style["height"],
            scale=style["scale"],
        )
