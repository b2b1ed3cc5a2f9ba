"""How the logits are built (seed ``000``): each cluster's readout per output basis function,
the logits' components along the key output directions in the 2-D basis, the characters'
fit, and the ablations (restricted / excluded / own block)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from grokscope.plots.common import (
    SliderStep,
    Style,
    add_slider,
    bar_figure,
    line_trace,
    loss_bars,
    palette,
)
from grokscope.plots.heatmaps import color_axis, heatmap_trace

# The summary ablations (ablation, target) in display order, with readable names.
SUMMARY = {
    ("baseline", ""): "baseline",
    ("restricted", "all key"): "neurons restricted to key",
    ("excluded", "all key"): "neurons without key",
    ("logits restricted", "all key"): "logits restricted to key",
    ("logits excluded", "all key"): "logits without key",
    ("cluster own block", "all clusters"): "each cluster its own block",
}


def readout_by_cluster(
    readout: pd.DataFrame, irrep_order: Sequence[str], key_irreps: Sequence[str], style: Style
) -> go.Figure:
    """Squared norm of the readout (neurons → logits) restricted to each cluster's neurons,
    per output basis function: one line per cluster (non-key clusters hidden until clicked).

    ``readout``: ``readout_by_cluster.parquet`` (``irrep, basis_index, basis_label, norm``).
    """
    colors = palette(style)
    fig = go.Figure(layout={"title": "Readout norm per output basis function, by neuron cluster"})
    present = [r for r in irrep_order if r in set(readout["irrep"])]
    for i, irrep in enumerate(present):
        part = readout[readout["irrep"] == irrep].sort_values("basis_index")
        trace = line_trace(
            part["basis_label"], part["norm"], name=irrep, color=colors[i % len(colors)]
        )
        trace.visible = True if irrep in key_irreps else "legendonly"
        fig.add_trace(trace)
    fig.update_xaxes(title="output basis function", type="category")
    return fig.update_yaxes(title="squared norm")


def logit_directions(directions: pd.DataFrame, style: Style) -> go.Figure:
    """The logits' component along each key output basis function (the notebook's
    ``cos(wz)``/``sin(wz)`` directions) in the 2-D basis, one direction per slider step.

    ``directions``: ``logit_directions.parquet`` (``irrep, direction, x, y, coefficient,
    x_label, y_label``). A network computing ``cos(w(a+b−c))`` shows ``+C`` on ``cos·cos`` and
    ``−C`` on ``sin·sin`` in the ``cos wz`` direction.
    """
    order = int(directions["x"].max()) + 1
    labels = directions.drop_duplicates("x").sort_values("x")["x_label"].tolist()
    fig = go.Figure()
    steps = []
    for (irrep, direction), part in directions.groupby(["irrep", "direction"], sort=False):
        z = np.zeros((order, order), dtype=np.float32)
        z[part["x"].to_numpy(), part["y"].to_numpy()] = part["coefficient"].to_numpy()
        steps.append(
            SliderStep(
                direction,
                [(heatmap_trace(z, x=labels, y=labels), None, None)],
                title=f"Logit component along output direction {direction} ({irrep})",
            )
        )
    add_slider(fig, steps, prefix="output direction: ")
    fig.update_layout(
        coloraxis=color_axis(style, "diverging", values=directions["coefficient"].to_numpy())
    )
    fig.update_xaxes(title="basis function of b", type="category", showgrid=False)
    return fig.update_yaxes(
        title="basis function of a", type="category", autorange="reversed", showgrid=False
    )


def logit_fit(metrics: Mapping[str, Any], style: Style) -> go.Figure:
    """Coefficient of each key irrep's character in the fit of the centred logits, with the
    fraction of variance explained (``logits.json``: ``fve``, ``fve_sum``, ``coefficients``)."""
    coefs = metrics["coefficients"]
    return bar_figure(
        list(coefs),
        {"coefficient": list(coefs.values())},
        title=(
            f"Logits ≈ Σ β·χ(a∘b∘c⁻¹): FVE {metrics['fve']:.1%} "
            f"(one shared β: {metrics['fve_sum']:.1%})"
        ),
        xaxis="key irrep",
        yaxis="β",
    )


def ablation_summary(ablations: pd.DataFrame, style: Style) -> go.Figure:
    """Train and test loss of the baseline and of the key-irrep ablations (log y).

    ``ablations``: ``ablations.parquet`` (``ablation, target, train_loss, train_acc,
    test_loss, test_acc``).
    """
    index = ablations.set_index(["ablation", "target"])
    present = [k for k in SUMMARY if k in index.index]
    return loss_bars(index.loc[present], [SUMMARY[k] for k in present], "Ablations")


def ablations_by_irrep(
    ablations: pd.DataFrame, key_irreps: Sequence[str], style: Style
) -> go.Figure:
    """Loss with one key irrep kept (restricted) or removed (excluded), neurons and logits,
    train (left) and test (right), log y."""
    kinds = ["restricted", "excluded", "logits restricted", "logits excluded", "cluster own block"]
    rows = ablations[ablations["target"].isin(key_irreps) & ablations["ablation"].isin(kinds)]
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("train loss", "test loss"), shared_yaxes=True
    )
    colors = palette(style)
    for i, kind in enumerate(k for k in kinds if k in set(rows["ablation"])):
        part = rows[rows["ablation"] == kind].set_index("target").reindex(key_irreps)
        for col, split in ((1, "train"), (2, "test")):
            fig.add_bar(
                x=list(key_irreps),
                y=part[f"{split}_loss"].astype(np.float32),
                name=kind,
                marker_color=colors[i % len(colors)],
                showlegend=col == 1,
                row=1,
                col=col,
            )
    fig.update_yaxes(type="log", title="cross-entropy", col=1).update_yaxes(type="log", col=2)
    fig.update_xaxes(type="category", title="key irrep")
    return fig.update_layout(title="Ablations per key irrep", barmode="group")
