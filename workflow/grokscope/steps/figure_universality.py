"""Figures (sweeps): each member's key irreps coloured by when they were learned (the first
starred), and how many members learned each irrep."""

from __future__ import annotations

from typing import Any

import grokscope.plots.universality as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.common import Style
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``table`` (universality.parquet), ``summary`` (universality.json).
    """
    return {
        "universality_learned": plots.learned_heatmap(read_parquet(inputs["table"]), style),
        "universality_counts": plots.learned_counts(read_json(inputs["summary"]), style),
    }


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])
