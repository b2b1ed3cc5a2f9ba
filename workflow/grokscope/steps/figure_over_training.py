"""Figures: per irrep over the cached checkpoints, the embedding share, the clean neurons and
the logit similarity; the key irreps' logit fit over training."""

from __future__ import annotations

from typing import Any

import pandas as pd

import grokscope.plots.over_training as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.common import Style
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``table`` (over_training.parquet), ``metrics`` (over_training.json).
    """
    table = read_parquet(inputs["table"])
    metrics = read_json(inputs["metrics"])
    summary = pd.DataFrame(metrics["checkpoints"])
    keys = metrics["key_irreps"]
    note = plots.checkpoints_note(summary["epoch"].tolist())
    return {
        "embedding_shares_over_training": plots.per_irrep(
            table, "embedding_share", keys, f"Embedding share per irrep{note}", "share", style
        ),
        "clusters_over_training": plots.per_irrep(
            table, "clean", keys, f"Clean neurons per irrep{note}", "clean neurons", style
        ),
        "logit_similarity_over_training": plots.per_irrep(
            table,
            "logit_similarity",
            keys,
            f"Logit similarity per irrep{note}",
            "cosine with tr ρ(a b c⁻¹)",
            style,
        ),  # fmt: skip
        "logit_fit_over_training": plots.fit_over_training(summary, keys, style),
    }


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])
