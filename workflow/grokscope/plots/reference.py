"""Our run beside a reference run: both runs' loss curves on one log axis with each run's
phase boundaries, and the comparison table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from grokscope.plots.common import SPLIT_COLORS, Style, line_trace

BOUNDARIES = ("memorisation_end", "circuit_formation_end", "cleanup_end")


def loss_overlay(
    runs: Mapping[str, tuple[pd.DataFrame, Mapping[str, Any]]], style: Style
) -> go.Figure:
    """Train and test loss of each run (``name → (curves, phases)``; the first solid, the
    others dashed) against epoch, log y, with each run's phase boundaries as vertical lines."""
    fig = go.Figure(layout={"title": "Loss beside the reference run"})
    for i, (name, (curves, phases)) in enumerate(runs.items()):
        dash = None if i == 0 else "dash"
        for split, color in SPLIT_COLORS.items():
            fig.add_trace(
                line_trace(
                    curves["epoch"],
                    curves[f"{split}_loss"],
                    name=f"{name}: {split} loss",
                    color=color,
                    dash=dash,
                )  # fmt: skip
            )
        for key in BOUNDARIES:
            if phases.get(key) is not None:
                label = f"{name}: {key.replace('_', ' ')}"
                fig.add_vline(x=phases[key], line_dash=dash or "dot", line_color="grey",
                              annotation_text=label, annotation_textangle=-90)  # fmt: skip
    fig.update_xaxes(title="epoch")
    return fig.update_yaxes(title="cross-entropy", type="log")


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def comparison_table(table: Mapping[str, Any], reference: str, style: Style) -> go.Figure:
    """The comparison table (``comparison.json``) as a figure."""
    rows = table["rows"]
    cells = [
        [r["name"] for r in rows],
        [_cell(r["ours"]) for r in rows],
        [_cell(r["reference"]) for r in rows],
    ]
    fig = go.Figure(
        go.Table(header={"values": ["", "this run", reference]}, cells={"values": cells})
    )
    return fig.update_layout(title=f"This run and {reference}")
