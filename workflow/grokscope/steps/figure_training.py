"""Figures: loss (log y) and accuracy against epoch."""

from __future__ import annotations

from typing import Any

import grokscope.plots.training as plots
from grokscope.curves import read_curves
from grokscope.plots.common import Style
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``curves`` (train/metrics.csv).
    """
    curves = read_curves(inputs["curves"])
    return {
        "training_curves": plots.training_curves(curves, style),
        "loss": plots.training_loss(curves, style),
        "accuracy": plots.training_accuracy(curves, style),
    }


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])
