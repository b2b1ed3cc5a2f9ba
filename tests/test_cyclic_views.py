"""Known-answer tests for seed 004's views: idealised neurons follow the phase model measured
on real neurons, the seed's own mock is the other model, one frequency kept, the hand-made
wave's symmetry, cosines centred on c/2, and the over-training summary's logit fit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from grokscope.cyclic import keep_frequency, neuron_phases, phase_model_agreement
from grokscope.cyclic_ideal import (
    centred_cosines,
    evenly_spaced_phases,
    handmade_wave,
    ideal_neurons,
    reversed_shifted,
    seed_mock_neurons,
)
from grokscope.groups import make_group
from grokscope.logits import logit_fve
from grokscope.over_training import irrep_rows, summary_row
from grokscope.representations import fourier_basis

N, K = 41, 5


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def test_idealised_neurons_have_the_measured_phases_and_sum_to_a_wave_in_a_plus_b():
    fb = fourier_basis(make_group("cyclic", N))
    gen = np.random.default_rng(0)
    phases_a, phases_b = gen.uniform(-3, 3, 6), gen.uniform(-3, 3, 6)
    pre, weights = ideal_neurons(N, K, phases_a, phases_b)
    measured = neuron_phases(torch.from_numpy(pre.transpose(1, 2, 0)), fb, [K] * 6)
    assert np.allclose(measured["phase_a"], phases_a, atol=1e-9)
    assert np.allclose(measured["phase"], phases_b, atol=1e-9)
    assert np.allclose(measured["amplitude"], 1.0) and np.allclose(measured["amplitude_a"], 1.0)
    assert np.allclose(weights, np.cos(phases_a + phases_b))

    # One phase per neuron on both inputs, spread evenly: with the ReLU and the weights the
    # model needs, the sum is a wave in a + b; without the ReLU it cancels.
    phases = evenly_spaced_phases(16)
    pre, weights = ideal_neurons(N, K, phases, phases)
    x = np.arange(N)
    plus = np.cos(2 * np.pi * K * (x[:, None] + x[None, :]) / N)
    minus = np.cos(2 * np.pi * K * (x[:, None] - x[None, :]) / N)
    relu_sum = (weights[:, None, None] * np.maximum(pre, 0)).sum(axis=0)
    assert correlation(relu_sum, plus) > 0.85 and abs(correlation(relu_sum, minus)) < 0.01
    assert np.abs((weights[:, None, None] * pre).sum(axis=0)).max() < 1e-9


def test_phase_model_agreement_tells_one_phase_from_the_seeds_mock():
    fb = fourier_basis(make_group("cyclic", N))
    phases = evenly_spaced_phases(8) + 0.1
    frames = {}
    one_phase, _ = ideal_neurons(N, K, phases, phases)
    frames["one"] = one_phase
    frames["mock"] = seed_mock_neurons(N, K, 8)
    for name, pre in frames.items():
        table = neuron_phases(torch.from_numpy(pre.transpose(1, 2, 0)), fb, [K] * 8)
        agreement = phase_model_agreement(table, [K])
        if name == "one":
            assert agreement["one_phase"] < 1e-9 and agreement["opposite_phase"] > 0.5
        else:  # cos(φ − wa) = cos(wa − φ): phase −φ on a, +φ on b
            assert agreement["opposite_phase"] < 1e-9 and agreement["one_phase"] > 0.5


def test_keep_frequency_keeps_one_frequency_and_the_constant():
    x = torch.arange(N, dtype=torch.float64)
    w = 2 * math.pi / N
    kept = torch.cos(K * w * x)[:, None] * torch.sin(K * w * x)[None, :] + 3.0
    other = (
        torch.cos(7 * w * x)[:, None]
        + torch.cos(K * w * x)[:, None] * torch.cos(9 * w * x)[None, :]
    )
    out = keep_frequency((kept + other)[..., None], K)[..., 0]
    assert torch.allclose(out, kept, atol=1e-9)


def test_handmade_wave_and_centred_cosines_are_symmetric_about_half_c():
    wave = handmade_wave(N, seed=0)
    assert wave.shape == (N,) and np.ptp(wave) > 0.5
    waves = reversed_shifted(wave)
    c, x = np.arange(N)[:, None], np.arange(N)[None, :]
    total = waves["sum"]
    assert np.allclose(total, total[c, (c - x) % N])  # x ↦ c − x mirrors about c/2
    assert np.allclose(waves["reversed, shifted by c"][c, x], wave[(c - x) % N])
    cosines = centred_cosines(N, [3, 7])
    assert cosines.shape == (3, N, N) and np.abs(cosines[-1]).max() == pytest.approx(1.0)
    a = np.arange(N)
    for cc in (0, 5, 40):
        assert np.allclose(cosines[:, cc, a], cosines[:, cc, (cc - a) % N])


def test_over_training_logit_fit_is_the_least_squares_fve():
    n = 13
    fb = fourier_basis(make_group("cyclic", n))
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(n * n, n, generator=gen, dtype=torch.float64)
    neurons = torch.randn(n, n, 8, generator=gen, dtype=torch.float64)
    matrices = {"W_E": torch.randn(n, 4, generator=gen, dtype=torch.float64)}
    rows = irrep_rows(matrices, neurons, logits, fb, clean_threshold=0.85)
    assert list(rows["irrep"]) == [i.label for i in fb.irreps[1:]]
    assert rows["embedding_share"].sum() == pytest.approx(1.0)
    assert rows["neurons"].sum() == 8
    keys = ["freq 2", "freq 5"]
    summary = summary_row(rows, keys, units=8)
    irreps = [i for i in fb.irreps if i.label in keys]
    assert summary["key_logit_fve"] == pytest.approx(logit_fve(logits, fb, irreps)["fve"])
    every = logit_fve(logits, fb, list(fb.irreps[1:]))["fve"]
    assert summary["logit_fve_all"] == pytest.approx(every)
    assert isinstance(rows, pd.DataFrame)
