"""Signal-processing views of cyclic-group models (seed ``004``): harmonics, neuron phases,
idealised neurons, and the residual stream at '=' reordered by ``(c, a)``.

Frequencies are "folded": ``k`` and ``n − k`` are the same real frequency, reported as
``min(k mod n, n − k mod n)``. In the Fourier basis of ``C_n``, frequency ``k`` is the irrep
with index ``k`` (:func:`grokscope.representations.fourier_basis`), so tables that carry an
``irrep_index`` carry the frequency.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from grokscope.fourier import centred
from grokscope.representations import FourierBasis


def fold(k: int, n: int) -> int:
    """The real frequency of ``k`` on ``C_n``: ``min(k mod n, n − k mod n)``."""
    k %= n
    return min(k, n - k)


def harmonics(keys: list[int], n: int, max_harmonic: int) -> pd.DataFrame:
    """Harmonics ``m·k`` and subharmonics (frequencies ``j`` with ``m·j ≡ ±k``) of each key.

    Returns rows ``key, m, kind (harmonic|subharmonic), frequency`` for ``m = 2..max_harmonic``.
    """
    rows = []
    for k in keys:
        for m in range(2, max_harmonic + 1):
            rows.append((k, m, "harmonic", fold(m * k, n)))
            for j in range(1, n // 2 + 1):
                if fold(m * j, n) == k:
                    rows.append((k, m, "subharmonic", j))
    return pd.DataFrame(rows, columns=["key", "m", "kind", "frequency"])


def sum_difference_frequencies(keys: list[int], n: int) -> list[int]:
    """``fold(k1 ± k2)`` over pairs of keys (``k1 = k2`` included), minus 0 and the keys."""
    out = {fold(k1 + s * k2, n) for k1 in keys for k2 in keys for s in (1, -1)}
    return sorted(out - {0} - set(keys))


def wave_rows(fb: FourierBasis, k: int) -> tuple[int, int] | None:
    """The basis rows ``(cos k, sin k)`` of frequency ``k`` of ``C_n``; ``None`` for ``k = 0``
    and for ``k = n/2`` (a single real row, no phase)."""
    irrep = fb.irreps[k]
    return tuple(irrep.rows) if k > 0 and irrep.dim == 2 else None


def neuron_phases(pre: torch.Tensor, fb: FourierBasis, frequencies: list[int]) -> pd.DataFrame:
    """Amplitude and phase of each neuron's pre-activation along ``b`` at its frequency.

    A neuron ``≈ A cos(w a + φ) + A cos(w b + φ)`` has coefficients ``A cos φ`` on ``cos w``
    and ``−A sin φ`` on ``sin w`` along ``b`` (averaged over ``a``). ``pre``: ``(n, n, units)``;
    ``frequencies``: each unit's frequency (0 for none). Rows: ``neuron, frequency, amplitude,
    phase`` (phase in radians, in (−π, π]).
    """
    n = fb.group.order
    along_b = centred(pre.double()).mean(dim=0)  # (n, units): the b-dependence
    rows = []
    for neuron, k in enumerate(frequencies):
        waves = wave_rows(fb, k) if k > 0 else None
        if waves is None:
            rows.append((neuron, k, float("nan"), float("nan")))
            continue
        cos_row, sin_row = waves
        c = float(fb.basis64[cos_row] @ along_b[:, neuron])
        s = float(fb.basis64[sin_row] @ along_b[:, neuron])
        # basis rows have norm 1, the waves norm √(n/2): rescale to the wave's amplitude.
        scale = math.sqrt(2 / n)
        rows.append((neuron, k, scale * math.hypot(c, s), math.atan2(-s, c)))
    return pd.DataFrame(rows, columns=["neuron", "frequency", "amplitude", "phase"])


def by_c_and_a(values: torch.Tensor) -> torch.Tensor:
    """Reorder ``(n, n, ...)`` indexed by ``(a, b)`` to ``(c, a, ...)`` with ``b = c − a``."""
    n = values.shape[0]
    c = torch.arange(n)[:, None]
    a = torch.arange(n)[None, :]
    return values[a.expand(n, n), (c - a) % n]


def half_c_symmetry(values: torch.Tensor) -> float:
    """Fraction of the centred norm of ``(c, a, ...)`` that is symmetric under ``a ↦ c − a``.

    1.0 means every ``c`` slice is an even function about ``c/2`` (as seed ``004`` observes
    for the residual stream at '='); 0.5 is what unrelated halves give on average.
    """
    n = values.shape[0]
    x = values.double() - values.double().mean(dim=(0, 1), keepdim=True)
    c = torch.arange(n)[:, None]
    a = torch.arange(n)[None, :]
    mirrored = x[c.expand(n, n), (c - a) % n]
    symmetric = (x + mirrored) / 2
    return float(symmetric.pow(2).sum() / x.pow(2).sum())


def readout_onto_own_frequency(
    readout: torch.Tensor, fb: FourierBasis, frequencies: list[int]
) -> dict[str, list[float]]:
    """Each neuron's readout weight onto the cos and sin output directions of its own frequency.

    ``readout``: ``(units, n)`` neurons → logits; ``frequencies``: each unit's frequency (0 for
    none). Returns ``{"readout_cos": [...], "readout_sin": [...]}`` (NaN where undefined).
    """
    out: dict[str, list[float]] = {"readout_cos": [], "readout_sin": []}
    readout = readout.double()
    for neuron, k in enumerate(frequencies):
        waves = wave_rows(fb, k) if k > 0 else None
        for part, row in zip(("cos", "sin"), waves or (None, None), strict=True):
            value = float("nan") if row is None else float(readout[neuron] @ fb.basis64[row])
            out[f"readout_{part}"].append(value)
    return out


def ideal_neurons(n: int, k: int, count: int) -> np.ndarray:
    """Seed ``004``'s idealised neurons: ``cos(φ_d − w a) + cos(φ_d + w b)`` with phases
    ``φ_d`` evenly spaced over ``[−π, π)`` and ``w = 2πk/n``: ``(count, n, n)``."""
    phases = np.arange(count) * 2 * np.pi / count - np.pi
    w = 2 * np.pi * k / n
    a = np.arange(n)
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


def busiest_key_frequency(phases: pd.DataFrame, key_freqs: list[int]) -> int | None:
    """The key frequency with the most neurons that have a phase (ties: the lowest), or
    ``None``. ``phases``: ``neuron_phases.parquet``."""
    known = phases[phases["phase"].notna() & phases["frequency"].isin(key_freqs)]
    if not len(known):
        return None
    return int(known["frequency"].value_counts().sort_index().idxmax())


def largest_variance(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` units of largest variance of ``values`` ``(…, units)``,
    largest first (ties by index)."""
    variance = values.reshape(-1, values.shape[-1]).var(axis=0)
    return np.argsort(-variance, kind="stable")[:count]
