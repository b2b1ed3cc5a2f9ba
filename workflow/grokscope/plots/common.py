"""Shared plotting primitives: lines, bars, sliders, phase markers, the palette and style.

Every figure of the project is assembled from these, so that colour scales (sequential,
diverging, cyclic), the line palette and axis conventions come from ``params/figures.yaml``
in one place. Arrays are passed to plotly as float32 numpy arrays, which plotly stores as
compact base64 in the HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType
from plotly.colors import qualitative

Style = dict[str, Any]
# One colour per split across every figure, so train/test read the same everywhere.
SPLIT_COLORS = {"train": "#1f77b4", "test": "#d62728"}


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
    spans, traces, rows, cols = [], [], [], []
    for i, step in enumerate(steps):
        start = static + len(traces)
        for trace, row, col in step.traces:
            trace.visible = i == 0
            traces.append(trace)
            rows.append(row)
            cols.append(col)
        spans.append((start, static + len(traces)))
    # All at once: plotly validates and copies the figure's data on each add. A figure has
    # subplots (every trace placed) or none.
    if all(row is None for row in rows):
        fig.add_traces(traces)
    else:
        fig.add_traces(traces, rows=rows, cols=cols)
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


def irrep_order(irreps: Any) -> list[str]:
    """Irrep labels in basis order, from an ``irrep_norms.parquet`` table (categories of the
    irrep axes)."""
    return irreps.drop_duplicates("irrep").sort_values("irrep_index")["irrep"].tolist()
