"""Analyses over training: per irrep, the embedding's share of the norm, the clean neurons
and the logit similarity at each cached checkpoint, and the key irreps' logit fit. Key irreps
are shown, the others hidden until clicked in the legend."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from grokscope.plots.common import Style, line_figure, line_trace, palette


def per_irrep(
    table: pd.DataFrame, column: str, keys: Sequence[str], title: str, yaxis: str, style: Style
) -> go.Figure:
    """One curve per irrep of ``column`` against epoch (``over_training.parquet``)."""
    colors = palette(style)
    fig = go.Figure(layout={"title": title})
    order = table.drop_duplicates("irrep").sort_values("irrep_index")["irrep"]
    for i, irrep in enumerate(order):
        part = table[table["irrep"] == irrep].sort_values("epoch")
        trace = line_trace(part["epoch"], part[column], name=irrep, color=colors[i % len(colors)])
        trace.visible = True if irrep in keys else "legendonly"
        fig.add_trace(trace)
    fig.update_xaxes(title="epoch")
    return fig.update_yaxes(title=yaxis)


def fit_over_training(summary: pd.DataFrame, keys: Sequence[str], style: Style) -> go.Figure:
    """The key irreps' logit fit (Σ sim²), the fit of all irreps, the key irreps' embedding
    share and the clean fraction of neurons against epoch (``over_training.json``)."""
    columns = {
        "logit FVE of the key irreps": "key_logit_fve",
        "logit FVE of all irreps": "logit_fve_all",
        "embedding share of the key irreps": "key_embedding_share",
        "clean neurons": "clean_fraction",
        "clean neurons in key irreps (of clean)": "clean_in_key",
    }
    return line_figure(
        summary["epoch"], {name: summary[c] for name, c in columns.items()},
        title=f"Key irreps ({', '.join(keys)}) over training", xaxis="epoch", yaxis="fraction",
    )  # fmt: skip


def checkpoints_note(epochs: Sequence[int]) -> str:
    """A title suffix saying how many checkpoints were cached."""
    if len(epochs) > 1:
        return f" ({len(epochs)} cached checkpoints)"
    return " (final checkpoint only: set cache.checkpoints: all to follow the run)"
