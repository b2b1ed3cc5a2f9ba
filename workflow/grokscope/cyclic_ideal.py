"""Idealised and hand-made signals of seed ``004`` on ``C_n``: what a ReLU does to waves,
idealised neurons of one frequency, a hand-made wave with its reversed, shifted copy, and
cosines centred on ``c/2``. Model-free: they illustrate the algorithm the networks' neurons
are compared with (:mod:`grokscope.cyclic`).

The idealised neurons use the phase model the project measures on real neurons
(:func:`grokscope.cyclic.neuron_phases`): ``cos(w a + φ_a) + cos(w b + φ_b)``, with one
phase per input (equal in a transformer, which reads one embedding at both positions). After
a ReLU each holds the product term ``cos(w(a + b) + φ_a + φ_b)``, so with the readout that
term needs, ``cos(w c + φ_a + φ_b)`` (weight ``cos(φ_a + φ_b)`` on ``cos wc``, what the real
neurons have: :func:`grokscope.cyclic.phase_model_agreement`), their weighted sum grows into
a wave in ``a + b``; without the ReLU it stays a sum of waves in ``a`` and in ``b``. Seed
``004``'s own mock, ``cos(φ − w a) + cos(φ + w b)`` (opposite phases on the two inputs, a
model no network here follows), summed with unit weights gives ``|cos(w(a + b)/2)|``; it is
kept beside, clearly named (:func:`seed_mock_neurons`).
"""

from __future__ import annotations

import numpy as np


def evenly_spaced_phases(count: int) -> np.ndarray:
    """``count`` phases spread over ``[−π, π)``, as the seed spaced its mock neurons."""
    return np.arange(count) * 2 * np.pi / count - np.pi


def ideal_neurons(
    n: int, k: int, phases_a: np.ndarray, phases_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Idealised pre-activations ``cos(w a + φ_a) + cos(w b + φ_b)``, ``w = 2πk/n``, one per
    phase pair: ``(neurons, n, n)`` indexed ``(neuron, a, b)``; and the readout weight onto
    ``cos wc`` this phase model needs, ``cos(φ_a + φ_b)``: ``(neurons,)``."""
    w, x = 2 * np.pi * k / n, np.arange(n)
    phases_a, phases_b = np.asarray(phases_a, float), np.asarray(phases_b, float)
    wave_a = np.cos(w * x[None, :] + phases_a[:, None])  # (neurons, n)
    wave_b = np.cos(w * x[None, :] + phases_b[:, None])
    return wave_a[:, :, None] + wave_b[:, None, :], np.cos(phases_a + phases_b)


def seed_mock_neurons(n: int, k: int, count: int) -> np.ndarray:
    """Seed ``004``'s mock neurons exactly: ``cos(φ_d − w a) + cos(φ_d + w b)``, phases evenly
    spaced over ``[−π, π)``: ``(count, n, n)`` (the notebook sums them with unit weights)."""
    phases = evenly_spaced_phases(count)
    w, a = 2 * np.pi * k / n, np.arange(n)
    return np.cos(phases[:, None, None] - w * a[None, :, None]) + np.cos(
        phases[:, None, None] + w * a[None, None, :]
    )


def relu_test_signals(n: int, key_freqs: list[int]) -> dict[str, np.ndarray]:
    """Seed ``004``'s test signals over ``0..n-1``: ``cos k1``, and with a second key
    frequency ``cos k1 + cos k2`` and ``cos k1 · cos k2``."""
    x = 2 * np.pi * np.arange(n) / n
    k1 = key_freqs[0]
    signals = {f"cos {k1}": np.cos(k1 * x)}
    if len(key_freqs) > 1:
        k2 = key_freqs[1]
        signals[f"cos {k1} + cos {k2}"] = np.cos(k1 * x) + np.cos(k2 * x)
        signals[f"cos {k1} · cos {k2}"] = np.cos(k1 * x) * np.cos(k2 * x)
    return signals


def relu_shifted(signal: np.ndarray, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A ReLU applied to ever lower-shifted copies of ``signal`` ``(n,)``: shift ``t`` cuts off
    the fraction ``t`` of its range. Returns the clipped signals ``(len(shifts), n)`` and
    their spectra ``|DFT|`` over frequencies ``0..n/2``: ``(len(shifts), n//2 + 1)``."""
    low, span = signal.min(), signal.max() - signal.min()
    clipped = np.maximum(signal[None, :] - low - shifts[:, None] * span, 0.0)
    return clipped, np.abs(np.fft.rfft(clipped, axis=1))


def handmade_wave(n: int, seed: int) -> np.ndarray:
    """Seed ``004``'s ``make_custom_wave``: ramps, plateaus and random stretches with little
    sinusoidal content, ``(n,)``. The notebook's pieces add up to 113 samples and its random
    parts are unseeded; here the pieces are scaled to ``n`` samples and drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    pieces = [
        np.linspace(0.6, -0.3, 10), np.full(23, 0.5), -rng.random(10),
        np.linspace(1.0, 0.1, 10), rng.random(20), np.full(25, 0.5), -rng.random(10),
        np.full(5, -0.5),
    ]  # fmt: skip
    wave = np.concatenate(pieces)  # (113,)
    return np.interp(np.linspace(0, len(wave) - 1, n), np.arange(len(wave)), wave)


def reversed_shifted(wave: np.ndarray) -> dict[str, np.ndarray]:
    """Seed ``004``'s ``get_reversed_shifted_waves``: for every shift ``c``, the wave
    ``w(x)``, its reversed copy shifted by ``c``, ``w((c − x) mod n)``, and their sum, which
    is symmetric about ``x = c/2`` (and ``c/2 + n/2``): each ``(n, n)`` indexed ``(c, x)``."""
    n = len(wave)
    c, x = np.arange(n)[:, None], np.arange(n)[None, :]
    original = np.broadcast_to(wave, (n, n))
    flipped = wave[(c - x) % n]
    return {"wave": original, "reversed, shifted by c": flipped, "sum": original + flipped}


def centred_cosines(n: int, freqs: list[int]) -> np.ndarray:
    """Seed ``004``'s idealised activations: unit cosines of each frequency centred on ``c/2``,
    ``cos(w_f (x − c/2))`` over positions ``x``, and their sum scaled to a maximum of 1 (last
    row): ``(len(freqs) + 1, n, n)`` indexed ``(frequency, c, x)``. For ``a + b ≡ c`` the
    values at ``x = a`` and ``x = b`` are equal: ``a`` and ``b`` sit symmetrically about
    ``c/2`` (or ``c/2 + n/2``)."""
    c, x = np.arange(n)[:, None], np.arange(n)[None, :]
    waves = np.stack([np.cos(2 * np.pi * f * (x - c / 2) / n) for f in freqs])
    total = waves.sum(axis=0)
    return np.concatenate([waves, (total / np.abs(total).max())[None]])
