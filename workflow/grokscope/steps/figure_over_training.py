"""Figures: per irrep over the cached checkpoints, the embedding share, the clean neurons and
the logit similarity; the key irreps' logit fit over training."""

from __future__ import annotations

from typing import Any

import pandas as pd

import grokscope.plots.over_training as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.render import write_figures
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``table`` (over_training.parquet), ``metrics`` (over_training.json);
    outputs: ``figures``; settings: ``figures``."""
    style = settings["figures"]
    table = read_parquet(inputs["table"])
    metrics = read_json(inputs["metrics"])
    summary = pd.DataFrame(metrics["checkpoints"])
    keys = metrics["key_irreps"]
    note = plots.checkpoints_note(summary["epoch"].tolist())
    figures = {
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
    write_figures(figures, outputs["figures"], style)
