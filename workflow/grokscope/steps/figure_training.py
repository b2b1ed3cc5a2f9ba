"""Figures: loss (log y) and accuracy against epoch."""

from __future__ import annotations

from typing import Any

import grokscope.plots.training as plots
from grokscope.curves import read_curves
from grokscope.plots.render import write_figures
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``curves`` (train/metrics.csv); outputs: ``figures``; settings: ``figures``."""
    style, curves = settings["figures"], read_curves(inputs["curves"])
    figures = {
        "training_curves": plots.training_curves(curves, style),
        "loss": plots.training_loss(curves, style),
        "accuracy": plots.training_accuracy(curves, style),
    }
    write_figures(figures, outputs["figures"], style)
