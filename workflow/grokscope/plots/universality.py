"""Universality across a sweep: which key irreps each member learned, and when."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from grokscope.plots.common import Style, bar_figure
from grokscope.plots.heatmaps import heatmap_figure


def learned_heatmap(table: pd.DataFrame, style: Style) -> go.Figure:
    """Members × irreps: the epoch each key irrep was learned (blank: not a key irrep).

    ``table``: universality.parquet (``member, irrep, learned_epoch, learned_first``).
    """
    members = sorted(table["member"].unique())
    irreps = sorted(table["irrep"].unique())
    z = np.full((len(members), len(irreps)), np.nan)
    for row in table.itertuples():
        if not pd.isna(row.learned_epoch):  # None or NaN: not a key irrep
            z[members.index(row.member), irreps.index(row.irrep)] = row.learned_epoch
    fig = heatmap_figure(
        z,
        title="Key irreps of each member, coloured by the epoch they were learned",
        xaxis="irrep",
        yaxis="member",
        style=style,
        x=irreps,
        y=members,
    )
    firsts = table[table["learned_first"]]
    fig.add_scatter(
        x=list(firsts["irrep"]),
        y=list(firsts["member"]),
        mode="markers",
        marker={"symbol": "star", "size": 12, "color": "black"},
        name="learned first",
    )
    return fig


def learned_counts(summary: Mapping[str, Any], style: Style) -> go.Figure:
    """How many members learned each irrep, and how many learned it first."""
    irreps = list(summary["members_learning"])
    firsts = summary["members_learning_first"]
    return bar_figure(
        irreps,
        {
            "members learning it": [summary["members_learning"][i] for i in irreps],
            "members learning it first": [firsts.get(i, 0) for i in irreps],
        },
        title=f"Irreps learned across {summary['members']} members",
        xaxis="irrep",
        yaxis="members",
    )
