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
    line_figure,
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


def ablation_summary(ablations: pd.DataFrame, check: Mapping[str, Any], style: Style) -> go.Figure:
    """Train and test loss of the baseline and of the key-irrep ablations (log y), with the
    check's limits (restricted ≤ ``restricted_limit``, excluded ≥ ``excluded_limit``) and
    its flags in the title.

    ``ablations``: ``ablations.parquet`` (``ablation, target, train_loss, train_acc,
    test_loss, test_acc``); ``check``: ``ablations.json``'s ``check``.
    """
    index = ablations.set_index(["ablation", "target"])
    present = [k for k in SUMMARY if k in index.index]
    fig = loss_bars(
        index.loc[present], [SUMMARY[k] for k in present], check_title("Ablations", check)
    )
    return limit_lines(fig, check)


def limit_lines(fig: go.Figure, check: Mapping[str, Any]) -> go.Figure:
    """The check's limits as horizontal lines, named in the legend (annotations misplace on
    log axes)."""
    for y, dash, text in (
        (check["restricted_limit"], "dot", "restricted loss must stay below"),
        (check["excluded_limit"], "dash", "excluded loss must reach"),
    ):
        fig.add_hline(y=y, line_dash=dash, line_color="black", line_width=1)
        fig.add_scatter(x=[None], y=[None], mode="lines", name=f"{text} {y:.3g}",
                        line={"dash": dash, "color": "black", "width": 1})  # fmt: skip
    return fig


def check_title(title: str, check: Mapping[str, Any]) -> str:
    """``title`` with the key-set check's verdict: confirmed, or each flag's first words."""
    if not check["flags"]:
        return f"{title}: key set confirmed by ablation"
    return f"{title}: ⚠ " + "; ".join(dict.fromkeys(f.split(":")[0] for f in check["flags"]))


def key_irrep_rules(
    similarity: Mapping[str, float],
    rules: Mapping[str, Mapping[str, Any]],
    thresholds: Mapping[str, float],
    style: Style,
) -> go.Figure:
    """Logit similarity of each irrep (descending, at most 40), the reference thresholds as
    dotted lines, and which irreps each rule's key set holds (one marker row per rule; a
    rule whose set fails the check is marked ⚠ in the legend).

    ``rules``: ``key_irreps.json``'s ``rules`` (name → ``key_irreps``, ``flags``, …).
    """
    ranked = sorted(similarity, key=lambda k: -similarity[k])[:40]
    colors = palette(style)
    fig = go.Figure()
    fig.add_bar(x=ranked, y=[similarity[k] for k in ranked], name="logit similarity",
                marker_color=colors[0])  # fmt: skip
    top = max(similarity[k] for k in ranked)
    for i, (name, rule) in enumerate(rules.items(), start=1):
        inside = [k for k in ranked if k in rule["key_irreps"]]
        mark = " ⚠" if rule["flags"] else ""
        fig.add_scatter(
            x=inside,
            y=[top * (1 + 0.08 * i)] * len(inside),
            mode="markers",
            name=f"{name}{mark}",
            marker={"size": 8, "color": colors[i % len(colors)]},
        )
    for name, value in thresholds.items():
        fig.add_hline(y=value, line_dash="dot", annotation_text=f"reference {name} > {value:g}")
    fig.update_xaxes(title="irrep (by logit similarity)", type="category")
    fig.update_yaxes(title="cosine with tr ρ(a b c⁻¹)")
    return fig.update_layout(title=check_title("Key irreps by rule", rules["chosen"]))


def key_irrep_search(
    search: pd.DataFrame, check: Mapping[str, Any], chosen: int, style: Style
) -> go.Figure:
    """Restricted (test) and excluded (train) loss of each top-``m`` by logit similarity, with
    the check's limits and the chosen ``m`` (log y). ``search``: ``key_irrep_search.parquet``."""
    fig = line_figure(
        search["m"], {"restricted loss (test)": search["restricted_loss"],
                      "excluded loss (train)": search["excluded_loss"]},
        title=check_title(f"Top-m ablations (chosen m = {chosen})", check),
        xaxis="m (top irreps by logit similarity)", yaxis="cross-entropy", log_y=True,
        hover=list(search["irrep"]),
    )  # fmt: skip
    fig.add_vline(x=chosen, line_dash="dot", line_color="grey")
    return limit_lines(fig, check)


def logit_components_ab(components: pd.DataFrame, limit: int, style: Style) -> go.Figure:
    """The logits' component along output basis functions as functions of ``(a, b)``, one
    direction per slider step (key irreps first, then the strongest others; at most
    ``limit`` steps, every non-key one kept). ``components``: ``logit_components_ab.parquet``."""
    order = int(components["a"].max()) + 1
    directions = components.drop_duplicates("direction")[["irrep", "direction", "key"]]
    keys, others = directions[directions["key"]], directions[~directions["key"]]
    room = max(1, limit - len(others))
    picked = keys.iloc[sorted({round(i * len(keys) / room) for i in range(min(room, len(keys)))})]
    steps = []
    by_direction = dict(tuple(components.groupby("direction", sort=False)))
    for r in pd.concat([picked, others]).itertuples():
        z = by_direction[r.direction]["value"].to_numpy().reshape(order, order)
        kind = "key" if r.key else "not key"
        title = f"Logit component along {r.direction} ({r.irrep}, {kind})"
        steps.append(SliderStep(r.direction, [(heatmap_trace(z), None, None)], title=title))
    fig = go.Figure()
    add_slider(fig, steps, prefix="output direction: ")
    fig.update_layout(
        coloraxis=color_axis(style, "diverging", values=components["value"].to_numpy())
    )
    fig.update_xaxes(title="b", showgrid=False)
    return fig.update_yaxes(title="a", autorange="reversed", showgrid=False)


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
