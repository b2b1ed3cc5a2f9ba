"""Figures: every progress measure over training with the phases shaded."""

from __future__ import annotations

from typing import Any

import grokscope.plots.progress as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.render import write_figures
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``progress`` (progress.parquet), ``phases`` (phases.json); outputs:
    ``figures``; settings: ``figures``."""
    style = settings["figures"]
    table = read_parquet(inputs["progress"]).sort_values("epoch")
    phases = read_json(inputs["phases"])
    figures = {
        "progress_losses": plots.progress_losses(table, phases, style),
        "progress_measures": plots.progress_measures(table, phases, style),
    }
    write_figures(figures, outputs["figures"], style)
