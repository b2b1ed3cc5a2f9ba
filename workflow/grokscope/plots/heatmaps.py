"""Heatmaps: single and in grids, with colour axes from the figure style (sequential,
diverging, cyclic scales of ``params/figures.yaml``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from grokscope.plots.common import SliderStep, Style, add_slider, f32

HEATMAP_HOVER = "%{y} × %{x}<br>%{z:.4g}<extra></extra>"


def color_axis(
    style: Style,
    kind: str = "sequential",
    *,
    values: np.ndarray | None = None,
    showscale: bool = True,
    title: str | None = None,
) -> dict[str, Any]:
    """A layout colour axis: ``kind`` is ``sequential``, ``diverging`` (centred on 0) or
    ``cyclic`` (phases). With ``values``, the range is fixed to theirs (symmetric for
    diverging), so every slider step or panel sharing the axis uses the same scale."""
    scale = {
        "sequential": style["colorscale"],
        "diverging": style["diverging_colorscale"],
        "cyclic": style["cyclic_colorscale"],
    }[kind]
    axis: dict[str, Any] = {"colorscale": scale, "showscale": showscale}
    if title:
        axis["colorbar"] = {"title": {"text": title}}
    if values is not None and np.isfinite(values).any():
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        if kind == "diverging":
            hi = max(abs(lo), abs(hi)) or 1.0
            lo = -hi
        axis.update(cmin=lo, cmax=hi if hi > lo else lo + 1.0)
    elif kind == "diverging":
        axis["cmid"] = 0.0
    return axis


def heatmap_trace(
    z: np.ndarray,
    *,
    x: Sequence | None = None,
    y: Sequence | None = None,
    coloraxis: str = "coloraxis",
    name: str | None = None,
) -> go.Heatmap:
    """A heatmap of ``z`` ``(len(y), len(x))``: row ``i`` is ``y[i]``, column ``j`` is ``x[j]``."""
    return go.Heatmap(
        z=f32(z),
        x=None if x is None else list(x),
        y=None if y is None else list(y),
        coloraxis=coloraxis,
        name=name,
        hovertemplate=HEATMAP_HOVER,
    )


def heatmap_figure(
    z: np.ndarray,
    *,
    title: str,
    xaxis: str,
    yaxis: str,
    style: Style,
    kind: str = "sequential",
    x: Sequence | None = None,
    y: Sequence | None = None,
) -> go.Figure:
    """One heatmap (``z``: ``(len(y), len(x))``), first row at the top as in an image."""
    fig = go.Figure(heatmap_trace(z, x=x, y=y), layout={"title": title})
    fig.update_layout(coloraxis=color_axis(style, kind))
    _heatmap_axes(fig, xaxis, yaxis, categorical=x is not None and isinstance(x[0], str))
    return fig


@dataclass
class Panel:
    """One heatmap of a grid: ``z`` is ``(len(y), len(x))`` (``x``/``y`` default to indices)."""

    title: str
    z: np.ndarray
    x: Sequence | None = None
    y: Sequence | None = None


def heatmap_grid(
    panels: Sequence[Panel],
    *,
    title: str,
    xaxis: str,
    yaxis: str,
    style: Style,
    kind: str = "sequential",
    columns: int = 4,
) -> go.Figure:
    """Heatmaps side by side, each with its own colour range (no colour bars: the panels'
    magnitudes differ, hover shows values)."""
    cols = min(columns, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[p.title for p in panels],
        horizontal_spacing=0.06,
        vertical_spacing=0.12,
    )
    for i, panel in enumerate(panels):
        axis = "coloraxis" if i == 0 else f"coloraxis{i + 1}"
        trace = heatmap_trace(panel.z, x=panel.x, y=panel.y, coloraxis=axis)
        fig.add_trace(trace, row=i // cols + 1, col=i % cols + 1)
        fig.update_layout({axis: color_axis(style, kind, values=panel.z, showscale=False)})
    fig.update_layout(title=title)
    categorical = panels[0].x is not None and isinstance(panels[0].x[0], str)
    _heatmap_axes(fig, xaxis, yaxis, categorical=categorical)
    # Axis titles once: y on the first column, x on the last row.
    fig.update_yaxes(title=None).update_yaxes(title=yaxis, col=1)
    return fig.update_xaxes(title=None).update_xaxes(title=xaxis, row=rows)


def _heatmap_axes(fig: go.Figure, xaxis: str, yaxis: str, categorical: bool) -> None:
    kind = "category" if categorical else None
    fig.update_xaxes(title=xaxis, type=kind, showgrid=False)
    fig.update_yaxes(title=yaxis, type=kind, autorange="reversed", showgrid=False)


def slider_heatmaps(
    stacks: Sequence[np.ndarray],
    names: Sequence[str],
    steps: Sequence[int],
    *,
    title: str,
    xaxis: str,
    yaxis: str,
    prefix: str,
    style: Style,
    y: Sequence | None = None,
) -> go.Figure:
    """One or more heatmaps stacked vertically (one per entry of ``stacks``, titled by
    ``names``), each ``(slider, rows, cols)``, with one slider step per index in ``steps``.
    Each panel has its own diverging colour axis, fixed over the slider."""
    fig = make_subplots(rows=len(stacks), cols=1, subplot_titles=list(names),
                        vertical_spacing=0.12)  # fmt: skip
    slider = []
    for i in steps:
        traces = []
        for row, stack in enumerate(stacks, start=1):
            axis = "coloraxis" if row == 1 else f"coloraxis{row}"
            traces.append((heatmap_trace(stack[i], y=y, coloraxis=axis), row, 1))
        slider.append(SliderStep(str(i), traces))
    add_slider(fig, slider, prefix=prefix)
    for row, stack in enumerate(stacks, start=1):
        axis = "coloraxis" if row == 1 else f"coloraxis{row}"
        values = stack[list(steps)]
        fig.update_layout({axis: color_axis(style, "diverging", values=values, showscale=False)})
    fig.update_layout(title=title)
    fig.update_xaxes(showgrid=False).update_xaxes(title=xaxis, row=len(stacks))
    kind = "category" if y is not None else None
    return fig.update_yaxes(title=yaxis, type=kind, autorange="reversed", showgrid=False)
