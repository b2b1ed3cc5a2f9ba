"""Figures: readout norms per cluster; logit components along the key output directions (2-D
basis, and over (a, b) for key and other irreps); the characters' fit; the key irreps by
rule (logit similarity, reference thresholds) and the top-m ablation search; ablation losses
(summary with the check's limits, and per key irrep)."""

from __future__ import annotations

from typing import Any

import grokscope.plots.logits as plots
from grokscope.io import read_json, read_parquet
from grokscope.plots.common import Style, irrep_order
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``readout``, ``directions``, ``components``, ``fit`` (logits.json),
    ``key_irreps``, ``search``, ``irrep_norms``, ``ablations``, ``ablation_metrics``.
    """
    key_irreps = read_json(inputs["key_irreps"])
    keys = key_irreps["key_irreps"]
    table = read_parquet(inputs["ablations"])
    check = read_json(inputs["ablation_metrics"])["check"]
    order = irrep_order(read_parquet(inputs["irrep_norms"]))
    readout = read_parquet(inputs["readout"])
    reference = key_irreps["reference"]
    return {
        "readout_by_cluster": plots.readout_by_cluster(readout, order, keys, style),
        "logit_directions": plots.logit_directions(read_parquet(inputs["directions"]), style),
        "logit_components_ab": plots.logit_components_ab(
            read_parquet(inputs["components"]), style["slider_steps"], style
        ),
        "logit_fit": plots.logit_fit(read_json(inputs["fit"]), style),
        "key_irrep_rules": plots.key_irrep_rules(
            reference["logit_similarity"], key_irreps["rules"], reference["thresholds"], style
        ),
        "key_irrep_search": plots.key_irrep_search(
            read_parquet(inputs["search"]), key_irreps["check"], len(keys), style
        ),
        "ablations": plots.ablation_summary(table, check, style),
        "ablations_by_irrep": plots.ablations_by_irrep(table, keys, style),
    }


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])
