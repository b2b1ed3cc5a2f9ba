"""Figures (cyclic groups, seed 004): ReLU harmonics demo; frequency ablations; neuron
phases; one frequency's pre-activations by phase and their running sums with and without
ReLU (actual and idealised); the residual stream (or hidden neurons) by (c, a)."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

import grokscope.plots.cyclic as plots
from grokscope.activations import ActivationCache
from grokscope.cyclic import (
    busiest_key_frequency,
    by_c_and_a,
    ideal_neurons,
    largest_variance,
    relu_shifted,
    relu_test_signals,
)
from grokscope.io import read_json, read_parquet
from grokscope.plots.common import Style, evenly_spaced
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``activations``, ``phases`` (neuron_phases.parquet), ``harmonics``, ``resid``
    (resid_by_c_a.parquet), ``ablations``, ``metrics`` (cyclic.json).
    """
    cache = ActivationCache(inputs["activations"])
    key_freqs = read_json(inputs["metrics"])["key_frequencies"]
    n = cache.meta("neurons")["group"]["n"]
    phases = read_parquet(inputs["phases"])
    harmonics = read_parquet(inputs["harmonics"])
    a_values = evenly_spaced(n, style["slider_steps"])

    signals = relu_test_signals(n, key_freqs)
    shifts = np.linspace(0.0, 1.0, style["slider_steps"])
    shifted = {name: relu_shifted(signal, shifts) for name, signal in signals.items()}
    k1 = key_freqs[0]
    marks = harmonics.loc[(harmonics["key"] == k1) & (harmonics["kind"] == "harmonic"), "frequency"]
    out = {
        "relu_harmonics": plots.relu_harmonics(signals, shifted, shifts, marks.tolist(), k1, style),
        "frequency_ablations": plots.frequency_ablations(read_parquet(inputs["ablations"]), style),
        "neuron_phases": plots.neuron_phase_polar(phases, key_freqs, style),
        "resid_by_c_a": resid_figure(inputs, cache, style),
    }

    k = busiest_key_frequency(phases, key_freqs)
    if k is not None:  # one frequency's neurons, in phase order
        members = phases[(phases["frequency"] == k) & phases["phase"].notna()]
        members = members.sort_values(["phase", "neuron"])
        alias = "neurons_pre" if cache.has("neurons_pre") else "neurons"
        pre = cache.read(alias, units=members["neuron"].tolist()).transpose(2, 0, 1)
        names = [f"n{r.neuron} ({r.phase:+.2f})" for r in members.itertuples()]
        weights = members["readout_cos"].fillna(0.0).to_numpy()
        ideal = ideal_neurons(n, k, max(len(members), 8))
        title = f"Running sums of the frequency-{k} neurons (weights: readout onto cos {k})"
        by_phase = plots.preactivations_by_phase(pre, names, a_values, k, style)
        out |= {
            "preactivations_by_phase": by_phase,
            "running_sums": plots.running_sums(pre, weights, a_values, title, style),
            "running_sums_ideal": plots.running_sums(
                ideal, np.ones(len(ideal)), a_values,
                f"Running sums of idealised frequency-{k} neurons", style,
            ),
        }  # fmt: skip
    return out


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])


def resid_figure(inputs: Paths, cache: ActivationCache, style: dict[str, Any]) -> go.Figure:
    """The residual stream at '=' (transformers) or the hidden neurons (models without a
    residual stream) by ``(c, a)``: the ``resid_dims`` units of largest variance."""
    table = read_parquet(inputs["resid"])
    dims = [c for c in table.columns if c not in ("c", "a", "b")]
    n = int(round(len(table) ** 0.5))
    if dims:
        values = table[dims].to_numpy(dtype=np.float32).reshape(n, n, len(dims))
        what, unit = "Residual stream at '='", "dim"
    else:
        values = by_c_and_a(torch.tensor(cache.read("neurons"))).numpy()
        dims = [str(i) for i in range(values.shape[-1])]
        what, unit = "Hidden neurons (no residual stream)", "neuron"
    top = largest_variance(values, style["resid_dims"])
    names = [f"{unit} {dims[i]}" for i in top]
    title = f"{what} by (c, a), largest variance first"
    return plots.units_by_c_and_a(values[:, :, top], names, title, style)
