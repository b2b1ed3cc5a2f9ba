"""Figures (sweeps): each member's key irreps coloured by when they were learned (the first
starred), and how many members learned each irrep."""

from __future__ import annotations

from typing import Any

import grokscope.plots.universality as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.render import write_figures
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``table`` (universality.parquet), ``summary`` (universality.json); outputs:
    ``figures``; settings: ``figures``."""
    style = settings["figures"]
    figures = {
        "universality_learned": plots.learned_heatmap(read_parquet(inputs["table"]), style),
        "universality_counts": plots.learned_counts(read_json(inputs["summary"]), style),
    }
    write_figures(figures, outputs["figures"], style)
