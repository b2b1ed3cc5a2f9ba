"""Figures: our run's train and test loss over the reference (published) run's logged curves
(log y), each with its phases marked, and the comparison table."""

from __future__ import annotations

from typing import Any

import grokscope.plots.reference as plots
from grokscope.curves import read_curves
from grokscope.io import read_json
from grokscope.plots.render import write_figures
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``curves``, ``phases`` (ours), ``reference_curves``, ``reference_phases``,
    ``comparison`` (the table); outputs: ``figures``; settings: ``figures``, ``reference``."""
    style, name = settings["figures"], settings["reference"]
    runs = {
        "ours": (read_curves(inputs["curves"]), read_json(inputs["phases"])),
        name: (read_curves(inputs["reference_curves"]), read_json(inputs["reference_phases"])),
    }
    figures = {
        "loss_beside_reference": plots.loss_overlay(runs, style),
        "comparison_table": plots.comparison_table(read_json(inputs["comparison"]), name, style),
    }
    write_figures(figures, outputs["figures"], style)
