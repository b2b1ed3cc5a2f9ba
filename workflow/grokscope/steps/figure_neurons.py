"""Figures: selected neurons and logits over (a, b) and in the 2-D basis; mean 2-D Fourier
power of neurons and logits; each neuron's irrep against its fraction explained; clusters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

import grokscope.plots.neurons as plots
from grokscope.activations import ActivationCache
from grokscope.errors import ParamsError
from grokscope.fourier import centred
from grokscope.groups import make_group
from grokscope.io import read_json, read_parquet
from grokscope.neurons import select_neurons
from grokscope.plots.common import Style, evenly_spaced, irrep_order
from grokscope.plots.render import Figures, write_figures
from grokscope.representations import fourier_basis, project_2d
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``activations``, ``clusters``, ``sizes``, ``fourier_mean``, ``irrep_norms``,
    ``metrics`` (neurons.json).
    """
    cache = ActivationCache(inputs["activations"])
    fb = fourier_basis(make_group(**cache.meta("neurons")["group"]))
    clusters, sizes = read_parquet(inputs["clusters"]), read_parquet(inputs["sizes"])
    chosen = chosen_units(style, "neurons", len(clusters), cache.directory) or select_neurons(
        clusters, sizes, style["neurons"]
    )
    hidden = cache.read("neurons", units=chosen)  # (order, order, chosen)
    info = clusters.set_index("neuron")
    titles = [f"neuron {n}: {info.at[n, 'irrep']} ({info.at[n, 'fraction']:.0%})" for n in chosen]
    coefficients = project_2d(centred(torch.tensor(hidden, dtype=torch.float64)), fb).numpy()
    order = fb.group.order
    outputs_c = chosen_units(style, "outputs", order, cache.directory) or evenly_spaced(
        order, style["outputs"]
    )
    logits = cache.read("logits", units=outputs_c)  # (order, order, len(outputs_c))
    irreps = irrep_order(read_parquet(inputs["irrep_norms"]))
    mean = read_parquet(inputs["fourier_mean"])
    threshold = read_json(inputs["metrics"]).get("clean_threshold")
    return {
        "hidden_activations": plots.activation_panels(
            hidden, titles, title="Hidden activations of selected neurons", labels=None,
            style=style, kind="sequential",
        ),
        "hidden_fourier": plots.activation_panels(
            coefficients, titles, title="Selected neurons in the 2-D Fourier basis (centred)",
            labels=list(fb.labels), style=style, kind="diverging",
        ),
        "output_activations": plots.activation_panels(
            logits, [f"logit of c = {fb.group.labels[c]}" for c in outputs_c],
            title="Output activations (logits) of selected answers", labels=None, style=style,
            kind="diverging",
        ),
        "fourier_mean_neurons": plots.fourier_power(
            mean, "neurons", "Mean 2-D Fourier power of the centred hidden activations", style
        ),
        "fourier_mean_logits": plots.fourier_power(
            mean, "logits", "Mean 2-D Fourier power of the centred logits", style
        ),
        "neuron_fractions": plots.neuron_fractions(clusters, irreps, threshold, style),
        "cluster_sizes": plots.cluster_sizes(sizes, irreps, style),
    }  # fmt: skip


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])


def chosen_units(style: dict[str, Any], key: str, count: int, where: Path) -> list[int] | None:
    """The indices listed in ``params/figures.yaml: <key>`` (``None`` when it is a count);
    an index beyond this experiment's ``count`` units is one clear error."""
    value = style[key]
    if isinstance(value, int):
        return None
    bad = [i for i in value if i >= count]
    if bad:
        raise ParamsError(
            f"params/figures.yaml: {key}: {bad} out of range for {where.parent.name} "
            f"({count} {key}, indices 0..{count - 1})"
        )
    return list(value)
