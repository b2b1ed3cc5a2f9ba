"""The Fourier view of the weights (seeds ``000`` and ``004``): the basis functions, the
(un)embedding norms per basis function and irrep, and each embedding dimension in space and
in the Fourier basis. Labels are the basis's own (``cos 3``, ``rot 2 [01]``, ``[3, 1] #4``),
so every group gets the same figures."""

from __future__ import annotations

from collections.abc import Sequence

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
    palette,
)
from grokscope.representations import FourierBasis


def fourier_basis_functions(fb: FourierBasis, style: Style) -> go.Figure:
    """Each basis function over the group elements, one per slider step (``fb.basis``:
    ``(order, order)``, row ``i`` is function ``i``)."""
    group = fb.group
    irrep_of = [fb.irreps[i].label for i in fb.irrep_of.tolist()]
    fig = go.Figure()
    steps = [
        SliderStep(
            label=label,
            traces=[(line_trace(group.labels, fb.basis64[i].numpy(), name=label), None, None)],
            title=f"Fourier basis of {group.symbol}: {label} (irrep {irrep_of[i]})",
        )
        for i, label in enumerate(fb.labels)
    ]
    add_slider(fig, steps, prefix="basis function: ")
    bound = float(fb.basis64.abs().max())
    fig.update_xaxes(title="group element", type="category")
    return fig.update_yaxes(title="value", range=[-1.05 * bound, 1.05 * bound])


def basis_norms(
    norms: pd.DataFrame,
    matrices: Sequence[str],
    key_irreps: Sequence[str],
    title: str,
    style: Style,
) -> go.Figure:
    """Squared norm of each matrix along each basis function, one line per matrix.

    ``norms``: ``basis_norms.parquet`` (``matrix, basis_index, basis_label, irrep, norm``);
    the hover names the irrep, and the basis functions of the key irreps are marked.
    """
    wide = norms.pivot_table(
        index=["basis_index", "basis_label", "irrep"], columns="matrix", values="norm"
    )
    wide = wide.reset_index().sort_values("basis_index")
    fig = line_figure(
        wide["basis_label"],
        {m: wide[m] for m in matrices if m in wide},
        title=title,
        xaxis="Fourier basis function",
        yaxis="squared norm",
        hover=[f"irrep {r}" for r in wide["irrep"]],
        category_x=True,
    )
    key = wide[wide["irrep"].isin(key_irreps)]
    top = wide[[m for m in matrices if m in wide]].max(axis=1)
    fig.add_scatter(
        x=key["basis_label"],
        y=top[key.index],
        mode="markers",
        marker={"symbol": "star", "size": 9, "color": "black"},
        name="key irreps",
    )
    return fig


def irrep_scores(irreps: pd.DataFrame, key_irreps: Sequence[str], style: Style) -> go.Figure:
    """Per non-trivial irrep: share of the input embeddings' norm, of the neurons' variance,
    our combined score, and the logit similarity (the reference's definition); key irreps
    starred.

    ``irreps``: ``irrep_norms.parquet`` (``matrix, irrep, norm, irrep_index, share,
    neuron_share, score``).
    """
    rows = irreps[irreps["irrep_index"] != 0]
    embeds = rows[rows["matrix"].str.startswith("W_E")]
    by_irrep = embeds.groupby(["irrep_index", "irrep"], as_index=False).agg(
        norm=("norm", "sum"),
        neuron_share=("neuron_share", "first"),
        score=("score", "first"),
        similarity=("logit_similarity", "first"),
    )
    by_irrep = by_irrep.sort_values("irrep_index")
    labels = [f"★ {r}" if r in key_irreps else r for r in by_irrep["irrep"]]
    colors = palette(style)
    return bar_figure(
        labels,
        {
            "embedding share": by_irrep["norm"] / by_irrep["norm"].sum(),
            "neuron variance share": by_irrep["neuron_share"],
            "score": by_irrep["score"],
            "logit similarity": by_irrep["similarity"],
        },
        title=f"Irrep scores (★ key: {', '.join(key_irreps)})",
        xaxis="irrep",
        yaxis="share",
        colors=dict(
            zip(
                ["embedding share", "neuron variance share", "score", "logit similarity"],
                colors,
                strict=False,
            )
        ),
    )


def embedding_dimensions(weights: pd.DataFrame, style: Style) -> go.Figure:
    """Each input-embedding dimension as a function of the token, in space (left) and in the
    Fourier basis (right), one dimension per slider step (seed ``004``'s embedding view).

    ``weights``: ``weights.parquet`` (``matrix, dim, domain, index, label, value``); the
    input embeddings are the matrices named ``W_E*``.
    """
    embeds = weights[weights["matrix"].str.startswith("W_E")]
    matrices = sorted(embeds["matrix"].unique())
    colors = dict(zip(matrices, palette(style), strict=False))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("space", "Fourier basis"))
    steps = []
    groups = {
        key: part.sort_values("index") for key, part in embeds.groupby(["dim", "domain", "matrix"])
    }
    dims = sorted(embeds["dim"].unique())
    for dim in dims:
        traces = []
        for col, domain in ((1, "space"), (2, "fourier")):
            for m in matrices:
                part = groups[(dim, domain, m)]
                trace = line_trace(
                    part["label"], part["value"], name=m, color=colors[m], showlegend=col == 1
                )
                traces.append((trace, 1, col))
        steps.append(SliderStep(str(dim), traces, title=f"Embedding dimension {dim}"))
    add_slider(fig, steps, prefix="dimension: ")
    bound = float(np.abs(embeds["value"]).max())
    fig.update_xaxes(type="category")
    fig.update_xaxes(title="token", col=1).update_xaxes(title="basis function", col=2)
    return fig.update_yaxes(range=[-1.05 * bound, 1.05 * bound])
