"""Figures: our run's train and test loss over the reference (published) run's logged curves
(log y), each with its phases marked, and the comparison table."""

from __future__ import annotations

from typing import Any

import grokscope.plots.reference as plots
from grokscope.curves import read_curves
from grokscope.io import read_json
from grokscope.plots.common import Style
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """inputs: ``curves``, ``phases`` (ours), ``reference_curves``, ``reference_phases``,
    ``comparison`` (the table, which names the reference run)."""
    table = read_json(inputs["comparison"])
    name = table["reference"]
    runs = {
        "this run": (read_curves(inputs["curves"]), read_json(inputs["phases"])),
        name: (read_curves(inputs["reference_curves"]), read_json(inputs["reference_phases"])),
    }
    return {
        "loss_beside_reference": plots.loss_overlay(runs, style),
        "comparison_table": plots.comparison_table(table, name, style),
    }


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: as :func:`figures` and ``plotly``; outputs: ``figures``; settings: ``figures``."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])
