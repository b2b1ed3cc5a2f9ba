"""Figures: readout norms per cluster; logit components along the key output directions;
the characters' fit; ablation losses (summary and per key irrep)."""

from __future__ import annotations

from typing import Any

import grokscope.plots.logits as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.common import Style, irrep_order
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``readout``, ``directions``, ``fit`` (logits.json), ``key_irreps``,
    ``irrep_norms``, ``ablations``.
    """
    keys = read_json(inputs["key_irreps"])["key_irreps"]
    table = read_parquet(inputs["ablations"])
    order = irrep_order(read_parquet(inputs["irrep_norms"]))
    readout = read_parquet(inputs["readout"])
    return {
        "readout_by_cluster": plots.readout_by_cluster(readout, order, keys, style),
        "logit_directions": plots.logit_directions(read_parquet(inputs["directions"]), style),
        "logit_fit": plots.logit_fit(read_json(inputs["fit"]), style),
        "ablations": plots.ablation_summary(table, style),
        "ablations_by_irrep": plots.ablations_by_irrep(table, keys, style),
    }


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])
