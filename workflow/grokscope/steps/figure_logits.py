"""Figures: readout norms per cluster; logit components along the key output directions;
the characters' fit; ablation losses (summary and per key irrep)."""

from __future__ import annotations

from typing import Any

import grokscope.plots.logits as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.common import irrep_order
from grokscope.plots.render import write_figures
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``readout``, ``directions``, ``fit`` (logits.json), ``key_irreps``,
    ``irrep_norms``, ``ablations``; outputs: ``figures``; settings: ``figures``."""
    style = settings["figures"]
    keys = read_json(inputs["key_irreps"])["key_irreps"]
    table = read_parquet(inputs["ablations"])
    order = irrep_order(read_parquet(inputs["irrep_norms"]))
    readout = read_parquet(inputs["readout"])
    figures = {
        "readout_by_cluster": plots.readout_by_cluster(readout, order, keys, style),
        "logit_directions": plots.logit_directions(read_parquet(inputs["directions"]), style),
        "logit_fit": plots.logit_fit(read_json(inputs["fit"]), style),
        "ablations": plots.ablation_summary(table, style),
        "ablations_by_irrep": plots.ablations_by_irrep(table, keys, style),
    }
    write_figures(figures, outputs["figures"], style)
