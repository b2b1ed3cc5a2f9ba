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
    "restricted_loss": "restricted loss (test)",
    "restricted_loss_all": "restricted loss (all pairs)",
    "excluded_loss": "excluded loss (train)",
}
MEASURES = {
    "train_acc": "train accuracy",
    "test_acc": "test accuracy",
    "sum_squared_weights": "sum of squared weights",
    "gini_embedding": "Gini of embedding irrep norms",
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
    panels += [
        (MEASURES[c], [c]) for c in ("sum_squared_weights", "gini_embedding", "clean_fraction")
    ]
    fig = make_subplots(rows=2, cols=3, subplot_titles=[title for title, _ in panels])
    colors, names = _colors(style), {**LOSSES, **MEASURES}
    for i, (_, columns) in enumerate(panels):
        row, col = i // 3 + 1, i % 3 + 1
        for column in columns:
            trace = line_trace(
                progress["epoch"], progress[column], name=names[column], color=colors.get(column)
            )
            fig.add_trace(trace, row=row, col=col)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title="epoch", row=2)
    fig.update_layout(title="Progress measures")
    return mark_phases(fig, phases["phases"], style)
