"""Shared plotting primitives: lines, bars, heatmaps (single, grid), sliders, phase markers.

Every figure of the project is assembled from these, so that colour scales (sequential,
diverging, cyclic), the line palette and axis conventions come from ``params/figures.yaml``
in one place. Arrays are passed to plotly as float32 numpy arrays, which plotly stores as
compact base64 in the HTML.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType
from plotly.colors import qualitative
from plotly.subplots import make_subplots

Style = dict[str, Any]
# One colour per split across every figure, so train/test read the same everywhere.
SPLIT_COLORS = {"train": "#1f77b4", "test": "#d62728"}
HEATMAP_HOVER = "%{y} × %{x}<br>%{z:.4g}<extra></extra>"


def palette(style: Style) -> list[str]:
    """The qualitative line colours named by ``style["colorway"]`` (a plotly palette)."""
    return list(getattr(qualitative, style["colorway"]))


def f32(values: Any) -> np.ndarray:
    """``values`` as a float32 array (compact in the HTML)."""
    return np.asarray(values, dtype=np.float32)


def line_figure(
    x: Sequence | np.ndarray,
    series: Mapping[str, Sequence | np.ndarray],
    *,
    title: str,
    xaxis: str,
    yaxis: str,
    log_y: bool = False,
    hover: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    category_x: bool = False,
) -> go.Figure:
    """One line per entry of ``series`` (each ``(len(x),)``) against ``x``.

    NaN points are dropped per series; a series with few points gets markers too, so a single
    value (e.g. the final accuracy of an imported run) stays visible.
    """
    fig = go.Figure(layout={"title": title})
    for name, y in series.items():
        fig.add_trace(line_trace(x, y, name=name, hover=hover, color=(colors or {}).get(name)))
    fig.update_xaxes(title=xaxis, type="category" if category_x else None)
    fig.update_yaxes(title=yaxis, type="log" if log_y else None)
    return fig


def line_trace(
    x: Sequence | np.ndarray,
    y: Sequence | np.ndarray,
    *,
    name: str,
    hover: Sequence[str] | None = None,
    color: str | None = None,
    dash: str | None = None,
    showlegend: bool = True,
) -> go.Scatter:
    """A line of ``y`` against ``x`` (both ``(n,)``), NaN points dropped."""
    x, y = np.asarray(x), f32(y)
    keep = ~np.isnan(y)
    text = None if hover is None else np.asarray(hover, dtype=object)[keep]
    return go.Scatter(
        x=x[keep],
        y=y[keep],
        name=name,
        mode="lines+markers" if keep.sum() < 12 else "lines",
        hovertext=text,
        line={"color": color, "dash": dash},
        showlegend=showlegend,
    )


def bar_figure(
    categories: Sequence[str],
    series: Mapping[str, Sequence | np.ndarray],
    *,
    title: str,
    xaxis: str,
    yaxis: str,
    log_y: bool = False,
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """Grouped bars: one bar per category (``(k,)``) for each entry of ``series``."""
    fig = go.Figure(layout={"title": title, "barmode": "group"})
    for name, values in series.items():
        color = (colors or {}).get(name)
        fig.add_bar(x=list(categories), y=f32(values), name=name, marker_color=color)
    fig.update_xaxes(title=xaxis, type="category")
    fig.update_yaxes(title=yaxis, type="log" if log_y else None)
    return fig


def loss_bars(rows: Any, names: Sequence[str], title: str) -> go.Figure:
    """Train and test loss (log y) side by side for each row of ``rows`` (a table with
    ``train_loss`` and ``test_loss``), labelled by ``names``."""
    return bar_figure(
        list(names),
        {f"{split} loss": rows[f"{split}_loss"] for split in SPLIT_COLORS},
        title=title,
        xaxis="",
        yaxis="cross-entropy",
        log_y=True,
        colors={f"{split} loss": color for split, color in SPLIT_COLORS.items()},
    )


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


Placed = tuple[BaseTraceType, int | None, int | None]  # trace, subplot row, subplot col


@dataclass
class SliderStep:
    """One position of a slider: its ``label``, the ``traces`` shown there (with their
    subplot ``(row, col)``, ``None`` for a plain figure) and an optional ``title``."""

    label: str
    traces: Sequence[Placed]
    title: str | None = None


def add_slider(fig: go.Figure, steps: Sequence[SliderStep], prefix: str) -> go.Figure:
    """Add every step's traces to ``fig`` and a slider showing one step at a time.

    Traces already in ``fig`` stay visible at every step; the first step is shown initially
    (and is what the PNG shows).
    """
    static = len(fig.data)
    spans = []
    for i, step in enumerate(steps):
        start = len(fig.data)
        for trace, row, col in step.traces:
            trace.visible = i == 0
            fig.add_trace(trace, row=row, col=col)
        spans.append((start, len(fig.data)))
    total = len(fig.data)
    slider_steps = []
    for step, (start, end) in zip(steps, spans, strict=True):
        visible = [j < static or start <= j < end for j in range(total)]
        layout = {"title.text": step.title} if step.title else {}
        slider_steps.append(
            {"label": step.label, "method": "update", "args": [{"visible": visible}, layout]}
        )
    if steps and steps[0].title:
        fig.update_layout(title=steps[0].title)
    fig.update_layout(
        sliders=[
            {
                "active": 0,
                "currentvalue": {"prefix": prefix},
                "pad": {"t": 50},
                "steps": slider_steps,
            }
        ]
    )
    return fig


def evenly_spaced(count: int, limit: int) -> list[int]:
    """At most ``limit`` indices spread evenly over ``range(count)``, always including 0."""
    if count <= limit:
        return list(range(count))
    return sorted({round(i * count / limit) for i in range(limit)})


def mark_phases(fig: go.Figure, phases: Sequence[Mapping[str, Any]], style: Style) -> go.Figure:
    """Shade each training phase (``{name, start, end}`` in epochs) on every subplot; the
    legend names the phases."""
    colors = palette(style)
    where = {"row": "all", "col": "all"} if fig._grid_ref is not None else {}
    for i, phase in enumerate(phases):
        color = colors[(i + 3) % len(colors)]
        fig.add_vrect(
            x0=phase["start"],
            x1=phase["end"],
            fillcolor=color,
            opacity=0.12,
            line_width=0,
            layer="below",
            **where,
        )
        fig.add_scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={"symbol": "square", "size": 12, "color": color, "opacity": 0.3},
            name=f"phase: {phase['name']}",
        )
    return fig
