"""Figures (cyclic groups, seed 004): ReLU harmonics demo; frequency ablations; neuron
phases; one frequency's pre-activations by phase and their running sums with and without
ReLU (actual, idealised with the measured phase model, and the seed's own mock); the
hand-made wave and its reversed, shifted copy; cosines centred on c/2; one frequency's
neurons mapped to where they write; the last representations with one frequency kept; the
attention to a and b at '='; the residual stream (or hidden units) by (c, a). Views that do
not fit the model (grokscope.pipeline.NOT_APPLICABLE) are not drawn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

import grokscope.plots.cyclic as plots
from grokscope.activations import ActivationCache
from grokscope.cyclic import (
    busiest_key_frequency,
    by_c_and_a,
    frequency_output,
    keep_frequency,
    largest_variance,
)
from grokscope.cyclic_ideal import (
    centred_cosines,
    handmade_wave,
    ideal_neurons,
    relu_shifted,
    relu_test_signals,
    reversed_shifted,
    seed_mock_neurons,
)
from grokscope.io import parquet_metadata, read_json, read_parquet
from grokscope.pipeline import not_applicable
from grokscope.plots.common import Style, evenly_spaced
from grokscope.plots.heatmaps import slider_heatmaps
from grokscope.plots.render import Figures, write_figures
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``activations``, ``phases`` (neuron_phases.parquet), ``harmonics``, ``resid``
    (resid_by_c_a.parquet), ``writeout`` (neuron_writeout.parquet), ``ablations``,
    ``metrics`` (cyclic.json).
    """
    cache = ActivationCache(inputs["activations"])
    meta = cache.meta("neurons")
    n, kind = meta["group"]["n"], meta["model"]["kind"]
    skip = not_applicable(kind, cyclic=True)

    def applies(name: str) -> bool:
        return f"cyclic/{name}" not in skip

    key_freqs = read_json(inputs["metrics"])["key_frequencies"]
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
        "resid_by_c_a": resid_figure(inputs, cache, style),
        "handmade_wave": plots.handmade_wave(
            reversed_shifted(handmade_wave(n, seed=0)), a_values, style
        ),
        "ideal_cosines": plots.centred_cosines(
            centred_cosines(n, key_freqs), key_freqs, a_values, evenly_spaced(n, 3), style
        ),
    }
    if applies("neuron_phases"):
        out["neuron_phases"] = plots.neuron_phase_polar(phases, key_freqs, style)
    if cache.has("resid_mid") and applies("resid_mid_by_c_a"):
        values = by_c_and_a(torch.from_numpy(cache.read("resid_mid"))).numpy()
        top = largest_variance(values, style["resid_dims"])
        title = "Residual stream at '=' after attention (resid_mid) by (c, a), seed 004's view"
        names = [f"dim {i}" for i in top]
        out["resid_mid_by_c_a"] = plots.units_by_c_and_a(values[:, :, top], names, title, style)
    if cache.has("attention") and applies("attention_a_vs_b"):
        pattern = cache.read("attention")  # (a, b, head × key position)
        out["attention_a_vs_b"] = plots.attention_a_vs_b(pattern.reshape(n, n, -1, 3), style)

    k = busiest_key_frequency(phases, key_freqs)
    if k is not None:  # one frequency's neurons
        out |= one_frequency(inputs, cache, phases, k, n, a_values, applies, style)
    return out


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])


