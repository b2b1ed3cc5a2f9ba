"""Cyclic groups only (seed 004): harmonics of the key frequencies, each neuron's phase and
amplitude (along a and along b) and readout, which phase model the neurons follow, where the
neurons write next, the attention paid to a and b at '=', and the residual stream at '='
reordered by ``(c, a)`` with its symmetry about c/2."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from grokscope.activations import ActivationCache
from grokscope.checkpoints import final_checkpoint, load_model
from grokscope.cyclic import (
    by_c_and_a,
    half_c_symmetry,
    harmonics,
    neuron_phases,
    phase_model_agreement,
    readout_onto_own_frequency,
    sum_difference_frequencies,
)
from grokscope.errors import ArtifactError
from grokscope.frequency_ablations import seed_sum_difference_frequencies
from grokscope.groups import make_group
from grokscope.io import read_json, read_parquet, write_json, write_parquet
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoints``, ``activations``, ``key_irreps``, ``clusters``; outputs:
    ``harmonics``, ``phases``, ``resid``, ``writeout``, ``metrics``; settings:
    ``analysis.cyclic`` (``max_harmonic``)."""
    cache = ActivationCache(inputs["activations"])
    meta = cache.meta("neurons")
    group = make_group(**meta["group"])
    if group.name != "cyclic":
        raise ArtifactError(
            f"{cache.directory}: cyclic views need a cyclic group, not {group.symbol}"
        )
    fb, n = fourier_basis(group), group.order
    # Frequency k of C_n is irrep k (grokscope.cyclic).
    key_freqs = read_json(inputs["key_irreps"])["key_irrep_indices"]
    clusters = read_parquet(inputs["clusters"], columns=["neuron", "irrep_index"])
    freqs = clusters["irrep_index"].clip(lower=0).tolist()  # each neuron's frequency, 0: dead
    # The bilinear net has no nonlinearity: its "pre-activations" are its products.
    pre = cache.read("neurons_pre" if cache.has("neurons_pre") else "neurons")
    phases = neuron_phases(torch.from_numpy(pre), fb, freqs)
    model, _ = load_model(final_checkpoint(inputs["checkpoints"]))
    for column, values in readout_onto_own_frequency(model.neuron_readout(), fb, freqs).items():
        phases[column] = values
    weights, bias, target = model.neuron_writeout()  # (units, width), (width,) or None
    writeout = pd.DataFrame(weights.double().numpy()).rename(columns=str)
    writeout.insert(0, "neuron", range(len(writeout)))
    if bias is not None:
        row = pd.DataFrame([[-1, *bias.double().tolist()]], columns=writeout.columns)
        writeout = pd.concat([writeout, row], ignore_index=True)  # neuron −1: the bias

    metrics: dict[str, Any] = {
        "model": meta["model"]["kind"],
        "key_frequencies": key_freqs,
        "sum_difference_frequencies": sum_difference_frequencies(key_freqs, n),
        "seed_sum_difference_frequencies": seed_sum_difference_frequencies(key_freqs, n),
        "phase_model": phase_model_agreement(phases, key_freqs),
        "writeout_target": target,
    }
    if cache.has("attention"):  # (a, b, head × key position) at the '=' query
        pattern = cache.read("attention")
        heads = pattern.shape[-1] // 3
        to = pattern.reshape(n, n, heads, 3)
        metrics["attention"] = {
            "to_a": to[..., 0].mean(axis=(0, 1)).tolist(),
            "to_b": to[..., 1].mean(axis=(0, 1)).tolist(),
            "mean_abs_a_minus_b": np.abs(to[..., 0] - to[..., 1]).mean(axis=(0, 1)).tolist(),
        }
    c = torch.arange(n).repeat_interleave(n)
    a = torch.arange(n).repeat(n)
    resid_table = pd.DataFrame({"c": c.numpy(), "a": a.numpy(), "b": ((c - a) % n).numpy()})
    if cache.has("resid"):
        reordered = by_c_and_a(torch.from_numpy(cache.read("resid")))  # (c, a, d_model)
        metrics["resid_half_c_symmetry"] = half_c_symmetry(reordered)
        units = pd.DataFrame(reordered.reshape(n * n, -1).numpy())
        resid_table = pd.concat([resid_table, units.rename(columns=str)], axis=1)
    if cache.has("resid_mid"):
        reordered = by_c_and_a(torch.from_numpy(cache.read("resid_mid")))
        metrics["resid_mid_half_c_symmetry"] = half_c_symmetry(reordered)

    write_parquet(outputs["resid"], resid_table)
    max_harmonic = settings["analysis"]["cyclic"]["max_harmonic"]
    write_parquet(outputs["harmonics"], harmonics(key_freqs, n, max_harmonic))
    write_parquet(outputs["phases"], phases)
    write_parquet(outputs["writeout"], writeout, {"target": target})
    write_json(outputs["metrics"], metrics)
