"""Figures: every progress measure over training with the phases shaded."""

from __future__ import annotations

from typing import Any

import grokscope.plots.progress as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.common import Style
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``progress`` (progress.parquet), ``phases`` (phases.json).
    """
    table = read_parquet(inputs["progress"]).sort_values("epoch")
    phases = read_json(inputs["phases"])
    return {
        "progress_losses": plots.progress_losses(table, phases, style),
        "progress_measures": plots.progress_measures(table, phases, style),
    }


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])