def one_frequency(
    inputs: Paths,
    cache: ActivationCache,
    phases: pd.DataFrame,
    k: int,
    n: int,
    a_values: list[int],
    applies: Callable[[str], bool],
    style: dict[str, Any],
) -> dict[str, go.Figure]:
    """The figures of one frequency ``k``'s neurons on ``C_n`` (seed 004's ``test_freq``)."""
    members = phases[(phases["frequency"] == k) & phases["phase"].notna()]
    members = members.sort_values(["phase", "neuron"])
    ids = members["neuron"].tolist()
    alias = "neurons_pre" if cache.has("neurons_pre") else "neurons"
    pre = cache.read(alias, units=ids).transpose(2, 0, 1)  # (members, a, b)
    names = [f"n{r.neuron} ({r.phase:+.2f})" for r in members.itertuples()]
    weights = members["readout_cos"].fillna(0.0).to_numpy()
    figures = {}
    if applies("preactivations_by_phase"):
        figures["preactivations_by_phase"] = plots.preactivations_by_phase(
            pre, names, a_values, k, style
        )
    if applies("running_sums"):
        title = f"Running sums of the frequency-{k} neurons (weights: readout onto cos {k})"
        figures["running_sums"] = plots.running_sums(pre, weights, a_values, title, style)
    else:  # product units: no ReLU, each already a function of (a, b)
        title = f"Running sums of the frequency-{k} product units (weights: readout onto cos {k})"
        figures["product_running_sums"] = plots.running_sums(
            pre, weights, a_values, title, style, relu=False
        )
    # Idealised versions of these neurons: unit waves with their measured phases.
    ideal, ideal_weights = ideal_neurons(
        n, k, members["phase_a"].to_numpy(), members["phase"].to_numpy()
    )
    if applies("ideal_preactivations"):
        figures["ideal_preactivations"] = plots.preactivations_by_phase(
            ideal, names, a_values, k, style,
            title=f"Idealised frequency-{k} neurons cos(wa + φ_a) + cos(wb + φ_b), measured phases",
        )  # fmt: skip
    if applies("running_sums_ideal"):
        figures["running_sums_ideal"] = plots.running_sums(
            ideal, ideal_weights, a_values,
            f"Running sums of the idealised frequency-{k} neurons (weights cos(φ_a + φ_b))", style,
        )  # fmt: skip
    count = max(len(members), 8)
    if applies("running_sums_seed_mock"):
        figures["running_sums_seed_mock"] = plots.running_sums(
            seed_mock_neurons(n, k, count), np.ones(count), a_values,
            f"Seed 004's mock neurons cos(φ − wa) + cos(φ + wb), unit weights (freq {k})", style,
        )  # fmt: skip

    # Where the frequency's neurons write next, and the last representations with k kept.
    table = read_parquet(inputs["writeout"]).set_index("neuron")
    target = parquet_metadata(inputs["writeout"])["target"]
    bias = table.loc[-1].to_numpy() if -1 in table.index else None
    post = cache.read("neurons", units=ids)  # (a, b, members)
    written = frequency_output(post, table.loc[ids].to_numpy(), bias)  # (width, a, b)
    top = largest_variance(written.transpose(1, 2, 0), style["resid_dims"])
    figures["frequency_output"] = slider_heatmaps(
        [written[top].transpose(1, 0, 2)], [f"into the {target}"], a_values,
        title=f"The frequency-{k} neurons mapped into the {target} (largest variance first)",
        xaxis="b", yaxis=f"{target} unit", prefix="a = ", style=style,
        y=[str(i) for i in top],
    )  # fmt: skip
    hooks = [h for h in ("resid", "resid_mid") if cache.has(h)] or ["neurons"]
    kept = {h: keep_frequency(torch.from_numpy(cache.read(h)), k).numpy() for h in hooks}
    top = largest_variance(kept[hooks[0]], style["resid_dims"])
    names = {"resid": "resid_post at '='", "resid_mid": "resid_mid at '='", "neurons": "hidden"}
    figures["one_frequency_kept"] = slider_heatmaps(
        [kept[h][:, :, top].transpose(0, 2, 1) for h in hooks], [names[h] for h in hooks],
        a_values, title=f"Only frequency {k} (and the constant) kept along a and b",
        xaxis="b", yaxis="unit", prefix="a = ", style=style, y=[str(i) for i in top],
    )  # fmt: skip
    return figures


def resid_figure(inputs: Paths, cache: ActivationCache, style: dict[str, Any]) -> go.Figure:
    """The residual stream at '=' (transformers) or the hidden neurons (models without a
    residual stream) by ``(c, a)``: the ``resid_dims`` units of largest variance."""
    table = read_parquet(inputs["resid"])
    dims = [c for c in table.columns if c not in ("c", "a", "b")]
    n = int(round(len(table) ** 0.5))
    if dims:
        values = table[dims].to_numpy(dtype=np.float32).reshape(n, n, len(dims))
        what, unit = "Residual stream at '=' (resid_post)", "dim"
    else:
        values = by_c_and_a(torch.from_numpy(cache.read("neurons"))).numpy()
        dims = [str(i) for i in range(values.shape[-1])]
        what, unit = "Hidden neurons (no residual stream)", "neuron"
    top = largest_variance(values, style["resid_dims"])
    names = [f"{unit} {dims[i]}" for i in top]
    title = f"{what} by (c, a), largest variance first"
    return plots.units_by_c_and_a(values[:, :, top], names, title, style)
