"""Training curves (seed ``000``): loss (log y) and accuracy against epoch."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from grokscope.plots.common import SPLIT_COLORS, Style, line_figure


def training_loss(metrics: pd.DataFrame, style: Style) -> go.Figure:
    """Train and test cross-entropy against epoch, log y.

    ``metrics``: the training table (``epoch, train_loss, train_acc, test_loss, test_acc``,
    one row per evaluation).
    """
    return line_figure(
        metrics["epoch"],
        {f"{split} loss": metrics[f"{split}_loss"] for split in SPLIT_COLORS},
        title="Loss",
        xaxis="epoch",
        yaxis="cross-entropy",
        log_y=True,
        colors={f"{split} loss": color for split, color in SPLIT_COLORS.items()},
    )


def training_accuracy(metrics: pd.DataFrame, style: Style) -> go.Figure:
    """Train and test accuracy against epoch (rows without accuracies are skipped)."""
    fig = line_figure(
        metrics["epoch"],
        {f"{split} accuracy": metrics[f"{split}_acc"] for split in SPLIT_COLORS},
        title="Accuracy",
        xaxis="epoch",
        yaxis="accuracy",
        colors={f"{split} accuracy": color for split, color in SPLIT_COLORS.items()},
    )
    fig.update_traces(line_dash="dot")
    return fig.update_yaxes(range=[0, 1.02])


def training_curves(metrics: pd.DataFrame, style: Style) -> go.Figure:
    """Loss (log y) and accuracy side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    for col, builder in ((1, training_loss), (2, training_accuracy)):
        for trace in builder(metrics, style).data:
            fig.add_trace(trace, row=1, col=col)
    fig.update_yaxes(type="log", title="cross-entropy", row=1, col=1)
    fig.update_yaxes(title="accuracy", range=[0, 1.02], row=1, col=2)
    return fig.update_xaxes(title="epoch").update_layout(title="Training curves")
