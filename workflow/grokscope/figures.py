"""Figures: pure functions from tables to plotly figures, and the one writer that renders them.

A *figure job* (one Snakemake rule per experiment) turns its input tables into several named
figures and renders all of them into one output directory: each as interactive HTML (sharing
one ``plotly.min.js`` in that directory, so pages work offline) and as PNG, all PNGs of a job
through a single headless-browser session. Figure code reads tables only, never checkpoints,
so restyling never retrains.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from grokscope.io import ArtifactError, atomic_directory

Style = dict[str, Any]
# One colour per split across every figure, so train/test read the same everywhere.
SPLIT_COLORS = {"train": "#1f77b4", "test": "#d62728"}


def training_loss(metrics: pd.DataFrame, style: Style) -> go.Figure:
    """Train and test cross-entropy against epoch, log y. ``metrics``: the training table."""
    fig = go.Figure(layout={"title": "Loss", "yaxis_type": "log"})
    for split in ("train", "test"):
        fig.add_scatter(
            x=metrics["epoch"],
            y=metrics[f"{split}_loss"],
            name=f"{split} loss",
            line_color=SPLIT_COLORS[split],
        )
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title="cross-entropy")
    return fig


def training_accuracy(metrics: pd.DataFrame, style: Style) -> go.Figure:
    """Train and test accuracy against epoch."""
    fig = go.Figure(layout={"title": "Accuracy"})
    for split in ("train", "test"):
        fig.add_scatter(
            x=metrics["epoch"],
            y=metrics[f"{split}_acc"],
            name=f"{split} accuracy",
            line_color=SPLIT_COLORS[split],
            line_dash="dot",
        )
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title="accuracy", range=[0, 1.02])
    return fig


def training_curves(metrics: pd.DataFrame, style: Style) -> go.Figure:
    """Loss (log y) and accuracy side by side, with a shared epoch axis."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    for col, builder in ((1, training_loss), (2, training_accuracy)):
        for trace in builder(metrics, style).data:
            fig.add_trace(trace, row=1, col=col)
    fig.update_yaxes(type="log", title="cross-entropy", row=1, col=1)
    fig.update_yaxes(title="accuracy", range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title="epoch")
    return fig


def _read_metrics(paths: list[Path]) -> pd.DataFrame:
    (path,) = paths
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ArtifactError(f"{path}: not a readable metrics table ({err})") from None
    missing = {"epoch", "train_loss", "test_loss", "train_acc", "test_acc"} - set(df.columns)
    if missing:
        raise ArtifactError(f"{path}: metrics table lacks columns {sorted(missing)}")
    return df


# Figure job → (read its inputs, {figure name: builder}).
FIGURE_JOBS: dict[str, tuple[Callable[[list[Path]], Any], dict[str, Callable[..., go.Figure]]]] = {
    "training": (
        _read_metrics,
        {"training_curves": training_curves, "loss": training_loss, "accuracy": training_accuracy},
    ),
}


def styled(fig: go.Figure, style: Style) -> go.Figure:
    """Apply the shared style from ``params/figures.yaml``."""
    return fig.update_layout(
        template=style["template"],
        width=style["width"],
        height=style["height"],
        coloraxis_colorscale=style["colorscale"],
    )


def write_figures(figures: dict[str, go.Figure], out_dir: Path, style: Style) -> None:
    """Render ``{name: figure}`` to ``out_dir/name.html`` and ``name.png``, atomically.

    Everything is written to a temporary sibling directory that replaces ``out_dir`` only
    once every file is complete. All PNGs go through one browser session.
    """
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


def render_job(name: str, inputs: list[Path], style: Style, out_dir: Path) -> None:
    """Build every figure of figure job ``name`` from ``inputs`` and write them to ``out_dir``."""
    if name not in FIGURE_JOBS:
        raise ValueError(f"unknown figure job {name!r}; have {sorted(FIGURE_JOBS)}")
    read, builders = FIGURE_JOBS[name]
    data = read(inputs)
    write_figures(
        {fig: styled(b(data, style), style) for fig, b in builders.items()}, out_dir, style
    )
