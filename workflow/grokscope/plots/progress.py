"""Progress measures over training (the grokking paper's view), with the phases shaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from grokscope.plots.common import SPLIT_COLORS, Style, line_trace, mark_phases, palette

# Loss-like measures (log y) and the other measures, each with a readable name.
LOSSES = {
    "train_loss": "train loss",
    "test_loss": "test loss",
    "restricted_loss": "restricted loss",
    "excluded_loss": "excluded loss (train)",
}
MEASURES = {
    "train_acc": "train accuracy",
    "test_acc": "test accuracy",
    "sum_squared_weights": "sum of squared weights",
    "gini_W_E": "Gini of W_E's Fourier norms",
    "gini_W_L": "Gini of W_L's Fourier norms",
    "clean_fraction": "fraction of clean neurons",
}


def _colors(style: Style) -> dict[str, str]:
    colors = dict(zip(LOSSES, palette(style), strict=False))
    colors.update(train_loss=SPLIT_COLORS["train"], test_loss=SPLIT_COLORS["test"])
    colors.update(train_acc=SPLIT_COLORS["train"], test_acc=SPLIT_COLORS["test"])
    return colors


def progress_losses(progress: pd.DataFrame, phases: Mapping[str, Any], style: Style) -> go.Figure:
    """Train, test, restricted and excluded loss at every checkpoint (log y), phases shaded.

    ``progress``: one row per checkpoint (``epoch`` plus the columns of :data:`LOSSES`);
    ``phases``: ``phases.json`` (``phases``: ``[{name, start, end}]``).
    """
    colors = _colors(style)
    fig = go.Figure(layout={"title": "Progress measures: losses"})
    for column, name in LOSSES.items():
        fig.add_trace(
            line_trace(progress["epoch"], progress[column], name=name, color=colors[column])
        )
    fig.update_xaxes(title="epoch").update_yaxes(title="cross-entropy", type="log")
    return mark_phases(fig, phases["phases"], style)


def progress_measures(progress: pd.DataFrame, phases: Mapping[str, Any], style: Style) -> go.Figure:
    """Every progress measure in its own panel (losses log y), phases shaded in each."""
    panels = [("losses", list(LOSSES)), ("accuracy", ["train_acc", "test_acc"])]
    panels += [("sum of squared weights", ["sum_squared_weights"])]
    panels += [("Gini of Fourier norms", ["gini_W_E", "gini_W_L"])]
    panels += [
        ("excluded loss per key irrep", [c for c in progress if c.startswith("excluded_loss ")])
    ]
    panels += [(MEASURES["clean_fraction"], ["clean_fraction"])]
    fig = make_subplots(rows=2, cols=3, subplot_titles=[title for title, _ in panels])
    colors, names = _colors(style), {**LOSSES, **MEASURES}
    for i, (_, columns) in enumerate(panels):
        row, col = i // 3 + 1, i % 3 + 1
        for column in columns:
            name = names.get(column, column)
            trace = line_trace(
                progress["epoch"], progress[column], name=name, color=colors.get(column)
            )
            fig.add_trace(trace, row=row, col=col)
    fig.update_yaxes(type="log", row=1, col=1).update_yaxes(type="log", row=2, col=2)
    fig.update_xaxes(title="epoch", row=2)
    fig.update_layout(title="Progress measures")
    return mark_phases(fig, phases["phases"], style)
