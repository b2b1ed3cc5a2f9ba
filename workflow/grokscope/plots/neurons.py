"""Neurons (seed ``000``): selected neurons as functions of ``(a, b)`` and in the 2-D Fourier
basis, the mean 2-D Fourier power of all neurons and of the logits, and the clustering of
neurons by irrep."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from grokscope.plots.common import Style, bar_figure, palette
from grokscope.plots.heatmaps import Panel, heatmap_figure, heatmap_grid


def activation_panels(
    values: np.ndarray,
    titles: Sequence[str],
    *,
    title: str,
    labels: Sequence[str] | None,
    style: Style,
    kind: str,
) -> go.Figure:
    """Units as heatmaps over pairs, side by side: ``values`` ``(order, order, units)`` indexed
    by ``(a, b)`` (or by 2-D basis pair when ``labels`` names the basis functions)."""
    panels = [Panel(t, values[:, :, i], x=labels, y=labels) for i, t in enumerate(titles)]
    fourier = labels is not None
    return heatmap_grid(
        panels,
        title=title,
        xaxis="basis function of b" if fourier else "b",
        yaxis="basis function of a" if fourier else "a",
        style=style,
        kind=kind,
    )


def fourier_power(table: pd.DataFrame, column: str, title: str, style: Style) -> go.Figure:
    """A 2-D Fourier power map from its long table (``x, y, x_label, y_label, <column>``):
    rows are the basis functions of ``a``, columns those of ``b``."""
    order = int(table["x"].max()) + 1
    wide = np.zeros((order, order), dtype=np.float32)
    wide[table["x"].to_numpy(), table["y"].to_numpy()] = table[column].to_numpy()
    labels = table.drop_duplicates("x").sort_values("x")["x_label"].tolist()
    return heatmap_figure(
        wide,
        title=title,
        xaxis="basis function of b",
        yaxis="basis function of a",
        style=style,
        x=labels,
        y=labels,
    )


def neuron_fractions(
    clusters: pd.DataFrame, irrep_order: Sequence[str], threshold: float | None, style: Style
) -> go.Figure:
    """Each neuron's irrep (x) against the fraction of its variance that irrep explains (y),
    clean and other neurons in two colours (the notebook's frequency/fraction scatter)."""
    alive = clusters[clusters["irrep"] != "dead"]
    colors = palette(style)
    fig = go.Figure(layout={"title": "Neuron irrep vs fraction of variance explained"})
    for (name, part), color in zip(
        (("clean", alive[alive["clean"]]), ("not clean", alive[~alive["clean"]])),
        colors,
        strict=False,
    ):
        fig.add_scatter(
            x=part["irrep"],
            y=part["fraction"].astype(np.float32),
            mode="markers",
            name=name,
            marker={"color": color, "opacity": 0.7},
            hovertext=[f"neuron {n}" for n in part["neuron"]],
        )
    order = [r for r in irrep_order if r in set(alive["irrep"])]
    fig.update_xaxes(title="irrep", type="category", categoryorder="array", categoryarray=order)
    fig.update_yaxes(title="fraction explained", range=[0, 1.02])
    if threshold is not None:
        fig.add_hline(y=threshold, line_dash="dot", annotation_text="clean threshold")
    return fig


def cluster_sizes(sizes: pd.DataFrame, irrep_order: Sequence[str], style: Style) -> go.Figure:
    """Neurons per cluster (irrep) and how many of them are clean, in irrep order."""
    rank = {r: i for i, r in enumerate(irrep_order)}
    sizes = sizes.sort_values("irrep", key=lambda s: s.map(lambda r: rank.get(r, len(rank))))
    colors = palette(style)
    return bar_figure(
        sizes["irrep"].tolist(),
        {"neurons": sizes["neurons"], "clean": sizes["clean"]},
        title="Cluster sizes",
        xaxis="irrep",
        yaxis="neurons",
        colors={"neurons": colors[0], "clean": colors[1]},
    )
